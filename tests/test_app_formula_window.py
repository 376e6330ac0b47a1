"""AppTest: a typed formula's window on the Playground (link round trip, notices) and its kinks."""

from __future__ import annotations

import numpy as np

from tests.test_app_playground import FAST, chart, link_query, results, run_app, warnings_text

FAR = "(x - 7)**2 + 2*(y + 5)**2"  # minimum (7, -5), outside the default window
WIDE = {"xmin": "0", "xmax": "10", "ymin": "-10", "ymax": "0"}


def custom(formula: str, **window: str) -> dict:
    return {**FAST, "surface": "custom", "formula": formula, **window}


def shown(markdown: str) -> str:
    """The text a reader sees in an escaped message."""
    return markdown.replace("\\", "")


def axis_ranges(fig: dict) -> tuple[list, list]:
    layout = fig["layout"]
    return layout["xaxis"]["range"], layout["yaxis"]["range"]


def test_a_chosen_window_is_drawn_checked_and_run_on_and_the_link_keeps_it():
    at = run_app(custom(FAR, **WIDE))
    assert not at.error and not at.warning, warnings_text(at)
    xr, yr = axis_ranges(chart(at))
    assert xr[0] <= 0 and xr[1] >= 10 and yr[0] <= -10 and yr[1] >= 0
    assert xr[1] - xr[0] < 12 and yr[1] - yr[0] < 12  # the window, not something wider
    # the start is inside the window, and the minimum the window holds is found
    assert 0 <= at.number_input(key="x0").value <= 10
    assert -10 <= at.number_input(key="y0").value <= 0
    assert results(at)["distance to nearest minimum"].notna().all()
    query = link_query(at)
    assert {k: query[k] for k in WIDE} == WIDE
    again = run_app(query)
    assert [again.number_input(key=k).value for k in WIDE] == [0, 10, -10, 0]
    assert results(again).equals(results(at))


def test_the_default_window_stays_out_of_the_link_and_typing_a_window_puts_it_in():
    at = run_app(custom(FAR))
    assert not any(k in link_query(at) for k in WIDE)
    assert results(at)["distance to nearest minimum"].isna().all()  # no minimum in [-3, 3]²
    for key, value in zip(WIDE, (0, 10, -10, 0), strict=True):
        at.number_input(key=key).set_value(value).run()
    assert not at.exception and not at.error
    assert {k: link_query(at)[k] for k in WIDE} == WIDE
    assert results(at)["distance to nearest minimum"].notna().all()
    # a changed window moves the start to the same place in the new window
    assert (at.number_input(key="x0").value, at.number_input(key="y0").value) == (
        10 / 6,
        -10 / 6,
    )


def test_window_bounds_beyond_the_limit_in_a_link_are_clamped_with_a_notice():
    at = run_app(custom("x**2 + y**2", xmin="-1e6", xmax="nan", ymin="abc", ymax="2"))
    text = warnings_text(at)
    assert "x from = `-1e6` from the link is outside [-1000, 1000]; using -1000." in text
    assert "Ignored x to = `nan` from the link: not a number." in text
    assert "Ignored y from = `abc` from the link: not a number." in text
    assert at.number_input(key="xmin").value == -1000
    xr, yr = axis_ranges(chart(at))
    assert xr[0] <= -1000 and 2 <= yr[1] < 3
    # from the next interaction on, the address bar holds the corrected value
    at.toggle(key="view3d").set_value(True).run()
    assert float(at.query_params["xmin"]) == -1000


def test_an_empty_range_is_replaced_by_the_default_with_a_notice():
    at = run_app(custom("x**2 + y**2", xmin="5", xmax="1"))
    assert "The x range from 5 to 1 is empty" in warnings_text(at)
    assert "Using [-3, 3] for x." in warnings_text(at)
    xr, _ = axis_ranges(chart(at))
    assert xr[0] < -2.9 and xr[1] > 2.9
    # typed, the same
    at = run_app(custom("x**2 + y**2"))
    at.number_input(key="ymax").set_value(-3).run()
    assert "The y range from -3 to -3 is empty" in warnings_text(at)


def test_a_formula_refused_on_one_window_is_used_on_another():
    at = run_app(custom("1/x + y**2"))
    assert at.error and "not finite at (x, y) = (0" in shown(at.error[0].value)
    good = run_app(custom("1/x + y**2", xmin="0.5", xmax="4"))
    assert not good.error
    assert np.isfinite(results(good)["final loss"]).all()
    # a window that brings the pole back: refused, and the last good surface stays
    good.number_input(key="xmin").set_value(-1.0).run()
    assert not good.exception
    assert good.error and "in the window [-1, 4] x [-3, 3]" in shown(good.error[0].value)
    assert np.isfinite(results(good)["final loss"]).all()


def test_the_cone_runs_and_the_page_says_where_its_kink_is_and_what_gradient_is_used():
    at = run_app(custom("sqrt(x**2 + y**2)"))
    assert not at.error
    note = " ".join(i.value for i in at.info)
    assert "kink" in note and "at (0, 0) the runs use (0, 0)" in note
    assert "NaN" in note  # torch's autograd differs there, and the page says so
    table = results(at)
    assert np.isfinite(table["final loss"]).all()
    assert (table["final loss"] < np.hypot(2, 2)).all()
    plain = run_app(custom("x**2 + y**2"))
    assert not any("kink" in i.value for i in plain.info)


def test_a_flat_gradient_norm_gets_its_axis_at_once():
    # the cone's slope is 1 everywhere: the panel's values differ in the last bit only, and
    # a tick step below rounding once looped forever
    from ui.figures.style import log_axis, nice_ticks

    assert nice_ticks(0.9999999999999999, 1.0) == [0.9999999999999999]
    axis = log_axis([np.array([1.0, 0.9999999999999999, 1.0])])
    assert axis["tickvals"] == [0.9999999999999999] and "range" in axis


def test_fix_window_keeps_a_good_window_and_replaces_an_empty_range_by_the_default():
    from ui.custom import fix_window, window_of

    params, notes = fix_window({"xmin": 0, "xmax": 10, "ymin": -10, "ymax": 0})
    assert window_of(params) == ((0.0, 10.0), (-10.0, 0.0)) and notes == []
    params, notes = fix_window({"xmin": 2, "xmax": 2.005, "ymin": -1, "ymax": 1})
    assert window_of(params) == ((-3.0, 3.0), (-1.0, 1.0))
    assert notes == [
        "The x range from 2 to 2.005 is empty or too narrow: its end must be at least 0.01 "
        "above its start. Using [-3, 3] for x."
    ]
    assert fix_window({"xmin": -3, "xmax": 3, "ymin": -3, "ymax": 3}) == ((), [])


def test_the_formula_in_the_about_label_reads_as_typed_not_as_markdown():
    at = run_app(custom("sqrt(x**2 + y**2)"))
    label = next(e.label for e in at.expander if "About this surface" in e.label)
    assert shown(label) == "About this surface: Custom: sqrt(x**2 + y**2)"
    assert "x**2" not in label  # escaped: Markdown would show "x2 + y2" in bold
