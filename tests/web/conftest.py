"""The web app in a real Chromium (Debian's, driven by Playwright), against a real server:
uvicorn serving the app on the demo database, with the fake OpenAI-compatible model.

Debian's `chromium` is installed with apt-get when missing (Playwright's own browser
download cannot work on these machines), so these tests never skip for want of it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

from assistant.api.app import create_app
from assistant.settings import Settings
from tests import fake_llm
from tests.api.conftest import api_settings, fake_model, login_of, with_model

__all__ = ["api_settings", "fake_model"]  # the API tests' fixtures, shared

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
SHOP = "desert-auto"


def chromium_path() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        subprocess.run(command, check=True, env=env, capture_output=True, timeout=900)
    found = shutil.which("chromium")
    assert found, "apt-get installed chromium but it is not on PATH"
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    model: fake_llm.FakeChatModel


@pytest.fixture(scope="session")
def live_server(api_settings: Settings, fake_model: fake_llm.FakeChatModel) -> Iterator[LiveServer]:
    settings = dataclasses.replace(
        with_model(api_settings, fake_model), llm_timeout_s=10.0, token_ttl_s=900
    )
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the web server did not start"
        assert thread.is_alive(), "the web server stopped at start-up"
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", fake_model)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page with everything it logged and every request it made."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        own = urlsplit(self.base).netloc
        return [
            u
            for u in self.requests
            if urlsplit(u).scheme in {"http", "https"} and urlsplit(u).netloc != own
        ]


def _watch(page: Page, base: str) -> Watched:
    watched = Watched(page, base)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.errors.append(message.text)

    def on_request(request: Request) -> None:
        watched.requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.on("request", on_request)
    return watched


@pytest.fixture
def model(live_server: LiveServer) -> Iterator[fake_llm.FakeChatModel]:
    live_server.model.reset()
    yield live_server.model
    live_server.model.reset()


@pytest.fixture
def open_page(browser: Browser, live_server: LiveServer) -> Iterator[Any]:
    """`open_page(viewport=...)`: a fresh browser context (no cookies) and its page; no
    page may log a console error."""
    opened: list[Watched] = []

    def make(width: int = 1280, height: int = 900) -> Watched:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        watched = _watch(context.new_page(), live_server.url)
        opened.append(watched)
        return watched

    yield make
    for watched in opened:
        errors = list(watched.errors)
        watched.page.context.close()
        assert errors == [], f"console errors: {errors}"


def sign_in(watched: Watched, name: str, slug: str = SHOP) -> None:
    email, password = login_of(slug, name)
    page = watched.page
    page.goto("/signin")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/chat")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core findings on the page as it is now."""
    page.evaluate(AXE.read_text())  # through DevTools: the page's CSP allows no inline script
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
