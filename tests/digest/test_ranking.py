"""Story ranking on small hand-checked inputs (digest/ranking.py is pure: no database)."""

from __future__ import annotations

from datetime import date

import pytest

from digest.ranking import Candidate, rank_stories, story_score

WEEK = date(2025, 11, 24)
EARLIER = date(2025, 11, 3)
FIRST_WEEKS = {"hkma": WEEK, "cyberport": EARLIER, "hsbc": EARLIER, "newco": WEEK}


def _order(candidates: list[Candidate], limit: int = 10) -> list[tuple[int, float]]:
    return [(r.candidate.article_id, r.score) for r in rank_stories(candidates, FIRST_WEEKS, WEEK, limit)]


def test_score_adds_relevance_importance_novelty_and_reach() -> None:
    # 2 × 0.9 + 0.5 × (1.0 government body + 0.8 company) + 0.5 × 1 new entity (hkma) + 1 × (1 − 1)
    hkma = Candidate(1, 0.9, (("hkma", "government-body"), ("hsbc", "company")))
    assert story_score(hkma, FIRST_WEEKS, WEEK) == pytest.approx(3.2)
    # 2 × 0.5 + 0.5 × 0.9 organisation + 0 new + 1 × (3 outlets − 1)
    carried = Candidate(2, 0.5, (("cyberport", "organisation"),), cluster_id="c1", outlets=3)
    assert story_score(carried, FIRST_WEEKS, WEEK) == pytest.approx(3.45)
    # an unknown entity type weighs 0.5: 2 × 0.5 + 0.5 × 0.5
    assert story_score(Candidate(3, 0.5, (("x", "place"),)), FIRST_WEEKS, WEEK) == pytest.approx(1.25)


def test_only_the_first_six_entities_weigh_but_every_new_one_counts() -> None:
    people = tuple((f"p{k}", "person") for k in range(6)) + (("newco", "company"),)
    # 2 × 0.6 + 0.5 × (6 × 0.7; the 7th entity does not weigh) + 0.5 × 1 (newco is new this week)
    assert story_score(Candidate(5, 0.6, people), FIRST_WEEKS, WEEK) == pytest.approx(3.8)


def test_one_article_per_story_best_first() -> None:
    candidates = [
        Candidate(1, 0.9, (("hkma", "government-body"), ("hsbc", "company"))),  # 3.2
        Candidate(2, 0.5, (("cyberport", "organisation"),), cluster_id="c1", outlets=3),  # 3.45
        Candidate(3, 0.8, (("cyberport", "organisation"),), cluster_id="c1", outlets=3),  # 4.05
        Candidate(4, 1.0),  # 2.0
        Candidate(5, 0.6, tuple((f"p{k}", "person") for k in range(8))),  # 1.2 + 2.1 = 3.3
    ]
    # Article 3 stands for story c1 (4.05 beats article 2's 3.45), then 5 (3.3), 1 (3.2), 4 (2.0).
    assert _order(candidates) == [(3, 4.05), (5, 3.3), (1, 3.2), (4, 2.0)]
    assert _order(candidates, limit=2) == [(3, 4.05), (5, 3.3)]
    assert _order(list(reversed(candidates))) == _order(candidates)  # input order does not matter


def test_ties_go_to_the_lower_article_id() -> None:
    same_story = [Candidate(9, 0.5, cluster_id="c"), Candidate(7, 0.5, cluster_id="c")]
    assert _order(same_story) == [(7, 1.0)]
    two_stories = [Candidate(9, 0.5), Candidate(7, 0.5)]
    assert _order(two_stories) == [(7, 1.0), (9, 1.0)]


def test_nothing_to_rank() -> None:
    assert rank_stories([], FIRST_WEEKS, WEEK) == []
