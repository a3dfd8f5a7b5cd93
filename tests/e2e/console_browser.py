"""What the console's browser tests share: Debian's chromium driven by Playwright, sign-in,
screenshots into ``test-artifacts/`` (git-ignored), the other-origin site of the CORS tests."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from console import site

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package, never a browser build Playwright downloads
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO_ROOT / "test-artifacts"
LAPTOP = {"width": 1440, "height": 900}
TABLET = {"width": 820, "height": 1180}  # iPad Air, portrait
UI_TIMEOUT_MS = 20_000  # a loaded 2-core machine runs moto, Step Functions and chromium at once
expect.set_options(timeout=UI_TIMEOUT_MS)


def ensure_chromium() -> Path:
    """Debian's chromium, installed by ``make browser`` (apt-get) when it is missing."""
    if not CHROMIUM.exists():
        done = subprocess.run(["make", "-s", "browser"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False)
        if not CHROMIUM.exists():
            pytest.fail(f"{CHROMIUM} is missing and `make browser` could not install it:\n{done.stdout}\n{done.stderr}")
    return CHROMIUM


def new_context(browser: Browser, *, viewport: dict[str, int] = LAPTOP, **kwargs: Any) -> BrowserContext:
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai", **kwargs)  # type: ignore[arg-type]
    context.set_default_timeout(UI_TIMEOUT_MS)
    return context


def console_url(api_url: str, fragment: str = "") -> str:
    return f"{api_url}/console/{fragment}"


def sign_in(page: Page, api_url: str, user: str = "A-7", group: str = "agents", *, lang: str = "en",
            fragment: str = "") -> None:
    """The local sign-in form, in ``lang`` (the console starts in Chinese)."""
    page.goto(console_url(api_url, fragment))
    if lang == "en":
        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.get_by_label("User" if lang == "en" else "用户", exact=True).fill(user)
    page.get_by_label("Group" if lang == "en" else "用户组", exact=True).select_option(group)
    page.get_by_role("button", name="Sign in" if lang == "en" else "登录").click()
    expect(page.locator("#queue-heading")).to_be_visible()


def action_form(page: Page, name: str) -> Any:
    return page.get_by_role("form", name=name, exact=True)


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class StaticSite:
    """The release build of the console (``make package``'s output) on its own origin, as
    CloudFront would serve it, with the ``config.json`` a deploy writes (``config()``)."""

    def __init__(self, root: Path, config: Callable[[], site.ConsoleConfig]) -> None:
        self.release = site.build(root)
        files = {key: (root / key).read_bytes() for key in self.release.files}
        metadata = self.release.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                key = self.path.split("?")[0].lstrip("/") or site.INDEX
                if key == site.CONFIG:
                    body, headers = config().body(), {"Content-Type": site.CONTENT_TYPES[".json"], "Cache-Control": "no-cache"}
                elif key in files:
                    meta = metadata[key]
                    body, headers = files[key], {"Content-Type": meta["content_type"], "Cache-Control": meta["cache_control"]}
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="static-console", daemon=True)

    @contextmanager
    def running(self) -> Iterator[StaticSite]:
        self.thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def session_script(token: str) -> str:
    """An init script that puts a signed-in session where the console keeps it."""
    return f"sessionStorage.setItem('complaints.console.session', {json.dumps(json.dumps({'token': token}))});"
