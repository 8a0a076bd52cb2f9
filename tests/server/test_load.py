"""A shorter run of benchmarks/load.py: documents open at once, requests interleaved with edits,
over stdio, with the tiny model."""

from __future__ import annotations

from pathlib import Path

from benchmarks.load import run


async def test_requests_interleaved_with_edits_on_eight_documents(tiny_model: Path) -> None:
    report = await run(tiny_model, documents=8, requests=200)
    assert report.errors == 0, report.failures
    assert report.edits == 200 and report.answered_null < report.requests
    # bounded: the state cache has a cap, and the model is tiny
    assert 0 < report.peak_rss_mb < 1024, report
