"""The client's answers as pandas DataFrames, with one convention for what is missing.

pandas would show a missing owner as ``None`` in one frame and ``NaN`` in another (it depends
on whether any row of the column has a string); every text column here holds ``None``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mllineage.model.domain import RUN_MAPS

ENTITY_COLUMNS = ["uid", "kind", "namespace", "name", "owner"]
NODE_COLUMNS = [*ENTITY_COLUMNS, "depth", "state"]
IMPACT_COLUMNS = ["role", *NODE_COLUMNS, "path", "live", "deprecated", "retired", "retired_at"]
WHAT_IF_COLUMNS = ["role", *ENTITY_COLUMNS, "depth", "loses", "replacement", "path"]
RUN_COLUMNS = ["id", "process", "status", "started_at", "ended_at", "experiment"]
TIME_COLUMNS = ("started_at", "ended_at", "event_time", "nominal_start_time", "nominal_end_time")
IMPACT_ROLES = (
    "feature_groups", "features", "feature_queries", "training_jobs", "models", "endpoints",
)  # fmt: skip
TEXT_COLUMNS = frozenset({"role", *ENTITY_COLUMNS, "state", "loses", "replacement"}) | frozenset(
    # the reports' (mllineage.analysis.reports.COLUMNS)
    {"replaced_by", "reason", "consumer_owner", "duplicate_owner", "endpoint_owner", "model_owner"}
)


def frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """``rows`` as a DataFrame of ``columns``; a missing text value is ``None``."""
    table = pd.DataFrame(rows, columns=columns)
    for column in TEXT_COLUMNS.intersection(columns):
        values = table[column].astype(object)
        table[column] = values.where(values.notna(), None)
    return table


def state(item: dict[str, Any]) -> str:
    """What an answer's node or impact item is now, in a word or two: ``retired <date>``,
    ``deprecated``, ``not serving`` (an impact item that serves no live endpoint), ``live``."""
    if item.get("retired_at") or item.get("retired"):
        return f"retired {str(item.get('retired_at') or '')[:10]}".rstrip()
    if item.get("live") is False:
        return "not serving"
    return "deprecated" if item.get("deprecated") else "live"


def nodes_frame(answer: dict[str, Any]) -> pd.DataFrame:
    """The nodes of a walk, nearest first; ``attrs["truncated"]`` says whether a limit cut it."""
    table = frame([{**node, "state": state(node)} for node in answer["nodes"]], NODE_COLUMNS)
    table.attrs["truncated"] = answer["truncated"]
    return table


def impact_frame(report: dict[str, Any]) -> pd.DataFrame:
    """One row per affected feature group, feature, feature query, training job, model and
    endpoint; the report's totals in attrs."""
    rows = [
        {"role": role, **item, "state": state(item)}
        for role in IMPACT_ROLES
        for item in report.get(role, [])  # an older service answers fewer roles
    ]
    table = frame(rows, IMPACT_COLUMNS)
    keys = ("total", "counts", "owners", "live_endpoints", "truncated")
    table.attrs.update({k: report[k] for k in keys})
    return table


def what_if_frame(report: dict[str, Any]) -> pd.DataFrame:
    """One row per live endpoint and model that would lose an input; totals in attrs."""
    rows = [{"role": role, **item} for role in ("endpoints", "models") for item in report[role]]
    table = frame(rows, WHAT_IF_COLUMNS)
    table.attrs.update({k: report[k] for k in ("retire", "live_endpoints", "owners")})
    return table


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
