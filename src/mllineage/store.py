"""The only module that speaks Cypher: schema, writes of a graph delta, and entity reads.

Every value is a query parameter. Labels and relationship types are spliced into query text
only from the fixed ``Kind`` and ``EdgeType`` vocabularies, never from request strings.
Reads return domain models, never Neo4j records.
"""

from __future__ import annotations

import base64
import json
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from neo4j import AsyncDriver, AsyncManagedTransaction
from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired
from neo4j.time import DateTime

from mllineage.domain import (
    RESERVED_NODE_PROPERTIES,
    RUN_PROPERTY_PREFIX,
    EdgeType,
    EntityDetail,
    EntityOut,
    EntityPage,
    Kind,
    Neighbour,
    WriteSummary,
    parse_uid,
)
from mllineage.errors import InvalidInput, NotFound, Unavailable
from mllineage.events import GraphDelta, missing_edge_ends

T = TypeVar("T")

NEIGHBOUR_CAP = 1_000

_NODE_UPSERT = """
UNWIND $rows AS row
MERGE (n:Entity {uid: row.uid})
  ON CREATE SET n:$LABEL, n.kind = row.kind, n.namespace = row.namespace, n.name = row.name,
                n.created_at = row.first_seen, n.updated_at = row.last_seen
  ON MATCH SET n.created_at = CASE WHEN row.first_seen < n.created_at
                                   THEN row.first_seen ELSE n.created_at END
WITH n, row, row.last_seen >= n.updated_at AS newer,
     row.run IS NOT NULL AND coalesce(row.run.`run.event_time` >= n.`run.event_time`, true)
       AS newer_run
SET n += CASE WHEN newer THEN row.props ELSE {} END,
    n.updated_at = CASE WHEN newer THEN row.last_seen ELSE n.updated_at END,
    n += CASE WHEN newer_run THEN row.run ELSE {} END
"""

_EDGE_UPSERT = """
UNWIND $rows AS row
MATCH (a:Entity {uid: row.source})
MATCH (b:Entity {uid: row.target})
MERGE (a)-[r:$TYPE]->(b)
  ON CREATE SET r.first_seen = row.first_seen, r.last_seen = row.last_seen,
                r.producer = row.producer
  ON MATCH SET r.first_seen = CASE WHEN row.first_seen < r.first_seen
                                   THEN row.first_seen ELSE r.first_seen END,
               r.producer = CASE WHEN row.last_seen >= r.last_seen
                                 THEN row.producer ELSE r.producer END,
               r.last_seen = CASE WHEN row.last_seen > r.last_seen
                                  THEN row.last_seen ELSE r.last_seen END
"""

_MISSING = """
UNWIND $uids AS uid
OPTIONAL MATCH (n:Entity {uid: uid})
WITH uid, n WHERE n IS NULL
RETURN collect(uid) AS missing
"""

_GET_ENTITY = """
MATCH (n:Entity {uid: $uid})
RETURN n {.*} AS node,
       [(m)-[r]->(n) | {uid: m.uid, kind: m.kind, name: m.name, type: type(r)}][..$cap]
         AS upstream,
       [(n)-[r]->(m) | {uid: m.uid, kind: m.kind, name: m.name, type: type(r)}][..$cap]
         AS downstream
"""

_LIST_ENTITIES = """
MATCH (n:Entity)
WHERE ($kind IS NULL OR n.kind = $kind)
  AND ($namespace IS NULL OR n.namespace = $namespace)
  AND ($q IS NULL OR toLower(n.name) CONTAINS toLower($q))
  AND ($after IS NULL OR n.uid > $after)
RETURN n {.*} AS node
ORDER BY n.uid
LIMIT $limit
"""

_SCHEMA_NAME = re.compile(r"CREATE\s+(?:\w+\s+)?(?:CONSTRAINT|INDEX)\s+(\w+)", re.IGNORECASE)


def node_upsert_query(kind: Kind) -> str:
    return _NODE_UPSERT.replace("$LABEL", Kind(kind).value)


def edge_upsert_query(edge_type: EdgeType) -> str:
    return _EDGE_UPSERT.replace("$TYPE", EdgeType(edge_type).value)


def read_schema(path: Path) -> list[str]:
    """The statements of a ``.cypher`` file: ``//`` comments dropped, split on semicolons."""
    text = "\n".join(
        line for line in path.read_text().splitlines() if not line.lstrip().startswith("//")
    )
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def encode_cursor(uid: str) -> str:
    return base64.urlsafe_b64encode(uid.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        uid = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
        parse_uid(uid)
        return uid
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            "cursor is not one this service issued; pass next_cursor from the previous page"
        ) from None


def _native(value: Any) -> Any:
    return value.to_native() if isinstance(value, DateTime) else value


def entity_from_node(node: dict[str, Any]) -> EntityOut:
    """Neo4j node properties -> EntityOut: system fields lifted out, the run decoded."""
    props = {key: _native(value) for key, value in node.items()}
    run = {
        key.removeprefix(RUN_PROPERTY_PREFIX): props.pop(key)
        for key in [k for k in props if k.startswith(RUN_PROPERTY_PREFIX)]
    }
    for key in ("parameters", "metrics"):
        if key in run:
            run[key] = json.loads(run[key])
    system = {key: props.pop(key) for key in RESERVED_NODE_PROPERTIES if key in props}
    common = {key: props.pop(key) for key in ("owner", "description", "tags") if key in props}
    return EntityOut(**system, **common, properties=props, run=run or None)


class Store:
    """Lineage storage on one Neo4j database, through one async driver opened at start-up."""

    def __init__(self, driver: AsyncDriver, database: str, schema_file: Path) -> None:
        self.driver = driver
        self.database = database
        self.schema = read_schema(schema_file)
        self.schema_names = {m.group(1) for s in self.schema if (m := _SCHEMA_NAME.search(s))}

    @asynccontextmanager
    async def _unavailable_as_domain_error(self) -> AsyncIterator[None]:
        try:
            yield
        except (ServiceUnavailable, SessionExpired) as exc:
            raise Unavailable(f"Neo4j is unavailable: {exc}") from exc

    async def _write(self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        async with (
            self._unavailable_as_domain_error(),
            self.driver.session(database=self.database) as session,
        ):
            return await session.execute_write(work)

    async def _read(self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        async with (
            self._unavailable_as_domain_error(),
            self.driver.session(database=self.database) as session,
        ):
            return await session.execute_read(work)

    # --- schema and readiness -----------------------------------------------------------

    async def apply_schema(self) -> None:
        """Create the constraint and indexes if absent (idempotent) and wait until online."""
        async with self._unavailable_as_domain_error():
            for statement in self.schema:
                await self.driver.execute_query(statement, database_=self.database)
            await self.driver.execute_query("CALL db.awaitIndexes(300)", database_=self.database)

    async def readiness(self) -> str | None:
        """None when Neo4j answers and the schema is online; else the reason it is not ready.

        A missing schema object (a new or wiped database) is created on the spot, so the
        service becomes ready on its own once Neo4j is back.
        """
        try:
            for attempt in range(2):
                records, _, _ = await self.driver.execute_query(
                    "SHOW INDEXES YIELD name, state RETURN name, state",
                    database_=self.database,
                )
                online = {r["name"] for r in records if r["state"] == "ONLINE"}
                missing = self.schema_names - online
                if not missing:
                    return None
                if attempt == 0:
                    await self.apply_schema()
            return f"schema objects not online: {', '.join(sorted(missing))}"
        except (DriverError, Neo4jError, Unavailable) as exc:
            return f"Neo4j is not reachable at the configured URI: {exc}"

    # --- writes -------------------------------------------------------------------------

    async def write(self, delta: GraphDelta) -> WriteSummary:
        """Apply a delta in one transaction: all of it lands or none of it does.

        Edge ends that the delta does not create must exist already, else InvalidInput and
        nothing is written. Rows are sorted by uid so that concurrent writers take node
        locks in the same order, which keeps deadlocks (retried anyway) rare.
        """
        nodes_by_kind: dict[Kind, list[dict[str, Any]]] = defaultdict(list)
        for node in sorted(delta.nodes.values(), key=lambda n: n.uid):
            nodes_by_kind[node.kind].append(
                {
                    "uid": node.uid,
                    "kind": node.kind.value,
                    "namespace": node.namespace,
                    "name": node.name,
                    "first_seen": node.first_seen,
                    "last_seen": node.last_seen,
                    "props": node.props,
                    "run": node.run,
                }
            )
        edges_by_type: dict[EdgeType, list[dict[str, Any]]] = defaultdict(list)
        for edge in sorted(delta.edges.values(), key=lambda e: (e.source, e.target)):
            edges_by_type[edge.type].append(
                {
                    "source": edge.source,
                    "target": edge.target,
                    "first_seen": edge.first_seen,
                    "last_seen": edge.last_seen,
                    "producer": edge.producer,
                }
            )
        must_exist = sorted(missing_edge_ends(delta))

        async def work(tx: AsyncManagedTransaction) -> WriteSummary:
            if must_exist:
                record = await (await tx.run(_MISSING, uids=must_exist)).single(strict=True)
                if record["missing"]:
                    raise InvalidInput(
                        "edges name entities that do not exist and are not among the request's "
                        f"nodes: {', '.join(record['missing'])}; add them to 'nodes' first"
                    )
            nodes_created = edges_created = 0
            for kind, rows in nodes_by_kind.items():
                summary = await (await tx.run(node_upsert_query(kind), rows=rows)).consume()
                nodes_created += summary.counters.nodes_created
            for edge_type, rows in edges_by_type.items():
                summary = await (await tx.run(edge_upsert_query(edge_type), rows=rows)).consume()
                edges_created += summary.counters.relationships_created
            return WriteSummary(
                nodes=len(delta.nodes),
                edges=len(delta.edges),
                nodes_created=nodes_created,
                edges_created=edges_created,
            )

        return await self._write(work)

    # --- reads --------------------------------------------------------------------------

    async def get_entity(self, uid: str) -> EntityDetail:
        async def work(tx: AsyncManagedTransaction) -> Any:
            return await (await tx.run(_GET_ENTITY, uid=uid, cap=NEIGHBOUR_CAP)).single()

        record = await self._read(work)
        if record is None:
            raise NotFound(f"no entity with uid {uid!r}")
        entity = entity_from_node(record["node"])
        return EntityDetail(
            **entity.model_dump(),
            upstream=[Neighbour(**n) for n in record["upstream"]],
            downstream=[Neighbour(**n) for n in record["downstream"]],
        )

    async def list_entities(
        self,
        *,
        kind: Kind | None,
        namespace: str | None,
        q: str | None,
        limit: int,
        cursor: str | None,
    ) -> EntityPage:
        """One page of entities in uid order; ``cursor`` is the previous page's last uid."""
        params = {
            "kind": kind.value if kind else None,
            "namespace": namespace,
            "q": q,
            "after": decode_cursor(cursor) if cursor else None,
            "limit": limit + 1,
        }

        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            return [r["node"] async for r in await tx.run(_LIST_ENTITIES, params)]

        nodes = await self._read(work)
        items = [entity_from_node(node) for node in nodes[:limit]]
        more = len(nodes) > limit
        return EntityPage(items=items, next_cursor=encode_cursor(items[-1].uid) if more else None)
