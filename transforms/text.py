"""Text normalisation and language detection shared by extraction and tagging."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAGS = re.compile(r"<[^>]{0,500}>")
_LOOKS_HTML = re.compile(
    r"</?(?:p|br|div|span|a|b|i|em|strong|img|li|ul|h\d|font|section)\b[^>]*>", re.IGNORECASE
)
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_LATIN = re.compile(r"[A-Za-z]")


def clean_text(text: str | None) -> str:
    """Plain text with paragraphs kept: no tags, entities, control characters or runs of spaces."""
    if not text:
        return ""
    value = text
    if _LOOKS_HTML.search(value):
        value = _TAGS.sub(" ", value)
    if "&" in value:
        value = html.unescape(value)
    value = _CONTROL.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in value.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def clean_title(text: str | None) -> str:
    """A title on one line, without HTML that some feeds leave inside it."""
    return " ".join(clean_text(text).split())


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


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
    changed = sum(1 for a, b in zip(chars, _t2s().convert(chars), strict=False) if a != b)
    return "zh-Hant" if changed >= max(1, len(chars) // 200) else "zh-Hans"


def fold_width(text: str) -> str:
    """Full-width Latin letters and digits to ASCII (NFKC), keeping CJK characters intact."""
    return unicodedata.normalize("NFKC", text)
