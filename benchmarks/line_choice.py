"""Fits and checks the weights that choose the suggested line (trainer/line_choice.py).

At random positions of the base model's held-out standard-library files (positions as
`lstm-complete eval` draws them, other seeds), gathers the candidate lines and their features,
and fits the weights that maximise the expected saving: the mean of the three completion
figures (exact rest of line, exact rest of identifier, share of the line right from its start)
of the chosen line. Each position is seen twice: as `lstm-complete eval` sees it (the text
before the cursor only, as when typing at the end of a file) and as an editor does (the rest of
the file below the cursor's line too), so one set of weights serves both. Then scores, at other
seeds, the line chosen with the fitted and with the shipped weights beside the copy baseline
and the model's own greedy line; with the lines below, also beside a copy baseline that
searches them too (what followed the longest match above, in the corpus or below: the nearest
below, where it is the longest).

    python -m benchmarks.line_choice [--fit-seeds 1 2 4 5 6] [--check-seeds 0 3] [--positions 600]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import astuple, dataclass

import numpy as np
import torch

from trainer import folder, line_choice
from trainer.cli import STDLIB_EXCLUDES, stdlib_path
from trainer.corpus import collect, join
from trainer.evaluate import (
    completion_scores,
    copy_baseline,
    leading_identifier,
    positions,
    states_at,
)
from trainer.match import MatchIndex
from trainer.paths import BASE_MODEL
from trainer.sampling import Predictor, Stop, Strategy

MAX_CHARS = 200  # as `lstm-complete eval` generates


@dataclass
class Site:
    truth: str
    copy: str
    model: str
    lines: list[str]
    features: np.ndarray
    utility: np.ndarray  # of each candidate line, 0 to 1


def utility(guess: str, truth: str) -> float:
    """The three completion figures of one suggestion, averaged."""
    s = completion_scores([(guess, truth)])
    identifier = s["identifier_exact_match"] if leading_identifier(truth.rstrip()) else 0.0
    return (s["line_exact_match"] + identifier + s["line_prefix_match"]) / 3


def sites(
    predictor: Predictor, held, train_text: str, seed: int, n: int
) -> tuple[list[Site], list[Site]]:
    """The sites at n positions: without the lines below the cursor, and with them."""
    alone, beside = [], []
    targets = positions(held, n, seed)
    stop = Stop(max_chars=MAX_CHARS)
    for i, logits, state in states_at(predictor, targets):
        p = targets[i]
        [own] = predictor.generate(p.before, logits, state, 1, stop, Strategy("greedy"))
        for below, out in (("", alone), (p.below, beside)):
            longest, candidates = line_choice.gather(
                predictor.index, p.before, None, MAX_CHARS, below
            )
            logprobs = predictor.score_lines(candidates, logits, state)
            lines = [c.text for c in candidates]
            copied = copy_baseline(p.before, train_text, below)
            out.append(
                Site(
                    p.rest_of_line,
                    copied,
                    own.text,
                    lines,
                    line_choice.features(candidates, longest, logprobs),
                    np.array([utility(line, p.rest_of_line) for line in lines]),
                )
            )
    return alone, beside


def fit(found: list[Site], l2: float = 1e-2) -> line_choice.Weights:
    """Maximum log expected utility of a softmax choice over each site's candidates."""
    usable = [s for s in found if len(s.lines)]
    xs = [torch.from_numpy(s.features) for s in usable]
    us = [torch.from_numpy(s.utility) for s in usable]
    w = torch.zeros(len(astuple(line_choice.WEIGHTS)), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([w], max_iter=200, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        total = sum(
            -torch.log((torch.softmax(x @ w, 0) * u).sum() + 1e-3)
            for x, u in zip(xs, us, strict=True)
        )
        value = total / len(xs) + l2 * (w**2).sum()
        value.backward()
        return value

    optimizer.step(loss)
    return line_choice.Weights(*(round(float(v), 3) for v in w.detach()))


def scores(found: list[Site], weights: line_choice.Weights) -> dict[str, float]:
    w = np.array(astuple(weights))
    picks = [s.lines[int(np.argmax(s.features @ w))] if s.lines else s.model for s in found]
    figures = completion_scores([(p, s.truth) for p, s in zip(picks, found, strict=True)])
    return {k: round(v, 4) for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fit-seeds", type=int, nargs="+", default=[1, 2, 4, 5, 6])
    parser.add_argument("--check-seeds", type=int, nargs="+", default=[0, 3])
    parser.add_argument("--positions", type=int, default=600)
    args = parser.parse_args()
    saved = folder.load(BASE_MODEL)
    corpus = collect([stdlib_path()], exclude=STDLIB_EXCLUDES)
    train, held = corpus.split(saved.manifest.held_out_fraction, saved.manifest.seed)
    train_text = join(train)
    predictor = Predictor(saved, MatchIndex(train_text))
    fitting = []
    for seed in args.fit_seeds:
        alone, beside = sites(predictor, held, train_text, seed, args.positions)
        fitting += alone + beside
    fitted = fit(fitting)
    report: dict = {"fitted": fitted.__dict__, "shipped": line_choice.WEIGHTS.__dict__}
    for seed in args.check_seeds:
        alone, beside = sites(predictor, held, train_text, seed, args.positions)
        for name, found, copy_name in (
            ("text before the cursor", alone, "copy baseline"),
            ("lines below it too", beside, "copy baseline, searching below too"),
        ):
            report[f"seed {seed}, {name}"] = {
                "chosen (fitted)": scores(found, fitted),
                "chosen (shipped)": scores(found, line_choice.WEIGHTS),
                copy_name: completion_scores([(s.copy, s.truth) for s in found]),
                "model's own line": completion_scores([(s.model, s.truth) for s in found]),
            }
        report[f"seed {seed}, lines below it too"]["copy baseline"] = completion_scores(
            [(s.copy, s.truth) for s in alone]
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
