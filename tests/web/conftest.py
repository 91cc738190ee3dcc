"""Real Airflow on loopback, started the way `make ui` starts it (web/launch.py: api-server,
scheduler, dag-processor, triggerer, with the HK AI Trends plugin), over a warehouse built from the
snapshot's real saved pages (four sources, English and Chinese) by the real ingest, plus a rendered
digest in the outbox. Started once for tests/web and stopped with Ctrl-C (SIGINT) at the end, also
on failure; a process left behind fails the run."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from tests.paths import REPO, SNAPSHOT

# Real saved pages of these sources hold relevant articles in English and Traditional Chinese.
SOURCES = ["gia_en", "gia_zh", "news_gov_hk", "the_standard"]
USER, PASSWORD = "hkai-tester", "a-test-password"
AIRFLOW = Path(sys.executable).parent / "airflow"
STARTUP_TIMEOUT_S = 120
STARTUP_ROWS: list[tuple[str, float]] = []  # (phase, seconds)
LATENCY_ROWS: list[tuple[str, float, float]] = []  # (page, first or slowest ms, median ms)


@dataclass
class Ui:
    base: str  # http://127.0.0.1:<port>
    token: str
    home: Path
    env: dict[str, str]  # Airflow's and the tracker's settings, as `make ui` got them
    banner: str  # what `make ui` printed
    components: list[psutil.Process]  # the processes it started

    def client(self, authenticated: bool = True) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if authenticated else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30, follow_redirects=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def airflow_env(home: Path, hkai: dict[str, str]) -> dict[str, str]:
    """Airflow's environment for the test server: nothing inherited from a developer's AIRFLOW_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}), encoding="utf-8")
    (home / "dags").mkdir(exist_ok=True)
    env.update(hkai)
    env.update(
        {
            "AIRFLOW_HOME": str(home / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API_AUTH__JWT_SECRET": "hkai-web-test-secret-" + "x" * 16,
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "PATH": os.pathsep.join([str(AIRFLOW.parent), env.get("PATH", "")]),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        }
    )
    return env


def build_warehouse() -> None:
    """The real ingest over the snapshot's saved pages, then a rendered digest for the latest week."""
    from hkai import ingest
    from hkai.weekly_digest import render_week

    result = ingest.run_all("web-test-run", SOURCES)
    assert result["load"]["relevant"] > 0, result["load"]
    rendered = render_week()
    assert rendered["digests"], rendered


def start_like_make_ui(env: dict[str, str], port: int) -> tuple[subprocess.Popen[str], str]:
    """`make ui`'s launcher on `port`; returns it once it has printed its banner, and the banner."""
    launcher = subprocess.Popen(
        [sys.executable, "-m", "web.launch"],
        cwd=REPO,
        env={**env, "HKAI_UI_PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert launcher.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not any("Press Ctrl-C" in line for line in lines):
        line = launcher.stdout.readline()
        lines.append(line)
        if (not line and launcher.poll() is not None) or time.monotonic() > deadline:
            launcher.kill()
            pytest.fail("make ui's launcher did not start Airflow:\n" + "".join(lines)[-4000:])
    return launcher, "".join(lines)


def stop_like_ctrl_c(launcher: subprocess.Popen[str], started: list[psutil.Process]) -> None:
    """Ctrl-C (SIGINT) to the launcher: it must exit cleanly and leave no process it started behind."""
    launcher.send_signal(signal.SIGINT)
    try:
        output, _ = launcher.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        for process in [*started, psutil.Process(launcher.pid)]:
            with contextlib.suppress(psutil.Error):
                process.kill()
        pytest.fail("make ui's launcher did not stop within 90 s of Ctrl-C")
    alive = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    assert launcher.returncode == 0 and "Stopped." in output, output
    assert alive == [], "left running after Ctrl-C"


@pytest.fixture(scope="package")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    home = tmp_path_factory.mktemp("web")
    hkai = {
        "HKAI_DATA_DIR": str(home / "data"),
        "HKAI_OUT_DIR": str(home / "out"),
        "HKAI_CRAWL_MODE": "replay",
        "HKAI_SNAPSHOT_DIR": str(SNAPSHOT),
        "HKAI_DIGEST_SCREENSHOT": "0",
    }
    port = free_port()
    env = airflow_env(home, hkai)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in hkai.items():
            mp.setenv(name, value)
        for name in ("HKAI_WAREHOUSE_URL", "HKAI_REPLAY_URL", "AIRFLOW_CONN_SMTP_DEFAULT"):
            mp.delenv(name, raising=False)
        # Airflow's metadata database migrates while the warehouse is built (2 cores).
        with (home / "migrate.log").open("wb") as migrate_log:
            migrate = subprocess.Popen(
                [str(AIRFLOW), "db", "migrate"], env=env, stdout=migrate_log, stderr=subprocess.STDOUT
            )
            began = time.monotonic()
            build_warehouse()
            STARTUP_ROWS.append(
                ("warehouse built by the real ingest + digest render", time.monotonic() - began)
            )
            assert migrate.wait(timeout=180) == 0, (home / "migrate.log").read_text()[-4000:]
            STARTUP_ROWS.append(("... and Airflow's db migrate (in parallel)", time.monotonic() - began))
        # Airflow runs exactly as `make ui` runs it: api-server, scheduler, dag-processor, triggerer.
        began = time.monotonic()
        launcher, banner = start_like_make_ui(env, port)
        STARTUP_ROWS.append(
            ("make ui: launcher start to banner (api-server healthy)", time.monotonic() - began)
        )
        started = psutil.Process(launcher.pid).children(recursive=True)
        try:
            base = f"http://127.0.0.1:{port}"
            answer = httpx.post(
                f"{base}/auth/token", json={"username": USER, "password": PASSWORD}, timeout=30
            )
            assert answer.status_code == 201, answer.text
            yield Ui(
                base=base,
                token=answer.json()["access_token"],
                home=home,
                env=env,
                banner=banner,
                components=psutil.Process(launcher.pid).children(),
            )
        finally:
            began = time.monotonic()
            stop_like_ctrl_c(launcher, started)
            STARTUP_ROWS.append(("make ui: Ctrl-C to every process stopped", time.monotonic() - began))


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    if STARTUP_ROWS:
        terminalreporter.section("tests/web fixture phases")
        for phase, seconds in STARTUP_ROWS:
            terminalreporter.write_line(f"{seconds:6.1f} s  {phase}")
    if LATENCY_ROWS:
        terminalreporter.section("HK AI Trends page latency (real api-server, test warehouse)")
        terminalreporter.write_line("| page | first request, or slowest page (ms) | median (ms) |")
        terminalreporter.write_line("| --- | --- | --- |")
        for path, first, median in LATENCY_ROWS:
            terminalreporter.write_line(f"| `{path}` | {first:.0f} | {median:.0f} |")
