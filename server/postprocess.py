"""What a raw continuation must become before an editor shows it."""

from __future__ import annotations

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {v: k for k, v in OPENERS.items()}
QUOTES = "'\""
LOOK_BACK = 2000  # characters before the cursor whose brackets a suggestion may close


def _opened(before: str) -> tuple[list[str], str]:
    """The brackets open at the end of `before`, and the quote of a string the cursor is in
    (one quote character, or three for a triple-quoted string)."""
    stack: list[str] = []
    quote = ""
    for line in before.split("\n"):
        if len(quote) == 1:
            quote = ""  # a plain string does not cross a line; brackets and triple quotes do
        i = 0
        while i < len(line):
            if line[i] == "#" and not quote:
                break
            quote, _, i = _step(stack, quote, line, i)
    return stack, quote


def _scan(opened: list[str], quote: str, text: str, start: int) -> int:
    """How much of text[start:] keeps brackets and quotes balanced, where text[:start] is the
    cursor's line before it and `opened`, `quote` what is open where that line starts (read
    together, three quotes are one token however the cursor splits them). It is cut at a closer
    with nothing to close and at a string left open at a line's end. A bracket may stay open
    where a line ends with it or with a comma, as Python's lines continue inside brackets, and
    a triple-quoted string that opens a line (a docstring) or ends it; elsewhere the text is
    cut back to where it balanced."""
    stack = list(opened)
    base_depth = -1  # brackets open at the cursor, once it is reached
    inside = False  # the cursor is in a string: text up to its closing quote is fine
    docstring = False  # a triple-quoted string went on past a line's end: it may stay open
    last_ok = i = 0
    while True:
        if base_depth < 0 and i >= start:
            base_depth, last_ok = len(stack), i
            inside = bool(quote) and i == start  # else a token began before the cursor
        if i >= len(text):
            break
        if text[i] == "\n" and base_depth >= 0:
            if len(quote) == 1 or (quote and not inside and not _opens_triple(text[:i], quote)):
                return last_ok - start
            docstring = docstring or (bool(quote) and not inside)
            if len(stack) > base_depth and not _continues(text[:i]):
                return last_ok - start
        was = quote
        quote, ok, after = _step(stack, quote, text, i)
        if base_depth < 0:
            i = after
            continue
        if not ok:
            return (last_ok if len(stack) > base_depth else i) - start
        inside = inside and quote == was
        if inside or (len(stack) <= base_depth and not quote):
            last_ok = after
        i = after
    if len(stack) > base_depth and not quote and _continues(text):
        return len(text) - start
    if len(quote) == 3 and not inside and (docstring or _opens_triple(text, quote)):
        return len(text) - start
    return last_ok - start


def _opens_triple(text: str, quote: str) -> bool:
    """Is the triple-quoted string open at the end of the text one its last line opens where a
    multi-line string may: at the line's start (a docstring) or at its end?"""
    line = text.rsplit("\n", 1)[-1].strip()
    return line.startswith(quote) or line.endswith(quote)


def _continues(line: str) -> bool:
    """A line that ends where Python code goes on inside brackets."""
    end = line.rstrip()
    return end.endswith((",", *OPENERS))


def _step(stack: list[str], quote: str, text: str, i: int) -> tuple[str, bool, int]:
    """Read the token at text[i]: the quote state after it, whether its brackets balance, and
    where the next token starts."""
    ch = text[i]
    triple = text[i : i + 3] == ch * 3
    if quote:
        if len(quote) == 3:
            return ("", True, i + 3) if text.startswith(quote, i) else (quote, True, i + 1)
        return ("" if ch == quote else quote), True, i + 1
    if ch in QUOTES:
        return (ch * 3, True, i + 3) if triple else (ch, True, i + 1)
    if ch in OPENERS:
        stack.append(ch)
    elif ch in CLOSERS:
        if not stack or stack[-1] != CLOSERS[ch]:
            return quote, False, i + 1
        stack.pop()
    return quote, True, i + 1


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
        head = before[-LOOK_BACK:]
        self.line = head.rsplit("\n", 1)[-1]
        self.opened, self.quote = _opened(head[: len(head) - len(self.line)])

    def __call__(self, text: str) -> str | None:
        """The suggestion as shown, or None when nothing worth showing is left."""
        text = trim_overlap(text, self.after)
        if self.after.strip():  # a bracket may close something closed after the cursor already
            text = text.split("\n", 1)[0]
        text = text[: _scan(self.opened, self.quote, self.line + text, len(self.line))].rstrip()
        if len(text.strip()) <= 1:
            return None
        return text


def clean(text: str, before: str, after: str) -> str | None:
    """One suggestion, post-processed (see Cleaner)."""
    return Cleaner(before, after)(text)
