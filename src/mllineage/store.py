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
    Kind,
    parse_uid,
)
from mllineage.errors import InvalidInput, NotFound, Unavailable
from mllineage.events import GraphDelta, missing_edge_ends
from mllineage.traversal import (
    Direction,
    Reached,
    merge_both,
    path_to,
    select,
    shortest_path_parents,
)
from mllineage.views import (
    EntityDetail,
    EntityOut,
    EntityPage,
    ImpactItem,
    ImpactReport,
    LineageEdge,
    LineageGraph,
    LineageNode,
    Neighbour,
    WriteSummary,
)

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

# A pruning breadth-first expansion (VarLengthExpand(Pruning,BFS) in the plan): each node
# is visited once and min(length(p)) is its shortest distance; no path is ever enumerated.
# $DEPTH is an int checked by the API, spliced in because Cypher cannot parameterize it.
_REACH = {
    Direction.downstream: """
MATCH p = (:Entity {uid: $uid})-[*1..$DEPTH]->(n:Entity)
RETURN n.uid AS uid, n.kind AS kind, min(length(p)) AS depth
""",
    Direction.upstream: """
MATCH p = (:Entity {uid: $uid})<-[*1..$DEPTH]-(n:Entity)
RETURN n.uid AS uid, n.kind AS kind, min(length(p)) AS depth
""",
}

_NODES = """
UNWIND $uids AS u
MATCH (n:Entity {uid: u})
RETURN n {.*} AS node
"""

_OWNERS = """
UNWIND $uids AS u
MATCH (n:Entity {uid: u})
RETURN n.uid AS uid, n.namespace AS namespace, n.name AS name, n.owner AS owner
"""

# All edges among a set of nodes. Either direction finds them all; scanning along the walk
# keeps the cost to the walked edges (an upstream walk never touches a popular source's
# thousands of consumers).
_EDGES_AMONG = {
    Direction.downstream: """
UNWIND $uids AS u
MATCH (:Entity {uid: u})-[r]->(m:Entity) WHERE m.uid IN $uids
RETURN u AS source, type(r) AS type, m.uid AS target
""",
    Direction.upstream: """
UNWIND $uids AS u
MATCH (:Entity {uid: u})<-[r]-(m:Entity) WHERE m.uid IN $uids
RETURN m.uid AS source, type(r) AS type, u AS target
""",
}
_EDGES_AMONG[Direction.both] = _EDGES_AMONG[Direction.downstream]

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

    # --- walks --------------------------------------------------------------------------

    async def lineage(
        self,
        uid: str,
        *,
        direction: Direction,
        depth: int,
        kinds: frozenset[Kind] | None,
        limit: int,
    ) -> LineageGraph:
        """The nodes within ``depth`` hops (each once, at its shortest distance) and their edges.

        One read transaction of three queries (four for ``both``): the breadth-first
        expansion, the returned nodes, and the edges among them.
        """

        async def work(tx: AsyncManagedTransaction) -> LineageGraph:
            root = await _root(tx, uid)
            reached = await _reach(tx, root, direction, depth)
            chosen, truncated = select(reached, uid, kinds, limit)
            entities = await _entities(tx, [uid, *chosen])
            edges = [
                LineageEdge(source=source, type=edge_type, target=target)
                for source, edge_type, target in await _edges_among(tx, list(entities), direction)
            ]
            nodes = [
                LineageNode(**entities[u].model_dump(), depth=reached[u].depth) for u in chosen
            ]
            return LineageGraph(
                root=LineageNode(**root.model_dump(), depth=0),
                nodes=nodes,
                edges=edges,
                truncated=truncated,
            )

        return await self._read(work)

    async def impact(self, uid: str, *, depth: int, limit: int) -> ImpactReport:
        """The downstream blast radius: counts per kind, the affected models, endpoints and
        training jobs with one shortest path each, and every downstream owner."""

        async def work(tx: AsyncManagedTransaction) -> ImpactReport:
            root = await _root(tx, uid)
            reached = await _reach(tx, root, Direction.downstream, depth)
            downstream = {u: r for u, r in reached.items() if u != uid}
            owners = {r["uid"]: r async for r in await tx.run(_OWNERS, uids=list(downstream))}
            edges = await _edges_among(tx, list(reached), Direction.downstream)
            parents = shortest_path_parents(reached, ((s, t) for s, _, t in edges))
            counts: dict[Kind, int] = {}
            for r in downstream.values():
                counts[r.kind] = counts.get(r.kind, 0) + 1
            truncated = False

            def items(kind: Kind) -> list[ImpactItem]:
                nonlocal truncated
                chosen, cut = select(downstream, uid, frozenset({kind}), limit)
                truncated = truncated or cut
                return [
                    ImpactItem(
                        uid=u,
                        kind=kind,
                        namespace=owners[u]["namespace"],
                        name=owners[u]["name"],
                        owner=owners[u]["owner"],
                        depth=downstream[u].depth,
                        path=path_to(u, parents),
                    )
                    for u in chosen
                ]

            return ImpactReport(
                root=root,
                total=len(downstream),
                counts=counts,
                models=items(Kind.Model),
                endpoints=items(Kind.Endpoint),
                training_jobs=items(Kind.TrainingJob),
                owners=sorted({r["owner"] for r in owners.values() if r["owner"]}),
                truncated=truncated,
            )

        return await self._read(work)


async def _root(tx: AsyncManagedTransaction, uid: str) -> EntityOut:
    entities = await _entities(tx, [uid])
    if uid not in entities:
        raise NotFound(f"no entity with uid {uid!r}")
    return entities[uid]


async def _entities(tx: AsyncManagedTransaction, uids: list[str]) -> dict[str, EntityOut]:
    entities = [entity_from_node(r["node"]) async for r in await tx.run(_NODES, uids=uids)]
    return {e.uid: e for e in entities}


async def _reach(
    tx: AsyncManagedTransaction, root: EntityOut, direction: Direction, depth: int
) -> dict[str, Reached]:
    """Shortest distances from the root (itself at 0, even when a cycle comes back to it)."""

    async def one_way(way: Direction) -> dict[str, Reached]:
        query = _REACH[way].replace("$DEPTH", str(int(depth)))
        result = await tx.run(query, uid=root.uid)
        found = {r["uid"]: Reached(r["depth"], Kind(r["kind"])) async for r in result}
        found[root.uid] = Reached(0, root.kind)
        return found

    if direction is Direction.both:
        return merge_both(await one_way(Direction.upstream), await one_way(Direction.downstream))
    return await one_way(direction)


async def _edges_among(
    tx: AsyncManagedTransaction, uids: list[str], direction: Direction
) -> list[tuple[str, str, str]]:
    result = await tx.run(_EDGES_AMONG[direction], uids=uids)
    return [(r["source"], r["type"], r["target"]) async for r in result]
