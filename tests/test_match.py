import random

import numpy as np
import pytest

from trainer import folder, line_choice, suffix
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


def brute_ends(text: str, tail: str, length: int, end: int, skip=None) -> list[int]:
    """Where every occurrence of tail's last `length` characters in text ends, latest first,
    with a character after it before `end`, passing over those ending in skip."""
    needle = tail[-length:]
    return sorted(
        (
            j + length
            for j in range(len(text))
            if text.startswith(needle, j)
            and j + length < end
            and not (skip and skip[0] <= j + length < skip[1])
        ),
        reverse=True,
    )


def test_every_occurrence_is_found_in_order():
    rng = random.Random(3)
    for _ in range(200):
        text = random_text(rng, "abc", rng.randrange(1, 150))
        tail = random_text(rng, "abc", rng.randrange(1, 8))
        length = rng.randrange(1, len(tail) + 1)
        skip = (
            (rng.randrange(len(text)), rng.randrange(len(text) + 1)) if rng.random() < 0.3 else None
        )
        want = brute_ends(text, tail, length, len(text), skip)
        assert (
            suffix.ReversedCorpus.of_text(text).occurrences(tail, length, skip, cap=7) == want[:7]
        )
        end = rng.randrange(len(text) + 1)
        doc = suffix.occurrences_in(text, tail, length, end, cap=7)
        assert doc == brute_ends(text, tail, length, end)[:7]
        ahead = sorted(brute_ends(text, tail, length, len(text)))
        assert suffix.occurrences_ahead(text, tail, length, cap=7) == ahead[:7]


def test_a_context_met_thousands_of_times_is_sampled_evenly():
    text = "ab" * 5000
    ends = suffix.ReversedCorpus.of_text(text).occurrences("ab", 2, cap=10_000)
    assert len(ends) == suffix.SAMPLED and ends == sorted(ends, reverse=True)
    assert ends[0] >= len(text) - 10 and ends[-1] <= 10  # spread over the whole corpus


def test_the_lines_that_followed_each_occurrence_are_counted():
    corpus = "\n".join(["x = compute(alpha)"] * 3 + ["x = compute(beta)"]) + "\n"
    index = MatchIndex.of_files([("a.py", corpus)])
    context = "y = 2\nx = compute(gamma)\nx = compute("
    longest, found = line_choice.gather(index, context, None, 80)
    assert longest == len("a)\nx = compute(")  # "gamma)" and "alpha)" end alike
    by_text = {c.text: c for c in found}
    assert by_text["alpha)"].count == 2  # the first line has nothing before it
    assert by_text["beta)"].count == 1 and not by_text["beta)"].document
    gamma = by_text["gamma)"]  # followed a shorter match, in the document
    assert gamma.document and gamma.count == 0 and gamma.longest < longest


def test_lines_below_the_cursor_are_weighed_too_nearest_first():
    index = MatchIndex.of_files([("a.py", "x = compute(alpha)\n")])
    context = "y = 2\nx = compute("
    below = "z = 3\nx = compute(delta)\nx = compute(epsilon)\nx = compute(delta)\n"
    longest, found = line_choice.gather(index, context, None, 80, below)
    assert longest == len("\nx = compute(")  # below; the corpus has no newline before it
    assert [c.text for c in found] == ["alpha)", "delta)", "epsilon)"]
    alpha, delta, epsilon = found
    assert alpha.below == 0 and alpha.longest == longest - 1
    assert delta.longest_below == epsilon.longest_below == longest and delta.longest == 0
    assert delta.below == 2 * epsilon.below  # it followed twice as many occurrences
    features = line_choice.features(found, longest, np.zeros(3))
    assert features.shape == (3, len(line_choice.WEIGHTS.__dict__))


@pytest.fixture(scope="module")
def predictor(tiny_model):
    return Predictor(folder.load(tiny_model), MatchIndex(MODULE))


def test_a_line_is_scored_by_the_lstm_with_its_newline(predictor):
    context = "x = 1\n        with open(os.path.join(self.ro"
    logits, state = predictor.feed(context, *predictor.start())
    texts = ["ot, path)) as handle:", "ot)"]
    got = predictor.line_logprobs(texts, [True, True], logits, state)
    for text, logprob in zip(texts, got, strict=True):
        total, step_logits, step_state = 0.0, logits, state
        for ch in text + "\n":
            token = predictor.vocab.encode(ch)[0]
            z = step_logits[0] - step_logits[0].max()
            total += float(z[token] - np.log(np.exp(z).sum()))
            step_logits, step_state = predictor.stepper.step(np.array([token]), step_state)
        assert logprob == pytest.approx(total, abs=1e-3)


def test_the_lines_are_suggested_in_the_order_they_are_weighed(predictor):
    context = "x = 1\n        with open(os.path.join(self.ro"
    logits, state = predictor.feed(context, *predictor.start())
    longest, candidates = line_choice.gather(predictor.index, context, None, 40)
    logprobs = predictor.score_lines(candidates, logits, state)
    order = [candidates[i].text for i, _ in line_choice.ranking(candidates, longest, logprobs)]
    assert order[0] == "ot, path)) as handle:"
    for n in (1, len(order)):
        found = predictor.continuations(context, logits, state, n, Stop(max_chars=40))
        assert [s.text for s in found] == order[:n]
    # More than there are lines: the model's own continuations follow them.
    found = predictor.continuations(context, logits, state, len(order) + 2, Stop(max_chars=40))
    assert [s.text for s in found][: len(order)] == order and len(found) > len(order)
    assert len({s.text for s in found}) == len(found)


def test_a_chosen_line_that_opens_a_block_brings_the_block(predictor):
    context = "x = 1\n        with open(os.path.join(self.ro"
    logits, state = predictor.feed(context, *predictor.start())
    [found] = predictor.continuations(context, logits, state, 1, Stop(max_chars=200, block=True))
    line, _, block = found.text.partition("\n")
    assert line == "ot, path)) as handle:"
    assert block.startswith("            ") and block.strip()  # the body, one level deeper
