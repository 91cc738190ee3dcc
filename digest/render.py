"""Render the digest: charts (matplotlib PNG bytes), HTML (Jinja2, autoescaped, CSS inlined) and text."""

from __future__ import annotations

import contextlib
import functools
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import css_inline
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from digest import i18n
from digest.i18n import EN, entity_type_name, labels, sector_name
from digest.select import DigestContent


@dataclass
class RenderedDigest:
    subject: str
    html: str
    text: str
    images: dict[str, bytes] = field(default_factory=dict)  # content-id (no brackets) → PNG


def template_environment() -> Environment:
    """The Jinja2 environment of every email template (digest and alerts): HTML autoescaped, text not."""
    return Environment(
        loader=PackageLoader("digest", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html",), disabled_extensions=("txt",), default=True
        ),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _figure_png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


CJK_FONTS = ("Noto Sans CJK TC", "Noto Sans TC", "Source Han Sans TC", "WenQuanYi Zen Hei", "PingFang HK")


@functools.cache
def cjk_font() -> str | None:
    """An installed font with Traditional Chinese glyphs, for zh-Hant chart labels (None: none)."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def chart_language(language: str) -> str:
    """Charts speak the reader's language when a font can draw it, else English."""
    return language if language == EN or cjk_font() else EN


def chart_fonts() -> list[str]:
    """DejaVu Sans for Latin text, then the CJK font (when installed) for the glyphs DejaVu lacks:
    matplotlib falls back per glyph, so Chinese entity names and labels never draw as empty boxes
    (English text looks the same either way)."""
    cjk = cjk_font()
    return ["DejaVu Sans", cjk] if cjk else ["DejaVu Sans"]


@contextlib.contextmanager
def _pyplot() -> Iterator[Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # CJK fonts lack a "normal" weight
    with matplotlib.rc_context({"font.family": chart_fonts()}):
        yield plt


def sector_frame(sector_share: list[dict], language: str = EN) -> pd.DataFrame:
    """The chart's data: sector and percent of the week's articles, smallest first (bars stack upwards)."""
    frame = pd.DataFrame(sector_share, columns=["sector", "share"])
    frame["sector"] = [sector_name(str(s), language) for s in frame["sector"]]
    frame["percent"] = frame["share"].astype(float) * 100
    return frame.sort_values("percent", kind="stable", ignore_index=True)


def sector_chart(sector_share: list[dict], language: str = EN) -> bytes | None:
    """Horizontal bars of the week's sector share (pure: rows in, PNG bytes out)."""
    if not sector_share:
        return None
    language = chart_language(language)
    with _pyplot() as plt:
        frame = sector_frame(sector_share, language)
        fig, ax = plt.subplots(figsize=(5.6, 0.32 * len(frame) + 0.9))
        ax.barh(frame["sector"].tolist(), frame["percent"].tolist(), color="#c8102e")
        ax.set_xlabel(labels(language)["chart_sector_axis"])
        ax.spines[["top", "right"]].set_visible(False)
        png = _figure_png(fig)
        plt.close(fig)
    return png


def entity_trend_chart(trend: dict[str, list[tuple[date, int]]], language: str = EN) -> bytes | None:
    if not trend:
        return None
    language = chart_language(language)
    with _pyplot() as plt:
        fig, ax = plt.subplots(figsize=(5.6, 2.6))
        weeks: list[date] = []
        for name, points in trend.items():
            series = pd.DataFrame(points, columns=["week_start", "articles"])
            ax.plot(series["week_start"], series["articles"], marker="o", label=name[:28])
            weeks = weeks or list(series["week_start"])
        ax.set_xticks(weeks, [i18n.day_month(week, language) for week in weeks])  # one tick per Monday
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel(labels(language)["chart_trend_axis"])
        ax.legend(fontsize=7, frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        fig.autofmt_xdate()
        png = _figure_png(fig)
        plt.close(fig)
    return png


def chart_trend(content: DigestContent) -> dict[str, list[tuple[date, int]]]:
    """The trend chart's lines, named as the chart can draw them: in the reader's language, or in
    English when no CJK font is installed (the chart then falls back to English, `chart_language`)."""
    if chart_language(content.language) == content.language:
        return content.entity_trend
    return {content.english_names.get(name, name): points for name, points in content.entity_trend.items()}


def render(
    content: DigestContent,
    recipient_name: str = "reader",
    *,
    quiet_reason: str | None = None,
    unsubscribe_url: str | None = None,
) -> RenderedDigest:
    """The digest in the content's language; `unsubscribe_url` is the footer's link."""
    language = content.language
    env = template_environment()
    images: dict[str, bytes] = {}
    sector_png = sector_chart(content.sector_share, language) if content.stories else None
    trend_png = entity_trend_chart(chart_trend(content), language) if content.stories else None
    if sector_png:
        images["sector-share@hkai"] = sector_png
    if trend_png:
        images["entity-trend@hkai"] = trend_png
    subject = i18n.subject(content.week_start, content.week_end, language)
    t = labels(language)
    headline = t["collected"].format(relevant=content.relevant_articles, all=content.all_articles)
    if content.filtered:
        headline += " · " + t["matched"].format(matched=content.matched_articles)
    context = {
        "c": content,
        "t": t,
        "lang": language,
        "recipient": recipient_name,
        "subject": subject,
        "dates": t["dates"].format(range=i18n.date_range(content.week_start, content.week_end, language)),
        "headline": headline,
        "quiet": not content.stories,
        "quiet_text": t["quiet_text"].format(
            reason=t["quiet_reason"].format(reason=quiet_reason) if quiet_reason else "",
            all=content.all_articles,
        ),
        "sector_name": lambda sector: sector_name(sector, language),
        "type_name": lambda kind: entity_type_name(kind, language),
        "unsubscribe_url": unsubscribe_url,
        "sector_cid": "sector-share@hkai" if sector_png else None,
        "trend_cid": "entity-trend@hkai" if trend_png else None,
    }
    html = env.get_template("digest.html").render(**context)
    html = css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False).inline(html)
    text = env.get_template("digest.txt").render(**context)
    return RenderedDigest(subject=subject, html=html, text=text, images=images)
