"""Inference over a trained character LSTM in numpy, one character at a time for a batch of
streams, or along a run of characters. The arithmetic is nn.LSTM's (tested equal to it), over
the same weights, without torch: the language server never imports it."""

from __future__ import annotations

import numpy as np

from .config import ModelConfig

# (h, c), each float32 [num_layers, batch, hidden_size]: everything the model knows about the
# text so far.
State = tuple[np.ndarray, np.ndarray]


class Stepper:
    def __init__(self, config: ModelConfig, weights: dict[str, np.ndarray]) -> None:
        self.config = config
        w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
        # Layer 0's input projection of every character, looked up instead of multiplied.
        self.table0 = w["embed.weight"] @ w["lstm.weight_ih_l0"].T + (
            w["lstm.bias_ih_l0"] + w["lstm.bias_hh_l0"]
        )
        layers = range(config.num_layers)
        self.w_hh = [np.ascontiguousarray(w[f"lstm.weight_hh_l{k}"].T) for k in layers]
        self.w_ih = [np.ascontiguousarray(w[f"lstm.weight_ih_l{k}"].T) for k in layers[1:]]
        self.bias = [w[f"lstm.bias_ih_l{k}"] + w[f"lstm.bias_hh_l{k}"] for k in layers[1:]]
        self.head_w = np.ascontiguousarray(w["head.weight"].T)
        self.head_b = w["head.bias"]

    def initial_state(self, batch: int = 1) -> State:
        shape = (self.config.num_layers, batch, self.config.hidden_size)
        return np.zeros(shape, np.float32), np.zeros(shape, np.float32)

    def step(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """ids [batch] -> logits [batch, vocab] and the next state."""
        h, c = state
        x, ck = _cell(self.table0[ids] + h[0] @ self.w_hh[0], c[0])
        hs, cs = [x], [ck]
        for k in range(1, self.config.num_layers):
            gates = x @ self.w_ih[k - 1] + self.bias[k - 1] + h[k] @ self.w_hh[k]
            x, ck = _cell(gates, c[k])
            hs.append(x)
            cs.append(ck)
        return x @ self.head_w + self.head_b, (np.stack(hs), np.stack(cs))

    def advance(self, ids: list[int], state: State) -> tuple[np.ndarray, State]:
        """Feed several characters to every stream of the batch; logits [batch, vocab] after the
        last one."""
        if not ids:
            raise ValueError("advance needs at least one character")
        if len(ids) == 1:
            return self.step(np.full(state[0].shape[1], ids[0]), state)
        out, state = self._run(ids, state)
        return out[-1] @ self.head_w + self.head_b, state

    def along(self, ids: list[int], state: State) -> np.ndarray:
        """Feed several characters to a single stream: the logits after each [len(ids), vocab]
        (to score a given continuation at every character)."""
        out, _ = self._run(ids, state)
        return out[:, 0] @ self.head_w + self.head_b

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
                projected = out @ self.w_ih[k - 1] + self.bias[k - 1]
                out = np.empty_like(out)
            hk, ck = h[k], c[k]
            for t in range(len(ids)):
                hk, ck = _cell(projected[t] + hk @ self.w_hh[k], ck)
                out[t] = hk
            hs.append(hk)
            cs.append(ck)
        return out, (np.stack(hs), np.stack(cs))


def _cell(gates: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM cell update from its gate pre-activations (input, forget, cell, output, as
    nn.LSTM orders them); h and c after it."""
    size = c.shape[-1]
    i, f, g, o = (gates[:, j * size : (j + 1) * size] for j in range(4))
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # Through tanh: exact, and no overflow warning where exp(-x) would overflow.
    return 0.5 + 0.5 * np.tanh(0.5 * x)
