"""The Python files of a repository: walked, filtered, split by file, and listed in a manifest."""

from __future__ import annotations

import hashlib
import os
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

DEFAULT_MAX_BYTES = 1_000_000
# Folders that hold someone else's code or build output, never the repository's own.
SKIPPED_DIRS = {
    "venv",
    "env",
    "build",
    "dist",
    "site-packages",
    "dist-packages",
    "node_modules",
    "__pycache__",
}


class CorpusError(Exception):
    """A corpus that cannot be used at all: a missing path, or no Python file in it."""


@dataclass(frozen=True)
class SourceFile:
    key: str  # the path relative to the corpus root, with forward slashes: the manifest's key
    path: Path
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass
class Corpus:
    files: list[SourceFile]
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def chars(self) -> int:
        return sum(len(f.text) for f in self.files)

    def split(
        self, held_out: float = 0.05, seed: int = 0
    ) -> tuple[list[SourceFile], list[SourceFile]]:
        """Train and held-out files. A file's side depends only on its key and the seed, so
        adding or removing other files never moves it."""
        ranked = sorted(self.files, key=lambda f: _unit_hash(f"{seed}:{f.key}"))
        if len(ranked) < 2:
            return ranked, []
        chosen = {f.key for f in ranked if _unit_hash(f"{seed}:{f.key}") < held_out}
        if not chosen:
            chosen = {ranked[0].key}
        train = [f for f in self.files if f.key not in chosen]
        held = [f for f in self.files if f.key in chosen]
        return train, held

    def manifest(self) -> dict[str, str]:
        return {f.key: f.sha256 for f in self.files}

    def describe_skipped(self) -> str:
        if not self.skipped:
            return "nothing skipped"
        return "skipped " + ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))


def _unit_hash(text: str) -> float:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def collect(
    paths: Iterable[Path],
    max_bytes: int = DEFAULT_MAX_BYTES,
    exclude: Iterable[str] = (),
) -> Corpus:
    """Read the `.py` files under each path. Anything unusable is counted in `skipped`."""
    corpus = Corpus(files=[])
    excluded = pathspec.GitIgnoreSpec.from_lines(list(exclude))
    roots = [Path(p).absolute() for p in paths]
    for root in roots:
        if not root.exists():
            raise CorpusError(f"{root}: no such file or folder")
    multiple = len(roots) > 1
    for root in roots:
        prefix = f"{root.name}/" if multiple else ""
        base = root if root.is_dir() else root.parent
        for path in _walk(root, corpus.skipped):
            rel = path.relative_to(base).as_posix()
            if excluded.match_file(rel):
                corpus.skipped["excluded"] += 1
                continue
            text = read_source(path, max_bytes, corpus.skipped)
            if text is not None:
                corpus.files.append(SourceFile(prefix + rel, path, text))
    if not corpus.files:
        where = ", ".join(str(r) for r in roots)
        raise CorpusError(f"{where}: no usable Python files ({corpus.describe_skipped()})")
    return corpus


def read_source(path: Path, max_bytes: int, skipped: Counter[str]) -> str | None:
    """The file's text, or None (counted under a reason) when it is not usable source."""
    try:
        # Opened without blocking and checked through the descriptor: a FIFO (or a file swapped
        # for one after a check by name) must not hang the walk, and a device is never read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        skipped["unreadable"] += 1
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                skipped["not a regular file"] += 1
                return None
            if info.st_size > max_bytes:
                skipped["over the size limit"] += 1
                return None
            data = fh.read(max_bytes + 1)
    except OSError:
        skipped["unreadable"] += 1
        return None
    if len(data) > max_bytes:
        skipped["over the size limit"] += 1
        return None
    if b"\0" in data:
        skipped["binary"] += 1
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        skipped["not UTF-8"] += 1
        return None


def is_ignored_dir(path: Path) -> bool:
    name = path.name
    return (
        name.startswith(".")
        or name in SKIPPED_DIRS
        or name.endswith(".egg-info")
        or (path / "pyvenv.cfg").exists()
    )


def _walk(root: Path, skipped: Counter[str]) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    real_root = root.resolve()
    specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        specs = [(d, s) for d, s in specs if here == d or d in here.parents]
        ignore_file = here / ".gitignore"
        if ignore_file.is_file():
            try:
                lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
                specs.append((here, pathspec.GitIgnoreSpec.from_lines(lines)))
            except OSError:
                skipped["unreadable"] += 1

        def ignored(path: Path, is_dir: bool, specs: list = specs) -> bool:
            for base, spec in specs:
                rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
                if spec.match_file(rel):
                    return True
            return False

        kept = []
        for name in sorted(dirnames):
            sub = here / name
            if sub.is_symlink():
                skipped["symlinked folder"] += 1
            elif is_ignored_dir(sub) or ignored(sub, True):
                skipped["ignored folder"] += 1
            else:
                kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            path = here / name
            if ignored(path, False):
                skipped["ignored by .gitignore"] += 1
            elif path.is_symlink() and not _inside(path, real_root):
                skipped["symlink leaving the tree"] += 1
            else:
                yield path


def _inside(path: Path, real_root: Path) -> bool:
    try:
        target = path.resolve()
    except (OSError, RuntimeError):
        return False
    return target == real_root or real_root in target.parents


def join(files: list[SourceFile]) -> str:
    return "\0".join(f.text for f in files)  # NUL stands for [SEP]: no usable file contains one
