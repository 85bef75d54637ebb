"""Writing a graph delta: all of it lands in one transaction, or none of it does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from mllineage.ingest.datasets import fold_datasets, join_stored_datasets
from mllineage.ingest.delta import EdgeKey, GraphDelta, combine
from mllineage.ingest.events import StoredRun, complete_runs
from mllineage.model.domain import ARTIFACT_KINDS, EdgeType, Kind
from mllineage.model.errors import InvalidInput, Unavailable
from mllineage.model.views import WriteSummary
from mllineage.store.database import BigParameter, Database, Statements
from mllineage.store.queries.writes import (
    MERGE_NODES,
    SPLIT_DATASETS,
    WRITE,
)
from mllineage.store.rows import write_params


def _stored_run(stored: dict[str, Any]) -> StoredRun:
    """A run as the store has it (``events.complete_runs`` merges the delta's with it)."""
    completed_at = stored["completed_at"]
    return StoredRun(
        process=stored["process"],
        completed_at=completed_at and datetime.fromisoformat(completed_at),
        pending=tuple(stored["pending"]),
    )


async def write(
    db: Database, deltas: list[GraphDelta], queued_at: float | None = None
) -> list[WriteSummary]:
    """Apply the deltas of one or more requests in one transaction (``group_commit``), in this
    process's write turn; one summary per delta. ``queued_at``: when the oldest of them was
    queued (``time.monotonic``), for the metrics.

    Edge ends that the deltas do not create must exist already, else InvalidInput and
    nothing is written. Writers cannot deadlock one another (in this process or another):
    each first locks every stored node it will touch, in one global order
    (``queries.writes.WRITE``), and touches a relationship only while holding both its ends.
    """
    group = deltas[0] if len(deltas) == 1 else combine(deltas)

    async def work(tx: Statements) -> tuple[GraphDelta, set[str], set[EdgeKey]]:
        # WRITE again until the store has what the delta was merged and joined with: twice
        # when it has some of the runs or other nodes of the datasets; three times when a run
        # completed by the store's pending outputs brings datasets of its own to join; once
        # more if a concurrent write changed them meanwhile.
        stored_runs: dict[str, StoredRun] | None = None
        datasets: set[str] = set()
        for _ in range(4):
            complete_runs(group, stored_runs or {})
            joined, merges = join_stored_datasets(fold_datasets(group), datasets)
            params = write_params(joined, stored_runs, merges, datasets)
            record = await (await tx.run(WRITE, delta=BigParameter(params))).single(strict=True)
            if record["wrote"]:
                break
            stored_runs = {run["id"]: _stored_run(run) for run in record["stored"]}
            datasets = set(record["datasets"])
        else:
            raise Unavailable("the runs or datasets it names kept changing; send it again")
        if record["missing"]:  # WRITE wrote nothing; in a transaction, it fails
            raise InvalidInput(
                "edges name entities that do not exist and are not among the request's "
                f"nodes: {', '.join(record['missing'])}; add them to 'nodes' first"
            )
        nodes_created = set(record["nodes_created"])
        edges_created = {(s, t, EdgeType(type_)) for s, t, type_ in record["edges_created"]}
        return joined, nodes_created, edges_created

    rows = len(group.nodes) + len(group.edges) + len(group.runs)
    # Only the last WRITE writes, all or nothing, so each may commit by itself.
    joined, nodes_created, edges_created = await db.write(
        work, rows=rows, group=len(deltas), queued_at=queued_at, autocommit=True
    )
    if len(deltas) == 1:
        return [
            WriteSummary(
                nodes=len(joined.nodes),
                edges=len(joined.edges),
                nodes_created=len(nodes_created),
                edges_created=len(edges_created),
            )
        ]
    return _shares(deltas, joined, nodes_created, edges_created)


def _shares(
    deltas: list[GraphDelta],
    joined: GraphDelta,
    nodes_created: set[str],
    edges_created: set[EdgeKey],
) -> list[WriteSummary]:
    """Each request's summary of a group's write, as it would be alone: its nodes and edges
    as the group stored them (an OpenLineage dataset under the uid it joined), and the
    outputs of the runs it completed; what was created counted for the first that has it."""
    stored_as = {node.dataset_key: uid for uid, node in joined.nodes.items() if node.openlineage}
    summaries = []
    for delta in deltas:

        def final(uid: str, delta: GraphDelta = delta) -> str:
            node = delta.nodes.get(uid)
            return stored_as.get(node.dataset_key, uid) if node and node.openlineage else uid

        nodes = {final(uid) for uid in delta.nodes}
        edges = {(final(s), final(t), edge_type) for s, t, edge_type in delta.edges}
        for run_id, run in delta.runs.items():
            if run.completed_at and (stored := joined.runs.get(run_id)):
                nodes |= stored.wrote
                edges |= {(stored.process, uid, EdgeType.Produced) for uid in stored.wrote}
        summaries.append(
            WriteSummary(
                nodes=len(nodes),
                edges=len(edges),
                nodes_created=len(nodes & nodes_created),
                edges_created=len(edges & edges_created),
            )
        )
        nodes_created -= nodes
        edges_created -= edges
    return summaries


def _merge_target(nodes: list[tuple[str, bool]]) -> str:
    """Where the nodes of one dataset, split by an older version, come together: the one with
    features (its HasFeature edges stay valid), else the default kind, else the first uid."""
    uids = sorted(uid for uid, _ in nodes)
    with_features = [uid for uid, has_features in sorted(nodes) if has_features]
    default = [uid for uid in uids if uid.startswith(f"{Kind.DataSource}:")]
    return (with_features or default or uids)[0]


async def merge_split_datasets(db: Database) -> int:
    """Migration: each OpenLineage dataset that an older version stored as several nodes
    (kind by role) becomes one node keeping every edge; idempotent. Returns the nodes merged."""
    kinds = sorted(kind.value for kind in ARTIFACT_KINDS)
    records = await db.run_read(SPLIT_DATASETS, kinds=kinds)
    merged = 0
    for record in records:
        nodes = [(uid, has_features) for uid, has_features in record["nodes"]]
        target = _merge_target(nodes)
        for uid, _ in nodes:
            if uid != target:

                async def work(
                    tx: AsyncManagedTransaction, old: str = uid, new: str = target
                ) -> None:
                    merges = {"merges": [[old, new]]}
                    await (await tx.run(MERGE_NODES, delta=merges)).consume()

                await db.write(work)
                merged += 1
    return merged
