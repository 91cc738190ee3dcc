"""The page helpers that need no server: highlighting, evidence snippets, relative links, times."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from starlette.requests import Request

from web.app import _roots, highlight
from web.data import digest_id, evidence_snippets, hkt, monday

HOSTILE = '<script>alert("x")</script> 數碼港 Cyberport'


def test_highlight_escapes_everything_and_marks_each_term() -> None:
    marked = str(highlight(HOSTILE, ["cyberport", "數碼港", "<script>"]))
    assert "<script>" not in marked
    assert marked.count("<mark>") == 3
    assert "<mark>Cyberport</mark>" in marked and "<mark>數碼港</mark>" in marked
    assert (
        str(highlight(HOSTILE, []))
        == str(highlight(HOSTILE, [""]))
        == marked.replace("<mark>", "").replace("</mark>", "")
    )


def test_evidence_snippets_cut_around_the_span_and_survive_bad_offsets() -> None:
    body = "x" * 100 + "Digital Policy Office" + "y" * 100
    good = {"field": "body", "start": 100, "end": 121, "text": "Digital Policy Office"}
    outside = {"field": "body", "start": 500, "end": 510, "text": "DPO"}
    snippets = evidence_snippets("title", body, [good, outside])
    assert snippets[0]["span"] == "Digital Policy Office"
    assert snippets[0]["before"].startswith("…") and snippets[0]["after"].endswith("…")
    assert snippets[1] == {"field": "body", "before": "", "span": "DPO", "after": ""}  # shown, not crashed


def test_times_are_shown_in_hong_kong_time() -> None:
    assert hkt(datetime(2025, 11, 30, 17, 0)) == "2025-12-01 01:00 HKT"  # naive = UTC, as stored
    assert hkt("2025-11-30 17:00:00") == "2025-12-01 01:00 HKT"  # SQLite may give strings
    assert hkt(None) == "date unknown"
    assert monday(date(2025, 11, 16)) == date(2025, 11, 10)


def test_digest_ids_are_url_safe() -> None:
    ident = digest_id(date(2025, 11, 10), "A.B+news@Example.org")
    assert ident.startswith("2025-11-10_") and all(c.isalnum() or c in "-_" for c in ident)


@pytest.mark.parametrize(
    ("path", "app_root"),
    [
        ("/hkai/", "./"),
        ("/hkai/search", "./"),
        ("/hkai/entities/x", "../"),
        ("/hkai/digests/id/message.html", "../../"),
    ],
)
def test_relative_roots(path: str, app_root: str) -> None:
    request = Request({"type": "http", "path": path, "root_path": "/hkai", "headers": []})
    assert _roots(request) == (app_root, app_root + "../")
