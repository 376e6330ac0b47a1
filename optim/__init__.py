"""Optimizer Playground's core: torch.optim's optimizers in NumPy, on symbolic surfaces.

Framework-free on purpose (NumPy and SymPy only), so that every piece can be
tested one step at a time and reused outside the app.
"""

from .optimizers import OPTIMIZERS, HParam, Optimizer, make_optimizer

__all__ = ["OPTIMIZERS", "HParam", "Optimizer", "make_optimizer"]
