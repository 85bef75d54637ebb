"""The Python client: a thin layer over the HTTP API that answers in pandas and networkx.

    from mllineage.client import LineageClient
    with LineageClient() as lineage:                       # MLLINEAGE_URL, MLLINEAGE_TOKEN
        lineage.post_events(events)                        # chunked into batches
        lineage.get_models_from_feature_group("customers") # a DataFrame
        graph = lineage.to_networkx("Model:default:churn-xgb@3", direction="upstream")

Every failed call raises ``LineageAPIError`` with the HTTP status and the server's message.
503s and connection errors are retried for up to ``retry_seconds`` (writes are idempotent).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import networkx as nx
import pandas as pd
from tqdm import tqdm

from mllineage.domain import Kind, make_uid
from mllineage.traversal import QUESTIONS

DEFAULT_URL = "http://127.0.0.1:8000"
BATCH_SIZE = 500
NODE_COLUMNS = ["uid", "kind", "namespace", "name", "owner", "depth"]
IMPACT_COLUMNS = ["role", "uid", "kind", "namespace", "name", "owner", "depth", "path"]
RETRY_SECONDS = 60.0
# The request never reached the service, or the connection broke: safe to send again.
RETRIED_ERRORS = (httpx.NetworkError, httpx.ConnectTimeout, httpx.RemoteProtocolError)

log = logging.getLogger("mllineage.client")


class LineageAPIError(Exception):
    """The service answered with an error (or could not be reached: status 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}" if status else message)
        self.status = status
        self.message = message


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
        token = token or os.environ.get("MLLINEAGE_TOKEN")
        if retry_seconds is None:
            retry_seconds = float(os.environ.get("MLLINEAGE_RETRY_SECONDS", RETRY_SECONDS))
        self.retry_seconds = retry_seconds
        self.url = url or os.environ.get("MLLINEAGE_URL", DEFAULT_URL)
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )

    def __enter__(self) -> LineageClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request. A 503 or a connection error is retried, honouring Retry-After, for
        up to ``retry_seconds`` (every write is idempotent), with a warning at each wait."""
        deadline = time.monotonic() + self.retry_seconds
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                if not isinstance(exc, RETRIED_ERRORS) or time.monotonic() >= deadline:
                    raise LineageAPIError(0, f"cannot reach {self.url}: {exc}") from exc
                reason, wait = f"cannot reach {self.url} ({exc})", None
            else:
                if response.status_code != 503 or time.monotonic() >= deadline:
                    return _answer(response)
                reason, wait = f"503: {_message(response)}", _retry_after(response)
            attempt += 1
            left = deadline - time.monotonic()
            wait = max(0.0, min(wait or min(2.0**attempt, 10.0), left))
            log.warning("%s %s: %s; retrying in %.1f s (for %.0f s more)", method, path,
                        reason, wait, left)  # fmt: skip
            time.sleep(wait)

    # --- writing ------------------------------------------------------------------------

    def post_event(self, event: dict[str, Any]) -> dict[str, int]:
        return self._call("POST", "/v1/events", json=event)

    def post_batch(self, events: list[dict[str, Any]], openlineage: bool = False) -> dict[str, int]:
        """One transaction: all of ``events`` land, or none do."""
        if openlineage:
            return self._call("POST", "/api/v1/lineage/batch", json=events)
        return self._call("POST", "/v1/events", json={"events": events})

    def post_events(
        self,
        events: Iterable[dict[str, Any]],
        batch_size: int = BATCH_SIZE,
        progress: bool | None = None,
    ) -> dict[str, int]:
        """Post many native events in batches (one transaction each); returns the totals.

        A progress bar is shown on long inputs (more than 10 batches) unless ``progress``
        says otherwise.
        """
        events = list(events)
        batches = [events[i : i + batch_size] for i in range(0, len(events), batch_size)]
        show = progress if progress is not None else len(batches) > 10
        totals = {"events": 0, "nodes": 0, "edges": 0, "nodes_created": 0, "edges_created": 0}
        for batch in tqdm(batches, unit="batch", disable=not show):
            written = self.post_batch(batch)
            totals["events"] += len(batch)
            for key in ("nodes", "edges", "nodes_created", "edges_created"):
                totals[key] += written[key]
        return totals

    def upsert(
        self,
        nodes: list[dict[str, Any]] | None = None,
        edges: list[dict[str, Any]] | None = None,
        event_time: str | None = None,
    ) -> dict[str, int]:
        """Nodes and edges that are facts rather than runs."""
        body: dict[str, Any] = {"nodes": nodes or [], "edges": edges or []}
        if event_time:
            body["event_time"] = event_time
        return self._call("POST", "/v1/graph", json=body)

    # --- reading ------------------------------------------------------------------------

    def entity(self, uid: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/entities/{uid}")

    def entities(
        self, kind: str | None = None, namespace: str | None = None, q: str | None = None
    ) -> pd.DataFrame:
        """Every matching entity, all pages."""
        rows = list(self._pages(kind=kind, namespace=namespace, q=q))
        return pd.DataFrame(rows, columns=["uid", "kind", "namespace", "name", "owner"])

    def _pages(self, **filters: str | None) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {k: v for k, v in filters.items() if v} | {"limit": 1000}
        while True:
            page = self._call("GET", "/v1/entities", params=params)
            yield from page["items"]
            if not page["next_cursor"]:
                return
            params["cursor"] = page["next_cursor"]

    def lineage_graph(
        self,
        uid: str,
        direction: str = "downstream",
        depth: int = 10,
        kinds: Iterable[str] | None = None,
        limit: int = 1000,
    ) -> dict[str, Any]:
        """The raw ``/v1/lineage`` answer: ``{root, nodes, edges, truncated}``."""
        params: dict[str, Any] = {"uid": uid, "direction": direction, "depth": depth}
        params["limit"] = limit
        if kinds:
            params["kinds"] = ",".join(kinds)
        return self._call("GET", "/v1/lineage", params=params)

    def lineage(self, uid: str, **walk: Any) -> pd.DataFrame:
        """Nodes reached from ``uid``, nearest first; columns ``NODE_COLUMNS``.

        ``df.attrs["truncated"]`` is True when ``limit`` cut the answer.
        """
        return _nodes_frame(self.lineage_graph(uid, **walk))

    def to_networkx(self, uid: str, **walk: Any) -> nx.DiGraph:
        """The walked subgraph (root included), with node and edge attributes."""
        answer = self.lineage_graph(uid, **walk)
        graph = nx.DiGraph(root=uid, truncated=answer["truncated"])
        for node in [answer["root"], *answer["nodes"]]:
            graph.add_node(node["uid"], **{k: v for k, v in node.items() if k != "uid"})
        for edge in answer["edges"]:
            graph.add_edge(edge["source"], edge["target"], type=edge["type"])
        return graph

    def impact(self, uid: str, depth: int = 100, limit: int = 1000) -> pd.DataFrame:
        """Affected models, endpoints and training jobs; columns ``IMPACT_COLUMNS``.

        ``df.attrs`` holds the report's ``total``, ``counts``, ``owners`` and ``truncated``.
        """
        report = self.impact_report(uid, depth=depth, limit=limit)
        rows = [
            {"role": role, **item}
            for role in ("models", "endpoints", "training_jobs")
            for item in report[role]
        ]
        frame = pd.DataFrame(rows, columns=IMPACT_COLUMNS)
        frame.attrs.update({k: report[k] for k in ("total", "counts", "owners", "truncated")})
        return frame

    def impact_report(self, uid: str, depth: int = 100, limit: int = 1000) -> dict[str, Any]:
        params = {"uid": uid, "depth": depth, "limit": limit}
        return self._call("GET", "/v1/impact", params=params)

    # --- the feature-owner questions (names follow the reference helper library) --------

    def _ask(self, question: str, name: str, namespace: str) -> pd.DataFrame:
        """``name`` is a name of the question's root kind, or a full uid."""
        uid = _uid(QUESTIONS[question].root, name, namespace)
        return _nodes_frame(self._call("GET", f"/v1/questions/{question}", params={"uid": uid}))

    def get_data_sources_from_feature_group(
        self, feature_group: str, namespace: str = "default"
    ) -> pd.DataFrame:
        return self._ask("data-sources-of-feature-group", feature_group, namespace)

    def get_feature_groups_from_model(self, model: str, namespace: str = "default") -> pd.DataFrame:
        return self._ask("feature-groups-of-model", model, namespace)

    def get_models_from_feature_group(
        self, feature_group: str, namespace: str = "default"
    ) -> pd.DataFrame:
        return self._ask("models-of-feature-group", feature_group, namespace)

    def get_endpoints_from_feature_group(
        self, feature_group: str, namespace: str = "default"
    ) -> pd.DataFrame:
        return self._ask("endpoints-of-feature-group", feature_group, namespace)

    def get_feature_groups_from_data_source(
        self, data_source: str, namespace: str = "default"
    ) -> pd.DataFrame:
        return self._ask("feature-groups-of-data-source", data_source, namespace)

    def get_features_from_data_source(
        self, data_source: str, namespace: str = "default"
    ) -> pd.DataFrame:
        return self._ask("features-of-data-source", data_source, namespace)

    def get_models_from_feature(self, feature: str, namespace: str = "default") -> pd.DataFrame:
        """``feature`` is ``<group>.<feature>`` or its full uid."""
        return self._ask("models-using-feature", feature, namespace)


def _message(response: httpx.Response) -> str:
    try:
        return response.json().get("message") or response.text
    except ValueError:
        return response.text


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _answer(response: httpx.Response) -> Any:
    if response.is_error:
        raise LineageAPIError(response.status_code, _message(response))
    return response.json()


def _nodes_frame(answer: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(answer["nodes"], columns=NODE_COLUMNS)
    frame.attrs["truncated"] = answer["truncated"]
    return frame
