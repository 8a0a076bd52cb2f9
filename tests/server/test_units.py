"""The server's logic that needs no LSP: settings, post-processing, the state cache."""

import subprocess
import sys

import numpy as np

from server.postprocess import clean, trim_overlap
from server.settings import Settings, parse
from server.state_cache import Point, StateCache


def test_settings_are_typed_and_bad_values_fall_back_with_a_message():
    settings, problems = parse(
        {"lstmComplete": {"numSuggestions": 3, "temperature": "hot", "device": "tpu"}}
    )
    assert settings.numSuggestions == 3
    assert settings.temperature == Settings().temperature and settings.device == "auto"
    assert len(problems) == 2 and all("using" in p for p in problems)
    kept, problems = parse({"maxLength": 20}, settings)
    assert kept.numSuggestions == 3 and kept.maxLength == 20 and not problems
    assert parse("nonsense")[1]


def test_an_exclude_pattern_that_does_not_compile_is_a_bad_setting():
    """Found by the fuzzer: "\\" and "[z-a]" raised from the configuration handler."""
    for pattern in ("\\", "!", "[z-a]"):
        settings, problems = parse({"exclude": ["*.pyi", pattern]})
        assert settings.exclude == [] and "lstmComplete.exclude" in problems[0]
    assert parse({"exclude": ["*.pyi", "[", "a/**/b"]}) == (
        Settings(exclude=["*.pyi", "[", "a/**/b"]),
        [],
    )


def test_post_processing():
    assert trim_overlap("x, y)", ")") == "x, y"
    assert clean("x, y)", "foo(", ")") == "x, y"
    assert clean("bar(1, ", "x = ", "") == "bar(1,"  # the line goes on inside the bracket
    assert clean("bar(1", "x = ", "") == "bar"  # left open mid-way: cut back to where it balanced
    assert clean("ng_map = {", "encodi", "") == "ng_map = {"
    assert clean("y=2)", "f(\n    x=1,\n    ", "") == "y=2)"  # closes a bracket lines above
    assert clean("y=2)", "f()  # (\n", "") == "y=2"  # a comment opens nothing
    # In a string at the cursor: its closing quote, and what follows, balanced.
    assert clean("defs' : 'html.entities',", "    'htmlentity", "") == ("defs' : 'html.entities',")
    assert clean("E':\n        return text", "if family == 'AF_PIP", "") == (
        "E':\n        return text"
    )
    assert clean("abc + 'd", "s = ", "") == "abc +"  # a string left open at the line's end
    assert clean("a) + b", "f(", "") == "a) + b"
    assert clean("]", "x = ", "") is None  # a closer with nothing to close, and one character
    assert clean("  ", "x", "") is None
    assert clean("'abc' + d", "s = ", "") == "'abc' + d"
    # Triple quotes: a docstring opens (however the cursor splits its quotes) and closes.
    assert clean('""', '    def f():\n        "', "") == '""'
    assert clean('""Say hi."""', '    "', "") == '""Say hi."""'
    assert clean('"""\n    Say hi.', "def f():\n    ", "") == '"""\n    Say hi.'
    assert clean("x.\n    more", '    """Say', "") == "x.\n    more"  # inside a docstring
    assert clean('rest."""', '    """Say\n    the ', "") == 'rest."""'
    assert clean('x = """ab\ny', "", "") == "x ="  # opened mid-line and left open: cut
    assert clean(':\n    """Stop it: cancels any', "def stop(self)", "") == (
        ':\n    """Stop it: cancels any'  # a docstring's first line goes on
    )


MODEL = object()  # stands for the model that computed the states


def point(line, col=0):
    zeros = np.zeros((1, 1, 2), np.float32)
    return Point(line, col, np.zeros((1, 3), np.float32), (zeros, zeros))


def test_an_edit_drops_only_later_checkpoints():
    cache = StateCache(per_document=100, total=1000)
    doc = cache.get("a", 50, MODEL)
    cache.store("a", doc.epoch, [point(i) for i in range(1, 20)], point(10, 7), MODEL)
    cache.edited("a", 10, 7)  # typing at the cursor keeps the cursor's own state
    assert doc.lines == list(range(1, 11)) and doc.cursor is not None
    assert doc.nearest(10, 9).col == 7
    cache.edited("a", 10, 3)
    assert doc.cursor is None and doc.nearest(12, 0).line == 10


def test_stale_work_is_not_stored_and_memory_is_bounded():
    cache = StateCache(per_document=10, total=25)
    doc = cache.get("a", 100, MODEL)  # 100 lines, cap 10: every 10th line
    epoch = doc.epoch
    cache.edited("a", 0, 0)
    cache.store("a", epoch, [point(10)], None, MODEL)
    assert doc.lines == []
    cache.store("a", doc.epoch, [point(i) for i in range(1, 100)], None, MODEL)
    assert doc.lines == list(range(10, 100, 10))
    for uri in "bcd":
        d = cache.get(uri, 10, MODEL)
        cache.store(uri, d.epoch, [point(i) for i in range(1, 10)], None, MODEL)
    assert cache.checkpoints() <= 25 and "a" not in cache.docs  # least recently used went first


def test_states_of_a_swapped_out_model_are_neither_used_nor_stored():
    cache = StateCache()
    old, new = object(), object()
    doc = cache.get("a", 10, old)
    cache.store("a", doc.epoch, [point(1), point(2)], None, old)
    assert cache.get("a", 10, new).lines == []  # the new model starts from nothing
    cache.store("a", doc.epoch, [point(3)], None, old)  # a request begun on the old model
    assert cache.checkpoints() == 0


def test_reading_ahead_finishes_when_a_document_outgrows_its_cap(tiny_model):
    from server.engine import Engine
    from trainer import folder
    from trainer.sampling import Predictor

    engine = Engine(StateCache(per_document=7, total=100))
    lines = [f"x{i} = {i}  # {'pad ' * (i % 30)}\n" for i in range(40)] + [""]
    predictor = Predictor(folder.load(tiny_model))
    slices = 0
    while engine.read_ahead(predictor, "doc", lines) is not None:
        slices += 1
        assert slices < 50
    doc = engine.cache.get("doc", len(lines), predictor)
    assert doc.stride == 6 and doc.lines == list(range(6, 41, 6))


def test_reading_ahead_yields_to_a_request_and_keeps_what_it_read(tiny_model):
    """A slice stops at the next line start once a request waits: the checkpoints it read are
    kept (and equal a fresh read), and the next slice goes on from them."""
    from server.engine import Engine
    from trainer import folder
    from trainer.sampling import Predictor

    engine = Engine(StateCache())
    lines = [f"value_{i} = compute({i})\n" for i in range(40)] + [""]
    predictor = Predictor(folder.load(tiny_model))
    asked = []

    def after_three_lines() -> bool:
        asked.append(1)
        return len(asked) > 3

    assert engine.read_ahead(predictor, "doc", lines, yield_to=after_three_lines) == 0
    doc = engine.cache.get("doc", len(lines), predictor)
    assert doc.lines == [1, 2, 3]
    logits, state = predictor.feed("".join(lines[:3]), *predictor.start())
    assert np.allclose(doc.points[3].logits, logits, atol=1e-5)
    assert np.allclose(doc.points[3].state[0], state[0], atol=1e-5)
    assert engine.read_ahead(predictor, "doc", lines) is not None
    assert doc.lines[-1] > 3


def test_the_worker_says_when_a_request_waits_behind_background_work():
    import threading

    from server.worker import BACKGROUND, Worker

    worker = Worker()
    release, seen = threading.Event(), []
    try:
        blocking = worker.submit(release.wait, BACKGROUND)
        worker.submit(lambda: None, BACKGROUND)
        assert not worker.urgent_waiting()
        worker.submit(lambda: seen.append("request"))
        assert worker.urgent_waiting()
        release.set()
        blocking.result(timeout=10)
    finally:
        release.set()
        worker.stop()
    assert seen == ["request"]


def test_background_reading_waits_until_the_user_stops_typing(monkeypatch):
    """Edits and requests postpone reading ahead, also a slice already scheduled (as the next
    slice is while one runs): a request then never waits behind background reading."""
    import asyncio

    from server import server as server_module

    monkeypatch.setattr(server_module, "READ_DELAY", 0.2)
    ls = server_module.Server()
    read: list[float] = []

    async def scenario() -> None:
        loop = ls.loop = asyncio.get_running_loop()
        monkeypatch.setattr(ls, "document", lambda _uri: read.append(loop.time()))
        ls.schedule_read("a")  # opened: read at once
        await asyncio.sleep(0.05)
        assert len(read) == 1
        ls.schedule_read("a")  # the next slice...
        ls.postpone_reading()  # ...then a keystroke, before it starts
        for _ in range(5):
            await asyncio.sleep(0.05)
            ls.postpone_reading()
            ls.schedule_read("a")
        typed = loop.time()
        await asyncio.sleep(0.1)
        assert len(read) == 1
        await asyncio.sleep(0.25)
        assert len(read) == 2 and read[1] >= typed + 0.2

    try:
        asyncio.run(scenario())
    finally:
        ls.close()


def test_work_begun_before_a_document_was_forgotten_is_not_stored():
    """Reading ahead finishes after the document was opened again (or the model changed): its
    states belong to the old text, and the document that replaced it must not take them."""
    cache = StateCache()
    epoch = cache.get("a", 10, MODEL).epoch
    cache.forget("a")
    cache.get("a", 10, MODEL)
    cache.store("a", epoch, [point(1)], point(1, 4), MODEL)
    assert cache.checkpoints() == 0


def test_the_server_never_imports_torch():
    # torch alone would add ~190 MB to the server's resident memory; inference is numpy.
    code = (
        "import sys, server.server, server.cli\n"
        "server.cli.build_parser().parse_args(['serve'])\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
