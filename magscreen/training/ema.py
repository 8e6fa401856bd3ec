"""Exponential moving average of model weights."""

from __future__ import annotations

import torch
from torch import nn


class ExponentialMovingAverage:
    """Shadow copy of the trainable parameters, ``shadow <- decay * shadow + (1 - decay) * param``.

    Parameters
    ----------
    model
        Model whose parameters are tracked (all of them, so that :meth:`swap` is exact).
    decay
        Weight of the old average, in [0, 1).
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.shadow = {name: p.detach().clone() for name, p in model.named_parameters()}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards the current parameters; frozen ones are copied as they are."""
        for name, p in model.named_parameters():
            if p.requires_grad:
                self.shadow[name].mul_(self.decay).add_(p.detach(), alpha=1 - self.decay)
            else:
                self.shadow[name].copy_(p.detach())

    @torch.no_grad()
    def swap(self, model: nn.Module) -> None:
        """Exchange the model's parameters with the average (call twice to swap back)."""
        for name, p in model.named_parameters():
            current = p.detach().clone()
            p.copy_(self.shadow[name])
            self.shadow[name] = current

    def state_dict(self) -> dict:
        """Average and decay, for checkpoints."""
        return {"decay": self.decay, "shadow": {k: v.clone() for k, v in self.shadow.items()}}

    def load_state_dict(self, state: dict) -> None:
        """Restore from :meth:`state_dict`."""
        self.decay = state["decay"]
        self.shadow = {k: v.clone() for k, v in state["shadow"].items()}
