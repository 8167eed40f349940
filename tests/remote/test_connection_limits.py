"""Connection limits of ``incidents serve``: the descriptor-exhaustion attack on loopback.

Before: connections that sent nothing, or half a header, were never closed; with a 1,024
open-file limit, 1,100 of them made ``/healthz`` time out 20 of 20 and the log grew by tens
of megabytes of "Too many open files" tracebacks. Each test runs the real server in its own
process under the limit given (``setrlimit`` before it starts).
"""

from __future__ import annotations

import resource
import select
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.remote.server import ServerProcess, make_tokens
from tests.waiting import wait_until_sync

pytestmark = pytest.mark.slow

ATTACKERS = 1100


def _fd_limit(soft: int, hard: int) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return limit


def _soft_fd_limit(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no open-file limit in /proc")


def _config(home: Path, **server: object) -> None:
    folder = home / "config" / "incident-console"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["[server]"] + [
        f"{key} = {str(value).lower() if isinstance(value, bool) else value}"
        for key, value in server.items()
    ]
    (folder / "config.toml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def many_fds() -> Iterator[None]:
    """This test process opens more than 1,024 sockets itself."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = ATTACKERS + 512
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the hard open-file limit ({hard}) is below {wanted}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _start(tmp_path: Path, preexec: Callable[[], None] | None = None) -> ServerProcess:
    server = ServerProcess(tmp_path / "limits.db", home=tmp_path, preexec=preexec).start()
    server.wait_ready(timeout=60)  # a cold start (no zygote) on a loaded machine
    return server


def _closed_by_server(sock: socket.socket) -> bool:
    """Has the server closed ``sock`` (end of file or reset, nothing left to read)?"""
    poller = select.poll()  # (select() refuses descriptors above 1,023)
    poller.register(sock, select.POLLIN)
    if not poller.poll(0):
        return False
    try:
        return sock.recv(65536) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    return host, int(port)


def _open_idle(url: str, count: int) -> list[socket.socket]:
    """``count`` connections; every other one sends half a request's headers."""
    address = _host_port(url)
    sockets = []
    for n in range(count):
        sock = socket.create_connection(address, timeout=30)
        if n % 2:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: attacker\r\nX-Slow: ")
        sockets.append(sock)
    return sockets


def test_1100_idle_connections_at_a_1024_limit_leave_healthz_answering(
    tmp_path: Path, many_fds: None
) -> None:
    _config(tmp_path, header_timeout=2)
    # soft = hard: raising the soft limit at start cannot help here, the limits must.
    server = _start(tmp_path, _fd_limit(1024, 1024))
    attackers: list[socket.socket] = []
    try:
        assert server.proc is not None
        assert _soft_fd_limit(server.proc.pid) == 1024
        assert any(
            "at most 768 connections (open-file limit 1024)" in line for line in server.output
        )
        attackers = _open_idle(server.url, ATTACKERS)
        # A new connection each time, as a load balancer's health check makes.
        answers = [httpx.get(f"{server.url}/healthz", timeout=10).status_code for _ in range(20)]
        assert answers == [200] * 20
        # Every idle or half-sent connection is closed by the server: to make room, or at
        # the header timeout.
        wait_until_sync(
            lambda: all(_closed_by_server(s) for s in attackers if s.fileno() != -1) or None,
            what="the server to close every idle connection",
            interval=0.2,
        )
        # Fresh clients still get in while the attackers' sockets stay open on our side.
        with httpx.Client(timeout=10) as client:
            assert client.get(f"{server.url}/healthz").status_code == 200
    finally:
        for sock in attackers:
            sock.close()
        server.stop()
    # Should a burst of accepts still run out of descriptors for a moment, asyncio logs a
    # traceback per failed accept(): at most log_repeats (5) of them get through.
    log = "".join(server.output)
    assert log.count("Traceback") <= 5, log[-3000:]
    assert len(log) < 50_000, log[-3000:]


def test_a_half_sent_request_on_a_kept_alive_connection_is_closed(tmp_path: Path) -> None:
    """uvicorn drops its keep-alive timer at the first byte of the next request, so this
    connection stayed open for ever; the header timeout closes it."""
    _config(tmp_path, header_timeout=1, keep_alive_timeout=600)
    server = _start(tmp_path)
    try:
        sock = socket.create_connection(_host_port(server.url), timeout=30)
        with sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            reply = b""
            while b'"ok"' not in reply:
                reply += sock.recv(4096)
            assert reply.startswith(b"HTTP/1.1 200")
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost:")
            wait_until_sync(
                lambda: _closed_by_server(sock), what="the half-sent request to be closed"
            )
    finally:
        server.stop()


def test_a_fresh_connection_that_sends_nothing_is_closed(tmp_path: Path) -> None:
    _config(tmp_path, header_timeout=1)
    server = _start(tmp_path)
    try:
        with socket.create_connection(_host_port(server.url), timeout=30) as sock:
            wait_until_sync(lambda: _closed_by_server(sock), what="the silent connection to close")
    finally:
        server.stop()


async def _stream_open(client: httpx.AsyncClient, url: str) -> httpx.Response:
    request = client.build_request("GET", f"{url}/v1/stream")
    response = await client.send(request, stream=True)
    assert response.status_code == 200
    return response


def test_past_the_limit_requests_get_503_and_idle_sockets_make_room(tmp_path: Path) -> None:
    db = tmp_path / "limits.db"
    import asyncio

    tokens = asyncio.run(make_tokens(db, {"vic": "viewer"}))
    _config(tmp_path, max_connections=4)
    server = _start(tmp_path)
    headers = {"Authorization": f"Bearer {tokens['vic']}"}

    async def scenario() -> None:
        # Idle sockets never block a real request: the oldest waiting ones are closed.
        idle = _open_idle(server.url, 10)
        try:
            async with httpx.AsyncClient(timeout=10) as probe:
                assert (await probe.get(f"{server.url}/healthz")).status_code == 200
        finally:
            for sock in idle:
                sock.close()
        # Four busy connections (event streams) fill the limit: the next request is 503.
        streams = [httpx.AsyncClient(timeout=10, headers=headers) for _ in range(4)]
        opened = [await _stream_open(c, server.url) for c in streams]
        try:
            refused = []
            for _ in range(30):
                async with httpx.AsyncClient(timeout=10) as probe:
                    refused.append((await probe.get(f"{server.url}/healthz")).status_code)
            assert refused == [503] * 30
        finally:
            for response, client in zip(opened, streams, strict=True):
                await response.aclose()
                await client.aclose()

        async def healthy() -> bool:
            async with httpx.AsyncClient(timeout=10) as probe:
                return (await probe.get(f"{server.url}/healthz")).status_code == 200

        from tests.waiting import wait_until

        await wait_until(healthy, what="/healthz once the streams are gone")

    try:
        asyncio.run(scenario())
    finally:
        server.stop()
    warnings = [line for line in server.output if "Exceeded concurrency limit" in line]
    # 30 refusals, 5 lines (log_repeats): the rest is counted, not written.
    assert len(warnings) == 5, warnings


@pytest.mark.parametrize(("raise_limit", "expected"), [(True, 4096), (False, 1024)])
def test_the_open_file_soft_limit_is_raised_to_the_hard_limit(
    tmp_path: Path, raise_limit: bool, expected: int
) -> None:
    _config(tmp_path, raise_fd_limit=raise_limit)
    server = _start(tmp_path, _fd_limit(1024, 4096))
    try:
        assert server.proc is not None
        assert _soft_fd_limit(server.proc.pid) == expected
        assert any(f"(open-file limit {expected})" in line for line in server.output)
    finally:
        server.stop()


def test_the_server_parses_with_httptools_and_h11_stays_available() -> None:
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from console.http.connections import protocol_class

    served = protocol_class(5.0)
    assert issubclass(served, HttpToolsProtocol)  # what every test above ran against
    fallback = protocol_class(5.0, "h11")
    assert issubclass(fallback, H11Protocol) and not issubclass(fallback, HttpToolsProtocol)
    assert served.waiting is not fallback.waiting  # type: ignore[attr-defined]
