"""Both frames of the digest over one real week: the GIA press releases of 19-25 January 2026 saved in
snapshots/demo (English and Chinese, manifest.jsonl records where each page came from), crawled in
replay mode, tagged and loaded by the real ingest into a real SQLite warehouse. Entity names follow
the subscriber's language (the knowledge base's Traditional Chinese name, else the English one),
headlines stay as published, a day-only date shows no "00:00", and both frames open in headless
Chromium (screenshots kept in out/notes/ for people to look at)."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from digest.alert_render import render_alert
from digest.i18n import EN, ZH_HANT, entity_name, is_day_only, time_label
from digest.render import chart_language, chart_trend, cjk_font, entity_trend_chart, sector_chart
from digest.select import DigestContent, Filters, content_for, load_window, select_content
from hkai import ingest
from hkai.alerts import matches_for
from hkai.weekly_digest import render_week
from tests.digest.conftest import load_week
from tests.paths import REPO, SNAPSHOT
from transforms.dates import HKT, as_hkt
from transforms.kb import load_entities
from warehouse.db import get_engine
from warehouse.models import Article

SOURCES = ["gia_en", "gia_zh"]  # the week's articles are GIA press releases in both languages
WEEK = date(2026, 1, 19)
DAY = date(2026, 1, 21)  # the Wednesday of the week's Legislative Council questions
SUBSCRIBERS = (
    "- {email: zh@example.org, name: 陳小姐, language_frame: zh-Hant}\n"
    "- {email: en@example.org, name: Reader, language: en}\n"
)
NOTES = REPO / "out" / "notes"


@pytest.fixture(scope="module")
def real_week(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The real ingest over the snapshot's GIA pages, then the week's digest for a zh-Hant and an
    English subscriber: per language, the rendered files and the selected content."""
    home = tmp_path_factory.mktemp("digest-languages")
    (home / "subscribers.yaml").write_text(SUBSCRIBERS, encoding="utf-8")
    with pytest.MonkeyPatch.context() as env:
        for name, value in {
            "HKAI_DATA_DIR": str(home / "data"),
            "HKAI_OUT_DIR": str(home / "out"),
            "HKAI_CRAWL_MODE": "replay",
            "HKAI_SNAPSHOT_DIR": str(SNAPSHOT),
            "HKAI_DIGEST_SCREENSHOT": "0",
            "HKAI_DIGEST_RECIPIENTS_FILE": str(home / "subscribers.yaml"),
        }.items():
            env.setenv(name, value)
        for name in ("HKAI_WAREHOUSE_URL", "HKAI_REPLAY_URL", "AIRFLOW_CONN_SMTP_DEFAULT"):
            env.delenv(name, raising=False)
        assert ingest.run_all("digest-languages", SOURCES)["load"]["relevant"] > 0
        zh, en = render_week(WEEK)["digests"]
        window = load_window(get_engine(), WEEK)
        with get_engine().connect() as conn:
            published = {
                article_id: moment
                for article_id, moment in conn.execute(
                    select(Article.id, Article.published_at).where(
                        Article.published_week == WEEK, Article.relevant.is_(True)
                    )
                )
                if moment is not None
            }
        yield {
            "files": {ZH_HANT: zh, EN: en},
            "content": {lang: content_for(window, Filters(), language=lang) for lang in (ZH_HANT, EN)},
            "published": {a: as_hkt(moment.replace(tzinfo=UTC)) for a, moment in published.items()},
        }


def _html(digest: dict[str, Any]) -> str:
    return Path(digest["html"]).read_text(encoding="utf-8")


def _text(digest: dict[str, Any]) -> str:
    return Path(digest["eml"]).with_suffix(".txt").read_text(encoding="utf-8")


def _section(html: str, section: str) -> str:
    """The HTML of one digest section: from its `<td id=...>` to the next section's."""
    start = html.index(f'id="{section}"')
    following = re.search(r'<td[^>]*\sid="', html[start:])
    part = html[start : start + following.start()] if following else html[start:]
    return unescape(part)  # names such as "People's …" are escaped in the HTML


def _kb_names(content: DigestContent) -> list[tuple[str, str | None]]:
    """(English name, KB Traditional Chinese name or None) of the week's top entities, from transforms/kb."""
    kb = load_entities()
    return [(e["english_name"], kb[e["entity_id"]].zh_hant) for e in content.top_entities]


def test_the_zh_hant_frame_names_entities_in_chinese_and_the_english_frame_in_english(
    real_week: dict[str, Any],
) -> None:
    zh, en = real_week["files"][ZH_HANT], real_week["files"][EN]
    names = _kb_names(real_week["content"][EN])
    assert ("Legislative Council", "立法會") in names  # the KB's names (transforms/kb/entities)
    zh_html, en_html, zh_text, en_text = _html(zh), _html(en), _text(zh), _text(en)
    zh_entities, en_entities = _section(zh_html, "entities"), _section(en_html, "entities")
    shown = {english: chinese or english for english, chinese in names}  # English when the KB has no Chinese
    translated = [(english, chinese) for english, chinese in names if chinese and english not in chinese]
    assert translated
    for english, in_chinese_frame in shown.items():
        assert in_chinese_frame in zh_entities and in_chinese_frame in zh_text, in_chinese_frame
        assert english in en_entities and english in en_text, english
    for english, chinese in translated:
        assert english not in zh_entities and chinese not in en_entities, (english, chinese)
    # why-included lines and spikes use the same names
    whys = re.findall(r'<p class="why"[^>]*>(.*?)</p>', zh_html, re.S)
    assert whys and all("機構及人物：" in why for why in whys)
    assert not any(english in why for why in whys for english, _ in translated)
    spikes = real_week["content"][ZH_HANT].spikes
    assert spikes and all(s["entity_name"] in shown.values() for s in spikes)
    assert all(s["entity_name"] in _section(zh_html, "spikes") for s in spikes)
    # both frames list the same entities in the same order, only named differently
    zh_content, en_content = real_week["content"][ZH_HANT], real_week["content"][EN]
    assert [e["entity_id"] for e in zh_content.top_entities] == [
        e["entity_id"] for e in en_content.top_entities
    ]
    assert [s["entity_id"] for s in zh_content.spikes] == [s["entity_id"] for s in en_content.spikes]
    assert [e["articles"] for e in zh_content.new_entities] == [
        e["articles"] for e in en_content.new_entities
    ]
    # the trend chart's lines are the Chinese names in the zh-Hant frame
    assert set(real_week["content"][ZH_HANT].entity_trend) <= set(shown.values())
    assert set(real_week["content"][EN].entity_trend) <= {e for e, _ in names}


def test_names_without_a_chinese_name_and_headlines_stay_as_they_are(real_week: dict[str, Any]) -> None:
    zh_content, en_content = real_week["content"][ZH_HANT], real_week["content"][EN]
    kb = load_entities()
    english_new = {e["entity_name"] for e in en_content.new_entities}
    chinese_new = {e["entity_name"] for e in zh_content.new_entities}
    kept = {name for name in english_new if not any(k.name == name and k.zh_hant for k in kb.values())}
    assert kept, "the week has a new name without a Chinese name (a candidate)"
    assert kept <= chinese_new  # shown under its English (found) name in the zh-Hant frame
    assert [s.title for s in zh_content.stories] == [s.title for s in en_content.stories]
    zh_html = _html(real_week["files"][ZH_HANT])
    assert all(s.title in zh_html for s in en_content.stories if "<" not in s.title)
    assert any(re.search(r"[A-Za-z]{4}", s.title) for s in zh_content.stories)  # English headline kept
    assert entity_name("Cyberport", None, ZH_HANT) == "Cyberport"
    assert entity_name("Cyberport", "數碼港", EN) == "Cyberport"


def test_a_date_only_article_shows_its_day_without_a_time(real_week: dict[str, Any]) -> None:
    published = real_week["published"]  # article id → HKT time, as stored
    for language, digest in real_week["files"].items():
        html, text = _html(digest), _text(digest)
        assert "00:00" not in html and "00:00" not in text, language
        stories = real_week["content"][language].stories
        day_only = [s for s in stories if is_day_only(published[s.article_id])]
        assert day_only and len(day_only) < len(stories)  # GIA's listing gives some releases a date only
        for story in stories:  # each story's meta line ends with its date, and time when there is one
            moment = published[story.article_id]
            assert story.published == time_label(moment, language)
            assert (f"{moment:%H:%M}" in story.published) != (story in day_only), story.published
            assert f"· {story.published}</p>" in html and f"· {story.published}\n" in text
    moment = datetime(2026, 1, 21, tzinfo=HKT)
    assert (time_label(moment, EN), time_label(moment, ZH_HANT)) == ("Wed 21 Jan", "1月21日（三）")


def test_a_watchlist_alert_shares_the_names_and_the_day_only_rule(real_week: dict[str, Any]) -> None:
    """The alert of a reader watching the Legislative Council on the day it spiked: the same name
    lookup (hkai.alerts → digest.queries.chinese_names → digest.i18n.entity_name) and dates."""
    stories, reasons = matches_for(get_engine(), {"email": "a@example.org", "watch_entities": ["legco"]}, DAY)
    assert reasons and stories
    day_only = [s for s in stories if is_day_only(datetime.fromisoformat(s["published_at"]))]
    assert day_only and len(day_only) < len(stories)
    zh, en = (
        render_alert(recipient="a@example.org", day=DAY, language=lang, stories=stories, reasons=reasons)
        for lang in (ZH_HANT, EN)
    )
    assert "立法會 報道量急升" in zh.text and "Legislative Council is spiking" in en.text
    assert "00:00" not in zh.text + zh.html + en.text + en.html
    assert "(gia_en, 21 Jan)" in en.text and "(gia_en, 1月21日)" in zh.text


def _no_missing_glyphs(draw: Any) -> bytes:
    """Draw a chart and fail on matplotlib's "Glyph … missing from font(s)" warning (an empty box)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = draw()
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert png and not missing, missing
    return bytes(png)


def test_chinese_chart_labels_are_drawn_with_a_cjk_font(real_week: dict[str, Any]) -> None:
    if cjk_font() is None:
        if os.environ.get("CI"):
            pytest.fail("no CJK font: .ci/run installs Debian's fonts-wqy-zenhei")
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-zenhei)")
    for language in (ZH_HANT, EN):
        content = real_week["content"][language]
        assert content.entity_trend and content.sector_share
        _no_missing_glyphs(lambda c=content, lang=language: entity_trend_chart(c.entity_trend, lang))
        _no_missing_glyphs(lambda c=content, lang=language: sector_chart(c.sector_share, lang))


def test_without_a_cjk_font_the_chart_falls_back_to_english_names(
    real_week: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine without a CJK font (cjk_font() finds none): the zh-Hant chart is drawn in English,
    legend included, rather than with empty boxes; the HTML tables keep the Chinese names."""
    content = real_week["content"][ZH_HANT]
    monkeypatch.setattr("digest.render.cjk_font", lambda: None)
    assert chart_language(ZH_HANT) == EN
    english = {e["english_name"] for e in real_week["content"][EN].top_entities}
    assert set(chart_trend(content)) <= english and len(chart_trend(content)) == len(content.entity_trend)


def test_both_frames_open_in_headless_chromium(real_week: dict[str, Any]) -> None:
    from digest.preview import EXPECTED_SECTIONS, chromium_path, screenshot

    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    NOTES.mkdir(parents=True, exist_ok=True)
    for language, name in ((ZH_HANT, "digest-zh.png"), (EN, "digest-en.png")):
        eml = Path(real_week["files"][language]["eml"])
        report = screenshot(eml, eml.with_suffix(f".{language}.png"))
        assert set(EXPECTED_SECTIONS) <= set(report.sections), language
        assert report.images >= 2 and report.broken_images == [], language
        assert report.screenshot.stat().st_size > 10_000
        (NOTES / name).write_bytes(report.screenshot.read_bytes())


def test_chinese_names_come_from_the_warehouse_on_sqlite_and_postgresql(any_warehouse: str) -> None:
    """The lookup on both warehouses, over the synthetic week of conftest.load_week."""
    load_week()
    kb = load_entities()
    chinese = select_content(get_engine(), date(2025, 11, 24), language=ZH_HANT)
    english = select_content(get_engine(), date(2025, 11, 24), language=EN)
    assert [e["entity_id"] for e in chinese.top_entities] != []
    for zh_row, en_row in zip(
        sorted(chinese.top_entities, key=lambda r: r["entity_id"]),
        sorted(english.top_entities, key=lambda r: r["entity_id"]),
        strict=True,
    ):
        entity = kb[zh_row["entity_id"]]
        assert zh_row["entity_name"] == (entity.zh_hant or entity.name), any_warehouse
        assert en_row["entity_name"] == entity.name
