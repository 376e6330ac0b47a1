"""A container whose widgets are never drawn, yet return the values the drawn ones would.

An exercise link hides controls (``surface_hide=true``); the page still needs their values,
which the link sets. Code that builds a control takes a container (``st.sidebar``, a
column); given a :class:`Hidden` instead, each widget call draws nothing and returns, like
Streamlit's own widget would: the value in ``st.session_state`` under its key (a corrected
link value, a run picked in the runs list), else the link's value for a widget bound to
the query string, else the widget's default. Nothing reaches the browser, so a student
cannot bring a hidden control back from the page.

Only the calls the pages make are covered; their signatures follow Streamlit's, so a call
site reads the same whichever container it gets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class Hidden:
    """A stand-in for a Streamlit container; ``query`` and ``state`` are
    ``st.query_params`` and ``st.session_state`` (plain dicts in tests)."""

    def __init__(self, query: Any, state: Any) -> None:
        self._query = query
        self._state = state

    # -- where a value comes from ---------------------------------------------------------
    def _raw(self, key: str | None, bind: Any) -> str | None:
        """The link's text for a widget bound to it, else ``None``."""
        if key is None or bind != "query-params" or key not in self._query:
            return None
        return str(self._query[key])

    def _held(self, key: str | None) -> tuple[bool, Any]:
        if key is not None and key in self._state:
            return True, self._state[key]
        return False, None

    def _number(
        self, key: str | None, bind: Any, value: Any, low: Any, high: Any
    ) -> float | int | None:
        held, v = self._held(key)
        if not held:
            v = value
            raw = self._raw(key, bind)
            if raw is not None:
                try:
                    parsed = float(raw)
                except ValueError:
                    parsed = math.nan
                if math.isfinite(parsed):
                    v = parsed
        if v is None:
            v = low if low is not None else 0
        if low is not None:
            v = max(v, low)
        if high is not None:
            v = min(v, high)
        integer = all(isinstance(x, int) and not isinstance(x, bool) for x in (value, low, high))
        return int(round(v)) if integer else float(v)

    def _option(
        self,
        key: str | None,
        bind: Any,
        options: Sequence[Any],
        default: Any,
        format_func: Callable[[Any], Any] = str,
    ) -> Any:
        options = list(options)
        held, v = self._held(key)
        if held and v in options:
            return v
        raw = self._raw(key, bind)
        if raw is not None:
            for option in options:
                if raw in (str(format_func(option)), str(option)):
                    return option
            try:
                number = float(raw)
            except ValueError:
                number = math.nan
            for option in options:
                if isinstance(option, (int, float)) and option == number:
                    return option
        return default

    # -- widgets -----------------------------------------------------------------------------
    def number_input(
        self, label: str, min_value: Any = None, max_value: Any = None, value: Any = "min",
        step: Any = None, format: Any = None, key: str | None = None, **kw: Any,
    ) -> Any:  # fmt: skip
        if value == "min":
            value = min_value if min_value is not None else 0.0
        return self._number(key, kw.get("bind"), value, min_value, max_value)

    def slider(
        self, label: str, min_value: Any = None, max_value: Any = None, value: Any = None,
        step: Any = None, format: Any = None, key: str | None = None, **kw: Any,
    ) -> Any:  # fmt: skip
        return self._number(key, kw.get("bind"), value, min_value, max_value)

    def select_slider(
        self, label: str, options: Sequence[Any] = (), value: Any = None,
        format_func: Callable[[Any], Any] = str, key: str | None = None, **kw: Any,
    ) -> Any:  # fmt: skip
        options = list(options)
        default = value if value in options else options[0]
        return self._option(key, kw.get("bind"), options, default, format_func)

    def selectbox(
        self, label: str, options: Sequence[Any] = (), index: int | None = 0,
        format_func: Callable[[Any], Any] = str, key: str | None = None, **kw: Any,
    ) -> Any:  # fmt: skip
        options = list(options)
        default = options[index] if index is not None and options else None
        return self._option(key, kw.get("bind"), options, default, format_func)

    radio = selectbox

    def segmented_control(
        self, label: str, options: Sequence[Any] = (), *, selection_mode: str = "single",
        default: Any = None, format_func: Callable[[Any], Any] = str, key: str | None = None,
        **kw: Any,
    ) -> Any:  # fmt: skip
        return self._option(key, kw.get("bind"), options, default, format_func)

    def multiselect(
        self, label: str, options: Sequence[Any] = (), default: Any = None,
        format_func: Callable[[Any], Any] = str, key: str | None = None,
        max_selections: int | None = None, **kw: Any,
    ) -> list[Any]:  # fmt: skip
        options = list(options)
        held, v = self._held(key)
        if held and isinstance(v, list):
            return [x for x in v if x in options]
        picked = list(default or [])
        if key is not None and kw.get("bind") == "query-params" and key in self._query:
            get_all = getattr(self._query, "get_all", None)
            raws = get_all(key) if get_all else [self._query[key]]
            names = {str(format_func(o)): o for o in options} | {str(o): o for o in options}
            picked = [names[r] for r in map(str, raws) if r in names]
        return picked[:max_selections] if max_selections else picked

    def checkbox(self, label: str, value: bool = False, key: str | None = None, **kw: Any) -> bool:
        held, v = self._held(key)
        if held:
            return bool(v)
        raw = self._raw(key, kw.get("bind"))
        if raw is not None and raw.strip().lower() in _TRUE + _FALSE:
            return raw.strip().lower() in _TRUE
        return bool(value)

    toggle = checkbox

    def text_input(self, label: str, value: str = "", max_chars: Any = None,
                   key: str | None = None, **kw: Any) -> str:  # fmt: skip
        held, v = self._held(key)
        if held:
            return str(v)
        raw = self._raw(key, kw.get("bind"))
        return raw if raw is not None else value

    def button(self, *args: Any, **kw: Any) -> bool:
        return False  # never pressed: nobody can see it

    # -- layout: more of the same -------------------------------------------------------------
    def columns(self, spec: Any, **kw: Any) -> list[Hidden]:
        n = spec if isinstance(spec, int) else len(spec)
        return [self] * n

    def container(self, *args: Any, **kw: Any) -> Hidden:
        return self

    expander = popover = container

    def _nothing(self, *args: Any, **kw: Any) -> None:
        return None

    markdown = caption = subheader = error = warning = info = write = _nothing
