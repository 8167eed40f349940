"""``incidents web`` bounds its processes: a session limit (503 past it) and idle sessions
ended. Over a real ``incidents web`` process with plain websockets (no browser needed)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

from tests.browser.conftest import free_port
from tests.waiting import wait_until


async def _web(tmp: Path, *args: str) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    log = (tmp / "web.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console",
        "web",
        "--backend",
        "http://127.0.0.1:9",
        "--port",
        str(port),
        *args,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


async def _status(http: aiohttp.ClientSession, url: str) -> int:
    try:
        async with http.get(url) as response:
            return response.status
    except aiohttp.ClientError:
        return 0


async def _first_bytes(ws: aiohttp.ClientWebSocketResponse) -> bool:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.BINARY:
            return True
    return False


async def test_the_session_limit_and_the_idle_timeout(tmp_path: Path) -> None:
    process, url = await _web(tmp_path, "--max-sessions", "1", "--idle-minutes", "0.1")
    try:
        async with aiohttp.ClientSession() as http:
            await wait_until(lambda: _status(http, url), what="incidents web answers")
            ws = await http.ws_connect(f"{url}/ws?width=80&height=24")
            started = await asyncio.wait_for(_first_bytes(ws), 60)  # the sign-in screen
            assert started, (tmp_path / "web.log").read_text(errors="replace")
            assert await _status(http, url) == 503  # full: the page says so
            refused = await http.ws_connect(f"{url}/ws")
            await refused.receive()
            assert refused.close_code == 1013
            # No input for 6 seconds: the server ends the session and its process.
            async with asyncio.timeout(60):
                async for _message in ws:
                    pass
            assert ws.closed

            async def free() -> bool:
                return await _status(http, url) == 200

            await wait_until(free, what="a free session again")
    finally:
        process.terminate()
        await process.wait()
