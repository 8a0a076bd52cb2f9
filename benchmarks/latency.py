"""Completion latency and quality through the protocol, as an editor sees them.

A real LSP client starts `lstm-complete serve --stdio`, opens a 5,000-line file made of held-out
standard-library code, and types the same lines near its top and near its bottom one character
at a time, asking for a suggestion after each keystroke: once against the server as shipped, and
once against the same server re-reading the whole prefix for every request (--no-state-cache).
Then, at random positions of held-out files, it compares the inline suggestion with the rest of
the line, beside the trainer's copy baseline at the same positions.

    python -m benchmarks.latency [--model DIR] [--lines-per-region 6] [--positions 150] [--seed 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from server import postprocess
from trainer import folder
from trainer.cli import STDLIB_EXCLUDES, stdlib_path
from trainer.corpus import collect, join
from trainer.evaluate import copy_baseline, positions
from trainer.paths import BASE_MODEL

FILE_LINES = 5000
TYPED = 40  # characters typed per line, at most


async def start(model: Path, root: Path, *flags: str) -> LanguageClient:
    """A server on the workspace `root`; its index of `root` goes in a cache folder beside it,
    not in the user's."""
    client = LanguageClient("latency-benchmark", "1")
    env = dict(os.environ, XDG_CACHE_HOME=str(root.parent / "cache"))
    await client.start_io(
        sys.executable, "-m", "server", "serve", "--model", str(model), *flags, env=env
    )
    await client.initialize_async(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=root.as_uri())
    )
    client.initialized(types.InitializedParams())
    while True:
        now = await status(client)
        if now["state"] == "ready" and now["indexedChars"] is not None:
            return client
        if now["state"] == "error":
            raise SystemExit(f"the server cannot load {model}: {now['message']}")
        await asyncio.sleep(0.2)


async def status(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="lstm-complete.status")
    )


def peak_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM"))


async def stop(client: LanguageClient) -> int:
    """Shut the server down; its peak resident memory in kB."""
    peak = peak_rss_kb(client._server.pid)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return peak


def open_doc(client: LanguageClient, uri: str, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )


def edit(
    client: LanguageClient,
    uri: str,
    version: int,
    start: tuple[int, int],
    end: tuple[int, int],
    text: str,
) -> None:
    """Replace the text from start to end, each a (line, character), with `text`."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=start[0], character=start[1]),
                        end=types.Position(line=end[0], character=end[1]),
                    ),
                    text=text,
                )
            ],
        )
    )


async def ask(client: LanguageClient, kind: str, uri: str, line: int, col: int):
    doc = types.TextDocumentIdentifier(uri=uri)
    at = types.Position(line=line, character=col)
    if kind == "inline":
        context = types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic
        )
        return await client.text_document_inline_completion_async(
            types.InlineCompletionParams(text_document=doc, position=at, context=context)
        )
    return await client.text_document_completion_async(
        types.CompletionParams(text_document=doc, position=at)
    )


def typing_lines(lines: list[str], region: range, count: int) -> list[int]:
    chosen = [i for i in region if len(lines[i].strip()) >= 25]
    return chosen[:: max(1, len(chosen) // count)][:count]


async def typing_latency(
    client: LanguageClient, doc_lines: list[str], targets: dict[str, list[int]], typed_chars: int
) -> dict:
    """Latency of each request while typing the target lines, per kind of request and region."""
    found: dict[str, dict[str, list[float]]] = {}
    for kind in ("inline", "list"):
        uri = f"file:///latency/{kind}.py"
        lines = list(doc_lines)
        for region_lines in targets.values():
            for i in region_lines:
                body = lines[i].lstrip()
                lines[i] = lines[i][: len(lines[i]) - len(body)]
        open_doc(client, uri, "\n".join(lines) + "\n")
        await asyncio.sleep(5)  # as a user would: the file was opened a few seconds ago
        version = 1
        for region, region_lines in targets.items():
            times = found.setdefault(kind, {}).setdefault(region, [])
            for i in region_lines:
                typed = doc_lines[i].lstrip()[:typed_chars]
                col = len(lines[i])
                for ch in typed:
                    version += 1
                    edit(client, uri, version, (i, col), (i, col), ch)
                    col += 1
                    t0 = time.perf_counter()
                    await ask(client, kind, uri, i, col)
                    times.append((time.perf_counter() - t0) * 1000)
    return found


async def quality(client: LanguageClient, held, corpus_text: str, n: int, seed: int) -> dict:
    """Share of inline suggestions equal to the rest of the line, and the copy baseline's: as it
    is, and as the server would show it (post-processed like ours, which drops suggestions of one
    character, as the server must). Also both over the positions whose rest of line is long
    enough to be suggested at all (two characters or more). The server reads the document below
    the cursor too, as the copy baseline does not: a copy baseline that searches it as well is
    given beside."""
    ours = copy = copy_shown = copy_below = shown = 0
    showable = ours_showable = copy_showable = copy_below_showable = 0
    targets = positions(held, n, seed)
    for k, p in enumerate(targets):
        text = p.file.text
        line_end = text.find("\n", p.offset)
        cut = text[: p.offset] + (text[line_end:] if line_end >= 0 else "")
        uri = f"file:///quality/{k}.py"
        open_doc(client, uri, cut)
        before = text[: p.offset]
        line, col = before.count("\n"), len(before) - (before.rfind("\n") + 1)
        result = await ask(client, "inline", uri, line, col)
        got = result.items[0].insert_text if result and result.items else ""
        truth = p.rest_of_line.rstrip()
        right = got.split("\n", 1)[0].rstrip() == truth  # a block suggestion's first line
        copied = copy_baseline(before, corpus_text)
        copy_right = copied.rstrip() == truth
        ours += right
        shown += bool(got)
        copy += copy_right
        copy_below_right = copy_baseline(before, corpus_text, p.below).rstrip() == truth
        copy_below += copy_below_right
        copy_shown += (postprocess.clean(copied, before, "") or "") == truth
        if len(truth.strip()) > 1:
            showable += 1
            ours_showable += right
            copy_showable += copy_right
            copy_below_showable += copy_below_right
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
    return {
        "positions": len(targets),
        "inline_line_exact": ours / len(targets),
        "inline_shown": shown,
        "copy_line_exact": copy / len(targets),
        "copy_shown_line_exact": copy_shown / len(targets),
        "copy_below_line_exact": copy_below / len(targets),
        "positions_showable": showable,
        "inline_line_exact_showable": ours_showable / max(1, showable),
        "copy_line_exact_showable": copy_showable / max(1, showable),
        "copy_below_line_exact_showable": copy_below_showable / max(1, showable),
    }


def percentiles(times: list[float]) -> dict[str, float]:
    p50, p95, p99 = np.percentile(times, [50, 95, 99])
    return {
        "p50_ms": round(float(p50), 2),
        "p95_ms": round(float(p95), 2),
        "p99_ms": round(float(p99), 2),
        "n": len(times),
    }


async def main(args: argparse.Namespace) -> dict:
    ckpt = folder.load(args.model)
    corpus = collect([stdlib_path()], exclude=STDLIB_EXCLUDES)
    held_keys = set(ckpt.manifest.held_out)
    held = [f for f in corpus.files if f.key in held_keys] or corpus.split()[1]
    train_files = [f for f in corpus.files if f.key not in held_keys]
    doc_lines: list[str] = []
    for f in held:
        doc_lines += f.text.split("\n")
    if len(doc_lines) < FILE_LINES:
        raise SystemExit(f"only {len(doc_lines)} held-out lines; need {FILE_LINES}")
    doc_lines = doc_lines[:FILE_LINES]
    top = typing_lines(doc_lines, range(10, 400), args.lines_per_region)
    # The bottom region types the same lines as the top, so that its figures differ from the
    # top's by the position in the file only, not by what is typed.
    bottom = [FILE_LINES - 400 + (i - 10) for i in top]
    for i, j in zip(top, bottom, strict=True):
        doc_lines[j] = doc_lines[i]
    targets = {"top": top, "bottom": bottom}
    work = Path(tempfile.mkdtemp(prefix="lstm-latency-"))
    workspace = work / "workspace"
    try:
        for f in train_files:  # the workspace the server indexes: the model's own training files
            dest = workspace / f.key
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(f.text)
        report: dict = {"model": str(args.model), "file_lines": FILE_LINES}
        runs = (("cached", (), TYPED), ("uncached", ("--no-state-cache",), args.uncached_chars))
        for name, flags, typed_chars in runs:
            client = await start(args.model, workspace, *flags)
            found = await typing_latency(client, doc_lines, targets, typed_chars)
            if name == "cached":
                report["quality"] = await quality(
                    client, held, join(train_files), args.positions, args.seed
                )
            report[name] = {
                kind: {region: percentiles(t) for region, t in regions.items()}
                for kind, regions in found.items()
            }
            report[name]["peak_rss_mb"] = round(await stop(client) / 1024, 1)
        for kind in ("inline", "list"):
            c = report["cached"][kind]
            report.setdefault("bottom_over_top_p50", {})[kind] = round(
                c["bottom"]["p50_ms"] / c["top"]["p50_ms"], 2
            )
            u = report["uncached"][kind]
            report.setdefault("speedup_p50_bottom", {})[kind] = round(
                u["bottom"]["p50_ms"] / c["bottom"]["p50_ms"], 1
            )
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=BASE_MODEL)
    parser.add_argument("--lines-per-region", type=int, default=6)
    parser.add_argument("--positions", type=int, default=150)
    parser.add_argument(
        "--seed", type=int, default=0, help="which positions the quality is scored at"
    )
    parser.add_argument(
        "--uncached-chars",
        type=int,
        default=8,
        help="characters typed per line without the cache (it is slow)",
    )
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
