"""Neo4j Browser opens ready: the API serves its style and guide, Neo4j is told to load them.

The last test is the real thing: a local Neo4j configured to fetch them from a live API, and
a headless Chromium (driven over the DevTools protocol) that logs in to Neo4j Browser, finds
the guide open, runs its first step and sees the graph in the style's colours; a screenshot
is kept. (``make browser`` installs Debian's ``chromium``; without it that test skips.)
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from mllineage.api.browser import GUIDE_PATH, STYLE_PATH
from mllineage.browser.grass import node_style, style_text
from mllineage.browser.guide import guide_html, steps
from mllineage.client import LineageClient
from mllineage.client.demo import load_demo
from mllineage.local import LocalApi, LocalNeo4j, free_port
from mllineage.model.domain import Kind
from tests.chromium import CHROMIUM
from tests.chromium import chromium as chromium_process
from tests.helpers import TEST_PASSWORD, local_settings
from tests.pictures.test_pictures import colours, hex_rgb

BROWSER_ORIGIN = "http://127.0.0.1:7474"


class Slides(HTMLParser):
    """The guide's slides: each one's heading and the text of its runnable blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.slides: list[dict[str, Any]] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "slide":
            self.slides.append({"title": "", "runnable": []})
        elif tag == "h3" or (tag == "pre" and "runnable" in classes):
            self._in = tag
            if tag == "pre":
                self.slides[-1]["runnable"].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "h3":
            self.slides[-1]["title"] += data
        elif self._in == "pre":
            self.slides[-1]["runnable"][-1] += data


def test_the_guide_has_a_step_per_saved_query_the_impact_first() -> None:
    parser = Slides()
    parser.feed(guide_html())
    found = steps()
    folder = Path(__file__).parents[2] / "cypher/queries"
    assert len(parser.slides) == len(found) == len(list(folder.glob("*.cypher")))
    assert parser.slides[0]["title"] == f"1/{len(found)}. What breaks if customers changes"
    for slide, step in zip(parser.slides, found, strict=True):
        assert slide["runnable"] == [step.query]  # unescaped, it is the query as saved
        assert step.query and not step.query.startswith("//")
    assert "RETURN p" in found[0].query  # the impact as paths: the graph view shows them


def test_style_and_guide_are_open_with_cors_and_nothing_else_is(secured: LocalApi) -> None:
    origin = {"Origin": BROWSER_ORIGIN}
    style = httpx.get(secured.url + STYLE_PATH, headers=origin, timeout=30)
    assert style.status_code == 200 and style.text == style_text()
    assert style.headers["access-control-allow-origin"] == "*"
    for kind in Kind:
        assert f"node.{kind} {{" in style.text
    assert "/*" not in style.text  # the Browser's grass parser knows no comments
    guide = httpx.get(secured.url + GUIDE_PATH, headers=origin, timeout=30)
    assert guide.status_code == 200 and guide.text == guide_html()
    assert guide.headers["content-type"].startswith("text/html")
    assert guide.headers["access-control-allow-origin"] == "*"
    # The Browser sends pragma and cache-control with :play, so its fetch is preflighted.
    preflight = httpx.options(
        secured.url + GUIDE_PATH,
        headers={**origin, "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "pragma,cache-control"},
        timeout=30,
    )  # fmt: skip
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-headers"] == "pragma,cache-control"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    closed = httpx.get(secured.url + "/v1/entities", headers=origin, timeout=30)
    assert closed.status_code == 401 and "access-control-allow-origin" not in closed.headers


def test_the_local_neo4j_is_told_to_load_them(tmp_path: Path) -> None:
    settings = local_settings(tmp_path, port=8123)
    conf = LocalNeo4j(settings).write_config().read_text()
    assert (
        "browser.post_connect_cmd=style http://127.0.0.1:8123/browser/style.grass; "
        "play http://127.0.0.1:8123/browser/guide.html\n" in conf
    )
    assert "browser.remote_content_hostname_whitelist=127.0.0.1\n" in conf
    public = local_settings(tmp_path, public_url="https://lineage.acme.internal/")
    conf = LocalNeo4j(public).write_config().read_text()
    assert "play https://lineage.acme.internal/browser/guide.html\n" in conf
    assert "browser.remote_content_hostname_whitelist=lineage.acme.internal\n" in conf


def test_docker_compose_tells_neo4j_too() -> None:
    compose = (Path(__file__).parents[2] / "docker-compose.yml").read_text()
    assert (
        'NEO4J_browser_post__connect__cmd: "style http://127.0.0.1:8000/browser/style.grass; '
        'play http://127.0.0.1:8000/browser/guide.html"' in compose
    )
    assert 'NEO4J_browser_remote__content__hostname__whitelist: "127.0.0.1,localhost"' in compose


# --- the real Browser -----------------------------------------------------------------------


class DevTools:
    """Just enough of the Chrome DevTools protocol: evaluate JavaScript, take a screenshot."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.next_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=120))
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message["result"]  # type: ignore[no-any-return]

    def run(self, script: str) -> Any:
        result = self.call("Runtime.evaluate", expression=script, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def wait_for(self, script: str, what: str, seconds: float = 180) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if value := self.run(script):
                return value
            time.sleep(0.5)
        text = self.run("document.body ? document.body.innerText.slice(0, 3000) : ''")
        raise AssertionError(f"{what} did not happen within {seconds}s; the page says:\n{text}")


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[DevTools]:
    if CHROMIUM is None:
        pytest.skip("no 'chromium' on PATH: install it with 'apt-get install chromium' (make test)")
    port = free_port()
    with chromium_process(
        f"--remote-debugging-port={port}", "--window-size=1600,1000", "about:blank",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    ) as process:  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
                page = next(t for t in targets if t["type"] == "page")
                break
            except (httpx.HTTPError, StopIteration):
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("chromium did not open its DevTools port")
                time.sleep(0.3)
        with connect(page["webSocketDebuggerUrl"], max_size=64 << 20) as socket:
            yield DevTools(socket)


SET_INPUT = """(function (selector, value) {
  const input = document.querySelector(selector);
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  setter.call(input, value);  // React keeps its own copy: set it as a user's typing would
  input.dispatchEvent(new Event('input', {bubbles: true}));
  return input.value;
})"""


def test_the_browser_opens_styled_with_the_guide(chromium: DevTools, tmp_path: Path) -> None:
    settings = local_settings(tmp_path / "neo4j")
    bolt = f"bolt://127.0.0.1:{settings.neo4j_bolt_port}"
    api = LocalApi(settings.model_copy(update={"neo4j_uri": bolt}))  # its port, not started
    # Neo4j first: an API knocking with the password before Neo4j has it set would trip
    # Neo4j's rate limit on failed logins.
    neo4j = LocalNeo4j(settings.model_copy(update={"public_url": api.url}))
    neo4j.start()
    try:
        with api:
            api.wait_ready()
            with LineageClient(api.url) as client:
                load_demo(client)
            _log_in_and_look(chromium, neo4j, tmp_path / "browser.png")
    finally:
        neo4j.stop()


def _log_in_and_look(page: DevTools, neo4j: LocalNeo4j, screenshot: Path) -> None:
    page.call("Page.navigate", url=neo4j.browser_url)
    page.wait_for("!!document.querySelector('[data-testid=password]')", "the login form")
    bolt = f"127.0.0.1:{neo4j.settings.neo4j_bolt_port}"
    page.run(f"{SET_INPUT}('[data-testid=boltaddress]', {json.dumps(bolt)})")
    page.run(f"{SET_INPUT}('[data-testid=username]', 'neo4j')")
    page.run(f"{SET_INPUT}('[data-testid=password]', {json.dumps(TEST_PASSWORD)})")
    page.run("document.querySelector('[data-testid=connect]').click()")

    # post_connect_cmd: the guide opens (its first step is the demo's impact question) ...
    first = steps()[0]
    page.wait_for(
        f"document.body.innerText.includes({json.dumps(first.title)})", "the guide opening"
    )
    # ... and a click on its query, then Run, draws the graph in the style's colours.
    page.run("document.querySelector('pre.runnable').click()")
    page.wait_for(
        "(document.querySelector('[data-testid=activeEditor]') || {}).innerText"
        "?.includes('customers')",
        "the guide's query reaching the editor",
    )
    page.run("document.querySelector('[data-testid=editor-Run]').click()")
    fills = page.wait_for(
        "[...document.querySelectorAll('svg g.node circle')].map(c => c.getAttribute('fill'))"
        ".filter(Boolean)",
        "the graph of the impact",
    )
    time.sleep(2)  # let the force layout settle before the picture
    shot = page.call("Page.captureScreenshot", format="png")
    screenshot.write_bytes(base64.b64decode(shot["data"]))

    styled = {kind: node_style(kind)["color"].lower() for kind in ("FeatureGroup", "Model")}
    drawn = {fill.lower() for fill in fills}
    assert set(styled.values()) <= drawn, (styled, drawn)
    assert node_style("Endpoint")["color"].lower() in drawn
    present = colours(screenshot.read_bytes())
    for colour in styled.values():
        assert hex_rgb(colour) in present, colour
    assert page.run(f"document.body.innerText.includes({json.dumps(first.title)})")
