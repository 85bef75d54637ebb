"""/docs and /redoc work without internet: a real headless Chromium renders them offline.

Chromium is sent through a proxy that does not exist, so anything not on this machine fails to
load: the operations appear in the page only if the JavaScript came from the API itself and
ran. (``make test`` installs Debian's ``chromium`` where it can; without it these skip.)
"""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from mllineage.local import LocalApi
from tests.chromium import CHROMIUM, chromium

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no 'chromium' on PATH: install it with 'apt-get install chromium' (make test does)",
)
PAGES = ["/docs", "/redoc"]
# Paths that only the rendered page shows: they come from /openapi.json, fetched by the script.
OPERATIONS = ["/v1/lineage", "/v1/impact", "/v1/events", "/api/v1/lineage"]


def rendered(url: str) -> str:
    """The DOM after the page's scripts ran, with every request off this machine failing."""
    with chromium(
        "--proxy-server=http://127.0.0.1:9", "--virtual-time-budget=20000", "--dump-dom", url,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as process:  # fmt: skip
        stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr[-2000:]
    return stdout


@pytest.mark.parametrize("page", PAGES)
def test_the_page_and_its_assets_come_from_the_api(page: str, live_server: LocalApi) -> None:
    html = httpx.get(live_server.url + page, timeout=30).text
    assert "://" not in html  # no CDN, no web fonts: every URL is on this server
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 2
    for asset in assets:
        assert asset.startswith("/"), asset
        assert httpx.get(live_server.url + asset, timeout=30).status_code == 200, asset
    assert not any(path in html for path in OPERATIONS)  # only the script can add them


@pytest.mark.parametrize("page", PAGES)
def test_the_page_renders_the_operations_offline(page: str, live_server: LocalApi) -> None:
    dom = rendered(live_server.url + page)
    for path in OPERATIONS:
        assert path in dom, f"{path} missing from the rendered {page}"
