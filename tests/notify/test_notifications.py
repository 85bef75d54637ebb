"""The pure part of owner notifications: the webhook setting, routing, digests, signatures."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from mllineage.model.domain import Kind
from mllineage.model.views import WhatIfItem, WhatIfReport
from mllineage.notify.digests import digests, parse_webhooks, route, sign


def item(uid: str, kind: Kind, owner: str | None) -> WhatIfItem:
    return WhatIfItem(
        uid=uid, kind=kind, namespace="default", name=uid.split(":")[2], owner=owner, depth=2,
        path=["DataSource:default:raw", uid], loses="DataSource:default:raw", replacement=None,
    )  # fmt: skip


def test_routes_go_to_the_owner_else_the_catch_all() -> None:
    hooks = parse_webhooks('{"alice": "https://h/a", "*": "http://h/all"}')
    assert route("alice", hooks) == ("alice", "https://h/a")
    assert route("bob", hooks) == ("*", "http://h/all")
    assert route(None, hooks) == ("*", "http://h/all")
    assert route("bob", {"alice": "https://h/a"}) is None


@pytest.mark.parametrize(
    "text", ["not json", '["https://h"]', '{"a": 1}', '{"a": "ftp://h"}', '{"a": "https://"}']
)
def test_bad_webhook_settings_name_the_setting(text: str) -> None:
    with pytest.raises(ValueError, match="MLLINEAGE_WEBHOOKS"):
        parse_webhooks(text)


def test_one_digest_per_owner() -> None:
    report = WhatIfReport(
        retire=["DataSource:default:raw"], live_endpoints=1,
        endpoints=[item("Endpoint:default:e", Kind.Endpoint, "bob")],
        models=[item("Model:default:m", Kind.Model, "bob"),
                item("Model:default:n", Kind.Model, None)],
        owners=["bob"],
    )  # fmt: skip
    found = digests("deprecated", report, event_time=None, reason="old")
    assert set(found) == {"bob", None}
    assert [h["uid"] for h in found["bob"]["hits"]] == ["Endpoint:default:e", "Model:default:m"]
    assert found["bob"]["reason"] == "old" and found["bob"]["subjects"] == report.retire


def test_the_signature_is_hmac_sha256_of_the_body() -> None:
    expected = hmac.new(b"k", b"{}", hashlib.sha256).hexdigest()
    assert sign("k", b"{}") == f"sha256={expected}"
