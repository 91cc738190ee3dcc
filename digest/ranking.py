"""Story ranking (pure): which of the week's articles lead the digest, one per story.

    score = 2 × relevance + 0.5 × Σ importance(entity type) + 0.5 × novelty + 1 × (outlets − 1)

importance is summed over the article's first six entities (ENTITY_WEIGHT, 0.5 for other types);
novelty counts the article's entities first seen this week; outlets is the number of outlets that
carried the article's story (1 for an article outside any story). Each story is represented by its
best-scoring article; stories are ordered by score, then by article id, as are ties inside a story.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

ENTITY_WEIGHT = {
    "government-body": 1.0,
    "programme": 1.0,
    "organisation": 0.9,
    "university": 0.9,
    "research-institute": 0.9,
    "company": 0.8,
    "person": 0.7,
    "product": 0.6,
}
OTHER_ENTITY_WEIGHT = 0.5
WEIGHED_ENTITIES = 6


@dataclass(frozen=True)
class Candidate:
    """What the ranking needs to know about one article."""

    article_id: int
    relevance: float
    entities: tuple[tuple[str, str], ...] = ()  # (entity id, entity type), in tagging order
    cluster_id: str | None = None
    outlets: int = 1  # outlets that carried the article's story

    @property
    def story(self) -> str:
        """The story the article belongs to: its cluster, or the article alone."""
        return self.cluster_id or f"a{self.article_id}"


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    score: float


def story_score(candidate: Candidate, first_weeks: Mapping[str, date], week_start: date) -> float:
    """The formula above; `first_weeks` maps an entity to the first week it was mentioned."""
    importance = sum(
        ENTITY_WEIGHT.get(entity_type, OTHER_ENTITY_WEIGHT)
        for _, entity_type in candidate.entities[:WEIGHED_ENTITIES]
    )
    novelty = sum(1 for entity_id, _ in candidate.entities if first_weeks.get(entity_id) == week_start)
    score = 2.0 * candidate.relevance + 0.5 * importance + 0.5 * novelty + 1.0 * (candidate.outlets - 1)
    return round(score, 3)


def rank_stories(
    candidates: Iterable[Candidate], first_weeks: Mapping[str, date], week_start: date, limit: int = 10
) -> list[Ranked]:
    """The best article of each story, best stories first, at most `limit`."""
    scored = sorted(
        (Ranked(c, story_score(c, first_weeks, week_start)) for c in candidates),
        key=lambda r: (-r.score, r.candidate.article_id),
    )
    leaders: dict[str, Ranked] = {}
    for ranked in scored:
        leaders.setdefault(ranked.candidate.story, ranked)
    return list(leaders.values())[:limit]
