"""/docs and /redoc work without internet: a real headless Chromium renders them offline.

Chromium is sent through a proxy that does not exist, so anything not on this machine fails to
load: the operations appear in the page only if the JavaScript came from the API itself and
ran. (``make test`` installs Debian's ``chromium`` where it can; without it these skip.)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import httpx
import pytest

from mllineage.local import LocalApi

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no 'chromium' on PATH: install it with 'apt-get install chromium' (make test does)",
)
PAGES = ["/docs", "/redoc"]
# Paths that only the rendered page shows: they come from /openapi.json, fetched by the script.
OPERATIONS = ["/v1/lineage", "/v1/impact", "/v1/events", "/api/v1/lineage"]


def rendered(url: str) -> str:
    """The DOM after the page's scripts ran, with every request off this machine failing."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--proxy-server=http://127.0.0.1:9",
                "--virtual-time-budget=20000", "--dump-dom", url,
            ],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


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
