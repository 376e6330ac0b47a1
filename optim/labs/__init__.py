"""Labs: the classic results and the source posts' mistakes, each reproduced and checked.

``LABS`` maps a lab's id to its :class:`Lab`; ``LABS[id].run(**knobs)`` returns a
:class:`LabResult` with ``measured`` and ``expected`` numbers, ``passed`` and the curves a
page draws.

>>> r = LABS["lion_sign"].run()
>>> r.measured["step_size_ratio"], r.passed
(1.0, True)
"""

from __future__ import annotations

from .base import EXACT, Chart, Lab, LabResult, Mistake, Series, Tol
from .classic import CLASSIC_LABS
from .mistakes import MISTAKE_LABS, SLIPS

LABS: dict[str, Lab] = {lab.id: lab for lab in (*CLASSIC_LABS, *MISTAKE_LABS)}

__all__ = ["EXACT", "LABS", "SLIPS", "Chart", "Lab", "LabResult", "Mistake", "Series", "Tol"]
