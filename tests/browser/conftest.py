"""A real stack for the browser tests: ``incidents serve`` on a demo database, ``incidents
web`` (sign-in console) and ``incidents web --wall`` (kiosk) on loopback, and Debian's
Chromium driven headless by Playwright (its own browser download is never used).

Chromium runs with flags that keep it off the network and a fresh profile per test.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.waiting import wait_until_sync

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("INCIDENTS_SCREENSHOTS", "") or Path(__file__).parent / "screenshots")
"""Where the browser tests write pictures (the wall, and the page when a wait fails)."""
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
ANSI = re.compile(
    r"\x1b(?:\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[@-Z\\-_])"
)


def need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = (
        f"{CHROMIUM} is missing: apt-get install --no-install-recommends chromium (.ci/run does)"
    )
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "console", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@dataclass
class Stack:
    folder: Path
    db: Path
    api: str
    web: str
    kiosk: str
    tokens: dict[str, str]
    processes: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list)

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for _, log in self.processes
        )


def _start(stack: Stack, name: str, *args: str) -> None:
    log = stack.folder / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "console", *args],
        cwd=stack.folder,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if k not in ("INCIDENTS_TOKEN", "NO_COLOR")},
    )
    stack.processes.append((process, log))


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    need_chromium()
    folder = Path(tempfile.mkdtemp(prefix="incidents-browser-"))
    db = folder / "demo.db"
    run("demo", "--db", str(db), "--seed", "14", "--history", "60", "--open", "16", cwd=folder)
    tokens = {
        role: run("token", "create", "--db", str(db), "--user", user, "--role", role, cwd=folder)
        for user, role in (("rhea", "responder"), ("wally", "viewer"))
    }
    ports = [free_port() for _ in range(3)]
    api = f"http://127.0.0.1:{ports[0]}"
    stack = Stack(
        folder, db, api, f"http://127.0.0.1:{ports[1]}", f"http://127.0.0.1:{ports[2]}", tokens
    )
    try:
        _start(stack, "serve", "serve", "--db", str(db), "--port", str(ports[0]))
        wait_until_sync(
            lambda: _answers(f"{api}/readyz"), what="incidents serve answers", detail=stack.logs
        )
        _start(stack, "web", "web", "--backend", api, "--port", str(ports[1]))
        _start(
            stack,
            "kiosk",
            "web",
            "--wall",
            "--backend",
            api,
            "--token",
            tokens["viewer"],
            "--port",
            str(ports[2]),
        )
        for url in (stack.web, stack.kiosk):
            wait_until_sync(
                lambda u=url: _answers(u), what=f"incidents web at {url}", detail=stack.logs
            )
        yield stack
    finally:
        for process, _ in stack.processes:
            process.terminate()
        for process, _ in stack.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def browser() -> Iterator[Any]:
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


class Screen:
    """What a textual-serve page received: its websocket frames as plain text."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self._chunks: list[str] = []
        page.on("websocket", self._follow)

    def _follow(self, websocket: Any) -> None:
        websocket.on("framereceived", self._frame)

    def _frame(self, payload: Any) -> None:
        data = payload if isinstance(payload, bytes | bytearray) else str(payload).encode()
        self._chunks.append(bytes(data).decode("utf-8", "replace"))

    def wait_for(self, predicate: Any, *, what: str, timeout: float = 60.0) -> Any:
        """``tests.waiting.wait_until_sync``, pumping Playwright's events between looks (its
        sync API delivers websocket frames only while it is called, never during a sleep)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                tail = self.text()[-1500:]
                shot = self.screenshot(what)
                raise AssertionError(
                    f"timed out after {timeout:.0f}s waiting for {what} (screenshot: {shot});"
                    f" the page last showed:\n{tail}"
                )
            self.page.wait_for_timeout(100)

    def screenshot(self, what: str) -> Path:
        """The page as drawn now, for a failure message (the frames alone are only diffs)."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / ("failed-" + re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-") + ".png")
        self.page.screenshot(path=str(shot))
        return shot

    def text(self) -> str:
        return ANSI.sub("", "".join(self._chunks))

    def mark(self) -> int:
        return len(self._chunks)

    def text_since(self, mark: int) -> str:
        return ANSI.sub("", "".join(self._chunks[mark:]))
