"""The character LSTM: embedding -> multi-layer nn.LSTM -> linear head; and a fast streaming
step for inference."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

# (h, c), each [num_layers, batch, hidden_size]: everything the model knows about the text so far.
State = tuple[Tensor, Tensor]


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    embed_dim: int = 64
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, dict[str, float]] = {
    "tiny": dict(embed_dim=16, hidden_size=64, num_layers=1, dropout=0.0),
    "small": dict(embed_dim=64, hidden_size=256, num_layers=2, dropout=0.1),
    "medium": dict(embed_dim=64, hidden_size=512, num_layers=2, dropout=0.1),
    "large": dict(embed_dim=128, hidden_size=1024, num_layers=3, dropout=0.2),
}
DEFAULT_PRESET = "small"  # ~40K chars/s of bf16 training on a 2-core CPU


def preset(name: str, vocab_size: int) -> ModelConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown size {name!r}; choose one of {', '.join(PRESETS)}")
    return ModelConfig(vocab_size=vocab_size, **PRESETS[name])


class CharLSTM(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.lstm = nn.LSTM(
            config.embed_dim,
            config.hidden_size,
            config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def initial_state(self, batch: int = 1, device: torch.device | str = "cpu") -> State:
        shape = (self.config.num_layers, batch, self.config.hidden_size)
        return torch.zeros(shape, device=device), torch.zeros(shape, device=device)

    def forward(self, ids: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """ids [batch, time] -> logits [batch, time, vocab], and the state after the last step."""
        out, state = self.lstm(self.embed(ids), state)
        return self.head(self.drop(out)), state


class Stepper:
    """Inference over a trained CharLSTM, one character at a time, for a batch of streams.

    On a CPU a single step through nn.LSTM is dominated by per-call overhead; this runs the same
    arithmetic with a handful of fused ops over the same weights (tested equal to nn.LSTM).
    """

    def __init__(self, model: CharLSTM) -> None:
        self.model = model
        self.config = model.config
        lstm = model.lstm
        with torch.no_grad():
            w_ih0 = lstm.weight_ih_l0
            bias0 = lstm.bias_ih_l0 + lstm.bias_hh_l0
            # Layer 0's input projection of every character, looked up instead of multiplied.
            self.table0 = (model.embed.weight @ w_ih0.T + bias0).contiguous()
            self.w_hh = [
                getattr(lstm, f"weight_hh_l{k}").T.contiguous() for k in range(lstm.num_layers)
            ]
            self.w_ih = [None] + [
                getattr(lstm, f"weight_ih_l{k}").T.contiguous() for k in range(1, lstm.num_layers)
            ]
            self.bias = [None] + [
                getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}")
                for k in range(1, lstm.num_layers)
            ]
            self.head_w = model.head.weight.T.contiguous()
            self.head_b = model.head.bias.detach().clone()
        self.device = self.table0.device

    @torch.inference_mode()
    def step(self, ids: Tensor, state: State) -> tuple[Tensor, State]:
        """ids [batch] -> logits [batch, vocab] and the next state."""
        h, c = state
        hs, cs = [], []
        x = None
        for k in range(self.config.num_layers):
            if k == 0:
                gates = torch.addmm(self.table0[ids], h[0], self.w_hh[0])
            else:
                gates = torch.addmm(self.bias[k], x, self.w_ih[k]).addmm_(h[k], self.w_hh[k])
            i, f, g, o = gates.chunk(4, dim=1)
            ck = torch.sigmoid(f) * c[k] + torch.sigmoid(i) * torch.tanh(g)
            x = torch.sigmoid(o) * torch.tanh(ck)
            hs.append(x)
            cs.append(ck)
        return torch.addmm(self.head_b, x, self.head_w), (torch.stack(hs), torch.stack(cs))

    @torch.inference_mode()
    def advance(self, ids: list[int], state: State) -> tuple[Tensor, State]:
        """Feed several characters to every stream of the batch; logits after the last one.

        Long runs go through nn.LSTM in one call (its per-character cost is lower once the call
        overhead is paid); short ones through `step`.
        """
        if not ids:
            raise ValueError("advance needs at least one character")
        batch = state[0].shape[1]
        if len(ids) <= 16:
            for token in ids:
                logits, state = self.step(torch.full((batch,), token, device=self.device), state)
            return logits, state
        seq = torch.tensor(ids, device=self.device).unsqueeze(0).expand(batch, -1)
        out, state = self.model.lstm(self.model.embed(seq), state)
        return F.linear(out[:, -1], self.model.head.weight, self.model.head.bias), state

    @torch.inference_mode()
    def along(self, ids: list[int], state: State) -> Tensor:
        """Feed several characters to a single stream: the logits after each [len(ids), vocab],
        in one call (to score a given continuation at every character)."""
        seq = torch.tensor(ids, device=self.device).unsqueeze(0)
        out, _ = self.model.lstm(self.model.embed(seq), state)
        return F.linear(out[0], self.model.head.weight, self.model.head.bias)

    def initial_state(self, batch: int = 1) -> State:
        return self.model.initial_state(batch, self.device)
