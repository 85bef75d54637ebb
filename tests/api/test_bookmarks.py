"""The ``Neo4j-Bookmarks`` header: a write answers with its bookmarks, a read that sends them
back waits for them (read-your-writes across API replicas on a cluster), a bad one is a 4xx."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from mllineage.api.bookmarks import BOOKMARK, MAX_HEADER_CHARS
from mllineage.client import LineageAPIError, LineageClient
from mllineage.local import LocalApi
from tests.events import feature_store_events

HEADER = "Neo4j-Bookmarks"
FG = "FeatureGroup:default:customers"


def test_a_write_answers_with_bookmarks_a_read_accepts(api: httpx.Client) -> None:
    wrote = api.post("/v1/events", json={"events": feature_store_events()})
    assert wrote.status_code == 200, wrote.text
    value = wrote.headers[HEADER]
    assert value and all(BOOKMARK.fullmatch(part) for part in value.split(","))
    read = api.get(f"/v1/entities/{FG}", headers={HEADER: value})
    assert read.status_code == 200, read.text
    assert read.json()["uid"] == FG
    walked = api.get("/v1/lineage", params={"uid": FG}, headers={HEADER: value})
    assert walked.status_code == 200 and walked.json()["nodes"]
    assert HEADER not in read.headers  # a read commits nothing to wait for


def test_writes_sharing_a_transaction_each_answer_with_its_bookmarks(api: httpx.Client) -> None:
    """Concurrent writes share group commits; each answer carries the bookmarks of the
    transaction that wrote it, and a read with them sees that write."""
    events = [
        {**event, "run": {**event["run"], "id": f"concurrent-{i}-{j}"}}
        for i in range(4)
        for j, event in enumerate(feature_store_events())
    ]

    def post(event: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=str(api.base_url), timeout=60) as client:
            return client.post("/v1/events", json=event)

    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        answers = list(pool.map(post, events))
    assert [a.status_code for a in answers] == [200] * len(answers)
    for answer, event in zip(answers, events, strict=True):
        value = answer.headers[HEADER]
        assert all(BOOKMARK.fullmatch(part) for part in value.split(","))
        uid = f"{event['process']['kind']}:default:{event['process']['name']}"
        assert api.get(f"/v1/entities/{uid}", headers={HEADER: value}).status_code == 200


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("not a bookmark!", 422),
        ("FB:" + "é", 422),
        (",".join(f"FB:{i}" for i in range(17)), 422),
        ("FB:" + "A" * MAX_HEADER_CHARS, 431),
        ("FB:garbage", 422),  # well shaped, but Neo4j cannot read it
    ],
)
def test_a_bad_bookmark_is_a_4xx_naming_the_header(
    api: httpx.Client, value: str, status: int
) -> None:
    answer = api.get(f"/v1/entities/{FG}", headers={HEADER: value.encode()})
    assert answer.status_code == status, answer.text
    assert HEADER in answer.json()["message"]


def test_the_client_sends_back_the_bookmarks_of_its_last_write(
    live_server: LocalApi, api: httpx.Client
) -> None:
    with LineageClient(live_server.url) as client:
        assert client._transport.bookmarks is None
        client.post_batch(feature_store_events())
        sent = client._transport.bookmarks
        assert sent and BOOKMARK.fullmatch(sent.split(",")[0])
        assert client.entity(FG)["uid"] == FG
        client._transport.bookmarks = "FB:garbage"  # the next read shows that it sends it
        with pytest.raises(LineageAPIError, match=HEADER):
            client.entity(FG)
        assert client._transport.bookmarks is None  # and forgets what the service refused
        assert client.entity(FG)["uid"] == FG
