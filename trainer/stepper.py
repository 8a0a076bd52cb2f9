"""Inference over a trained character LSTM in numpy, one character at a time for a batch of
streams, or along a run of characters. The arithmetic is nn.LSTM's (tested equal to it), over
the same weights, without torch: the language server never imports it."""

from __future__ import annotations

import numpy as np

from .config import ModelConfig

# (h, c), each float32 [num_layers, batch, hidden_size]: everything the model knows about the
# text so far.
State = tuple[np.ndarray, np.ndarray]

# Characters a long run is read in at a time: its projections for all four gates are held at
# once (16 KB a character for 1,024 gates). Measured: a whole 200K-character file at once took
# the server to 2.2 GB resident.
RUN_CHUNK = 256

# Multiply-adds per matrix product that OpenBLAS (numpy's) does without first packing the
# weights: measured on a 2-core EPYC, a 1024x256 product took 16 us for one column, 19 for two,
# 33 for three, and 62-87 for four to eight; one step of a beam of 5 went from 345 to 245 us
# split in two. Past two products it gains nothing (8 columns) or loses (16).
SMALL_PRODUCT = 1_000_000


class Stepper:
    def __init__(self, config: ModelConfig, weights: dict[str, np.ndarray]) -> None:
        self.config = config
        size = config.hidden_size
        # sigmoid(x) = (1 + tanh(x / 2)) / 2: with the input, forget and output gates' rows
        # halved here (exactly: a power of two), one tanh over all four gates serves the cell.
        scale = np.ones((4 * size, 1), np.float32)
        scale[: 2 * size] = scale[3 * size :] = 0.5

        def w(name: str) -> np.ndarray:
            return np.asarray(weights[name], dtype=np.float32)

        def gate_rows(name: str) -> np.ndarray:
            return np.ascontiguousarray(w(name) * (scale if w(name).ndim == 2 else scale[:, 0]))

        layers = range(config.num_layers)
        # Layer 0's input projection of every character, looked up instead of multiplied.
        self.table0 = w("embed.weight") @ gate_rows("lstm.weight_ih_l0").T + (
            gate_rows("lstm.bias_ih_l0") + gate_rows("lstm.bias_hh_l0")
        )
        # Weights stay [out, in], as nn.LSTM keeps them: see _product.
        self.w_hh = [gate_rows(f"lstm.weight_hh_l{k}") for k in layers]
        self.w_ih = [gate_rows(f"lstm.weight_ih_l{k}") for k in layers[1:]]
        self.bias = [
            gate_rows(f"lstm.bias_ih_l{k}") + gate_rows(f"lstm.bias_hh_l{k}") for k in layers[1:]
        ]
        self.head_w = np.ascontiguousarray(w("head.weight"))
        self.head_b = w("head.bias")

    def initial_state(self, batch: int = 1) -> State:
        shape = (self.config.num_layers, batch, self.config.hidden_size)
        return np.zeros(shape, np.float32), np.zeros(shape, np.float32)

    def step(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """ids [batch] -> logits [batch, vocab] and the next state."""
        h, c = state
        x, ck = _cell(self.table0[ids] + _product(h[0], self.w_hh[0]), c[0])
        hs, cs = [x], [ck]
        for k in range(1, self.config.num_layers):
            gates = _product(x, self.w_ih[k - 1]) + self.bias[k - 1] + _product(h[k], self.w_hh[k])
            x, ck = _cell(gates, c[k])
            hs.append(x)
            cs.append(ck)
        return _product(x, self.head_w) + self.head_b, (np.stack(hs), np.stack(cs))

    def advance(self, ids: list[int], state: State) -> tuple[np.ndarray, State]:
        """Feed several characters to every stream of the batch; logits [batch, vocab] after the
        last one."""
        if not ids:
            raise ValueError("advance needs at least one character")
        if len(ids) == 1:
            return self.step(np.full(state[0].shape[1], ids[0]), state)
        for start in range(0, len(ids), RUN_CHUNK):
            out, state = self._run(ids[start : start + RUN_CHUNK], state)
        return _product(out[-1], self.head_w) + self.head_b, state

    def _run(self, ids: list[int], state: State) -> tuple[np.ndarray, State]:
        """The top layer's output after each character [len(ids), batch, hidden], and the state.
        Layer by layer: each layer's input projections for the whole run are one lookup or one
        matrix product; only the recurrent product is left to the per-character loop."""
        h, c = state
        batch = h.shape[1]
        projected = self.table0[ids][:, None, :]  # [time, 1, 4 * hidden]: the same for all
        hs, cs = [], []
        out = np.empty((len(ids), batch, self.config.hidden_size), np.float32)
        for k in range(self.config.num_layers):
            if k:
                projected = out @ self.w_ih[k - 1].T + self.bias[k - 1]
                out = np.empty_like(out)
            hk, ck = h[k], c[k]
            for t in range(len(ids)):
                hk, ck = _cell(projected[t] + _product(hk, self.w_hh[k]), ck)
                out[t] = hk
            hs.append(hk)
            cs.append(ck)
        return out, (np.stack(hs), np.stack(cs))


def _product(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x [batch, in] times w [out, in] transposed, as w @ x.T: measured with OpenBLAS on a 2-core
    x86-64, 2x faster than x @ w.T for a batch of 4 to 8 (a beam), as fast for one. A batch a
    little larger than SMALL_PRODUCT allows is split in two products under it."""
    xt = np.ascontiguousarray(x.T)
    cols = max(1, SMALL_PRODUCT // w.size)
    if len(x) <= cols or len(x) > 2 * cols:
        return (w @ xt).T
    out = np.empty((len(w), len(x)), np.float32)
    np.matmul(w, xt[:, :cols], out=out[:, :cols])
    np.matmul(w, xt[:, cols:], out=out[:, cols:])
    return out.T


def _cell(gates: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM cell update from its gate pre-activations (input, forget, cell, output, as
    nn.LSTM orders them; input, forget and output halved): h and c after it."""
    size = c.shape[-1]
    t = np.tanh(gates)
    i, f, g, o = (t[:, j * size : (j + 1) * size] for j in range(4))
    c = ((f + 1) * c + (i + 1) * g) * 0.5
    return (o + 1) * np.tanh(c) * 0.5, c
