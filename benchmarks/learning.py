"""Learning while the user works, as an editor sees it.

A workspace (a copy of a few standard-library packages) gets its default model: the base model
fine-tuned on it. A real LSP client starts `lstm-complete serve --stdio` on it and, ten times,
saves a new file that defines and uses a made-up identifier, then measures:
- the time from the save to the updated model answering (the update trained, checked, written
  and swapped in);
- whether completion at the identifier's first letters, in another open document, offers it
  (before the save, and after);
- the latency of inline completion while typing, during the update, beside the same typing with
  no update running (measured first, in the same run).

    python -m benchmarks.learning [--identifiers 10] [--fine-tune-minutes 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from benchmarks.latency import ask, edit, open_doc, percentiles, start, status, stop
from trainer.cli import stdlib_path

PACKAGES = ["json", "email", "http", "logging", "concurrent", "importlib"]
PREFIX = 4  # characters of the identifier typed before asking
WORDS = ["total", "index", "cache", "count", "buffer", "limit", "owner", "scale", "token", "ratio"]
MODULE = '''"""Helpers for {word} bookkeeping."""


def {name}(items, scale=1):
    """The {word} of the items, scaled."""
    return sum(item.size for item in items) * scale


def describe(items):
    value = {name}(items)
    return f"{word}: {{value}}"


def check(items, limit):
    if {name}(items) > limit:
        raise ValueError("{word} over the limit")
    return {name}(items, scale=2)
'''


def made_up(n: int, seed: int = 0) -> list[str]:
    """Identifiers no corpus holds: three random syllables and a word."""
    rng = random.Random(seed)
    names: list[str] = []
    while len(names) < n:
        stem = "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3))
        name = f"{stem}_{WORDS[len(names) % len(WORDS)]}"
        if name[:PREFIX] not in {x[:PREFIX] for x in names}:
            names.append(name)
    return names


class Typist:
    """Types lines of a document one character at a time, timing an inline request after each
    keystroke."""

    def __init__(self, client: LanguageClient, root: Path, text: str) -> None:
        self.client, self.uri = client, (root / "typing_area.py").as_uri()
        self.source = [x for x in text.split("\n") if len(x.strip()) >= 20]
        self.lines = ["import os", ""]
        self.version = 1
        self.next_source = 0
        open_doc(client, self.uri, "\n".join(self.lines) + "\n")

    async def keystroke(self) -> float:
        line = len(self.lines) - 1
        target = self.source[self.next_source % len(self.source)]
        col = len(self.lines[line])
        if col >= min(len(target), 40):
            self.lines.append("")
            self.next_source += 1
            self.version += 1
            edit(self.client, self.uri, self.version, (line, col), (line, col), "\n")
            line, col, target = line + 1, 0, self.source[self.next_source % len(self.source)]
        ch = target[col]
        self.lines[line] += ch
        self.version += 1
        edit(self.client, self.uri, self.version, (line, col), (line, col), ch)
        t0 = time.perf_counter()
        await ask(self.client, "inline", self.uri, line, col + 1)
        return (time.perf_counter() - t0) * 1000


async def offered(client: LanguageClient, uri: str, line: int, name: str) -> bool:
    col = len("    result = ") + PREFIX
    found = await ask(client, "list", uri, line, col)
    return found is not None and any(name in item.text_edit.new_text for item in found.items)


async def run(args: argparse.Namespace, root: Path, model: Path) -> dict:
    client = await start(model, root)

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def shown(params: types.ShowMessageParams) -> None:
        print(f"server says: {params.message}", file=sys.stderr, flush=True)

    names = made_up(args.identifiers, args.seed)
    typing_source = (root / "json" / "decoder.py").read_text()
    typist = Typist(client, root, typing_source)
    await asyncio.sleep(3)
    idle = [await typist.keystroke() for _ in range(args.idle_keystrokes)]

    probe_uri = (root / "probe.py").as_uri()
    probe = ["def probe(items):"] + [f"    result = {n[:PREFIX]}" for n in names]
    open_doc(client, probe_uri, "\n".join(probe) + "\n")
    before = [await offered(client, probe_uri, i + 1, n) for i, n in enumerate(names)]

    during: list[float] = []
    rows = []
    for k, name in enumerate(names):
        first = await status(client)
        (root / f"new_{k}.py").write_text(MODULE.format(name=name, word=WORDS[k % len(WORDS)]))
        saved = time.perf_counter()
        while True:
            now = await status(client)
            swapped = now["state"] == "ready" and now["indexedChars"] != first["indexedChars"]
            if now["updates"] > first["updates"] and swapped:
                break
            for _ in range(5):
                latency = await typist.keystroke()
                if now["training"] == "update":
                    during.append(latency)
            if time.perf_counter() - saved > args.timeout:
                raise SystemExit(f"no update within {args.timeout} s: {now}")
        got = await offered(client, probe_uri, k + 1, name)
        answered = time.perf_counter() - saved
        last = now["lastUpdate"]
        rows.append(
            {
                "identifier": name,
                "save_to_answer_s": round(answered, 2),
                "update_s": last["seconds"],
                "update_steps": last["steps"],
                "accepted": last["accepted"],
                "held_out_bpc": [last["heldOutBpcBefore"], last["heldOutBpc"]],
                "offered_before": before[k],
                "offered_after": got,
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    peak_kb = await stop(client)
    waits = sorted(r["save_to_answer_s"] for r in rows)
    idle_p, during_p = percentiles(idle), percentiles(during)
    return {
        "workspace_packages": PACKAGES,
        "identifiers": len(rows),
        "offered_before_save": sum(before),
        "offered_after_save": sum(r["offered_after"] for r in rows),
        "updates_accepted": sum(bool(r["accepted"]) for r in rows),
        "save_to_answer_s": {"median": waits[len(waits) // 2], "max": waits[-1]},
        "inline_idle": idle_p,
        "inline_during_update": during_p,
        "during_over_idle": {
            "p50": round(during_p["p50_ms"] / idle_p["p50_ms"], 2),
            "p99": round(during_p["p99_ms"] / idle_p["p99_ms"], 2),
        },
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--identifiers", type=int, default=10)
    parser.add_argument("--fine-tune-minutes", type=float, default=1.0)
    parser.add_argument("--idle-keystrokes", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for one")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lstm-learning-"))
    try:
        root, model = work / "workspace", work / "model"
        for package in PACKAGES:
            shutil.copytree(
                stdlib_path() / package, root / package, ignore=shutil.ignore_patterns("test*")
            )
        # The workspace's default model, as a cold start makes it: the base model, fine-tuned.
        budget = ["--minutes", str(args.fine_tune_minutes), "--threads", "2"]
        subprocess.run(
            [sys.executable, "-m", "server", "train", str(root), "--out", str(model), *budget],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(json.dumps(asyncio.run(run(args, root, model)), indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
