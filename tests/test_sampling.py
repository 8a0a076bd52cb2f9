import numpy as np
import pytest

from trainer import folder
from trainer.match import MatchIndex
from trainer.sampling import Cancelled, Predictor, Stop, Strategy

from .conftest import MODULE


@pytest.fixture(scope="module")
def predictor(tiny_model):
    return Predictor(folder.load(tiny_model), MatchIndex(MODULE))


def at(predictor, text):
    logits, state = predictor.start()
    return predictor.feed(text, logits, state)


def test_greedy_is_deterministic_and_stops_at_the_line_end(predictor):
    context = "class KiloStore:\n    def __init__(self, root):\n        self.ro"
    logits, state = at(predictor, context)
    first = predictor.continuations(context, logits, state, 1, Stop(), Strategy("greedy"))
    again = predictor.continuations(context, logits, state, 1, Stop(), Strategy("greedy"))
    assert first == again and first[0].text == "ot = root"


def test_beam_gives_distinct_continuations_most_likely_first(predictor):
    context = "        self.items.app"
    logits, state = at(predictor, context)
    found = predictor.generate(context, logits, state, 4, Stop(max_chars=30))
    assert len({s.text for s in found}) == len(found) >= 2
    assert [s.logprob for s in found] == sorted((s.logprob for s in found), reverse=True)
    assert all("\n" not in s.text for s in found)


def test_sampling_is_seeded_and_respects_identifier_stops(predictor):
    context = "    def add_"
    logits, state = at(predictor, context)
    stop = Stop(max_chars=20, end_of_identifier=True)
    draw = Strategy("sample", temperature=1.0, top_k=5, top_p=0.9, seed=3)
    one = predictor.continuations(context, logits, state, 4, stop, draw)
    two = predictor.continuations(context, logits, state, 4, stop, draw)
    assert one == two
    assert all(s.text.replace("_", "").isalnum() for s in one if s.text)


def test_block_continuations_stop_at_a_dedent(predictor):
    context = "def make_kilo_store(root):"
    logits, state = at(predictor, context)
    [block] = predictor.continuations(context, logits, state, 1, Stop(max_chars=200, block=True))
    lines = block.text.split("\n")
    assert all(
        line.startswith("    ") for line in lines[1:]
    )  # every further line is inside the block


def test_state_is_not_modified_and_cancel_raises(predictor):
    context = "import os\n"
    logits, state = at(predictor, context)
    saved = (state[0].copy(), state[1].copy())
    predictor.continuations(context, logits, state, 3, Stop(max_chars=10))
    assert np.array_equal(state[0], saved[0]) and np.array_equal(state[1], saved[1])
    with pytest.raises(Cancelled):
        predictor.continuations(context, logits, state, 1, Stop(), cancelled=lambda: True)
