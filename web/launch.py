"""`make ui`: Airflow for the embedded default (api-server, scheduler, dag-processor, triggerer) on
the demo warehouse, sized for a 2-core machine, with the HK AI Trends pages at /hkai/.

Each component is its own process group, so Ctrl-C reaches this launcher only and it stops them
in order (SIGTERM, then SIGKILL after a grace period): nothing it started outlives it. Output goes
to one log per component under $AIRFLOW_HOME/logs/ui/, and the terminal shows where to log in.
Login is Airflow's own auth manager: with the simple auth manager, the generated admin password
stays in the file Airflow writes it to.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from config.settings import REPO_ROOT, full_environment, get_settings

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
# Airflow's log servers listen on every interface and a fixed port; on one machine the api-server
# reads task logs from the files directly, so they are not started.
COMPONENT_ARGS = {"scheduler": ["--skip-serve-logs"], "triggerer": ["--skip-serve-logs"]}
HOST = "127.0.0.1"
READY_TIMEOUT_S = 180
STOP_GRACE_S = 20
PR_SET_PDEATHSIG = 1  # prctl(2)


def airflow_overrides(port: int) -> dict[str, str]:
    """Airflow settings for one person on 2 cores (Airflow's defaults suit a server: 32 task slots,
    2 parsing processes, several API workers), listening on loopback only."""
    return {
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{port}/execution/",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__SCHEDULER__PARSING_CLEANUP_INTERVAL": "300",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "PYTHONPATH": str(REPO_ROOT),  # the plugin imports the `web` package from the checkout
    }


@dataclass
class Component:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


def airflow_home() -> Path:
    from airflow.configuration import AIRFLOW_HOME

    return Path(AIRFLOW_HOME)


def password_file() -> str:
    """Where the simple auth manager keeps the generated passwords (Airflow's own setting)."""
    with warnings.catch_warnings():  # an import-time deprecation notice from Starlette is noise here
        warnings.simplefilter("ignore")
        from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    return SimpleAuthManager.get_generated_password_file()


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it if the launcher dies without cleaning up
    (SIGKILL, a crash), so no component outlives `make ui`."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(name: str, env: dict[str, str], logs: Path) -> Component:
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "airflow"), name, *COMPONENT_ARGS.get(name, [])],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped as a whole, never by the terminal
            preexec_fn=_die_with_parent,
        )
    return Component(name, process, log)


def stop(components: list[Component]) -> None:
    """SIGTERM every component's process group, wait, then SIGKILL what is left."""
    for component in components:
        if component.process.poll() is None:
            _signal_group(component.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for component in components:
        try:
            component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _signal_group(component.process.pid, signal.SIGKILL)  # children left behind by a clean exit too
        component.process.wait()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/api/v2/monitor/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def warehouse_note() -> str | None:
    """A hint when the warehouse is empty (the pages would be too)."""
    from sqlalchemy import func, inspect, select

    from warehouse.db import get_engine
    from warehouse.models import Article

    engine = get_engine()
    if not inspect(engine).has_table("articles"):
        return "The warehouse is empty: run `make demo` first to load the bundled snapshot."
    with engine.connect() as conn:
        if not conn.execute(select(func.count()).select_from(Article)).scalar_one():
            return "The warehouse has no articles yet: run `make demo` first."
    return None


def run(port: int) -> int:
    """Start the components, say where to log in, and wait for Ctrl-C (or a component's death)."""
    logs = airflow_home() / "logs" / "ui"
    logs.mkdir(parents=True, exist_ok=True)
    env = full_environment(airflow_overrides(port))
    # Ctrl-C and SIGTERM both stop everything; SIGINT is set explicitly because a shell starts a
    # background job with it ignored, and Python then keeps it ignored.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    components: list[Component] = []
    status = 0
    try:
        # The api-server first: on 2 cores the UI is up sooner when it does not start alongside the rest.
        components.append(start(COMPONENTS[0], env, logs))
        print(f"Starting Airflow ({', '.join(COMPONENTS)}); logs in {logs}/", flush=True)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not serving(port):
            dead = [c for c in components if c.process.poll() is not None]
            if dead or time.monotonic() > deadline:
                culprit = dead[0] if dead else components[0]
                print(f"Airflow {culprit.name} did not start; the end of {culprit.log}:", file=sys.stderr)
                print(culprit.log.read_text(errors="replace")[-3000:], file=sys.stderr)
                return 1
            time.sleep(0.5)
        for name in COMPONENTS[1:]:
            components.append(start(name, env, logs))
        url = f"http://{HOST}:{port}"
        note = warehouse_note()
        print(
            "\n".join(
                [
                    "",
                    f"HK AI Trends: {url}/hkai/   (Airflow UI: {url}/ , menu Browse → HK AI Trends)",
                    f"Log in as admin; the password is in {password_file()}",
                    *([note] if note else []),
                    "Press Ctrl-C to stop the api-server, scheduler, dag-processor and triggerer.",
                    "",
                ]
            ),
            flush=True,
        )
        while True:
            dead = [c for c in components if c.process.poll() is not None]
            if dead:
                print(
                    f"Airflow {dead[0].name} stopped (exit {dead[0].process.returncode}); see {dead[0].log}"
                )
                status = 1
                break
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping Airflow...", flush=True)
    finally:
        stop(components)
    print("Stopped.", flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web.launch", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=None, help="default: HKAI_UI_PORT (8080)")
    args = parser.parse_args(argv)
    return run(args.port or get_settings().ui_port)


if __name__ == "__main__":
    sys.exit(main())
