# ruff: noqa: E402 - the sys.path fix below must run before the project imports
"""Console scaling benchmark: the Textual console, headless, on 1k, 10k and 100k open.

Measures what a responder feels: start to first full screen, a cursor move, opening an
incident (and coming back), one clock tick, and memory. The tick is ``tick ms``:
``app.tick()`` and a render of every visible row (wall time; ``tick CPU ms`` the same rounds
in this process's CPU time, steadier on a shared machine), and ``tick+frame ms``:
``app.tick()`` and the compositor's frame for what it refreshed, which is what the running
console pays a second. Each size is measured in its own process (so the data the benchmark
builds does not count as the console's memory), on a database built beforehand. Prints one
row per size with the ratios to the first (1k) row and writes
``bench/results/console_scale.json``.

    python bench/console_scale.py                      # 1,000, 10,000 and 100,000 open
    python bench/console_scale.py --open 20000         # one size (repeat --open for more)
    python bench/console_scale.py --moves 100 --opens 20
    python bench/console_scale.py --remote             # over HTTP from a real incidents serve

Targets (issue 13, at 100,000 open): first screen < 1 s and at most 1.5x the 1k row,
open incident p95 < 50 ms, clock tick < 5 ms, RSS < 200 MB; with ``--remote``, the server's
RSS < 250 MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder is first on sys.path and this file would shadow the
# ``console`` package it measures.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

import argparse
import asyncio
import gc
import json
import random
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import created_entry
from console.domain.models import Incident, Service, Status, User, priority_for
from console.tui.app import make_app

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SERVICES = ["checkout", "payments", "search", "auth", "cdn", "kafka", "billing", "inventory"]
PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
WORDS = "disk latency errors timeout queue lag 5xx replica cache node pod memory".split()
RESULTS = Path(__file__).parent / "results" / "console_scale.json"
TARGETS = {
    "first_screen_s": 1.0,
    "cursor_move_p95_ms": 50.0,
    "open_incident_p95_ms": 50.0,
    "tick_ms": 5.0,
    "rss_mb": 200.0,
    "server_rss_mb": 250.0,
}
COLUMNS = (
    ("first_screen_s", "first screen s"),
    ("cursor_move_p95_ms", "cursor p95 ms"),
    ("open_incident_p95_ms", "open p95 ms"),
    ("tick_ms", "tick ms"),
    ("tick_cpu_ms", "tick CPU ms"),
    ("tick_frame_ms", "tick+frame ms"),
    ("rss_mb", "RSS MB"),
    ("server_rss_mb", "serve RSS MB"),
)


def records(count: int, seed: int = 7) -> list[tuple[Incident, list[Any]]]:
    rng = random.Random(seed)
    out = []
    for n in range(1, count + 1):
        impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
        created = T0 - timedelta(minutes=rng.randint(1, 60 * 24 * 5))
        status = rng.choice([Status.TRIGGERED, Status.TRIGGERED, Status.ACKNOWLEDGED])
        incident = Incident(
            id=n,
            key=f"INC-{n}",
            title=f"{rng.choice(SERVICES)} {' '.join(rng.sample(WORDS, 4))} on node-{n}",
            service=rng.choice(SERVICES),
            status=status,
            impact=impact,
            urgency=urgency,
            priority=priority_for(impact, urgency),
            assignee=rng.choice(PEOPLE) if status == Status.ACKNOWLEDGED else None,
            acknowledged_at=created + timedelta(minutes=3)
            if status == Status.ACKNOWLEDGED
            else None,
            created_at=created,
            updated_at=created,
        )
        out.append((incident, [created_entry(incident, "bench")]))
    return out


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


async def prepare(path: Path, count: int, clock: FrozenClock) -> None:
    backend = await SqliteBackend(path, clock=clock).open()
    try:
        for service in SERVICES:
            await backend.put_service(Service(id=service, name=service.title()))
        for person in PEOPLE:
            await backend.put_user(User(id=person, name=person.title()))
        await backend.import_records(records(count))
    finally:
        await backend.close()


async def wait_for(predicate: Any, what: str, step: float = 0.0, timeout: float = 20.0) -> None:
    """Poll ``predicate``; a benchmark that hangs is useless, so fail loudly instead."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"waited {timeout:.0f}s for {what}")
        await asyncio.sleep(step)


async def answer(pilot: Any, key: str, until: type | None = None) -> float:
    """Milliseconds from a key reaching the app to the next frame drawn with its effect.

    Pilot's own ``press``/``pause`` sleep until the process looks idle, which would measure
    the sleeps; this sends the key, waits until every widget has handled its messages, and
    then forces the frame the App would draw on its next refresh.
    """
    from textual import events

    app = pilot.app
    started = time.perf_counter()
    app._driver.send_message(events.Key(key, key if len(key) == 1 else None))
    await pilot._wait_for_screen()
    if until is not None:
        await wait_for(lambda: isinstance(app.screen, until), f"{until.__name__} to open")
        await pilot._wait_for_screen()
    app.screen._on_timer_update()
    return (time.perf_counter() - started) * 1000


async def measure(
    path: Path,
    clock: FrozenClock,
    moves: int,
    opens: int,
    first_only: bool = False,
    remote: tuple[str, str] | None = None,
) -> dict[str, Any]:
    gc.collect()
    rss_before = rss_mb()
    started = time.perf_counter()
    cpu_started = time.process_time()
    backend: Any
    if remote is not None:
        from backends.remote import RemoteBackend

        backend = await RemoteBackend(remote[0], remote[1]).open()
    else:
        backend = await SqliteBackend(path, clock=clock).open()
    app = make_app(backend, clock=clock, user="alice")
    result: dict[str, Any] = {}
    painted: list[float] = []
    display = app._display

    def first_frame(screen: Any, renderable: Any) -> None:
        """Note when the first frame showing the queue's rows reaches the terminal."""
        display(screen, renderable)
        if not painted and getattr(screen, "loaded", False) and len(screen.model):
            painted.append(time.perf_counter())
            # CPU of this process (every thread) till then: much less noisy than wall time
            # on a shared machine.
            result["first_screen_cpu_s"] = time.process_time() - cpu_started
            result["rows_at_first_screen"] = len(screen.model)

    app._display = first_frame  # type: ignore[method-assign]
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: bool(painted), "the first screen", 0.005)
        result["first_screen_s"] = painted[0] - started
        await pilot.pause()
        # The old figure: until the process first looks idle after the first load (it
        # includes whatever paging ran before that).
        result["first_idle_s"] = time.perf_counter() - started
        if first_only:
            result["rss_mb"] = rss_mb()
        else:
            await rest(app, pilot, clock, started, moves, opens, rss_before, result)
    await backend.close()
    return result


async def rest(
    app: Any,
    pilot: Any,
    clock: FrozenClock,
    started: float,
    moves: int,
    opens: int,
    rss_before: float,
    result: dict[str, Any],
) -> None:
    """After the first screen: the full load, then cursor, open, tick and memory."""
    from screens.incident import IncidentScreen

    screen = app.screen
    # The pages behind the first screen load in a worker; measure the rest once all are in.
    await wait_for(lambda: getattr(app, "fully_loaded", True), "the full load", 0.01, 300)
    await pilot.pause()
    result["full_load_s"] = time.perf_counter() - started
    result["rows"] = len(screen.model)

    move_times = []
    for n in range(moves):
        key = "j" if (n // 50) % 2 == 0 else "k"
        move_times.append(await answer(pilot, key))
    page_times = [await answer(pilot, "pagedown" if n < 10 else "pageup") for n in range(20)]

    open_times = []
    for _ in range(opens):
        open_times.append(await answer(pilot, "enter", until=IncidentScreen))
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("j")
        await pilot.pause()

    tick_times = []
    tick_cpu = []
    visible = screen.list.size.height
    for _ in range(50):
        clock.advance(1)
        t = time.perf_counter()
        c = time.process_time()
        app.tick()
        for y in range(visible):  # the repaint a tick causes: every visible row
            screen.list.render_line(y)
        tick_cpu.append((time.process_time() - c) * 1000)
        tick_times.append((time.perf_counter() - t) * 1000)
    await pilot.pause()
    # What the running App does for a tick besides: the compositor draws the frame with
    # whatever the tick refreshed (a whole-screen repaint, or only the rows that changed).
    frame_times = []
    frame_cpu = []
    for _ in range(50):
        clock.advance(1)
        t = time.perf_counter()
        c = time.process_time()
        app.tick()
        app.screen._on_timer_update()
        frame_cpu.append((time.process_time() - c) * 1000)
        frame_times.append((time.perf_counter() - t) * 1000)

    result.update(
        cursor_move_p50_ms=statistics.median(move_times),
        cursor_move_p95_ms=p95(move_times),
        page_move_p95_ms=p95(page_times),
        open_incident_p50_ms=statistics.median(open_times),
        open_incident_p95_ms=p95(open_times),
        tick_ms=statistics.median(tick_times),
        tick_p95_ms=p95(tick_times),
        tick_cpu_ms=statistics.median(tick_cpu),
        tick_frame_ms=statistics.median(frame_times),
        tick_frame_cpu_ms=statistics.median(frame_cpu),
        rss_mb=rss_mb(),
        peak_rss_mb=rss_mb("VmHWM"),
        rss_growth_mb=rss_mb() - rss_before,
    )


def child(
    path: Path, moves: int, opens: int, first_only: bool, remote: tuple[str, str] | None
) -> None:
    """Measure one prepared database in this process; print the figures as JSON."""
    clock = FrozenClock(T0)
    print(json.dumps(asyncio.run(measure(path, clock, moves, opens, first_only, remote))))


def build(count: int, folder: Path) -> tuple[Path, float]:
    """The database of ``count`` open in ``folder`` (reused when it is already there)."""
    path = folder / f"console-{count}.db"
    t = time.perf_counter()
    if not path.exists():
        asyncio.run(prepare(path, count, FrozenClock(T0)))
    return path, time.perf_counter() - t


def run_child(
    path: Path, moves: int, opens: int, first_only: bool, remote: bool = False
) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", str(path)]
    args += ["--moves", str(moves), "--opens", str(opens)]
    if first_only:
        args.append("--first-only")
    if not remote:
        return _child(args, path)
    # The console over HTTP: a real incidents serve on the database, a responder's token.
    with tempfile.TemporaryDirectory(prefix="bench-console-serve-") as folder:
        token = asyncio.run(_token(path))
        config = Path(folder) / "config.toml"
        config.write_text("")
        server, url = _serving().start_server(path, config)
        try:
            figures = _child([*args, "--remote-child", url, token], path)
            figures["server_rss_mb"] = _status_mb(server.pid, "VmRSS")
            figures["server_peak_rss_mb"] = _status_mb(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait(timeout=30)
    return figures


def _child(args: list[str], path: Path) -> dict[str, Any]:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the console run on {path.name} failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


async def _token(path: Path) -> str:
    from backends.sqlite.tokens import SqliteTokenStore

    async with SqliteBackend(path) as store:
        _, secret = await SqliteTokenStore(store).create("alice", "responder", "bench")
    return secret


def _serving() -> Any:
    """bench/serving.py (its ``start_server``), loaded by file name."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("serving", _HERE / "serving.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["serving"] = module
    spec.loader.exec_module(module)
    return module


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def medians(count: int, runs: list[dict[str, Any]], prepared: float) -> dict[str, Any]:
    """One row of the table: each figure the median of the runs (``runs`` keeps them all)."""
    row: dict[str, Any] = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    row.update(open=count, prepare_s=prepared, runs=runs)
    return row


def table(rows: list[dict[str, Any]]) -> str:
    """The scaling table: one row per size, each figure with its ratio to the first row."""
    base = rows[0]
    columns = [(name, label) for name, label in COLUMNS if name in base]
    head = "| open | " + " | ".join(label for _, label in columns) + " |"
    lines = [head, "|" + " --- |" * (len(columns) + 1)]
    for row in rows:
        cells = [f"{row['open']:,}"]
        for name, _ in columns:
            value = row[name]
            ratio = value / base[name] if base[name] else float("nan")
            cells.append(f"{value:.3g} ({ratio:.2f}x)" if row is not base else f"{value:.3g}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, action="append", dest="sizes")
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--opens", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (medians)")
    parser.add_argument(
        "--first-only", action="store_true", help="measure only the first screen (and RSS then)"
    )
    parser.add_argument(
        "--keep", type=Path, help="folder to keep the built databases in and reuse them from"
    )
    parser.add_argument(
        "--remote",
        action="store_true",
        help="the console over HTTP: a real incidents serve on each database (its RSS too)",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--remote-child", nargs=2, dest="remote_child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        remote = tuple(args.remote_child) if args.remote_child else None
        child(args.child, args.moves, args.opens, args.first_only, remote)  # type: ignore[arg-type]
        return
    sizes = args.sizes or [1_000, 10_000, 100_000]
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-console-") as folder:
        built = {count: build(count, args.keep or Path(folder)) for count in sizes}
        runs: dict[int, list[dict[str, Any]]] = {count: [] for count in sizes}
        # Sizes take turns run by run, so a burst of load on the shared machine hits each
        # size alike and the ratios stay fair.
        for _ in range(args.repeat):
            for count in sizes:
                path = built[count][0]
                runs[count].append(
                    run_child(path, args.moves, args.opens, args.first_only, args.remote)
                )
    rows = [medians(count, runs[count], built[count][1]) for count in sizes]
    for row in rows:
        print(
            f"{row['open']:>7,} open: "
            + ", ".join(f"{n}={row[n]:.3f}" for n, _ in COLUMNS if n in row)
            + f" (median of {args.repeat}; first screen s: "
            + " ".join(f"{run['first_screen_s']:.3f}" for run in row["runs"])
            + ")"
        )
    last = rows[-1]
    met = {name: last[name] < limit for name, limit in TARGETS.items() if name in last}
    if len(rows) > 1:
        met["first_screen_flat"] = last["first_screen_s"] <= 1.5 * rows[0]["first_screen_s"]
    print()
    print(table(rows))
    print()
    print(
        f"targets at {last['open']:,} open: "
        + ", ".join(f"{name} {'ok' if ok else 'MISSED'}" for name, ok in met.items())
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"rows": rows, "targets": TARGETS, "met": met}, indent=2, default=str) + "\n"
    )
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
