"""The only package that speaks Cypher: schema, writes of a graph delta, reads and walks.

The query texts live in ``queries.py``; this module runs them in managed transactions and
returns domain models, never Neo4j records.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import time
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
    COMMON_PROPERTIES,
    MAX_PROPERTY_DEPTH,
    RESERVED_NODE_PROPERTIES,
    RUN_PROPERTY_PREFIX,
    EdgeType,
    Kind,
    parse_uid,
)
from mllineage.errors import InvalidInput, NotFound, Unavailable
from mllineage.events import GraphDelta, missing_edge_ends
from mllineage.store import queries
from mllineage.traversal import Direction, Reached, path_to, select, shortest_path_parents
from mllineage.views import (
    EntityDetail,
    EntityOut,
    EntityPage,
    ImpactItem,
    ImpactReport,
    LineageGraph,
    WriteSummary,
)

T = TypeVar("T")
log = logging.getLogger("mllineage")

FAIL_FAST_SECONDS = 2.0
NEO4J_DOWN = "Neo4j is unavailable; retry later (nothing was written)"
CONFLICT = (
    "the write conflicted with a concurrent write on the same nodes (a deadlock that outlasted "
    "the retries); nothing was written and it is safe to send again"
)

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


# Stored as node properties, returned as fields of their own (the rest go to `properties`).
ENTITY_FIELDS = RESERVED_NODE_PROPERTIES | set(COMMON_PROPERTIES)
RUN_TIMES = [key.removeprefix(RUN_PROPERTY_PREFIX) for key in queries.RUN_TIMES]


def entity_fields(node: list[list[Any]], **extra: Any) -> dict[str, Any]:
    """Node properties as ``queries.properties_of`` returns them -> the fields of EntityOut
    (or a subclass, given its ``extra`` fields): system fields lifted out, the run decoded.
    created_at and updated_at stay ISO text for the model to parse as it validates."""
    fields: dict[str, Any] = {}
    props: dict[str, Any] = {}
    run: dict[str, Any] = {}
    for key, value in node:
        if key in ENTITY_FIELDS:
            fields[key] = value
        elif key.startswith(RUN_PROPERTY_PREFIX):
            run[key.removeprefix(RUN_PROPERTY_PREFIX)] = value
        else:
            props[key] = value
    if run:
        for key in RUN_TIMES:
            if key in run:
                run[key] = _time_or_as_stored(run[key])
        for key in ("parameters", "metrics"):
            if key in run:
                run[key] = _json_or_as_stored(run[key])
    fields.update(properties=props, run=run or None, **extra)
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
        self._down_until = 0.0  # while monotonic() < this, Neo4j just failed: answer at once
        self.database = database
        self.schema = queries.read_schema(schema_file)
        self.schema_names = queries.schema_names(self.schema)

    @asynccontextmanager
    async def _unavailable_as_domain_error(self) -> AsyncIterator[None]:
        """Errors that retrying later can cure (after the driver's own retries) -> Unavailable.

        Once Neo4j is found unreachable, requests fail at once for FAIL_FAST_SECONDS instead of
        each waiting out the retry window. Addresses go to the log, never into answers.
        """
        if time.monotonic() < self._down_until:
            raise Unavailable(NEO4J_DOWN)
        try:
            yield
        except IncompleteCommit as exc:
            self._down_until = time.monotonic() + FAIL_FAST_SECONDS
            raise Unavailable(
                "Neo4j went away while committing, so the write may or may not have landed; "
                "send it again (writes are idempotent)"
            ) from exc
        except (ServiceUnavailable, SessionExpired) as exc:
            self._down_until = time.monotonic() + FAIL_FAST_SECONDS
            log.warning("Neo4j is unavailable: %s", exc)
            raise Unavailable(NEO4J_DOWN) from exc
        except TransientError as exc:  # still transient after the driver's retries
            if "Deadlock" in (exc.code or ""):
                raise Unavailable(CONFLICT) from exc
            raise Unavailable(f"Neo4j could not serve the request for now ({exc.code})") from exc
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

    async def readiness(self, probe_seconds: float | None = None) -> str | None:
        """None when Neo4j answers and the schema is online; else the reason it is not ready.

        A missing schema object (a new or wiped database) is created on the spot, so the
        service becomes ready on its own once Neo4j is back. ``probe_seconds`` bounds the
        wait for Neo4j's first answer (a probe must answer fast), not the schema's creation.
        """
        try:
            async with self._unavailable_as_domain_error():
                for attempt in range(2):
                    records, _, _ = await asyncio.wait_for(
                        self.driver.execute_query(
                            "SHOW INDEXES YIELD name, state RETURN name, state",
                            database_=self.database,
                        ),
                        probe_seconds,
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
        except TimeoutError:
            return f"Neo4j did not answer within {probe_seconds:g} s"
        except (DriverError, Neo4jError) as exc:
            log.warning("Neo4j cannot be used: %s", exc)
            return "Neo4j cannot be used; the server log says why"

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
        record = await self._read(
            lambda tx: _single_or_none(tx, queries.GET_ENTITY, uid=uid, cap=NEIGHBOUR_CAP)
        )
        if record is None:
            raise NotFound(f"no entity with uid {uid!r}")
        neighbours = {key: record[key] for key in ("upstream", "downstream")}
        return EntityDetail.model_validate(entity_fields(record["node"], **neighbours))

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
        items = [EntityOut.model_validate(entity_fields(node)) for node in nodes[:limit]]
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
        """The nodes within ``depth`` hops (each once, at its shortest distance), nearest
        first, and the edges among them: one query (see queries.LINEAGE)."""
        query = queries.lineage_query(direction, depth)
        params = {"uid": uid, "kinds": [k.value for k in kinds] if kinds else None, "limit": limit}
        record = await self._read(lambda tx: _single_or_none(tx, query, **params))
        if record is None:
            raise NotFound(f"no entity with uid {uid!r}")
        # Validated as one tree: one call into pydantic instead of one per node took the
        # reply's build from ~9 to ~6 us per node.
        return LineageGraph.model_validate(
            {
                "root": entity_fields(record["root"], depth=0),
                "nodes": [entity_fields(node, depth=d) for d, node in record["nodes"]],
                "edges": [
                    {"source": source, "type": edge_type, "target": target}
                    for source, edge_type, target in record["edges"]
                ],
                "truncated": record["truncated"],
            }
        )

    async def impact(self, uid: str, *, depth: int, limit: int) -> ImpactReport:
        """The downstream blast radius: counts per kind, the affected models, endpoints and
        training jobs with one shortest path each, and every downstream owner."""
        query = queries.impact_query(depth)
        record = await self._read(lambda tx: _single_or_none(tx, query, uid=uid))
        if record is None:
            raise NotFound(f"no entity with uid {uid!r}")
        downstream = {u: Reached(d, Kind(kind)) for u, kind, d, *_ in record["nodes"]}
        owners = {u: (ns, name, owner) for u, _, _, ns, name, owner in record["nodes"]}
        reached = {**downstream, uid: Reached(0, parse_uid(uid)[0])}
        parents = shortest_path_parents(reached, ((s, t) for s, _, t in record["edges"]))
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
            root=EntityOut.model_validate(entity_fields(record["root"])),
            total=len(downstream),
            counts=counts,
            models=items(Kind.Model),
            endpoints=items(Kind.Endpoint),
            training_jobs=items(Kind.TrainingJob),
            owners=sorted({owners[u][2] for u in downstream if owners[u][2]}),
            truncated=truncated,
        )


async def _single_or_none(tx: AsyncManagedTransaction, query: str, **params: Any) -> Record | None:
    return await (await tx.run(query, params)).single()
