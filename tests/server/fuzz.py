"""Property-based fuzzing of the language server.

Hypothesis draws documents (any Unicode but lone surrogates, astral characters, CRLF and lone CR,
the other characters Python splits lines at, huge lines, empty files), edit sequences (incremental
ranges in and out of range, reversed ranges, whole-text replacements), positions (in and out of
range), settings of every JSON type, and messages in orders a client should not send (a change
before the open, a request after the close, a second open). Two drivers play them: `InProcess`
feeds the messages to a server built as `serve` builds it, through pygls's own dispatch, on the
test's event loop; `Stdio` sends them to a real `lstm-complete serve --stdio` through pytest-lsp.

What must hold: every request is answered, without an error; the server reports no error of its
own; and after any sequence, a document's suggestions equal those of a freshly opened document
with the same text (the state cache agrees with a fresh read). The tiny model answers greedily, at
temperature 0, so both are deterministic.

The number of examples is fixed for the test suite; LSTM_COMPLETE_FUZZ_EXAMPLES raises it (see
benchmarks/fuzz.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import textwrap
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace import TextDocument

from server.engine import MAX_READ
from server.server import build
from tests.conftest import MODULE

ENV_EXAMPLES = "LSTM_COMPLETE_FUZZ_EXAMPLES"


def examples(default: int) -> int:
    return int(os.environ.get(ENV_EXAMPLES) or default)


def profile(default: int) -> hypothesis_settings:
    """A fixed number of examples, no deadline (the machine is shared; timing is not the property),
    and no example database, so a run depends on its seed alone."""
    return hypothesis_settings(
        max_examples=examples(default),
        deadline=None,
        database=None,
        derandomize=not os.environ.get(ENV_EXAMPLES),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


# Documents -------------------------------------------------------------------------------------

CODE_LINES = textwrap.dedent(MODULE).format(name="Kilo", lower="kilo").splitlines(keepends=True)
# Everything str.splitlines (and so pygls) breaks a line at, beside LSP's three.
ODD_BREAKS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
any_char = st.characters(exclude_categories=("Cs",))  # every code point but lone surrogates
astral = st.characters(min_codepoint=0x10000, exclude_categories=("Cs",))
piece = st.one_of(
    st.sampled_from(CODE_LINES),
    st.text(any_char, max_size=12),
    st.text(astral, min_size=1, max_size=3),
    st.sampled_from(["\n", "\r\n", "\r", "\t", "    ", "(", ")", '"', "'", *ODD_BREAKS]),
)
# Short enough that every request reads from the start of the text or a checkpoint (MAX_READ):
# then a fresh read and the cache must agree exactly.
small_text = st.lists(piece, max_size=24).map("".join).filter(lambda t: len(t) < MAX_READ // 2)
huge_text = st.builds(
    lambda head, size, tail: head + "x = [" + "value, " * size + "]" + tail,
    st.text(any_char, max_size=5),
    st.integers(3_000, 20_000),
    st.sampled_from(["", "\n", "\r\n", "\nprint(x)\n"]),
)
number = st.one_of(
    st.integers(0, 40), st.sampled_from([1_000, 100_000, 2**31 - 1])
)  # mostly in range, sometimes far out of it
position = st.builds(types.Position, line=number, character=number)


@dataclass
class Open:
    doc: int
    text: str
    language: str


@dataclass
class Change:
    doc: int
    changes: list[tuple[types.Position, types.Position, str] | str]  # a range and text, or all


@dataclass
class Close:
    doc: int


@dataclass
class Ask:
    doc: int
    at: types.Position
    kind: str  # inline | list | burst


@dataclass
class Configure:
    raw: Any


json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**40), 2**40),
        st.floats(allow_nan=False),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
SETTING_NAMES = [
    "modelPath", "device", "temperature", "numSuggestions", "maxLength", "inlineEnabled",
    "listEnabled", "exclude", "learningEnabled",
]  # fmt: skip
setting_value = st.one_of(
    json_value,
    st.sampled_from([0, 1, 2.5, 400, 401, -1, "auto", "cpu", "cuda", "tpu", True, False, None]),
    st.lists(st.sampled_from(["*.py", "!keep.py", "[", "\\", "**/", "a/**/b", ""]), max_size=3),
)
flat_settings = st.dictionaries(
    st.sampled_from([*SETTING_NAMES, "unknown"]), setting_value, max_size=5
)
settings_json = st.one_of(
    flat_settings, flat_settings.map(lambda s: {"lstmComplete": s}), json_value
)


def operations(text: st.SearchStrategy[str], docs: int = 3) -> st.SearchStrategy[list]:
    doc = st.integers(0, docs - 1)
    one_change = st.one_of(
        st.tuples(position, position, text.map(lambda t: t[:40])), text.map(lambda t: t[:200])
    )
    op = st.one_of(
        st.builds(Open, doc, text, st.sampled_from(["python", "python", "markdown"])),
        st.builds(Change, doc, st.lists(one_change, min_size=1, max_size=3)),
        st.builds(Close, doc),
        st.builds(Ask, doc, position, st.sampled_from(["inline", "list", "burst"])),
        st.builds(Configure, settings_json),
    )
    return st.lists(op, min_size=1, max_size=14)


# Drivers ---------------------------------------------------------------------------------------


class InProcess:
    """A server built as `serve` builds it, given JSON-RPC messages through pygls's dispatch on
    the running event loop; what it writes comes back parsed. It is also the writer pygls
    writes to."""

    def __init__(self, model: Path) -> None:
        self.server = build(model)
        self.protocol = self.server.protocol
        self.protocol.set_writer(self, include_headers=False)
        self.pending: dict[str, asyncio.Future] = {}
        self.messages: list[dict[str, Any]] = []
        self.ids = itertools.count()

    # the writer pygls writes to
    def write(self, data: bytes) -> None:
        message = json.loads(data)
        if "method" in message:
            self.messages.append(message)
            if "id" in message:  # a request to the client (progress tokens): agree
                self._receive({"jsonrpc": "2.0", "id": message["id"], "result": None})
        elif message.get("id") in self.pending:
            self.pending.pop(message["id"]).set_result(message)

    def close(self) -> None:
        pass

    def _receive(self, message: dict[str, Any]) -> None:
        self.protocol.handle_message(self.protocol.structure_message(message))

    def _json(self, params: Any) -> Any:
        return self.protocol._converter.unstructure(params)

    async def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        msg_id = f"fuzz-{next(self.ids)}"
        future = self.pending[msg_id] = asyncio.get_running_loop().create_future()
        message = {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": self._json(params)}
        self._receive(message)
        answer = await asyncio.wait_for(future, timeout)
        if "error" in answer:
            raise AssertionError(f"{method} answered with an error: {answer['error']}")
        response = self.protocol.get_result_type(method)
        return self.protocol._converter.structure(answer, response).result

    def notify(self, method: str, params: Any) -> None:
        self._receive({"jsonrpc": "2.0", "method": method, "params": self._json(params)})

    def server_errors(self) -> list[str]:
        return [
            m["params"]["message"]
            for m in self.messages
            if m["method"] == types.WINDOW_SHOW_MESSAGE
            and m["params"]["message"].startswith("Error in server")
        ]

    async def start(self, options: Any = None) -> None:
        await self.request(
            types.INITIALIZE,
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    window=types.WindowClientCapabilities(work_done_progress=True)
                ),
                initialization_options=options,
            ),
        )
        self.notify(types.INITIALIZED, types.InitializedParams())

    def cursor_logits(self, uri: str) -> tuple[tuple[int, int], np.ndarray] | None:
        """Where the document's cursor state is and the logits there, if it has one."""
        doc = self.server.cache.docs.get(uri)
        if doc is None or doc.cursor is None:
            return None
        return (doc.cursor.line, doc.cursor.col), doc.cursor.logits

    def stop(self) -> None:
        self.server.close()


class Stdio:
    """The same messages to a real `serve --stdio` process, through a pytest-lsp client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        return await asyncio.wait_for(
            self.client.protocol.send_request_async(method, params), timeout
        )

    def notify(self, method: str, params: Any) -> None:
        self.client.protocol.notify(method, params)

    def server_errors(self) -> list[str]:
        return [m.message for m in self.client.messages if m.message.startswith("Error in server")]

    def cursor_logits(self, uri: str) -> None:
        return None  # another process's memory: only the suggestions are compared


Driver = InProcess | Stdio


# Playing a scenario ----------------------------------------------------------------------------


@dataclass
class Tally:
    """What a run did: scenarios, messages sent, requests answered, and errors (always 0)."""

    cases: int = 0
    messages: int = 0
    requests: int = 0
    compared: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self, name: str) -> str:
        return (
            f"fuzz {name}: {self.cases} cases, {self.messages} messages, "
            f"{self.requests} requests answered, {self.compared} positions compared with a "
            f"fresh read, {len(self.errors)} errors"
        )


class Player:
    """Plays operations against a driver, mirroring each document's text as pygls keeps it."""

    def __init__(self, driver: Driver, tally: Tally, prefix: str) -> None:
        self.driver = driver
        self.tally = tally
        self.prefix = prefix  # URIs unique to the case: the server outlives it
        self.docs: dict[int, TextDocument] = {}
        self.version = itertools.count(2)

    def uri(self, doc: int, suffix: str = "") -> str:
        # a space, percent-encoded as editors send it
        return f"file:///fuzz/{self.prefix}%20doc{doc}{suffix}.py"

    def notify(self, method: str, params: Any) -> None:
        self.tally.messages += 1
        self.driver.notify(method, params)

    async def ask(self, uri: str, at: types.Position, kind: str) -> list[str] | None:
        self.tally.messages += 1
        if kind == "inline":
            got = await self.driver.request(
                types.TEXT_DOCUMENT_INLINE_COMPLETION,
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=at,
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                    ),
                ),
            )
            self.tally.requests += 1
            if got is None:
                return None
            items = got.items if isinstance(got, types.InlineCompletionList) else got
            return [i.insert_text for i in items]
        got = await self.driver.request(
            types.TEXT_DOCUMENT_COMPLETION,
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=at
            ),
        )
        self.tally.requests += 1
        if got is None:
            return None
        return [i.text_edit.new_text for i in got.items]

    def open(self, uri: str, text: str, language: str = "python") -> None:
        self.notify(
            types.TEXT_DOCUMENT_DID_OPEN,
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=text
                )
            ),
        )

    async def play(self, op: Any) -> None:
        if isinstance(op, Open):
            self.open(self.uri(op.doc), op.text, op.language)
            self.docs[op.doc] = TextDocument(self.uri(op.doc), op.text, language_id=op.language)
        elif isinstance(op, Change):
            changes: list[types.TextDocumentContentChangeEvent] = [
                types.TextDocumentContentChangeWholeDocument(text=c)
                if isinstance(c, str)
                else types.TextDocumentContentChangePartial(
                    range=types.Range(start=c[0], end=c[1]), text=c[2]
                )
                for c in op.changes
            ]
            uri = self.uri(op.doc)
            self.notify(
                types.TEXT_DOCUMENT_DID_CHANGE,
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(
                        uri=uri, version=next(self.version)
                    ),
                    content_changes=changes,
                ),
            )
            if op.doc in self.docs:
                for change in changes:
                    self.docs[op.doc].apply_change(change)
        elif isinstance(op, Close):
            self.notify(
                types.TEXT_DOCUMENT_DID_CLOSE,
                types.DidCloseTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(uri=self.uri(op.doc))
                ),
            )
            self.docs.pop(op.doc, None)
        elif isinstance(op, Ask):
            uri = self.uri(op.doc)
            if op.kind == "burst":
                # several at once: older ones may be superseded (None), the newest is answered
                answers = await asyncio.gather(*(self.ask(uri, op.at, "list") for _ in range(4)))
                assert op.doc in self.docs or all(a is None for a in answers), answers
            else:
                answer = await self.ask(uri, op.at, op.kind)
                if op.doc not in self.docs:
                    assert answer is None, (op, answer)
        elif isinstance(op, Configure):
            self.notify(
                types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                types.DidChangeConfigurationParams(settings=op.raw),
            )
        await asyncio.sleep(0)  # let the loop run what the message started

    async def compare_with_fresh_reads(self, probes: list[types.Position]) -> None:
        """Each open Python document answers as a fresh document with its text does."""
        self.notify(
            types.WORKSPACE_DID_CHANGE_CONFIGURATION,
            types.DidChangeConfigurationParams(
                settings={
                    "temperature": 0,
                    "inlineEnabled": True,
                    "listEnabled": True,
                    "exclude": [],
                    "maxLength": 80,
                    "numSuggestions": 5,
                }
            ),
        )
        for doc, mirror in self.docs.items():
            if mirror.language_id != "python":
                continue
            fresh = self.uri(doc, "-fresh")
            self.open(fresh, mirror.source)
            for at in probes:
                for kind in ("inline", "list"):
                    edited = await self.ask(self.uri(doc), at, kind)
                    here = self.driver.cursor_logits(self.uri(doc))
                    again = await self.ask(fresh, at, kind)
                    there = self.driver.cursor_logits(fresh)
                    assert edited == again, (kind, at, mirror.source, edited, again)
                    if here is not None and there is not None and here[0] == there[0]:
                        # the state itself, which can be stale while the suggestions agree
                        assert np.allclose(here[1], there[1], atol=1e-4), (at, mirror.source)
                    self.tally.compared += 1
            self.notify(
                types.TEXT_DOCUMENT_DID_CLOSE,
                types.DidCloseTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(uri=fresh)
                ),
            )


async def play_case(
    driver: Driver,
    tally: Tally,
    ops: list,
    probes: list[types.Position],
    settle: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """One scenario: the operations, then the comparison with fresh reads; no error anywhere."""
    tally.cases += 1
    player = Player(driver, tally, f"case{tally.cases}")
    before = len(driver.server_errors())
    try:
        for op in ops:
            await player.play(op)
        if settle is not None:
            await settle()
        await player.compare_with_fresh_reads(probes)
        for doc in list(player.docs):
            await player.play(Close(doc))
        errors = driver.server_errors()[before:]
        assert not errors, errors
    except BaseException as err:
        tally.errors.append(f"{type(err).__name__}: {err}"[:500])
        raise
