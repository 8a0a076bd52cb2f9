"""The match index on disk: built by `lstm-complete index` in a process of its own, it is the
index built in process; it is not built again while current; damage is found, never used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trainer import index_file
from trainer.corpus import collect
from trainer.match import MatchIndex

from .conftest import write_corpus

# Characters outside the match model's table too (they are kept beside the codes).
ODD = 'greeting = "héllo → 世界"  # 😀\n\ndef wave():\n    return greeting + "!"\n'


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = write_corpus(tmp_path / "ws", ["Alpha", "Bravo", "Charlie"])
    (root / "odd.py").write_text(ODD)
    return root


def build_in_a_process(root: Path, out: Path, *flags: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "server", "index", str(root), "--out", str(out), *flags],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])["result"]


def test_an_index_built_in_a_process_is_the_one_built_in_process(workspace, tmp_path):
    out = tmp_path / "index"
    result = build_in_a_process(workspace, out)
    files = [(f.key, f.text) for f in collect([workspace]).files]
    here = MatchIndex.of_files(files)
    there = index_file.read(out)
    assert result["chars"] == here.size == there.size
    assert there.spans == here.spans
    assert bytes(there.corpus.reversed) == here.corpus.reversed
    assert np.array_equal(there.corpus.suffixes, here.corpus.suffixes)
    assert np.array_equal(there.corpus.other_at, here.corpus.other_at)
    assert there.corpus.other_chars == here.corpus.other_chars == "世界😀"
    assert there.corpus.read(0, there.size) == "\0".join(text for _, text in files)
    for context in ("def wave():\n    return gre", "        self.items.app", 'x = "héllo → 世'):
        assert there.locate(context) == here.locate(context)
        assert there.locate(context)[1] >= 4


def test_a_current_index_is_not_built_again(workspace, tmp_path):
    out = tmp_path / "index"
    build_in_a_process(workspace, out)
    written = (out / "suffixes.npy").stat().st_mtime_ns
    build_in_a_process(workspace, out)
    assert (out / "suffixes.npy").stat().st_mtime_ns == written
    (workspace / "new.py").write_text("def brand_new_function():\n    return 42\n")
    build_in_a_process(workspace, out)
    assert "new.py" in index_file.read(out).spans
    written = (out / "suffixes.npy").stat().st_mtime_ns
    build_in_a_process(workspace, out, "--rebuild")
    assert (out / "suffixes.npy").stat().st_mtime_ns != written


def test_two_builds_at_once_both_succeed(workspace, tmp_path):
    """Two servers opening one workspace: the second waits for the first's build."""
    out = tmp_path / "index"
    command = [sys.executable, "-m", "server", "index", str(workspace), "--out", str(out)]
    builds = [subprocess.Popen([*command, "--rebuild"], stderr=subprocess.PIPE) for _ in range(3)]
    for build in builds:
        _, err = build.communicate(timeout=120)
        assert build.returncode == 0, err
    assert index_file.read(out).size > 0


def flip_a_byte(file: Path) -> None:
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))


DAMAGES = {
    "flipped suffix": (lambda d: flip_a_byte(d / "suffixes.npy"), "suffixes.npy: damaged"),
    "truncated codes": (
        lambda d: (d / "reversed.u8").write_bytes((d / "reversed.u8").read_bytes()[:100]),
        "reversed.u8: damaged",
    ),
    "missing array": (lambda d: (d / "other_at.npy").unlink(), "other_at.npy: cannot be read"),
    "garbage meta": (lambda d: (d / "index.json").write_text("{garbage"), "not valid JSON"),
    "other meta": (lambda d: (d / "index.json").write_text('{"format": 1}'), "not an lstm"),
    "no folder": (lambda d: None, "index.json: missing"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_index_is_an_error_naming_the_file(workspace, tmp_path, damage):
    out = tmp_path / "index"
    if damage != "no folder":
        index_file.build(workspace, [], out)
    spoil, message = DAMAGES[damage]
    spoil(out)
    with pytest.raises(index_file.IndexFileError, match=message):
        index_file.read(out)


def test_an_empty_corpus_makes_an_empty_index(tmp_path):
    out = tmp_path / "index"
    index_file.write(MatchIndex(""), out, "nothing")
    index = index_file.read(out)
    assert index.size == 0 and index.locate("anything at all") == ("", 0, "", 0)
