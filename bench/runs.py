"""Runs (docs/runs.md): ingest of run history against a raw-Cypher ceiling, and ``GET /v1/runs``
latency for a process with many runs (walks with runs attached: ``bench/runwalks.py``).

Every run has ten params, five metrics, an env and a code map, reads two datasets and writes
a model version of its own. One run can be sent three ways: as a native event, as an
OpenLineage START + COMPLETE pair, or as a row of ``CEILING``, the plain UNWIND MERGE that
writes the same Run node, edges and entities with none of the API's checks and merging.
"""

from __future__ import annotations

import gc
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvloop
from neo4j import AsyncGraphDatabase, GraphDatabase

from bench.stack import clear, login
from bench.stats import summary
from mllineage.client.builders import entity, event
from mllineage.local import LocalApi
from mllineage.model.domain import STATUS_RANK, make_uid, parse_uid
from mllineage.settings import Settings
from mllineage.store.queries.runs import list_runs_query
from mllineage.store.runs import decode_run_cursor

PRODUCER = "bench/runs.py"
HOT = "bench/train-hot"  # the process whose history the reads page through
HISTORY_START = datetime(2026, 2, 1, tzinfo=UTC)
IDS = uuid.UUID("6d1c2a8e-0b7e-4c1a-9f3e-2b5d7c9a1e00")
EXPERIMENTS = 10


@dataclass(frozen=True)
class Run:
    """One completed run; process, inputs and outputs are entity uids."""

    id: str
    process: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    started: datetime
    ended: datetime
    experiment: str
    maps: dict[str, dict[str, Any]] = field(default_factory=dict)  # params, metrics, env, code


def run_maps(rng: random.Random, i: int) -> dict[str, dict[str, Any]]:
    """Ten params, five metrics, an env and a code map, as a training script logs them."""
    return {
        "params": {
            "lr": round(rng.uniform(1e-4, 0.1), 5), "batch_size": rng.choice((64, 128, 256)),
            "epochs": rng.randint(5, 50), "max_depth": rng.randint(3, 12),
            "n_estimators": rng.randint(50, 500), "optimizer": rng.choice(("adam", "sgd")),
            "dropout": round(rng.uniform(0, 0.5), 3), "seed": i, "l2": 1e-4,
            "feature_set": f"v{rng.randint(1, 9)}",
        },
        "metrics": {
            "precision": rng.random(), "recall": rng.random(), "auc": rng.random(),
            "loss": rng.uniform(0, 2), "f1": rng.random(),
        },
        "env": {
            "python": "3.11.7", "image": f"acme/train:{rng.randint(1, 40)}",
            "sklearn": "1.5.2", "torch": "2.4.1", "host": f"worker-{rng.randint(1, 16)}",
        },
        "code": {
            "repo_url": "https://github.com/acme/models.git",
            "commit": f"{rng.getrandbits(40):010x}", "branch": "main",
            "path": "train/churn.py", "dirty": rng.random() < 0.1,
        },
    }  # fmt: skip


def run_history(runs: int, hot_runs: int, seed: int = 7) -> list[Run]:
    """``runs`` runs one minute apart, ``hot_runs`` of them of the ``HOT`` process and the
    rest spread over 19 others; each reads two of 50 datasets and writes its own model
    version; experiments round-robin over ten names."""
    rng = random.Random(seed)
    hot_at = set(rng.sample(range(runs), hot_runs))
    history = []
    for i in range(runs):
        name = HOT if i in hot_at else f"bench/train-{rng.randrange(19)}"
        started = HISTORY_START + timedelta(minutes=i)
        history.append(
            Run(
                id=str(uuid.uuid5(IDS, f"{seed}/{i}")),
                process=make_uid("TrainingJob", "default", name),
                inputs=tuple(
                    make_uid("Dataset", "default", f"lake/ds-{d}")
                    for d in sorted(rng.sample(range(50), 2))
                ),
                outputs=(make_uid("Model", "default", f"models/{name.split('/')[1]}@{i}"),),
                started=started,
                ended=started + timedelta(minutes=rng.randint(5, 50)),
                experiment=f"exp-{i % EXPERIMENTS}",
                maps=run_maps(rng, i),
            )
        )
    return history


def _entity(uid: str) -> dict[str, Any]:
    kind, _, name = parse_uid(uid)
    return entity(kind, name)


def native_event(run: Run) -> dict[str, Any]:
    """The run as one native COMPLETE event, its start in ``run.started_at``."""
    return event(
        _entity(run.process),
        [_entity(uid) for uid in run.inputs],
        [_entity(uid) for uid in run.outputs],
        time=run.ended.isoformat(),
        producer=PRODUCER,
        run_id=run.id,
        started_at=run.started.isoformat(),
        experiment=run.experiment,
        **run.maps,
    )


def _dataset(uid: str) -> dict[str, Any]:
    kind, _, name = parse_uid(uid)
    namespace, _, short = name.partition("/")
    return {"namespace": namespace, "name": short, "facets": {"mllineage": {"kind": kind}}}


def openlineage_pair(run: Run) -> list[dict[str, Any]]:
    """START with the inputs, outputs, params, env and code; a bare COMPLETE with the metrics
    (as a tracker that learns its metrics at the end sends them)."""
    job = _dataset(run.process)  # a job is named and declared like a dataset

    def one(kind: str, at: datetime, facet: dict[str, Any], io: bool) -> dict[str, Any]:
        return {
            "eventType": kind,
            "eventTime": at.isoformat(),
            "producer": PRODUCER,
            "run": {"runId": run.id, "facets": {"mllineage": facet}},
            "job": job,
            "inputs": [_dataset(uid) for uid in run.inputs] if io else [],
            "outputs": [_dataset(uid) for uid in run.outputs] if io else [],
        }

    maps = {k: v for k, v in run.maps.items() if k != "metrics"}
    return [
        one("START", run.started, {"experiment": run.experiment, **maps}, io=True),
        one("COMPLETE", run.ended, {"metrics": run.maps["metrics"]}, io=False),
    ]


# The ceiling: the Run node with the properties the API gives it, RunOf, ReadBy and Wrote,
# and the entities and lineage edges the run implies, merged with no checks and no merging
# of one run's events (each row is a whole completed run).
RUN_SET = """
SET r += row.props, r.process = row.process.uid, r.status = 'COMPLETE', r.status_rank = row.rank,
    r.status_time = ended_at, r.event_time = ended_at, r.completed_at = ended_at,
    r.started_at = started_at, r.ended_at = ended_at, r.producer = row.producer
"""
CEILING = f"""
UNWIND $rows AS row
WITH row, datetime(row.started_at) AS started_at, datetime(row.ended_at) AS ended_at
MERGE (p:Entity {{uid: row.process.uid}})
  ON CREATE SET p:$(row.process.kind), p.kind = row.process.kind, p.namespace = 'default',
                p.name = row.process.name, p.created_at = ended_at, p.updated_at = ended_at
MERGE (r:Run {{id: row.id}})
{RUN_SET}
MERGE (r)-[:RunOf]->(p)
WITH row, p, r, ended_at
CALL (row, p, r, ended_at) {{
  UNWIND row.inputs AS input
  MERGE (a:Entity {{uid: input.uid}})
    ON CREATE SET a:$(input.kind), a.kind = input.kind, a.namespace = 'default',
                  a.name = input.name, a.created_at = ended_at, a.updated_at = ended_at
  MERGE (a)-[:ReadBy]->(r)
  MERGE (a)-[e:ContributedTo]->(p)
    ON CREATE SET e.first_seen = ended_at, e.last_seen = ended_at, e.producer = row.producer
}}
CALL (row, p, r, ended_at) {{
  UNWIND row.outputs AS output
  MERGE (m:Entity {{uid: output.uid}})
    ON CREATE SET m:$(output.kind), m.kind = output.kind, m.namespace = 'default',
                  m.name = output.name, m.created_at = ended_at, m.updated_at = ended_at
  MERGE (r)-[:Wrote]->(m)
  MERGE (p)-[e:Produced]->(m)
    ON CREATE SET e.first_seen = ended_at, e.last_seen = ended_at, e.producer = row.producer
}}
"""


def _named(uid: str) -> dict[str, str]:
    kind, _, name = parse_uid(uid)
    return {"uid": uid, "kind": kind, "name": name}


def ceiling_rows(runs: list[Run]) -> list[dict[str, Any]]:
    """CEILING's rows in id order (one lock order, as the API's writes)."""
    return [
        {
            "id": run.id,
            "process": _named(run.process),
            "inputs": [_named(uid) for uid in run.inputs],
            "outputs": [_named(uid) for uid in run.outputs],
            "props": {
                "experiment": run.experiment,
                **{f"{m}.{k}": v for m, values in run.maps.items() for k, v in values.items()},
            },
            "rank": STATUS_RANK["COMPLETE"],
            "producer": PRODUCER,
            "started_at": run.started.isoformat(),
            "ended_at": run.ended.isoformat(),
        }
        for run in sorted(runs, key=lambda r: r.id)
    ]


def write_ceiling(
    settings: Settings, runs: list[Run], batch: int = 1_000, query: str = CEILING
) -> float:
    """Write runs through CEILING (or a query taking the same rows) in batches; returns the
    seconds it took."""
    began = time.perf_counter()
    with GraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as driver:
        for i in range(0, len(runs), batch):
            rows = ceiling_rows(runs[i : i + batch])
            driver.execute_query(query, rows=rows, database_=settings.neo4j_database)
    return time.perf_counter() - began


SIDES = ("native", "openlineage", "ceiling")


def bench_run_ingest(
    settings: Settings, api: LocalApi, history: list[Run], batch: int, single: int
) -> dict[str, Any]:
    """Runs in turns of native batches (``batch`` events), OpenLineage batches (``batch``
    events: half as many runs) and ceiling batches (``batch`` runs), so all three meet the
    same database size and warmth; after a warm-up on a tenth. Then the last ``single`` runs
    as OpenLineage pairs, one event per request."""
    body, singles = history[: len(history) - single], history[len(history) - single :]
    units: list[tuple[str, int, int, Any]] = []  # side, runs, events, payload
    at = 0
    while at < len(body):
        side = SIDES[len(units) % 3]
        chunk = body[at : at + (batch // 2 if side == "openlineage" else batch)]
        at += len(chunk)
        if side == "native":
            units.append(
                (side, len(chunk), len(chunk), {"events": [native_event(r) for r in chunk]})
            )
        elif side == "openlineage":
            pairs = [e for run in chunk for e in openlineage_pair(run)]
            units.append((side, len(chunk), len(pairs), pairs))
        else:
            units.append((side, len(chunk), len(chunk), ceiling_rows(chunk)))
    gc.collect()
    gc.freeze()

    async def turns(count: int) -> dict[str, list[tuple[int, int, float]]]:
        timed: dict[str, list[tuple[int, int, float]]] = {side: [] for side in SIDES}
        async with (
            AsyncGraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as driver,
            httpx.AsyncClient(base_url=api.url, timeout=600) as client,
        ):
            for side, runs, events, payload in units[:count]:
                began = time.perf_counter()
                if side == "ceiling":
                    await driver.execute_query(
                        CEILING, rows=payload, database_=settings.neo4j_database
                    )
                else:
                    path = "/v1/events" if side == "native" else "/api/v1/lineage/batch"
                    (await client.post(path, json=payload)).raise_for_status()
                timed[side].append((runs, events, time.perf_counter() - began))
        return timed

    clear(settings)
    uvloop.run(turns(max(3, len(units) // 10)))  # warm the JVM and the plan cache
    clear(settings)
    timed = uvloop.run(turns(len(units)))
    with httpx.Client(base_url=api.url, timeout=600) as client:
        began = time.perf_counter()
        for run in singles:
            for one in openlineage_pair(run):
                client.post("/api/v1/lineage", json=one).raise_for_status()
        single_s = time.perf_counter() - began

    def rate(side: str, what: int) -> float:
        return sum(t[what] for t in timed[side]) / sum(t[2] for t in timed[side])

    out: dict[str, Any] = {"runs": len(history), "batch": batch}
    for side in SIDES:
        out[side] = {"runs_per_s": round(rate(side, 0)), "events_per_s": round(rate(side, 1))}
        out[side]["vs_ceiling"] = round(rate(side, 0) / rate("ceiling", 0), 2)
    out["openlineage_single"] = {
        "runs": len(singles),
        "runs_per_s": round(len(singles) / single_s, 1),
        "events_per_s": round(2 * len(singles) / single_s, 1),
    }
    return out


def run_count(settings: Settings, process: str | None = None) -> int:
    query = "MATCH (r:Run) WHERE $process IS NULL OR r.process = $process RETURN count(r) AS n"
    with GraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as driver:
        records, _, _ = driver.execute_query(
            query, process=process, database_=settings.neo4j_database
        )
    return int(records[0]["n"])


def page_chain(
    client: httpx.Client, params: dict[str, str], limit: int
) -> tuple[list[str], list[str]]:
    """Every run id of a filter, newest first, and the cursor of each page after the first."""
    ids: list[str] = []
    cursors: list[str] = []
    while True:
        cursor = {"cursor": cursors[-1]} if cursors else {}
        page = client.get("/v1/runs", params={**params, "limit": limit, **cursor})
        page.raise_for_status()
        ids += [run["id"] for run in page.json()["items"]]
        if not (following := page.json()["next_cursor"]):
            return ids, cursors
        cursors.append(following)


def _operators(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """A PROFILE plan's operators, root first."""
    name = plan["operatorType"].split("@")[0]
    here = {"op": name, "details": plan.get("args", {}).get("Details", ""),
            "db_hits": plan.get("dbHits", 0), "rows": plan.get("rows", 0)}  # fmt: skip
    return [here, *(op for child in plan.get("children", []) for op in _operators(child))]


def profile(settings: Settings, params: dict[str, Any]) -> dict[str, Any]:
    """PROFILE of the store's run-list query for these parameters: which index it starts
    from, how many rows that index gives, and whether it sorts them all."""
    names = frozenset("after" if k == "after_time" else k for k in params if k != "after_id")
    query = list_runs_query(names)
    with (
        GraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as driver,
        driver.session(database=settings.neo4j_database) as session,
    ):
        session.run(query, params, limit=101).consume()  # planned and cached first
        plan = session.run(f"PROFILE {query}", params, limit=101).consume().profile
    ops = _operators(plan)
    seeks = [op for op in ops if "Index" in op["op"]]
    return {
        "operators": [op["op"] for op in ops],
        "start": seeks[0]["details"] if seeks else ops[-1]["details"],
        "rows_from_start": ops[-1]["rows"],
        "db_hits": sum(op["db_hits"] for op in ops),
        "full_sort": any(op["op"] in ("Sort", "Top") for op in ops),
    }


def _cursor_params(cursor: str) -> dict[str, str]:
    after_time, after_id = decode_run_cursor(cursor)
    return {"after_time": after_time, "after_id": after_id}


def bench_run_reads(
    settings: Settings, api: LocalApi, history: list[Run], samples: int, limit: int = 100
) -> dict[str, Any]:
    """``GET /v1/runs`` for the HOT process (first page, a page in the middle of the cursor
    chain, the last page), for an experiment and for a model version's producer, the cases
    taken in turn ``samples`` times; each checked against the history first."""
    hot = make_uid("TrainingJob", "default", HOT)
    newest = sorted(history, key=lambda r: (r.started, r.id), reverse=True)
    expected = [r.id for r in newest if r.process == hot]
    middle = newest[len(newest) // 2]
    with httpx.Client(base_url=api.url, timeout=120) as client:
        ids, cursors = page_chain(client, {"process": hot}, limit)
        assert ids == expected, "the process's runs, paged, are not its history newest first"
        exp_ids, exp_cursors = page_chain(client, {"experiment": "exp-0"}, limit)
        assert exp_ids == [r.id for r in newest if r.experiment == "exp-0"]
        deep, exp_deep = cursors[len(cursors) // 2], exp_cursors[len(exp_cursors) // 2]
        cases: dict[str, dict[str, str]] = {
            "process, first page": {"process": hot},
            f"process, page {len(cursors) // 2 + 2} of {len(cursors) + 1}": {
                "process": hot, "cursor": deep},
            f"process, last page ({len(cursors) + 1})": {"process": hot, "cursor": cursors[-1]},
            "experiment, first page": {"experiment": "exp-0"},
            f"experiment, page {len(exp_cursors) // 2 + 2} of {len(exp_cursors) + 1}": {
                "experiment": "exp-0", "cursor": exp_deep},
            "produced (one model version)": {"produced": middle.outputs[0]},
        }  # fmt: skip
        found = client.get("/v1/runs", params=cases["produced (one model version)"]).json()
        assert [r["id"] for r in found["items"]] == [middle.id]
        ms: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(samples):
            for name, params in cases.items():
                began = time.perf_counter()
                client.get("/v1/runs", params={**params, "limit": limit}).raise_for_status()
                ms[name].append((time.perf_counter() - began) * 1000)
    return {
        "process_runs": len(expected),
        "experiment_runs": len(exp_ids),
        "limit": limit,
        "latency": {name: summary(v) for name, v in ms.items()},
        "profile": {
            "process, first page": profile(settings, {"process": hot}),
            "process, deep page": profile(settings, {"process": hot, **_cursor_params(deep)}),
            "experiment, first page": profile(settings, {"experiment": "exp-0"}),
        },
    }
