"""The bench, plot and compress-baseline commands, on tiny sizes."""

from __future__ import annotations

import argparse
import json
import random
import string
import sys

import pytest
import torch

from trainer import bench, cli, compression, plot
from trainer.config import TrainError
from trainer.folder import CheckpointError

from .conftest import write_corpus


def parse(module, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_command(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def parse_bench(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_bench_command(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_bench_measures_our_loop_and_the_bare_step(corpus_dir, capsys):
    argv = ["bench", str(corpus_dir), "--sizes", "tiny", "--device", "cpu", "--seconds", "0.4"]
    args = parse_bench([*argv, "--batch-size", "4", "--seq-len", "32", "--json"])
    assert args.run(args) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["size"] == "tiny" and row["device"] == "cpu" and row["bf16"] is True
    assert (row["batch_size"], row["seq_len"]) == (4, 32)
    # Only positive: a test run may share this machine with anything, at any load.
    assert row["ours_chars_per_s"] > 0 and row["bare_chars_per_s"] > 0
    assert row["ratio"] == pytest.approx(row["ours_chars_per_s"] / row["bare_chars_per_s"], 1e-3)
    # Same model, same shapes: a loop a tenth as fast as the bare step, or ten times faster,
    # would be a measuring error, not noise.
    assert 0.1 < row["ratio"] < 10


def test_bench_table_has_a_row_per_measurement():
    rows = [bench.BenchRow("cpu", "tiny", 4, 32, True, 1, 90_000.0, 100_000.0)]
    lines = bench.format_table(rows).splitlines()
    assert lines[0].split() == ["device", "size", "ours", "chars/s", "bare", "chars/s", "ratio"]
    assert lines[1].split() == ["cpu", "tiny", "90,000", "100,000", "90.0%"]


def test_bench_refuses_a_corpus_too_short_for_the_shapes(tmp_path):
    # The loop would quietly train on fewer, shorter streams than the bare step measures.
    corpus = write_corpus(tmp_path / "repo", ["Alpha", "Bravo", "Charlie"])  # ~1,000 training chars
    with pytest.raises(TrainError, match="too short"):
        bench.measure([corpus], ["tiny"], torch.device("cpu"), 32, 64, seconds=0.1)


def test_bench_sizes_are_checked_and_large_is_left_to_the_gpu():
    assert cli.size_list("tiny, small") == ["tiny", "small"]
    with pytest.raises(argparse.ArgumentTypeError, match="huge"):
        cli.size_list("tiny,huge")
    assert "large" not in bench.default_sizes(torch.device("cpu"))
    assert "large" in bench.default_sizes(torch.device("cuda"))


def test_plot_draws_the_curves_of_a_trained_model(tiny_model, tmp_path, capsys):
    out = tmp_path / "curves.png"
    args = parse(plot, ["plot", str(tiny_model), "--out", str(out)])
    assert args.run(args) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    height, width, _ = matplotlib.image.imread(out).shape
    assert width > 800 and height > 600


def test_plot_without_metrics_says_so(tmp_path):
    with pytest.raises(CheckpointError, match=r"metrics\.jsonl"):
        plot.draw(tmp_path, tmp_path / "x.png")


def test_plot_without_matplotlib_names_the_extra(tiny_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    args = parse(plot, ["plot", str(tiny_model), "--out", str(tmp_path / "x.png")])
    assert args.run(args) == 2
    assert "pip install lstm-complete[plot]" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_running_median_keeps_the_ends_and_drops_spikes():
    losses = [8.0, 5.0, 3.0, 9.0, 3.0, 3.0, 3.0, 9.0]
    assert plot.running_median(losses, width=5) == [8, 5, 5, 3, 3, 3, 3, 3]


def test_conditional_compression_of_a_held_out_split(corpus_dir):
    result = compression.measure([corpus_dir], held_out=0.2)
    assert result["held_files"] >= 1 and result["held_chars"] > 0
    assert 0 < result["xz_bpc"] < 8 and 0 < result["ppmd_bpc"] < 8


def test_conditional_compression_charges_only_what_training_did_not_show():
    text = "".join(f"def f{i}(x):\n    return x * {i}\n\n" for i in range(200))
    rng = random.Random(0)
    junk = "".join(rng.choice(string.ascii_letters) for _ in range(3000))
    seen, unseen = compression.conditional_bpc(text, text), compression.conditional_bpc(text, junk)
    for name in compression.COMPRESSORS:
        assert seen[name] < 0.5  # a repeat of the training text costs almost nothing
        assert unseen[name] > 5  # 52 equally likely letters need log2(52) = 5.7 bits each
