"""The server under load: documents open at once, requests interleaved with edits, over stdio.

A real LSP client starts `lstm-complete serve --stdio` on a workspace of DOCUMENTS modules of the
standard library, opens them all, and sends REQUESTS requests one after another (inline and list
by turns), each after an edit (typing at a random place of a random document, now and then a
deletion or a new line), at the place edited or at a random position. It counts every failure: an
error answer, no answer within the timeout, and "Error in server" messages. It prints the
requests, the errors, the latency percentiles and the server's peak resident memory (VmHWM from
/proc/PID/status).

    python -m benchmarks.load [--model DIR] [--documents 8] [--requests 2000] [--save-every N]

--save-every N makes the model the workspace's own (a copy of it that has learned these files)
and saves the document just edited every N requests: the server updates the model while the
requests go on, and swaps each update in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from benchmarks.latency import edit, open_doc, peak_rss_kb, status
from trainer.cli import stdlib_path
from trainer.corpus import collect
from trainer.paths import BASE_MODEL

TIMEOUT = 60.0  # seconds an answer may take before it counts as an error
TYPED = "self.value = items[0](x, y)  # note\n"


@dataclass
class Report:
    documents: int
    requests: int
    edits: int
    errors: int
    answered_null: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    peak_rss_mb: float
    saves: int
    updates: int  # updates the server finished during the run
    updates_accepted: int
    failures: list[str] = field(default_factory=list)


def pick_modules(count: int, smallest: int = 4_000, largest: int = 40_000) -> list[Path]:
    """`count` standard-library modules of middling size, the same ones on every run."""
    found = sorted(
        p
        for p in stdlib_path().glob("*.py")
        if smallest <= p.stat().st_size <= largest and p.name.isascii()
    )
    if len(found) < count:
        raise SystemExit(f"only {len(found)} standard-library modules of that size")
    step = len(found) / count
    return [found[int(i * step)] for i in range(count)]


class Session:
    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.texts: dict[str, list[str]] = {}  # each document's lines, kept as the server has them
        self.versions: dict[str, int] = {}
        self.server_errors: list[str] = []

        @client.feature(types.WINDOW_SHOW_MESSAGE)
        def show_message(_ls: LanguageClient, params: types.ShowMessageParams) -> None:
            if params.message.startswith("Error in server"):
                self.server_errors.append(params.message)

    def open(self, uri: str, text: str) -> None:
        self.texts[uri] = text.split("\n")
        self.versions[uri] = 1
        open_doc(self.client, uri, text)

    def edit(self, uri: str, rng: random.Random) -> tuple[int, int]:
        """One edit at a random place; the position after it."""
        lines = self.texts[uri]
        line = rng.randrange(len(lines))
        col = rng.randrange(len(lines[line]) + 1)
        end_line, end_col, new = line, col, rng.choice(TYPED[:-1])
        roll = rng.random()
        if roll < 0.15 and col > 0:  # a deletion
            col, new = col - 1, ""
        elif roll < 0.25:  # a new line
            new = "\n"
        text = "\n".join(lines)
        offset = sum(len(x) + 1 for x in lines[:line])
        text = text[: offset + col] + new + text[offset + end_col :]
        self.texts[uri] = text.split("\n")
        self.versions[uri] += 1
        edit(self.client, uri, self.versions[uri], (line, col), (end_line, end_col), new)
        after = (line + 1, 0) if new == "\n" else (line, col + len(new))
        return after

    async def ask(self, kind: str, uri: str, line: int, col: int):
        doc = types.TextDocumentIdentifier(uri=uri)
        at = types.Position(line=line, character=col)
        if kind == "inline":
            request = self.client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    text_document=doc,
                    position=at,
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Automatic
                    ),
                )
            )
        else:
            request = self.client.text_document_completion_async(
                types.CompletionParams(text_document=doc, position=at)
            )
        return await asyncio.wait_for(request, TIMEOUT)


def own_model(model: Path, workspace: Path, dest: Path) -> Path:
    """A copy of `model` whose manifest says it has learned the workspace as it is now."""
    shutil.copytree(model, dest)
    corpus = collect([workspace])
    manifest = json.loads((dest / "manifest.json").read_text())
    manifest.update(
        roots=[str(workspace)],
        files=corpus.manifest(),
        held_out=sorted(f.key for f in corpus.split(0.2, manifest["seed"])[1]),
    )
    (dest / "manifest.json").write_text(json.dumps(manifest))
    return dest


async def run(
    model: Path, documents: int, requests: int, seed: int = 0, save_every: int = 0
) -> Report:
    rng = random.Random(seed)
    saves = 0
    with tempfile.TemporaryDirectory(prefix="lstm-complete-load-") as tmp:
        workspace = Path(tmp) / "workspace"
        workspace.mkdir()
        for module in pick_modules(documents):
            shutil.copy(module, workspace / module.name)
        if save_every:
            model = own_model(model, workspace, Path(tmp) / "model")
        client = LanguageClient("load-benchmark", "1")
        session = Session(client)
        env = dict(os.environ, XDG_CACHE_HOME=str(Path(tmp) / "cache"))  # not the user's cache
        await client.start_io(
            sys.executable, "-m", "server", "serve", "--model", str(model), env=env
        )
        try:
            await client.initialize_async(
                types.InitializeParams(
                    capabilities=types.ClientCapabilities(), root_uri=workspace.as_uri()
                )
            )
            client.initialized(types.InitializedParams())
            while (now := await status(client))["state"] != "ready":
                if now["state"] == "error":
                    raise SystemExit(f"the server cannot load {model}: {now['message']}")
                await asyncio.sleep(0.2)
            paths = {path.as_uri(): path for path in sorted(workspace.glob("*.py"))}
            uris = list(paths)
            for path in paths.values():
                session.open(path.as_uri(), path.read_text())
            times, failures, nulls, edits = [], [], 0, 0
            for i in range(requests):
                uri = rng.choice(uris)
                line, col = session.edit(uri, rng)
                edits += 1
                if rng.random() < 0.3:  # elsewhere than the edit: a jump, as after a click
                    lines = session.texts[uri]
                    line = rng.randrange(len(lines))
                    col = rng.randrange(len(lines[line]) + 1)
                kind = "inline" if i % 2 else "list"
                started = time.perf_counter()
                try:
                    answer = await session.ask(kind, uri, line, col)
                except Exception as err:  # an error answer or none in time: counted, not fatal
                    failures.append(f"{kind} {uri}:{line}:{col}: {type(err).__name__}: {err}")
                    continue
                times.append(time.perf_counter() - started)
                nulls += answer is None
                if save_every and i % save_every == save_every - 1:
                    paths[uri].write_text("\n".join(session.texts[uri]))
                    saves += 1
            end = await status(client)  # still answering at the end
            peak = peak_rss_kb(client._server.pid)
            await client.shutdown_async(None)
            client.exit(None)
        finally:
            await client.stop()
    failures += session.server_errors
    ms = np.array(times) * 1000 if times else np.zeros(1)
    return Report(
        documents=documents,
        requests=requests,
        edits=edits,
        errors=len(failures),
        answered_null=nulls,
        p50_ms=round(float(np.percentile(ms, 50)), 1),
        p99_ms=round(float(np.percentile(ms, 99)), 1),
        max_ms=round(float(ms.max()), 1),
        peak_rss_mb=round(peak / 1024, 1),
        saves=saves,
        updates=end["updates"],
        updates_accepted=end["updatesAccepted"],
        failures=failures[:20],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=BASE_MODEL)
    parser.add_argument("--documents", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--save-every",
        type=int,
        default=0,
        metavar="N",
        help="save the document just edited every N requests: the server learns it meanwhile",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = asyncio.run(run(args.model, args.documents, args.requests, args.seed, args.save_every))
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        learning = ""
        if report.saves:
            learning = (
                f", {report.saves} saves, {report.updates} updates ({report.updates_accepted} kept)"
            )
        print(
            f"{report.documents} documents, {report.requests} requests, {report.edits} edits"
            f"{learning}: "
            f"{report.errors} errors, "
            f"{report.answered_null} answered null; latency p50 {report.p50_ms} ms, "
            f"p99 {report.p99_ms} ms, max {report.max_ms} ms; "
            f"server peak RSS {report.peak_rss_mb} MB"
        )
        for failure in report.failures:
            print("  ", failure)
    if report.errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
