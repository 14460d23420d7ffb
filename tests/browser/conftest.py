"""Browser tests: the whole service (real nats-server, real SQLite stores, relay and
projections, the Litestar app under uvicorn on an ephemeral port) driven by Playwright in
Debian's headless Chromium (``/usr/bin/chromium``, or ``TIMEBANK_CHROMIUM``).

Each test saves screenshots under ``artifacts/screenshots/`` (not committed)."""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from domain.identity import CouncilTitle, Role
from services.composition.app import create_app
from services.composition.runtime import Backbone
from services.messaging.broker import EmbeddedBroker
from services.pages.i18n import LANGUAGE_COOKIE
from services.pages.session import DEVICE_COOKIE
from tests.integration.support import (
    KioskDevice,
    create_staff,
    make_backbone,
    register_kiosk,
    run_workers,
)

CHROMIUM = os.environ.get("TIMEBANK_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parents[2] / "artifacts" / "screenshots"
# The flags a closed network needs: no background calls home, no QUIC, no first-run work.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KIOSK_IDLE_SECONDS = 8  # short, so the idle sign-out can be watched in a test


@dataclass
class Site:
    """The running service: its URL and the backbone behind it (to set up and inspect)."""

    url: str
    bone: Backbone

    def kiosk(self, name: str = "Community centre kiosk") -> KioskDevice:
        return register_kiosk(self.bone, name)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    broker = EmbeddedBroker(tmp_path / "nats")
    broker.start()
    bone = make_backbone(
        tmp_path,
        str(tmp_path / "events.sqlite"),
        str(tmp_path / "read.sqlite"),
        broker.url,
        kiosk_idle_seconds=KIOSK_IDLE_SECONDS,
        pages=True,
    )
    sock = _free_socket()
    server = uvicorn.Server(uvicorn.Config(create_app(bone), log_config=None, access_log=False))
    serving = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    with run_workers(bone):
        serving.start()
        host, port = sock.getsockname()
        try:
            _wait_started(server)
            yield Site(f"http://{host}:{port}", bone)
        finally:
            server.should_exit = True
            serving.join(30)
    broker.stop()


def _wait_started(server: uvicorn.Server) -> None:
    from tests.integration.support import wait_until  # noqa: PLC0415

    wait_until(lambda: server.started, timeout=30, what="the web server to start")


# Per module, not per session: while Playwright's sync API runs, its event loop is the thread's
# running loop, and the integration tests' asyncio.run() would refuse to start in that thread.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `bash tests/setup` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


class Screens:
    """Opens pages as a person would: each in their own browser (cookies), in a language."""

    def __init__(self, site: Site, browser: Browser, opened: list[BrowserContext], test: str):
        self.site = site
        self._browser = browser
        self._opened = opened
        self._test = re.sub(r"[^A-Za-z0-9_.-]+", "-", test)
        self._shots = 0

    def person(
        self,
        *,
        lang: str = "zh_CN",
        kiosk: KioskDevice | None = None,
        viewport: dict[str, int] | None = None,
    ) -> Page:
        """A fresh browser for one person; at a kiosk, the kiosk's device cookie is set."""
        context = self._browser.new_context(
            base_url=self.site.url,
            viewport=viewport or {"width": 1280, "height": 900},
            locale="zh-CN" if lang == "zh_CN" else "en-US",
        )
        self._opened.append(context)
        cookies: list[Any] = [{"name": LANGUAGE_COOKIE, "value": lang, "url": self.site.url}]
        if kiosk is not None:
            cookies.append({"name": DEVICE_COOKIE, "value": kiosk.token, "url": self.site.url})
        context.add_cookies(cookies)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    def snap(self, page: Page, name: str) -> Path:
        """Save a screenshot of the whole page as evidence of what the person saw."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self._shots += 1
        path = SCREENSHOTS / f"{self._test}-{self._shots:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def screens(
    site: Site, browser: Browser, contexts: list[BrowserContext], request: pytest.FixtureRequest
) -> Screens:
    return Screens(site, browser, contexts, request.node.name)


SERIOUS = {"serious", "critical"}


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical accessibility violations on the page as it is now."""
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(node["target"][0] for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]


def untranslated(page: Page) -> list[str]:
    """English source strings of the catalogs that show on a page meant to be in Chinese."""
    from services.pages.i18n import translations  # noqa: PLC0415

    text = page.locator("body").inner_text()
    catalog = translations("zh_CN")
    sources = getattr(catalog, "_catalog", {})
    shown = []
    for key in sources:
        msgid = key[0] if isinstance(key, tuple) else key
        words = re.sub(r"%\(\w+\)s", "", msgid).strip()
        if msgid and len(words) > 3 and words in text:
            shown.append(msgid)
    return shown


STAFF_PASSWORD = "a long staff password"


def make_staff(site: Site, username: str, role: Role, title: CouncilTitle | None = None) -> str:
    """A staff account (password :data:`STAFF_PASSWORD`); its username."""
    create_staff(site.bone.timebank, username, role, STAFF_PASSWORD, title)
    return username


def sign_in_staff(page: Page, username: str) -> None:
    """Sign in through the staff sign-in page, as a person would."""
    page.goto("/console/sign-in")
    page.locator("#username").fill(username)
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
