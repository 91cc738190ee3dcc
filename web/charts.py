"""Charts drawn on the server (matplotlib, Agg) as PNG data: URIs, so a page needs no script, no
CDN and no second request. pyplot keeps global state, so drawing is serialised with a lock (the
api-server answers requests from a thread pool)."""

from __future__ import annotations

import base64
import io
import threading
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from digest.i18n import EN, sector_name

_LOCK = threading.Lock()
RED, GREY = "#c8102e", "#9aa5b1"


def _data_uri(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "font.family": ["DejaVu Sans"]})
    return plt


def sector_share_chart(rows: list[dict[str, Any]], week: date, previous: date) -> str | None:
    """Grouped horizontal bars: each sector's share of relevant articles, this week and the week before."""
    if not rows:
        return None
    return _sector_share_chart(
        tuple((str(r["sector"]), float(r["this"]), float(r["last"])) for r in rows), week, previous
    )


# Drawing takes 100-200 ms and the same data always gives the same picture: keep recent ones.
@lru_cache(maxsize=64)
def _sector_share_chart(rows: tuple[tuple[str, float, float], ...], week: date, previous: date) -> str:
    shown = list(reversed(rows))  # barh draws bottom-up; the largest sector goes on top
    labels = [sector_name(sector, EN) for sector, _, _ in shown]
    with _LOCK:
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(5.0, 0.45 * len(shown) + 1.4))
        positions = list(range(len(shown)))
        ax.barh(
            [p + 0.2 for p in positions],
            [100 * this for _, this, _ in shown],
            0.4,
            color=RED,
            label=f"week of {week:%d %b}",
        )
        ax.barh(
            [p - 0.2 for p in positions],
            [100 * last for _, _, last in shown],
            0.4,
            color=GREY,
            label=f"week of {previous:%d %b}",
        )
        ax.set_yticks(positions, labels)
        ax.set_xlabel("% of the week's AI-in-HK articles")
        ax.legend(fontsize=8, frameon=False, loc="lower right")
        ax.spines[["top", "right"]].set_visible(False)
        uri = _data_uri(fig)
        plt.close(fig)
    return uri


def timeline_chart(points: list[tuple[date, int]]) -> str | None:
    """Weekly relevant articles naming the entity on a time axis from its first week to its last:
    one bar per week with mentions, so a week without any shows as a gap."""
    if not points:
        return None
    return _timeline_chart(tuple(points))


@lru_cache(maxsize=256)
def _timeline_chart(points: tuple[tuple[date, int], ...]) -> str:
    weeks = [week for week, _ in points]
    with _LOCK:
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(5.2, 2.6))
        # Only the weeks with mentions are drawn (years of empty weeks would cost a bar each).
        ax.bar(weeks, [n for _, n in points], width=6, color=RED)
        ax.set_xlim(min(weeks) - timedelta(days=14), max(weeks) + timedelta(days=14))
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("articles / week")
        ax.spines[["top", "right"]].set_visible(False)
        if len(weeks) == 1:
            ax.set_xticks(weeks, [f"{weeks[0]:%d %b %Y}"])
        fig.autofmt_xdate()
        uri = _data_uri(fig)
        plt.close(fig)
    return uri
