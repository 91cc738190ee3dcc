"""Static checks of docker-compose.yml, the Dockerfile and .env.example.

The build machines have no Docker engine, so the stack is never started in CI. These tests catch the
mistakes that break it anyway: a component with a different JWT secret or executor, a mounted file that
does not exist, a variable missing from .env.example, a secret written into the compose file.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from tests.paths import REPO

COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "Dockerfile"

EXPECTED_SERVICES = {
    "postgres",
    "redis",
    "mailpit",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
}
# Airflow components disagree silently (tasks fail to authenticate, or never run) unless these match.
MUST_MATCH = (
    "AIRFLOW__CORE__EXECUTOR",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__CORE__LOAD_EXAMPLES",
    "AIRFLOW__CORE__DAGS_FOLDER",
    "AIRFLOW__CORE__PLUGINS_FOLDER",
    "AIRFLOW_CONN_HKAI_WAREHOUSE",
    "AIRFLOW_CONN_SMTP_DEFAULT",
    "HKAI_WAREHOUSE_URL",
)
FIXED_VALUES = {
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://airflow-apiserver:8080/execution/",
    "AIRFLOW__CORE__DAGS_FOLDER": "/opt/airflow/dags",
    "AIRFLOW__CORE__PLUGINS_FOLDER": "/opt/airflow/plugins",
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$|REDISCLI_AUTH")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; `$${...}` is a literal `$`.
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
REFERENCE_ONLY = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*)?\}$")
URL_PASSWORD = re.compile(r"://[^:/@\s]*:([^@\s]*)@")


def compose() -> dict[str, Any]:
    """The compose file as PyYAML reads it; `<<: *anchor` merges are resolved by the loader."""
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def airflow_services() -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in services().items() if name.startswith("airflow-")}


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, whether written as a mapping or as a list of KEY=VALUE."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def container_ports(service: dict[str, Any]) -> set[int]:
    """Container-side ports from `ports` (short or long syntax) and `expose`."""
    found: set[int] = set()
    for port in service.get("ports", []):
        target = port["target"] if isinstance(port, dict) else str(port).split(":")[-1]
        found.add(int(str(target).split("/")[0]))
    found.update(int(str(port).split("/")[0]) for port in service.get("expose", []))
    return found


def env_example() -> tuple[dict[str, str], str]:
    """Active `NAME=value` lines of .env.example, and the whole text (commented names count as listed)."""
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    active = dict(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", text, re.M))
    return active, text


def strings(node: Any) -> list[str]:
    """Every string scalar in a parsed YAML tree."""
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return [node] if isinstance(node, str) else []


def test_expected_services_exist() -> None:
    missing = EXPECTED_SERVICES - set(services())
    assert not missing, f"docker-compose.yml lacks services: {sorted(missing)}"


def test_airflow_services_share_the_common_anchor() -> None:
    raw = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "x-airflow-common: &airflow-common" in raw, (
        "define the shared settings as an x-airflow-common anchor"
    )
    for name, service in airflow_services().items():
        assert service.get("build") == ".", f"{name} is not built from the project's Dockerfile"


def test_must_match_variables_are_identical_on_every_airflow_component() -> None:
    envs = {name: environment(service) for name, service in airflow_services().items()}
    assert EXPECTED_SERVICES - {"postgres", "redis", "mailpit"} <= set(envs)
    for key in MUST_MATCH:
        values = {name: env.get(key) for name, env in envs.items()}
        missing = sorted(name for name, value in values.items() if not value)
        assert not missing, f"{key} is not set on {missing}"
        assert len(set(values.values())) == 1, f"{key} differs between Airflow components: {values}"


def test_fixed_airflow_settings() -> None:
    for name, service in airflow_services().items():
        env = environment(service)
        for key, expected in FIXED_VALUES.items():
            assert env[key] == expected, f"{name}: {key} is {env[key]!r}, expected {expected!r}"
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false", f"{name} would load example DAGs"


def test_referenced_host_paths_exist() -> None:
    for name, service in services().items():
        build = service.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            assert (REPO / context / dockerfile).is_file(), (
                f"{name}: no {dockerfile} in build context {context}"
            )
        for volume in service.get("volumes", []):
            source = volume.get("source", "") if isinstance(volume, dict) else str(volume).split(":")[0]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name}: mounted host path {source} does not exist"
        env_files = service.get("env_file", [])
        for entry in [env_files] if isinstance(env_files, str | dict) else env_files:
            path = entry["path"] if isinstance(entry, dict) else entry
            assert (REPO / path).exists(), f"{name}: env_file {path} does not exist"


def test_every_variable_is_in_env_example() -> None:
    used = [found for text in strings(compose()) for found in VARIABLE.findall(text)]
    active, text = env_example()
    required = {name for name, operator, _ in used if operator not in ("-", ":-")}
    missing = sorted(required - set(active))
    assert not missing, f"variables without a default must be set in .env.example: {missing}"
    optional = {name for name, _, _ in used} - required
    undocumented = sorted(name for name in optional if not re.search(rf"\b{name}\b", text))
    assert not undocumented, f"variables missing from .env.example: {undocumented}"


def test_env_example_holds_only_placeholders_for_secrets() -> None:
    active, _ = env_example()
    for name, value in active.items():
        if SECRET_NAME.search(name):
            assert value.startswith("change-me"), f".env.example: {name} must be a change-me placeholder"


def test_no_literal_secrets_in_compose() -> None:
    for name, service in services().items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key):
                assert REFERENCE_ONLY.match(value), (
                    f"{name}: {key} must be a ${{VAR}} reference without a default"
                )
        for text in strings(service):
            for password in URL_PASSWORD.findall(text):
                assert REFERENCE_ONLY.match(password), f"{name}: a URL carries a literal password: {text}"
            for match in re.finditer(r'"password"\s*:\s*"([^"]*)"', text):
                assert REFERENCE_ONLY.match(match.group(1)), (
                    f"{name}: a JSON connection has a literal password"
                )
        command = service.get("command")
        if isinstance(command, list):
            for flag, value in zip(command, command[1:], strict=False):
                if flag in ("--requirepass", "--password"):
                    assert REFERENCE_ONLY.match(value), f"{name}: {flag} is given a literal value"


def test_dockerfile_extends_airflow_3_3() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    build_args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, re.M))
    base = re.search(r"^FROM\s+(\S+)", text, re.M)
    assert base, "Dockerfile has no FROM line"
    image = re.sub(r"\$\{(\w+)\}", lambda m: build_args.get(m.group(1), m.group(0)), base.group(1))
    assert re.fullmatch(r"apache/airflow:3\.3\.\d+(-python3\.\d+)?", image), f"base image is {image}"
    assert re.search(r'"apache-airflow==\$\{AIRFLOW_VERSION\}"|"apache-airflow==3\.3\.\d+"', text), (
        "pin apache-airflow in the pip install so our dependencies cannot change the Airflow version"
    )


def test_mailpit_catches_the_digest() -> None:
    mailpit = services()["mailpit"]
    assert {1025, 8025} <= container_ports(mailpit), "mailpit must expose SMTP 1025 and the UI 8025"
    for name, service in airflow_services().items():
        smtp = json.loads(environment(service)["AIRFLOW_CONN_SMTP_DEFAULT"])
        assert smtp["conn_type"] == "smtp", f"{name}: smtp_default is not an SMTP connection"
        assert (smtp["host"], smtp["port"]) == ("mailpit", 1025), (
            f"{name}: smtp_default does not reach mailpit"
        )


def test_postgres_creates_the_warehouse_database() -> None:
    postgres = services()["postgres"]
    assert str(postgres["image"]).startswith("postgres:16"), "expected postgres:16"
    init_scripts = [
        REPO / str(volume).split(":")[0]
        for volume in postgres.get("volumes", [])
        if "/docker-entrypoint-initdb.d" in str(volume)
    ]
    assert init_scripts, "postgres mounts no script into /docker-entrypoint-initdb.d"
    sql = "\n".join(path.read_text(encoding="utf-8") for path in init_scripts)
    assert "CREATE DATABASE warehouse" in sql, "no init script creates the warehouse database"
    for name, service in airflow_services().items():
        url = environment(service)["HKAI_WAREHOUSE_URL"]
        assert url.startswith("postgresql+psycopg://hkai:") and url.endswith("@postgres:5432/warehouse"), (
            f"{name}: HKAI_WAREHOUSE_URL is {url}"
        )


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in services().items():
        if name in ("airflow-init", "airflow-cli"):
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_dependencies_wait_for_health() -> None:
    for name, service in services().items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: use depends_on with conditions, not a plain list"
        for dependency, rule in depends.items():
            expected = "service_completed_successfully" if dependency == "airflow-init" else "service_healthy"
            assert rule.get("condition") == expected, f"{name} -> {dependency} should wait for {expected}"


def published_ports() -> list[tuple[str, str]]:
    return [(name, str(port)) for name, service in services().items() for port in service.get("ports", [])]


def test_published_ports_bind_to_loopback_by_default() -> None:
    """A port without an address would listen on every interface, and both UIs speak plain HTTP."""
    ports = published_ports()
    assert {name for name, _ in ports} == {"airflow-apiserver", "mailpit"}
    active, _ = env_example()
    for name, port in ports:
        assert port.startswith("${HKAI_BIND_ADDRESS:-127.0.0.1}:"), (
            f"{name}: {port} must bind to HKAI_BIND_ADDRESS"
        )
    assert active["HKAI_BIND_ADDRESS"] == "127.0.0.1"


def test_documents_the_compose_file_refers_to_exist() -> None:
    for path in re.findall(
        r"\b((?:docker|docs)/[\w./-]+\.(?:md|sh|py|yaml))", COMPOSE_FILE.read_text(encoding="utf-8")
    ):
        assert (REPO / path).exists(), f"docker-compose.yml refers to {path}, which does not exist"


def test_init_refuses_to_start_on_placeholders() -> None:
    """airflow-init runs the secret check before anything else, and sees every secret it checks."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_secrets", REPO / "docker" / "check_secrets.py")
    assert spec and spec.loader
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)

    init = services()["airflow-init"]
    script = init["command"][-1]
    assert script.index("check_secrets.py") < script.index("airflow db migrate")
    checked = set(checker.PASSWORDS) | {checker.JWT_SECRET, checker.FERNET_KEY}
    assert checked <= set(environment(init))

    active, _ = env_example()
    copied_as_is = checker.problems(active)
    assert len(copied_as_is) == len(checked)  # every secret in .env.example is refused
    assert all("placeholder" in problem for problem in copied_as_is)

    good = {name: "a1b2c3d4e5f6a7b8c9d0e1f2" for name in checked}
    good[checker.FERNET_KEY] = "Dr9ocU4m1kR5o9Jx2wqYy6cB8m3Jk1Qv7sZ0aLpT4gE="  # 32 bytes, URL-safe base64
    assert checker.problems(good) == []
    assert checker.problems({**good, checker.FERNET_KEY: "not-a-key-at-all"}) == [
        "AIRFLOW_FERNET_KEY is not a valid Fernet key (32 bytes, URL-safe base64)"
    ]
    assert checker.problems({**good, "REDIS_PASSWORD": "short"}) == [
        "REDIS_PASSWORD is shorter than 16 characters"
    ]
