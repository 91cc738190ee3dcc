"""The spike statistic behind `mart_entity_spikes` (defined in mart_entity_spikes.yml).

For entity e and week w, baseline b = mean weekly articles mentioning e over the 4 weeks before w
(weeks with no mention count as 0); score = (articles - b) / sqrt(b + 1), a Poisson-style z-score
that stays finite for new entities. Rows with articles >= 2 and score >= 1.5 are kept.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

SPIKE_WINDOW_WEEKS = 4
SPIKE_MIN_ARTICLES = 2
SPIKE_MIN_SCORE = 1.5


def as_date(value: Any) -> date:
    """A date from a date, a datetime or an ISO string (SQLite returns strings)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def compute_spikes(weekly: list[tuple[date, str, str, int]]) -> list[dict[str, Any]]:
    """Pure: (week, entity_id, entity_name, articles) rows → spike rows."""
    counts: dict[tuple[str, date], int] = {}
    names: dict[str, str] = {}
    for week, entity_id, name, articles in weekly:
        counts[(entity_id, as_date(week))] = int(articles)
        names[entity_id] = name
    spikes = []
    for (entity_id, week), articles in sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if articles < SPIKE_MIN_ARTICLES:
            continue
        history = [
            counts.get((entity_id, week - timedelta(weeks=k)), 0) for k in range(1, SPIKE_WINDOW_WEEKS + 1)
        ]
        baseline = sum(history) / SPIKE_WINDOW_WEEKS
        score = (articles - baseline) / math.sqrt(baseline + 1.0)
        if score >= SPIKE_MIN_SCORE:
            spikes.append(
                {
                    "week_start": week,
                    "entity_id": entity_id,
                    "entity_name": names[entity_id],
                    "articles": articles,
                    "baseline": round(baseline, 4),
                    "score": round(score, 4),
                }
            )
    return spikes
