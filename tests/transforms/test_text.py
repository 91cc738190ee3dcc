"""Text primitives on real text: cleaning, script conversion, width and case folding, language."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from tests.paths import DATA, FIXTURES, SNAPSHOT
from transforms.text import (
    clean_text,
    clean_title,
    detect_language,
    fold,
    fold_case,
    fold_width,
    to_hong_kong_traditional,
    to_simplified,
    to_traditional,
)

AI_NEWS = FIXTURES / "ai-news" / "articles.jsonl"
# rthk-zh-1832560 (tests/data/tagging/dev*.jsonl, also in ../shared/fixtures/ai-news/articles.jsonl)
SUN_DONG = "創新科技及工業局局長孫東表示，新田科技城佔地廣，開發需時亦需有序。"
SUN_DONG_SIMPLIFIED = "创新科技及工业局局长孙东表示，新田科技城占地广，开发需时亦需有序。"


def _labelled(item_id: str) -> dict:
    for name in ("dev.jsonl", "dev_more.jsonl"):
        for line in (DATA / "tagging" / name).read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if item["id"] == item_id:
                return item
    raise KeyError(item_id)


def _rthk_title(containing: str) -> str:
    """A real headline from the RTHK Chinese feeds in the demo snapshot."""
    import feedparser

    manifest = [json.loads(line) for line in (SNAPSHOT / "manifest.jsonl").read_text().splitlines()]
    for entry in manifest:
        if entry["source"] == "rthk_zh" and entry["kind"] == "feed":
            parsed = feedparser.parse(gzip.decompress((SNAPSHOT / entry["file"]).read_bytes()))
            for item in parsed.entries:
                if containing in item.title:
                    return str(item.title)
    raise KeyError(containing)


def test_the_sample_sentences_are_real() -> None:
    assert SUN_DONG in _labelled("rthk-zh-1832560")["body"]
    assert to_simplified(SUN_DONG) == SUN_DONG_SIMPLIFIED


# -- script ---------------------------------------------------------------------------------------


def test_simplified_to_traditional() -> None:
    assert to_traditional(SUN_DONG_SIMPLIFIED) == SUN_DONG
    assert to_traditional("香港科技大学与商汤科技合作") == "香港科技大學與商湯科技合作"
    assert to_traditional(SUN_DONG) == SUN_DONG  # Traditional text stays as it is


def test_hong_kong_traditional_keeps_hong_kong_forms() -> None:
    # Taiwan/generic Traditional writes 爲 and 臺; Hong Kong writes 為 and 台 (電台, 台灣)
    assert to_traditional("为") == "爲" and to_hong_kong_traditional("为") == "為"
    assert to_traditional("台") == "臺" and to_hong_kong_traditional("台") == "台"
    assert to_hong_kong_traditional(SUN_DONG_SIMPLIFIED) == SUN_DONG


def test_detect_language_on_real_articles() -> None:
    english = _labelled("thestandard-308476")
    chinese = _labelled("rthk-zh-1829895")
    assert detect_language(english["body"]) == "en"
    assert detect_language(chinese["body"]) == "zh-Hant"
    assert detect_language(to_simplified(chinese["body"])) == "zh-Hans"
    # no letters at all: the declared language decides
    assert detect_language("2025-11-20 10:00", declared="zh-CN") == "zh-Hans"
    assert detect_language("2025-11-20 10:00", declared="zh-HK") == "zh-Hant"
    assert detect_language("2025-11-20 10:00") == "en"


# -- folding --------------------------------------------------------------------------------------


def test_full_width_letters_and_digits_become_ascii() -> None:
    title = _rthk_title("１萬個")  # RTHK headline with a full-width digit and an ideographic space
    assert title == "維港泳早上舉行\u3000王敏超稱活動整體暢順冀增加名額至１萬個"
    assert fold_width(title) == "維港泳早上舉行 王敏超稱活動整體暢順冀增加名額至1萬個"
    # Ming Pao's address line (demo snapshot, mingpao pages): a full-width letter among ASCII digits
    assert fold_width("香港柴灣嘉業街18號明報工業中心Ａ座15樓") == "香港柴灣嘉業街18號明報工業中心A座15樓"
    assert fold_width("ＨＫＵＳＴ，ＡＩ！") == "HKUST,AI!"  # punctuation goes along with the letters


def test_chinese_punctuation_alone_is_left_as_written() -> None:
    assert fold_width(SUN_DONG) == SUN_DONG  # ，and 。 stay: no full-width letter or digit


def test_fold_case_lowers_without_changing_length() -> None:
    assert fold_case("HKUST and CUHK") == "hkust and cuhk"
    assert "İ".lower() != "i" and len("İ".lower()) == 2  # why the rule exists
    assert fold_case("İstanbul HKU") == "İstanbul hku"


@pytest.mark.parametrize(
    "text",
    [
        SUN_DONG,
        SUN_DONG_SIMPLIFIED,
        "維港泳早上舉行\u3000王敏超稱活動整體暢順冀增加名額至１萬個",
        "İstanbul ß",
        "ＨＫＵＳＴ 人工智能",
        "简体",
        "Ⅻ ㈱",
    ],
)
def test_fold_keeps_length(text: str) -> None:
    assert len(fold(text)) == len(text)


def test_fold_offsets_point_at_the_original_text() -> None:
    # A Simplified copy of a real RTHK sentence: a Traditional name found in the folded text is at the
    # same offsets in the original, which hold the name as written.
    folded = fold("ＡＩ：" + SUN_DONG_SIMPLIFIED)
    assert folded == "ai:" + SUN_DONG.replace("，", ",")  # full-width letters present: ， folds too
    start = folded.index("孫東")
    assert ("ＡＩ：" + SUN_DONG_SIMPLIFIED)[start : start + 2] == "孙东"


def test_fold_gate_skips_the_script_conversion() -> None:
    assert fold(SUN_DONG_SIMPLIFIED, re.compile("(?!)")) == SUN_DONG_SIMPLIFIED
    assert fold(SUN_DONG_SIMPLIFIED, re.compile("[孙]")) == SUN_DONG
    assert fold("ＨＫＵＳＴ", re.compile("(?!)")) == "hkust"  # width and case are always folded


def test_fold_reads_the_typographic_apostrophe_as_the_plain_one() -> None:
    # dev item web-completemusicupdate-8d8ec93d writes "Hong Kong’s government"; the KB "Hong Kong's government"
    assert fold("Hong Kong’s government") == fold("Hong Kong's government") == "hong kong's government"
    assert len(fold("People’s Bank")) == len("People’s Bank")


# -- cleaning -------------------------------------------------------------------------------------


def test_clean_text_removes_markup_from_a_real_article() -> None:
    article = next(
        json.loads(line)
        for line in AI_NEWS.read_text(encoding="utf-8").splitlines()
        if json.loads(line)["id"] == "hkcnews-6845"
    )
    assert "<figcaption>" in article["body"]
    text = clean_text(article["body"])
    assert "<" not in text and "figcaption" not in text
    assert "Google香港銷售和營運董事總經理尉俐妮。吳婉英攝" in text  # the caption's text stays
    assert "\n\n" in text and "\n\n\n" not in text  # paragraphs kept, runs of blank lines collapsed
    assert clean_text(text) == text


def test_clean_text_entities_control_characters_and_spaces() -> None:
    raw = "<p>金管局&nbsp;今日\x07公布&amp;\u3000宣布</p>\r\n\r\n\r\n<p>第二段  內容</p>"
    assert clean_text(raw) == "金管局 今日公布& 宣布\n\n第二段 內容"
    assert clean_text(None) == "" and clean_text("") == ""
    # "<" in plain text is not markup
    assert clean_text("Profit rose 3% when x < 5 and y > 2") == "Profit rose 3% when x < 5 and y > 2"


def test_clean_title_is_one_line() -> None:
    assert (
        clean_title("<b>余偉文：</b>\n未來將人工智能\n\n深度結合行業基建")
        == "余偉文： 未來將人工智能 深度結合行業基建"
    )
