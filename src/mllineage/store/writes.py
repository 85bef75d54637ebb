"""Writing a graph delta: all of it lands in one transaction, or none of it does."""

from __future__ import annotations

from neo4j import AsyncManagedTransaction

from mllineage.errors import InvalidInput
from mllineage.events import GraphDelta, missing_edge_ends
from mllineage.store import queries
from mllineage.store.database import Database
from mllineage.store.rows import edge_rows, node_rows
from mllineage.views import WriteSummary


async def write(db: Database, delta: GraphDelta) -> WriteSummary:
    """Apply a delta in one transaction, in this process's write turn.

    Edge ends that the delta does not create must exist already, else InvalidInput and
    nothing is written. Nodes are written first, in uid order, so that writers take node
    locks in one order (that alone did not stop deadlocks: hence the one-writer turn).
    """
    nodes = node_rows(delta)
    edges_by_type = edge_rows(delta)
    must_exist = sorted(missing_edge_ends(delta))

    async def work(tx: AsyncManagedTransaction) -> WriteSummary:
        if must_exist:
            record = await (await tx.run(queries.MISSING, uids=must_exist)).single(strict=True)
            if record["missing"]:
                raise InvalidInput(
                    "edges name entities that do not exist and are not among the request's "
                    f"nodes: {', '.join(record['missing'])}; add them to 'nodes' first"
                )
        result = await tx.run(queries.NODE_UPSERT, rows=nodes)
        nodes_created = (await result.consume()).counters.nodes_created
        edges_created = 0
        for edge_type, rows in edges_by_type.items():
            result = await tx.run(queries.edge_upsert_query(edge_type), rows=rows)
            edges_created += (await result.consume()).counters.relationships_created
        return WriteSummary(
            nodes=len(delta.nodes),
            edges=len(delta.edges),
            nodes_created=nodes_created,
            edges_created=edges_created,
        )

    return await db.write(work)
