"""Optimizer Playground's core: torch.optim's optimizers in NumPy, on symbolic surfaces.

Framework-free on purpose (NumPy and SymPy only), so that every piece can be
tested one step at a time and reused outside the app.
"""

from .expression import parse_formula, surface_from_expression
from .optimizers import OPTIMIZERS, Optimizer, make_optimizer
from .params import Param, Registry
from .problems import PROBLEMS, LeastSquares, OnlineLinear, Problem, make_problem
from .run import RUN_PARAMS, Trajectory, run
from .schedules import SCHEDULES, Schedule, make_schedule
from .surfaces import SURFACES, DataSurface, Surface, make_surface

HParam = Param  # the name hyperparameter descriptions had before they became one type

__all__ = [
    "PROBLEMS",
    "RUN_PARAMS",
    "LeastSquares",
    "OnlineLinear",
    "Problem",
    "make_problem",
    "OPTIMIZERS",
    "SCHEDULES",
    "SURFACES",
    "DataSurface",
    "HParam",
    "Optimizer",
    "Param",
    "Registry",
    "Schedule",
    "Surface",
    "Trajectory",
    "make_optimizer",
    "make_schedule",
    "make_surface",
    "parse_formula",
    "run",
    "surface_from_expression",
]

# many runs at once, and what theory predicts for them
from . import theory  # noqa: E402
from .sweep import Basins, SweepResult, basins, evaluate, find_minima, sweep  # noqa: E402

__all__ += ["Basins", "SweepResult", "basins", "evaluate", "find_minima", "sweep", "theory"]

from .ensemble import Ensemble  # noqa: E402  (new exports at the end: easier merges)
from .mlp import MLP  # noqa: E402

__all__ += ["MLP", "Ensemble"]
