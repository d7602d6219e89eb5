"""The dashboard served as in production (gunicorn, several workers), and HTTP
clients that sign in and call callbacks the way the browser does. Used by the
production test and by `make bench`.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.dash_calls import body

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_command(port: int, workers: int, app: str = "app:server") -> list[str]:
    """The production command of the README, on a given port."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        app,
    ]


@contextmanager
def gunicorn(
    environment: dict, workers: int = 3, app: str = "app:server"
) -> Iterator[str]:
    """Start gunicorn with these settings; yield its base URL; stop it."""
    port = free_port()
    env = {**os.environ, **environment}
    process = subprocess.Popen(
        gunicorn_command(port, workers, app),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {process.stderr.read()[-2000:]}")
        try:
            if requests.get(url + "/login", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer at {url} within {seconds} s")


class Client:
    """A signed-in HTTP session that calls callbacks like Dash's renderer."""

    def __init__(self, url: str, username: str, password: str):
        self.url = url
        self.session = requests.Session()
        page = self.session.get(url + "/login", timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        answer = self.session.post(
            url + "/login",
            data={"username": username, "password": password, "csrf_token": token},
            headers={"Origin": url},
            allow_redirects=False,
            timeout=30,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"sign-in failed: {answer.status_code}")
        self.session.get(url + "/", timeout=30)  # the page sets the CSRF cookie
        self.deps = self.session.get(url + "/_dash-dependencies", timeout=30).json()

    def call(self, output: str, values: dict, state: dict | None = None):
        """POST one callback; the response (status, JSON, headers)."""
        return self.session.post(
            self.url + "/_dash-update-component",
            json=body(self.deps, output, values, state),
            headers={
                "Origin": self.url,
                "X-CSRFToken": self.session.cookies.get("_csrf_token", ""),
                "Accept-Encoding": "br, gzip",
            },
            timeout=60,
        )
