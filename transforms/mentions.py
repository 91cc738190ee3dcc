"""A learned detector of capitalised names that neither the knowledge base nor the name patterns find.

The patterns in `transforms.names` need a cue (a title, a reporting verb, a legal suffix); most names
outside the knowledge base have none ("… with Apple, Carl Zeiss and BYD among its clients"). This
detector reads every run of capitalised words (in English text and in the Latin runs of Chinese
text), describes each by its words, its neighbours and its shape, and asks two small logistic
regressions, trained on the labelled mentions of the dev data (`transforms.train_mentions`):

1. is this run a name at all (rather than a sentence's first word, a heading or a month)?
2. if so, what kind of name (person, company, government body, ...)?

A run already named by the knowledge base or the patterns, inside one of their names, or a form of a
knowledge-base entry whose context check failed (an ambiguous "Apple") is never proposed. Proposals
join the new-name candidates, marked `"by": "model"` with their probability as evidence.

Inference is plain Python over a small weight table (`transforms/kb/model/mentions.json.gz`), so it
needs no scikit-learn and costs little: a name's features are a dozen dictionary look-ups.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from transforms.kb import KB_DIR
from transforms.names import NOT_IN_GIVEN_NAME, SURNAMES, read_as_traditional
from transforms.text import fold, fold_case, fold_width

MENTIONS_PATH = KB_DIR / "model" / "mentions.json.gz"
FORMAT = 1

# A capitalised word (SenseTime, Co-GenAI, 4Paradigm), initials (K.C., the D. of "Christopher D. Lee") or
# an abbreviated title (Prof.), and the small words a name can hold inside it ("Bank of China", "Ernst &
# Young", "Fédération de la Haute Couture", "Committee on AI"). A full stop ends a run otherwise: "…
# Young on Monday. Norway".
_WEEKDAYS_AND_MONTHS = (
    "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|"
    "August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec"
)
# Latin letters with their accents (Fédération, Björn, Zürich; not × U+D7 and ÷ U+F7)
_ACCENTED = ((0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x24F))
_LETTER = "A-Za-z" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _ACCENTED)
_UPPER = "A-Z\u00c0-\u00d6\u00d8-\u00de"
_WORD = (
    r"(?:[A-Z]\.(?:[A-Z]\.)+|[A-Z]\.(?= [A-Z])|(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Co|Inc|Ltd|Corp)\."
    rf"|[{_UPPER}][{_LETTER}0-9]*(?:[.'’&-][{_LETTER}0-9]+)*|[0-9]+[A-Za-z][{_LETTER}0-9]*)"
)
_JOINER = rf"(?:of|for|and|the|&|de|la|du|von|van|der|on(?! (?:{_WEEKDAYS_AND_MONTHS})\b))"
_RUN = re.compile(rf"{_WORD}(?:[ -](?:{_JOINER} )*{_WORD})*(?![{_LETTER}0-9-])")
# a run must not go on a word ("iPhone" is not the run "Phone"): checked after the match, which is
# faster than a look-behind tried at every character of a Chinese text
_WORD_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789’'-"
    + "".join(chr(c) for a, b in _ACCENTED for c in range(a, b + 1))
)
_CAPITALISED = re.compile(rb"[A-Z]")
# where one name ends and another starts inside a run: a possessive ("SpaceX's Starship", "Mike Ford's")
# or a job title ("NASA Administrator Jim Bridenstine", "President Trump"); a date after a name ("House
# Intelligence Committee Tuesday") is no part of it
_POSSESSIVE = re.compile(r"['’]s\b")
_JOB_TITLE_WORDS = re.compile(
    r"\b(?:(?:Administrator|President|Vice|Chairman|Chairwoman|Chairperson|Chief|Executive|CEO|CFO|CTO|COO|"
    r"Director|Secretary|Minister|Commissioner|Governor|Senator|Rep\.|Representative|Mayor|Spokesman|"
    r"Spokeswoman|Spokesperson|Founder|Judge|Justice|General|Captain|Officer|Manager|Head|Deputy|Acting) )+"
    r"(?=[A-Z])"
)
_TRAILING_DATE = re.compile(rf" (?:{_WEEKDAYS_AND_MONTHS})\.?$")
_OPENING = re.compile(r"The ")
_CONTEXT_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|[\u3400-\u9fff]{1,2}|[^\sA-Za-z\u3400-\u9fff]")
_LOWER_WORD = re.compile(r"\b[a-z][a-z'-]+\b")
_SENTENCE_START = re.compile(r"(?:[.!?:。！？：]\s*|\n\s*|[\"“「(（]\s*)\Z")
_INNER_CAPITAL = re.compile(r"[a-z][A-Z]")
_LATIN_LETTER = re.compile(r"[A-Za-zＡ-Ｚａ-ｚ]")
_HAN_ONLY = re.compile(r"[\u4e00-\u9fff]+")


def latin_fold(name: str) -> str:
    """`transforms.text.fold` for what a run can match: width, case and ’ (no script conversion, which
    changes no Latin letter and costs a call per name)."""
    return fold_case(fold_width(name)).replace("’", "'")


def script(surface: str) -> str:
    """`han` for a Chinese name, `latin` for a capitalised run: each has its own threshold."""
    return "han" if _HAN_ONLY.match(surface) else "latin"


@dataclass(frozen=True, slots=True)
class Run:
    """One capitalised run, with every offset it occurs at (the first gives its context)."""

    surface: str
    folded: str
    starts: tuple[int, ...]


def _segments(surface: str) -> list[tuple[str, int]]:
    """The names a run holds, each with its offset: split at possessives and job titles, without a date
    after it ("Britain's Conservative Party" → Britain, Conservative Party)."""
    surface = _TRAILING_DATE.sub("", surface) if " " in surface else surface
    pieces: list[tuple[str, int]] = []
    start = 0
    for cut in (*_POSSESSIVE.finditer(surface), *_JOB_TITLE_WORDS.finditer(surface)):
        pieces.append((surface[start : cut.start()], start))
        start = cut.end()
    pieces.append((surface[start:], start))
    pieces.sort(key=lambda piece: piece[1])
    out = []
    for piece, offset in pieces:
        stripped = piece.strip(" .")
        if len(stripped) >= 2 and stripped[0].isupper():
            out.append((stripped, offset + piece.index(stripped)))
    return out


def _readings(surface: str) -> list[tuple[str, int]]:
    """A name and the shorter names it may be instead, each with its offset: without "The", each side
    of "and" ("Prof. Shen and K.C. Chan", but "Science and Technology" too), the part before "of"
    ("Martin Taylor of Aberdeenshire", but "Bank of China" too). The model scores every reading; the
    likeliest of those that overlap is kept (`non_overlapping`)."""
    readings = [(surface, 0)]
    if surface.startswith("The ") and len(surface) > 5:
        readings.append((surface[4:], 4))
    if " and " in surface:
        offset = 0
        for part in surface.split(" and "):
            offset = surface.index(part, offset)
            readings.append((part, offset))
            offset += len(part)
    if " of " in surface:
        readings.append((surface[: surface.index(" of ")], 0))
    return readings


def runs(text: str) -> list[Run]:
    """The distinct capitalised runs of `text` and their readings (`_segments`, `_readings`), in order of
    first occurrence."""
    found: dict[str, tuple[str, list[int]]] = {}
    if not _CAPITALISED.search(text.encode("ascii", "ignore")):
        return []
    for match in _RUN.finditer(text):
        start = match.start()
        if start and text[start - 1] in _WORD_CHARACTERS:
            continue
        for segment, segment_offset in _segments(match.group().rstrip(".")):
            for reading, offset in _readings(segment):
                form = reading.lstrip("abcdefghijklmnopqrstuvwxyz& ")  # "and the House …": the name
                offset += len(reading) - len(form)
                if len(form) < 2:
                    continue
                key = latin_fold(form)
                if key in found:
                    found[key][1].append(start + segment_offset + offset)
                else:
                    found[key] = (form, [start + segment_offset + offset])
    return [Run(surface, key, tuple(starts)) for key, (surface, starts) in found.items()]


def non_overlapping(proposals: list[tuple[float, int, int, Any]]) -> list[Any]:
    """Of proposals (probability, start, end, payload) whose first occurrences overlap, the likeliest."""
    kept: list[tuple[int, int]] = []
    out = []
    for _, start, end, payload in sorted(proposals, key=lambda p: (-p[0], p[1])):
        if all(end <= s or e <= start for s, e in kept):
            kept.append((start, end))
            out.append(payload)
    return out


# A Chinese name: a surname and one or two characters that are no function word (林子健, 齊中祥). Every such
# span is a run; the model learns from the characters and their neighbours which are names.
_SURNAME_CHARACTER = re.compile(f"[{SURNAMES}]")


def han_runs(text: str) -> list[Run]:
    """The distinct two- and three-character spans of `text` that start with a surname."""
    found: dict[str, list[int]] = {}
    for match in _SURNAME_CHARACTER.finditer(text):
        start = match.start()
        for length in (2, 3):
            span = text[start : start + length]
            if len(span) == length and _HAN_ONLY.fullmatch(span) and not NOT_IN_GIVEN_NAME.search(span, 1):
                found.setdefault(span, []).append(start)
    return [Run(span, fold(span), tuple(starts)) for span, starts in found.items()]


def _context(text: str, start: int, end: int) -> tuple[list[str], list[str]]:
    """The two words (Latin) or two-character pieces (Chinese) before and after a run."""
    before = _CONTEXT_WORD.findall(text[max(0, start - 40) : start])[-2:]
    after = _CONTEXT_WORD.findall(text[end : end + 40])[:2]
    return before[::-1], after


@lru_cache(maxsize=1 << 16)
def surface_features(surface: str) -> tuple[str, ...]:
    """What a run's own text says: its words (characters for a Chinese name), first and last word,
    length and shape (cached: the same names and sentence-opening words recur from article to article)."""
    if _HAN_ONLY.match(surface):
        return (f"zh={surface}", f"zh-surname={surface[0]}", f"zh-n={len(surface)}") + tuple(
            f"zh-given={c}" for c in surface[1:]
        )
    words = surface.split()
    first, last = words[0].lower(), words[-1].lower()
    out = [f"w={w.lower()}" for w in words]
    out += [f"first={first}", f"last={last}", f"suffix={last[-3:]}", f"n={min(len(words), 5)}"]
    if surface.isupper():
        out.append("upper")
    if any(ch.isdigit() for ch in surface):
        out.append("digit")
    if _INNER_CAPITAL.search(surface):
        out.append("inner-capital")
    if first in given_names():
        out.append("given-name")
    if latin_fold(surface) in places():
        out.append("place")
    return tuple(out)


def occurrence_features(text: str, run: Run, title_length: int) -> list[str]:
    """How often a run occurs, whether only in the title, and whether the article is Chinese."""
    out = [f"count={min(len(run.starts), 3)}"]
    if all(s < title_length for s in run.starts):
        out.append("title-only")
    if not text.isascii():
        out.append("in-chinese")
    return out


def context_features(text: str, run: Run, lower_words: set[str]) -> list[str]:
    """The words around a run's first occurrence, whether it opens sentences, and whether its one word
    also occurs uncapitalised (then a word, not a name). A Chinese name: the character and the two
    characters before and after it."""
    start = run.starts[0]
    if _HAN_ONLY.match(run.surface):
        end = start + len(run.surface)
        return [
            f"zh-b1={text[start - 1 : start]}",
            f"zh-b2={text[max(0, start - 2) : start]}",
            f"zh-a1={text[end : end + 1]}",
            f"zh-a2={text[end : end + 2]}",
        ]
    before, after = _context(text, start, start + len(run.surface))
    out = [f"b{i}={w.lower()}" for i, w in enumerate(before)]
    out += [f"a{i}={w.lower()}" for i, w in enumerate(after)]
    starts_sentence = [
        s == 0 or _SENTENCE_START.search(text, max(0, s - 4), s) is not None for s in run.starts
    ]
    if starts_sentence[0]:
        out.append("sentence-start")
    if all(starts_sentence):
        out.append("only-sentence-start")
    if " " not in run.surface and run.surface.lower() in lower_words:
        out.append("also-lower")
    return out


def features(text: str, run: Run, title_length: int, lower_words: set[str]) -> list[str]:
    """Everything the models read about one run."""
    return [
        *surface_features(run.surface),
        *occurrence_features(text, run, title_length),
        *context_features(text, run, lower_words),
    ]


def lower_words_of(text: str) -> set[str]:
    return set(_LOWER_WORD.findall(text))


def covered(run: Run, named: Iterable[str]) -> str | None:
    """How a run relates to what the tagger already named: `named` (the same name), `inside` (a piece
    of a longer name) or None."""
    for other in named:
        if run.folded == other:
            return "named"
        if run.folded in other:
            return "inside"
    return None


@dataclass(slots=True)
class MentionModel:
    """Two linear models over the run features: name or not (binary), and the kind of name."""

    name_weights: dict[str, float]
    name_bias: float
    types: tuple[str, ...]
    type_weights: dict[str, tuple[float, ...]]
    type_bias: tuple[float, ...]
    thresholds: dict[str, float]  # by script: "latin" (capitalised runs), "han" (Chinese names)
    meta: dict[str, Any]
    # derived: the thresholds as scores, and scores by surface (names and openers recur)
    threshold_scores: dict[str, float] = field(init=False)
    _surface_scores: dict[tuple[str, ...], float] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.threshold_scores = {kind: _logit(t) for kind, t in self.thresholds.items()}

    def score(self, feats: Iterable[str]) -> float:
        weights = self.name_weights
        return sum(weights.get(f, 0.0) for f in feats)

    def probability(self, feats: Iterable[str]) -> float:
        return _sigmoid(self.name_bias + self.score(feats))

    def surface_score(self, feats: tuple[str, ...]) -> float:
        cached = self._surface_scores.get(feats)
        if cached is None:
            if len(self._surface_scores) > 1 << 16:
                self._surface_scores.clear()
            cached = self._surface_scores[feats] = self.score(feats)
        return cached

    def entity_type(self, feats: list[str]) -> str:
        scores = list(self.type_bias)
        for f in feats:
            row = self.type_weights.get(f)
            if row is not None:
                scores = [s + w for s, w in zip(scores, row, strict=True)]
        return self.types[max(range(len(scores)), key=scores.__getitem__)]

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "meta": self.meta,
                "thresholds": self.thresholds,
                "name": {"bias": self.name_bias, "weights": self.name_weights},
                "type": {
                    "classes": list(self.types),
                    "bias": list(self.type_bias),
                    "weights": self.type_weights,
                },
            },
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0


class MentionModelError(RuntimeError):
    """The mention model file is missing or unreadable."""


def parse_mention_model(text: str) -> MentionModel:
    data = json.loads(text)
    if data.get("format") != FORMAT:
        raise MentionModelError(f"mention model format {data.get('format')!r}, expected {FORMAT}")
    return MentionModel(
        name_weights=data["name"]["weights"],
        name_bias=data["name"]["bias"],
        types=tuple(data["type"]["classes"]),
        type_weights={k: tuple(v) for k, v in data["type"]["weights"].items()},
        type_bias=tuple(data["type"]["bias"]),
        thresholds=data["thresholds"],
        meta=data.get("meta", {}),
    )


@lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> MentionModel:
    try:
        return parse_mention_model(gzip.decompress(path.read_bytes()).decode("utf-8"))
    except (OSError, ValueError, KeyError) as error:
        raise MentionModelError(f"{path}: {error}") from error


def load_mention_model(path: Path = MENTIONS_PATH) -> MentionModel:
    try:
        mtime = path.stat().st_mtime
    except OSError as error:
        raise MentionModelError(f"{path}: {error}") from error
    return _load(path, mtime)


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    path = KB_DIR / "given_names.txt"
    return frozenset(
        word.lower()
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
        for word in line.split()
    )


@lru_cache(maxsize=1)
def places() -> frozenset[str]:
    """Countries, continents, US states and large cities (`transforms/kb/places.txt`, from GeoNames)."""
    path = KB_DIR / "places.txt"
    return frozenset(
        latin_fold(line) for line in path.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"
    )


def candidate_runs(
    title: str, body: str, mentions: Iterable[str], known: set[str]
) -> Iterator[tuple[str, Run]]:
    """The runs of one article the model scores, with the article's text: those not among the
    `mentions` the tagger already named nor inside one, and not a knowledge-base form (`known`). A
    story in Simplified is read in its Traditional form (the surnames and the model's characters are
    Traditional; the same length, so offsets hold)."""
    read_title, read_body = read_as_traditional(title, body)
    text = f"{read_title}\n\n{read_body}"
    found = runs(text) + han_runs(text)
    if not found:
        return
    named = {fold(m) if _HAN_ONLY.search(m) else latin_fold(m) for m in mentions}
    for run in found:
        if run.folded not in known and not covered(run, named) and not _joins_a_named(run, named, known):
            yield text, run


def _joins_a_named(run: Run, named: set[str], known: set[str]) -> bool:
    """A run that joins a name already known with "and" ("Hong Kong Polytechnic University and Yingda
    Securities"): two names, not one; the new side is read on its own (`_readings`)."""
    if " and " not in run.surface:
        return False
    return any((part := latin_fold(side)) in named or part in known for side in run.surface.split(" and "))


def find_learned(
    title: str, body: str, mentions: Iterable[str], known: set[str], model: MentionModel, limit: int = 15
) -> list[dict[str, Any]]:
    """Names the model proposes in one article (`candidate_runs` scored at or above its threshold; of
    overlapping ones, the likeliest)."""
    proposals: list[tuple[float, int, int, dict[str, Any]]] = []
    lower: set[str] | None = None
    written = f"{title}\n\n{body}"  # (names are returned as the story writes them)
    for text, run in candidate_runs(title, body, mentions, known):
        if lower is None:
            lower = lower_words_of(text)
        own = surface_features(run.surface)
        rest = [*occurrence_features(text, run, len(title)), *context_features(text, run, lower)]
        z = model.name_bias + model.surface_score(own) + model.score(rest)
        threshold = model.threshold_scores[script(run.surface)]
        if z >= threshold:
            feats = [*own, *rest]
            p = _sigmoid(z)
            proposals.append(
                (
                    p,
                    run.starts[0],
                    run.starts[0] + len(run.surface),
                    {
                        "name": written[run.starts[0] : run.starts[0] + len(run.surface)],
                        "type": model.entity_type(feats),
                        "count": len(run.starts),
                        "by": "model",
                        "probability": round(p, 3),
                    },
                )
            )
    return non_overlapping(proposals)[:limit]
