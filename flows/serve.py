"""`valley serve`: both flows on cron schedules, served from this process against a local Prefect server."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from prefect.deployments.runner import RunnerDeployment
from prefect.runner import Runner
from prefect.server.schemas.schedules import CronSchedule
from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

from flows.alerts import alert_address, ensure_alerts
from flows.core.errors import ValleyError
from flows.etl import etl
from flows.operate.server import LocalServer, running_server
from flows.revalidate import revalidate

TIMEZONE = "UTC"
SHOWN_RUNS = 2
ETL_DEPLOYMENT = "etl"
VALIDATE_DEPLOYMENT = "validate"


@dataclass(frozen=True)
class Schedule:
    """A cron string and where it was set (an option or a pyproject.toml key), for error messages."""

    cron: str
    source: str


def check_cron(schedule: Schedule) -> None:
    """Refuse a cron string the Prefect server would refuse, before starting anything."""
    try:
        CronSchedule(cron=schedule.cron, timezone=TIMEZONE)
    except ValueError as error:
        reason = str(error).splitlines()[-1].strip()
        raise ValleyError(f"{schedule.source}: {schedule.cron!r} is not a valid cron schedule ({reason}).") from None


def next_run_times(cron: str, count: int = SHOWN_RUNS, after: dt.datetime | None = None) -> list[dt.datetime]:
    """The next `count` times `cron` fires after `after` (default now), by the Prefect server's own calendar."""
    dates = asyncio.run(CronSchedule(cron=cron, timezone=TIMEZONE).get_dates(n=count, start=after))
    return [dt.datetime.fromtimestamp(date.timestamp(), dt.UTC) for date in dates]


async def build_deployments(
    root: Path, etl_schedule: Schedule, validate_schedule: Schedule, max_age_hours: float
) -> list[RunnerDeployment]:
    """Both flows as deployments on the project at `root`; a schedule paused by the last shutdown resumes."""
    return [
        await etl.ato_deployment(
            name=ETL_DEPLOYMENT,
            cron=etl_schedule.cron,
            parameters={"root": str(root)},
            paused=False,
            concurrency_limit=1,
        ),
        await revalidate.ato_deployment(
            name=VALIDATE_DEPLOYMENT,
            cron=validate_schedule.cron,
            parameters={"root": str(root), "max_age_hours": max_age_hours},
            paused=False,
            concurrency_limit=1,
        ),
    ]


def format_start(server: LocalServer, schedules: dict[str, str], for_seconds: float | None, alerts: str = "off") -> str:
    """What `valley serve` prints once it serves: where the server is, when each deployment runs next, alerts."""
    lines = [
        f"valley serve: serving {len(schedules)} deployments on a local Prefect server",
        f"  server:    {server.url} (UI and API; pid {server.process.pid}; log {server.log})",
    ]
    for name, cron in schedules.items():
        times = ", ".join(f"{time:%Y-%m-%d %H:%M} {TIMEZONE}" for time in next_run_times(cron))
        lines.append(f"  {name}: cron '{cron}', next runs {times}")
    lines.append(f"  alerts:    {alerts}")
    lines.append(f"  stopping:  after {for_seconds:g} s" if for_seconds is not None else "  stopping:  Ctrl-C")
    return "\n".join(lines)


async def serve_deployments(
    deployments: Sequence[RunnerDeployment], start_message: str, for_seconds: float | None
) -> None:
    """Register the deployments, print the message, and run scheduled flow runs one at a time until told to stop."""
    runner = Runner(name="valley-serve", limit=1, pause_on_shutdown=True)
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []  # a reference, so the task is not collected before it runs

    async def stop() -> None:
        while not runner.started and not runner.stopping:
            await asyncio.sleep(0.1)
        if runner.started and not runner.stopping:
            await runner.astop()

    def request_stop(*_: object) -> None:
        stopping.append(loop.create_task(stop()))

    # Ctrl-C and SIGTERM both stop gracefully: schedules paused, runs cancelled, then the server stopped. The
    # runner's own SIGTERM handler (installed by start) would exit at once if it came before the runner started.
    runner.handle_sigterm = lambda *_: loop.call_soon_threadsafe(request_stop)  # type: ignore[method-assign,assignment]
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, request_stop)
    if for_seconds is not None:
        loop.call_later(for_seconds, request_stop)
    for deployment in deployments:
        await runner.aadd_deployment(deployment)
    print(start_message, flush=True)
    await runner.start()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve_project(
    root: Path, etl_schedule: Schedule, validate_schedule: Schedule, max_age_hours: float, for_seconds: float | None
) -> None:
    """Start a local server under PREFECT_HOME, serve both flows on it, and stop the server however serving ends."""
    for schedule in (etl_schedule, validate_schedule):
        check_cron(schedule)
    address = alert_address(root)  # a bad address stops here, before anything starts
    deployments = asyncio.run(build_deployments(root, etl_schedule, validate_schedule, max_age_hours))
    schedules = {
        f"{etl.name}/{ETL_DEPLOYMENT}": etl_schedule.cron,
        f"{revalidate.name}/{VALIDATE_DEPLOYMENT}": validate_schedule.cron,
    }
    # until serving installs its handlers, SIGTERM unwinds like Ctrl-C, so the server is still stopped
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with running_server(Path(PREFECT_HOME.value())) as server:
            # flow runs are child processes: they find the server through the environment
            os.environ["PREFECT_API_URL"] = server.api_url
            try:
                with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
                    alerts = ensure_alerts(address, max_age_hours)
                    start_message = format_start(server, schedules, for_seconds, alerts.line())
                    asyncio.run(serve_deployments(deployments, start_message, for_seconds))
            finally:
                # the server is stopped next: a second Ctrl-C must not cut that short and leave it running
                for stop_signal in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(stop_signal, signal.SIG_IGN)
    except KeyboardInterrupt:
        pass
    print("valley serve: stopped; the local Prefect server is shut down", flush=True)
