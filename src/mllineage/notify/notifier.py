"""Sends owner digests to webhooks in the background, so no request ever waits on a receiver.

A lifecycle route hands a ``Job`` to ``Notifier.submit``, which only puts it in a bounded
queue (a full queue drops the job, recorded as failed). One worker turns each job into
digests (computing the what-if when the route did not) and starts one delivery task per
digest, at most ``CONCURRENT`` at a time: a POST of the signed JSON body, retried on
connection errors, timeouts, 5xx, 408 and 429 with a doubling backoff. Each delivery is
recorded in Neo4j (store/notifications.py) as delivered or failed, with its attempts and
last error. Deliveries still queued or in flight when the service stops are lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from mllineage.model.domain import MAX_LIMIT
from mllineage.model.lifecycle import LIVE
from mllineage.model.views import WhatIfReport
from mllineage.notify.digests import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    digests,
    route,
    sign,
)
from mllineage.settings import Settings
from mllineage.store import Store

log = logging.getLogger("mllineage.notify.notifier")
CONCURRENT = 8
RETRY_STATUSES = frozenset({408, 429})


@dataclass
class Job:
    """What happened to ``retire`` (deprecated, retired, or a what-if); ``report`` is what it
    hits, or None for the worker to ask (a deprecated entity is still live)."""

    event: str
    retire: list[str]
    event_time: datetime | None = None
    reason: str | None = None
    report: WhatIfReport | None = None


@dataclass
class Notifier:
    settings: Settings
    store: Store
    queue: asyncio.Queue[Job] = field(init=False)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.settings.webhook_queue)
        self.webhooks = self.settings.webhook_routes
        secret = self.settings.webhook_secret
        self.secret = secret.get_secret_value() if secret else ""
        self.slots = asyncio.Semaphore(CONCURRENT)
        self.client = httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds)

    def start(self) -> None:
        self._spawn(self._work())

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()

    def submit(self, job: Job) -> None:
        """Queue ``job``; never waits (a full queue drops it, recorded as failed)."""
        try:
            self.queue.put_nowait(job)
        except asyncio.QueueFull:
            log.warning("notification queue full: dropped %s of %s", job.event, job.retire)
            self._spawn(self._record(job, None, "*", "failed", 0, "the queue was full", None))

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _work(self) -> None:
        while True:
            job = await self.queue.get()
            try:
                report = job.report or await self.store.lifecycle.what_if(
                    job.retire, view=LIVE, limit=MAX_LIMIT
                )
                found = digests(job.event, report, event_time=job.event_time, reason=job.reason)
                for owner, digest in found.items():
                    if (target := route(owner, self.webhooks)) is not None:
                        self._spawn(self._deliver(job, owner, digest, *target))
            except Exception:  # a worker that dies would silence every later notification
                log.exception("could not prepare the notifications of %s", job.retire)

    async def _deliver(
        self, job: Job, owner: str | None, digest: dict[str, Any], webhook: str, url: str
    ) -> None:
        delivery = str(uuid.uuid4())
        body = json.dumps({"delivery": delivery, **digest}).encode()
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, body),
            DELIVERY_HEADER: delivery,
            EVENT_HEADER: job.event,
        }
        error, attempts, wait = "", 0, self.settings.webhook_backoff_seconds
        async with self.slots:
            for attempts in range(1, self.settings.webhook_attempts + 1):
                try:
                    reply = await self.client.post(url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"[:500]
                else:
                    if reply.is_success:
                        error = ""
                        break
                    error = f"HTTP {reply.status_code}"
                    if reply.status_code < 500 and reply.status_code not in RETRY_STATUSES:
                        break
                if attempts < self.settings.webhook_attempts:
                    await asyncio.sleep(wait)
                    wait *= 2
        status = "failed" if error else "delivered"
        await self._record(job, owner, webhook, status, attempts, error, body, delivery)

    async def _record(
        self,
        job: Job,
        owner: str | None,
        webhook: str,
        status: str,
        attempts: int,
        error: str,
        body: bytes | None,
        delivery: str | None = None,
    ) -> None:
        fields = {
            "id": delivery or str(uuid.uuid4()),
            "event": job.event,
            "subjects": job.retire,
            "owner": owner,
            "webhook": webhook,  # the owner key (or "*"), never the URL: URLs may hold tokens
            "status": status,
            "attempts": attempts,
            "error": error or None,
            "digest": body.decode() if body else None,
            "recorded_at": datetime.now(UTC).isoformat(),
        }
        try:
            await self.store.notifications.record(fields)
        except Exception:
            log.exception("could not record the %s notification %s", status, fields["id"])
