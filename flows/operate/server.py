"""A local Prefect server's life: start it on a free loopback port, wait until it answers, stop it."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from flows.core.errors import ValleyError

HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class LocalServer:
    """A running `prefect server start`, in its own process group so a terminal's Ctrl-C reaches us first."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"


def find_free_port() -> int:
    """A port nothing listens on now; the server binds it a moment later (a small race, reported if lost)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def is_healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def read_log_tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    return "\n".join(text.splitlines()[-lines:])


def wait_for_health(api_url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll /api/health until it answers; fail as soon as the server process has exited."""
    deadline = time.monotonic() + timeout
    while not is_healthy(api_url):
        if process is not None and process.poll() is not None:
            raise ValleyError(f"the Prefect server at {api_url} exited with status {process.returncode} while starting")
        if time.monotonic() > deadline:
            raise ValleyError(f"the Prefect server at {api_url} did not answer /health within {timeout:.0f} s")
        time.sleep(0.025)  # a run waits on this at every start: poll often (a refused connection costs ~nothing)


def start_server(
    home: Path, env: Mapping[str, str] | None = None, port: int | None = None, timeout: float = STARTUP_TIMEOUT_SECONDS
) -> LocalServer:
    """Start `prefect server start` with its database and log under `home` (PREFECT_HOME) and wait for health."""
    home.mkdir(parents=True, exist_ok=True)
    port = port or find_free_port()
    log = home / "server.log"
    environment = {**(env if env is not None else os.environ), "PREFECT_HOME": str(home)}
    environment.pop("PREFECT_API_URL", None)
    # the UI asks /ui-settings where the API is; unset, it answers the default port 4200, not this one
    environment["PREFECT_SERVER_UI_API_URL"] = f"http://{HOST}:{port}/api"
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment,
            start_new_session=True,
        )  # fmt: skip
    server = LocalServer(process, port, log)
    try:
        wait_for_health(server.api_url, timeout, process)
    except BaseException as error:  # Ctrl-C while waiting too: the server must not outlive us
        stop_server(server)
        if isinstance(error, ValleyError):
            raise ValleyError(f"{error}; the end of its log ({log}):\n{read_log_tail(log)}") from None
        raise
    record_server(home, server.api_url, process.pid)
    return server


RECORD = "project-server.json"


def record_server(home: Path, api_url: str, pid: int) -> Path:
    """Tell later `valley run`/`valley validate` in this project that a server is up (they use it instead of
    starting a temporary one); a record whose pid is gone or whose server does not answer is ignored."""
    record = home / RECORD
    record.write_text(json.dumps({"api_url": api_url, "pid": pid}), encoding="utf-8")
    return record


def recorded_server(home: Path) -> str | None:
    """The API of the project's running server, when one is recorded, alive and healthy."""
    try:
        entry = json.loads((home / RECORD).read_text(encoding="utf-8"))
        os.kill(int(entry["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(entry["api_url"]) if is_healthy(str(entry["api_url"])) else None


def stop_server(server: LocalServer, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM the server's process group; SIGKILL it if the server has not exited after `timeout`."""
    record = server.log.parent / RECORD
    with suppress(OSError, ValueError):
        if json.loads(record.read_text(encoding="utf-8")).get("pid") == server.process.pid:
            record.unlink()
    with suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


@contextmanager
def running_server(home: Path, env: Mapping[str, str] | None = None, port: int | None = None) -> Iterator[LocalServer]:
    """A local Prefect server for the duration of the block, stopped however the block ends."""
    server = start_server(home, env, port)
    try:
        yield server
    finally:
        stop_server(server)


def main(argv: list[str] | None = None) -> int:
    """`python -m flows.operate.server wait URL`: block until a Prefect API answers (for `make server`)."""
    parser = argparse.ArgumentParser(prog="python -m flows.operate.server")
    parser.add_argument("action", choices=["wait"])
    parser.add_argument("api_url", help="for example http://127.0.0.1:4200/api")
    parser.add_argument("--timeout", type=float, default=STARTUP_TIMEOUT_SECONDS)
    parser.add_argument("--record", type=int, metavar="PID", help="record the server (its pid) for `valley run`")
    arguments = parser.parse_args(argv)
    try:
        wait_for_health(arguments.api_url.rstrip("/"), arguments.timeout)
    except ValleyError as error:
        print(error, file=sys.stderr)
        return 1
    if arguments.record:
        record_server(Path(os.environ.get("PREFECT_HOME", ".prefect")), arguments.api_url.rstrip("/"), arguments.record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
