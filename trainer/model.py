"""The character LSTM for training: embedding -> multi-layer nn.LSTM -> linear head. Inference
runs the same weights in numpy (stepper.py)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .config import ModelConfig

# (h, c), each [num_layers, batch, hidden_size]: everything the model knows about the text so far.
State = tuple[Tensor, Tensor]


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
