"""The digest's frame in the reader's language: English, or Traditional Chinese (`language_frame:
zh-Hant` or `language: zh-Hant` in the subscribers file). Headings, labels, dates, sector and
entity-type names, and entity names (the knowledge base's Chinese name); the stories themselves stay
in the language they were written in."""

from __future__ import annotations

from datetime import date, datetime

EN, ZH_HANT = "en", "zh-Hant"
LANGUAGES = (EN, ZH_HANT)
_ALIASES = {"zh-hant": ZH_HANT, "zh-hk": ZH_HANT, "zh-tw": ZH_HANT, "zh_hant": ZH_HANT, "zh": ZH_HANT}

LABELS: dict[str, dict[str, str]] = {
    EN: {
        "title": "Hong Kong AI weekly",
        "dates": "{range} (HKT)",
        "collected": "{relevant} AI-in-Hong-Kong articles of {all} collected",
        "matched": "{matched} match your subscription",
        "quiet_heading": "A quiet week",
        "quiet_text": "Nothing this week matched your subscription{reason}. The tracker collected {all} "
        "articles; none were about AI in Hong Kong and within your filters.",
        "quiet_reason": " ({reason})",
        "top_stories": "Top stories",
        "why_included": "Why included",
        "sectors": "Sectors",
        "sector_chart": "Sector share chart",
        "articles_n": "{n} articles",
        "articles_one": "{n} article",
        "entities": "Who was in the news",
        "entity_chart": "Entity trend chart",
        "new_names": "New names this week",
        "no_new_names": "No new names.",
        "spikes": "Spikes",
        "spike_row": "{articles} vs {baseline} usual",
        "no_spikes": "No entity spiked against its 4-week baseline.",
        "source_health": "Source health",
        "no_crawls": "No crawls were recorded this week.",
        "items_n": "{n} items in {runs} crawl(s)",
        "ok": "ok",
        "flagged": "flagged in {flagged} of {runs} crawl(s)",
        "colon": ": ",
        "footer": "Sent to {recipient} by the Hong Kong AI news tracker. Every item links to its source; "
        "tags are explained in the warehouse (article_entities.evidence).",
        "unsubscribe": "Unsubscribe",
        "filters": "filters: {names}",
        "chart_sector_axis": "% of this week's AI-in-HK articles",
        "chart_trend_axis": "articles / week",
        "none": "none",
    },
    ZH_HANT: {
        "title": "香港人工智能週報",
        "dates": "{range}（香港時間）",
        "collected": "本週收集 {all} 篇文章，其中 {relevant} 篇關於香港人工智能",
        "matched": "{matched} 篇符合您的訂閱",
        "quiet_heading": "平靜的一週",
        "quiet_text": "本週沒有符合您訂閱條件的新聞{reason}。系統共收集 {all} 篇文章，"
        "當中沒有在您篩選範圍內、關於香港人工智能的報道。",
        "quiet_reason": "（{reason}）",
        "top_stories": "焦點新聞",
        "why_included": "入選原因",
        "sectors": "應用行業",
        "sector_chart": "行業分佈圖",
        "articles_n": "{n} 篇",
        "articles_one": "{n} 篇",
        "entities": "新聞中的機構與人物",
        "entity_chart": "機構與人物趨勢圖",
        "new_names": "本週新出現的名字",
        "no_new_names": "本週沒有新名字。",
        "spikes": "報道量急升",
        "spike_row": "{articles} 篇，平常 {baseline} 篇",
        "no_spikes": "沒有機構或人物的報道量高於其四週基線。",
        "source_health": "新聞來源狀態",
        "no_crawls": "本週沒有抓取紀錄。",
        "items_n": "{runs} 次抓取共 {n} 篇",
        "ok": "正常",
        "flagged": "{runs} 次抓取中 {flagged} 次異常",
        "colon": "：",
        "footer": "本郵件由香港人工智能新聞追蹤系統發送給 {recipient}。每則新聞均附原文連結；"
        "標籤的依據記錄於資料倉庫（article_entities.evidence）。",
        "unsubscribe": "取消訂閱",
        "filters": "篩選條件：{names}",
        "chart_sector_axis": "佔本週香港人工智能報道的百分比",
        "chart_trend_axis": "每週篇數",
        "none": "沒有",
    },
}

SECTORS_ZH = {
    "finance": "金融",
    "healthcare": "醫療",
    "smart-city": "智慧城市",
    "transport": "交通運輸",
    "education": "教育",
    "retail": "零售",
    "logistics": "物流",
    "property": "地產",
    "manufacturing": "製造業",
    "media": "媒體",
    "legal": "法律",
    "infrastructure": "基礎設施",
    "security": "保安",
}
ENTITY_TYPES_ZH = {
    "government-body": "政府機構",
    "programme": "計劃",
    "organisation": "組織",
    "university": "大學",
    "research-institute": "研究機構",
    "company": "公司",
    "person": "人物",
    "product": "產品",
}
FILTER_NAMES_ZH = {
    "entities": "機構及人物",
    "sectors": "行業",
    "languages": "語言",
    "min_relevance": "最低相關度",
}
WEEKDAYS_ZH = "一二三四五六日"


def language_of(value: object) -> str:
    """`zh-Hant` (and zh-HK, zh-TW) for a Traditional Chinese frame; anything else is English."""
    text = str(value or "").strip()
    return _ALIASES.get(text.lower(), EN)


def labels(language: str) -> dict[str, str]:
    return LABELS.get(language) or LABELS[language_of(language)]


def sector_name(sector: str, language: str) -> str:
    return SECTORS_ZH.get(sector, sector) if language == ZH_HANT else sector


def entity_type_name(entity_type: str, language: str) -> str:
    return ENTITY_TYPES_ZH.get(entity_type, entity_type) if language == ZH_HANT else entity_type


def filter_names(names: list[str], language: str) -> str:
    if language == ZH_HANT:
        return labels(language)["filters"].format(names="、".join(FILTER_NAMES_ZH.get(n, n) for n in names))
    return labels(language)["filters"].format(names=", ".join(names))


def day_month(day: date, language: str) -> str:
    return f"{day.month}月{day.day}日" if language == ZH_HANT else f"{day:%d %b}"


def date_range(start: date, end: date, language: str) -> str:
    """'24 Nov – 30 Nov 2025' / '2025年11月24日至11月30日'."""
    if language == ZH_HANT:
        return f"{start.year}年{day_month(start, language)}至{day_month(end, language)}"
    return f"{start:%d %b} – {end:%d %b %Y}"


def subject(week_start: date, week_end: date, language: str) -> str:
    iso = week_start.isocalendar()
    week = f"{iso.year}-W{iso.week:02d}"
    if language == ZH_HANT:
        return f"{LABELS[ZH_HANT]['title']}：{week}（{date_range(week_start, week_end, language)}）"
    return f"{LABELS[EN]['title']}: {week} ({week_start:%d %b}–{week_end:%d %b %Y})"


def entity_name(name: str, zh_hant: str | None, language: str) -> str:
    """An entity's name in the reader's language: the knowledge base's Traditional Chinese name in a
    zh-Hant frame, the English (canonical) name otherwise or when the KB has no Chinese name."""
    return zh_hant if language == ZH_HANT and zh_hant else name


def is_day_only(moment: datetime) -> bool:
    """Whether a publication time (in HKT) stands for a day without a time of day.

    The warehouse keeps no flag for this: a source that gives only a date (GIA's listings, the
    news.gov.hk date line, a daily paper) is stored at 00:00 HKT, and `articles.extraction` does not
    say whether the parsed value had a clock. So the rule is: exactly 00:00:00.000000 HKT is a day
    only. A story really published at the stroke of midnight loses its "00:00", which is harmless.
    """
    return (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)


def time_label(moment: datetime, language: str) -> str:
    """'Tue 25 Nov 09:00 HKT' / '11月25日（二）09:00 香港時間' for an HKT time; the day alone
    ('Tue 25 Nov' / '11月25日（二）') when the source gave no time of day (`is_day_only`)."""
    if language == ZH_HANT:
        day = f"{day_month(moment.date(), language)}（{WEEKDAYS_ZH[moment.weekday()]}）"
        return day if is_day_only(moment) else f"{day}{moment:%H:%M} 香港時間"
    return moment.strftime("%a %d %b" if is_day_only(moment) else "%a %d %b %H:%M HKT")
