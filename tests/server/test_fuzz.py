"""The server under property-based fuzzing, in-process and over stdio (see fuzz.py for what is
drawn and what must hold). Each test prints what it tried; benchmarks/fuzz.py runs them longer."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace import TextDocument

from .fuzz import (
    Ask,
    Change,
    Configure,
    InProcess,
    Open,
    Player,
    Stdio,
    Tally,
    huge_text,
    operations,
    play_case,
    position,
    profile,
    settings_json,
    small_text,
)
from .lsp import session, wait_for_index

P = types.Position
STATUS = types.ExecuteCommandParams(command="lstm-complete.status")


async def wait_ready(driver: InProcess | Stdio) -> dict[str, Any]:
    for _ in range(600):
        now = await driver.request(types.WORKSPACE_EXECUTE_COMMAND, STATUS)
        if now["state"] == "ready":
            return now
        await asyncio.sleep(0.05)
    raise AssertionError(f"the server stayed {now}")


@pytest.fixture(scope="module")
def in_process(tiny_model: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, InProcess]]:
    loop = asyncio.new_event_loop()
    driver = InProcess(tiny_model)
    loop.run_until_complete(driver.start())
    loop.run_until_complete(wait_ready(driver))
    yield loop, driver
    driver.stop()
    loop.close()


@contextlib.contextmanager
def tallied(name: str) -> Iterator[Tally]:
    """A tally for the test, printed however it ends (benchmarks/fuzz.py shows it)."""
    tally = Tally()
    try:
        yield tally
    finally:
        print(tally.line(name))
    assert tally.cases and not tally.errors


def test_fuzz_edits_in_process_agree_with_fresh_reads(in_process) -> None:
    loop, driver = in_process

    async def settle() -> None:
        # let background reading ahead store checkpoints, so requests start from them
        await asyncio.sleep(0.01)

    @profile(40)
    @given(ops=operations(small_text), probes=st.lists(position, min_size=1, max_size=3))
    def case(ops: list, probes: list[types.Position]) -> None:
        loop.run_until_complete(play_case(driver, tally, ops, probes, settle))

    with tallied("in-process edits") as tally:
        case()


def test_fuzz_huge_lines_and_settings_in_process(in_process) -> None:
    """Huge lines are read with a bounded budget by design (a fresh read sees less of them than
    the cache does), so here only: every request answered, no error."""
    loop, driver = in_process

    @profile(10)
    @given(ops=operations(st.one_of(huge_text, small_text), docs=2))
    def case(ops: list) -> None:
        loop.run_until_complete(play_case(driver, tally, ops, []))

    with tallied("in-process huge lines and settings") as tally:
        case()


def test_fuzz_initialization_options(tiny_model: Path) -> None:
    @profile(8)
    @given(options=settings_json)
    def case(options: Any) -> None:
        tally.cases += 1
        loop = asyncio.new_event_loop()
        driver = InProcess(tiny_model)
        try:
            loop.run_until_complete(driver.start(options))
            now = loop.run_until_complete(wait_ready(driver))
            tally.requests += 1
            assert now["model"]["path"] == str(tiny_model)
            assert not driver.server_errors()
        except BaseException as err:
            tally.errors.append(repr(err)[:500])
            raise
        finally:
            driver.stop()
            loop.close()

    with tallied("initialization options") as tally:
        case()


def test_fuzz_over_stdio(tiny_model: Path, corpus_dir: Path) -> None:
    loop = asyncio.new_event_loop()
    context = session(corpus_dir, "--model", str(tiny_model))
    client = loop.run_until_complete(context.__aenter__())
    loop.run_until_complete(wait_for_index(client))  # else a fresh read may meet another model
    driver = Stdio(client)
    try:

        @profile(8)
        @given(ops=operations(small_text), probes=st.lists(position, min_size=1, max_size=2))
        def case(ops: list, probes: list[types.Position]) -> None:
            loop.run_until_complete(play_case(driver, tally, ops, probes))

        with tallied("over stdio") as tally:
            case()
        # still the same process, answering
        assert loop.run_until_complete(wait_ready(driver))["state"] == "ready"
        assert client._server.returncode is None
    finally:
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()


# What the fuzzer found, each as the smallest case that shows it.


def replay(in_process, ops: list, probes: list[types.Position]) -> None:
    loop, driver = in_process
    loop.run_until_complete(play_case(driver, Tally(), ops, probes))


def test_a_change_before_the_open_is_dropped_without_an_error(in_process) -> None:
    """pygls answered it with "Error in server: KeyError" shown to the user."""
    replay(in_process, [Change(0, [""]), Open(0, "import os\n", "python")], [P(1, 0)])


def test_opening_a_document_again_forgets_its_states(in_process) -> None:
    """The states of the first text answered for the second."""
    first, second = "def load(path):\n    return op", "x = 1\nimport sys\ny = sys.pa"
    replay(
        in_process,
        [Open(0, first, "python"), Ask(0, P(1, 13), "inline"), Open(0, second, "python")],
        [P(2, 10), P(1, 13)],
    )


def test_an_edit_past_the_end_of_the_last_line(in_process) -> None:
    """pygls clamps a column past the end of a last line (no line break) to before its last
    character; the edit point was converted on the text after the change, so further on."""
    text = "class Store:\n    def add(self, item):\n        self.items.app"
    replay(
        in_process,
        [
            Open(0, text, "python"),
            Ask(0, P(2, 22), "inline"),
            Change(0, [(P(2, 90), P(2, 90), "e")]),
        ],
        [P(2, 23)],
    )


def test_a_line_feed_after_a_lone_carriage_return(in_process) -> None:
    """ "\\r" then "\\n" inserted at the start of the next line are one line break: the next line
    starts a character later, but its checkpoint was kept."""
    text = "import os\r" * 3 + "x = os.pa"
    replay(
        in_process,
        [Open(0, text, "python"), Ask(0, P(3, 9), "list"), Change(0, [(P(2, 0), P(2, 0), "\n")])],
        [P(3, 9), P(3, 4)],
    )


def test_an_exclude_pattern_that_does_not_compile_is_reported_not_raised(in_process) -> None:
    replay(in_process, [Configure({"modelPath": 0, "exclude": ["\\"]})], [P(0, 0)])


def test_a_device_that_is_not_here_still_serves(tiny_model: Path) -> None:
    """Found by the fuzzer: with "device": "cuda" and no CUDA device, the server was left with no
    model. Completions now run in numpy on the CPU whatever the setting (it picks the device of
    the server's training processes), so the model serves."""
    loop = asyncio.new_event_loop()
    driver = InProcess(tiny_model)
    try:
        loop.run_until_complete(driver.start({"device": "cuda"}))
        now = loop.run_until_complete(wait_ready(driver))
    finally:
        driver.stop()
        loop.close()
    assert now["model"]["path"] == str(tiny_model) and now["message"] is None


def test_a_path_with_a_space_gets_suggestions(in_process) -> None:
    """pygls keys documents by the unquoted URI; looked up as sent (%20), none was found."""
    loop, driver = in_process
    player = Player(driver, Tally(), "space")
    text = "class Store:\n    def add(self, item):\n        self.items.app"
    answers = []
    for uri in ("file:///fuzz/with%20space.py", "file:///fuzz/without-space.py"):
        player.open(uri, text)
        answers.append(loop.run_until_complete(player.ask(uri, P(2, 22), "list")))
    assert answers[0] is not None and answers[0] == answers[1]


def test_work_queued_before_an_edit_does_not_store_states_for_the_new_text(in_process) -> None:
    """Found by the fuzzer as a rare mismatch: the text a request or a read-ahead was given is
    taken when it is queued, but the cache's epoch was taken when the model thread got to it, after
    an edit had come in between. Here the model thread is held busy to open that gap on purpose."""
    loop, driver = in_process
    player = Player(driver, Tally(), "queued")
    uri = player.uri(0)
    first = "import os\nimport sys\n\nclass Store:\n    def add(self, item):\n"
    second = "x = 1\n" * 5

    async def scenario() -> None:
        held = threading.Event()
        driver.server.worker.submit(held.wait)
        await player.play(Open(0, first, "python"))
        asking = asyncio.ensure_future(player.ask(uri, P(4, 10), "inline"))
        await asyncio.sleep(0.05)  # the read-ahead and the request are queued with `first`
        await player.play(Change(0, [second]))
        player.docs[0] = TextDocument(uri, second, language_id="python")
        held.set()
        await asyncio.wait_for(asking, 60)
        await player.compare_with_fresh_reads([P(4, 3), P(5, 0)])

    loop.run_until_complete(scenario())
