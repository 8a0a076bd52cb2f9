"""The match index on disk: a folder of flat arrays, read back memory-mapped, so that a process
holds only the pages its lookups touch. Building the suffix array takes ~20 bytes a character at
its peak (see suffix.build), searching it 5: the language server has it built by a process of
its own (`lstm-complete index`) and maps what that wrote.

The folder is written atomically and names a digest of the files it indexes, so an index that
is still current is not built again (a server restart, a model swapped in with no file changed).
Every array's CRC is checked before it is mapped: a damaged folder is an IndexFileError, never
wrong matches.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import mmap
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from . import folder
from .corpus import collect
from .match import MatchIndex
from .suffix import ReversedCorpus

FORMAT = 1
META = "index.json"
# The codes stay a raw file: a mapping of it slices to bytes, which the search compares as is.
REVERSED = "reversed.u8"
ARRAYS = {"suffixes": np.int32, "other_at": np.int64, "other_chars": np.uint32}


class IndexFileError(Exception):
    """An index folder that cannot be used; the message names the file at fault."""


def digest(files: list[tuple[str, str]]) -> str:
    """What an index was built from: every file's key and text, in order."""
    h = hashlib.sha256()
    for key, text in files:
        h.update(f"{len(key)}:{key}{len(text)}:".encode())
        h.update(text.encode("utf-8", errors="surrogatepass"))
    return h.hexdigest()


def write(index: MatchIndex, dest: Path, source: str) -> None:
    """Write `index` (built from files whose digest is `source`) to the folder `dest`."""
    corpus = index.corpus
    chars = np.frombuffer(
        corpus.other_chars.encode("utf-32-le", errors="surrogatepass"), dtype="<u4"
    )
    arrays = {"suffixes": corpus.suffixes, "other_at": corpus.other_at, "other_chars": chars}

    def fill(tmp: Path) -> None:
        (tmp / REVERSED).write_bytes(bytes(corpus.reversed))
        crcs = {REVERSED: _crc(tmp / REVERSED)}
        for name, dtype in ARRAYS.items():
            np.save(tmp / f"{name}.npy", np.asarray(arrays[name], dtype=dtype), allow_pickle=False)
            crcs[f"{name}.npy"] = _crc(tmp / f"{name}.npy")
        meta = {
            "format": FORMAT,
            "source": source,
            "size": corpus.size,
            "spans": index.spans,
            "crc32": crcs,
        }
        (tmp / META).write_text(json.dumps(meta))

    try:
        folder.write_atomically(dest, fill)
    except folder.CheckpointError as err:  # its message speaks of a model
        raise IndexFileError(f"{dest}: cannot be written ({err.__cause__})") from err
    except OSError as err:  # making the folders it goes in
        raise IndexFileError(f"{dest}: cannot be written ({err.strerror or err})") from err


def source_of(dest: Path) -> str | None:
    """The digest of the files the index in `dest` was built from; None if there is none."""
    try:
        return _meta(dest)["source"]
    except IndexFileError:
        return None


def read(dest: Path) -> MatchIndex:
    """The index in `dest`, its arrays memory-mapped read-only."""
    meta = _meta(dest)
    for name, crc in meta["crc32"].items():
        if _crc(dest / name) != crc:
            raise IndexFileError(f"{dest / name}: damaged (its checksum does not match)")
    size = meta["size"]
    try:
        with open(dest / REVERSED, "rb") as fh:
            codes: bytes | mmap.mmap = (
                mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
            )
        arrays = {
            name: np.load(dest / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in ARRAYS
        }
    except (OSError, ValueError) as err:
        raise IndexFileError(f"{dest}: cannot be read ({err})") from None
    for name, dtype in ARRAYS.items():
        if arrays[name].dtype != dtype or arrays[name].ndim != 1:
            raise IndexFileError(f"{dest / name}.npy: not a {np.dtype(dtype).name} vector")
    if len(codes) != size or len(arrays["suffixes"]) != size:
        raise IndexFileError(f"{dest}: the arrays do not match {META} ({size} characters)")
    if len(arrays["other_at"]) != len(arrays["other_chars"]):
        raise IndexFileError(f"{dest}: other_at.npy and other_chars.npy differ in length")
    try:
        other_chars = (
            np.asarray(arrays["other_chars"]).tobytes().decode("utf-32-le", "surrogatepass")
        )
    except UnicodeDecodeError:
        raise IndexFileError(f"{dest / 'other_chars.npy'}: not characters") from None
    # Plain views of the mappings: a memmap's own indexing is slower, and lookups index a lot.
    corpus = ReversedCorpus(
        codes, np.asarray(arrays["suffixes"]), np.asarray(arrays["other_at"]), other_chars
    )
    return MatchIndex(spans=meta["spans"], corpus=corpus)


def build(root: Path, exclude: list[str], dest: Path, rebuild: bool = False) -> int:
    """Index the Python files under `root` into `dest`, unless the index there was built from
    the same files (or `rebuild`); the number of characters indexed."""
    files = [(f.key, f.text) for f in collect([root], exclude=exclude).files]
    source = digest(files)
    with _exclusive(dest):
        if rebuild or source_of(dest) != source:
            write(MatchIndex.of_files(files), dest, source)
    return sum(len(text) + 1 for _, text in files) - 1 if files else 0


@contextlib.contextmanager
def _exclusive(dest: Path) -> Iterator[None]:
    """One builder of `dest` at a time: two servers opening a workspace at once would both build
    it, and the second's swap could fall between the first's two renames and fail; after the
    wait, the second finds the index current instead."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        lock = open(dest.parent / f".{dest.name}.lock", "w")  # noqa: SIM115 (closed below)
    except OSError as err:
        raise IndexFileError(f"{dest}: cannot be written ({err.strerror or err})") from err
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _meta(dest: Path) -> dict[str, Any]:
    try:
        meta = json.loads((dest / META).read_text())
    except FileNotFoundError:
        raise IndexFileError(f"{dest / META}: missing") from None
    except (OSError, ValueError) as err:
        raise IndexFileError(f"{dest / META}: not valid JSON ({err})") from None
    ok = (
        isinstance(meta, dict)
        and meta.get("format") == FORMAT
        and isinstance(meta.get("source"), str)
        and isinstance(meta.get("size"), int)
        and isinstance(meta.get("spans"), dict)
        and isinstance(meta.get("crc32"), dict)
        and set(meta["crc32"]) == {REVERSED, *(f"{name}.npy" for name in ARRAYS)}
    )
    if not ok:
        raise IndexFileError(f"{dest / META}: not an lstm-complete index (format {FORMAT})")
    spans = meta["spans"]
    if not all(
        isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v)
        for v in spans.values()
    ):
        raise IndexFileError(f"{dest / META}: bad file spans")
    meta["spans"] = {k: (v[0], v[1]) for k, v in spans.items()}
    return meta


def _crc(file: Path) -> int:
    """CRC-32 of a file, read in blocks: through the page cache, not into this process's mapping."""
    crc = 0
    try:
        with open(file, "rb") as fh:
            while block := fh.read(1 << 20):
                crc = zlib.crc32(block, crc)
    except OSError as err:
        raise IndexFileError(f"{file}: cannot be read ({err.strerror or err})") from None
    return crc
