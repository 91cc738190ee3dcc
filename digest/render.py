"""Render the digest: charts (matplotlib PNG bytes), HTML (Jinja2, autoescaped, CSS inlined) and text."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import css_inline
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from digest.select import DigestContent


@dataclass
class RenderedDigest:
    subject: str
    html: str
    text: str
    images: dict[str, bytes] = field(default_factory=dict)  # content-id (no brackets) → PNG


def _environment() -> Environment:
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


def sector_frame(sector_share: list[dict]) -> pd.DataFrame:
    """The chart's data: sector and percent of the week's articles, smallest first (bars stack upwards)."""
    frame = pd.DataFrame(sector_share, columns=["sector", "share"])
    frame["percent"] = frame["share"].astype(float) * 100
    return frame.sort_values("percent", kind="stable", ignore_index=True)


def sector_chart(sector_share: list[dict]) -> bytes | None:
    """Horizontal bars of the week's sector share (pure: rows in, PNG bytes out)."""
    if not sector_share:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = sector_frame(sector_share)
    fig, ax = plt.subplots(figsize=(5.6, 0.32 * len(frame) + 0.9))
    ax.barh(frame["sector"].tolist(), frame["percent"].tolist(), color="#c8102e")
    ax.set_xlabel("% of this week's AI-in-HK articles")
    ax.spines[["top", "right"]].set_visible(False)
    png = _figure_png(fig)
    plt.close(fig)
    return png


def entity_trend_chart(trend: dict[str, list[tuple[date, int]]]) -> bytes | None:
    if not trend:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 2.6))
    for name, points in trend.items():
        series = pd.DataFrame(points, columns=["week_start", "articles"])
        ax.plot(series["week_start"], series["articles"], marker="o", label=name[:28])
    ax.set_ylabel("articles / week")
    ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.autofmt_xdate()
    png = _figure_png(fig)
    plt.close(fig)
    return png


def render(
    content: DigestContent, recipient_name: str = "reader", *, quiet_reason: str | None = None
) -> RenderedDigest:
    env = _environment()
    images: dict[str, bytes] = {}
    sector_png = sector_chart(content.sector_share) if content.stories else None
    trend_png = entity_trend_chart(content.entity_trend) if content.stories else None
    if sector_png:
        images["sector-share@hkai"] = sector_png
    if trend_png:
        images["entity-trend@hkai"] = trend_png
    iso = content.week_start.isocalendar()
    subject = f"Hong Kong AI weekly: {iso.year}-W{iso.week:02d} ({content.week_start:%d %b}–{content.week_end:%d %b %Y})"
    quiet = not content.stories
    context = {
        "c": content,
        "recipient": recipient_name,
        "subject": subject,
        "quiet": quiet,
        "quiet_reason": quiet_reason,
        "sector_cid": "sector-share@hkai" if sector_png else None,
        "trend_cid": "entity-trend@hkai" if trend_png else None,
    }
    html = env.get_template("digest.html").render(**context)
    html = css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False).inline(html)
    text = env.get_template("digest.txt").render(**context)
    return RenderedDigest(subject=subject, html=html, text=text, images=images)
