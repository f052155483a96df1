"""Where flows run when no Prefect server is configured: a temporary local server that dies with its run.

Prefect's own temporary server outlives a run killed with SIGKILL (its atexit hook never runs), and the runs
that process was executing stay "Running" in the project's Prefect database forever. Here the CLI starts the
same server itself, with the kernel told to kill it when its parent dies (Linux's PR_SET_PDEATHSIG), and
records each server and each flow run by pid under PREFECT_HOME: the next run stops a server a dead run left
(on systems without the death signal) and marks the flow runs of dead processes Crashed. The server starts
first thing, before Prefect is imported, and starts while the run imports what it needs (two processes, two
cores): it is ready about when the run is.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.core.errors import ValleyError
from flows.operate.server import find_free_port, recorded_server, wait_for_health
from flows.publish.published import pid_alive

SERVER_APP = "prefect.server.api.server:create_app"
# block types are registered by a full `prefect server start` (`valley serve`, `make server`); a temporary server
# serves runs that use no block, and checking the registration imports every Prefect collection (prefect_dask)
# at each start: ~0.4 s of its start-up, which a run waits for
TEMPORARY_SERVER_SETTINGS = {"PREFECT_API_BLOCKS_REGISTER_ON_START": "false",
                             "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false"}  # fmt: skip
PR_SET_PDEATHSIG = 1


def prefect_home() -> Path:
    from prefect.settings import PREFECT_HOME

    return Path(PREFECT_HOME.value())


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def stop_orphaned_servers(home: Path) -> list[int]:
    """Servers recorded by runs that died without stopping them (their owner pid is gone)."""
    stopped = []
    for record in (home / "valley-servers").glob("*.json"):
        with contextlib.suppress(OSError, ValueError):
            entry = json.loads(record.read_text(encoding="utf-8"))
            if pid_alive(entry["owner"]):
                continue
            if pid_alive(entry["server"]) and SERVER_APP in _command_line(entry["server"]):
                os.kill(entry["server"], signal.SIGKILL)
                stopped.append(entry["server"])
            record.unlink()
    return stopped


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return SERVER_APP  # no /proc: trust the record


@dataclass(frozen=True)
class StartingServer:
    """A temporary server's process, started and recorded but not yet known to answer."""

    process: subprocess.Popen[bytes]
    port: int
    home: Path
    record: Path

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"


def server_log(home: Path) -> Path:
    return home / "valley-servers" / "temporary-server.log"


def start_temporary_server(home: Path, environment: dict[str, str]) -> StartingServer:
    """Start the server process and record it under `home`; it dies with this process (Linux) or is stopped by
    the next run, and answers a few seconds later."""
    (home / "valley-servers").mkdir(parents=True, exist_ok=True)
    stop_orphaned_servers(home)
    port = find_free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", SERVER_APP, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "error", "--lifespan", "on"]
    environment = {**environment, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
                   "PREFECT__SERVER_FINAL": "1", **TEMPORARY_SERVER_SETTINGS}  # fmt: skip
    # its log goes to a file: what a server says while it is stopped (a flush cut short) is nothing a user can act on
    with server_log(home).open("ab") as log:
        process = subprocess.Popen(command, env=environment, preexec_fn=_die_with_parent, stdout=log, stderr=log,
                                   stdin=subprocess.DEVNULL)  # fmt: skip
    record = home / "valley-servers" / f"{process.pid}.json"
    record.parent.mkdir(exist_ok=True)
    record.write_text(json.dumps({"server": process.pid, "owner": os.getpid(), "port": port}), encoding="utf-8")
    return StartingServer(process, port, home, record)


def stop_temporary_server(server: StartingServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    server.record.unlink(missing_ok=True)


@contextlib.contextmanager
def temporary_server(
    preload: Callable[[], object] | None = None, started: StartingServer | None = None
) -> Iterator[str]:
    """A Prefect API for this process only, on a free loopback port; stopped on exit, killed with us. `preload`
    (the run's imports) runs while the server starts: the server is another process, on the other core."""
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, get_current_settings

    if started is None:
        environment = {**os.environ, **get_current_settings().to_environment_variables(exclude_unset=True)}
        started = start_temporary_server(prefect_home(), environment)
    try:
        if preload is not None:
            preload()
        try:
            wait_for_health(started.api_url, float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()),
                            started.process)  # fmt: skip
        except ValleyError as error:
            raise ValleyError(f"{error} (its log: {server_log(started.home)})") from error
        _temporary_api.append(started.api_url)
        yield started.api_url
    finally:
        stop_temporary_server(started)


def start_server_early() -> StartingServer | None:
    """A temporary server started before Prefect is imported (the import takes a second; the server's start takes
    several), when the environment names no API and no project server is up. Prefect's settings decide later:
    a profile or an in-process setting may still name an API, and then this server is stopped unused."""
    home = os.environ.get("PREFECT_HOME")
    if not home or os.environ.get("PREFECT_API_URL") or recorded_server(Path(home)) or api_in_files(Path(home)):
        return None
    return start_temporary_server(Path(home).expanduser(), dict(os.environ))


API_SETTING = re.compile(r"PREFECT_API_URL|^\s*\[(?:tool\.prefect\.)?api\]|^\s*api\s*[.=]", re.MULTILINE)


def api_in_files(home: Path) -> bool:
    """Whether a Prefect settings file may name an API: a guess, which only decides whether to start a server
    before Prefect reads its settings (a wrong one costs a server started and stopped, or a second of waiting)."""
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH", home.expanduser() / "profiles.toml"))
    for path in (profiles, Path(".env"), Path("prefect.toml"), Path("pyproject.toml")):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            if API_SETTING.search(path.read_text(encoding="utf-8")):
                return True
    return False


@contextlib.contextmanager
def prefect_api(preload: Callable[[], object] | None = None) -> Iterator[str]:
    """The configured Prefect API, or a temporary server when none is; dead runs' leftovers are dealt with.
    `preload` runs while a temporary server starts (with a configured API there is nothing to wait for)."""
    early = start_server_early()
    try:
        from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        configured = PREFECT_API_URL.value()
        if not configured and (configured := recorded_server(prefect_home())):
            print(f"valley: using the project's Prefect server at {configured}", file=sys.stderr)
        if early is not None and (configured or early.home.resolve() != prefect_home().resolve()):
            stop_temporary_server(early)  # the settings name another API or home than the environment did
            early = None
    except BaseException:
        if early is not None:
            stop_temporary_server(early)
        raise
    # no flow-run heartbeats: they serve automations that notice a run has stopped beating, and valley marks its
    # dead runs Crashed itself (track_flow_run); Prefect joins the heartbeat thread, asleep in 1 s steps, at the
    # end of every flow run (up to 1 s)
    updates: dict[Any, Any] = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    if configured:  # set, or the project's own server (`valley serve`, `make server`) is up: no temporary one
        with temporary_settings(updates={**updates, PREFECT_API_URL: configured}):
            mark_dead_runs_crashed(prefect_home())
            yield str(configured)
        return
    with temporary_server(preload, early) as api_url, temporary_settings(updates={**updates, PREFECT_API_URL: api_url}):
        mark_dead_runs_crashed(prefect_home())
        try:
            yield api_url
        finally:
            flush_run_logs()


def flush_run_logs() -> None:
    """Send the run's last log lines and events while the temporary server still listens (Prefect would at exit,
    when the server is gone)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=5)
    EventsWorker.drain_all(timeout=5)


# the API of this process's temporary server: every temporary server of a project serves the same database
# (PREFECT_HOME), so its runs are recorded as "temporary", not by a port that changes with each run
_temporary_api: list[str] = []


def server_identity(api_url: str | None) -> str:
    return "temporary" if api_url and api_url in _temporary_api else str(api_url)


def read_record(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):  # being written by a live run: not a dead one
        return {}


def current_run_id() -> str:
    """The Prefect flow-run id, which names the run in the history too; a fresh id outside a flow run."""
    from prefect.runtime import flow_run

    return str(flow_run.get_id() or uuid.uuid4())


@contextlib.contextmanager
def track_flow_run() -> Iterator[None]:
    """Record the current flow run with this process's pid while it runs, so a later run can tell it died."""
    from prefect.runtime import flow_run

    run_id = flow_run.get_id()
    if not run_id:
        yield
        return
    record = prefect_home() / "valley-runs" / f"{run_id}.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    from prefect.settings import PREFECT_API_URL

    entry = {"flow_run_id": run_id, "pid": os.getpid(), "server": server_identity(PREFECT_API_URL.value())}
    record.write_text(json.dumps(entry), encoding="utf-8")
    try:
        yield
    finally:
        record.unlink(missing_ok=True)


def mark_dead_runs_crashed(home: Path) -> list[str]:
    """Flow runs whose process died mid-run are set Crashed on the server they reported to (records of runs on
    another server wait for a run that talks to that one)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL
    from prefect.states import Crashed

    crashed: list[str] = []
    server = server_identity(PREFECT_API_URL.value())
    records = [(path, read_record(path)) for path in (home / "valley-runs").glob("*.json")]
    dead = [(path, entry) for path, entry in records if entry.get("server") == server and not pid_alive(entry["pid"])]
    if not dead:
        return crashed
    with get_client(sync_client=True) as client:
        for path, entry in dead:
            with contextlib.suppress(ObjectNotFound):  # deleted from the server meanwhile
                state = client.read_flow_run(entry["flow_run_id"]).state
                if state is not None and not state.is_final():
                    message = f"the process running it (pid {entry['pid']}) died before the run finished"
                    client.set_flow_run_state(entry["flow_run_id"], Crashed(message=message), force=True)
                    crashed.append(entry["flow_run_id"])
            path.unlink(missing_ok=True)
    return crashed
