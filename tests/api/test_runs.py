"""Runs on the real Neo4j (docs/runs.md): every run kept, its events merged in any order, its
facets mapped, its reads filtered and paged; walks never follow run edges."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import networkx as nx
import pytest
from neo4j import Driver

from tests.events import entity, event
from tests.helpers import EMPTY_GRAPH, dump_graph

RUN = "0192f3a0-7c1e-7c1e-9a2b-00000000a001"
JOB = "FeaturePipeline:default:etl/load"
OUT = "DataSource:default:wh/public.orders"


def facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": "https://example.com/p", "_schemaURL": "https://example.com/s", **fields}


def ol(
    event_type: str,
    time: str,
    *,
    run_id: str = RUN,
    job: str = "load",
    inputs: list[str] = (),  # type: ignore[assignment]
    outputs: list[str] = (),  # type: ignore[assignment]
    run_facets: dict[str, Any] | None = None,
    job_facets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An OpenLineage RunEvent shaped as Marquez's seed and the Airflow integration send them."""
    return {
        "eventType": event_type,
        "eventTime": time,
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/airflow",
        "run": {"runId": run_id, "facets": run_facets or {}},
        "job": {"namespace": "etl", "name": job, "facets": job_facets or {}},
        "inputs": [{"namespace": "wh", "name": name} for name in inputs],
        "outputs": [{"namespace": "wh", "name": name} for name in outputs],
    }


NOMINAL = {"nominalTime": facet(nominalStartTime="2026-11-02T00:00:00Z")}
START = ol("START", "2026-11-02T10:00:00Z", inputs=["public.raw"], outputs=["public.orders"],
           run_facets=NOMINAL)  # fmt: skip
RUNNING = ol("RUNNING", "2026-11-02T10:05:00Z")
COMPLETE = ol("COMPLETE", "2026-11-02T10:10:00Z")


def post(api: httpx.Client, *events: dict[str, Any]) -> None:
    for body in events:
        reply = api.post("/api/v1/lineage", json=body)
        assert reply.status_code == 201, reply.text


def produced(driver: Driver) -> set[tuple[str, str]]:
    return {(s, d) for s, t, d, _ in dump_graph(driver)["edges"] if t == "Produced"}


@pytest.mark.parametrize(
    "order",
    [
        (START, COMPLETE),
        (START, RUNNING, COMPLETE),
        (COMPLETE, START),  # a late START
        (RUNNING, COMPLETE, START),
        (COMPLETE, RUNNING, START, COMPLETE),  # re-sent
    ],
)
def test_a_runs_events_merge_in_any_order(
    api: httpx.Client, empty_graph: Driver, order: tuple[dict[str, Any], ...]
) -> None:
    post(api, *order)
    assert produced(empty_graph) == {(JOB, OUT)}
    run = api.get(f"/v1/runs/{RUN}").json()
    assert run["status"] == "COMPLETE", "a late START must not undo a COMPLETE"
    assert run["process"] == JOB
    assert run["nominal_start_time"] == "2026-11-02T00:00:00Z"
    assert run["started_at"] == "2026-11-02T10:00:00Z"
    assert run["ended_at"] == "2026-11-02T10:10:00Z"
    assert [i["uid"] for i in run["inputs"]] == ["DataSource:default:wh/public.raw"]
    assert [o["uid"] for o in run["outputs"]] == [OUT] and run["pending_outputs"] == []
    dump = dump_graph(empty_graph)
    assert (RUN, "Wrote", OUT) in dump["run_edges"] and (RUN, "RunOf", JOB) in dump["run_edges"]
    post(api, *order)
    assert dump_graph(empty_graph) == dump, "re-sending changed the graph"


def test_before_it_completes_a_run_writes_nothing_and_says_what_it_named(
    api: httpx.Client, empty_graph: Driver
) -> None:
    post(api, START, RUNNING)
    assert produced(empty_graph) == set()
    assert OUT not in {props["uid"] for _, props in dump_graph(empty_graph)["nodes"]}
    run = api.get(f"/v1/runs/{RUN}").json()
    assert run["status"] == "RUNNING" and run["ended_at"] is None
    assert run["outputs"] == [] and run["pending_outputs"] == [OUT]
    error = {"errorMessage": facet(message="disk full", programmingLanguage="python")}
    failed = ol("FAIL", "2026-11-02T10:20:00Z", run_facets=error)
    post(api, failed)
    run = api.get(f"/v1/runs/{RUN}").json()
    assert run["status"] == "FAIL" and run["error_message"] == "disk full"
    assert produced(empty_graph) == set()


def test_run_facets_and_ours_land_on_the_run(api: httpx.Client, empty_graph: Driver) -> None:
    parent_id = "0192f3a0-7c1e-7c1e-9a2b-00000000a000"
    facets = {
        "parent": facet(run={"runId": parent_id}, job={"namespace": "airflow", "name": "dag"}),
        "processing_engine": facet(name="Airflow", version="2.10.3",
                                   openlineageAdapterVersion="1.20.0"),
        "environmentVariables": facet(environmentVariables=[
            {"name": "CUDA_VERSION", "value": "12.4"}, {"name": "TOKEN", "value": "***"}]),
        "mllineage": facet(experiment="churn-2026", params={"lr": 0.1, "model": {"depth": 6}},
                           metrics={"precision": 0.91}, env={"image": "acme/train:7"}),
    }  # fmt: skip
    code = {"sourceCodeLocation": facet(
        type="git", url="https://github.com/acme/etl", repoUrl="https://github.com/acme/etl.git",
        version="3f2a9c1", branch="main", path="dags/load.py")}  # fmt: skip
    post(api, ol("COMPLETE", "2026-11-02T10:10:00Z", run_facets=facets, job_facets=code))
    run = api.get(f"/v1/runs/{RUN}").json()
    assert run["experiment"] == "churn-2026" and run["parent_job"] == "airflow/dag"
    assert run["params"] == {"lr": 0.1, "model.depth": 6}
    assert run["metrics"] == {"precision": 0.91}
    assert run["env"] == {
        "engine": "Airflow", "engine_version": "2.10.3", "adapter": "1.20.0",
        "vars.CUDA_VERSION": "12.4", "image": "acme/train:7",
    }  # fmt: skip
    assert run["code"] == {"type": "git", "url": "https://github.com/acme/etl",
                           "repo_url": "https://github.com/acme/etl.git", "commit": "3f2a9c1",
                           "branch": "main", "path": "dags/load.py"}  # fmt: skip
    assert run["parent"] == parent_id
    parent = api.get(f"/v1/runs/{parent_id}").json()
    assert parent["children"] == [RUN] and parent["process"] is None
    experiments = api.get("/v1/experiments").json()["items"]
    assert [(e["name"], e["runs"], e["processes"]) for e in experiments] == [
        ("churn-2026", 1, [JOB])
    ]


def training(day: int, precision: float, **run: Any) -> dict[str, Any]:
    time = f"2026-11-{day:02d}T09:00:00Z"
    fields = {"experiment": "daily" if day % 2 else "other", "metrics": {"precision": precision}}
    return event(
        entity("TrainingJob", "train"), [entity("Dataset", f"set@{day}")],
        [entity("Model", f"m@{day}")], time=time, run_id=f"run-{day:02d}", **{**fields, **run},
    )  # fmt: skip


def test_a_run_and_its_parent_in_one_request_are_one_run_each(
    api: httpx.Client, empty_graph: Driver
) -> None:
    # The child's id sorts first, so its row names the parent before the parent's own row.
    child, parent = training(3, 0.5, parent_run_id="run-04"), training(4, 0.6)
    assert api.post("/v1/events", json={"events": [child, parent]}).status_code == 200
    run = api.get("/v1/runs/run-04").json()
    assert run["children"] == ["run-03"] and run["process"] == "TrainingJob:default:train"
    records, _, _ = empty_graph.execute_query("MATCH (r:Run) RETURN r.id AS id ORDER BY id")
    assert [r["id"] for r in records] == ["run-03", "run-04"]


def test_runs_list_filters_and_pages_newest_first(api: httpx.Client, empty_graph: Driver) -> None:
    days = range(1, 26)
    batch = {"events": [training(day, day / 100) for day in days]}
    assert api.post("/v1/events", json=batch).status_code == 200

    def ids(**params: Any) -> list[str]:
        found, cursor = [], None
        while True:
            page = api.get("/v1/runs", params={**params, "limit": 7, "cursor": cursor}).json()
            found += [run["id"] for run in page["items"]]
            if not (cursor := page["next_cursor"]):
                return found

    newest_first = [f"run-{day:02d}" for day in reversed(days)]
    assert ids(process="TrainingJob:default:train") == newest_first
    assert ids() == newest_first
    assert ids(experiment="daily") == [r for r in newest_first if int(r[-2:]) % 2]
    assert ids(produced="Model:default:m@7") == ["run-07"]
    assert ids(used="Dataset:default:set@9") == ["run-09"]
    assert ids(status="FAIL") == []
    assert ids(since="2026-11-10T00:00:00Z", until="2026-11-12T00:00:00Z") == ["run-11", "run-10"]
    run = api.get("/v1/runs", params={"produced": "Model:default:m@3"}).json()["items"][0]
    assert run["metrics"] == {"precision": 0.03} and run["params"] == {"lr": 0.1}
    assert run["started_at"] == "2026-11-03T09:00:00Z"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-11-10T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "since"),
        ({"process": "nope"}, "process"),
        ({"status": "DONE"}, "status"),
        ({"cursor": "bm9wZQ=="}, "cursor"),
        ({"since": "yesterday"}, "since"),
    ],
)
def test_bad_run_filters_are_a_422_naming_the_field(
    api: httpx.Client, params: dict[str, str], field: str
) -> None:
    reply = api.get("/v1/runs", params=params)
    assert reply.status_code == 422 and field in reply.json()["message"]


@pytest.mark.parametrize(
    ("run", "field"),
    [
        ({"metrics": {"precision": "high"}}, "precision"),
        ({"metrics": {"ok": True}}, "ok"),
        (
            {
                "params": {
                    "a": {
                        "b": {
                            "c": {
                                "d": {
                                    "e": {
                                        "f": {
                                            "g": {
                                                "h": {
                                                    "i": {
                                                        "j": {
                                                            "k": {
                                                                "l": {
                                                                    "m": {
                                                                        "n": {"o": {"p": {"q": 1}}}
                                                                    }
                                                                }
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            },
            "deeper",
        ),  # fmt: skip
        ({"experiment": ""}, "experiment"),
    ],
)
def test_bad_runs_are_a_422_and_write_nothing(
    api: httpx.Client, empty_graph: Driver, run: dict[str, Any], field: str
) -> None:
    reply = api.post("/v1/events", json=training(1, 0.5, **run))
    assert reply.status_code == 422 and field in reply.json()["message"], reply.text
    assert dump_graph(empty_graph) == EMPTY_GRAPH


def test_a_run_id_of_another_process_is_a_422(api: httpx.Client, empty_graph: Driver) -> None:
    assert api.post("/v1/events", json=training(1, 0.5)).status_code == 200
    before = dump_graph(empty_graph)
    other = event(entity("TrainingJob", "other"), [], [], run_id="run-01",
                  time="2026-11-02T09:00:00Z")  # fmt: skip
    reply = api.post("/v1/events", json=other)
    assert reply.status_code == 422 and "run.id 'run-01'" in reply.json()["message"]
    assert dump_graph(empty_graph) == before
    both = {"events": [training(2, 0.5), {**other, "run": {**other["run"], "id": "run-02"}}]}
    assert api.post("/v1/events", json=both).status_code == 422
    assert dump_graph(empty_graph) == before


def test_a_native_run_without_an_id_gets_one_and_resending_is_idempotent(
    api: httpx.Client, empty_graph: Driver
) -> None:
    body = event(entity("TrainingJob", "t"), [entity("Dataset", "d")], [entity("Model", "m@1")])
    assert "id" not in body["run"]
    assert api.post("/v1/events", json=body).status_code == 200
    dump = dump_graph(empty_graph)
    assert len(dump["runs"]) == 1
    assert api.post("/v1/events", json=body).status_code == 200
    assert dump_graph(empty_graph) == dump


def test_walks_answer_the_same_with_many_runs(api: httpx.Client, empty_graph: Driver) -> None:
    """A chain source -> job -> model -> endpoint walked before and after 200 more runs of
    each process (reading and writing the same artifacts), against networkx."""
    events = [
        event(entity("TrainingJob", "train"), [entity("DataSource", "src")],
              [entity("Model", "m@1")], time="2026-11-01T00:00:00Z"),
        event(entity("Endpoint", "serve"), [entity("Model", "m@1")], [],
              time="2026-11-01T01:00:00Z"),
    ]  # fmt: skip
    assert api.post("/v1/events", json={"events": events}).status_code == 200
    oracle = nx.DiGraph(
        [("DataSource:default:src", "TrainingJob:default:train"),
         ("TrainingJob:default:train", "Model:default:m@1"),
         ("Model:default:m@1", "Endpoint:default:serve")]
    )  # fmt: skip

    def answers() -> list[Any]:
        walks = []
        for uid, direction in itertools.product(oracle.nodes, ("downstream", "upstream")):
            reply = api.get("/v1/lineage", params={"uid": uid, "direction": direction}).json()
            walks.append(sorted((n["uid"], n["depth"]) for n in reply["nodes"]))
            reach = (nx.descendants if direction == "downstream" else nx.ancestors)(oracle, uid)
            lengths = nx.shortest_path_length(oracle.to_undirected(as_view=True), uid)
            assert walks[-1] == sorted((n, lengths[n]) for n in reach)
        impact = api.get("/v1/impact", params={"uid": "DataSource:default:src"}).json()
        walks.append((impact["total"], impact["counts"]))
        return walks

    before = answers()
    start = datetime(2026, 11, 2, tzinfo=UTC)
    more = [
        event(process, inputs, outputs, time=(start + timedelta(hours=i)).isoformat())
        for i in range(200)
        for process, inputs, outputs in [
            (entity("TrainingJob", "train"), [entity("DataSource", "src")],
             [entity("Model", "m@1")]),
            (entity("Endpoint", "serve"), [entity("Model", "m@1")], []),
        ]
    ]  # fmt: skip
    assert api.post("/v1/events", json={"events": more}).status_code == 200
    assert len(dump_graph(empty_graph)["runs"]) == 402
    assert answers() == before


def test_purging_a_process_takes_its_runs(api: httpx.Client, empty_graph: Driver) -> None:
    assert api.post("/v1/events", json=training(1, 0.5)).status_code == 200
    reply = api.delete("/v1/entities/TrainingJob:default:train")
    assert reply.status_code in (200, 204), reply.text
    dump = dump_graph(empty_graph)
    assert dump["runs"] == [] and dump["run_edges"] == []
