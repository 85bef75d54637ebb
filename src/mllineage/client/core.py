"""``LineageClient``: one synchronous client of one mllineage service, over httpx.

Requests go through ``transport.Transport``, which retries 503s and lost connections. Every
call of the service is a method here, one class for one API; the work that is not a call
(reading event files and batching them, shaping frames, checking drift) is in the modules
beside it (``ingest``, ``frames``, ``runs``, ``analysis.drift``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import pandas as pd

from mllineage import pictures
from mllineage.analysis import drift
from mllineage.analysis.reports import COLUMNS, Report, flatten
from mllineage.analysis.traversal import QUESTIONS
from mllineage.client.errors import LineageAPIError
from mllineage.client.frames import (
    ENTITY_COLUMNS,
    frame,
    impact_frame,
    nodes_frame,
    runs_frame,
    state,
    what_if_frame,
)
from mllineage.client.ingest import BATCH_SIZE, IngestReport, send
from mllineage.client.tracking import Input, TrackedRun
from mllineage.client.transport import Transport
from mllineage.model.domain import (
    DEFAULT_IMPACT_DEPTH,
    DEFAULT_LIMIT,
    DEFAULT_NAMESPACE,
    DEFAULT_WALK_DEPTH,
    MAX_NAME_QUERY,
    MAX_PAGE,
    PROCESS_KINDS,
    Kind,
    make_uid,
    parse_uid,
)
from mllineage.pictures import MAX_NODES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_UPSTREAM_PROCESSES = 50  # the most upstream processes a drift report asks about


def is_uid(text: str) -> bool:
    """Whether ``text`` is a well-formed uid (``<kind>:<namespace>:<name>``), not a name."""
    try:
        parse_uid(text)
    except ValueError:
        return False
    return True


def _view(as_of: str | None = None, include_retired: bool = False, **more: Any) -> dict[str, Any]:
    """The query parameters of a read's view (the live graph unless told otherwise)."""
    params = {k: v for k, v in more.items() if v is not None}
    if as_of:
        params["as_of"] = as_of
    if include_retired:
        params["include_retired"] = "true"
    return params


def _uid(kind: Kind, uid_or_name: str, namespace: str) -> str:
    """Accept a full uid, or just a name of the expected kind."""
    if uid_or_name.startswith(f"{kind}:"):
        return uid_or_name
    return make_uid(kind, namespace, uid_or_name)


class LineageClient:
    """Synchronous client of one mllineage service."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        timeout: float = 60.0,
        retry_seconds: float | None = None,
    ) -> None:
        """``retry_seconds`` bounds the retries of one call (``MLLINEAGE_RETRY_SECONDS``, 60)."""
        self._transport = Transport(url, token, timeout, retry_seconds)
        self.url = self._transport.url

    def __enter__(self) -> LineageClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._transport.call(method, path, **kwargs)

    # --- finding entities ---------------------------------------------------------------

    def entity(
        self, uid: str, as_of: str | None = None, include_retired: bool = False
    ) -> dict[str, Any]:
        """One entity, by uid or name, with its properties and lifecycle."""
        uid = self.resolve(uid, as_of, include_retired)
        with self._suggesting(uid):
            params = _view(as_of, include_retired)
            return self._call("GET", f"/v1/entities/{uid}", params=params)

    def entities(
        self,
        kind: str | None = None,
        namespace: str | None = None,
        q: str | None = None,
        as_of: str | None = None,
        include_retired: bool = False,
    ) -> pd.DataFrame:
        """Every matching entity (``q``: a substring of the name), all pages; its ``state``
        says whether it is live, deprecated or retired (with ``include_retired``)."""
        view = _view(as_of, include_retired)
        rows = [
            {**row, "state": state(row)}
            for row in self.iter_entities(kind=kind, namespace=namespace, q=q, **view)
        ]
        return frame(rows, [*ENTITY_COLUMNS, "state"])

    def iter_entities(
        self, max_pages: int | None = None, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        """The raw items of ``/v1/entities`` (with their properties), page after page."""
        params: dict[str, Any] = {k: v for k, v in filters.items() if v} | {"limit": MAX_PAGE}
        pages = 0
        while True:
            page = self._call("GET", "/v1/entities", params=params)
            yield from page["items"]
            pages += 1
            if not page["next_cursor"] or pages == max_pages:
                return
            params["cursor"] = page["next_cursor"]

    def resolve(
        self,
        name_or_uid: str,
        as_of: str | None = None,
        include_retired: bool = False,
        kind: Kind | None = None,
    ) -> str:
        """A uid as it is; a name as the uid of the one entity with exactly that name, in the
        view (the live graph, or ``as_of``; ``include_retired`` counts retired ones too), of
        ``kind`` when given.

        Every call that takes an entity takes a name this way. Raises ``LineageAPIError`` 409
        when several entities have the name (``candidates``: their uids) and 404 when none
        has it in the view (``candidates``: the retired namesakes, when there are some, else
        the closest uids).
        """
        if is_uid(name_or_uid):
            return name_or_uid
        if not name_or_uid:
            raise LineageAPIError(404, "an empty name names no entity")
        namesakes = self._namesakes(name_or_uid, _view(as_of, include_retired, kind=kind))
        if len(namesakes) == 1:
            return namesakes[0]
        if namesakes:
            raise LineageAPIError(
                409,
                f"{len(namesakes)} entities are named {name_or_uid!r}; pass one of their uids",
                candidates=namesakes,
            )
        retired_view = _view(as_of, True, kind=kind)
        if not include_retired and (retired := self._namesakes(name_or_uid, retired_view)):
            raise LineageAPIError(
                404,
                f"{name_or_uid!r} names only what is retired{' then' if as_of else ''}: "
                f"{', '.join(retired)}; pass include_retired=true to include it",
                candidates=retired,
            )
        raise LineageAPIError(
            404, f"no entity is named {name_or_uid!r}", candidates=self.closest(name_or_uid)
        )

    def _namesakes(self, name: str, view: dict[str, Any]) -> list[str]:
        """The uids of the entities named exactly ``name`` in the view."""
        search = self.iter_entities(q=name[:MAX_NAME_QUERY], **view)
        return sorted(row["uid"] for row in search if row["name"] == name)

    def closest(self, uid_or_name: str, n: int = 3) -> list[str]:
        """The uids of the entities most like ``uid_or_name``, best first (for "did you
        mean"): found by searching for the name and its words, ranked with difflib."""
        uid = is_uid(uid_or_name)
        name = uid_or_name.split(":", 2)[2] if uid else uid_or_name
        words = sorted(set(re.findall(r"[A-Za-z0-9]{3,}", name)), key=len, reverse=True)[:3]
        terms = dict.fromkeys([name, *words, *(word[:4] for word in words)])  # typos: stems
        found: dict[str, str] = {}
        try:
            for term in terms:
                rows = self.iter_entities(max_pages=1, q=term[:MAX_NAME_QUERY])
                found.update((r["uid"], r["name"]) for r in rows)
        except LineageAPIError:
            return []  # a hint is not worth a second error
        if uid:
            return difflib.get_close_matches(uid_or_name, list(found), n=n)
        by_name: dict[str, list[str]] = {}
        for candidate, candidate_name in found.items():
            by_name.setdefault(candidate_name, []).append(candidate)
        names = difflib.get_close_matches(name, list(by_name), n=n)
        return [candidate for close in names for candidate in sorted(by_name[close])][:n]

    @contextmanager
    def _suggesting(self, uid: str) -> Iterator[None]:
        """On a 404 for ``uid``, attach the closest uids to the error."""
        try:
            yield
        except LineageAPIError as exc:
            if exc.status == 404 and not exc.candidates:
                exc.candidates = self.closest(uid)
            raise

    # --- walks --------------------------------------------------------------------------

    def lineage_graph(
        self,
        uid: str,
        direction: str = "downstream",
        depth: int = DEFAULT_WALK_DEPTH,
        kinds: Iterable[str] | None = None,
        limit: int = DEFAULT_LIMIT,
        as_of: str | None = None,
        include_retired: bool = False,
    ) -> dict[str, Any]:
        """The raw ``/v1/lineage`` answer: ``{root, nodes, edges, truncated}``; the live
        graph, or as it stood at ``as_of``; ``include_retired`` adds what is retired, marked."""
        uid = self.resolve(uid, as_of, include_retired)
        params = _view(as_of, include_retired, uid=uid, direction=direction, depth=depth)
        params["limit"] = limit
        if kinds:
            params["kinds"] = ",".join(kinds)
        with self._suggesting(uid):
            return self._call("GET", "/v1/lineage", params=params)

    def lineage(self, uid: str, **walk: Any) -> pd.DataFrame:
        """Nodes reached from ``uid``, nearest first; columns ``NODE_COLUMNS``.

        ``df.attrs["truncated"]`` is True when ``limit`` cut the answer.
        """
        return nodes_frame(self.lineage_graph(uid, **walk))

    def to_networkx(self, uid: str, **walk: Any) -> nx.DiGraph:
        """The walked subgraph (root included), with node and edge attributes."""
        answer = self.lineage_graph(uid, **walk)
        graph = nx.DiGraph(root=uid, truncated=answer["truncated"])
        for node in [answer["root"], *answer["nodes"]]:
            graph.add_node(node["uid"], **{k: v for k, v in node.items() if k != "uid"})
        for edge in answer["edges"]:
            graph.add_edge(edge["source"], edge["target"], type=edge["type"])
        return graph

    def impact(self, uid: str, **options: Any) -> pd.DataFrame:
        """Affected models, endpoints and training jobs; columns ``IMPACT_COLUMNS``.

        ``df.attrs`` holds the report's ``total``, ``counts``, ``owners``,
        ``live_endpoints`` and ``truncated``. Options as ``impact_report``'s.
        """
        return impact_frame(self.impact_report(uid, **options))

    def impact_report(
        self,
        uid: str,
        depth: int = DEFAULT_IMPACT_DEPTH,
        limit: int = DEFAULT_LIMIT,
        live: bool = False,
        as_of: str | None = None,
        include_retired: bool = False,
    ) -> dict[str, Any]:
        """The raw ``/v1/impact`` answer; ``live`` keeps what serves now (live endpoints and
        everything upstream of one)."""
        uid = self.resolve(uid, as_of, include_retired)
        params = _view(as_of, include_retired, uid=uid, depth=depth, limit=limit)
        if live:
            params["live"] = "true"
        with self._suggesting(uid):
            return self._call("GET", "/v1/impact", params=params)

    def what_if(self, retire: Iterable[str], as_of: str | None = None) -> pd.DataFrame:
        """The live endpoints and models that retiring ``retire`` would take an input from,
        with what they lose and its replacement; ``attrs``: ``live_endpoints``, ``owners``."""
        return what_if_frame(self.what_if_report(retire, as_of))

    def what_if_report(self, retire: Iterable[str], as_of: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"retire": [self.resolve(uid, as_of) for uid in retire]}
        if as_of:
            body["as_of"] = as_of
        return self._call("POST", "/v1/impact/what-if", json=body)

    # --- lifecycle (``event_time``: ISO 8601, defaulting to the server's clock) ----------

    def deprecate(
        self,
        uid: str,
        reason: str,
        replaced_by: str | None = None,
        event_time: str | None = None,
    ) -> dict[str, Any]:
        if replaced_by is not None:
            replaced_by = self.resolve(replaced_by)
        body = {"reason": reason, "replaced_by": replaced_by, "event_time": event_time}
        return self._lifecycle(self.resolve(uid), "deprecate", body)

    def retire(
        self, uid: str, reason: str | None = None, event_time: str | None = None
    ) -> dict[str, Any]:
        body = {"reason": reason, "event_time": event_time}
        return self._lifecycle(self.resolve(uid), "retire", body)

    def restore(self, uid: str, event_time: str | None = None) -> dict[str, Any]:
        uid = self.resolve(uid, include_retired=True)  # what is restored is retired
        return self._lifecycle(uid, "restore", {"event_time": event_time})

    def purge(self, uid: str) -> dict[str, Any]:
        """Remove the entity and its edges for good (needs the admin scope)."""
        uid = self.resolve(uid, include_retired=True)
        with self._suggesting(uid):
            return self._call("DELETE", f"/v1/entities/{uid}")

    def end_edges(
        self, edges: Iterable[dict[str, str]], event_time: str | None = None
    ) -> dict[str, Any]:
        """End edges ``{"source", "target", "type"}`` at ``event_time``, all or none (their
        ends by uid or by name)."""
        ends = ("source", "target")
        body: dict[str, Any] = {
            "edges": [{**edge, **{end: self.resolve(edge[end]) for end in ends}} for edge in edges]
        }
        if event_time:
            body["event_time"] = event_time
        return self._call("POST", "/v1/edges/end", json=body)

    def _lifecycle(self, uid: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._suggesting(uid):
            body = {k: v for k, v in body.items() if v is not None}
            return self._call("POST", f"/v1/entities/{uid}/{action}", json=body)

    # --- the feature-owner questions (names follow the reference helper library) --------

    def _ask(self, question: str, name: str, namespace: str | None, **view: Any) -> pd.DataFrame:
        """``name`` is a full uid, or a name of the question's root kind: in ``namespace``
        when given, else the one entity of that kind with that name; ``view``: ``as_of=``
        and ``include_retired=``."""
        root = QUESTIONS[question].root
        if namespace is None and not is_uid(name):
            uid = self.resolve(name, view.get("as_of"), view.get("include_retired", False), root)
        else:
            uid = _uid(root, name, namespace or DEFAULT_NAMESPACE)
        with self._suggesting(uid):
            params = _view(**view, uid=uid)
            answer = self._call("GET", f"/v1/questions/{question}", params=params)
        return nodes_frame(answer)

    def get_data_sources_from_feature_group(
        self, feature_group: str, namespace: str | None = None, **view: Any
    ) -> pd.DataFrame:
        return self._ask("data-sources-of-feature-group", feature_group, namespace, **view)

    def get_feature_groups_from_model(
        self, model: str, namespace: str | None = None, **view: Any
    ) -> pd.DataFrame:
        return self._ask("feature-groups-of-model", model, namespace, **view)

    def get_models_from_feature_group(
        self, feature_group: str, namespace: str | None = None, **view: Any
    ) -> pd.DataFrame:
        return self._ask("models-of-feature-group", feature_group, namespace, **view)

    def get_endpoints_from_feature_group(
        self, feature_group: str, namespace: str | None = None, **view: Any
    ) -> pd.DataFrame:
        return self._ask("endpoints-of-feature-group", feature_group, namespace, **view)

    def get_feature_groups_from_data_source(
        self, data_source: str, namespace: str | None = None, **view: Any
    ) -> pd.DataFrame:
        return self._ask("feature-groups-of-data-source", data_source, namespace, **view)

    def get_features_from_data_source(
        self, data_source: str, namespace: str | None = None, **view: Any
    ) -> pd.DataFrame:
        return self._ask("features-of-data-source", data_source, namespace, **view)

    def get_models_from_feature(
        self, feature: str, namespace: str | None = None, **view: Any
    ) -> pd.DataFrame:
        """``feature`` is ``<group>.<feature>`` or its full uid."""
        return self._ask("models-using-feature", feature, namespace, **view)

    # --- pictures (mllineage.pictures: left to right by depth, coloured as in the Browser) --

    def lineage_picture(
        self, uid: str, max_nodes: int = MAX_NODES, **walk: Any
    ) -> pictures.Picture:
        """The walk from ``uid`` (options as ``lineage_graph``'s) as a picture to render."""
        answer = self.lineage_graph(uid, **walk)
        return pictures.from_lineage(answer, walk.get("direction", "downstream"), max_nodes)

    def impact_picture(
        self, uid: str, max_nodes: int = MAX_NODES, **options: Any
    ) -> pictures.Picture:
        """The impact report of ``uid`` (options as ``impact_report``'s) as a picture."""
        return pictures.from_impact(self.impact_report(uid, **options), max_nodes)

    def plot_lineage(
        self, uid: str, path: Path | str | None = None, impact: bool = False, **options: Any
    ) -> Figure:
        """A matplotlib Figure of the walk from ``uid`` (or of its impact report with
        ``impact=True``); written to ``path`` too when given (``.png``, ``.svg``, or the
        Mermaid and DOT texts: ``.mmd``, ``.md``, ``.dot``). At most ``max_nodes`` (300)
        are drawn, the nearest; the figure's note says when more were found."""
        make = self.impact_picture if impact else self.lineage_picture
        picture = make(uid, **options)
        if path is not None:
            pictures.write(picture, path)
        return pictures.figure(picture)

    # --- writing (reading files and batching: ingest.py) --------------------------

    def post_event(self, event: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/v1/events", json=event)

    def post_batch(self, events: list[dict[str, Any]], openlineage: bool = False) -> dict[str, Any]:
        """One transaction. Native events: all land, or none do (422). OpenLineage ones: the
        valid ones land and the answer's ``failed_events`` lists the others."""
        if openlineage:
            return self._call("POST", "/api/v1/lineage/batch", json=events)
        return self._call("POST", "/v1/events", json={"events": events})

    def post_events(
        self,
        events: Iterable[dict[str, Any]],
        batch_size: int = BATCH_SIZE,
        progress: bool | None = None,
    ) -> dict[str, Any]:
        """Post many events (native or OpenLineage, told apart one by one) in batches of one
        transaction each; returns the totals. Stops at the first batch with a refused event,
        raising its ``LineageAPIError``; the batches before it and the valid events of that
        batch are written. A progress bar is shown on long inputs (more than 10 batches)
        unless ``progress`` says otherwise."""
        report = send(self.post_batch, [events], batch_size, progress, keep_going=False)
        return report.totals()

    def ingest(
        self,
        *sources: Path | str | Iterable[dict[str, Any]],
        batch_size: int = BATCH_SIZE,
        progress: bool | None = None,
    ) -> IngestReport:
        """Post the events of files (JSON or JSON Lines) or iterables in batches: every valid
        event lands. The report sums what landed and lists each event that failed
        (``report.failed``) with its source, line (or position) and reason."""
        return send(self.post_batch, sources, batch_size, progress, keep_going=True)

    def upsert(
        self,
        nodes: list[dict[str, Any]] | None = None,
        edges: list[dict[str, Any]] | None = None,
        event_time: str | None = None,
    ) -> dict[str, Any]:
        """Nodes and edges that are facts rather than runs."""
        body: dict[str, Any] = {"nodes": nodes or [], "edges": edges or []}
        if event_time:
            body["event_time"] = event_time
        return self._call("POST", "/v1/graph", json=body)

    # --- runs (their frames: frames.py; drift: analysis/drift.py) ----------------

    def run_pages(self, max_runs: int | None = None, **filters: Any) -> Iterator[dict[str, Any]]:
        """Runs newest first, page after page: filters as ``runs``'s."""
        params = {k: v for k, v in filters.items() if v is not None}
        params["limit"] = min(1_000, max_runs or 1_000)
        count = 0
        while True:
            page = self._call("GET", "/v1/runs", params=params)
            for run in page["items"]:
                yield run
                count += 1
                if max_runs is not None and count >= max_runs:
                    return
            if not page["next_cursor"]:
                return
            params["cursor"] = page["next_cursor"]

    def runs(
        self,
        process: str | None = None,
        *,
        experiment: str | None = None,
        produced: str | None = None,
        used: str | None = None,
        status: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = 1_000,
    ) -> pd.DataFrame:
        """Runs newest first as a DataFrame (``runs_frame``): of a process, an experiment,
        that wrote (``produced``) or read (``used``) an artifact (each a uid or a name), with
        a status, started in [since, until); at most ``limit`` (None: all)."""
        process, produced, used = (self.resolve(e) if e else e for e in (process, produced, used))
        filters = dict(process=process, experiment=experiment, produced=produced, used=used,
                       status=status, since=since, until=until)  # fmt: skip
        return runs_frame(list(self.run_pages(limit, **filters)))

    def run(self, run_id: str) -> dict[str, Any]:
        """One run with its ``inputs``, ``outputs``, ``parent`` and ``children``."""
        return self._call("GET", f"/v1/runs/{run_id}")

    def experiments(self) -> pd.DataFrame:
        """Experiments, the most recently run first: name, runs, processes, first and last."""
        items = self._call("GET", "/v1/experiments")["items"]
        columns = ["name", "runs", "processes", "first_run_at", "last_run_at"]
        table = pd.DataFrame(items, columns=columns)
        for column in ("first_run_at", "last_run_at"):
            table[column] = pd.to_datetime(table[column], utc=True, format="ISO8601")
        return table

    def metric_history(self, process: str, metric: str, limit: int | None = None) -> pd.Series:
        """The metric over the process's runs (a uid or a name) that logged it, oldest first,
        indexed by start time (the Series' name is the metric)."""
        process = self.resolve(process)
        points = [
            (run["started_at"], run["metrics"][metric])
            for run in self.run_pages(limit, process=process)
            if metric in run["metrics"]
        ]
        index = pd.to_datetime([t for t, _ in points], utc=True, format="ISO8601")
        series = pd.Series([v for _, v in points], index=index, name=metric, dtype=float)
        return series.sort_index()

    def plot_metric(
        self, process: str, metric: str, path: Path | str | None = None, limit: int | None = None
    ) -> Figure:
        """A line chart of the metric over the process's runs (matplotlib); a PNG at ``path``
        when given."""
        from matplotlib.figure import Figure  # not pyplot: no GUI backend, safe in threads

        history = self.metric_history(process, metric, limit)
        figure = Figure(figsize=(8, 3.5), layout="constrained")
        axes = figure.subplots()
        axes.plot(history.index, history.to_numpy(), marker="o", markersize=3)
        axes.set_title(f"{metric} of {process}")
        axes.set_ylabel(metric)
        axes.grid(alpha=0.3)
        figure.autofmt_xdate()
        if path is not None:
            figure.savefig(path, dpi=100)
        return figure

    def compare_runs(self, run_ids: Iterable[str]) -> pd.DataFrame:
        """What differs between runs: one row per param, metric, env and code key (and their
        inputs) whose values are not all equal, one column per run."""
        runs = [self.run(run_id) for run_id in run_ids]
        return drift.differences(runs)

    def drift(
        self,
        process: str,
        metric: str,
        *,
        window: int = 10,
        sigma: float | None = None,
        min_drop: float | None = None,
    ) -> drift.DriftReport:
        """Whether the newest run's metric falls outside the band of the ``window`` runs
        before it (mean ± ``sigma`` standard deviations, default 3; or more than ``min_drop``
        below the mean), and what changed upstream since the last good run. A process that
        does not exist, or a metric none of its runs logged (a typo), is a ``LineageAPIError``
        (404): a gate must not pass on what it cannot check."""
        process = self.entity(process)["uid"]
        every = list(self.run_pages(None, process=process))
        runs = [r for r in every if metric in r["metrics"]]
        if every and not runs:
            logged = sorted({name for run in every for name in run["metrics"]})
            raise LineageAPIError(
                404,
                f"no run of {process} logged the metric {metric!r}; its runs logged: "
                f"{', '.join(logged) or 'no metrics'}",
                candidates=difflib.get_close_matches(metric, logged, n=3),
            )
        report = drift.check(runs[: window + 1], metric, sigma=sigma, min_drop=min_drop)
        if report.drifted and report.newest is not None and report.last_good is not None:
            newest, good = self.run(report.newest["id"]), self.run(report.last_good["id"])
            report.changes = drift.run_changes(good, newest)
            report.upstream = self._upstream_changes(newest, good)
        return report

    def _upstream_changes(self, newest: dict[str, Any], good: dict[str, Any]) -> list[str]:
        """Runs of the processes upstream of ``newest``'s inputs between the two runs' starts,
        each with what it wrote and how its params and code differ from the run before."""
        processes: set[str] = set()
        for item in newest["inputs"]:
            walk = self._call(
                "GET", "/v1/lineage", params={"uid": item["uid"], "direction": "upstream"}
            )
            processes |= {n["uid"] for n in walk["nodes"] if n["kind"] in PROCESS_KINDS}
        processes.discard(newest["process"])  # its own runs are the window, not upstream
        changes = []
        for process in sorted(processes)[:MAX_UPSTREAM_PROCESSES]:
            between = list(
                self.run_pages(
                    None, process=process, since=good["started_at"], until=newest["started_at"]
                )  # fmt: skip
            )
            if not between:
                continue
            before = list(self.run_pages(1, process=process, until=good["started_at"]))
            for run in reversed(between):
                detail = self.run(run["id"])
                changes.append(drift.describe_upstream_run(detail, before[0] if before else None))
                before = [run]
        return changes

    # --- reports (what each means: analysis/reports.py) ---------------------------

    def report_items(
        self,
        name: str,
        namespace: str | None = None,
        owner: str | None = None,
        as_of: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of the report ``name`` (all pages), as the API answers them."""
        params: dict[str, Any] = {"namespace": namespace, "owner": owner, "as_of": as_of}
        params = {k: v for k, v in params.items() if v} | {"limit": MAX_PAGE}
        items: list[dict[str, Any]] = []
        while True:
            page = self._call("GET", f"/v1/reports/{name}", params=params)
            items += page["items"]
            if not page["next_cursor"]:
                return items
            params["cursor"] = page["next_cursor"]

    def report(
        self,
        name: str,
        namespace: str | None = None,
        owner: str | None = None,
        as_of: str | None = None,
    ) -> pd.DataFrame:
        """The report ``name`` (``orphans``, ``deprecated-in-use``, ``duplicate-features``,
        ``skew``) as a DataFrame: one row per item, or per listed thing of an item (a
        consumer, a duplicate, a skewed feature)."""
        items = self.report_items(name, namespace, owner, as_of)
        report = Report(name)
        return frame(flatten(report, items), COLUMNS[report])

    # --- tracking a run from the program that runs it (logic in tracking.py) ------------

    def track(
        self,
        kind: str,
        name: str,
        inputs: Iterable[Input] = (),
        experiment: str | None = None,
        namespace: str = "default",
        run_id: str | None = None,
        spool: Path | str | None = None,
    ) -> TrackedRun:
        """A context manager that records one run of the process ``kind``/``name``: START on
        enter with ``inputs`` (uids, names of one entity each, or entity dicts), COMPLETE on
        exit with what the block logged and added, or FAIL with the error (re-raised); the
        environment and git state are captured. Entering raises on bad input (a 4xx);
        afterwards nothing raises: an unreachable service spools the events to ``spool``
        (``MLLINEAGE_SPOOL``, ``~/.local/share/mllineage/spool.jsonl``) with a warning.
        ``run_id`` defaults to a fresh UUID."""
        return TrackedRun(self, kind, name, inputs, experiment, namespace, run_id, spool)
