"""Static checks of the production compose stack (no Docker engine on the build machines)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
AIRFLOW_SERVICES = [
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
]
MUST_MATCH = [
    "AIRFLOW__CORE__EXECUTOR",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__CORE__LOAD_EXAMPLES",
    "HKAI_WAREHOUSE_URL",
    "AIRFLOW_CONN_SMTP_DEFAULT",
]


def test_services_present() -> None:
    assert {"postgres", "redis", "mailpit", *AIRFLOW_SERVICES} <= set(COMPOSE["services"])


def test_airflow_environment_is_identical_across_components() -> None:
    envs = {name: COMPOSE["services"][name]["environment"] for name in AIRFLOW_SERVICES}
    for key in MUST_MATCH:
        values = {name: env.get(key) for name, env in envs.items()}
        assert len(set(values.values())) == 1 and None not in values.values(), f"{key} differs: {values}"
    assert envs["airflow-scheduler"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_referenced_files_exist() -> None:
    for name, service in COMPOSE["services"].items():
        if service.get("build"):
            context = service["build"] if isinstance(service["build"], str) else service["build"]["context"]
            assert (REPO / context / "Dockerfile").exists(), name
        for volume in service.get("volumes", []):
            host = volume.split(":")[0]
            if host.startswith((".", "/")):
                assert (REPO / host).exists(), f"{name}: {host} does not exist"


def test_every_variable_is_documented_and_no_secret_is_literal() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)\}", text))  # variables without a default ($$ = literal)
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.M))
    assert used <= documented, f"undocumented: {used - documented}"
    for line in text.splitlines():
        if re.search(r"(PASSWORD|SECRET|FERNET_KEY)\s*:", line):
            assert "${" in line, f"literal secret: {line.strip()}"
    assert not re.search(r"://\w+:(?!\$\{)[^@/]+@", text), "a URL carries a literal password"


def test_dockerfile_extends_airflow_33_and_mailpit_catches_digests() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM apache/airflow:3\.3\.\d", dockerfile, re.M)
    ports = COMPOSE["services"]["mailpit"]["ports"]
    assert any("1025" in p for p in ports) and any("8025" in p for p in ports)
    smtp = COMPOSE["services"]["airflow-worker"]["environment"]["AIRFLOW_CONN_SMTP_DEFAULT"]
    assert '"host": "mailpit"' in smtp and '"port": 1025' in smtp
    init = (REPO / "docker" / "init-warehouse.sh").read_text()
    assert "CREATE DATABASE warehouse" in init
