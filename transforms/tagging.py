"""Relevance, entity, sector and theme tagging over one Aho-Corasick automaton.

Text is folded before matching (`transforms.text.fold`: half-width, lower case, Simplified →
Traditional with OpenCC) in a way that keeps every character's offset, so each tag's evidence points
at the exact text that caused it. Latin patterns need word boundaries; short all-caps forms (HKU,
SFC, AI) must match case; ambiguous aliases (HA, EDB) count only with the entity's other names or
context words.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

import ahocorasick_rs

from transforms.kb import KbEntity, load_entities, load_vocab
from transforms.names import find_candidates
from transforms.text import (
    clean_text,
    clean_title,
    fold,
    to_hong_kong_traditional,
    to_simplified,
    to_traditional,
)

_FLIGHT_AFTER = re.compile(r"\s?\d{2,4}\b")
_AUTHORIZED_INSTITUTIONS = re.compile(r"authori[sz]ed institutions?|認可機構", re.IGNORECASE)
_NEVER = re.compile("(?!)")  # as a `fold` gate: never convert the script
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# Chinese job titles that follow the name of a body: 局長, 署長, 主席, 行政總裁, 校長, 議員 ...
_JOB_TITLES = (
    "副局長",
    "局長",
    "副署長",
    "署長",
    "副處長",
    "處長",
    "副主席",
    "主席",
    "行政總裁",
    "副總裁",
    "總裁",
    "專員",
    "司長",
    "常任秘書長",
    "秘書長",
    "總監",
    "院長",
    "副校長",
    "校長",
    "總幹事",
    "議員",
    "首席",
)
MAX_CHARS = 200_000  # longer bodies are cut: tags come from the first 200k characters
# Characters OpenCC would convert but Hong Kong Traditional text writes as they are (公里, 恒生, 伙伴, 電台,
# 高峰, 旅游 in names, and the surnames 余 游 范 岩 杰).
HK_TRADITIONAL_SHARED = frozenset("里恒伙余台内峰游岩杰范")


def _is_latin(ch: str) -> bool:
    return ch in _ASCII_ALNUM


def _case_sensitive(surface: str) -> bool:
    """Short all-caps Latin forms (AI, HKU, SFC, 5G) must match their case exactly."""
    letters = [c for c in surface if c.isalpha()]
    return len(surface) <= 5 and surface.isascii() and bool(letters) and all(c.isupper() for c in letters)


@dataclass(frozen=True)
class Pattern:
    kind: str  # entity | ai | hk | elsewhere | sector | theme
    key: str  # entity id, sector or theme name; "" for vocab
    weight: float
    surface: str  # the pattern as written in the KB (for the case rule)
    ambiguous: bool = False
    exact_case: bool = False


@dataclass(slots=True)
class Match:
    field: str
    start: int
    end: int
    text: str
    pattern: Pattern


# An automaton over folded pattern keys, and per key: starts with a Latin letter, ends with one, patterns.
Automaton = tuple[Any, list[tuple[bool, bool, tuple[Pattern, ...]]]]


@dataclass
class TagResult:
    relevant: bool
    relevance: float
    ai_score: float
    hk_score: float
    entities: list[dict[str, Any]]
    sectors: list[dict[str, Any]]
    themes: list[dict[str, Any]]
    candidates: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_output(self) -> dict[str, Any]:
        """The `hkai tag` contract."""
        return {
            "relevant": self.relevant,
            "relevance": round(self.relevance, 4),
            "ai_score": round(self.ai_score, 4),
            "hk_score": round(self.hk_score, 4),
            # knowledge-base entities, then new names (kb_id null) found by pattern in relevant articles
            "entities": self.entities
            + [
                {"name": c["name"], "type": c["type"], "kb_id": None, "mentions": [c["name"]]}
                for c in self.candidates
            ],
            "sectors": [s["sector"] for s in self.sectors],
            "themes": [t["theme"] for t in self.themes],
            "sector_confidence": {s["sector"]: s["confidence"] for s in self.sectors},
            "theme_confidence": {t["theme"]: t["confidence"] for t in self.themes},
            "evidence": self.evidence,
        }


@dataclass(slots=True)
class _Article:
    """One article as the tagger reads it: cleaned and folded text, and its matches by pattern kind
    (entity, ai, hk, elsewhere), without overlaps."""

    title: str
    body: str
    folded_title: str
    folded_body: str
    matches: dict[str, list[Match]] = field(default_factory=dict)

    def text(self, field_name: str) -> str:
        return self.title if field_name == "title" else self.body


@dataclass(slots=True)
class _Entities:
    """The knowledge-base entities an article names, their evidence, and the Hong Kong angle they give."""

    found: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    hk_weight: float = 0.0


@dataclass(slots=True)
class _AiTopic:
    """The AI vocabulary that counts, its weight against the weight needed, and whether AI is the
    story's subject rather than a passing mention."""

    hits: list[Match]
    raw: float
    needed: float
    core: bool

    @property
    def is_topic(self) -> bool:
        return self.core and self.raw >= self.needed


class _Labels(NamedTuple):
    """Sectors or themes, best first, with the evidence for each."""

    found: list[dict[str, Any]]
    evidence: dict[str, list[dict[str, Any]]]


def _score(raw: float, scale: float) -> float:
    return 1.0 - math.exp(-raw / scale)


class Tagger:
    """Build once (well under a second), then tag many articles."""

    AI_THRESHOLD = 3.0
    HK_THRESHOLD = 2.0
    TAG_THRESHOLD = 2.0
    MIN_AI_DENSITY = 1.5
    TITLE_AI_ALONE = True
    LISTS_COUNT_LESS = True
    REPEATS_COUNT = True
    JOB_TITLE_RULE = True
    LEAD_COUNTS = True

    def __init__(self, entities: dict[str, KbEntity] | None = None, vocab: dict[str, Any] | None = None):
        self.entities = entities if entities is not None else load_entities()
        self.vocab = vocab or load_vocab()
        patterns: dict[str, list[Pattern]] = defaultdict(list)
        # Sector and theme words are matched only in relevant articles, a few in a hundred: they get
        # their own automaton so the common pass over every article stays small.
        label_patterns: dict[str, list[Pattern]] = defaultdict(list)
        # Context words are looked up only when an ambiguous alias matched, not on every article.
        self.context_words: dict[str, tuple[str, ...]] = {}

        def add(surface: str, pattern: Pattern) -> None:
            key = fold(surface.strip())
            if len(key) < 2 and not key.isascii():
                return
            if not key:
                return
            if _case_sensitive(pattern.surface):
                pattern = Pattern(
                    pattern.kind, pattern.key, pattern.weight, pattern.surface, pattern.ambiguous, True
                )
            target = label_patterns if pattern.kind in ("sector", "theme") else patterns
            target[key].append(pattern)
            # Text is folded to Traditional only when it holds a Simplified character that matters, so
            # a name written with a character HK Traditional shares with Simplified (余偉文) must also
            # match as written.
            unconverted = fold(surface.strip(), _NEVER)
            if unconverted != key and pattern not in target[unconverted]:
                target[unconverted].append(pattern)

        for entity in self.entities.values():
            for name in entity.names:
                add(name, Pattern("entity", entity.id, 1.0, name))
            for alias in entity.ambiguous_aliases:
                add(alias, Pattern("entity", entity.id, 1.0, alias, ambiguous=True))
            if entity.context:
                self.context_words[entity.id] = tuple(fold(w) for w in entity.context if w.strip())
        for kind in ("ai", "hk"):
            for weight, terms in self.vocab[kind].items():
                for term in terms:
                    surface = str(term).upper() if len(str(term)) <= 3 and str(term).isascii() else str(term)
                    add(surface, Pattern(kind, "", float(weight), surface))
        for term in self.vocab.get("elsewhere", []):
            add(str(term), Pattern("elsewhere", "", 1.0, str(term)))
        for group in ("sectors", "themes"):
            kind = group[:-1]
            for name, spec in self.vocab[group].items():
                # a plain list (weight 1) or {weight: [terms]} where specific phrases weigh more
                weighted = spec.items() if isinstance(spec, dict) else [(1.0, spec)]
                for weight, terms in weighted:
                    for term in terms:
                        text = str(term)
                        surface = text.upper() if len(text) <= 3 and text.isascii() else text
                        add(surface, Pattern(kind, name, float(weight), surface))
        self.automaton = _build_automaton(patterns)
        # whether naming each entity gives a story a Hong Kong angle (a rule over its names: computed once)
        self.hk_local = {entity_id: entity.hk_local for entity_id, entity in self.entities.items()}
        self.label_automaton = _build_automaton(label_patterns)
        context_keys = (w for ws in self.context_words.values() for w in ws)
        self.simplified_gate = _simplified_gate([*patterns, *label_patterns, *context_keys])

    # -- matching ------------------------------------------------------------------------------
    def _fold(self, original: str) -> str:
        return fold(original, self.simplified_gate or _NEVER)

    def _matches(
        self,
        field_name: str,
        original: str,
        folded: str | None = None,
        automaton: Automaton | None = None,
    ) -> list[Match]:
        folded = self._fold(original) if folded is None else folded
        found: list[Match] = []
        size = len(folded)
        finder, values = automaton or self.automaton
        for index, start, end in finder.find_matches_as_indexes(folded, overlapping=True):
            latin_start, latin_end, patterns = values[index]
            if latin_start and start > 0 and folded[start - 1] in _ASCII_ALNUM:
                continue
            if latin_end and end < size and folded[end] in _ASCII_ALNUM:
                continue
            surface = original[start:end]
            for pattern in patterns:
                if pattern.exact_case and surface != pattern.surface:
                    continue
                found.append(Match(field_name, start, end, surface, pattern))
        return found

    @staticmethod
    def _longest_first(matches: list[Match]) -> list[Match]:
        """Non-overlapping matches, the longest winning at each overlap."""
        chosen: list[Match] = []
        taken: dict[str, bytearray] = {}
        for match in sorted(matches, key=lambda m: (m.start - m.end, m.field, m.start)):
            covered = taken.get(match.field)
            if covered is None:
                covered = taken[match.field] = bytearray(max(m.end for m in matches))
            if 1 in covered[match.start : match.end]:
                continue
            covered[match.start : match.end] = b"\x01" * (match.end - match.start)
            chosen.append(match)
        return sorted(chosen, key=lambda m: (m.field != "title", m.start))

    # -- tagging -------------------------------------------------------------------------------
    def tag(self, title: str | None, body: str | None, language: str | None = None) -> TagResult:
        """Tag one article. A story is relevant when it is about AI and has a Hong Kong angle; its
        sectors and themes are labelled only then. (`language` is part of the `hkai tag` contract;
        folding makes the tagger work the same on English, Traditional and Simplified text.)"""
        article = self._read(title, body)
        entities = self._tag_entities(article)
        ai = self._ai_topic(article)
        hk_raw, hk_needed = self._hk_angle(article, entities.hk_weight)
        ai_score, hk_score = _score(ai.raw, ai.needed), _score(hk_raw, hk_needed)
        relevant = ai.is_topic and hk_raw >= hk_needed
        if relevant:
            sectors, themes = self._sectors_and_themes(article, ai.hits)
        else:
            sectors, themes = _Labels([], {}), _Labels([], {})
        # People are named the same way in any story; organisation patterns are noisier, so they run
        # only on relevant stories (where "new names this week" come from).
        candidates = find_candidates(
            article.title, article.body, known=self._known_surface_forms, organisations=relevant
        )
        return TagResult(
            relevant=relevant,
            relevance=math.sqrt(ai_score * hk_score),
            ai_score=ai_score,
            hk_score=hk_score,
            entities=entities.found,
            sectors=sectors.found,
            themes=themes.found,
            candidates=candidates,
            evidence={
                "entities": entities.evidence,
                "sectors": sectors.evidence,
                "themes": themes.evidence,
                "ai": [_span(m) for m in ai.hits[:20]],
                "hk": [_span(m) for m in article.matches["hk"][:20]],
            },
        )

    def _read(self, title: str | None, body: str | None) -> _Article:
        """Clean and fold the text (bodies cut at MAX_CHARS), and find its entity and vocabulary
        matches, the longest winning where they overlap."""
        clean_t = clean_title(title or "")
        clean_b = clean_text(body or "")[:MAX_CHARS]
        article = _Article(clean_t, clean_b, self._fold(clean_t), self._fold(clean_b))
        matches = self._matches("title", clean_t, article.folded_title) + self._matches(
            "body", clean_b, article.folded_body
        )
        article.matches = {
            kind: self._longest_first([m for m in matches if m.pattern.kind == kind])
            for kind in ("entity", "ai", "hk", "elsewhere")
        }
        return article

    def _tag_entities(self, article: _Article) -> _Entities:
        """Entities named in the article. An ambiguous alias counts only with another name of the
        entity or one of its context words; an entity local to Hong Kong gives the story its angle."""
        by_entity: dict[str, list[Match]] = defaultdict(list)
        for match in article.matches["entity"]:
            by_entity[match.pattern.key].append(match)
        tagged = _Entities()
        for entity_id, hits in by_entity.items():
            confirmed = any(not h.pattern.ambiguous for h in hits) or self._has_context(article, entity_id)
            if not confirmed:
                continue
            entity = self.entities[entity_id]
            if self.hk_local[entity_id]:
                weight = 1.0 if entity.type == "person" else 1.5
                tagged.hk_weight += weight + (0.5 if any(h.field == "title" for h in hits) else 0.0)
            if self._only_in_job_titles(article, entity, hits):
                continue
            tagged.found.append(
                {
                    "name": entity.name,
                    "type": entity.type,
                    "kb_id": entity.id,
                    "mentions": list(dict.fromkeys(h.text for h in hits)),
                }
            )
            tagged.evidence[entity_id] = [_span(h) for h in hits]
        return tagged

    def _has_context(self, article: _Article, entity_id: str) -> bool:
        words = self.context_words.get(entity_id, ())
        return any(word in article.folded_title or word in article.folded_body for word in words)

    def _only_in_job_titles(self, article: _Article, entity: KbEntity, hits: list[Match]) -> bool:
        """A body named only inside a job title (創新科技及工業局局長孫東) is the person's title,
        not a mention of the body (it still gives the story its Hong Kong angle)."""
        return (
            self.JOB_TITLE_RULE
            and entity.type == "government-body"
            and all(article.text(h.field).startswith(_JOB_TITLES, h.end) for h in hits)
        )

    def _ai_topic(self, article: _Article) -> _AiTopic:
        """How much AI vocabulary the article holds (title words count double) against what its
        length requires, and whether AI is its subject."""
        hits = _ai_hits(article)
        # "數據、人工智能、韌性和代幣化", "fintech, AI and biotech": a topic listed among others is
        # a passing mention, whatever the article is about.
        listed = {
            id(m)
            for m in hits
            if self.LISTS_COUNT_LESS and _enumerated(article.text(m.field), m.start, m.end)
        }
        raw = sum(
            m.pattern.weight * (2 if m.field == "title" else 1) * (0.5 if id(m) in listed else 1.0)
            for m in hits
        )
        long_text_penalty = len(article.body) / 3000.0
        strong = [m for m in hits if m.pattern.weight >= 2 and id(m) not in listed]
        return _AiTopic(
            hits, min(raw, 30.0), self.AI_THRESHOLD + long_text_penalty, self._ai_is_core(article, strong)
        )

    def _ai_is_core(self, article: _Article, strong: list[Match]) -> bool:
        """Whether AI is the story's subject, from its strong AI words (weight 2+, not in a list).

        Supporting words never make a story about AI: it needs a decisive term, two different strong
        ones (robot + algorithm, say) or one strong word used again and again, and these must stand
        where a story states its subject. A single mention deep in the body is a passing mention."""
        body = article.body
        in_title = any(m.field == "title" for m in strong)
        # The lead sentence states what a news story is about, like its headline.
        lead_end = _lead_end(body)
        in_lead = any(m.field == "body" and m.start < lead_end and m.pattern.weight >= 3 for m in strong)
        density = len(strong) * 1000 / max(len(body), 500)  # strong mentions per 1,000 characters
        # one strong word in different sentences ("AI" three times) is the topic too
        repeated = self.REPEATS_COUNT and len(strong) >= 3 and len(_sentence_ids(body, strong)) >= 2
        decisive = (
            any(m.pattern.weight >= 3 for m in strong)
            or len({fold(m.text) for m in strong}) >= 2
            or repeated
            or (self.TITLE_AI_ALONE and in_title)
        )
        prominent = (
            in_title
            or (self.LEAD_COUNTS and in_lead)
            or (len(strong) >= 2 and density >= self.MIN_AI_DENSITY)
        )
        return decisive and prominent

    def _hk_angle(self, article: _Article, from_entities: float) -> tuple[float, float]:
        """The Hong Kong weight and the weight needed. Generic words (government, secretary) say
        nothing about where: only places, HK bodies and HK-specific terms count, and a story that
        names many places elsewhere needs more."""
        raw = sum(
            m.pattern.weight * (2 if m.field == "title" else 1)
            for m in article.matches["hk"]
            if m.pattern.weight >= 2
        )
        raw += from_entities
        elsewhere = len(article.matches["elsewhere"])
        return raw, self.HK_THRESHOLD + (1.0 if elsewhere > 3 and raw < 6 else 0.0)

    def _sectors_and_themes(self, article: _Article, ai_hits: list[Match]) -> tuple[_Labels, _Labels]:
        """Sectors say where AI is applied and themes what the AI story is about."""
        automaton = self.label_automaton
        matches = self._matches("title", article.title, article.folded_title, automaton) + self._matches(
            "body", article.body, article.folded_body, automaton
        )
        near_ai = _sentences_with(article.body, [m for m in ai_hits if m.field == "body"])
        title_has_ai = any(m.field == "title" for m in ai_hits)
        sectors, themes = (
            self._labels(
                self._longest_first([m for m in matches if m.pattern.kind == kind]),
                kind,
                near_ai,
                title_has_ai,
            )
            for kind in ("sector", "theme")
        )
        return sectors, themes

    RELATIVE_TO_TOP = 0.25
    THEME_THRESHOLD = 2.0
    FAR_FROM_AI = 0.35  # a label word outside every sentence that mentions AI counts this much

    def _labels(
        self,
        matches: list[Match],
        kind: str,
        near_ai: _SentenceIndex | None = None,
        title_has_ai: bool = True,
    ) -> _Labels:
        """Where the AI is applied: label words count fully in sentences that mention AI (and in a
        title about AI), and little elsewhere in the article."""
        scores: dict[str, float] = defaultdict(float)
        evidence: dict[str, list[dict[str, Any]]] = defaultdict(list)
        seen_terms: dict[str, set[str]] = defaultdict(set)
        for match in matches:
            term = match.text.lower()
            # repeated use of one word counts less than several different words
            bonus = 1.0 if term not in seen_terms[match.pattern.key] else 0.34
            seen_terms[match.pattern.key].add(term)
            if match.field == "title":
                place = 2.0 if title_has_ai else 1.0
            elif near_ai is None or near_ai.contains(match.start):
                place = 1.0
            else:
                place = self.FAR_FROM_AI
            scores[match.pattern.key] += bonus * place * match.pattern.weight
            evidence[match.pattern.key].append(_span(match))
        # An article is mostly about one or two sectors and themes: a label far behind the leading
        # one is background, however often its words occur.
        top = max(scores.values(), default=0.0)
        threshold = self.THEME_THRESHOLD if kind == "theme" else self.TAG_THRESHOLD
        keys = [
            key
            for key, score in sorted(scores.items(), key=lambda kv: -kv[1])
            if score >= threshold and score >= self.RELATIVE_TO_TOP * top
        ]
        labels = [{kind: key, "confidence": round(_score(scores[key], threshold * 1.5), 3)} for key in keys]
        return _Labels(labels, {key: evidence[key] for key in keys})

    @cached_property
    def _known_surface_forms(self) -> set[str]:
        return {fold(n) for e in self.entities.values() for n in e.names}


def _ai_hits(article: _Article) -> list[Match]:
    """AI vocabulary matches, without "AI" as an airline code before a flight number, nor where the
    text defines AIs as authorized institutions (unless a decisive AI term occurs too)."""
    matches = article.matches["ai"]
    defines_ais = bool(
        _AUTHORIZED_INSTITUTIONS.search(article.title) or _AUTHORIZED_INSTITUTIONS.search(article.body)
    )
    strong_ai = any(m.pattern.weight >= 3 for m in matches)
    hits: list[Match] = []
    for match in matches:
        if match.pattern.surface == "AI":
            following = article.text(match.field)[match.end : match.end + 6]
            if _FLIGHT_AFTER.match(following):
                continue
            if defines_ais and not strong_ai:
                continue
        hits.append(match)
    return hits


def _simplified_gate(keys: Iterable[str]) -> re.Pattern[str] | None:
    """Characters whose presence means Simplified → Traditional folding can create a match: the
    Simplified forms of the pattern keys that differ from the Traditional ones. Characters Hong Kong
    Traditional also writes would open the gate on most articles: they are left out."""
    simplified = {
        c
        for key in keys
        for c in to_simplified(key)
        if to_traditional(c) != c and to_hong_kong_traditional(c) != c and c not in HK_TRADITIONAL_SHARED
    }
    return re.compile("[" + re.escape("".join(sorted(simplified))) + "]") if simplified else None


_SENTENCE_END = re.compile(r"[。！？!?;；\n]|\.(?=\s)")


_LIST_MARKS_ZH = "、及和與或"


def _enumerated(text: str, start: int, end: int) -> bool:
    """Is the term one item of a list ("A、B及C", "A, B and C")?"""
    before = text[max(0, start - 5) : start]
    after = text[end : end + 5]
    if (before[-1:] and before[-1] in _LIST_MARKS_ZH) or (after[:1] and after[0] in _LIST_MARKS_ZH):
        return True
    return before.endswith((", ", "and ", "or ")) or after.startswith((",", " and ", " or ", "/"))


def _lead_end(body: str, limit: int = 300) -> int:
    """End of the lead: the first sentence of the first non-empty line (bylines are short lines)."""
    offset = 0
    for line in body.split("\n"):
        if len(line.strip()) >= 40:
            found = _SENTENCE_END.search(line)
            return offset + min(found.end() if found else len(line), limit)
        offset += len(line) + 1
    return min(len(body), limit)


class _SentenceIndex:
    """The sentences of a text that hold at least one of the given matches."""

    def __init__(self, ends: list[int], marked: set[int]):
        self.ends, self.marked = ends, marked

    def contains(self, offset: int) -> bool:
        return bisect.bisect_right(self.ends, offset) in self.marked


def _sentence_ids(text: str, matches: list[Match]) -> set[int]:
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return {bisect.bisect_right(ends, m.start) for m in matches if m.field == "body"}


def _sentences_with(text: str, matches: list[Match]) -> _SentenceIndex:
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return _SentenceIndex(ends, {bisect.bisect_right(ends, m.start) for m in matches})


def _build_automaton(patterns: dict[str, list[Pattern]]) -> Automaton:
    """A Rust Aho-Corasick automaton (several times faster than pyahocorasick on CJK text, whose
    root has hundreds of first characters) and, per key, whether it starts/ends with a Latin
    letter (for the word-boundary checks) and its patterns."""
    keys = list(patterns)
    finder = ahocorasick_rs.AhoCorasick(keys, matchkind=ahocorasick_rs.MatchKind.Standard)
    values = [(_is_latin(key[0]), _is_latin(key[-1]), tuple(patterns[key])) for key in keys]
    return finder, values


def _span(match: Match) -> dict[str, Any]:
    return {"field": match.field, "start": match.start, "end": match.end, "text": match.text}


@lru_cache(maxsize=1)
def default_tagger() -> Tagger:
    return Tagger()


def tag_record(record: dict[str, Any], tagger: Tagger | None = None) -> dict[str, Any]:
    """`hkai tag` contract: the input record plus the tag fields."""
    result = (tagger or default_tagger()).tag(record.get("title"), record.get("body"), record.get("language"))
    return {**record, **result.as_output()}
