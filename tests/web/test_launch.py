"""`make ui`'s launcher (the `ui` fixture starts Airflow through it and stops it with Ctrl-C, which
must leave no process behind): the four components, the port from HKAI_UI_PORT, where to log in."""

from __future__ import annotations

import httpx

from tests.web.conftest import Ui


def test_it_starts_the_four_components(ui: Ui) -> None:
    titles = " ".join(" ".join(p.cmdline()) for p in ui.components).replace("_", "-")  # Airflow retitles them
    assert len(ui.components) == 4, titles
    for component in ("api-server", "scheduler", "dag-processor", "triggerer"):
        assert component in titles


def test_it_says_where_to_open_the_ui_and_where_the_password_is(ui: Ui) -> None:
    assert f"{ui.base}/hkai/" in ui.banner
    assert ui.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] in ui.banner
    assert "Ctrl-C" in ui.banner


def test_it_listens_on_loopback_only(ui: Ui) -> None:
    assert ui.base.startswith("http://127.0.0.1:")
    listening = {
        (c.laddr.ip, c.laddr.port)
        for process in ui.components
        for child in [process, *process.children(recursive=True)]
        for c in child.net_connections(kind="tcp")
        if c.status == "LISTEN"
    }
    port = int(ui.base.rsplit(":", 1)[1])
    assert ("127.0.0.1", port) in listening
    assert not [address for address in listening if address[0] in ("0.0.0.0", "::")]
    assert httpx.get(f"{ui.base}/hkai/", timeout=30).status_code == 401
