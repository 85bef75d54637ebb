"""Rows <-> domain: the rows the write queries take, the fields of the models a read returns,
and the opaque cursors of paged lists."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any

from mllineage.ingest.datasets import dataset_candidates
from mllineage.ingest.delta import GraphDelta, missing_edge_ends
from mllineage.ingest.events import StoredRun, pending_output
from mllineage.model.domain import STATUS_RANK, parse_uid
from mllineage.model.errors import InvalidInput
from mllineage.model.properties import (
    COMMON_PROPERTIES,
    MAX_PROPERTY_DEPTH,
    RESERVED_NODE_PROPERTIES,
    RUN_PROPERTY_PREFIX,
)
from mllineage.store.queries.writes import RUN_TIMES

# Stored as node properties, returned as fields of their own (the rest go to `properties`).
ENTITY_FIELDS = RESERVED_NODE_PROPERTIES | set(COMMON_PROPERTIES)
RUN_TIME_FIELDS = [key.removeprefix(RUN_PROPERTY_PREFIX) for key in RUN_TIMES]


def entity_fields(node: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Node properties as ``queries.common.properties_of`` returns them -> the fields of EntityOut
    (or a subclass, given its ``extra`` fields): system fields lifted out, the run decoded.
    created_at and updated_at stay ISO text for the model to parse as it validates. A null
    is a key the projection names but the node lacks."""
    fields: dict[str, Any] = {}
    props: dict[str, Any] = {}
    run: dict[str, Any] = {}
    for key, value in node.items():
        if value is None:
            continue
        if key in ENTITY_FIELDS:
            fields[key] = value
        elif key.startswith(RUN_PROPERTY_PREFIX):
            run[key.removeprefix(RUN_PROPERTY_PREFIX)] = value
        else:
            props[key] = value
    if run:
        for key in RUN_TIME_FIELDS:
            if key in run:
                run[key] = _time_or_as_stored(run[key])
        for key in ("parameters", "metrics"):
            if key in run:
                run[key] = _json_or_as_stored(run[key])
    fields.update(
        properties=props,
        run=run or None,
        deprecated=fields.get("deprecated_at") is not None,
        **extra,
    )
    return fields


# No stored value may make a read fail: what an older version let through, or someone wrote
# by hand in Neo4j Browser, is returned as it is stored when it cannot be decoded.


def _time_or_as_stored(value: Any) -> Any:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value


def _json_or_as_stored(text: Any) -> Any:
    """Decoded JSON, unless it is not JSON or nests deeper than a reply can carry."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return text
    return text if _deeper_than(value, MAX_PROPERTY_DEPTH) else value


def _deeper_than(value: Any, levels: int) -> bool:
    if levels < 0:
        return True
    children = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    )
    return any(_deeper_than(child, levels - 1) for child in children)


def write_params(
    delta: GraphDelta,
    stored_runs: dict[str, StoredRun] | None = None,
    merges: Sequence[tuple[str, str]] = (),
    datasets: AbstractSet[str] = frozenset(),
) -> dict[str, Any]:
    """``queries.writes.WRITE``'s one parameter for the delta, its runs merged with
    ``stored_runs`` and its OpenLineage datasets joined with the stored ``datasets``
    (``datasets.join_stored_datasets``, which gave ``merges``). WRITE writes only if the store
    agrees: that it has none of the delta's runs when ``stored_runs`` is None (not read yet),
    and the same other nodes of the datasets to join as ``datasets``."""
    must_exist = missing_edge_ends(delta)
    entities = sorted(delta.nodes.keys() | must_exist | {old for old, _ in merges})
    runs = delta.runs.keys() | {run.parent for run in delta.runs.values() if run.parent}
    candidates = dataset_candidates(delta)
    nodes = node_rows(delta)
    node_at = {row["uid"]: i for i, row in enumerate(nodes)}
    lock_at = {uid: i for i, uid in enumerate(entities)}
    merged = {uid for pair in merges for uid in pair}
    return {
        "run_ids": sorted(delta.runs) if stored_runs is None else [],
        "datasets": [{"uid": uid, "other": other} for uid, other in candidates],
        "joined_with": [uid for uid, other in candidates if other and uid in datasets],
        "lock": [{"uid": uid, "node": node_at.get(uid)} for uid in entities],
        "lock_runs": sorted(runs),
        "must_exist": sorted(must_exist),
        "nodes": nodes,
        "merges": [list(pair) for pair in merges],
        "edges": edge_rows(delta, lock_at, merged),
        "runs": run_rows(delta, stored_runs),
    }


def node_rows(delta: GraphDelta) -> list[dict[str, Any]]:
    """The write's node rows (``queries.writes.WRITE``), in uid order; times as ISO strings."""
    return [
        {
            "uid": node.uid,
            "kind": node.kind.value,
            "namespace": node.namespace,
            "name": node.name,
            "first_seen": _iso(node.first_seen),
            "last_seen": _iso(node.last_seen),
            "props": node.props,
            # The latest run's times travel apart from its other properties.
            "run": node.run and {k: v for k, v in node.run.items() if k not in RUN_TIMES},
            "run_times": node.run and {k: _iso(node.run[k]) for k in RUN_TIMES},
        }
        for node in sorted(delta.nodes.values(), key=lambda n: n.uid)
    ]


def run_rows(delta: GraphDelta, stored: dict[str, StoredRun] | None) -> list[dict[str, Any]]:
    """The write's run rows, in id order; times as ISO strings. ``pending`` is what a run that
    has not completed named as outputs so far (the stored ones and the delta's). ``new``:
    the write may create the run outright, as it writes only if the store has none of the
    delta's runs (``stored`` is None: not read yet), and no run of the delta has it as parent
    (whose row, if first, creates it bare)."""
    parents = {run.parent for run in delta.runs.values()}
    rows = []
    for run in sorted(delta.runs.values(), key=lambda r: r.id):
        was = stored.get(run.id) if stored else None
        pending: set[str] = set()
        if not (run.completed_at or (was and was.completed_at)):
            pending = {pending_output(entity) for entity in run.outputs}
            pending |= set(was.pending if was else ())
        rows.append(
            {
                "id": run.id,
                "process": run.process,
                "producer": run.producer,
                "status": run.status,
                "rank": STATUS_RANK[run.status],
                "status_time": _iso(run.status_time),
                "last_time": _iso(run.last_time),
                "started_at": _iso(run.started_at),
                "ended_at": _iso(run.ended_at),
                "completed_at": _iso(run.completed_at),
                "props": run.props,
                "nominal_start_time": _iso(run.times.get("nominal_start_time")),
                "nominal_end_time": _iso(run.times.get("nominal_end_time")),
                "parent": run.parent,
                "inputs": sorted(run.inputs),
                "wrote": sorted(run.wrote),
                "pending": sorted(pending) or None,
                "new": stored is None and run.id not in parents,
            }
        )
    return rows


def edge_rows(
    delta: GraphDelta, lock_at: dict[str, int], merged: AbstractSet[str]
) -> list[dict[str, Any]]:
    """The write's edge rows, in (source, target, type) order; times as ISO strings. ``ends``:
    where the write's lock step says whether each end was stored (``lock_at``, the index of a
    uid among those it locks); ``may_create``: whether the edge may be created outright when
    an end was not, which it may unless a joined node's edges moved onto an end (``merged``)."""
    return [
        {
            "source": edge.source,
            "target": edge.target,
            "type": edge.type.value,
            "first_seen": _iso(edge.first_seen),
            "last_seen": _iso(edge.last_seen),
            "producer": edge.producer,
            "ends": [lock_at[edge.source], lock_at[edge.target]],
            "may_create": edge.source not in merged and edge.target not in merged,
        }
        for edge in sorted(delta.edges.values(), key=lambda e: (e.source, e.target, e.type))
    ]


@functools.lru_cache(maxsize=4096)
def _iso(value: datetime | None) -> str | None:
    """Cached: a batch's thousands of rows share its few hundred event times, and
    isoformat() is most of the cost of building the rows."""
    return None if value is None else value.isoformat()


def encode_cursor(uid: str) -> str:
    """The cursor of the page that starts after ``uid``."""
    return base64.urlsafe_b64encode(uid.encode()).decode()


def decode_cursor(cursor: str) -> str:
    """The uid a cursor from ``encode_cursor`` holds; InvalidInput for any other string."""
    try:
        uid = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
        parse_uid(uid)
        return uid
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            "cursor is not one this service issued; pass next_cursor from the previous page"
        ) from None
