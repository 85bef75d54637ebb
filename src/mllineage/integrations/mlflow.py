"""``mllineage sync mlflow``: an MLflow tracking server's runs and registry, read with MLflow's
client, as lineage (the mapping is in docs/mlflow.md).

- each run of an experiment is a run of the ``TrainingJob`` named after the experiment (or the
  run's ``mllineage.process`` tag): its params, latest metrics, status and times, the git
  commit as ``code.commit``; its dataset inputs are the datasets at their ``source`` URIs
  (named as OpenLineage names them, so they are the nodes upstream jobs and Feast wrote), and
  Feast's tags (``feast.feature_service``, ``feast.feature_refs``) name the Feast service or
  the features it read;
- each registered version is a ``Model`` named ``<model>@<version>`` that its run Produced; a
  logged model no version names is the ``Model`` ``models:/<model id>``;
- an alias is an ``Endpoint`` named ``<model>@<alias>`` that the version it points at
  ContributedTo: when the alias moves, the old edge is ended and the new one starts, at the
  time the sync noticed; a removed alias retires its endpoint;
- a deleted version is retired, a version tagged ``mllineage.deprecated`` (or archived)
  deprecated.

Events are dated by MLflow (a run by its end, else its start), so a second sync of an
unchanged server writes nothing new and a sync that stopped half-way is finished by the next.
See docs/architecture.md for how an integration reaches the intake.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mllineage import __version__
from mllineage.ingest import mlflow as registry
from mllineage.ingest.datasets import location
from mllineage.model.properties import MAX_PROPERTIES, MAX_PROPERTY_KEY_LENGTH

if TYPE_CHECKING:
    from mllineage.client import LineageClient

PRODUCER = f"https://github.com/mllineage/mllineage/sync-mlflow/{__version__}"
BATCH = 500  # events per request
PAGE = 1_000  # runs and versions per MLflow page
RETIRED_BECAUSE = "deleted in MLflow"
PROCESS_TAG = "mllineage.process"
STATUS = {
    "FINISHED": "COMPLETE",
    "FAILED": "FAIL",
    "KILLED": "ABORT",
    "RUNNING": "RUNNING",
    "SCHEDULED": "START",
}
CODE_TAGS = {
    "mlflow.source.git.commit": "commit",
    "mlflow.source.git.repoURL": "repo_url",
    "mlflow.source.git.branch": "branch",
    "mlflow.source.name": "path",
}


class MlflowError(RuntimeError):
    """MLflow's client is not installed, or the tracking server cannot be read."""


@dataclass
class SyncReport:
    """What a sync sent, moved, retired and deprecated."""

    full: bool = True
    experiments: int = 0
    runs: int = 0
    versions: int = 0
    events: int = 0
    moved: list[str] = field(default_factory=list)  # "<endpoint>: <old> -> <new>"
    retired: list[str] = field(default_factory=list)
    deprecated: list[str] = field(default_factory=list)


def _mlflow(tracking_uri: str) -> Any:
    try:
        from mlflow import MlflowClient
    except ModuleNotFoundError as exc:
        raise MlflowError(
            f"`mllineage sync mlflow` reads MLflow with its client, which is not installed "
            f"(no {exc.name}): pip install 'mllineage[mlflow]'"
        ) from None
    return MlflowClient(tracking_uri)


def _time(millis: int | None) -> str | None:
    return None if millis is None else datetime.fromtimestamp(millis / 1000, UTC).isoformat()


def _key(key: str) -> str:
    """An MLflow key (letters, digits, ``_-. /``) as a property name (``lr/decay`` ->
    ``lr_decay``)."""
    parts = [re.sub(r"[^A-Za-z0-9_-]", "_", part) or "_" for part in key.split(".")]
    parts = [part if re.match(r"[A-Za-z_]", part) else f"_{part}" for part in parts]
    return ".".join(parts)[:MAX_PROPERTY_KEY_LENGTH]


def stored_map(values: dict[str, Any]) -> dict[str, Any]:
    """A run's params or metrics as a stored map: names made valid, no NaN or infinity, at
    most the stored maximum (the first ones by name)."""
    kept: dict[str, Any] = {}
    for key in sorted(values):
        value = values[key]
        if isinstance(value, float) and not math.isfinite(value):
            continue
        kept.setdefault(_key(key), value)
    return dict(list(kept.items())[:MAX_PROPERTIES])


def dataset_input(source: str, name: str, namespace: str) -> dict[str, Any]:
    """A logged dataset: the dataset at its source URI (``{"uri": ...}``, MLflow's form),
    else one named after it."""
    try:
        uri = json.loads(source).get("uri")
    except (ValueError, AttributeError):
        uri = None
    where = location(uri) if isinstance(uri, str) and uri else None
    if where is None:
        return {"kind": "DataSource", "namespace": namespace, "name": f"mlflow/{name}"}
    return {"kind": "DataSource", "namespace": namespace, "name": f"{where[0]}/{where[1]}"}


def feast_inputs(tags: dict[str, str]) -> list[dict[str, Any]]:
    """What Feast's MLflow integration says the run read: its feature service, else the
    features it named (``view:feature``), in the Feast project's namespace."""
    project = tags.get("feast.project")
    if not project:
        return []
    if service := tags.get("feast.feature_service"):
        return [{"kind": "Dataset", "namespace": project, "name": service}]
    read: dict[str, list[dict[str, str]]] = {}
    for ref in (tags.get("feast.feature_refs") or "").split(","):
        view, _, feature = ref.strip().partition(":")
        if view and feature:
            read.setdefault(view, []).append({"name": feature})
    return [
        {"kind": "FeatureGroup", "namespace": project, "name": view, "features": features}
        for view, features in read.items()
    ]


class _Server:
    """One tracking server, read page by page."""

    def __init__(self, tracking_uri: str) -> None:
        self.client = _mlflow(tracking_uri)
        from mlflow.entities import ViewType

        self.active = ViewType.ACTIVE_ONLY

    def _all(self, search: Any, **query: Any) -> list[Any]:
        """Every page of one of the client's searches."""
        found, token = [], None
        while True:
            page = search(**query, page_token=token)
            found += list(page)
            token = page.token
            if not token:
                return found

    def experiments(self, names: Iterable[str]) -> list[Any]:
        wanted = set(names)
        found = self._all(self.client.search_experiments, view_type=self.active)
        return [e for e in found if not wanted or e.name in wanted]

    def runs(self, experiment_id: str, since_ms: int | None = None) -> Iterator[Any]:
        """The experiment's active runs (those started at or after ``since_ms`` when given)."""
        token = None
        where = "" if since_ms is None else f"attributes.start_time >= {since_ms}"
        while True:
            page = self.client.search_runs(
                [experiment_id],
                filter_string=where,
                run_view_type=self.active,
                max_results=PAGE,
                page_token=token,
            )
            yield from page
            token = page.token
            if not token:
                return

    def versions(self) -> list[Any]:
        return self._all(self.client.search_model_versions, max_results=200)

    def logged_models(self, experiment_ids: list[str]) -> list[Any]:
        if not experiment_ids or not hasattr(self.client, "search_logged_models"):
            return []
        return self._all(self.client.search_logged_models, experiment_ids=experiment_ids)

    def aliases(self) -> dict[str, dict[str, str]]:
        """Registered model -> {alias: version}."""
        models = self._all(self.client.search_registered_models, max_results=PAGE)
        return {m.name: dict(m.aliases or {}) for m in models}


def run_event(
    run: Any, experiment: str, namespace: str, outputs: list[dict[str, Any]]
) -> dict[str, Any]:
    """One MLflow run as a native event of its process."""
    info, tags = run.info, run.data.tags
    code = {ours: tags[theirs] for theirs, ours in CODE_TAGS.items() if tags.get(theirs)}
    inputs = [
        dataset_input(d.dataset.source, d.dataset.name, namespace)
        for d in run.inputs.dataset_inputs
    ] + feast_inputs(tags)
    return {
        "event_time": _time(info.end_time or info.start_time),
        "producer": PRODUCER,
        "process": {
            "kind": "TrainingJob",
            "namespace": namespace,
            "name": tags.get(PROCESS_TAG) or experiment,
        },
        "run": {
            "id": info.run_id,
            "status": STATUS.get(info.status, "OTHER"),
            "started_at": _time(info.start_time),
            "ended_at": _time(info.end_time),
            "experiment": experiment,
            "params": stored_map(run.data.params),
            "metrics": stored_map(run.data.metrics),
            "code": code,
        },
        "inputs": list({json.dumps(i, sort_keys=True): i for i in inputs}.values()),
        "outputs": outputs,
    }


def sync(
    client: LineageClient,
    tracking_uri: str,
    experiments: Iterable[str] = (),
    namespace: str = "default",
    progress: bool = False,
    full: bool = True,
) -> SyncReport:
    """Send the runs of the tracking server's experiments (all, or those named) and its
    registry, move the endpoints of aliases that moved, retire deleted versions. Not
    ``full``: only the runs started since the newest one the graph has of each experiment
    (or its oldest unfinished one), and nothing retired for deleted runs; the registry is
    always read whole. Raises MlflowError without the ``mlflow`` package, or when the
    tracking server cannot be read."""
    server = _Server(tracking_uri)
    from mlflow.exceptions import MlflowException

    try:
        return _sync(client, server, experiments, namespace, progress, full)
    except MlflowException as exc:
        raise MlflowError(f"MLflow at {tracking_uri}: {exc.message}") from None


def _sync(
    client: LineageClient,
    server: _Server,
    experiments: Iterable[str],
    namespace: str,
    progress: bool,
    full: bool,
) -> SyncReport:
    report = SyncReport(full=full)
    chosen = server.experiments(experiments)
    report.experiments = len(chosen)
    versions = server.versions()
    runs = [
        (experiment.name, run)
        for experiment in chosen
        for run in _bar(
            server.runs(
                experiment.experiment_id, None if full else _since(client, experiment.name)
            ),
            progress,
            experiment.name,
        )
    ]
    active = {run.info.run_id: name for name, run in runs}
    logged_models = server.logged_models([e.experiment_id for e in chosen])
    made = _models_made(versions, logged_models, active, namespace)
    events = [run_event(run, name, namespace, made.get(run.info.run_id, [])) for name, run in runs]
    report.runs, report.versions = len(events), len(versions)
    for start in range(0, len(events), BATCH):
        client.post_batch(events[start : start + BATCH])
    report.events = len(events)
    if full:  # what deleted runs made: only a pass over every run can tell
        logged = {
            o["name"] for made_by in made.values() for o in made_by if "models:/" in o["name"]
        }
        only = {e.name for e in chosen} if experiments else None
        _retire_unmade(client, logged, only, namespace, report)
    _serve_aliases(client, server.aliases(), namespace, report)
    _registry_lifecycle(client, versions, namespace, report)
    return report


def _models_made(
    versions: list[Any], logged_models: list[Any], active: dict[str, str], namespace: str
) -> dict[str, list[dict[str, Any]]]:
    """Run id -> the Model nodes it produced: its registered versions, and its logged models
    that no version names (``active``: the runs read, by id, with their experiment)."""
    made: dict[str, list[dict[str, Any]]] = {}
    registered_ids: set[str] = set()
    for version in versions:
        output = registry.version_node(namespace, version.name, version.version)
        made.setdefault(version.run_id or "", []).append(output)
        registered_ids.add(str(version.source).removeprefix("models:/"))
        registered_ids.add(getattr(version, "model_id", None) or "")
    for model in logged_models:
        if model.model_id not in registered_ids and model.source_run_id in active:
            mlflow = {
                "model_id": model.model_id,
                "model_name": model.name,
                "experiment": active[model.source_run_id],
            }
            output = {
                "kind": "Model",
                "namespace": namespace,
                "name": f"models:/{model.model_id}",
                "properties": {"mlflow": mlflow},
            }
            made.setdefault(model.source_run_id, []).append(output)
    return made


def _since(client: LineageClient, experiment: str) -> int | None:
    """Where an incremental pass starts reading an experiment's runs (Unix ms): its oldest
    run the graph holds as unfinished, else its newest run; None (all) when it has none.
    The graph is the state, so a pass that stopped half-way is picked up where it was."""
    unfinished = [
        run["started_at"]
        for status in ("START", "RUNNING")
        for run in client.run_pages(None, experiment=experiment, status=status)
    ]
    newest = [run["started_at"] for run in client.run_pages(1, experiment=experiment)]
    start = min(unfinished, default=None) or next(iter(newest), None)
    if start is None:
        return None
    return int(datetime.fromisoformat(str(start)).timestamp() * 1000)


def _retire_unmade(
    client: LineageClient,
    logged: set[str],
    experiments: set[str] | None,
    namespace: str,
    report: SyncReport,
) -> None:
    """A logged model that no active run makes any more (its run or experiment was deleted,
    or it was registered since) is retired; with ``experiments``, only theirs."""
    now = datetime.now(UTC).isoformat()
    for row in client.iter_entities(kind="Model", namespace=namespace, q="models:/"):
        properties = row.get("properties") or {}
        if "mlflow.model_id" not in properties or row["name"] in logged:
            continue
        if experiments is None or properties.get("mlflow.experiment") in experiments:
            client.retire(row["uid"], reason=RETIRED_BECAUSE, event_time=now)
            report.retired.append(row["uid"])


def _bar(runs: Iterator[Any], progress: bool, name: str) -> Iterator[Any]:
    if not progress:
        return runs
    from tqdm import tqdm

    return iter(tqdm(runs, desc=f"runs of {name}", unit=" runs", leave=False))


def _serve_aliases(
    client: LineageClient, aliases: dict[str, dict[str, str]], namespace: str, report: SyncReport
) -> None:
    """Each alias's endpoint is served by the version it points at now: an edge from another
    version is ended, the new one starts (both now); a removed alias retires its endpoint."""
    at = datetime.now(UTC)
    now = at.isoformat()
    for row in client.iter_entities(kind="Endpoint", namespace=namespace):
        model = (row.get("properties") or {}).get("mlflow.registered_model")
        alias = (row.get("properties") or {}).get("mlflow.alias")
        if model is not None and alias not in aliases.get(model, {}):
            if ends := registry.stale(row["uid"], _served_by(client, row["uid"])):
                client.end_edges([e.model_dump(mode="json") for e in ends], event_time=now)
            client.retire(row["uid"], reason=RETIRED_BECAUSE, event_time=now)
            report.retired.append(row["uid"])
    for model, targets in aliases.items():
        for alias, version in targets.items():
            endpoint = registry.endpoint_uid(namespace, model, alias)
            served = _served_by(client, endpoint)
            ends, upsert = registry.serving(namespace, model, alias, version, at, served)
            if ends:
                client.end_edges([e.model_dump(mode="json") for e in ends], event_time=now)
                moved = ", ".join(e.source for e in ends)
                serving = registry.version_uid(namespace, model, version)
                report.moved.append(f"{endpoint}: {moved} -> {serving}")
            if upsert is not None:
                body = upsert.model_dump(mode="json", exclude_defaults=True)
                client.upsert(body["nodes"], body.get("edges"), event_time=now)


def _served_by(client: LineageClient, endpoint: str) -> list[str]:
    """The models that serve the endpoint now (none when it does not exist)."""
    from mllineage.client import LineageAPIError

    try:
        graph = client.lineage_graph(endpoint, direction="upstream", depth=1)
    except LineageAPIError as exc:
        if exc.status == 404:
            return []
        raise
    return [n["uid"] for n in graph["nodes"] if n["kind"] == "Model"]


def _registry_lifecycle(
    client: LineageClient, versions: list[Any], namespace: str, report: SyncReport
) -> None:
    """Every version is a node (one whose run was not synced too, dated by its
    registration); deleted versions are retired; versions tagged ``mllineage.deprecated`` or
    archived are deprecated (once)."""
    now = datetime.now(UTC).isoformat()
    present = {registry.version_uid(namespace, v.name, v.version): v for v in versions}
    stored = set()
    for row in client.iter_entities(kind="Model", namespace=namespace):
        stored.add(row["uid"])
        registered = (row.get("properties") or {}).get("mlflow.registered_model")
        if registered is None or row["uid"] in present:
            continue
        client.retire(row["uid"], reason=RETIRED_BECAUSE, event_time=now)
        report.retired.append(row["uid"])
    for uid, version in present.items():
        if uid not in stored:
            node = registry.version_node(namespace, version.name, version.version)
            client.upsert(nodes=[node], event_time=_time(version.creation_timestamp))
    for uid, version in present.items():
        reason = (version.tags or {}).get(registry.DEPRECATED_TAG)
        if reason is None and version.current_stage == "Archived":
            reason = "archived in the MLflow registry"
        if reason is not None and not client.entity(uid).get("deprecated"):
            client.deprecate(uid, reason or "deprecated in MLflow", event_time=now)
            report.deprecated.append(uid)
