"""The drift check and run comparisons (``mllineage.analysis.drift``), without Neo4j."""

from __future__ import annotations

import statistics
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mllineage.analysis.drift import MIN_WINDOW, check, differences, run_changes


def run(i: int, value: float, **fields: Any) -> dict[str, Any]:
    return {"id": f"r{i}", "started_at": f"2026-11-{i + 1:02d}T00:00:00Z",
            "metrics": {"m": value}, "params": {}, "inputs": [], **fields}  # fmt: skip


values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(values, min_size=MIN_WINDOW + 1, max_size=30), st.floats(0.5, 5))
def test_the_band_is_mean_plus_minus_sigma_stdevs(series: list[float], sigma: float) -> None:
    runs = [run(i, v) for i, v in enumerate(series)]  # newest first
    report = check(runs, "m", sigma=sigma)
    window = series[1:]
    mean, stdev = statistics.fmean(window), statistics.stdev(window)
    assert report.mean == mean and report.stdev == stdev
    outside = abs(series[0] - mean) > sigma * stdev
    # Exactly on the edge is inside; floating point may put a value a hair either way.
    if abs(abs(series[0] - mean) - sigma * stdev) > 1e-9 * (1 + abs(mean)):
        assert report.drifted == outside
    good = [i for i, v in enumerate(window, 1) if report.low <= v <= report.high]  # type: ignore[operator]
    assert report.last_good == (runs[good[0]] if good else None)


def test_min_drop_is_one_sided() -> None:
    steady = [run(i, 0.9) for i in range(1, 6)]
    assert not check([run(0, 0.95), *steady], "m", min_drop=0.05).drifted
    assert not check([run(0, 0.85), *steady], "m", min_drop=0.05).drifted
    assert check([run(0, 0.84), *steady], "m", min_drop=0.05).drifted


def test_too_little_history_is_no_verdict() -> None:
    report = check([run(0, 1.0), run(1, 0.5)], "m")
    assert not report.drifted and report.mean is None and "not enough history" in report.text()


def test_changes_name_inputs_params_and_code_but_not_metrics() -> None:
    before = run(1, 0.9, inputs=[{"uid": "a"}, {"uid": "b"}], params={"lr": 0.1},
                 code={"commit": "x"})  # fmt: skip
    after = run(0, 0.5, inputs=[{"uid": "b"}, {"uid": "c"}], params={"lr": 0.2},
                code={"commit": "x"})  # fmt: skip
    assert run_changes(before, after) == [
        "inputs added: c", "inputs dropped: a", "params.lr: 0.1 -> 0.2"
    ]  # fmt: skip


def test_differences_keep_only_what_differs() -> None:
    a = run(1, 0.9, params={"lr": 0.1, "depth": 6}, inputs=[{"uid": "d"}])
    b = run(2, 0.8, params={"lr": 0.1, "depth": 8}, inputs=[{"uid": "d"}])
    table = differences([a, b])
    assert table.to_dict(orient="index") == {
        "metrics.m": {"r1": 0.9, "r2": 0.8}, "params.depth": {"r1": 6, "r2": 8}
    }  # fmt: skip
    # an int param stays an int beside a float metric (8, not 8.0, in the CLI's table)
    assert [type(value) for value in table.loc["params.depth"]] == [int, int]
