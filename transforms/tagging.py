"""Relevance, entity, sector and theme tagging over one Aho-Corasick automaton.

Text is folded before matching (`transforms.text.fold`: half-width, lower case, Simplified →
Traditional with OpenCC) in a way that keeps every character's offset, so each tag's evidence points
at the exact text that caused it. Latin patterns need word boundaries; short all-caps forms (HKU,
SFC, AI) must match case; ambiguous aliases (HA, EDB) count only with the entity's other names or
context words.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import importlib.metadata
import logging
import math
import os
import pickle  # noqa: S403 - the tagger's own table cache (see _cached_tables)
import re
import sys
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

import ahocorasick_rs

from transforms import text as text_module
from transforms.kb import KB_DIR, KbEntity, load_entities, load_vocab, name_variants
from transforms.learned import MODES, LabelModel, LearnedModel, ModelError, SparseVector, load_model
from transforms.mentions import MentionModel, MentionModelError, find_learned, load_mention_model
from transforms.names import find_candidates
from transforms.text import (
    clean_text,
    clean_title,
    fold,
    fold_width,
    to_hong_kong_traditional,
    to_simplified,
    to_traditional,
)

_FLIGHT_AFTER = re.compile(r"\s?\d{2,4}\b")
# What else "AI" abbreviates in news: banks' "authorized institutions", Amnesty International, Air India
_AI_EXPANDED_OTHERWISE = re.compile(
    r"authori[sz]ed institutions?|認可機構|amnesty international|國際特赦組織|air india|印度航空",
    re.IGNORECASE,
)
_NEVER = re.compile("(?!)")  # as a `fold` gate: never convert the script
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# a Latin name does not end right before "$": "invest HK$200 million" is a currency, not Invest HK
_ASCII_NAME_GOES_ON = _ASCII_ALNUM | {"$"}
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
log = logging.getLogger(__name__)
MAX_CHARS = 200_000  # longer bodies are cut: tags come from the first 200k characters
# The weight of an AI company's or AI product's name as AI vocabulary (vocab.yaml, `ai_entities`): strong,
# as "AI" and "robot" are, never decisive alone
AI_ENTITY_WEIGHT = 2.0
# Characters OpenCC would convert but Hong Kong Traditional text writes as they are (公里, 恒生, 伙伴, 電台,
# 高峰, 旅游 in names, the surnames 余 游 范 岩 杰 岳 朴, and 批准, 干預, 床位, 鰂魚涌, 征服, 群組 / 社群 (OpenCC
# writes 羣): with these in the gate, one in thirteen Hong Kong texts was converted for nothing).
HK_TRADITIONAL_SHARED = frozenset("里恒伙余台内峰游岩杰岳朴范准干床涌征群")


def _is_latin(ch: str) -> bool:
    return ch in _ASCII_ALNUM


def _case_sensitive(surface: str) -> bool:
    """Short all-caps Latin forms (AI, HKU, SFC, 5G) must match their case exactly."""
    if len(surface) > 5 or not surface.isascii():
        return False
    letters = [c for c in surface if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def _capitalised_name(pattern: Pattern) -> bool:
    """An entity's Latin name of two words or more that starts with a capital after any "The" (Scale
    AI, The Standard). (One word is left alone: Chinese text writes brands small, "facebook專頁".)"""
    surface = pattern.surface[4:] if pattern.surface[:4] in ("The ", "the ") else pattern.surface
    return (
        pattern.kind == "entity"
        and " " in pattern.surface
        and surface.isascii()
        and surface[:1].isupper()
        and not surface.startswith("Government")  # "the government of the Hong Kong SAR"
    )


def _written_small(text: str, start: int, end: int) -> bool:
    """Does the text write the name's first letter (after any "the") in lower case?"""
    if text[start : start + 4] in ("The ", "the ") and end - start > 4:
        start += 4
    return text[start].islower()


def _common_word_form(surface: str) -> bool:
    """An ambiguous alias that is one capitalised English word (Police, Apple, Meta, Post): as a
    name it is capitalised; lower case it is the word ("police said", "an apple")."""
    return surface.isascii() and surface.isalpha() and surface[:1].isupper() and surface[1:].islower()


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
    # reading order as one number (title first, then body, by start): sorting on it needs no key call
    order: int = 0


# An automaton over folded pattern keys, and per key: starts with a Latin letter, ends with one, patterns,
# whether any of them must match case.
AutomatonEntry = tuple[int, bool, tuple["Pattern", ...], bool]
Automaton = tuple[Any, list[AutomatonEntry]]


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
            # knowledge-base entities, then new names (kb_id null): found by pattern (organisations in
            # relevant articles only) or proposed by the mention model, with its probability
            "entities": self.entities
            + [
                {
                    "name": c["name"],
                    "type": c["type"],
                    "kb_id": None,
                    "mentions": [c["name"]],
                    "found_by": c.get("by", "pattern"),
                    **({"probability": c["probability"]} if "probability" in c else {}),
                }
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
    body_length: float = 0.0  # in Chinese-character equivalents (`_text_length`); measured only with AI words

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
    listed: int = 0  # how many hits are one item of a list (counted once, read by the learned models)

    @property
    def is_topic(self) -> bool:
        return self.core and self.raw >= self.needed


class _Labels(NamedTuple):
    """Sectors or themes, best first, with the evidence for each."""

    found: list[dict[str, Any]]
    evidence: dict[str, list[dict[str, Any]]]


@dataclass(slots=True)
class _LabelScore:
    """What the rules found for one sector or theme: its score and the words behind it."""

    score: float = 0.0
    hits: int = 0
    title_hits: int = 0
    near_ai_hits: int = 0
    terms: set[str] = field(default_factory=set)
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class RuleView:
    """Everything the rules found in one article before relevance is decided: its text and matches,
    entities, AI topic and Hong Kong angle. The learned models read their rule features from it."""

    article: _Article
    entities: _Entities
    ai: _AiTopic
    hk_raw: float
    hk_needed: float

    @property
    def ai_score(self) -> float:
        return _score(self.ai.raw, self.ai.needed)

    @property
    def hk_score(self) -> float:
        return _score(self.hk_raw, self.hk_needed)

    @property
    def relevant(self) -> bool:
        """The rules' decision: AI is the subject and the story has a Hong Kong angle."""
        return self.ai.is_topic and self.hk_raw >= self.hk_needed

    @property
    def relevance(self) -> float:
        return math.sqrt(self.ai_score * self.hk_score)

    @property
    def has_strong_ai(self) -> bool:
        return any(m.pattern.weight >= 2 for m in self.ai.hits)


# The rule features the learned models read (`Tagger.relevance_features`, `Tagger.label_features`).
# One column per KB entity type overfitted on the development data (relevance F1 0.77-0.83 against
# 0.89-0.93 without, cross-validated): the types enter as two summaries.
RELEVANCE_FEATURES = (
    "ai_ratio",
    "ai_raw_log",
    "ai_core",
    "ai_topic",
    "ai_strong_log",
    "ai_decisive_log",
    "ai_distinct_strong",
    "ai_in_title",
    "ai_listed_share",
    "hk_ratio",
    "hk_raw_log",
    "hk_entities_log",
    "hk_angle",
    "elsewhere_log",
    "rules_relevant",
    "rules_relevance",
    "length_log",
    "entity_types",
    "entities_log",
)
LABEL_FEATURES = (
    "score_log",
    "relative_to_top",
    "rules_selected",
    "terms",
    "in_title",
    "near_ai_share",
)


def _score(raw: float, scale: float) -> float:
    return 1.0 - math.exp(-raw / scale)


class Tagger:
    """Build once (well under a second), then tag many articles.

    `mode`: `rules` (the rules decide everything), `learned` (calibrated n-gram models decide
    relevance, sectors and themes) or `hybrid` (the default: the models read the rules' scores as
    features too). Entities always come from the knowledge base and the name patterns; every sector
    and theme carries evidence: the rules' words for it, or else the n-grams that drove the model."""

    AI_THRESHOLD = 3.0
    CROSSING_WORDS_WIN = True  # a Chinese name read across a vocabulary word's boundary is dropped
    HK_THRESHOLD = 2.0
    TAG_THRESHOLD = 2.0
    MIN_AI_DENSITY = 1.5
    TITLE_AI_ALONE = True
    LISTS_COUNT_LESS = True
    REPEATS_COUNT = True
    INSIDE_OTHER_NAMES_RULE = True  # a body named only inside a job title or an event's name
    LEAD_COUNTS = True

    def __init__(
        self,
        entities: dict[str, KbEntity] | None = None,
        vocab: dict[str, Any] | None = None,
        mode: str = "hybrid",
        model: LearnedModel | None = None,
        mention_model: MentionModel | None = None,
        learned_mentions: bool = True,
    ):
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: expected one of {', '.join(MODES)}")
        self.entities = entities if entities is not None else load_entities()
        self.vocab = vocab or load_vocab()
        # common two-character words a short Chinese name is read across (其中 in 其中大埔: not 中大)
        crossing = [str(w) for w in self.vocab.get("crossing_words", ())]
        self._common_words = frozenset(w for w in crossing if len(w) == 2)
        self.learned = self._learned_model(mode, model)
        self.mode = self.learned.mode if self.learned is not None else "rules"
        self.mention_model = self._mention_model(mention_model) if learned_mentions else None
        tables = _cached_tables(self.entities, self.vocab)
        self.automaton = _build_automaton(tables.keys, tables.values)
        self.label_automaton = _build_automaton(tables.label_keys, tables.label_values)
        # Context words are looked up only when an ambiguous alias matched, not on every article.
        self.context_words = tables.context_words
        # whether naming each entity gives a story a Hong Kong angle (a rule over its names: computed once)
        self.hk_local = tables.hk_local
        self.simplified_gate = re.compile(tables.gate) if tables.gate else None
        # names the new-name finder must not queue: built here, with the rest of the knowledge base, not
        # on the first article (taggers made with `using` share it)
        self._known_surface_forms = tables.known_surface_forms

    def using(self, model: LearnedModel | None) -> Tagger:
        """This tagger (same knowledge base and automata) with another model; None: the rules alone."""
        other = copy.copy(self)
        other.learned = self._learned_model(model.mode, model) if model is not None else None
        other.mode = model.mode if model is not None else "rules"
        return other

    def using_mentions(self, mention_model: MentionModel | None) -> Tagger:
        """This tagger with another mention model; None: new names from the patterns alone (what the
        mention model is trained beside)."""
        other = copy.copy(self)
        other.mention_model = mention_model
        return other

    @staticmethod
    def _mention_model(model: MentionModel | None) -> MentionModel | None:
        """The mention model given, or the checked-in one; without a usable file, new names come from
        the patterns alone (and the log says so)."""
        if model is not None:
            return model
        try:
            return load_mention_model()
        except MentionModelError as error:
            log.warning("new names from the patterns alone: %s", error)
            return None

    @staticmethod
    def _learned_model(mode: str, model: LearnedModel | None) -> LearnedModel | None:
        """The model for `mode`: the one given, or the checked-in one. Without a usable model file
        the tagger falls back to the rules (and says so in the log)."""
        if mode == "rules":
            return None
        if model is None:
            try:
                model = load_model(mode)
            except ModelError as error:
                log.warning("tagger falls back to the rules: %s", error)
                return None
        if model.uses_rules:
            unknown = (set(model.kinds["relevance"].rule_features) - set(RELEVANCE_FEATURES)) | (
                set(model.kinds["sector"].rule_features) - set(LABEL_FEATURES)
            )
            if unknown:
                raise ModelError(f"the model reads rule features the tagger lacks: {sorted(unknown)}")
        return model

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
        append = found.append
        size = len(folded)
        base = 0 if field_name == "title" else _BODY_ORDER
        finder, values = automaton or self.automaton
        for index, start, end in finder.find_matches_as_indexes(folded, overlapping=True):
            latin_start, latin_end, patterns, any_exact_case = values[index]
            if latin_start and start > 0 and folded[start - 1] in _ASCII_ALNUM:
                continue
            if latin_start == 2 and _written_small(original, start, end):
                continue
            if latin_end and end < size and folded[end] in _ASCII_NAME_GOES_ON:
                continue
            surface = original[start:end]
            if not any_exact_case:  # the common case: every pattern of the key matches
                for pattern in patterns:
                    append(Match(field_name, start, end, surface, pattern, base + start))
                continue
            for pattern in patterns:
                # the case rule compares width-folded text: ＡＩ is AI, ａｉ is not
                if (
                    pattern.exact_case
                    and surface != pattern.surface
                    and fold_width(surface) != pattern.surface
                ):
                    continue
                append(Match(field_name, start, end, surface, pattern, base + start))
        return found

    @staticmethod
    def _longest_first(matches: list[Match]) -> list[Match]:
        """Non-overlapping matches, the longest winning at each overlap."""
        if len(matches) < 2:
            return list(matches)
        # most articles' matches of a kind do not overlap at all: then every one is kept
        in_order = sorted(matches, key=_ORDER)
        field, reach = None, -1
        for match in in_order:
            if match.field != field:
                field, reach = match.field, -1
            if match.start < reach:
                break
            reach = match.end
        else:
            return in_order
        chosen: list[Match] = []
        size = max(map(_END, matches))
        taken = {"title": bytearray(size), "body": bytearray(size)}
        for match in sorted(matches, key=_longest_key):
            start, end = match.start, match.end
            covered = taken.get(match.field)
            if covered is None:
                covered = taken[match.field] = bytearray(size)
            if covered.find(1, start, end) >= 0:
                continue
            covered[start:end] = (
                _ONES[: end - start] if end - start <= len(_ONES) else b"\x01" * (end - start)
            )
            chosen.append(match)
        chosen.sort(key=_ORDER)
        return chosen

    # -- tagging -------------------------------------------------------------------------------
    def tag(self, title: str | None, body: str | None, language: str | None = None) -> TagResult:
        """Tag one article. A story is relevant when it is about AI and has a Hong Kong angle; its
        sectors and themes are labelled only then. (`language` is part of the `hkai tag` contract;
        folding makes the tagger work the same on English, Traditional and Simplified text.)"""
        view = self.analyse(title, body)
        article = view.article
        text: SparseVector | None = None
        evidence: dict[str, Any] = {}
        if self.learned is None:
            relevant, relevance = view.relevant, view.relevance
        else:
            relevant, relevance, text, why = self._learned_relevance(view)
            if relevant:
                evidence["relevance"] = why
        if relevant:
            sector_scores, theme_scores = self.label_scores(view)
            sectors = self._select(sector_scores, "sector")
            themes = self._select(theme_scores, "theme")
            if self.learned is not None:
                if text is None:
                    text = self.learned.vector(
                        article.folded_title, article.folded_body, _kb_pairs(view.entities)
                    )
                sectors = self._learned_labels("sector", view, text, sector_scores, sectors)
                themes = self._learned_labels("theme", view, text, theme_scores, themes)
        else:
            sectors, themes = _Labels([], {}), _Labels([], {})
        # People are named the same way in any story; organisation patterns are noisier, so they run
        # only on relevant stories (where "new names this week" come from), and so does the mention
        # model (it reads every capitalised run: most of the crawl is not relevant, and costs nothing).
        candidates = find_candidates(
            article.title, article.body, known=self._known_surface_forms, organisations=relevant
        )
        if self.mention_model is not None and relevant:
            named = [m for e in view.entities.found for m in e["mentions"]] + [c["name"] for c in candidates]
            candidates += find_learned(
                article.title, article.body, named, self._known_surface_forms, self.mention_model
            )
        if candidates and view.entities.found:
            candidates = _pieces_join_their_names(
                article, view.entities, _cut_at_known_names(article, view.entities, candidates)
            )
        return TagResult(
            relevant=relevant,
            relevance=relevance,
            ai_score=view.ai_score,
            hk_score=view.hk_score,
            entities=view.entities.found,
            sectors=sectors.found,
            themes=themes.found,
            candidates=candidates,
            evidence={
                "entities": view.entities.evidence,
                "sectors": sectors.evidence,
                "themes": themes.evidence,
                "ai": [_span(m) for m in view.ai.hits[:20]],
                "hk": [_span(m) for m in article.matches["hk"][:20]],
                **evidence,
            },
        )

    def analyse(self, title: str | None, body: str | None) -> RuleView:
        """What the rules find in one article (text, matches, entities, AI topic, Hong Kong angle)."""
        article = self._read(title, body)
        entities = self._tag_entities(article)
        ai = self._ai_topic(article)
        hk_raw, hk_needed = self._hk_angle(article, entities.hk_weight)
        return RuleView(article, entities, ai, hk_raw, hk_needed)

    def _learned_relevance(self, view: RuleView) -> tuple[bool, float, SparseVector | None, list]:
        """The model's relevance: probability, decision, the text vector and the n-grams behind a yes.
        With the `strong-ai` gate, an article without a strong AI word is not asked (not relevant)."""
        model = self.learned
        assert model is not None
        if model.gate == "strong-ai" and not view.has_strong_ai:
            return False, 0.0, None, []
        if model.rules_decide_relevance:
            return view.relevant, view.relevance, None, []
        article = view.article
        text = model.vector(article.folded_title, article.folded_body, _kb_pairs(view.entities))
        decision = model.relevance(text, self.relevance_features(view) if model.uses_rules else None)
        why = self._text_evidence(decision.model, text, article) if decision.selected else []
        return decision.selected, decision.probability, text, why

    def _learned_labels(
        self,
        kind: str,
        view: RuleView,
        text: SparseVector,
        scores: dict[str, _LabelScore],
        by_rules: _Labels,
    ) -> _Labels:
        """The model's sectors or themes, most probable first. Evidence: the rules' words for the
        label, else the n-grams that drove the model; a label without any evidence is dropped."""
        model = self.learned
        assert model is not None
        features = self.label_features(view, scores, kind) if model.uses_rules else None
        chosen = {found[kind]: found["confidence"] for found in by_rules.found}
        decisions = sorted(
            (d for d in model.labels(kind, text, features, chosen) if d.selected),
            key=lambda d: (-d.probability, d.label),
        )
        found: list[dict[str, Any]] = []
        evidence: dict[str, list[dict[str, Any]]] = {}
        for decision in decisions:
            spans = scores[decision.label].evidence if decision.label in scores else []
            if not spans and decision.model is not None:
                spans = self._text_evidence(decision.model, text, view.article)
            if not spans:
                continue
            found.append({kind: decision.label, "confidence": round(decision.probability, 3)})
            evidence[decision.label] = spans
        return _Labels(found, evidence)

    def _text_evidence(self, model: LabelModel | None, text: SparseVector, article: _Article) -> list:
        if model is None or self.learned is None:
            return []
        spans: list[dict[str, Any]] = []
        for key in model.top_text_features(text):
            spans += self.learned.features.spans(
                key, article.title, article.body, article.folded_title, article.folded_body
            )
        return spans

    # -- rule features for the learned models ----------------------------------------------------
    def relevance_features(self, view: RuleView) -> dict[str, float]:
        """The rules' view of relevance as numbers (names in RELEVANCE_FEATURES)."""
        ai, article = view.ai, view.article
        strong = [m for m in ai.hits if m.pattern.weight >= 2]
        listed = ai.listed
        features = {
            "ai_ratio": min(ai.raw / ai.needed, 10.0),
            "ai_raw_log": math.log1p(ai.raw),
            "ai_core": float(ai.core),
            "ai_topic": float(ai.is_topic),
            "ai_strong_log": math.log1p(len(strong)),
            "ai_decisive_log": math.log1p(sum(1 for m in strong if m.pattern.weight >= 3)),
            "ai_distinct_strong": math.log1p(len({_fold_term(m.text) for m in strong})),
            "ai_in_title": float(any(m.field == "title" for m in strong)),
            "ai_listed_share": listed / len(ai.hits) if ai.hits else 0.0,
            "hk_ratio": min(view.hk_raw / view.hk_needed, 10.0),
            "hk_raw_log": math.log1p(view.hk_raw),
            "hk_entities_log": math.log1p(view.entities.hk_weight),
            "hk_angle": float(view.hk_raw >= view.hk_needed),
            "elsewhere_log": math.log1p(len(article.matches["elsewhere"])),
            "rules_relevant": float(view.relevant),
            "rules_relevance": view.relevance,
            "length_log": math.log1p(len(article.body) / 1000.0),
        }
        # the knowledge-base entity types named: how many kinds, how many entities
        types = Counter(e["type"] for e in view.entities.found)
        features["entity_types"] = math.log1p(len(types))
        features["entities_log"] = math.log1p(sum(types.values()))
        return features

    def label_features(
        self, view: RuleView, scores: dict[str, _LabelScore], kind: str
    ) -> dict[str, dict[str, float]]:
        """Per sector or theme of the vocabulary, the rules' view of it as numbers (LABEL_FEATURES)."""
        top = max((s.score for s in scores.values()), default=0.0)
        chosen = {found[kind] for found in self._select(scores, kind).found}
        features: dict[str, dict[str, float]] = {}
        for label in self.vocab[kind + "s"]:
            s = scores.get(label) or _LabelScore()
            features[label] = {
                "score_log": math.log1p(s.score),
                "relative_to_top": s.score / top if top else 0.0,
                "rules_selected": float(label in chosen),
                "terms": math.log1p(len(s.terms)),
                "in_title": float(s.title_hits > 0),
                "near_ai_share": s.near_ai_hits / s.hits if s.hits else 0.0,
            }
        return features

    def _read(self, title: str | None, body: str | None) -> _Article:
        """Clean and fold the text (bodies cut at MAX_CHARS), and find its entity and vocabulary
        matches, the longest winning where they overlap."""
        clean_t = clean_title(title or "")
        clean_b = clean_text(body or "")[:MAX_CHARS]
        article = _Article(clean_t, clean_b, self._fold(clean_t), self._fold(clean_b))
        matches = self._matches("title", clean_t, article.folded_title) + self._matches(
            "body", clean_b, article.folded_body
        )
        by_kind: dict[str, list[Match]] = {"entity": [], "ai": [], "hk": [], "elsewhere": []}
        for match in matches:
            by_kind[match.pattern.kind].append(match)
        article.matches = {kind: self._longest_first(found) for kind, found in by_kind.items()}
        if self.CROSSING_WORDS_WIN and not (article.body.isascii() and article.title.isascii()):
            article.matches["entity"] = _not_crossing_words(article, self._common_words)
        if "://" in clean_b or "www." in clean_b:
            article.matches["entity"] = [
                m for m in article.matches["entity"] if not _in_web_address(article, m)
            ]
        return article

    def _tag_entities(self, article: _Article) -> _Entities:
        """Entities named in the article. An ambiguous alias counts only with another name of the
        entity or one of its context words; an entity local to Hong Kong gives the story its angle."""
        by_entity: dict[str, list[Match]] = defaultdict(list)
        for match in article.matches["entity"]:
            by_entity[match.pattern.key].append(match)
        tagged = _Entities()
        for entity_id, hits in by_entity.items():
            confirmed = any(not h.pattern.ambiguous for h in hits) or self._has_context(
                article, entity_id, hits
            )
            if not confirmed:
                continue
            entity = self.entities[entity_id]
            if self.hk_local[entity_id]:
                weight = 1.0 if entity.type == "person" else 1.5
                tagged.hk_weight += weight + (0.5 if any(h.field == "title" for h in hits) else 0.0)
            if self._only_in_other_names(article, entity, hits):
                continue
            tagged.found.append(
                {
                    "name": entity.name,
                    "type": entity.type,
                    "kb_id": entity.id,
                    "mentions": _mentions(article, hits, entity.type),
                }
            )
            tagged.evidence[entity_id] = [_span(h) for h in hits]
        return tagged

    def _has_context(self, article: _Article, entity_id: str, hits: list[Match]) -> bool:
        words = self.context_words.get(entity_id, ())
        if any(word in article.folded_title or word in article.folded_body for word in words):
            return True
        # a Hong Kong body's short Chinese name (警方, 海關) in a story set in Hong Kong: local news names
        # its districts and places (觀塘, 元朗, 全港) rather than the city. (A Latin letter pair such as
        # "HA" is too often something else.)
        entity_type = self.entities[entity_id].type
        if (
            self.hk_local[entity_id]
            and entity_type != "company"  # (a company's short name is a word more often: 長和)
            and not any(h.text.isascii() for h in hits)
            and any(m.pattern.weight >= 2 for m in article.matches["hk"])
        ):
            return True
        # a market report names companies by their short stock names (友邦、滙控和港交所升近2%)
        return entity_type == "company" and _is_market_report(article)

    def _only_in_other_names(self, article: _Article, entity: KbEntity, hits: list[Match]) -> bool:
        """A body named only inside a job title (創新科技及工業局局長孫東: the person's title) or inside
        an event's name (立法會選舉, "HSBC Global Investment Summit") is not a mention of the body (it
        still gives the story its Hong Kong angle). People are named wherever they are."""
        if not self.INSIDE_OTHER_NAMES_RULE or entity.type == "person":
            return False
        titles = entity.type == "government-body"
        for hit in hits:  # (most entities' first hit is followed by neither: the loop ends there)
            text = article.title if hit.field == "title" else article.body
            if not (titles and _job_title_follows(text, hit.end) or _event_follows(text, hit.end)):
                return False
        return True

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
        if hits:  # without AI words the length changes nothing (no weight against any weight needed)
            article.body_length = _text_length(article.body)
        long_text_penalty = article.body_length / 3000.0
        strong = [m for m in hits if m.pattern.weight >= 2 and id(m) not in listed]
        return _AiTopic(
            hits,
            min(raw, 30.0),
            self.AI_THRESHOLD + long_text_penalty,
            self._ai_is_core(article, strong),
            len(listed),
        )

    def _ai_is_core(self, article: _Article, strong: list[Match]) -> bool:
        """Whether AI is the story's subject, from its strong AI words (weight 2+, not in a list).

        Supporting words never make a story about AI: it needs a decisive term, two different strong
        ones (robot + algorithm, say) or one strong word used again and again, and these must stand
        where a story states its subject. A single mention deep in the body is a passing mention."""
        if not strong:  # (most articles: nothing below can hold without a strong word)
            return False
        body = article.body
        in_title = any(m.field == "title" for m in strong)
        # The lead sentence states what a news story is about, like its headline.
        lead_end = _lead_end(body)
        in_lead = any(m.field == "body" and m.start < lead_end and m.pattern.weight >= 3 for m in strong)
        # strong mentions per 1,000 characters, English counted in Chinese-character equivalents
        density = len(strong) * 1000 / max(article.body_length, 500)
        # one strong word in different sentences ("AI" three times) is the topic too
        repeated = self.REPEATS_COUNT and len(strong) >= 3 and len(_sentence_ids(body, strong)) >= 2
        decisive = (
            any(m.pattern.weight >= 3 for m in strong)
            or len({_fold_term(m.text) for m in strong}) >= 2
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

    def label_scores(self, view: RuleView) -> tuple[dict[str, _LabelScore], dict[str, _LabelScore]]:
        """Sector and theme scores from the label vocabulary: sectors say where AI is applied and
        themes what the AI story is about."""
        article, ai_hits = view.article, view.ai.hits
        automaton = self.label_automaton
        matches = self._matches("title", article.title, article.folded_title, automaton) + self._matches(
            "body", article.body, article.folded_body, automaton
        )
        near_ai = _sentences_with(article.body, [m for m in ai_hits if m.field == "body"])
        title_has_ai = any(m.field == "title" for m in ai_hits)
        sectors, themes = (
            self._label_scores(
                self._longest_first([m for m in matches if m.pattern.kind == kind]), near_ai, title_has_ai
            )
            for kind in ("sector", "theme")
        )
        return sectors, themes

    RELATIVE_TO_TOP = 0.25
    THEME_THRESHOLD = 2.0
    FAR_FROM_AI = 0.35  # a label word outside every sentence that mentions AI counts this much

    def _label_scores(
        self, matches: list[Match], near_ai: _SentenceIndex | None = None, title_has_ai: bool = True
    ) -> dict[str, _LabelScore]:
        """Where the AI is applied: label words count fully in sentences that mention AI (and in a
        title about AI), and little elsewhere in the article."""
        scores: dict[str, _LabelScore] = {}
        for match in matches:
            label = scores.get(match.pattern.key)
            if label is None:
                label = scores[match.pattern.key] = _LabelScore()
            term = match.text.lower()
            # repeated use of one word counts less than several different words
            bonus = 1.0 if term not in label.terms else 0.34
            label.terms.add(term)
            if match.field == "title":
                place = 2.0 if title_has_ai else 1.0
                label.title_hits += 1
            elif near_ai is None or near_ai.contains(match.start):
                place = 1.0
                label.near_ai_hits += 1
            else:
                place = self.FAR_FROM_AI
            label.score += bonus * place * match.pattern.weight
            label.hits += 1
            label.evidence.append(_span(match))
        return scores

    def _select(self, scores: dict[str, _LabelScore], kind: str) -> _Labels:
        """The rules' choice. An article is mostly about one or two sectors and themes: a label far
        behind the leading one is background, however often its words occur."""
        top = max((s.score for s in scores.values()), default=0.0)
        threshold = self.THEME_THRESHOLD if kind == "theme" else self.TAG_THRESHOLD
        keys = [
            key
            for key, s in sorted(scores.items(), key=lambda kv: -kv[1].score)
            if s.score >= threshold and s.score >= self.RELATIVE_TO_TOP * top
        ]
        labels = [
            {kind: key, "confidence": round(_score(scores[key].score, threshold * 1.5), 3)} for key in keys
        ]
        return _Labels(labels, {key: scores[key].evidence for key in keys})


_LONGEST_JOB_TITLE = max(len(title) for title in _JOB_TITLES)


def _kb_pairs(entities: _Entities) -> list[tuple[str, str]]:
    """(kb_id, type) of the knowledge-base entities found: features of the learned model."""
    return [(e["kb_id"], e["type"]) for e in entities.found if e.get("kb_id")]


# What news writes after a company's or a body's name as part of it: its market or legal form
# ("Standard Chartered Hong Kong", "Alibaba Group Holding Ltd", "KPMG China", 渣打香港, 阿里巴巴集團控股有限公司)
_EN_NAME_TAIL = re.compile(
    r"(?: (?:Hong Kong|HK|China|Asia|Asia Pacific|Group|Holdings?|International|Global|Digital|Online|Cloud|"
    r"Consulting|Technology|Technologies|Co\.?|Company|Corp\.?|Corporation|Inc\.?|Ltd\.?|Limited|plc|LLC))+"
    r"|(?: ?\((?:Hong Kong|HK|China|Asia)\))"
)
# A product's version or edition written after its name: "Qwen2.5-Max", "DeepSeek-V3.1", "GPT-4o", "Qwen
# Max". A bare number after a space is not one ("ChatGPT 3 times").
_VERSION = r"(?:-?(?:[VRo]|M)?\d(?:\w|\.(?=\d))*|[- ][VR]\d(?:\w|\.(?=\d))*)"
_EDITION_WORD = r"[- ](?:Max|Pro|Plus|Preview|Turbo|Ultra|Mini|mini|Lite|Flash|Instruct|Chat|VL|Coder)"
_VERSION_TAIL = re.compile(
    rf"(?:{_VERSION}(?:{_EDITION_WORD}|-\d(?:\w|\.(?=\d))*)*|(?:{_EDITION_WORD})+)(?![\w-])"
)
_ZH_NAME_TAIL = re.compile(
    r"(?:香港|中國|亞洲|集團|控股|國際|科技|新聞台|新聞臺|（香港）|\(香港\)|有限公司|公司)+"
)
# the characters the tails can start with (an empty slice, at the end of a text, is "in" any string)
_EN_TAIL_STARTS = " ("
_ZH_TAIL_STARTS = "香中亞集控國科新（(有公"


# Words of a stock-market report (folded): a story with two of them lists companies by stock name.
_MARKET_WORDS = (
    "恒指",
    "恒生指數",
    "藍籌",
    "成份股",
    "大市成交",
    "主板成交",
    "科指",
    "hang seng index",
    "blue chip",
    "blue-chip",
)


_TOKEN_START = re.compile(r"[^\s\"'<>()（）「」]*$")


def _in_web_address(article: _Article, match: Match) -> bool:
    """Is the match part of a web address ("https://www.youtube.com/embed/…")? A site's name in a
    link is not the story naming the company."""
    text = article.text(match.field)
    if not match.start or text[match.start - 1] not in "./":
        return False
    token = _TOKEN_START.search(text, max(0, match.start - 200), match.start)
    before = token.group() if token else ""
    return "://" in before or before.startswith("www.")


def _not_crossing_words(article: _Article, common_words: frozenset[str] = frozenset()) -> list[Match]:
    """The entity matches without the Chinese ones that cut across a vocabulary word: 北大 (Peking
    University) in 北大嶼山, 港大 in 香港大部分 or 全港大專生, 人行 in 機械人行樓梯, 長和 in 副局長和.
    Chinese is written without spaces, and a short name read across a word boundary is a false match
    where the word read with its neighbours is the text's own (a word inside the name, or the name
    inside a word, is no conflict). A two-character name is also checked against `common_words`
    (vocab.yaml `crossing_words`), two-character words it shares a character with: 中大 in 其中大埔,
    理大 in 處理大量, 港大 in 離港大堂."""
    matches = article.matches
    entities = matches["entity"]
    if common_words:
        # (the length test first: most matches are longer, and skip the call)
        entities = [
            m
            for m in entities
            if m.end - m.start != 2 or not _crosses_a_common_word(article, m, common_words)
        ]
    words = [m for kind in ("hk", "elsewhere", "ai") for m in matches[kind] if not m.text.isascii()]
    if not words or not entities:
        return entities
    # a crossing word has the match's start or end strictly inside it: positions strictly inside a
    # word are marked first, and only a match that starts or ends on a mark is compared with the words
    inside = {"title": bytearray(len(article.title) + 1), "body": bytearray(len(article.body) + 1)}
    for word in words:
        inside[word.field][word.start + 1 : word.end] = b"\x01" * (word.end - word.start - 1)
    kept: list[Match] = []
    for match in entities:
        marks = inside[match.field]
        if (marks[match.start] or marks[match.end]) and not match.text.isascii() and _crosses(match, words):
            continue
        kept.append(match)
    return kept


def _crosses_a_common_word(article: _Article, match: Match, common_words: frozenset[str]) -> bool:
    """A two-character Chinese match whose first character ends a common word with the character
    before it, or whose last character starts one with the character after it."""
    if match.end - match.start != 2 or match.text.isascii():
        return False
    # (folded text: a story in Simplified writes 处理大约 for 處理大約)
    text = article.folded_title if match.field == "title" else article.folded_body
    start, end = match.start, match.end
    return (start > 0 and text[start - 1 : start + 1] in common_words) or text[
        end - 1 : end + 1
    ] in common_words


def _crosses(match: Match, words: list[Match]) -> bool:
    """Does a word start before the match and end inside it, or start inside it and end after it?"""
    start, end, field = match.start, match.end, match.field
    return any(
        w.field == field and (w.start < start < w.end < end or start < w.start < end < w.end) for w in words
    )


def _is_market_report(article: _Article) -> bool:
    title, body = article.folded_title, article.folded_body
    return sum(1 for word in _MARKET_WORDS if word in title or word in body) >= 2


def _mentions(article: _Article, hits: list[Match], entity_type: str) -> list[str]:
    """The distinct forms an entity is named by, each as a reader would quote it: without a leading
    "The" ("The Hong Kong Monetary Authority said" names the Hong Kong Monetary Authority), and, for a
    body, also with what follows its name in the text as part of it (its market or legal form)."""
    forms: list[str] = []
    for hit in hits:
        surface = hit.text
        # "the University of Hong Kong" in running text names the University of Hong Kong (a KB form
        # "The University of Hong Kong" matches it case-insensitively); a capitalised "The" may be part
        # of the name as written, so that form is kept as well
        if surface[:4] == "the ":
            surface = surface[4:]
        if surface[:4] == "The ":
            forms.append(surface)
            surface = surface[4:]
        forms.append(surface)
        if entity_type != "person":
            text = article.title if hit.field == "title" else article.body
            latin = hit.text[-1:].isascii()
            # (a tail starts with a space, a bracket or one of a few characters: most names have none)
            if text[hit.end : hit.end + 1] in (_EN_TAIL_STARTS if latin else _ZH_TAIL_STARTS):
                tail = (_EN_NAME_TAIL if latin else _ZH_NAME_TAIL).match(text, hit.end)
                if tail:
                    forms.append(surface + tail.group())
            if entity_type == "product" and hit.text[-1:].isascii():
                version = _VERSION_TAIL.match(text, hit.end)
                if version:
                    forms.append(surface + version.group())
                # "Nvidia H200", "Unitree G1": the model without its maker is how stories go on to name it
                maker, _, model = surface.partition(" ")
                if model and maker[:1].isupper() and any(c.isdigit() for c in model):
                    forms.append(model)
            # 香港文匯報 for 文匯報, "Hong Kong Palace Museum" for the Palace Museum
            prefix = "Hong Kong " if hit.text[:1].isascii() else "香港"
            if hit.start >= len(prefix) and text.startswith(prefix, hit.start - len(prefix)):
                forms.append(prefix + surface)
    return list(dict.fromkeys(forms))


def _listed_forms(entities: dict[str, KbEntity]) -> set[str]:
    """Every name and ambiguous alias the knowledge base lists, folded."""
    return {_fold_name(n) for e in entities.values() for n in (*e.names, *e.ambiguous_aliases)}


def _unclaimed_variants(entities: dict[str, KbEntity], listed: set[str] | None = None) -> dict[str, str]:
    """Each entity's derived name forms (`transforms.kb.name_variants`) that no other entity
    claims: a form that is another entity's listed name (`listed`), or a variant of two entities, is
    dropped, so a derived form never takes a mention away from a listed one."""
    listed = _listed_forms(entities) if listed is None else listed
    owners: dict[str, set[str]] = defaultdict(set)
    surfaces: dict[str, str] = {}
    for entity in entities.values():
        for variant in name_variants(entity):
            key = _fold_name(variant)
            if key not in listed:
                owners[key].add(entity.id)
                surfaces.setdefault(key, variant)
    return {surfaces[key]: next(iter(ids)) for key, ids in owners.items() if len(ids) == 1}


# A university's unit named after the university's short name: "CUHK Faculty of Medicine", "HKUST
# Department of Computer Science and Engineering". Stories name the unit without it once the university
# has been named.
_UNIT_NAME = re.compile(
    r"^\S+ ((?:Faculty|School|Department|Division|Centre|Center|Institute|Laboratory|College) of .+)$"
)


def _university_unit(entity: KbEntity, entities: dict[str, KbEntity]) -> str | None:
    """The bare name of a university's unit ("Faculty of Medicine"), when the entity is one."""
    if entity.type not in ("university", "research-institute") or not entity.parent:
        return None
    parent = entities.get(entity.parent)
    if parent is None or parent.type != "university":
        return None
    match = _UNIT_NAME.match(entity.name)
    return match.group(1) if match else None


# Building a tagger folds every knowledge-base name three or four times (patterns, derived forms, the
# name finder's known forms), and folding calls OpenCC: each name is folded once per process.
_fold_name = lru_cache(maxsize=None)(fold)


@lru_cache(maxsize=8192)
def _fold_term(term: str) -> str:
    """`fold` of a matched term (cached: the same few AI words recur in every article, and folding
    calls OpenCC)."""
    return fold(term)


# What makes a body's name part of an event's: an election (立法會選舉, "Legislative Council (LegCo)
# General Election"), or capitalised words ending in an event word ("University of Hong Kong Spring
# Career Fair"). Chinese event words count only right after the name: words in between are too often
# the sentence going on (港大今日舉行論壇).
_EVENT_AFTER = re.compile(
    r"(?:換屆)?選舉|補選|就業博覽會|博覽會|論壇|峰會|研討會|頒獎典禮|頒獎禮"
    r"|(?:换届)?选举|补选|就业博览会|博览会|论坛|峰会|研讨会|颁奖典礼|颁奖礼"  # (Simplified)
    r"|\)?(?: \([A-Za-z]{2,10}\))?(?: [A-Z][\w'&-]*){0,4} (?:[Ee]lections?|[Bb]y-[Ee]lections?|Summit|Forum|"
    r"Fair|Expo|Conference|Awards?|Gala|Festival)\b"
)
_EVENT_STARTS = "換選補就博論峰研頒换选补论颁) "


def _event_follows(text: str, offset: int) -> bool:
    """Does an event's name go on from `offset` (the end of a body's name)?"""
    return text[offset : offset + 1] in _EVENT_STARTS and _EVENT_AFTER.match(text, offset) is not None


# A body's short name in brackets between its name and a job title: 創新科技及工業局（創科局）局長
_BRACKETED_SHORT_NAME = re.compile(r"[（(][^（）()\n]{1,10}[）)]|[）)]")


def _job_title_follows(text: str, offset: int) -> bool:
    """Does a job title start at `offset` (after the body's bracketed short name, if any), in any
    script (局長, 局长) or width?"""
    if text[offset : offset + 1] in "（()）" and (bracket := _BRACKETED_SHORT_NAME.match(text, offset)):
        offset = bracket.end()
    return _starts_with_job_title(text[offset : offset + _LONGEST_JOB_TITLE])


@lru_cache(maxsize=8192)
def _starts_with_job_title(snippet: str) -> bool:
    """(Cached: the same few characters follow a body's name again and again, and folding them calls
    OpenCC.)"""
    return fold(snippet).startswith(_JOB_TITLES)


def _ai_hits(article: _Article) -> list[Match]:
    """AI vocabulary matches, without "AI" as an airline code before a flight number, nor where the
    text names what else "AI" abbreviates (authorized institutions, Amnesty International, Air India)
    unless a decisive AI term occurs too."""
    matches = article.matches["ai"]
    strong_ai = any(m.pattern.weight >= 3 for m in matches)
    defines_ais: bool | None = None  # searched for only when an "AI" needs it (most articles: never)
    hits: list[Match] = []
    for match in matches:
        if match.pattern.surface == "AI":
            following = fold_width(article.text(match.field)[match.end : match.end + 6])
            if _FLIGHT_AFTER.match(following):
                continue
            if not strong_ai:
                if defines_ais is None:
                    defines_ais = bool(
                        _AI_EXPANDED_OTHERWISE.search(article.title)
                        or _AI_EXPANDED_OTHERWISE.search(article.body)
                    )
                if defines_ais:
                    continue
        hits.append(match)
    return hits


def _simplified_gate(keys: Iterable[str]) -> re.Pattern[str] | None:
    """Characters whose presence means Simplified → Traditional folding can create a match: the
    Simplified forms of the pattern keys that differ from the Traditional ones. Characters Hong Kong
    Traditional also writes would open the gate on most articles: they are left out.

    Converted once for all keys (joined by line breaks, which no OpenCC phrase spans), then character
    by character over the distinct characters only: a few thousand conversions, not 130,000."""
    simplified = set(to_simplified("\n".join(keys))) - {"\n"}
    gate = {
        c
        for c in simplified
        if c not in HK_TRADITIONAL_SHARED and to_traditional(c) != c and to_hong_kong_traditional(c) != c
    }
    return re.compile("[" + re.escape("".join(sorted(gate))) + "]") if gate else None


_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# One Chinese character carries about as much text as three characters of English (an English
# translation of a Chinese news story is about three times as long): English lengths are divided by it.
LATIN_CHARS_PER_HAN = 3.0


def _text_length(text: str) -> float:
    """The length of a text in Chinese-character equivalents, so that length rules (AI density, the
    long-text penalty) treat an English story like the same story in Chinese: Chinese characters
    count one each, every other character 1/LATIN_CHARS_PER_HAN. (Counted by runs of Chinese
    characters, not one by one: a few times faster; English text skips the count.)"""
    han = 0 if text.isascii() else sum(map(len, _HAN_RUN.findall(text)))
    return han + (len(text) - han) / LATIN_CHARS_PER_HAN


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
    while True:  # line by line from the start, without splitting the whole body
        newline = body.find("\n", offset)
        line = body[offset:] if newline < 0 else body[offset:newline]
        if len(line.strip()) >= 40:
            found = _SENTENCE_END.search(line)
            return offset + min(found.end() if found else len(line), limit)
        if newline < 0:
            return min(len(body), limit)
        offset = newline + 1


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


def _automaton_table(patterns: dict[str, list[Pattern]]) -> tuple[list[str], list[AutomatonEntry]]:
    """The keys of an automaton and, per key: whether it starts/ends with a Latin letter (for the
    word-boundary checks), its patterns, and whether any must match case (most keys need no case
    check: known once, not per match)."""
    keys = list(patterns)
    values = [
        (
            # 2: a Latin key that only capitalised names have ("The Paper", "Scale AI"): written with
            # a small letter it is words ("the paper said", "large-scale AI models"), not the name
            (2 if all(_capitalised_name(p) for p in patterns[key]) else 1) if _is_latin(key[0]) else 0,
            _is_latin(key[-1]),
            tuple(patterns[key]),
            any(p.exact_case for p in patterns[key]),
        )
        for key in keys
    ]
    return keys, values


def _build_automaton(keys: list[str], values: list[AutomatonEntry]) -> Automaton:
    """A Rust Aho-Corasick automaton over the keys (several times faster than pyahocorasick on CJK
    text, whose root has hundreds of first characters), with each key's entry beside it."""
    return ahocorasick_rs.AhoCorasick(keys, matchkind=ahocorasick_rs.MatchKind.Standard), values


@dataclass
class _Tables:
    """What a tagger derives from its knowledge base and vocabulary: the keys and entries of its two
    automata, context words, which entities are local to Hong Kong, the Simplified-character gate and
    the names the new-name finder must not queue."""

    keys: list[str]
    values: list[AutomatonEntry]
    label_keys: list[str]
    label_values: list[AutomatonEntry]
    context_words: dict[str, tuple[str, ...]]
    hk_local: dict[str, bool]
    gate: str | None  # a regex character class, or None
    known_surface_forms: set[str]


def _tables(entities: dict[str, KbEntity], vocab: dict[str, Any]) -> _Tables:
    """Build the tables (about 0.4 s for 7,000 entries: folding every name calls OpenCC)."""
    patterns: dict[str, list[Pattern]] = defaultdict(list)
    # Sector and theme words are matched only in relevant articles, a few in a hundred: they get
    # their own automaton so the common pass over every article stays small.
    label_patterns: dict[str, list[Pattern]] = defaultdict(list)
    # Context words are looked up only when an ambiguous alias matched, not on every article.
    context_words: dict[str, tuple[str, ...]] = {}

    def add(surface: str, pattern: Pattern) -> None:
        key = _fold_name(surface.strip())
        if len(key) < 2 and not key.isascii():
            return
        if not key:
            return
        if _case_sensitive(pattern.surface) or pattern.ambiguous and _common_word_form(pattern.surface):
            pattern = Pattern(
                pattern.kind, pattern.key, pattern.weight, pattern.surface, pattern.ambiguous, True
            )
        target = label_patterns if pattern.kind in ("sector", "theme") else patterns
        target[key].append(pattern)
        # Text is folded to Traditional only when it holds a Simplified character that matters, so
        # a name written with a character HK Traditional shares with Simplified (余偉文) must also
        # match as written. (Folding changes nothing more in a key that is all ASCII.)
        if key.isascii():
            return
        unconverted = fold(surface.strip(), _NEVER)
        if unconverted != key and pattern not in target[unconverted]:
            target[unconverted].append(pattern)

    for entity in entities.values():
        for name in entity.names:
            add(name, Pattern("entity", entity.id, 1.0, name))
    listed = _listed_forms(entities)
    for surface, entity_id in _unclaimed_variants(entities, listed).items():
        add(surface, Pattern("entity", entity_id, 1.0, surface))
    for entity in entities.values():
        for alias in entity.ambiguous_aliases:
            add(alias, Pattern("entity", entity.id, 1.0, alias, ambiguous=True))
        context = list(entity.context)
        unit = _university_unit(entity, entities)
        if unit and _fold_name(unit) not in listed:
            # "Faculty of Medicine" names CUHK's faculty in a story that names CUHK
            add(unit, Pattern("entity", entity.id, 1.0, unit, ambiguous=True))
            context += entities[entity.parent].names if entity.parent else ()
        if context:
            context_words[entity.id] = tuple(_fold_name(w) for w in context if w.strip())
    for group in vocab.get("ai_entities", ()):
        # an AI company's or AI product's names are strong AI words too (vocab.yaml says why)
        for entity_id in group:
            if entity_id in entities:
                for name in entities[entity_id].names:
                    # (a two-character Chinese name is too often part of other words: 可靈 in 可靈活)
                    if name.isascii() or len(name) > 2:
                        add(name, Pattern("ai", "", AI_ENTITY_WEIGHT, name))
    for kind in ("ai", "hk"):
        for weight, terms in vocab[kind].items():
            for term in terms:
                surface = str(term).upper() if len(str(term)) <= 3 and str(term).isascii() else str(term)
                add(surface, Pattern(kind, "", float(weight), surface))
    for term in vocab.get("elsewhere", []):
        add(str(term), Pattern("elsewhere", "", 1.0, str(term)))
    for group in ("sectors", "themes"):
        kind = group[:-1]
        for name, spec in vocab[group].items():
            # a plain list (weight 1) or {weight: [terms]} where specific phrases weigh more
            weighted = spec.items() if isinstance(spec, dict) else [(1.0, spec)]
            for weight, terms in weighted:
                for term in terms:
                    text = str(term)
                    surface = text.upper() if len(text) <= 3 and text.isascii() else text
                    add(surface, Pattern(kind, name, float(weight), surface))
    context_keys = (w for ws in context_words.values() for w in ws)
    gate = _simplified_gate([*patterns, *label_patterns, *context_keys])
    return _Tables(
        *_automaton_table(patterns),
        *_automaton_table(label_patterns),
        context_words=context_words,
        hk_local={entity_id: entity.hk_local for entity_id, entity in entities.items()},
        gate=gate.pattern if gate else None,
        # each name folded as the KB's keys are and as article text is (the gate skips OpenCC's phrase
        # conversions on text without Simplified characters: 梁子穎 stays, where the KB key is 樑子穎)
        known_surface_forms={
            form
            for e in entities.values()
            for n in e.names
            for form in (_fold_name(n), fold(n, gate or _NEVER))
        },
    )


def _cached_tables(entities: dict[str, KbEntity], vocab: dict[str, Any]) -> _Tables:
    """`_tables`, kept between processes: half of a tagger's start-up is deriving them, and the
    knowledge base rarely changes. Stored with pickle in the knowledge base's `__pycache__`, keyed by
    everything they are derived from: the entries and vocabulary as loaded (so an edited file or an
    entity added in code is a new key), the code that derives them and the OpenCC version. The file
    is the project's own, written by this function; a missing, stale or unreadable one is rebuilt.
    Compressed (5 MB of pickle are 1 MB; decompressing costs ~10 ms), and only the last three are kept."""
    digest = hashlib.sha256()
    digest.update(repr(sorted(entities.items())).encode())
    digest.update(repr(vocab).encode())
    for module in (sys.modules[__name__], sys.modules[name_variants.__module__], text_module):
        digest.update(Path(str(module.__file__)).read_bytes())
    try:
        digest.update(importlib.metadata.version("OpenCC").encode())
    except importlib.metadata.PackageNotFoundError:
        return _tables(entities, vocab)
    cache = KB_DIR / "__pycache__" / f"tagger-{digest.hexdigest()[:20]}.pickle.zlib"
    try:
        tables = pickle.loads(zlib.decompress(cache.read_bytes()))  # noqa: S301 - our own file
        if isinstance(tables, _Tables):
            return tables
    except (OSError, zlib.error, pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError):
        pass
    tables = _tables(entities, vocab)
    try:
        cache.parent.mkdir(exist_ok=True)
        # the last few sets of tables (the checked-in knowledge base, a test's variant) and no more
        for stale in sorted(cache.parent.glob("tagger-*.pickle*"), key=_mtime)[:-2]:
            stale.unlink(missing_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(zlib.compress(pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL), 6))
        partial.replace(cache)  # atomic: a concurrent reader sees the whole file or none
    except OSError as error:
        log.debug("tagger tables not cached: %s", error)
    return tables


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


_ONES = b"\x01" * 64
_BODY_ORDER = 1 << 40  # body offsets sort after every title offset
_ORDER = attrgetter("order")
_END = attrgetter("end")


def _longest_key(match: Match) -> tuple[int, str, int]:
    """Longest first, then by field and position (the order `_longest_first` takes matches in)."""
    return (match.start - match.end, match.field, match.start)


def _cut_at_known_names(
    article: _Article, entities: _Entities, candidates: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A Chinese organisation name is found by its ending (學院, 集團, 協會), and where it starts is a
    guess: when a known name stands inside it after other words, the name starts there (就讀理工大學,
    請來香港新興科技教育協會, 最終選擇了思謀集團), unless those words are a place (美國麻省理工學院,
    北京智譜華章科技股份有限公司) or another known name."""
    known = [m for e in entities.found for m in e["mentions"] if not m.isascii()]
    if not known:
        return candidates
    # words a name may start with: a place, or another known name (港大李嘉誠醫學院, InnoHK 創新香港研發平台)
    places = {m.text for kind in ("hk", "elsewhere") for m in article.matches[kind]}
    places |= {m for e in entities.found for m in e["mentions"]}
    cut: dict[str, dict[str, Any]] = {}
    for candidate in candidates:
        name = candidate["name"]
        if candidate["type"] != "person" and not name.isascii() and not name.startswith(tuple(places)):
            starts = [at for m in known if (at := name.find(m)) > 0 and name[:at].strip() not in places]
            if starts:
                candidate = {**candidate, "name": name[min(starts) :]}
        cut.setdefault(candidate["name"], candidate)
    return list(cut.values())


def _pieces_join_their_names(
    article: _Article, entities: _Entities, candidates: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A new name found only inside a tagged entity's name is a shorter form of it ("Skild" of
    "Skild AI", 中文大學 of 香港中文大學, "Faculty of Medicine" of "CUHK Faculty of Medicine"): it
    becomes one of that entity's mentions rather than a second entity."""
    named = [m for e in entities.found for m in e["mentions"]]
    if not any(c["name"] in m for c in candidates for m in named):
        return candidates  # (most articles: no new name is a piece of a known one's mention)
    spans: dict[str, list[tuple[int, int, dict[str, Any]]]] = {"title": [], "body": []}
    for entity in entities.found:
        for span in entities.evidence[entity["kb_id"]]:
            spans[span["field"]].append((span["start"], span["end"], entity))
    kept: list[dict[str, Any]] = []
    for candidate in candidates:
        name = candidate["name"]
        owner = _owner_of_every_occurrence(article, spans, name)
        if owner is None:
            kept.append(candidate)
        elif name not in owner["mentions"]:
            owner["mentions"].append(name)
    return kept


def _owner_of_every_occurrence(
    article: _Article, spans: dict[str, list[tuple[int, int, dict[str, Any]]]], name: str
) -> dict[str, Any] | None:
    """The entity whose name holds the first occurrence of `name`, if every occurrence is inside some
    entity's name; None if one stands outside them all (a name of its own) or there is none."""
    owners: list[dict[str, Any]] = []
    for part, text in (("title", article.title), ("body", article.body)):
        at = text.find(name)
        while at >= 0:
            owner = next((e for s, end, e in spans[part] if s <= at and at + len(name) <= end), None)
            if owner is None:
                return None
            owners.append(owner)
            at = text.find(name, at + 1)
    return owners[0] if owners else None


def _span(match: Match) -> dict[str, Any]:
    return {"field": match.field, "start": match.start, "end": match.end, "text": match.text}


@lru_cache(maxsize=1)
def default_tagger() -> Tagger:
    """The hybrid tagger (the rules when no model file is installed)."""
    return Tagger()


def tag_record(record: dict[str, Any], tagger: Tagger | None = None) -> dict[str, Any]:
    """`hkai tag` contract: the input record plus the tag fields."""
    result = (tagger or default_tagger()).tag(record.get("title"), record.get("body"), record.get("language"))
    return {**record, **result.as_output()}
