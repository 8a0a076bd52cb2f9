"""What a raw continuation must become before an editor shows it."""

from __future__ import annotations

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {v: k for k, v in OPENERS.items()}
QUOTES = "'\""
LOOK_BACK = 2000  # characters before the cursor whose brackets a suggestion may close


def _opened(before: str) -> tuple[list[str], str]:
    """The brackets open at the end of `before`, and the quote of a string the cursor is in."""
    stack: list[str] = []
    quote = ""
    for line in before.split("\n"):
        quote = ""  # a plain string does not cross a line; brackets do
        for ch in line:
            if ch == "#" and not quote:
                break
            quote, _ = _step(stack, quote, ch)
    return stack, quote


def _scan(opened: list[str], quote: str, text: str) -> int:
    """How much of `text` keeps brackets and quotes balanced after what is open at the cursor.
    It is cut at a closer with nothing to close and at a string left open at a line's end. A
    bracket may stay open where a line ends with it or with a comma, as Python's lines continue
    inside brackets; elsewhere the text is cut back to where it balanced."""
    stack = list(opened)
    base_depth = len(stack)
    inside = bool(quote)  # the cursor is in a string: text up to its closing quote is fine
    last_ok = 0
    for i, ch in enumerate(text):
        if ch == "\n":
            if quote:
                return last_ok
            if len(stack) > base_depth and not _continues(text[:i]):
                return last_ok
        was = quote
        quote, ok = _step(stack, quote, ch)
        if not ok:
            return last_ok if len(stack) > base_depth else i
        inside = inside and quote == was
        if inside or (len(stack) <= base_depth and not quote):
            last_ok = i + 1
    if len(stack) > base_depth and not quote and _continues(text):
        return len(text)
    return last_ok


def _continues(line: str) -> bool:
    """A line that ends where Python code goes on inside brackets."""
    end = line.rstrip()
    return end.endswith((",", *OPENERS))


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


class Cleaner:
    """Post-processing for the suggestions at one cursor: what is open there is read once, not
    once per suggestion. `before` is the text before the cursor (its last lines are enough),
    `after` the rest of the cursor's line."""

    def __init__(self, before: str, after: str) -> None:
        self.after = after
        self.opened, self.quote = _opened(before[-LOOK_BACK:])

    def __call__(self, text: str) -> str | None:
        """The suggestion as shown, or None when nothing worth showing is left."""
        text = trim_overlap(text, self.after)
        if self.after.strip():  # a bracket may close something closed after the cursor already
            text = text.split("\n", 1)[0]
        text = text[: _scan(self.opened, self.quote, text)].rstrip()
        if len(text.strip()) <= 1:
            return None
        return text


def clean(text: str, before: str, after: str) -> str | None:
    """One suggestion, post-processed (see Cleaner)."""
    return Cleaner(before, after)(text)
