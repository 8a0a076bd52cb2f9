"""Bringing a model up to date with its repository: learn the files that changed since its
manifest, mixed with a replay of the unchanged ones so the old code is not forgotten, and keep the
new weights only if held-out text did not get worse."""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from . import checkpoint, scoring
from .config import TrainError, UpdateConfig
from .corpus import Corpus, SourceFile, collect, join
from .folder import Changes, Manifest, changes
from .match import codes_of
from .train import Streams, pick_device, train_step


@dataclass
class UpdateResult:
    changes: Changes
    accepted: bool | None  # None: nothing to learn (no change, or only deletions)
    bpc_before: float | None = None  # held-out, LSTM alone
    bpc_after: float | None = None
    seconds: float = 0.0
    steps: int = 0
    chars: int = 0  # characters trained on

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "changes": asdict(self.changes)}


def update(
    model_dir: Path,
    paths: list[Path],
    cfg: UpdateConfig,
    *,
    log: Callable[[str], None] = print,
    progress: Callable[[float, str], None] | None = None,
) -> UpdateResult:
    """Learn what changed under `paths` since the manifest of the model in `model_dir`, and write
    the model back (atomically) unless the held-out check rejects the new weights. A rejected or
    interrupted update writes nothing, so the same changes are found again next time."""
    started = time.perf_counter()
    device = pick_device(cfg.device)
    ckpt = checkpoint.load(model_dir, device)
    corpus = collect(paths, cfg.max_bytes, cfg.exclude)
    found = changes(ckpt.manifest, corpus)
    log(f"{model_dir}: {found.describe()} since the model's manifest")
    if not found:
        return UpdateResult(found, None, seconds=time.perf_counter() - started)
    by_key = {f.key: f for f in corpus.files}
    learn = [by_key[k] for k in found.learn]
    guard, rest = _guard_and_rest(ckpt.manifest, corpus, set(found.learn), cfg.seed)
    manifest = Manifest(
        roots=[str(Path(p).absolute()) for p in paths],
        files=corpus.manifest(),
        held_out=sorted(f.key for f in guard if f.key in ckpt.manifest.held_out),
        seed=ckpt.manifest.seed,
        held_out_fraction=ckpt.manifest.held_out_fraction,
    )
    info, metrics = dict(ckpt.info), list(ckpt.metrics)
    if not learn:  # only deletions: the corpus shrinks, the weights have nothing new to learn
        result = UpdateResult(found, None, seconds=time.perf_counter() - started)
        info["last_update"] = result.to_dict()
        checkpoint.save(model_dir, ckpt.model, ckpt.vocab, info, manifest, metrics)
        return result

    model, vocab = ckpt.model, ckpt.vocab
    text = _update_text(learn, rest, cfg)
    guard_text = "\0" + join(guard)[: cfg.guard_chars]
    before = scoring.lstm_bpc(model, vocab, guard_text, device, cfg.bf16)
    streams = Streams(vocab.encode_codes(codes_of(text)), cfg.batch_size, cfg.seq_len, 0, 1)
    total = max(1, min(cfg.steps, math.ceil(cfg.passes * streams.steps_per_epoch)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    torch.manual_seed(cfg.seed)
    model.train()
    carried = model.initial_state(streams.batch, device)
    step, training_started = 0, time.perf_counter()
    while step < total and time.perf_counter() - training_started < cfg.seconds:
        if step % streams.steps_per_epoch == 0:
            carried = model.initial_state(streams.batch, device)
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * min(1.0, (step + 1) / cfg.warmup_steps)
        x, y = (t.to(device) for t in streams.chunk(step))
        loss, carried = train_step(model, optimizer, x, y, carried, cfg.grad_clip, cfg.bf16)
        step += 1
        if progress is not None and step % 10 == 0:
            spent = (time.perf_counter() - training_started) / cfg.seconds
            bits = loss.item() / math.log(2)
            progress(min(1.0, max(step / total, spent)), f"{bits:.2f} bits/char")
    model.eval()
    after = scoring.lstm_bpc(model, vocab, guard_text, device, cfg.bf16)
    # Compared with the model before its first update, not only with the last one: small losses
    # that each pass the check must not add up (measured: +0.03 bits/char over ten updates).
    reference = info.get("update_reference") or {}
    guard_id = guard_key(f.key for f in guard)
    if reference.get("guard") != guard_id:  # other held-out files: a new starting point
        reference = {"bpc": before, "guard": guard_id}
    accepted = after <= min(before, reference["bpc"]) + cfg.margin
    result = UpdateResult(
        found,
        accepted,
        before,
        after,
        time.perf_counter() - started,
        step,
        step * streams.batch * streams.seq_len,
    )
    verdict = "kept" if accepted else f"rejected (worse by more than {cfg.margin})"
    log(
        f"held-out {before:.3f} -> {after:.3f} bits/char (LSTM alone) after {step} steps on "
        f"{result.chars:,} characters: {verdict}"
    )
    if accepted:
        info["update_reference"] = reference
        info["trained_chars"] = info.get("trained_chars", 0) + result.chars
        info["last_update"] = result.to_dict()
        metrics.append({"update": True, "steps": step, "bpc_before": before, "bpc_after": after})
        checkpoint.save(model_dir, model, vocab, info, manifest, metrics)
    return result


def guard_key(keys: Iterable[str]) -> str:
    """Names a set of held-out files: a reference figure holds only for the files it was on."""
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]


def _guard_and_rest(
    manifest: Manifest, corpus: Corpus, learning: set[str], seed: int
) -> tuple[list[SourceFile], list[SourceFile]]:
    """The files the held-out check scores, and the rest (what replay draws from). The check uses
    the model's held-out files that this update does not learn; a corpus left with none lends a
    few unchanged files to it, which then measures forgetting."""
    unchanged = [f for f in corpus.files if f.key not in learning]
    held = set(manifest.held_out)
    guard = [f for f in unchanged if f.key in held]
    if not guard:
        if not unchanged:
            raise TrainError("every file changed: nothing is left to check an update against")
        ranked = sorted(unchanged, key=lambda f: f.key)
        random.Random(seed).shuffle(ranked)
        guard = ranked[: max(1, len(ranked) // 20)]
    guarded = {f.key for f in guard}
    return guard, [f for f in unchanged if f.key not in guarded]


def _update_text(learn: list[SourceFile], rest: list[SourceFile], cfg: UpdateConfig) -> str:
    """The changed files, each `weight` times, shuffled among replayed unchanged files."""
    rng = random.Random(cfg.seed)
    learn = sorted(learn, key=lambda f: f.key)
    rng.shuffle(learn)
    changed, chars = [], 0
    for f in learn:
        if chars >= cfg.max_changed_chars:
            break
        changed.append(f)
        chars += len(f.text)
    want = max(cfg.min_replay_chars, int(cfg.replay * chars * cfg.weight))
    pool = sorted(rest, key=lambda f: f.key)
    rng.shuffle(pool)
    replay, got = [], 0
    for f in pool:
        if got >= want:
            break
        replay.append(f)
        got += len(f.text)
    pieces = [f.text for f in changed for _ in range(cfg.weight)] + [f.text for f in replay]
    rng.shuffle(pieces)
    return "\0" + "\0".join(pieces)
