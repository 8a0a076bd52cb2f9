"""Continuations from a model: greedy, sampled (temperature, top-k, top-p) or beam search, several
at once in one batched pass, over the LSTM's next-character distribution mixed with the match
model's prediction. All in numpy: the language server runs it without torch."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from . import line_choice, match
from .folder import SavedModel
from .stepper import State, Stepper

CONTEXT_TAIL = match.DOCUMENT_WINDOW  # how much text before the cursor the match model searches


class Cancelled(Exception):
    """The caller no longer wants this continuation (a newer request, or the client cancelled)."""


@dataclass(frozen=True)
class Stop:
    """When a continuation ends. It always ends at the end of a file and at `max_chars`."""

    max_chars: int = 80
    end_of_line: bool = True  # end before a newline...
    block: bool = False  # ...unless the line opens a block: then go on until a dedent
    max_lines: int = 6
    end_of_identifier: bool = False
    min_line_probability: float = 0.5  # a block's further lines must be this likely, per character


@dataclass(frozen=True)
class Suggestion:
    text: str
    # Natural log of its probability: among lines ranked by line_choice, the chance it gives
    # the line; where nothing matched, the model's own continuation's under the mixed model.
    logprob: float

    @property
    def probability(self) -> float:
        return math.exp(self.logprob)


@dataclass(frozen=True)
class Strategy:
    kind: str = "beam"  # greedy | sample | beam
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int | None = None
    width: int = 0  # beam width; 0: as many as the continuations asked for (at least 2)


@dataclass
class _Stream:
    """One continuation being generated, with where its match model points."""

    text: str = ""
    logprob: float = 0.0
    match_src: str = ""  # "doc", "corpus" or "" (look it up again)
    match_pos: int = 0
    match_len: int = 0
    done: bool = False
    line_start_logprob: float = 0.0
    lines: int = 0  # newlines taken, in a block continuation


class Predictor:
    """A loaded model ready for inference: the fast LSTM step, the match index, the mixer."""

    def __init__(self, saved: SavedModel, index: match.MatchIndex | None = None) -> None:
        self.checkpoint = saved
        self.vocab = saved.vocab
        self.stepper = Stepper(saved.config, saved.weights)
        self.index = index or match.MatchIndex("")
        self.mixer = saved.mixer
        self._sep = [self.vocab.sep_id]

    def start(self) -> tuple[np.ndarray, State]:
        """Logits and state at the start of a file."""
        return self.stepper.advance(self._sep, self.stepper.initial_state(1))

    def feed(self, text: str, logits: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        if not text:
            return logits, state
        return self.stepper.advance(self.vocab.encode(text), state)

    def _predict(
        self, stream: _Stream, context: str, skip: tuple[int, int] | None
    ) -> tuple[str, int]:
        """The match model's next character for a stream, following its pointer when it can."""
        ch = self.index.char(stream.match_src, stream.match_pos, context)
        if ch:
            return ch, stream.match_len
        ch, length, src, pos = self.index.locate(context + stream.text, len(context), skip)
        stream.match_src, stream.match_pos, stream.match_len = src, pos, length
        return ch, length

    def _advance_match(self, stream: _Stream, ch: str, predicted: str) -> None:
        if stream.match_src and ch == predicted:
            stream.match_pos += 1
            stream.match_len = min(stream.match_len + 1, match.MAX_LENGTH)
        else:
            stream.match_src = ""

    def mixed_logprobs(self, logits: np.ndarray, predicted: list[tuple[str, int]]) -> np.ndarray:
        """log of (1 - w) * softmax(logits) + w * [the match's character], row by row, with w
        from the mixer (see match.Mixer)."""
        probs = _softmax(logits)
        rows = [(row, ch, length) for row, (ch, length) in enumerate(predicted) if ch]
        if rows:
            tops = probs.max(-1).tolist()
            for row, ch, length in rows:
                token = self.vocab.encode(ch)[0]
                w = self.mixer.weight(match.bucket(length), float(probs[row, token]), tops[row])
                probs[row] *= 1 - w
                probs[row, token] += w
        return np.log(np.maximum(probs, 1e-12))

    def continuations(
        self,
        context: str,
        logits: np.ndarray,
        state: State,
        n: int = 1,
        stop: Stop | None = None,
        strategy: Strategy | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        document: str | None = None,
        below: str = "",
    ) -> list[Suggestion]:
        """Up to n distinct continuations of `context` (whose end the state has read), best
        first: the lines that followed earlier occurrences of the context, joined by
        the model's own (`generate`) when they are fewer than n, ranked as line_choice weighs
        them; a first line that opens a block is followed by the block, as the model goes on
        with it. `logits` [1, vocab] and `state` (batch 1) are not modified. `cancelled` is
        asked before every character; when it says yes, Cancelled is raised. `document` is the
        corpus key of the file being completed, if the index holds a saved copy of it; `below`,
        its text after the cursor's line, if there is any."""
        if cancelled():
            raise Cancelled
        stop = stop or Stop()
        context = context[-CONTEXT_TAIL:]
        longest, candidates = 0, []
        if stop.end_of_line and not stop.end_of_identifier:
            skip = self.index.spans.get(document) if document else None
            longest, candidates = line_choice.gather(
                self.index, context, skip, stop.max_chars, below
            )
        generated: dict[str, Suggestion] = {}  # by first line
        if len(candidates) < n:
            for s in self.generate(context, logits, state, n, stop, strategy, cancelled, document):
                generated.setdefault(s.text.split("\n", 1)[0], s)
            if not candidates:
                return list(generated.values())
            known = {c.text for c in candidates}
            candidates += [line_choice.Candidate(t) for t in generated if t not in known]
        logprobs = self.score_lines(candidates, logits, state, cancelled)
        found = [
            replace(
                generated.get(candidates[i].text, Suggestion(candidates[i].text, 0.0)), logprob=p
            )
            for i, p in line_choice.ranking(candidates, longest, logprobs)[:n]
        ]
        if found and stop.block and "\n" not in found[0].text:
            found[0] = self._with_block(context, logits, state, found[0], stop, cancelled)
        return found

    def _with_block(
        self,
        context: str,
        logits: np.ndarray,
        state: State,
        line: Suggestion,
        stop: Stop,
        cancelled: Callable[[], bool],
    ) -> Suggestion:
        """The line, and the block it opens as far as the model is confident of it."""
        opener = context.rsplit("\n", 1)[-1] + line.text
        room = stop.max_chars - len(line.text)
        if not opener.rstrip().endswith(":") or room <= 1:
            return line
        logits, state = self.feed(line.text, logits, state)
        after = replace(stop, max_chars=room)
        for block in self.generate(
            context + line.text, logits, state, 1, after, Strategy("greedy"), cancelled
        ):
            if block.text.startswith("\n") and block.text.strip():
                return Suggestion(line.text + block.text, line.logprob + block.logprob)
        return line

    def generate(
        self,
        context: str,
        logits: np.ndarray,
        state: State,
        n: int = 1,
        stop: Stop | None = None,
        strategy: Strategy | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        document: str | None = None,
    ) -> list[Suggestion]:
        """Up to n distinct continuations generated by the mixed model, most likely first
        (arguments as for `continuations`)."""
        stop = stop or Stop()
        strategy = strategy or Strategy(kind="greedy" if n == 1 else "beam")
        context = context[-CONTEXT_TAIL:]
        skip = self.index.spans.get(document) if document else None
        if strategy.kind == "beam":
            streams = self._beam(context, logits, state, n, stop, strategy, cancelled, skip)
        else:
            streams = self._sample(context, logits, state, n, stop, strategy, cancelled, skip)
        return _ranked(streams, n)

    def score_lines(
        self,
        candidates: list[line_choice.Candidate],
        logits: np.ndarray,
        state: State,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> np.ndarray:
        """The LSTM's log probability of each candidate's first line_choice.SCORED characters,
        and of its end if within them (nothing to weigh for one alone: zero)."""
        if len(candidates) < 2:
            return np.zeros(len(candidates))
        texts, ends = zip(*(line_choice.scored_part(c.text) for c in candidates), strict=True)
        return self.line_logprobs(list(texts), list(ends), logits, state, cancelled)

    def line_logprobs(
        self,
        texts: list[str],
        ends: list[bool],
        logits: np.ndarray,
        state: State,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> np.ndarray:
        """The LSTM's log probability of each text, followed by a newline where `ends` says so.
        The texts are read as a tree of their prefixes, a level at a time: lines that followed
        one context mostly share their start, read once."""
        end = self.vocab.encode("\n")
        seqs = [self.vocab.encode(t) + (end if e else []) for t, e in zip(texts, ends, strict=True)]
        total = np.zeros(len(seqs))
        node = [0] * len(seqs)  # each text's row: the prefix of it read so far
        rows = logits.reshape(1, -1)
        for t in range(max((len(q) for q in seqs), default=0)):
            if cancelled():
                raise Cancelled
            logp = np.log(np.maximum(_softmax(rows), 1e-12))
            children: dict[tuple[int, int], int] = {}
            for i, q in enumerate(seqs):
                if t < len(q):
                    total[i] += logp[node[i], q[t]]
                    if t + 1 < len(q):
                        node[i] = children.setdefault((node[i], q[t]), len(children))
            if not children:
                break
            parents = [parent for parent, _ in children]
            state = (state[0][:, parents], state[1][:, parents])
            rows, state = self.stepper.step(np.array([token for _, token in children]), state)
        return total

    def _sample(
        self,
        context: str,
        logits: np.ndarray,
        state: State,
        n: int,
        stop: Stop,
        strategy: Strategy,
        cancelled: Callable[[], bool],
        skip: tuple[int, int] | None,
    ) -> list[_Stream]:
        greedy = strategy.kind == "greedy" or strategy.temperature <= 0
        batch = 1 if greedy else n
        rng = np.random.default_rng(strategy.seed)  # no seed: fresh entropy
        streams = [_Stream() for _ in range(batch)]
        logits = np.repeat(logits, batch, axis=0)
        state = (np.repeat(state[0], batch, axis=1), np.repeat(state[1], batch, axis=1))
        for _ in range(stop.max_chars):
            if cancelled():
                raise Cancelled
            predicted = [self._predict(s, context, skip) for s in streams]
            logp = self.mixed_logprobs(logits, predicted)
            choice = logp.argmax(-1) if greedy else _draw(logp, strategy, rng)
            ids = []
            for row, s in enumerate(streams):
                token = int(choice[row])
                if not s.done:
                    self._append(
                        s, token, float(logp[row, token]), predicted[row][0], context, stop
                    )
                ids.append(token)
            if all(s.done for s in streams):
                break
            logits, state = self.stepper.step(np.array(ids), state)
        return streams

    def _beam(
        self,
        context: str,
        logits: np.ndarray,
        state: State,
        n: int,
        stop: Stop,
        strategy: Strategy,
        cancelled: Callable[[], bool],
        skip: tuple[int, int] | None,
    ) -> list[_Stream]:
        width = max(n, 2, strategy.width)
        beams = [_Stream()]
        finished: list[_Stream] = []
        for _ in range(stop.max_chars):
            if cancelled():
                raise Cancelled
            predicted = [self._predict(b, context, skip) for b in beams]
            logp = self.mixed_logprobs(logits, predicted)
            scores = (logp + np.array([[b.logprob] for b in beams], np.float32)).ravel()
            vocab = logp.shape[1]
            survivors: list[tuple[int, _Stream, int]] = []
            for flat in _top(scores, width * 2):
                parent, token = divmod(flat, vocab)
                child = _copy(beams[parent])
                self._append(
                    child, token, float(logp[parent, token]), predicted[parent][0], context, stop
                )
                if child.done:
                    finished.append(child)
                else:
                    survivors.append((parent, child, token))
                if len(survivors) >= width:
                    break
            # Stop once no live beam can beat the n-th best finished one.
            finished.sort(key=lambda s: s.logprob, reverse=True)
            if not survivors or (
                len(finished) >= n and survivors[0][1].logprob < finished[n - 1].logprob
            ):
                break
            rows = [p for p, _, _ in survivors]
            state = (state[0][:, rows], state[1][:, rows])
            beams = [c for _, c, _ in survivors]
            logits, state = self.stepper.step(np.array([t for _, _, t in survivors]), state)
        return finished

    def _append(
        self, s: _Stream, token: int, logprob: float, predicted: str, context: str, stop: Stop
    ) -> None:
        """Extend a stream by one token, or end it there. The probability of the token that ends
        a stream counts too: without it, "x" ending a line would outrank "x(y)" ending it."""
        ch = self.vocab.char(token)
        s.logprob += logprob
        if token == self.vocab.sep_id or (stop.end_of_identifier and not _is_identifier(ch)):
            s.done = True
            return
        if ch == "\n" and stop.end_of_line:
            opens_block = s.lines == 0 and _opener(context, s).rstrip().endswith(":")
            go_on = (
                stop.block
                and s.lines < stop.max_lines
                and (opens_block or (s.lines and _confident_line(s, stop)))
            )
            if not go_on:
                s.done = True
                return
            s.lines += 1
            s.line_start_logprob = s.logprob
        if ch in " \t" and _trailing_blank(context, s):
            s.done = True  # a run of blanks after code: alignment at best, a loop at worst
            return
        if s.lines and ch not in " \t\n" and _opens_dedent(context, s):
            _cut_last_line(s)
            s.done = True
            return
        self._advance_match(s, ch, predicted)
        s.text += ch
        if len(s.text) >= stop.max_chars:
            s.done = True


def _trailing_blank(context: str, s: _Stream) -> bool:
    """Would one more blank make four in a row after the line's code?"""
    line = s.text.rsplit("\n", 1)[-1] if "\n" in s.text else context.rsplit("\n", 1)[-1] + s.text
    return line.endswith("   ") and bool(line.strip())


def _opener(context: str, s: _Stream) -> str:
    """The line the cursor is on, completed by the continuation's first line."""
    return context.rsplit("\n", 1)[-1] + s.text.split("\n", 1)[0]


def _confident_line(s: _Stream, stop: Stop) -> bool:
    """A further line of a block is kept only if the model was confident in it."""
    last = s.text.rsplit("\n", 1)[-1]
    if not last.strip():
        return False
    mean = (s.logprob - s.line_start_logprob) / max(1, len(last))
    return math.exp(mean) >= stop.min_line_probability


def _opens_dedent(context: str, s: _Stream) -> bool:
    """Is a block continuation's new line indented no deeper than the line that opened the block?
    (Asked at the line's first visible character.) Then the block has ended."""
    opener = _opener(context, s)
    current = s.text.rsplit("\n", 1)[-1]
    return not current.strip() and len(current) <= len(opener) - len(opener.lstrip())


def _cut_last_line(s: _Stream) -> None:
    s.text = s.text[: s.text.rfind("\n")]


def _is_identifier(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _copy(s: _Stream) -> _Stream:
    return _Stream(
        s.text,
        s.logprob,
        s.match_src,
        s.match_pos,
        s.match_len,
        s.done,
        s.line_start_logprob,
        s.lines,
    )


def _draw(logp: np.ndarray, strategy: Strategy, rng: np.random.Generator) -> np.ndarray:
    """One token per row, drawn with the strategy's temperature, top-k and top-p."""
    logits = logp / max(strategy.temperature, 1e-6)
    if strategy.top_k:
        k = min(strategy.top_k, logits.shape[-1])
        kth = -np.partition(-logits, k - 1, axis=-1)[:, k - 1 : k]
        logits = np.where(logits < kth, -np.inf, logits)
    if strategy.top_p < 1.0:
        order = np.argsort(-logits, axis=-1, kind="stable")
        sorted_logits = np.take_along_axis(logits, order, -1)
        probs = _softmax(sorted_logits)
        drop = probs.cumsum(-1) - probs > strategy.top_p  # the likeliest token always stays
        np.put_along_axis(logits, order, np.where(drop, -np.inf, sorted_logits), -1)
    cumulative = _softmax(logits).cumsum(-1)
    draws = rng.random((len(logits), 1)) * cumulative[:, -1:]
    return np.minimum((cumulative < draws).sum(-1), logits.shape[-1] - 1)


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(-1, keepdims=True), dtype=np.float32)
    return e / e.sum(-1, keepdims=True)


def _top(scores: np.ndarray, k: int) -> list[int]:
    """Indices of the k highest scores, highest first."""
    k = min(k, len(scores))
    best = np.argpartition(-scores, k - 1)[:k]
    return best[np.argsort(-scores[best], kind="stable")].tolist()


def _ranked(streams: list[_Stream], n: int) -> list[Suggestion]:
    best: dict[str, float] = {}
    for s in streams:
        if s.text not in best or s.logprob > best[s.text]:
            best[s.text] = s.logprob
    ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
    return [Suggestion(text, lp) for text, lp in ranked[:n]]
