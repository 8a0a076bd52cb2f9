from trainer import checkpoint
from trainer.corpus import collect
from trainer.evaluate import (
    completion_scores,
    copy_baseline,
    evaluate,
    leading_identifier,
    positions,
)


def test_copy_baseline_copies_after_the_longest_earlier_suffix():
    corpus = "x = compute(alpha)\nvalue = compute(beta)\n"
    before = "result = compute("
    # "= compute(" occurs in the corpus; its latest occurrence is followed by "beta)"
    assert copy_baseline(before, corpus) == "beta)"
    # an earlier occurrence in the document itself wins when it is longer
    assert copy_baseline("result = compute(gamma)\nresult = compute(", corpus) == "gamma)"
    assert copy_baseline("", corpus) == ""
    # below the cursor, only a longer match counts, and the nearest of its occurrences
    below = "other = compute(delta)\nresult = compute(epsilon)\nresult = compute(zeta)\n"
    assert copy_baseline(before, corpus, below) == "epsilon)"
    assert copy_baseline(before, corpus, "y = compute(delta)\n") == "beta)"  # a tie: above


def test_completion_scores():
    scores = completion_scores([("abc(x)", "abc(x)"), ("abd", "abc(x)"), ("", "q")])
    assert scores["line_exact_match"] == 1 / 3
    assert scores["identifier_exact_match"] == 1 / 3
    assert abs(scores["line_prefix_match"] - (1 + 2 / 6 + 0) / 3) < 1e-9
    assert leading_identifier("foo_1(bar)") == "foo_1"


def test_positions_are_seeded_and_inside_lines(corpus_dir):
    files = collect([corpus_dir]).files
    first, again = positions(files, 30, seed=1), positions(files, 30, seed=1)
    assert [(p.file.key, p.offset) for p in first] == [(p.file.key, p.offset) for p in again]
    for p in first:
        line = p.before.rsplit("\n", 1)[-1]
        assert line.strip() and p.rest_of_line.strip()


def test_evaluate_reports_every_figure(tiny_model, corpus_dir):
    figures = evaluate(checkpoint.load(tiny_model), [corpus_dir], n_positions=20)
    for key in (
        "bpc",
        "next_char_accuracy",
        "line_exact_match",
        "identifier_exact_match",
        "line_prefix_match",
    ):
        assert 0 <= figures[key] <= (8 if key == "bpc" else 1)
    assert figures["copy_baseline"]["positions"] == figures["positions"] == 20
    assert figures["bpc"] < figures["bpc_lstm"]  # the match model helps on repetitive code
