"""The client's run reads (docs/runs.md): runs as DataFrames, a metric's history and its plot, a
comparison of runs, and the drift check with what changed upstream (``analysis.drift``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mllineage.analysis import drift
from mllineage.client.transport import Calls
from mllineage.model.domain import PROCESS_KINDS, RUN_MAPS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RUN_COLUMNS = ["id", "process", "status", "started_at", "ended_at", "experiment"]
TIME_COLUMNS = ("started_at", "ended_at", "event_time", "nominal_start_time", "nominal_end_time")
MAX_UPSTREAM_PROCESSES = 50  # the most upstream processes a drift report asks about


def runs_frame(runs: list[dict[str, Any]]) -> pd.DataFrame:
    """One row a run, newest first: its fields, then ``params.<k>``, ``metrics.<k>``,
    ``env.<k>`` and ``code.<k>`` columns; times as UTC datetimes."""
    rows = [
        {
            **{k: v for k, v in run.items() if k not in RUN_MAPS},
            **{f"{name}.{k}": v for name in RUN_MAPS for k, v in run.get(name, {}).items()},
        }
        for run in runs
    ]
    table = pd.DataFrame(rows)
    for column in RUN_COLUMNS:
        if column not in table:
            table[column] = None
    for column in TIME_COLUMNS:
        if column in table:
            table[column] = pd.to_datetime(table[column], utc=True, format="ISO8601")
    maps = sorted(c for c in table.columns if c.partition(".")[0] in RUN_MAPS)
    rest = [c for c in table.columns if c not in RUN_COLUMNS and c not in maps]
    return table[[*RUN_COLUMNS, *rest, *maps]]


class RunReads(Calls):
    """Run reads of ``LineageClient``."""

    def run_pages(self, max_runs: int | None = None, **filters: Any) -> Iterator[dict[str, Any]]:
        """Runs newest first, page after page: filters as ``runs``'s."""
        params = {k: v for k, v in filters.items() if v is not None}
        params["limit"] = min(1_000, max_runs or 1_000)
        count = 0
        while True:
            page = self._call("GET", "/v1/runs", params=params)
            for run in page["items"]:
                yield run
                count += 1
                if max_runs is not None and count >= max_runs:
                    return
            if not page["next_cursor"]:
                return
            params["cursor"] = page["next_cursor"]

    def runs(
        self,
        process: str | None = None,
        *,
        experiment: str | None = None,
        produced: str | None = None,
        used: str | None = None,
        status: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = 1_000,
    ) -> pd.DataFrame:
        """Runs newest first as a DataFrame (``runs_frame``): of a process (uid), an
        experiment, that wrote (``produced``) or read (``used``) an artifact (uid), with a
        status, started in [since, until); at most ``limit`` (None: all)."""
        filters = dict(process=process, experiment=experiment, produced=produced, used=used,
                       status=status, since=since, until=until)  # fmt: skip
        return runs_frame(list(self.run_pages(limit, **filters)))

    def run(self, run_id: str) -> dict[str, Any]:
        """One run with its ``inputs``, ``outputs``, ``parent`` and ``children``."""
        return self._call("GET", f"/v1/runs/{run_id}")

    def experiments(self) -> pd.DataFrame:
        """Experiments, the most recently run first: name, runs, processes, first and last."""
        items = self._call("GET", "/v1/experiments")["items"]
        columns = ["name", "runs", "processes", "first_run_at", "last_run_at"]
        table = pd.DataFrame(items, columns=columns)
        for column in ("first_run_at", "last_run_at"):
            table[column] = pd.to_datetime(table[column], utc=True, format="ISO8601")
        return table

    def metric_history(self, process: str, metric: str, limit: int | None = None) -> pd.Series:
        """The metric over the process's runs that logged it, oldest first, indexed by start
        time (the Series' name is the metric)."""
        points = [
            (run["started_at"], run["metrics"][metric])
            for run in self.run_pages(limit, process=process)
            if metric in run["metrics"]
        ]
        index = pd.to_datetime([t for t, _ in points], utc=True, format="ISO8601")
        series = pd.Series([v for _, v in points], index=index, name=metric, dtype=float)
        return series.sort_index()

    def plot_metric(
        self, process: str, metric: str, path: Path | str | None = None, limit: int | None = None
    ) -> Figure:
        """A line chart of the metric over the process's runs (matplotlib); a PNG at ``path``
        when given."""
        from matplotlib.figure import Figure  # not pyplot: no GUI backend, safe in threads

        history = self.metric_history(process, metric, limit)
        figure = Figure(figsize=(8, 3.5), layout="constrained")
        axes = figure.subplots()
        axes.plot(history.index, history.to_numpy(), marker="o", markersize=3)
        axes.set_title(f"{metric} of {process}")
        axes.set_ylabel(metric)
        axes.grid(alpha=0.3)
        figure.autofmt_xdate()
        if path is not None:
            figure.savefig(path, dpi=100)
        return figure

    def compare_runs(self, run_ids: Iterable[str]) -> pd.DataFrame:
        """What differs between runs: one row per param, metric, env and code key (and their
        inputs) whose values are not all equal, one column per run."""
        runs = [self.run(run_id) for run_id in run_ids]
        return drift.differences(runs)

    def drift(
        self,
        process: str,
        metric: str,
        *,
        window: int = 10,
        sigma: float | None = None,
        min_drop: float | None = None,
    ) -> drift.DriftReport:
        """Whether the newest run's metric falls outside the band of the ``window`` runs
        before it (mean ± ``sigma`` standard deviations, default 3; or more than ``min_drop``
        below the mean), and what changed upstream since the last good run. A process that
        does not exist is a ``LineageAPIError`` (404)."""
        self._call("GET", f"/v1/entities/{process}")
        runs = [r for r in self.run_pages(None, process=process) if metric in r["metrics"]]
        report = drift.check(runs[: window + 1], metric, sigma=sigma, min_drop=min_drop)
        if report.drifted and report.newest is not None and report.last_good is not None:
            newest, good = self.run(report.newest["id"]), self.run(report.last_good["id"])
            report.changes = drift.run_changes(good, newest)
            report.upstream = self._upstream_changes(newest, good)
        return report

    def _upstream_changes(self, newest: dict[str, Any], good: dict[str, Any]) -> list[str]:
        """Runs of the processes upstream of ``newest``'s inputs between the two runs' starts,
        each with what it wrote and how its params and code differ from the run before."""
        processes: set[str] = set()
        for item in newest["inputs"]:
            walk = self._call(
                "GET", "/v1/lineage", params={"uid": item["uid"], "direction": "upstream"}
            )
            processes |= {n["uid"] for n in walk["nodes"] if n["kind"] in PROCESS_KINDS}
        processes.discard(newest["process"])  # its own runs are the window, not upstream
        changes = []
        for process in sorted(processes)[:MAX_UPSTREAM_PROCESSES]:
            between = list(
                self.run_pages(
                    None, process=process, since=good["started_at"], until=newest["started_at"]
                )  # fmt: skip
            )
            if not between:
                continue
            before = list(self.run_pages(1, process=process, until=good["started_at"]))
            for run in reversed(between):
                detail = self.run(run["id"])
                changes.append(drift.describe_upstream_run(detail, before[0] if before else None))
                before = [run]
        return changes
