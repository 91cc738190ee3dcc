"""Digest: rendered from a real warehouse, received by a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from digest.render import RenderedDigest, render
from digest.select import select_content
from digest.send import build_message, message_id, unsubscribe_targets
from hkai.weekly_digest import deliver, render_week
from tests.digest.conftest import WEEK, Relay, crawl_row, load_week
from tests.paths import REPO
from warehouse.db import get_engine
from warehouse.marts import mart_table

SECTIONS = ("top-stories", "sectors", "entities", "new-names", "spikes", "source-health")


def _subscribers(hkai_env: Path, monkeypatch: pytest.MonkeyPatch, yaml_text: str) -> None:
    path = hkai_env / "subscribers.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    monkeypatch.setenv("HKAI_DIGEST_RECIPIENTS_FILE", str(path))


def test_digest_is_received_escaped_and_complete(digest_env: Path, relay) -> None:  # type: ignore[no-untyped-def]
    inbox: Relay = relay()
    load_week()
    rendered = render_week(WEEK)
    result = deliver(rendered)
    assert list(result["deliveries"].values()) == ["sent"] and result["problems"] == []
    assert len(inbox.messages) == 1

    message = inbox.parsed()[0]
    assert message["Subject"].startswith("Hong Kong AI weekly: 2025-W48")
    assert message.get_content_type() == "multipart/alternative"
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None  # RFC 5322 date with its offset
    assert message["Message-ID"] == message_id("analyst@example.org", date(2025, 11, 24), "digest@hkai.test")
    unsubscribe = str(message["List-Unsubscribe"]).strip()
    assert unsubscribe == "<mailto:digest@hkai.test?subject=unsubscribe%20analyst%40example.org>"
    assert message["List-Unsubscribe-Post"] is None  # one-click needs an https URL (RFC 8058)
    assert message["Content-Language"] == "en" and "hkai.test" in message["List-Id"]
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert "TOP STORIES" in text and "金管局推生成式人工智能沙盒第二期" in text
    assert "Unsubscribe: mailto:digest@hkai.test" in text and 'id="unsubscribe"' in html
    for section in SECTIONS:
        assert f'id="{section}"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '"><img src=x' not in html and "onerror=alert(1)&gt;" in html.replace("&#34;", '"').replace(
        "&quot;", '"'
    )
    assert "{{" not in html and "{%" not in html
    cids = set(re.findall(r'src="cid:([^"]+)"', html))
    assert cids, "charts are embedded"
    related = {part["Content-ID"].strip("<>") for part in message.walk() if part["Content-ID"]}
    assert cids <= related
    assert Path(rendered["digests"][0]["eml"]).exists() and Path(rendered["digests"][0]["html"]).exists()


def test_the_message_id_is_the_same_for_every_copy_of_a_digest(digest_env: Path) -> None:
    load_week()
    first = render_week(WEEK)["digests"][0]
    eml = Path(first["eml"]).read_bytes()
    again = render_week(WEEK)["digests"][0]
    assert (
        re.search(rb"Message-ID: (\S+)", eml)[1]
        == re.search(  # type: ignore[index]
            rb"Message-ID: (\S+)", Path(again["eml"]).read_bytes()
        )[1]
    )
    week = date(2025, 11, 24)
    assert message_id("A@Example.org", week, "x@hkai.test") == message_id(
        "a@example.org", week, "x@hkai.test"
    )
    assert message_id("a@example.org", week, "x@hkai.test") != message_id(
        "b@example.org", week, "x@hkai.test"
    )
    assert message_id("a@example.org", week, "x@hkai.test") != message_id(
        "a@example.org", date(2025, 12, 1), "x@hkai.test"
    )
    assert message_id("a@example.org", week, "Digest <x@news.example.org>").endswith("@news.example.org>")


def test_an_https_unsubscribe_url_adds_one_click_post() -> None:
    targets = unsubscribe_targets(
        "a+b@example.org", "digest@hkai.test", "https://hkai.example.org/u?e={email}"
    )
    assert targets[1] == "https://hkai.example.org/u?e=a%2Bb%40example.org"
    rendered = RenderedDigest(subject="s", html="<p>x</p>", text="x")
    message = build_message(
        rendered,
        to="a+b@example.org",
        sender="digest@hkai.test",
        week_start=date(2025, 11, 24),
        unsubscribe=targets,
    )
    assert message["List-Unsubscribe"].count("<") == 2
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with pytest.raises(ValueError, match="https"):
        unsubscribe_targets("a@example.org", "digest@hkai.test", "http://insecure.example.org/u")


def test_quiet_week_for_a_filter_that_matches_nothing(
    digest_env: Path, relay, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    inbox: Relay = relay()
    load_week()
    _subscribers(
        digest_env, monkeypatch, "- {email: legal@example.org, name: Legal desk, sectors: [legal]}\n"
    )
    deliver(render_week(WEEK))
    html = inbox.parsed()[0].get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert 'id="quiet"' in html and "A quiet week" in html and "filters: sectors" in html


def test_filters_narrow_every_section(digest_env: Path) -> None:
    load_week()
    engine = get_engine()
    week = date(2025, 11, 24)
    everything = select_content(engine, week)
    # unfiltered, the sections are the marts' rows
    with engine.connect() as conn:
        share = mart_table("mart_weekly_sector_share")
        mart_shares = {
            r.sector: (r.articles, float(r.share))
            for r in conn.execute(select(share).where(share.c.week_start == week))
        }
        mentions = mart_table("mart_weekly_entity_mentions")
        mart_entities = {
            r.entity_id: r.articles
            for r in conn.execute(select(mentions).where(mentions.c.week_start == week))
        }
        new = mart_table("mart_new_entities")
        mart_new = {
            r.entity_name: r.articles for r in conn.execute(select(new).where(new.c.week_start == week))
        }
    assert {r["sector"]: (r["articles"], r["share"]) for r in everything.sector_share} == mart_shares
    assert {r["entity_id"]: r["articles"] for r in everything.top_entities} == mart_entities
    assert {r["entity_name"]: r["articles"] for r in everything.new_entities} == mart_new
    assert everything.relevant_articles == everything.matched_articles == 3 and not everything.filtered

    chinese = select_content(engine, week, languages={"zh-Hant"})
    assert [s.title for s in chinese.stories] == ["金管局推生成式人工智能沙盒第二期"]
    assert chinese.filtered and chinese.matched_articles == 1 and chinese.relevant_articles == 3
    story_entities = set(chinese.stories[0].entities)
    assert {e["entity_name"] for e in chinese.top_entities} == story_entities
    assert {r["sector"] for r in chinese.sector_share} == set(chinese.stories[0].sectors)
    assert all(r["share"] == 1.0 for r in chinese.sector_share)
    assert set(chinese.entity_trend) <= story_entities
    assert {e["entity_name"] for e in chinese.new_entities} < {
        e["entity_name"] for e in everything.new_entities
    }
    assert sum(points[-1][1] for points in chinese.entity_trend.values()) == len(chinese.entity_trend)


def test_one_article_is_singular(digest_env: Path) -> None:
    """The sector table of a week where each sector has one story says "1 article", not "1 articles"."""
    load_week()
    content = select_content(get_engine(), date(2025, 11, 24), languages={"zh-Hant"})
    assert content.sector_share and all(r["articles"] == 1 for r in content.sector_share)
    rendered = render(content)
    assert ">1 article</td>" in rendered.html and "1 articles" not in rendered.html
    assert "1 articles" not in rendered.text and ": 1 article (" in rendered.text


def test_the_frame_speaks_traditional_chinese(digest_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_week()
    _subscribers(
        digest_env,
        monkeypatch,
        "- {email: zh@example.org, name: 陳小姐, language: zh-Hant}\n- {email: en@example.org, name: Reader}\n",
    )
    zh, en = render_week(WEEK)["digests"]
    html = Path(zh["html"]).read_text(encoding="utf-8")
    text = Path(zh["eml"]).with_suffix(".txt").read_text(encoding="utf-8")
    assert zh["subject"] == "香港人工智能週報：2025-W48（2025年11月24日至11月30日）"
    assert '<html lang="zh-Hant">' in html
    for heading in (
        "焦點新聞",
        "應用行業",
        "新聞中的機構與人物",
        "本週新出現的名字",
        "新聞來源狀態",
        "入選原因",
        "取消訂閱",
    ):
        assert heading in html
    assert "2025年11月24日至11月30日（香港時間）" in html and "香港時間" in text
    assert re.search(r"11月2[5-7]日（[一二三四五六日]）09:00 香港時間", html)
    assert "相關度" in html and "Top stories" not in html and "Why included" not in html
    assert "HKUST opens AI lab for hospitals" in html  # stories stay in their own language
    eml = Path(zh["eml"]).read_bytes()
    assert b"Content-Language: zh-Hant" in eml
    assert "Top stories" in Path(en["html"]).read_text(encoding="utf-8")


def test_source_health_covers_the_week_only_with_one_line_reasons(digest_env: Path) -> None:
    traceback = (
        "crawl process failed (exit 1): Traceback (most recent call last):\n"
        '  File "/opt/airflow/hkai/spiders/run.py", line 88, in main\n'
        "ValueError: secret-token=abc123"
    )
    load_week(
        crawls=[
            # January: flagged then, fine since; a digest in November must not say so
            crawl_row("jan", "scmp_tech", datetime(2025, 1, 6, 2, 0), flagged=True, flag_reason="bot wall"),
            crawl_row("wk1", "hk01_tech", datetime(2025, 11, 25, 2, 0), items=4),
            crawl_row("wk2", "hk01_tech", datetime(2025, 11, 27, 2, 0), flagged=True, flag_reason=traceback),
            crawl_row("wk3", "scmp_tech", datetime(2025, 11, 26, 2, 0), items=2),
            crawl_row("next", "mingpao", datetime(2025, 12, 2, 2, 0), flagged=True, flag_reason="next week"),
        ]
    )
    health = {h["source"]: h for h in select_content(get_engine(), date(2025, 11, 24)).health}
    assert set(health) == {"hk01_tech", "scmp_tech"}  # rthk_en's load crawl ran after the week
    assert health["scmp_tech"] == {
        "source": "scmp_tech",
        "runs": 1,
        "items": 2,
        "flagged_runs": 0,
        "reason": "",
    }
    assert health["hk01_tech"]["flagged_runs"] == 1 and health["hk01_tech"]["runs"] == 2
    assert health["hk01_tech"]["reason"] == "crawl process failed (exit 1)"
    digest = render_week(WEEK)["digests"][0]
    for path in (Path(digest["html"]), Path(digest["eml"]).with_suffix(".txt")):
        body = path.read_text(encoding="utf-8")
        assert "crawl process failed (exit 1)" in body
        assert "Traceback" not in body and "/opt/airflow" not in body and "abc123" not in body
        assert "bot wall" not in body and "next week" not in body


def test_addresses_that_slug_alike_get_their_own_files_and_digests(
    digest_env: Path, relay, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    inbox: Relay = relay()
    load_week()
    _subscribers(
        digest_env,
        monkeypatch,
        "- {email: a.b@example.org}\n- {email: a-b@example.org}\n- {email: A.B@example.org}\n",
    )
    rendered = render_week(WEEK)
    assert [d["recipient"] for d in rendered["digests"]] == ["a.b@example.org", "a-b@example.org"]
    emls = {d["eml"] for d in rendered["digests"]}
    assert len(emls) == 2
    assert deliver(rendered)["deliveries"] == {"a.b@example.org": "sent", "a-b@example.org": "sent"}
    assert sorted(str(m["To"]) for m in inbox.parsed()) == ["a-b@example.org", "a.b@example.org"]


def test_a_dry_run_sends_nothing_and_records_nothing(digest_env: Path, relay) -> None:  # type: ignore[no-untyped-def]
    inbox: Relay = relay()
    load_week()
    result = deliver(render_week(WEEK), send=False)
    assert list(result["deliveries"].values()) == ["dry run (.eml written)"] and inbox.messages == []
    from digest import deliveries

    assert deliveries.rows(get_engine()) == []


def test_digest_renders_in_headless_chromium(hkai_env: Path) -> None:
    from digest.preview import EXPECTED_SECTIONS, chromium_path, screenshot

    if chromium_path() is None:
        if __import__("os").environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    load_week()
    rendered = render_week(WEEK)
    eml = Path(rendered["digests"][0]["eml"])
    report = screenshot(eml, hkai_env / "out" / "digest.png")
    assert set(EXPECTED_SECTIONS) <= set(report.sections)
    assert report.images >= 2 and report.broken_images == []
    assert report.screenshot.stat().st_size > 10_000
    keep = REPO / "out"
    keep.mkdir(exist_ok=True)
    (keep / "digest-test-screenshot.png").write_bytes(report.screenshot.read_bytes())


def test_the_send_needs_no_file_from_the_render_worker(digest_env: Path, relay) -> None:  # type: ignore[no-untyped-def]
    """Render and send may run on different workers: the send reads the warehouse outbox, not a file."""
    inbox: Relay = relay()
    load_week()
    rendered = render_week(WEEK)
    eml = Path(rendered["digests"][0]["eml"])
    rendered_bytes = eml.read_bytes()
    shutil.rmtree(eml.parent)  # the render worker's disk is not there
    result = deliver(rendered)
    assert list(result["deliveries"].values()) == ["sent"]
    received = inbox.parsed()[0]
    original = BytesParser(policy=policy.default).parsebytes(rendered_bytes)
    assert received["Message-ID"] == original["Message-ID"] and received["Subject"] == original["Subject"]
