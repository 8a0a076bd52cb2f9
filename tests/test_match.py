import random

import numpy as np
import pytest

from trainer import folder, match, suffix
from trainer.match import MatchIndex
from trainer.sampling import Predictor, Stop

from .conftest import MODULE


def brute_longest(text: str, tail: str, end: int, skip=None) -> tuple[int, int]:
    """The longest suffix of tail occurring in text[:end] with a character after it inside
    text[:end], its latest such occurrence's end; occurrences ending in skip do not count."""
    best = (0, 0)
    for length in range(1, min(len(tail), suffix.MAX_LENGTH) + 1):
        ends = [
            j + length
            for j in range(len(text))
            if text.startswith(tail[-length:], j)
            and j + length < end
            and not (skip and skip[0] <= j + length < skip[1])
        ]
        if not ends:
            break
        best = (length, max(ends))
    return best


def random_text(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


@pytest.mark.parametrize("alphabet", ["ab", "abc", "a\nb é\0中"])
def test_corpus_search_is_the_exact_longest_match(alphabet):
    rng = random.Random(alphabet)
    for _ in range(60):
        text = random_text(rng, alphabet, rng.randrange(0, 200))
        corpus = suffix.ReversedCorpus.of_text(text)
        for _ in range(10):
            tail = random_text(rng, alphabet, rng.randrange(1, 30))
            skip = None
            if text and rng.random() < 0.3:
                a = rng.randrange(len(text))
                skip = (a, a + rng.randrange(1, 20))
            want = brute_longest(text, tail, len(text), skip)
            assert corpus.longest(tail, skip, candidates=len(text) + 1) == want


def test_document_search_is_the_exact_longest_match():
    rng = random.Random(1)
    for _ in range(300):
        text = random_text(rng, "abc", rng.randrange(1, 120))
        end = rng.randrange(0, len(text) + 1)
        start = rng.randrange(0, end + 1)
        tail = text[-rng.randrange(1, 30) :]
        length, at = suffix.longest_in(text, tail, end, start)
        want = brute_longest(text[start:end], tail, end - start)
        assert (length, at - start if length else 0) == want


def test_suffixes_are_sorted_by_their_first_characters():
    rng = random.Random(2)
    codes = np.frombuffer(random_text(rng, "ab", 3000).encode(), dtype=np.uint8)
    order = suffix.build(codes)
    data = codes.tobytes()
    keys = [data[i : i + suffix.MAX_LENGTH] for i in order]
    assert keys == sorted(keys) and sorted(order.tolist()) == list(range(len(codes)))


def test_the_corpus_reads_back_every_character():
    text = "x = 'é→中'\n\0  λ: None 😀 \U0001f600!"
    corpus = suffix.ReversedCorpus.of_text(text)
    assert corpus.read(0, len(text)) == text
    assert "".join(corpus.char(i) for i in range(len(text))) == text
    assert corpus.read(3, 9) == text[3:9]


def test_locate_prefers_the_longer_match_and_the_document_on_a_tie():
    index = MatchIndex.of_files([("a.py", "value = compute(alpha, beta)\n")])
    ch, length, src, pos = index.locate("x\nvalue = compute(al")
    assert (ch, src, length) == ("p", "corpus", len("\nvalue = compute(al") - 1)
    context = "value = compute(gamma)\nvalue = compute("
    ch, length, src, _ = index.locate(context)
    assert (ch, src) == ("g", "doc") and length == len("value = compute(")  # a tie
    ch, length, src, _ = index.locate("value = compute(al", skip=(0, 40))
    assert (ch, length, src) == ("", 0, "")  # the only occurrence is the skipped one
    assert index.line_from("corpus", pos, "", 80) == ("pha, beta)", "\n")


@pytest.fixture(scope="module")
def predictor(tiny_model):
    return Predictor(folder.load(tiny_model), MatchIndex(MODULE))


def test_the_copy_candidate_is_the_rest_of_the_matched_line_scored_by_the_mixed_model(
    predictor,
):
    context = "x = 1\n        with open(os.path.join(self.ro"
    logits, state = predictor.feed(context, *predictor.start())
    copied = predictor._copied(context, logits, state, Stop(), None)
    assert copied is not None and copied.text == "ot, path)) as handle:"
    # The same probability, one character at a time through the mixed model.
    total, step_logits, step_state = 0.0, logits, state
    _, length, _, _ = predictor.index.locate(context)
    for i, ch in enumerate(copied.text + "\n"):
        token = predictor.vocab.encode(ch)[0]
        logp = predictor.mixed_logprobs(step_logits, [(ch, min(length + i, match.MAX_LENGTH))])
        total += float(logp[0, token])
        step_logits, step_state = predictor.stepper.step(np.array([token]), step_state)
    assert copied.logprob == pytest.approx(total, abs=1e-3)


def test_the_copy_candidate_comes_first_when_a_long_match_exists(predictor):
    context = "x = 1\n        with open(os.path.join(self.ro"
    logits, state = predictor.feed(context, *predictor.start())
    for n in (1, 3):
        found = predictor.continuations(context, logits, state, n, Stop(max_chars=40))
        assert found[0].text == "ot, path)) as handle:" and len(found) == n
        assert len({s.text for s in found}) == n
