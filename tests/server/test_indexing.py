"""The workspace index, built by a process of the server's own and mapped into it: current on
disk, it is reused; damaged, it is rebuilt with a log line; it never takes the server down."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from server import indexing
from trainer import index_file
from trainer.paths import default_index_dir

from ..conftest import write_corpus
from .lsp import inline, open_document, session, wait_for_index
from .test_lsp import KILO, cut_after


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return write_corpus(tmp_path / "ws", ["Alpha", "Bravo"])


def damage(dest: Path) -> None:
    codes = dest / "reversed.u8"
    data = bytearray(codes.read_bytes())
    data[len(data) // 2] ^= 0xFF
    codes.write_bytes(bytes(data))


def test_the_index_is_built_once_and_reused(workspace):
    index = indexing.workspace_index(workspace, [])
    assert index is not None and set(index.spans) == {"alpha.py", "bravo.py"}
    dest = default_index_dir(workspace)
    written = (dest / "suffixes.npy").stat().st_mtime_ns
    again = indexing.workspace_index(workspace, [])
    assert again is not None and again.size == index.size
    assert (dest / "suffixes.npy").stat().st_mtime_ns == written
    assert set(indexing.workspace_index(workspace, ["bravo.py"]).spans) == {"alpha.py"}


def test_a_damaged_index_is_rebuilt_with_a_log_line(workspace, caplog):
    indexing.workspace_index(workspace, [])
    damage(default_index_dir(workspace))
    with caplog.at_level(logging.WARNING, logger="server.indexing"):
        index = indexing.workspace_index(workspace, [])
    assert index is not None and index.locate("    def add_alpha(self, it")[1] >= 4
    assert "damaged, building it again" in caplog.text and "reversed.u8" in caplog.text
    index_file.read(default_index_dir(workspace))  # sound again


def test_no_python_files_no_index(tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "empty").mkdir()
    with caplog.at_level(logging.INFO, logger="server.indexing"):
        assert indexing.workspace_index(tmp_path / "empty", []) is None
    assert "no match index" in caplog.text


def test_an_index_that_cannot_be_written_is_logged_not_raised(workspace, tmp_path, caplog):
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    with caplog.at_level(logging.ERROR, logger="server.indexing"):
        assert indexing.workspace_index(workspace, []) is None
    assert "cannot be built (exit status 1)" in caplog.text and "cannot be written" in caplog.text


async def test_a_server_rebuilds_a_damaged_index_and_answers_from_it(
    tiny_model, corpus_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the server inherits it
    workspace = tmp_path / "workspace"
    shutil.copytree(corpus_dir, workspace)
    assert indexing.workspace_index(workspace, []) is not None
    damage(default_index_dir(workspace))
    async with session(workspace, "--model", str(tiny_model)) as client:
        await wait_for_index(client)
        text, line, col = cut_after(KILO, "self.items.app")
        uri = open_document(client, tmp_path / "kilo.py", text)
        assert await inline(client, uri, line, col) == ["end(item)"]
    index_file.read(default_index_dir(workspace))
