"""The only package that speaks Cypher: schema, writes of a graph delta, reads and walks.

The query texts live in ``queries.py``; this module runs them in managed transactions and
returns domain models, never Neo4j records.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from neo4j import AsyncDriver, AsyncManagedTransaction, Record
from neo4j.exceptions import (
    DriverError,
    IncompleteCommit,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from mllineage.domain import (
    RESERVED_NODE_PROPERTIES,
    RUN_PROPERTY_PREFIX,
    EdgeType,
    Kind,
    parse_uid,
)
from mllineage.errors import InvalidInput, NotFound, Unavailable
from mllineage.events import TIME_PROPERTIES, GraphDelta, missing_edge_ends
from mllineage.store import queries
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
EntityModel = TypeVar("EntityModel", bound=EntityOut)

NEIGHBOUR_CAP = 1_000


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


def entity_from_node(node: list[list[Any]], model: type[EntityModel], **extra: Any) -> EntityModel:
    """Node properties as ``queries.PROPERTIES`` returns them -> ``model`` (EntityOut or a
    subclass, given its ``extra`` fields): times parsed, system fields lifted out, run decoded."""
    props = dict(node)
    for key in TIME_PROPERTIES:
        if key in props:
            props[key] = datetime.fromisoformat(props[key])
    run = {
        key.removeprefix(RUN_PROPERTY_PREFIX): props.pop(key)
        for key in [k for k in props if k.startswith(RUN_PROPERTY_PREFIX)]
    }
    for key in ("parameters", "metrics"):
        if key in run:
            run[key] = json.loads(run[key])
    system = {key: props.pop(key) for key in RESERVED_NODE_PROPERTIES if key in props}
    common = {key: props.pop(key) for key in ("owner", "description", "tags") if key in props}
    return model(**system, **common, properties=props, run=run or None, **extra)


def node_rows(delta: GraphDelta) -> list[dict[str, Any]]:
    """NODE_UPSERT's rows, in uid order; times as ISO strings (see queries.py)."""
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
            "run": node.run and {k: v for k, v in node.run.items() if k not in queries.RUN_TIMES},
            "run_times": node.run and {k: _iso(node.run[k]) for k in queries.RUN_TIMES},
        }
        for node in sorted(delta.nodes.values(), key=lambda n: n.uid)
    ]


def edge_rows(delta: GraphDelta) -> dict[EdgeType, list[dict[str, Any]]]:
    """Each edge type's upsert rows, in (source, target) order; times as ISO strings."""
    rows: dict[EdgeType, list[dict[str, Any]]] = defaultdict(list)
    for edge in sorted(delta.edges.values(), key=lambda e: (e.source, e.target)):
        rows[edge.type].append(
            {
                "source": edge.source,
                "target": edge.target,
                "first_seen": _iso(edge.first_seen),
                "last_seen": _iso(edge.last_seen),
                "producer": edge.producer,
            }
        )
    return rows


@functools.lru_cache(maxsize=4096)
def _iso(value: datetime | None) -> str | None:
    """Cached: a batch's thousands of rows share its few hundred event times. Building a
    500-event batch's rows took 37 ms, two thirds of it in isoformat(); cached, 12 ms."""
    return None if value is None else value.isoformat()


class Store:
    """Lineage storage on one Neo4j database, through one async driver opened at start-up."""

    def __init__(
        self,
        driver: AsyncDriver,
        database: str,
        schema_file: Path,
        write_queue_seconds: float = 30.0,
    ) -> None:
        self.driver = driver
        self.write_queue_seconds = write_queue_seconds
        # One write transaction at a time from this process. Concurrent writers that share
        # popular nodes (a source every pipeline reads) deadlock in Neo4j often enough to
        # exhaust the retry window (20 of 2,900 soak requests did), and on the machines we
        # measured, concurrent writes added no throughput over sequential ones.
        self._one_writer = asyncio.Lock()
        self.database = database
        self.schema = queries.read_schema(schema_file)
        self.schema_names = {
            m.group(1) for s in self.schema if (m := queries.SCHEMA_NAME.search(s))
        }

    @asynccontextmanager
    async def _unavailable_as_domain_error(self) -> AsyncIterator[None]:
        """Errors that retrying later can cure (after the driver's own retries) -> Unavailable."""
        try:
            yield
        except IncompleteCommit as exc:
            raise Unavailable(
                "Neo4j went away while committing, so the write may or may not have landed; "
                "send it again (writes are idempotent)"
            ) from exc
        except (ServiceUnavailable, SessionExpired, TransientError) as exc:
            raise Unavailable(f"Neo4j is unavailable: {exc}") from exc
        except Neo4jError as exc:
            # Wrong credentials, or locked out after too many wrong ones (a rate limit).
            if not (exc.code or "").startswith("Neo.ClientError.Security."):
                raise
            raise Unavailable(
                "Neo4j rejected the configured credentials; check MLLINEAGE_NEO4J_USER and "
                f"MLLINEAGE_NEO4J_PASSWORD ({exc.code})"
            ) from exc

    @asynccontextmanager
    async def _write_turn(self) -> AsyncIterator[None]:
        """Wait (bounded) for this process's one write slot; past the bound, answer 503."""
        try:
            await asyncio.wait_for(self._one_writer.acquire(), self.write_queue_seconds)
        except TimeoutError:
            raise Unavailable(
                f"writes have queued for over {self.write_queue_seconds:.0f}s; retry later"
            ) from None
        try:
            yield
        finally:
            self._one_writer.release()

    async def _write(self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        async with (
            self._write_turn(),
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
            async with self._unavailable_as_domain_error():
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
        except Unavailable as exc:
            return str(exc)
        except (DriverError, Neo4jError) as exc:
            return f"Neo4j cannot be used: {exc}"

    # --- writes -------------------------------------------------------------------------

    async def write(self, delta: GraphDelta) -> WriteSummary:
        """Apply a delta in one transaction: all of it lands or none of it does.

        Edge ends that the delta does not create must exist already, else InvalidInput and
        nothing is written. Nodes are written first, in uid order, so concurrent writers
        take node locks in one order (that alone did not stop deadlocks: see _one_writer).
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

        return await self._write(work)

    # --- reads --------------------------------------------------------------------------

    async def get_entity(self, uid: str) -> EntityDetail:
        async def work(tx: AsyncManagedTransaction) -> Any:
            return await (await tx.run(queries.GET_ENTITY, uid=uid, cap=NEIGHBOUR_CAP)).single()

        record = await self._read(work)
        if record is None:
            raise NotFound(f"no entity with uid {uid!r}")
        entity = entity_from_node(record["node"], EntityOut)
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

        async def work(tx: AsyncManagedTransaction) -> list[list[list[Any]]]:
            return [r["node"] async for r in await tx.run(queries.LIST_ENTITIES, params)]

        nodes = await self._read(work)
        items = [entity_from_node(node, EntityOut) for node in nodes[:limit]]
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

        One read transaction of two queries (three for ``both``): the breadth-first
        expansion, then the chosen nodes with the edges among them.
        """

        async def work(tx: AsyncManagedTransaction) -> LineageGraph:
            reached = await _reach(tx, uid, direction, depth)
            chosen, truncated = select(reached, uid, kinds, limit)
            details = await _single(tx, queries.LINEAGE_DETAILS[direction], uids=[uid, *chosen])
            nodes = {
                u: entity_from_node(node, LineageNode, depth=reached[u].depth)
                for u, node in details["nodes"]
            }
            if uid not in nodes:
                raise NotFound(f"no entity with uid {uid!r}")
            return LineageGraph(
                root=nodes[uid],
                nodes=[nodes[u] for u in chosen],
                edges=[
                    LineageEdge(source=source, type=edge_type, target=target)
                    for source, edge_type, target in details["edges"]
                ],
                truncated=truncated,
            )

        return await self._read(work)

    async def impact(self, uid: str, *, depth: int, limit: int) -> ImpactReport:
        """The downstream blast radius: counts per kind, the affected models, endpoints and
        training jobs with one shortest path each, and every downstream owner."""

        async def work(tx: AsyncManagedTransaction) -> ImpactReport:
            reached = await _reach(tx, uid, Direction.downstream, depth)
            details = await _single(tx, queries.IMPACT_DETAILS, uid=uid, uids=list(reached))
            if not details["root"]:
                raise NotFound(f"no entity with uid {uid!r}")
            downstream = {u: r for u, r in reached.items() if u != uid}
            owners = {u: (ns, name, owner) for u, ns, name, owner in details["owners"]}
            parents = shortest_path_parents(reached, ((s, t) for s, _, t in details["edges"]))
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
                        namespace=owners[u][0],
                        name=owners[u][1],
                        owner=owners[u][2],
                        depth=downstream[u].depth,
                        path=path_to(u, parents),
                    )
                    for u in chosen
                ]

            return ImpactReport(
                root=entity_from_node(details["root"][0], EntityOut),
                total=len(downstream),
                counts=counts,
                models=items(Kind.Model),
                endpoints=items(Kind.Endpoint),
                training_jobs=items(Kind.TrainingJob),
                owners=sorted({owners[u][2] for u in downstream if owners[u][2]}),
                truncated=truncated,
            )

        return await self._read(work)


async def _single(tx: AsyncManagedTransaction, query: str, **params: Any) -> Record:
    return await (await tx.run(query, params)).single(strict=True)


async def _reach(
    tx: AsyncManagedTransaction, uid: str, direction: Direction, depth: int
) -> dict[str, Reached]:
    """Shortest distances from the root (itself at 0, even when a cycle comes back to it)."""
    root = Reached(0, parse_uid(uid)[0])

    async def one_way(way: Direction) -> dict[str, Reached]:
        record = await _single(tx, queries.reach_query(way, depth), uid=uid)
        found = {u: Reached(d, Kind(kind)) for u, kind, d in record["reached"]}
        found[uid] = root
        return found

    if direction is Direction.both:
        return merge_both(await one_way(Direction.upstream), await one_way(Direction.downstream))
    return await one_way(direction)
