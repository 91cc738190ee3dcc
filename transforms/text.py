"""Text primitives shared by extraction, tagging, name candidates and clustering.

- cleaning: `clean_text`, `clean_title` (tags, entities, control characters and spaces out);
- script: `to_traditional`, `to_hong_kong_traditional`, `to_simplified` (OpenCC, one cached
  converter per direction) and `detect_language`;
- folding for comparison: `fold_width`, `fold_case` and `fold`, which combines them with
  Simplified → Traditional. Folding never changes a text's length, so an offset found in the folded
  text points at the same characters in the original.
"""

from __future__ import annotations

import html
import re
from functools import cache
from typing import Literal, Protocol

import opencc

_TAGS = re.compile(r"<[^>]{0,500}>")
_LOOKS_HTML = re.compile(
    r"</?(?:p|br|div|span|a|b|i|em|strong|img|li|ul|h\d|font|section)\b[^>]*>", re.IGNORECASE
)
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_NARROW_SPACES = re.compile(r"[ \t\u00a0]+")
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u2060\ufeff]")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_LATIN = re.compile(r"[A-Za-z]")
# Full-width ASCII forms (！ to ～) and the ideographic space, one character for one character.
_FULLWIDTH = str.maketrans(
    {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)} | {"\u3000": " "}
)
_HAS_FULLWIDTH = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")  # full-width letters and digits

# -- cleaning ------------------------------------------------------------------------------------


def clean_text(text: str | None, *, keep_wide_spaces: bool = False) -> str:
    """Plain text with paragraphs kept: no tags, entities, control characters or runs of spaces.

    Entities are decoded first (twice-escaped feeds included) and tags removed after, so an escaped
    `&lt;script&gt;` ends up removed rather than stored as a literal tag; script and style elements go
    with their content, block tags become line breaks, inline tags nothing. `keep_wide_spaces` keeps
    the full-width space U+3000 as written (titles) instead of collapsing it with other spaces.
    """
    if not text:
        return ""
    value = text
    for _ in range(3):  # "&amp;lt;b&amp;gt;" is two levels deep
        if "&" not in value or (unescaped := html.unescape(value)) == value:
            break
        value = unescaped
    for _ in range(3):  # "<scr<b>ipt>" becomes a tag once the inner one is gone
        if "<" not in value:
            break
        stripped = re.sub(r"(?is)<(script|style)\b[^>]*>.*?</\1\s*>", " ", value)
        stripped = re.sub(r"(?s)<!--.*?-->|<![A-Za-z][^>]{0,500}>|<\?[^>]{0,500}\?>", " ", stripped)
        stripped = re.sub(
            r"(?i)</?(?:p|div|br|li|ul|ol|h[1-6]|tr|table|blockquote|section|article|header|footer|aside"
            r"|figure|figcaption|dl|dt|dd|pre|hr|nav|main|form|center)\b[^<>]{0,500}>",
            "\n",
            stripped,
        )
        stripped = re.sub(
            r"(?i)</?(?:a|abbr|b|big|cite|code|del|em|font|i|iframe|img|ins|input|label|mark|noscript|object"
            r"|embed|picture|source|q|s|small|span|strike|strong|sub|sup|time|u|video|audio|svg|button|select"
            r"|option|textarea|wbr|link|meta|title|head|body|html|base|thead|tbody|tfoot|td|th|col|colgroup"
            r"|caption|frame|frameset|applet|marquee|canvas|details|summary|template|script|style)\b[^<>]{0,500}>",
            "",
            stripped,
        )
        if stripped == value:
            break
        value = stripped
    # control characters, zero-width spaces and stray byte-order marks go in one pass
    value = _INVISIBLE.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    spaces = _NARROW_SPACES if keep_wide_spaces else _SPACES
    value = spaces.sub(" ", value)  # spaces never span lines
    if keep_wide_spaces:
        lines = [line.strip(" ") for line in value.split("\n")]
    else:
        lines = [line.strip() for line in value.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def clean_title(text: str | None) -> str:
    """A title on one line, without markup; a full-width space (U+3000) stays as the outlet wrote it."""
    cleaned = clean_text(text, keep_wide_spaces=True)
    return re.sub(r"[ \t\n\u00a0]+", " ", cleaned).strip()


# -- script ---------------------------------------------------------------------------------------


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


@cache
def _converter(config: Literal["s2t", "s2hk", "t2s"]) -> _Converter:
    """One OpenCC converter per direction, built on first use (loading its dictionaries takes ~0.1 s)."""
    return opencc.OpenCC(config)


def to_traditional(text: str) -> str:
    """Simplified → Traditional (OpenCC `s2t`, phrase-aware)."""
    return _converter("s2t").convert(text)


def to_hong_kong_traditional(text: str) -> str:
    """Simplified → Traditional as written in Hong Kong (OpenCC `s2hk`)."""
    return _converter("s2hk").convert(text)


def to_simplified(text: str) -> str:
    """Traditional → Simplified (OpenCC `t2s`)."""
    return _converter("t2s").convert(text)


@cache
def simplified_characters() -> re.Pattern[str]:
    """The characters Simplified → Traditional conversion changes (about 2,700 of the 27,600 in the
    two main CJK blocks): text without any of them is left as it is, so `fold` can skip the converter
    for it (OpenCC's per-call cost dominates on a short name). Built once, in one conversion: line
    breaks separate the characters, and no OpenCC phrase spans one."""
    chars = [chr(code) for block in ((0x3400, 0x4DC0), (0x4E00, 0xA000)) for code in range(*block)]
    converted = to_traditional("\n".join(chars)).split("\n")
    changed = "".join(c for c, t in zip(chars, converted, strict=True) if c != t)
    return re.compile("[" + re.escape(changed) + "]")


def detect_language(text: str, declared: str | None = None) -> str:
    """`en`, `zh-Hant` or `zh-Hans`: script share decides; Traditional vs Simplified by OpenCC.

    A character sample that changes under Traditional→Simplified conversion is Traditional.
    """
    sample = text[:3000]
    han = len(_HAN.findall(sample))
    latin = len(_LATIN.findall(sample))
    if han == 0 and latin == 0:
        declared_l = (declared or "").lower()
        if declared_l.startswith("zh"):
            return "zh-Hans" if declared_l in {"zh-cn", "zh-hans", "zh-sg"} else "zh-Hant"
        return "en"
    if han * 3 < latin:
        return "en"
    chars = "".join(_HAN.findall(sample))[:1500]
    changed = sum(1 for a, b in zip(chars, to_simplified(chars), strict=False) if a != b)
    return "zh-Hant" if changed >= max(1, len(chars) // 200) else "zh-Hans"


# -- folding (same length) ----------------------------------------------------------------------


def fold_width(text: str) -> str:
    """Full-width ASCII forms (ＨＫＵ, ２０２４, ！) and the ideographic space to ASCII, same length.

    Only text holding a full-width letter or digit is converted: Chinese text is full of full-width
    punctuation (，：（）), which on its own is left as written, so most Chinese text costs one search.
    """
    return text.translate(_FULLWIDTH) if _HAS_FULLWIDTH.search(text) else text


def fold_case(text: str) -> str:
    """Lower case, except the rare characters whose lower case is longer (İ), which stay as written."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def fold(text: str, gate: re.Pattern[str] | None = None) -> str:
    """Same-length folding for matching: `fold_width`, `fold_case`, ’ as ', then Simplified → Traditional.

    `gate` (a class of Simplified characters) skips the script conversion when none occurs in the
    text; a conversion that would change the length (a phrase mapping) is not applied.
    """
    folded = fold_case(fold_width(text))
    if "’" in folded:  # the typographic apostrophe: "People’s Bank", "Hong Kong’s government"
        folded = folded.replace("’", "'")
    if gate is not None and not gate.search(folded):
        return folded
    converted = to_traditional(folded)
    return converted if len(converted) == len(folded) else folded
