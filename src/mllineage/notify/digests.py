"""Owner notifications, the pure part: the webhook setting, which URL an owner's digest goes
to, the digests themselves, and their signature.

When an entity is deprecated or retired, or a what-if is asked with ``notify``, each owner
of a live endpoint or model that would lose an input gets one digest: what of theirs is hit,
one path to it, and the replacement. The sending (retries, the queue, the records) is
``notifier.py``'s job.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from mllineage.model.views import WhatIfReport

SIGNATURE_HEADER = "X-Mllineage-Signature"
DELIVERY_HEADER = "X-Mllineage-Delivery"
EVENT_HEADER = "X-Mllineage-Event"
CATCH_ALL = "*"


def parse_webhooks(text: str) -> dict[str, str]:
    """``MLLINEAGE_WEBHOOKS``: a JSON object from owner to an http(s) URL, ``"*"`` for every
    owner without one (and for what has no owner). ValueError naming the setting otherwise."""
    try:
        routes = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"MLLINEAGE_WEBHOOKS is not JSON ({exc})") from None
    if not isinstance(routes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in routes.items()
    ):
        raise ValueError(
            "MLLINEAGE_WEBHOOKS must be a JSON object of owner to URL, e.g. "
            '{"team-ml": "https://hooks.example/ml", "*": "https://hooks.example/all"}'
        )
    for owner, url in routes.items():
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"MLLINEAGE_WEBHOOKS: the URL of {owner!r} must be an http(s) URL with a host"
            )
    return routes


def route(owner: str | None, webhooks: dict[str, str]) -> tuple[str, str] | None:
    """The (key, URL) an owner's digest goes to: its own webhook, else the catch-all."""
    if owner is not None and owner in webhooks:
        return owner, webhooks[owner]
    if CATCH_ALL in webhooks:
        return CATCH_ALL, webhooks[CATCH_ALL]
    return None


def digests(
    event: str,
    report: WhatIfReport,
    *,
    event_time: datetime | None,
    reason: str | None = None,
) -> dict[str | None, dict[str, Any]]:
    """One digest per owner of what ``report`` hits (None: what has no owner)."""
    hits: dict[str | None, list[dict[str, Any]]] = {}
    for item in (*report.endpoints, *report.models):
        hits.setdefault(item.owner, []).append(
            item.model_dump(
                mode="json",
                include={"uid", "kind", "name", "depth", "path", "loses", "replacement"},
            )
        )
    verb = {"what-if": "would be hit if these were retired"}.get(event, f"are hit: {event}")
    return {
        owner: {
            "event": event,
            "owner": owner,
            "subjects": report.retire,
            "event_time": event_time.isoformat() if event_time else None,
            "reason": reason,
            "summary": f"{len(items)} of your endpoints and models {verb}: "
            + ", ".join(report.retire),
            "hits": items,
        }
        for owner, items in hits.items()
    }


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 of the exact body, hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
