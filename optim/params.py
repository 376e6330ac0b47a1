"""The one description of a tunable value, and the one registry of named builders.

A :class:`Param` is everything a slider needs about one value: its name, default,
range, scale, LaTeX symbol and a sentence of help. Optimizer hyperparameters,
surface parameters, schedule parameters and run controls are all ``Param``s, so a
UI builds every control the same way.

A ``Param`` is also a read-only mapping with the keys ``key, label, symbol,
default, low, high, log, help, kind``: code that reads ``spec["low"]`` or calls
``dict(spec)`` keeps working.

>>> p = Param("lr", 1e-3, "Learning rate.", symbol=r"\\gamma", low=1e-5, high=10.0, log=True)
>>> p["key"], p.label, p.log
('lr', 'lr', True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

_KEYS = ("key", "label", "symbol", "default", "low", "high", "log", "help", "kind")


@dataclass(frozen=True)
class Param(Mapping):
    """One tunable value: its name (torch's name for a hyperparameter), default and slider.

    ``kind`` is ``"float"``, ``"int"``, ``"bool"`` or ``"pair"`` (torch's ``betas``).
    A pair's ``default`` is a tuple and ``parts`` describes each component (a
    ``Param`` whose name is the component's label, e.g. ``beta1``); :meth:`sliders`
    turns it into one slider per component. ``label`` defaults to ``name``.
    """

    name: str
    default: Any
    help: str | None = None
    symbol: str = ""
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    log: bool = False
    label: str = ""
    parts: tuple[Param, ...] = ()

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name)

    @property
    def key(self) -> str:
        return self.name

    def sliders(self) -> tuple[Param, ...]:
        """One ``Param`` per slider: a pair gives ``name[0]``, ``name[1]`` with its defaults."""
        if self.kind != "pair":
            return (self,)
        return tuple(
            dataclasses.replace(
                part, name=f"{self.name}[{i}]", label=part.name, default=d, help=self.help
            )
            for i, (part, d) in enumerate(zip(self.parts, self.default, strict=True))
        )

    def with_default(self, default: Any) -> Param:
        return dataclasses.replace(self, default=default)

    # -- the mapping view (the dict form slider descriptions had before) ----------------
    def __getitem__(self, k: str) -> Any:
        if k not in _KEYS:
            raise KeyError(k)
        return getattr(self, k)

    def __iter__(self) -> Iterator[str]:
        return iter(_KEYS)

    def __len__(self) -> int:
        return len(_KEYS)

    __hash__ = object.__hash__  # frozen, but defaults may be unhashable arrays
    __eq__ = object.__eq__


T = TypeVar("T")


class Registry(dict, Generic[T]):
    """Name -> entry, in the order given (the teaching order), with one ``make``.

    An entry is anything callable with keyword arguments (a class, a builder).

    >>> r = Registry("colour", {"red": dict})
    >>> r.make("red", x=1)
    {'x': 1}
    >>> r.make("blue")
    Traceback (most recent call last):
    ...
    ValueError: unknown colour 'blue'; choose one of red
    """

    def __init__(self, kind: str, entries: Mapping[str, T] | Iterable[T]) -> None:
        if not isinstance(entries, Mapping):
            entries = {e.name: e for e in entries}
        super().__init__(entries)
        self.kind = kind

    def make(self, name: str, /, **kw: Any) -> Any:
        try:
            entry: Callable[..., Any] = self[name]
        except (KeyError, TypeError):
            raise ValueError(
                f"unknown {self.kind} {name!r}; choose one of {', '.join(self)}"
            ) from None
        return entry(**kw)

    def __reduce__(self) -> tuple:
        return (type(self), (self.kind, dict(self)))
