"""``LineageClient.track``: one run of a process, recorded by the program that runs it.

    with client.track("TrainingJob", "churn-train", inputs=["churn-set"]) as run:
        run.log_params({"max_depth": 6})
        run.log_metrics({"precision": 0.91})
        run.add_output("Model", "churn-xgb@5")

The run is posted as native events: START with its inputs on enter; on exit COMPLETE with the
outputs, params and metrics, or FAIL with the error when the block raises (which is
re-raised). Both carry the environment and the git state (``capture``). Tracking must never
break the training it records: when the service cannot be reached the events are appended
to a spool, JSON Lines that ``mllineage ingest`` sends later, with one warning.
"""

from __future__ import annotations

import copy
import json
import math
import numbers
import os
import sys
import uuid
import warnings
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from mllineage import __version__
from mllineage.client.builders import entity, event
from mllineage.client.capture import environment, git_state
from mllineage.client.errors import LineageAPIError
from mllineage.client.transport import Transport
from mllineage.model.domain import (
    ARTIFACT_KINDS,
    DEFAULT_NAMESPACE,
    PROCESS_KINDS,
    EntityIn,
    Kind,
    LineageEvent,
    parse_uid,
)
from mllineage.model.properties import checked_map, flatten_properties


class Client(Protocol):
    """What a tracked run needs of ``LineageClient`` (which builds it in ``track``)."""

    url: str
    _transport: Transport

    def resolve(self, name_or_uid: str) -> str: ...

    def post_event(self, event: dict[str, Any]) -> dict[str, Any]: ...


SPOOL_VARIABLE = "MLLINEAGE_SPOOL"
DEFAULT_SPOOL = "~/.local/share/mllineage/spool.jsonl"
# How long one call of a tracked run retries an unreachable service before spooling.
TRACK_RETRY_SECONDS = 5.0
MAX_ERROR_MESSAGE = 4_000
PRODUCER = f"mllineage-python/{__version__}"

Input = str | Mapping[str, Any]


class TrackingWarning(UserWarning):
    """A tracked run's event was not posted: it was spooled, or the service refused it."""


def default_spool() -> Path:
    """``MLLINEAGE_SPOOL``, else ``~/.local/share/mllineage/spool.jsonl``."""
    return Path(os.environ.get(SPOOL_VARIABLE) or DEFAULT_SPOOL).expanduser()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _unreachable(error: LineageAPIError) -> bool:
    """No answer (``status`` 0) or a server error: worth sending again later."""
    return error.status == 0 or error.status >= 500


def _quick(client: Client) -> Client:
    """The same client and session, retrying each call for at most TRACK_RETRY_SECONDS: an
    outage is spooled, not waited out, so training is not held up."""
    quick = copy.copy(client)
    quick._transport = copy.copy(client._transport)
    quick._transport.retry_seconds = min(TRACK_RETRY_SECONDS, client._transport.retry_seconds)
    return quick


def _checked(body: dict[str, Any], kinds: frozenset[Kind], role: str) -> dict[str, Any]:
    """``body`` if it is a valid entity of one of ``kinds``, else a ValueError now."""
    kind = EntityIn.model_validate(body).kind
    if kind not in kinds:
        allowed = ", ".join(sorted(kinds))
        raise ValueError(f"the {role} of a tracked run must be one of {allowed}, not a {kind}")
    return body


def _param(value: Any) -> Any:
    """A parameter as the service keeps it: numbers (numpy's too) as numbers, mappings
    nested, lists of one scalar type as lists, anything else as its ``str()``."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, Mapping):
        return {str(key): _param(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        items = [_param(item) for item in value]
        if len({type(item) for item in items}) <= 1 and all(
            isinstance(item, bool | str | int | float) for item in items
        ):
            return items
    return str(value)


def _metric(key: str, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"metric {key!r} is {str(value)[:100]!r}; a metric must be a number "
            "(log text with log_param)"
        )
    number = int(value) if isinstance(value, numbers.Integral) else float(value)
    if not math.isfinite(number):
        raise ValueError(f"metric {key!r} is {number}; a metric must be a finite number")
    return number


class TrackedRun:
    """One run of a process, posted START on enter and COMPLETE, FAIL or ABORT on exit.

    Entering raises on a caller's mistake: a bad kind or name, an input name that no entity
    (or several) has, an event the service refuses (4xx). Nothing after that raises out of
    the block's exit: an unreachable service (no connection, 5xx) spools the events to
    ``spool`` and warns (``TrackingWarning``), and a refused COMPLETE only warns.
    """

    def __init__(
        self,
        client: Client,
        kind: str,
        name: str,
        inputs: Iterable[Input] = (),
        experiment: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        run_id: str | None = None,
        spool: Path | str | None = None,
    ) -> None:
        self.id = run_id or str(uuid.uuid4())
        self.process = _checked(entity(kind, name, namespace=namespace), PROCESS_KINDS, "process")
        self.namespace = namespace
        self.experiment = experiment
        self.spool = Path(spool).expanduser() if spool else default_spool()
        self.inputs: list[dict[str, Any]] = []
        self.outputs: list[dict[str, Any]] = []
        self.params: dict[str, Any] = {}
        self.metrics: dict[str, Any] = {}
        self.env: dict[str, Any] = {}
        self.code: dict[str, Any] = {}
        self.status: str | None = None
        self.spooled = False  # once an event is spooled, the rest follow it
        self._client = _quick(client)
        self._given = list(inputs)
        self._started_at: str | None = None

    # --- what the block records -------------------------------------------------------

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Parameters (a later value of a key replaces the earlier one); nested mappings
        become dotted keys. Raises ValueError now for a name or value the service refuses."""
        new = flatten_properties(_param(dict(params)))
        self.params = checked_map({**self.params, **new})

    def log_metric(self, key: str, value: Any) -> None:
        self.log_metrics({key: value})

    def log_metrics(self, metrics: Mapping[str, Any]) -> None:
        """Metrics, numbers only (numpy's too): anything else raises TypeError now."""
        new = {str(key): _metric(str(key), value) for key, value in metrics.items()}
        self.metrics = checked_map({**self.metrics, **new})

    def add_output(
        self, kind: str | Mapping[str, Any], name: str | None = None, **fields: Any
    ) -> str:
        """An artifact the run wrote, posted with COMPLETE: ``add_output("Model", "m@5")``
        (in the run's namespace unless ``namespace=`` says), a uid, or an entity dict;
        ``fields`` are the entity's other fields (owner, properties...). Returns its uid."""
        if isinstance(kind, Mapping):
            body = dict(kind)
        elif name is None:
            kind, namespace, name = parse_uid(kind)
            body = entity(kind, name, namespace=namespace, **fields)
        else:
            body = entity(kind, name, **{"namespace": self.namespace, **fields})
        uid = EntityIn.model_validate(_checked(body, ARTIFACT_KINDS, "output")).uid
        known = {EntityIn.model_validate(output).uid for output in self.outputs}
        if uid not in known:
            self.outputs.append(body)
        return uid

    # --- the context manager ----------------------------------------------------------

    def __enter__(self) -> TrackedRun:
        if self._started_at is not None:
            raise RuntimeError(f"run {self.id} was already tracked; call track() again")
        self.env, self.code = environment(), git_state()
        for given in self._given:
            if found := self._input(given):
                self.inputs.append(found)
        self._started_at = _now()
        self._send(self._event("START", time=self._started_at), on_enter=True)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Post how the block ended; an error of the block goes on (returning None)."""
        ended = _now()
        if error is None:
            status, extra = "COMPLETE", {}
        else:
            # Ctrl-C or sys.exit stop a run rather than fail it.
            status = "FAIL" if isinstance(error, Exception) else "ABORT"
            message = f"{type(error).__name__}: {error}"
            if len(message) > MAX_ERROR_MESSAGE:
                message = message[: MAX_ERROR_MESSAGE - 1] + "…"
            extra = {"error_message": message}
        try:
            body = self._event(status, time=ended, ended_at=ended, **extra)
        except ValueError as exc:  # what was logged was checked when it was logged
            self._warn(f"run {self.id} could not be recorded as {status}: {exc}")
            return
        self._send(body, on_enter=False)

    # --- posting ----------------------------------------------------------------------

    def _input(self, given: Input) -> dict[str, Any] | None:
        """An entity dict as it is; a uid as its entity; a name resolved as the client
        resolves names (left out, with a warning, when the service cannot be reached)."""
        if isinstance(given, Mapping):
            return _checked(dict(given), ARTIFACT_KINDS, "input")
        try:
            kind, namespace, name = parse_uid(given)
        except ValueError:
            try:
                kind, namespace, name = parse_uid(self._client.resolve(given))
            except LineageAPIError as exc:
                if not _unreachable(exc):
                    raise
                self._offline(exc)
                self._warn(f"input {given!r} of run {self.id} is left out: a name cannot be "
                           "resolved while the service is down; pass its uid")  # fmt: skip
                return None
        return _checked(entity(kind, name, namespace=namespace), ARTIFACT_KINDS, "input")

    def _event(self, status: str, time: str, **run: Any) -> dict[str, Any]:
        """The run's native event, checked as the service checks it (ValueError if not)."""
        fields = {
            "started_at": self._started_at,
            "experiment": self.experiment,
            "params": self.params,
            "metrics": self.metrics,
            "env": self.env,
            "code": self.code,
            **run,
        }
        outputs = self.outputs if status == "COMPLETE" else []
        body = event(
            self.process, self.inputs, outputs, time=time, producer=PRODUCER, run_id=self.id,
            status=status, **{key: value for key, value in fields.items() if value},
        )  # fmt: skip
        LineageEvent.model_validate(body)
        self.status = status
        return body

    def _send(self, body: dict[str, Any], on_enter: bool) -> None:
        """Post ``body``; spool it when the service cannot be reached. A refusal (4xx) is
        raised on enter (the caller's mistake) and only warned about on exit."""
        if not self.spooled:
            try:
                self._client.post_event(body)
                return
            except LineageAPIError as exc:
                if not _unreachable(exc):
                    if on_enter:
                        raise
                    status = body["run"]["status"]
                    self._warn(f"the service refused the {status} of run {self.id}: {exc}")
                    return
                self._offline(exc)
        try:
            self.spool.parent.mkdir(parents=True, exist_ok=True)
            with self.spool.open("a", encoding="utf-8") as spool:
                spool.write(json.dumps(body) + "\n")
        except OSError as exc:
            self._warn(f"cannot write the spool {self.spool} ({exc}): run {self.id} is lost")

    def _offline(self, error: LineageAPIError) -> None:
        """From now on, spool this run's events (said once)."""
        if not self.spooled:
            self.spooled = True
            reason = str(error) if error.status == 0 else f"{self._client.url} answered {error}"
            self._warn(
                f"{reason}; run {self.id} is spooled to {self.spool}: send it later with "
                f"`mllineage ingest {self.spool}`"
            )

    @staticmethod
    def _warn(message: str) -> None:
        """Warn, pointing at the caller's line (the ``with`` or the call), not at ours."""
        frame, level = sys._getframe(1), 2
        while frame.f_back is not None and frame.f_globals.get("__name__") == __name__:
            frame, level = frame.f_back, level + 1
        warnings.warn(f"mllineage: {message}", TrackingWarning, stacklevel=level)
