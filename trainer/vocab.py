"""The character vocabulary: fixed, so that a model trained on one corpus can be fine-tuned on
another."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

UNK = "[UNK]"
SEP = "[SEP]"  # stands between files in a training stream

# Printable ASCII and whitespace, then the non-ASCII characters most common in Python sources
# (docstrings, comments, string literals). Appending here is safe; reordering breaks old models.
_NON_ASCII = (
    "\u00a0éèàáâäçêëíîïñóôöøúüßåæœÀÁÉÖÜ"
    "\u2014\u2013\u2018\u2019\u201c\u201d\u2026\u2022\u00b7«»¿¡§°±×÷µ¶©®™€£¥"
    "αβγδεζηθλμπρστφχψωΔΣΩ"
    "→←↑↓⇒≤≥≠≈∞√∑∈∉∩∪⊂∀∃"
    "─│┌┐└┘├┤┬┴┼═║╔╗╚╝✓✗★"
)
CHARACTERS = "\t\n\r" + "".join(chr(i) for i in range(32, 127)) + _NON_ASCII


def build_tokenizer() -> Tokenizer:
    vocab = {UNK: 0, SEP: 1}
    for ch in CHARACTERS:
        vocab.setdefault(ch, len(vocab))
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    # One token per character, whitespace included: the model must see exact layout.
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tokenizer.decoder = decoders.Fuse()
    tokenizer.add_special_tokens([UNK, SEP])
    return tokenizer


class Vocab:
    """Encodes and decodes text through a `tokenizers` character vocabulary."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        table = tokenizer.get_vocab()
        self.size = tokenizer.get_vocab_size()
        self.unk_id = table[UNK]
        self.sep_id = table[SEP]
        # A plain dict taken from the tokenizer: per-keystroke encodes of a few characters would
        # otherwise pay the library's call overhead, and bulk encodes run 10x faster this way.
        self._ids = {tok: i for tok, i in table.items() if tok not in (UNK, SEP)}
        self._chars = [""] * self.size
        for tok, i in self._ids.items():
            self._chars[i] = tok
        self._table: np.ndarray | None = None

    @classmethod
    def default(cls) -> Vocab:
        return cls(build_tokenizer())

    @classmethod
    def load(cls, path: Path) -> Vocab:
        return cls(Tokenizer.from_file(str(path)))

    def save(self, path: Path) -> None:
        self.tokenizer.save(str(path))

    def encode(self, text: str) -> list[int]:
        ids, unk = self._ids, self.unk_id
        return [ids.get(ch, unk) for ch in text]

    def encode_codes(self, codes: np.ndarray) -> np.ndarray:
        """Bulk encoding of Unicode code points (0 stands for the file separator)."""
        if self._table is None:
            table = np.full(0x110000, self.unk_id, dtype=np.int16)
            for ch, i in self._ids.items():
                table[ord(ch)] = i
            table[0] = self.sep_id
            self._table = table
        return self._table[codes]

    def decode(self, ids: list[int]) -> str:
        return "".join(self._chars[i] for i in ids)

    def char(self, token_id: int) -> str:
        """The text of one id; the empty string for the unknown and separator ids."""
        return self._chars[token_id]
