"""End to end in headless Chromium: sign in and triage in the browser console, the kiosk wall
at 1920x1080, and the public status page with nothing internal on it."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import SHOTS, Screen, Stack

pytestmark = pytest.mark.slow


def api(stack: Stack, path: str, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {stack.tokens['responder']}"}
    response = httpx.get(f"{stack.api}{path}", params=params, headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()


def first_screen(page: Any) -> None:
    page.wait_for_function("document.body.classList.contains('-first-byte')", timeout=60_000)


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


ROW = re.compile(r"\bINC-\d+\s+P\d\s+(triggered|ack|on hold|resolved)\b")


def closed_on_triggered(since: str) -> bool:
    """The frame of the filter box closed with ``status:triggered`` applied: the footer is
    the list's again (``a Ack``; the open box shows only its own keys) and the rows redrawn
    as the list moved up into the box's place are triggered ones, every one of them. (Any
    frame would not do: the box's last letters, or a refusal, are frames too.)"""
    rows = ROW.findall(since)
    return "a Ack" in since and bool(rows) and set(rows) == {"triggered"}


def test_sign_in_see_the_queue_and_acknowledge(stack: Stack, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    screen = Screen(page)
    page.goto(stack.web)
    first_screen(page)
    screen.wait_for(lambda: "sign in" in screen.text(), what="the sign-in screen")
    assert "all open" not in screen.text()  # nothing of the console before a token

    page.click("#terminal")
    page.keyboard.type("inc_0000_wrong")
    page.keyboard.press("Enter")
    screen.wait_for(lambda: "not accepted" in screen.text(), what="a wrong token refused")

    page.keyboard.type(stack.tokens["responder"])
    page.keyboard.press("Enter")
    screen.wait_for(lambda: "all open" in screen.text(), what="the queue after sign-in")
    triggered = {i["id"]: i for i in api(stack, "/v1/incidents", status="triggered")}
    assert triggered
    screen.wait_for(
        lambda: any(re.search(rf"{i['key']}\b", screen.text()) for i in triggered.values()),
        what="the triggered incidents in the queue",
    )

    page.keyboard.press("/")
    page.keyboard.type("status:triggered")
    screen.wait_for(lambda: "(esc clears)" in screen.text(), what="the filter applied")
    mark = screen.mark()
    page.keyboard.press("Enter")  # closes the filter box, back on the list
    screen.wait_for(lambda: closed_on_triggered(screen.text_since(mark)), what="the box closed")
    mark = screen.mark()
    page.keyboard.press("a")

    def acknowledged() -> list[dict[str, Any]]:
        fresh = api(stack, "/v1/incidents", status="acknowledged")
        return [i for i in fresh if i["id"] in triggered]

    [done] = screen.wait_for(acknowledged, what="an acknowledged incident in the store", timeout=60)
    timeline = api(stack, f"/v1/incidents/{done['id']}/timeline")
    assert any(e["kind"] == "acknowledged" and e["actor"] == "rhea" for e in timeline)
    screen.wait_for(
        lambda: "acknowledged" in screen.text_since(mark), what="the status line says so"
    )
    page.close()


def test_the_kiosk_wall_at_1920x1080(stack: Stack, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    screen = Screen(page)
    page.goto(stack.kiosk)
    first_screen(page)
    # No sign-in: the wall itself, with the demo's open incidents.
    screen.wait_for(lambda: "UNACKED" in screen.text().upper(), what="the wall's tiles", timeout=60)
    assert "sign in" not in screen.text()
    open_keys = [i["key"] for i in api(stack, "/v1/incidents")]
    screen.wait_for(
        lambda: any(k in screen.text() for k in open_keys), what="incidents on the wall"
    )
    page.wait_for_timeout(1500)  # let the last frame paint (a picture, not a synchronisation)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "wall-1920x1080.png"
    page.screenshot(path=str(shot))
    assert png_size(shot) == (1920, 1080)
    page.close()


def test_the_status_page_needs_no_script_and_shows_nothing_internal(
    stack: Stack, browser: Any
) -> None:
    public = httpx.get(f"{stack.api}/status.json", timeout=10).json()
    assert public["open"], "the demo publishes its worst open incidents"
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{stack.api}/status")
    text = page.inner_text("body")
    for incident in public["open"] + public["recent"]:
        assert incident["title"] in text and incident["key"] in text
        assert incident["updates"][0]["message"] in text
    assert "outage" in text.lower() or "degraded" in text.lower()
    html = page.content()
    for incident in public["open"]:
        full = api(stack, f"/v1/incidents/{incident['key']}")
        internal = [full["title"], *full["labels"].values()]
        if full["assignee"]:
            internal.append(full["assignee"])
        timeline = api(stack, f"/v1/incidents/{full['id']}/timeline")
        internal += [e["message"] for e in timeline if e["kind"] == "note"]
        internal += [e["actor"] for e in timeline]
        for secret in internal:
            if len(secret) >= 4:
                assert not re.search(rf"\b{re.escape(secret)}\b", html), secret
    for token in stack.tokens.values():
        assert token not in html
    context.close()
