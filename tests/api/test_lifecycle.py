"""Lifecycle calls through the real API: deprecate, retire, restore, purge, end edges; the
live graph by default; live impact and the what-if gate."""

from __future__ import annotations

from typing import Any

import httpx
from neo4j import Driver

from mllineage.local import LocalApi
from tests.helpers import ADMIN, WRITER, dump_graph

T0, T1, T2, T3 = (f"2026-11-0{d}T10:00:00Z" for d in (1, 2, 3, 4))


def uid(kind: str, name: str) -> str:
    return f"{kind}:default:{name}"


FG, Q, DS, JOB = (
    uid("FeatureGroup", "customers"),
    uid("FeatureQuery", "q"),
    uid("Dataset", "d"),
    uid("TrainingJob", "train"),
)
M2, M3, EP, EP_OLD = (
    uid("Model", "m@2"),
    uid("Model", "m@3"),
    uid("Endpoint", "prod"),
    uid("Endpoint", "old"),
)


def edge(source: str, target: str, kind: str = "ContributedTo") -> dict[str, str]:
    return {"source": source, "target": target, "type": kind}


def node(u: str, owner: str = "team") -> dict[str, Any]:
    kind, _, name = u.split(":", 2)
    return {"kind": kind, "name": name, "owner": owner}


def serving_graph(api: httpx.Client, at: str = T0) -> None:
    """customers -> q -> d -> train -> {m@2, m@3}; m@2 -> old; m@2, m@3 -> prod."""
    nodes = [node(u) for u in (FG, Q, DS, JOB, M2, M3)] + [node(EP, "ml"), node(EP_OLD, "old")]
    edges = [
        edge(FG, Q), edge(Q, DS, "Produced"), edge(DS, JOB),
        edge(JOB, M2, "Produced"), edge(JOB, M3, "Produced"),
        edge(M2, EP_OLD), edge(M2, EP), edge(M3, EP),
    ]  # fmt: skip
    reply = api.post("/v1/graph", json={"event_time": at, "nodes": nodes, "edges": edges})
    assert reply.status_code == 200, reply.text


def call(api: httpx.Client, u: str, action: str, **body: Any) -> httpx.Response:
    return api.post(f"/v1/entities/{u}/{action}", json=body)


def walked(api: httpx.Client, root: str, **params: Any) -> set[str]:
    reply = api.get("/v1/lineage", params={"uid": root, "depth": 20, **params})
    assert reply.status_code == 200, reply.text
    return {n["uid"] for n in reply.json()["nodes"]}


def test_retire_leaves_the_live_graph_and_a_newer_mention_revives(api: httpx.Client) -> None:
    serving_graph(api)
    assert call(api, M2, "retire", reason="superseded", event_time=T1).status_code == 200
    assert walked(api, FG) == {Q, DS, JOB, M3, EP}  # m@2 gone, old only reached through it
    assert api.get(f"/v1/entities/{M2}").status_code == 404
    shown = api.get(f"/v1/entities/{M2}", params={"include_retired": "true"}).json()
    assert shown["retired_at"] == "2026-11-02T10:00:00Z"
    assert shown["retirement_reason"] == "superseded"
    assert "retired_from" not in shown["properties"]
    marked = api.get("/v1/lineage", params={"uid": FG, "include_retired": "true"}).json()
    assert {n["uid"]: n["retired_at"] for n in marked["nodes"]}[M2] == "2026-11-02T10:00:00Z"
    listed = api.get("/v1/entities", params={"kind": "Model"}).json()["items"]
    assert [e["uid"] for e in listed] == [M3]
    assert api.get(f"/v1/entities/{JOB}").json()["downstream"] == [
        {"uid": M3, "kind": "Model", "name": "m@3", "type": "Produced"}
    ]
    # An older, late mention does not revive it; a newer one does (edges come back with it).
    older = {"event_time": T0, "nodes": [node(M2)]}
    assert api.post("/v1/graph", json=older).status_code == 200
    assert M2 not in walked(api, FG)
    newer = {"event_time": T2, "nodes": [node(M2)]}
    assert api.post("/v1/graph", json=newer).status_code == 200
    assert walked(api, FG) == {Q, DS, JOB, M2, M3, EP, EP_OLD}
    assert api.get(f"/v1/entities/{M2}").json()["retired_at"] is None


def test_lifecycle_calls_are_idempotent_and_order_independent(
    api: httpx.Client, empty_graph: Driver
) -> None:
    calls = [
        (M2, "retire", {"event_time": T1, "reason": "r"}),
        (M2, "restore", {"event_time": T2}),
        (M3, "deprecate", {"event_time": T1, "reason": "old", "replaced_by": M2}),
        (M3, "deprecate", {"event_time": T0, "reason": "older"}),
        (EP_OLD, "retire", {"event_time": T3}),
    ]
    dumps = []
    for order in (calls, calls[::-1], calls + calls):
        empty_graph.execute_query("MATCH (n) DETACH DELETE n")
        serving_graph(api)
        for u, action, body in order:
            assert call(api, u, action, **body).status_code == 200
        dumps.append(dump_graph(empty_graph))
    assert dumps[0] == dumps[1] == dumps[2]
    m3 = api.get(f"/v1/entities/{M3}").json()
    assert (m3["deprecated"], m3["deprecation_reason"], m3["replaced_by"]) == (True, "old", M2)
    assert api.get(f"/v1/entities/{M2}").json()["retired_at"] is None  # restored after
    assert api.get(f"/v1/entities/{EP_OLD}").status_code == 404


def test_ended_edges_and_their_revival(api: httpx.Client) -> None:
    serving_graph(api)
    body = {"edges": [edge(M2, EP)], "event_time": T1}
    assert api.post("/v1/edges/end", json=body).json()["ended"] == 1
    graph = api.get("/v1/lineage", params={"uid": M2}).json()
    assert {n["uid"] for n in graph["nodes"]} == {EP_OLD}
    marked = api.get("/v1/lineage", params={"uid": M2, "include_retired": "true"}).json()
    assert {(e["target"], e["ended_at"]) for e in marked["edges"]} == {
        (EP_OLD, None), (EP, "2026-11-02T10:00:00Z"),
    }  # fmt: skip
    late = {"event_time": T0, "edges": [edge(M2, EP)]}
    assert api.post("/v1/graph", json=late).status_code == 200
    assert EP not in walked(api, M2)
    again = {"event_time": T2, "edges": [edge(M2, EP)]}
    assert api.post("/v1/graph", json=again).status_code == 200
    assert EP in walked(api, M2)


def test_bad_lifecycle_calls_write_nothing(api: httpx.Client, empty_graph: Driver) -> None:
    serving_graph(api)
    before = dump_graph(empty_graph)
    missing = call(api, uid("Model", "nope"), "retire")
    assert missing.status_code == 404 and "Model:default:nope" in missing.json()["message"]
    assert api.delete(f"/v1/entities/{uid('Model', 'nope')}").status_code == 404
    wrong_kind = call(api, M2, "deprecate", reason="x", replaced_by=EP)
    assert wrong_kind.status_code == 422 and "replaced_by" in wrong_kind.json()["message"]
    absent = call(api, M2, "deprecate", reason="x", replaced_by=uid("Model", "m@9"))
    assert absent.status_code == 422 and "m@9" in absent.json()["message"]
    assert call(api, M2, "deprecate", reason="x", replaced_by=M2).status_code == 422
    assert call(api, M2, "deprecate").status_code == 422  # the reason is required
    future = call(api, M2, "retire", event_time="2999-01-01T00:00:00Z")
    assert future.status_code == 422 and "event_time" in future.json()["message"]
    half = {"edges": [edge(M2, EP), edge(M3, EP_OLD)]}
    reply = api.post("/v1/edges/end", json=half)
    assert reply.status_code == 404 and EP_OLD in reply.json()["message"]
    bad_rule = api.post("/v1/edges/end", json={"edges": [edge(EP, M2)]})
    assert bad_rule.status_code == 422
    assert dump_graph(empty_graph) == before


def test_purge_needs_admin_and_removes_for_good(secured: LocalApi, empty_graph: Driver) -> None:
    with httpx.Client(base_url=secured.url, timeout=60) as api:
        writer = {"Authorization": f"Bearer {WRITER}"}
        admin = {"Authorization": f"Bearer {ADMIN}"}
        api.headers.update(writer)
        serving_graph(api)
        assert call(api, M2, "deprecate", reason="old", replaced_by=M3).status_code == 200
        refused = api.delete(f"/v1/entities/{M3}")
        assert refused.status_code == 403 and "admin" in refused.json()["message"]
        assert api.delete(f"/v1/entities/{M3}", headers=admin).json()["purged"] is True
        api.headers.update(admin)
        assert api.get(f"/v1/entities/{M3}", params={"include_retired": "true"}).status_code == 404
        assert api.get(f"/v1/entities/{M2}").json()["replaced_by"] is None
        assert walked(api, JOB) == {M2, EP, EP_OLD}
        assert api.delete(f"/v1/entities/{M3}", headers=admin).status_code == 404


def test_live_impact_and_what_if(api: httpx.Client) -> None:
    serving_graph(api)
    assert call(api, EP_OLD, "retire", event_time=T1).status_code == 200
    assert call(api, FG, "deprecate", reason="v2", event_time=T1).status_code == 200
    report = api.get("/v1/impact", params={"uid": JOB, "include_retired": "true"}).json()
    flags = {i["uid"]: i["live"] for i in report["models"] + report["endpoints"]}
    assert flags == {M2: True, M3: True, EP: True, EP_OLD: False}
    assert report["live_endpoints"] == 1
    # The new version serves alone: the old one's serving edge ends, the old one retires.
    assert api.post("/v1/edges/end", json={"edges": [edge(M2, EP)], "event_time": T2})
    live = api.get("/v1/impact", params={"uid": JOB, "live": "true"}).json()
    assert [m["uid"] for m in live["models"]] == [M3]
    assert [e["uid"] for e in live["endpoints"]] == [EP] and live["live_endpoints"] == 1
    everything = api.get("/v1/impact", params={"uid": JOB}).json()
    assert {m["uid"]: m["live"] for m in everything["models"]} == {M2: False, M3: True}
    fg = api.get("/v1/impact", params={"uid": Q}).json()
    assert fg["root"]["deprecated"] is False
    assert api.get("/v1/impact", params={"uid": FG}).json()["root"]["deprecated"] is True

    what_if = api.post("/v1/impact/what-if", json={"retire": [DS]}).json()
    assert what_if["live_endpoints"] == 1 and what_if["owners"] == ["ml", "team"]
    assert [(i["uid"], i["loses"], i["replacement"]) for i in what_if["endpoints"]] == [
        (EP, DS, None)
    ]
    assert what_if["endpoints"][0]["path"] == [DS, JOB, M3, EP]
    assert [i["uid"] for i in what_if["models"]] == [M3]
    replaced = uid("Dataset", "d2")
    assert api.post("/v1/graph", json={"event_time": T0, "nodes": [node(replaced)]})
    assert call(api, DS, "deprecate", reason="v2", replaced_by=replaced).status_code == 200
    what_if = api.post("/v1/impact/what-if", json={"retire": [DS]}).json()
    assert what_if["endpoints"][0]["replacement"] == replaced
    safe = api.post("/v1/impact/what-if", json={"retire": [M2]}).json()
    assert safe["live_endpoints"] == 0 and safe["endpoints"] == []
    then = api.post("/v1/impact/what-if", json={"retire": [M2], "as_of": T0}).json()
    assert {i["uid"] for i in then["endpoints"]} == {EP, EP_OLD}
    unknown = api.post("/v1/impact/what-if", json={"retire": [uid("Model", "nope")]})
    assert unknown.status_code == 404


def test_every_read_takes_as_of(api: httpx.Client) -> None:
    serving_graph(api)
    assert call(api, M2, "retire", event_time=T2).status_code == 200
    then, now = {"as_of": T1}, {}
    assert M2 in walked(api, FG, **then) and M2 not in walked(api, FG, **now)
    assert api.get(f"/v1/entities/{M2}", params=then).status_code == 200
    before = api.get(f"/v1/entities/{M2}", params={"as_of": "2026-10-01T00:00:00Z"})
    assert before.status_code == 404 and "did not exist" in before.json()["message"]
    models = api.get("/v1/questions/models-of-feature-group", params={"uid": FG, **then})
    assert {n["uid"] for n in models.json()["nodes"]} == {M2, M3}
    impact = api.get("/v1/impact", params={"uid": JOB, **then}).json()
    assert {m["uid"] for m in impact["models"]} == {M2, M3}
    listed = api.get("/v1/entities", params={"kind": "Model", **then}).json()["items"]
    assert [e["uid"] for e in listed] == [M2, M3]
    bad = api.get("/v1/lineage", params={"uid": FG, "as_of": "1700000000"})
    assert bad.status_code == 422 and "as_of" in bad.json()["message"]
