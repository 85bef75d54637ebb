"""Metric drift over a process's runs, and what changed between two runs (pure, no I/O).

The check a cron job or CI step runs (``mllineage drift``): the newest run's metric against
the band of the runs before it; when it falls outside, the report names what changed since the
last good run (its inputs, params and code, and the upstream runs in between, which the client
gathers).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from mllineage.model.domain import RUN_MAPS

DEFAULT_SIGMA = 3.0
MIN_WINDOW = 3  # fewer runs before the newest than this: no band to speak of


@dataclass
class DriftReport:
    metric: str
    newest: dict[str, Any] | None  # the newest run that logged the metric
    value: float | None
    window: int  # how many runs before it the band is made of
    mean: float | None = None
    stdev: float | None = None
    low: float | None = None
    high: float | None = None
    drifted: bool = False
    last_good: dict[str, Any] | None = None  # the newest run before it inside the band
    changes: list[str] = field(default_factory=list)  # between last_good and newest
    upstream: list[str] = field(default_factory=list)  # upstream runs in between

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        if self.newest is None or self.mean is None:
            return (
                f"not enough history: {self.window} earlier run(s) logged {self.metric!r}; "
                f"the check needs at least {MIN_WINDOW}"
            )
        band = f"[{_num(self.low)}, {_num(self.high)}]"
        lines = [
            f"{self.metric} of run {self.newest['id']} ({self.newest['started_at']}): "
            f"{_num(self.value)}; the {self.window} runs before: mean {_num(self.mean)}, "
            f"stdev {_num(self.stdev)}, band {band}",
            "DRIFT: outside the band" if self.drifted else "ok: inside the band",
        ]
        if self.drifted and self.last_good is not None:
            lines.append(
                f"what changed since the last good run {self.last_good['id']} "
                f"({self.last_good['started_at']}, {self.metric} "
                f"{_num(self.last_good['metrics'][self.metric])}):"
            )
            lines += [f"  {change}" for change in self.changes] or [
                "  its own inputs, params and code: unchanged"
            ]
            lines += [f"  upstream: {change}" for change in self.upstream] or [
                "  upstream: no upstream run in between"
            ]
        return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def check(
    runs: list[dict[str, Any]],
    metric: str,
    *,
    sigma: float | None = None,
    min_drop: float | None = None,
) -> DriftReport:
    """``runs`` newest first, each with the metric: the newest against the others. The band
    is mean ± ``sigma`` stdevs (default 3), or, with ``min_drop``, anything not more than
    ``min_drop`` below the mean."""
    if sigma is not None and min_drop is not None:
        raise ValueError("give --sigma or --min-drop, not both")
    if not runs or len(runs) - 1 < MIN_WINDOW:
        return DriftReport(metric, runs[0] if runs else None, None, max(0, len(runs) - 1))
    newest, window = runs[0], runs[1:]
    values = [float(run["metrics"][metric]) for run in window]
    mean, stdev = statistics.fmean(values), statistics.stdev(values)
    if min_drop is not None:
        low, high = mean - min_drop, float("inf")
    else:
        spread = (DEFAULT_SIGMA if sigma is None else sigma) * stdev
        low, high = mean - spread, mean + spread
    value = float(newest["metrics"][metric])
    last_good = next((run for run, v in zip(window, values, strict=True) if low <= v <= high), None)
    drifted = not low <= value <= high
    return DriftReport(
        metric, newest, value, len(window), mean, stdev, low, high, drifted, last_good
    )


def _flat(run: dict[str, Any]) -> dict[str, Any]:
    return {f"{name}.{k}": v for name in RUN_MAPS for k, v in run.get(name, {}).items()}


def _uids(items: list[dict[str, Any]]) -> set[str]:
    return {item["uid"] for item in items}


def run_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Inputs added and dropped, and params, env and code that differ (metrics left out:
    they are the outcome, not a cause)."""
    changes = []
    if added := sorted(_uids(after["inputs"]) - _uids(before["inputs"])):
        changes.append(f"inputs added: {', '.join(added)}")
    if dropped := sorted(_uids(before["inputs"]) - _uids(after["inputs"])):
        changes.append(f"inputs dropped: {', '.join(dropped)}")
    old, new = _flat(before), _flat(after)
    for key in sorted(old.keys() | new.keys()):
        if not key.startswith("metrics.") and old.get(key) != new.get(key):
            changes.append(f"{key}: {old.get(key)!r} -> {new.get(key)!r}")
    return changes


def describe_upstream_run(run: dict[str, Any], previous: dict[str, Any] | None) -> str:
    """An upstream run in between: when, what it wrote, and how it differs from the run of
    the same process before it."""
    wrote = ", ".join(sorted(_uids(run["outputs"]))) or "nothing"
    text = f"{run['process']} ran {run['started_at']} (run {run['id']}, {run['status']})"
    text += f", wrote {wrote}"
    if previous is None:
        return f"{text}; its first run"
    old, new = _flat(previous), _flat(run)
    diffs = [
        f"{key}: {old.get(key)!r} -> {new.get(key)!r}"
        for key in sorted(old.keys() | new.keys())
        if not key.startswith("metrics.") and old.get(key) != new.get(key)
    ]
    return f"{text}; " + ("; ".join(diffs) if diffs else "same params and code as before")


def differences(runs: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per key whose values differ across ``runs`` (params, metrics, env, code, and
    ``inputs``), one column per run id; a missing value is None."""
    flats = [{**_flat(run), "inputs": ", ".join(sorted(_uids(run["inputs"])))} for run in runs]
    keys = sorted(set().union(*flats)) if flats else []
    rows = {
        key: [flat.get(key) for flat in flats]
        for key in keys
        if len({repr(flat.get(key)) for flat in flats}) > 1
    }
    # object columns: a run's column holds params and metrics of several types, and pandas
    # would otherwise show an int param as a float (8.0) beside a float metric
    ids = [run["id"] for run in runs]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=ids, dtype=object)
    return table.where(table.notna(), None)
