"""What a raw continuation must become before an editor shows it."""

from __future__ import annotations

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {v: k for k, v in OPENERS.items()}
QUOTES = "'\""


def _scan(prefix: str, text: str) -> int:
    """How much of `text` keeps brackets and quotes balanced after the line's `prefix`: it is cut
    at a closer with no opener, and back to the last balanced point if it leaves one open."""
    stack: list[str] = []
    quote = ""
    for ch in prefix:
        quote, _ = _step(stack, quote, ch)
    base_depth, base_quote = len(stack), quote
    last_ok = 0
    for i, ch in enumerate(text):
        if ch == "\n":
            quote = ""  # a plain string literal does not cross a line
        quote, ok = _step(stack, quote, ch)
        if not ok:
            return last_ok if len(stack) > base_depth else i
        if len(stack) <= base_depth and quote == base_quote:
            last_ok = i + 1
    return last_ok


def _step(stack: list[str], quote: str, ch: str) -> tuple[str, bool]:
    if quote:
        return ("" if ch == quote else quote), True
    if ch in QUOTES:
        return ch, True
    if ch in OPENERS:
        stack.append(ch)
    elif ch in CLOSERS:
        if not stack or stack[-1] != CLOSERS[ch]:
            return quote, False
        stack.pop()
    return quote, True


def trim_overlap(text: str, after: str) -> str:
    """Drop the end of the suggestion's first line that repeats what already follows the cursor
    (the bracket or quote an editor inserted)."""
    after = after.rstrip()
    first, sep, _ = text.partition("\n")
    for size in range(min(len(first), len(after)), 0, -1):
        if first.endswith(after[:size]):
            return first[:-size] if not sep else text
    return text


def clean(text: str, line_prefix: str, after: str) -> str | None:
    """The suggestion as shown, or None when nothing worth showing is left."""
    text = trim_overlap(text, after)
    if after.strip():  # a bracket may close something that is closed after the cursor already
        text = text.split("\n", 1)[0]
    text = text[: _scan(line_prefix, text)].rstrip()
    if len(text.strip()) <= 1:
        return None
    return text


def dedupe(texts: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for t in texts:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out
