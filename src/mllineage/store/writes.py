"""Writing a graph delta: all of it lands in one transaction, or none of it does."""

from __future__ import annotations

from datetime import datetime

from neo4j import AsyncManagedTransaction

from mllineage.domain import ARTIFACT_KINDS, Kind
from mllineage.errors import InvalidInput
from mllineage.events import (
    GraphDelta,
    StoredRun,
    complete_runs,
    dataset_uids,
    fold_datasets,
    join_stored_datasets,
    missing_edge_ends,
)
from mllineage.store import queries
from mllineage.store.database import Database
from mllineage.store.rows import edge_rows, node_rows, run_rows
from mllineage.views import WriteSummary


async def _join_datasets(
    tx: AsyncManagedTransaction, delta: GraphDelta
) -> tuple[GraphDelta, list[tuple[str, str]]]:
    """The delta with its OpenLineage datasets joined to their stored nodes, and the stored
    nodes to merge into a declared kind (``events.join_stored_datasets``)."""
    uids = [
        uid for n in delta.nodes.values() if n.openlineage for uid in dataset_uids(*n.dataset_key)
    ]
    if not uids:
        return delta, []
    record = await (await tx.run(queries.STORED_DATASETS, uids=uids)).single(strict=True)
    return join_stored_datasets(delta, set(record["uids"]))


async def _stored_runs(tx: AsyncManagedTransaction, delta: GraphDelta) -> dict[str, StoredRun]:
    """What the store has of the delta's runs (``events.complete_runs`` merges with it)."""
    if not delta.runs:
        return {}
    result = await tx.run(queries.STORED_RUNS, ids=sorted(delta.runs))
    return {
        record["id"]: StoredRun(
            process=record["process"],
            completed_at=record["completed_at"] and datetime.fromisoformat(record["completed_at"]),
            pending=tuple(record["pending"]),
        )
        async for record in result
    }


async def write(db: Database, delta: GraphDelta) -> WriteSummary:
    """Apply a delta in one transaction, in this process's write turn.

    Edge ends that the delta does not create must exist already, else InvalidInput and
    nothing is written. Nodes are written first, in uid order, so that writers take node
    locks in one order (that alone did not stop deadlocks: hence the one-writer turn).
    """

    async def work(tx: AsyncManagedTransaction) -> WriteSummary:
        stored_runs = await _stored_runs(tx, delta)
        complete_runs(delta, stored_runs)
        joined, merges = await _join_datasets(tx, fold_datasets(delta))
        must_exist = sorted(missing_edge_ends(joined))
        if must_exist:
            record = await (await tx.run(queries.MISSING, uids=must_exist)).single(strict=True)
            if record["missing"]:
                raise InvalidInput(
                    "edges name entities that do not exist and are not among the request's "
                    f"nodes: {', '.join(record['missing'])}; add them to 'nodes' first"
                )
        result = await tx.run(queries.NODE_UPSERT, rows=node_rows(joined))
        nodes_created = (await result.consume()).counters.nodes_created
        for old, new in merges:
            await (await tx.run(queries.MERGE_NODE, old=old, new=new)).consume()
        edges_created = 0
        for edge_type, rows in edge_rows(joined).items():
            result = await tx.run(queries.edge_upsert_query(edge_type), rows=rows)
            edges_created += (await result.consume()).counters.relationships_created
        if joined.runs:
            result = await tx.run(queries.RUN_UPSERT, rows=run_rows(joined, stored_runs))
            await result.consume()
        return WriteSummary(
            nodes=len(joined.nodes),
            edges=len(joined.edges),
            nodes_created=nodes_created,
            edges_created=edges_created,
        )

    return await db.write(work, rows=len(delta.nodes) + len(delta.edges) + len(delta.runs))


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
    records = await db.run(queries.SPLIT_DATASETS, kinds=kinds)
    merged = 0
    for record in records:
        nodes = [(uid, has_features) for uid, has_features in record["nodes"]]
        target = _merge_target(nodes)
        for uid, _ in nodes:
            if uid != target:

                async def work(
                    tx: AsyncManagedTransaction, old: str = uid, new: str = target
                ) -> None:
                    await (await tx.run(queries.MERGE_NODE, old=old, new=new)).consume()

                await db.write(work)
                merged += 1
    return merged
