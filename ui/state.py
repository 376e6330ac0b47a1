"""Settings and the URL: a shared link restores every control, bad values are corrected.

Widgets bind themselves to the query string (``bind="query-params"``), so Streamlit
keeps the address bar up to date. Streamlit silently resets a bound widget to its
default when the URL holds a value it cannot use; we want the reader of a shared link
to *see* what was corrected. So, once per visit and before each widget is built,
:class:`UrlSettings` looks at the raw URL value, clamps it to the widget's range or
snaps it to the nearest allowed value (writing the result to ``st.session_state``,
which Streamlit then uses) and records a notice that the page displays.

Everything here works on plain strings and numbers, so it is testable without a page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

_SEEN = "_url_seen"  # keys whose URL value was already checked during this visit
_NOTICES = "_url_notices"  # corrections not yet shown
_FIXED = "_url_fixed"  # corrected values to write once more, so the address bar shows them


def fmt_number(value: float) -> str:
    """Short, exact-enough text for a slider value: 0.001, 1e-08, 0.9, 2.5.

    >>> fmt_number(1e-3), fmt_number(1e-8), fmt_number(0.999), fmt_number(5.0)
    ('0.001', '1e-08', '0.999', '5')
    """
    return f"{value:.6g}"


def fmt_range(low: float | None, high: float | None) -> str:
    """An allowed range as a notice states it; a missing bound is infinite.

    >>> fmt_range(0.0, 1.0), fmt_range(0.0, None), fmt_range(None, 5)
    ('[0, 1]', '[0, ∞]', '[−∞, 5]')
    """
    lo = "−∞" if low is None else fmt_number(low)
    hi = "∞" if high is None else fmt_number(high)
    return f"[{lo}, {hi}]"


MAX_QUOTED = 60  # characters of a link's value quoted back in a notice


def quote(raw: Any) -> str:
    """A value from a link, quoted for a notice so that it can only ever read as text.

    Notices are Markdown: quoted plainly, ``[log in](https://…)`` in a link would show as a
    clickable link inside the app's own warning, ``![x](https://…)`` would make every
    visitor's browser fetch an outside image, and a bare address would become a link. In a
    code span nothing is a link, an image or HTML; the fence is one backtick longer than
    any run of backticks in the value, so the value cannot close it. Long values are cut.

    >>> quote("[x](https://evil.example)")
    '`[x](https://evil.example)`'
    >>> quote("a`b")
    '``a`b``'
    """
    text = " ".join(str(raw).split())  # one line: a newline could end the notice's paragraph
    if len(text) > MAX_QUOTED:
        text = text[: MAX_QUOTED - 1] + "…"
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def escape_markdown(text: str) -> str:
    r"""``text`` with every ASCII punctuation mark backslash-escaped: Markdown shows it as is.

    For messages that embed parts of what a user typed (a formula's error). Escaping ``:``
    and ``.`` also breaks bare addresses (``https://``, ``www.``), which Markdown would
    otherwise turn into links, and Streamlit's ``:color[...]`` and ``$math$`` syntax.

    >>> print(escape_markdown("[a](b) *c*"))
    \[a\]\(b\) \*c\*
    """
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def parse_float(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(f"{raw!r} is not a finite number")
    return value


def clamp(value: float, low: float | None, high: float | None) -> float:
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value


def snap(value: float, grid: Sequence[float], log: bool) -> float:
    """The grid value closest to ``value`` (in log distance on a log grid).

    >>> snap(0.004, [0.001, 0.002, 0.005, 0.01], log=True)
    0.005
    >>> snap(-3.0, [0.0, 0.5, 1.0], log=False)
    0.0
    """
    if log:
        v = math.log(max(value, grid[0] * 1e-3))
        return min(grid, key=lambda g: abs(math.log(g) - v))
    return min(grid, key=lambda g: abs(g - value))


class UrlSettings:
    """Checks URL values before their widgets exist and remembers what the link should hold.

    ``url_value`` is the query-string value (``None`` when absent); ``params`` collects
    the current non-default settings in the exact text Streamlit's bound widgets use,
    so :meth:`link` reproduces the page. ``query`` is ``st.query_params`` and ``store``
    is ``st.session_state`` (plain dict-likes in tests).
    """

    def __init__(self, query: Any, store: Any) -> None:
        self._query = query
        self._store = store
        if _SEEN not in store:
            store[_SEEN] = set()
            store[_NOTICES] = []
            store[_FIXED] = {}
        elif store[_FIXED]:
            # Streamlit drops a URL value it rejects from the address bar and does not
            # put a value set on the first run there; set again on the next run, it does
            # (unless the user has moved that control meanwhile: then theirs wins).
            for key, value in store[_FIXED].items():
                if store.get(key) == value:
                    store[key] = value
            store[_FIXED] = {}
        self.params: dict[str, str | list[str]] = {}

    # -- reading the URL once ------------------------------------------------------
    def _take(self, key: str, many: bool = False) -> Any:
        """The raw URL value of ``key`` the first time it is asked for, else ``None``."""
        seen = self._store[_SEEN]
        if key in seen:
            return None
        seen.add(key)
        if key not in self._query:
            return None
        return self._query.get_all(key) if many else self._query[key]

    def take(self, key: str) -> Any:
        """The raw link value of ``key`` on its first reading in this visit, else ``None``."""
        return self._take(key)

    def take_all(self, key: str) -> list[str] | None:
        """Every raw link value of a repeated ``key``, first reading only, else ``None``."""
        return self._take(key, many=True)

    def notice(self, text: str) -> None:
        self._store[_NOTICES].append(text)

    def pop_notices(self) -> list[str]:
        notes = list(self._store[_NOTICES])
        self._store[_NOTICES] = []
        return notes

    def _set(self, key: str, value: Any, *, correction: bool = True) -> None:
        self._store[key] = value
        if correction:
            self._store[_FIXED][key] = value

    def _take_number(self, key: str, label: str) -> tuple[str, float] | None:
        """The raw URL text of ``key`` and its number; ``None`` if absent or not a number."""
        raw = self._take(key)
        if raw is None:
            return None
        try:
            return raw, parse_float(raw)
        except ValueError:
            self.notice(f"Ignored {label} = {quote(raw)} from the link: not a number.")
            return None

    def check_number(
        self, key: str, label: str, low: float | None, high: float | None, *, integer: bool = False
    ) -> None:
        if (taken := self._take_number(key, label)) is None:
            return
        raw, value = taken
        fixed = clamp(value, low, high)
        if fixed != value:
            if integer:
                fixed = int(round(fixed))
            self.notice(
                f"{label} = {quote(raw)} from the link is outside {fmt_range(low, high)}; "
                f"using {fmt_number(fixed)}."
            )
            self._set(key, fixed)
        elif integer and not float(value).is_integer():
            fixed = int(round(value))
            self.notice(
                f"{label} = {quote(raw)} from the link is not a whole number; using {fixed}."
            )
            self._set(key, fixed)

    def check_grid(self, key: str, label: str, grid: Sequence[float], log: bool) -> None:
        if (taken := self._take_number(key, label)) is None:
            return
        raw, value = taken
        fixed = snap(value, grid, log)
        if fmt_number(fixed) != raw:
            self.notice(
                f"{label} = {quote(raw)} from the link is not one of the slider's values; "
                f"using {fmt_number(fixed)}."
            )
            self._set(key, fixed)

    @staticmethod
    def _spellings(labels: dict[Any, str]) -> dict[str, Any]:
        # a link may name an option by its key ("rmsprop") or as shown ("RMSprop")
        return {**{str(k): k for k in labels}, **{v: k for k, v in labels.items()}}

    def check_choice(self, key: str, label: str, labels: dict[Any, str]) -> None:
        """``labels`` maps each option to its display text (what the URL normally holds)."""
        raw = self._take(key)
        if raw is None:
            return
        choices = self._spellings(labels)
        if raw in choices:
            self._set(key, choices[raw], correction=raw != labels[choices[raw]])
        else:
            self.notice(f"Ignored {label} = {quote(raw)} from the link: unknown value.")

    def check_many(self, key: str, label: str, labels: dict[Any, str], max_n: int) -> None:
        raw = self._take(key, many=True)
        if raw is None:
            return
        choices = self._spellings(labels)
        picked: list[Any] = []
        for item in raw:
            if item not in choices:
                self.notice(f"Ignored {label} {quote(item)} from the link: unknown value.")
            elif choices[item] not in picked:
                picked.append(choices[item])
        if len(picked) > max_n:
            self.notice(f"The link asks for {len(picked)} {label}s; showing the first {max_n}.")
            picked = picked[:max_n]
        if picked:
            exact = [labels[p] for p in picked] == raw
            self._set(key, picked, correction=not exact)

    def check_bool(self, key: str, label: str) -> None:
        raw = self._take(key)
        if raw is None:
            return
        lowered = raw.strip().lower()
        exact = lowered in ("true", "false")  # what Streamlit itself writes and reads
        if lowered in ("true", "1", "yes", "on"):
            self._set(key, True, correction=not exact)
        elif lowered in ("false", "0", "no", "off"):
            self._set(key, False, correction=not exact)
        else:
            self.notice(f"Ignored {label} = {quote(raw)} from the link: expected true or false.")

    def check_flag(self, key: str, label: str) -> None:
        """A yes/no switch read straight from the URL (no widget): only a notice if unusable."""
        raw = self._take(key)
        if raw is not None and raw.strip().lower() not in _FLAG_WORDS:
            self.notice(f"Ignored {label} = {quote(raw)} from the link: expected 1 or 0.")

    # -- writing the link ------------------------------------------------------------
    def record(self, key: str, text: str | list[str] | None) -> None:
        """Remember a non-default setting (``None`` means: at its default, leave it out)."""
        if text is None or text == []:
            self.params.pop(key, None)
        else:
            self.params[key] = text

    def link(self, base: str | None, **extra: str) -> str:
        """The address that reproduces the current settings."""
        query = urlencode({**self.params, **extra}, doseq=True)
        parts = urlsplit(base or "")
        root = f"{parts.scheme}://{parts.netloc}{parts.path or '/'}" if parts.netloc else ""
        return f"{root}?{query}" if query else (root or "?")


_FLAG_WORDS = ("1", "true", "yes", "on", "0", "false", "no", "off", "")


def classroom_requested(query: Any) -> bool:
    """``classroom=1`` (or true/yes) in the URL."""
    return str(query.get("classroom", "")).strip().lower() in _FLAG_WORDS[:4]
