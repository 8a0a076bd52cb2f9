import json
import os
import subprocess
import sys

import pytest

from trainer.corpus import CorpusError, collect


def test_filters_and_counts_what_it_skips(tmp_path):
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "good.py").write_text("x = 1\n")
    (root / "ignored.py").write_text("y = 2\n")
    (root / ".gitignore").write_text("ignored.py\ngenerated/\n")
    for folder in ("generated", ".hidden", "build", "dist", "venv2"):
        (root / folder).mkdir()
        (root / folder / "m.py").write_text("z = 3\n")
    (root / "venv2" / "pyvenv.cfg").write_text("home = /usr\n")
    (root / "binary.py").write_bytes(b"a = 1\0\0")
    (root / "latin1.py").write_bytes("s = 'caf\xe9'\n".encode("latin-1"))
    (root / "huge.py").write_text("x = 1\n" * 300)
    outside = tmp_path / "outside.py"
    outside.write_text("secret = 1\n")
    (root / "link.py").symlink_to(outside)
    os.mkfifo(root / "fifo.py")

    corpus = collect([root], max_bytes=1000)
    assert sorted(f.key for f in corpus.files) == ["pkg/good.py"]
    assert corpus.skipped["binary"] == 1
    assert corpus.skipped["not UTF-8"] == 1
    assert corpus.skipped["over the size limit"] == 1
    assert corpus.skipped["symlink leaving the tree"] == 1
    assert corpus.skipped["not a regular file"] == 1
    assert corpus.skipped["ignored by .gitignore"] == 1
    assert corpus.skipped["ignored folder"] == 5
    assert "skipped" in corpus.describe_skipped()


def test_split_is_deterministic_by_file_and_stable(corpus_dir, tmp_path):
    corpus = collect([corpus_dir])
    train, held = corpus.split(0.2, seed=3)
    _, held2 = collect([corpus_dir]).split(0.2, seed=3)
    assert [f.key for f in held] == [f.key for f in held2] and held
    assert not {f.key for f in train} & {f.key for f in held}
    # Adding a file never moves another file across the split.
    (tmp_path / "extra").mkdir()
    bigger = collect([corpus_dir, tmp_path / "extra"])
    assert len(bigger.files) == len(corpus.files)
    _, one_held = collect([corpus_dir]).split(0.0, seed=3)
    assert len(one_held) == 1  # at least one file is held out


def test_manifest_hashes_change_with_content(tmp_path):
    (tmp_path / "a.py").write_text("a = 1\n")
    before = collect([tmp_path]).manifest()
    (tmp_path / "a.py").write_text("a = 2\n")
    assert collect([tmp_path]).manifest()["a.py"] != before["a.py"]


def test_bad_paths_are_clear_errors(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        collect([tmp_path / "missing"])
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CorpusError, match="no usable Python files"):
        collect([tmp_path])


WALK = """
import json, sys
from pathlib import Path
from trainer.corpus import collect
corpus = collect([Path(sys.argv[1])], max_bytes=1000)
print(json.dumps({"files": [f.key for f in corpus.files], "skipped": corpus.skipped}))
"""


def test_special_files_are_never_read_and_never_hang_the_walk(tmp_path):
    """FIFOs (named .py, and behind a symlink inside the workspace), /dev/zero and /dev behind
    symlinks, and a 10 GB sparse file. Walked in a subprocess: a walker that opened a FIFO for
    reading would block for ever, which the timeout turns into a failure."""
    root = tmp_path / "repo"
    (root / "inner").mkdir(parents=True)
    (root / "good.py").write_text("x = 1\n")
    os.mkfifo(root / "fifo.py")
    os.mkfifo(root / "inner" / "pipe.py")
    (root / "via_link.py").symlink_to(root / "inner" / "pipe.py")
    (root / "zero.py").symlink_to("/dev/zero")
    (root / "devices").symlink_to("/dev")
    with open(root / "sparse.py", "wb") as fh:
        fh.truncate(10 * 2**30)
    walk = subprocess.run(
        [sys.executable, "-c", WALK, str(root)], capture_output=True, text=True, timeout=60
    )
    assert walk.returncode == 0, walk.stderr
    found = json.loads(walk.stdout)
    assert found["files"] == ["good.py"]
    assert found["skipped"] == {
        "not a regular file": 3,
        "symlink leaving the tree": 1,
        "symlinked folder": 1,
        "over the size limit": 1,
    }
