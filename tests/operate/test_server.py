import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.core.errors import ValleyError
from flows.operate.server import LocalServer, find_free_port, is_healthy, stop_server, wait_for_health


def test_wait_for_health_gives_up_after_the_timeout() -> None:
    url = f"http://127.0.0.1:{find_free_port()}/api"
    assert not is_healthy(url)
    started = time.monotonic()
    with pytest.raises(ValleyError, match=r"did not answer /health within 1 s"):
        wait_for_health(url, timeout=1)
    assert time.monotonic() - started < 10


def test_wait_for_health_fails_at_once_when_the_server_exited() -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    process.wait(timeout=30)
    with pytest.raises(ValleyError, match=r"exited with status 3 while starting"):
        wait_for_health(f"http://127.0.0.1:{find_free_port()}/api", timeout=60, process=process)


def test_stop_server_kills_a_server_that_ignores_sigterm(tmp_path: Path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True)
    assert process.stdout is not None and process.stdout.readline() == b"ready\n"
    stop_server(LocalServer(process, find_free_port(), tmp_path / "server.log"), timeout=1)
    assert process.returncode == -9
    process.stdout.close()
