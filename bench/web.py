"""``incidents web``: how long a browser session takes to its first screen, and the memory
each session's process holds. Prints figures and writes bench/results/web.json.

A real stack on loopback: ``incidents serve`` on a demo database, ``incidents web`` in front,
and N websocket sessions opened the way textual-serve's page opens them (the sign-in screen's
first bytes are the start time). Memory is the resident size of each session's process tree,
read from /proc after every session has drawn its first screen.

    python bench/web.py [--sessions 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from console.web.server import children, descendants, rss_bytes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_http(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


async def session(
    http: aiohttp.ClientSession, url: str
) -> tuple[float, aiohttp.ClientWebSocketResponse]:
    started = time.perf_counter()
    ws = await http.ws_connect(f"{url}/ws?width=160&height=48")
    async for message in ws:
        if message.type == aiohttp.WSMsgType.BINARY:
            return time.perf_counter() - started, ws
    raise RuntimeError("session closed before its first screen")


async def main(sessions: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        db = Path(tmp) / "demo.db"
        run = [sys.executable, "-m", "console"]
        subprocess.run(
            [*run, "demo", "--db", str(db), "--history", "200"], check=True, capture_output=True
        )
        api_port, web_port = free_port(), free_port()
        serve = subprocess.Popen(
            [*run, "serve", "--db", str(db), "--port", str(api_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        web = subprocess.Popen(
            [
                *run,
                "web",
                "--backend",
                f"http://127.0.0.1:{api_port}",
                "--port",
                str(web_port),
                "--max-sessions",
                str(sessions),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{web_port}"
            await wait_http(f"http://127.0.0.1:{api_port}/readyz")
            await wait_http(url)
            server_rss = rss_bytes([web.pid])
            starts: list[float] = []
            sockets = []
            async with aiohttp.ClientSession() as http:
                for _ in range(sessions):  # one after another: each start alone on the machine
                    seconds, ws = await session(http, url)
                    starts.append(seconds)
                    sockets.append(ws)
                await asyncio.sleep(1.0)  # let every process settle before reading /proc
                per_session = [rss_bytes([pid, *descendants(pid)]) for pid in children(web.pid)]
                for ws in sockets:
                    await ws.close()
        finally:
            for process in (web, serve):
                process.terminate()
                process.wait(timeout=30)
    return {
        "sessions": sessions,
        "first_screen_s": {"median": statistics.median(starts), "max": max(starts), "all": starts},
        "session_rss_mb": {
            "median": statistics.median(per_session) / 1e6,
            "all": [r / 1e6 for r in per_session],
        },
        "web_server_rss_mb": server_rss / 1e6,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4)
    figures = asyncio.run(main(parser.parse_args().sessions))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "web.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
