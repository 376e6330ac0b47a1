"""AppTest of the Algorithms page: every rule, symbol table and live example is there."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import optim
from ui import algorithms


def open_algorithms(query: dict | None = None) -> AppTest:
    # the router knows its pages' addresses after a first run (the landing page)
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    at.query_params = dict(query or {})
    at.switch_page("app_pages/algorithms.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_tab(at: AppTest, label: str) -> AppTest:
    """Open an optimizer's tab, as a click on it does."""
    at.session_state["algo"] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_only_the_open_tab_is_built_and_the_link_names_it():
    at = open_algorithms()
    assert [h.value for h in at.subheader] == [optim.OPTIMIZERS["sgd"].label]
    adam = optim.OPTIMIZERS["adam"]
    at = open_algorithms({"algo": adam.label})
    assert [h.value for h in at.subheader] == [adam.label]
    rules = [x.value.strip("$\n") for x in at.latex]
    assert adam.latex in rules and optim.OPTIMIZERS["sgd"].latex not in rules
    assert len(at.dataframe) == 2  # its live example and the weight-decay demo
    bad = open_algorithms({"algo": "no such optimizer"})
    assert "Ignored optimizer = `no such optimizer` from the link" in bad.warning[0].value
    assert [h.value for h in bad.subheader] == [optim.OPTIMIZERS["sgd"].label]


def test_every_optimizer_has_its_rule_symbols_and_live_numbers():
    at = open_algorithms()
    assert at.title[0].value == "The algorithms"
    for name, cls in optim.OPTIMIZERS.items():
        open_tab(at, cls.label)
        latex = [x.value.strip("$\n") for x in at.latex]
        markdown = "\n".join(m.value for m in at.markdown)
        tables = [df.value for df in at.dataframe]
        assert cls.latex in latex, name
        for spec in cls.slider_specs():
            assert f"`{spec['key']}" in markdown, (name, spec["key"])
        # the other symbols of the rule: their own table, every one with its meaning
        assert algorithms.state_symbol_table(cls) in markdown, name
        for symbol, field, meaning in cls.symbols:
            stored = f"`{field}`" if field else "computed each step"
            assert f"| ${symbol}$ | {stored} | {meaning} |" in markdown, (name, symbol)
        # the live example labels every state column with its symbol, as plain text
        symbols = {field: sym for sym, field, _ in cls.symbols if field}
        fields = [f for f in cls().init(np.zeros(2))._fields if f != "count"]
        columns = {f"{f} ({algorithms.unicode_symbol(symbols[f])})" for f in fields}
        live = [t for t in tables if columns <= set(t.columns) and "gradient g_t" in t]
        assert live, f"no live example for {name}"
        assert not any("\\" in c or "$" in c for c in live[0].columns), list(live[0].columns)
        # the numbers move: the parameters after the steps differ from the start
        assert live[0]["parameters θ_t"].iloc[-1] != live[0]["parameters θ_t"].iloc[0]


def test_state_columns_carry_their_symbols_in_plain_text():
    columns = list(algorithms.live_example("adam", steps=1)[0])
    assert columns == [
        "step t",
        "parameters θ_t",
        "gradient g_t",
        "exp_avg (m_t)",
        "exp_avg_sq (v_t)",
        "max_exp_avg_sq (v^max_t)",
    ]
    for cls in optim.OPTIMIZERS.values():
        for symbol, _, _ in cls.symbols:
            plain = algorithms.unicode_symbol(symbol)
            assert plain and not set(plain) & set("\\{}$"), (cls.name, symbol, plain)


def test_weight_decay_section_shows_both_forms():
    at = open_algorithms()
    latex = [x.value.strip("$\n") for x in at.latex]
    assert algorithms.COUPLED in latex and algorithms.DECOUPLED in latex


def test_decoupled_decay_pulls_every_coordinate_alike_coupled_does_not():
    rows = algorithms.weight_decay_demo(**algorithms.WD_DEMO)
    assert rows is not None, "the registry has Adam and AdamW: the demonstration must run"
    by_name = {r["optimizer"]: r for r in rows}
    pulls = {
        name: [float(v) for k, v in r.items() if k.startswith("pull")]
        for name, r in by_name.items()
    }
    adam, adamw = pulls[optim.OPTIMIZERS["adam"].label], pulls[optim.OPTIMIZERS["adamw"].label]
    # AdamW shrinks both coordinates alike (equal starts) and visibly; Adam feeds
    # the decay through its normalisation, where it is all but divided away
    assert adamw[0] == pytest.approx(adamw[1], rel=1e-3)
    assert min(adamw) > 100 * max(abs(v) for v in adam)


def test_live_example_is_the_optimizer_itself():
    rows = algorithms.live_example("sgd", steps=3, lr=0.1)
    surface = optim.make_surface(algorithms.DEMO_SURFACE)
    p = np.asarray(surface.start, dtype=np.float64)
    for row in rows[1:]:
        p = p - 0.1 * surface.grad(p)
        assert row["parameters θ_t"] == "(" + ", ".join(f"{v:.6g}" for v in p) + ")"


def test_every_torch_optimizer_shows_its_pytorch_line():
    at = open_algorithms()
    for cls in optim.OPTIMIZERS.values():
        open_tab(at, cls.label)
        calls = [c.value for c in at.code if c.language == "python"]
        if cls.torch_class is not None:
            assert any(c.startswith(f"torch.optim.{cls.torch_class}(") for c in calls), cls.name
        else:
            assert not calls
            assert any("not part of `torch.optim`" in m.value for m in at.markdown)
        if cls.name == "nesterov":
            nesterov = "torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, nesterov=True)"
            assert calls == [nesterov]
