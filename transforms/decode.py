"""Bytes to text for every page, one function for the crawler and `hkai extract`: `decode_html`.

The order is the standard one: a byte-order mark, then the charset of the HTTP Content-Type header, then
the page's own declaration (`<meta charset>`, `<meta http-equiv="Content-Type">`, an XML declaration),
then detection. Declarations are read as the web reads them: Big5 as Big5-HKSCS (its Hong Kong superset),
GB2312/GBK as GB18030, ISO-8859-1 and ASCII as windows-1252.

Declarations are often wrong on Hong Kong sites (on.cc and The Standard's legacy site label UTF-8 as
ISO-8859-1; old pages are Big5), so every candidate is decoded strictly and its text checked for
mojibake before it is accepted: a Big5 page read as Latin-1 gives "¼Æ½X´ä¤H¤u", a UTF-8 page read as Big5
gives rare ideographs in a jumble, and charset_normalizer's mess measure scores both far above real text
in any language. A declared encoding that fails or gives mojibake gives way to the candidates detection
offers (UTF-8, charset_normalizer's best guess, Big5-HKSCS, GB18030, windows-1252), the cleanest of them
winning. When none decodes to clean text the result says so (`clean` is False): the caller counts the
page as undecodable and never stores its text.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass

#: mess ratio (charset_normalizer.md) above which decoded text is taken for mojibake; real text in English,
#: Chinese or Portuguese scores under 0.1, Big5 read as Latin-1 about 1.4, UTF-8 read as Big5 about 2
MOJIBAKE_RATIO = 0.25
#: how much of the page is searched for a <meta> or XML declaration
DECLARATION_WINDOW = 131_072  # rendered pages carry long inline scripts before their <meta>
#: how many characters of text around non-ASCII characters are measured
SAMPLE_CHARS = 12_000

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]{0,300}?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([\w.:-]+)", re.IGNORECASE)
#: non-ASCII characters: where mojibake shows
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_TAG = re.compile(r"<!--.*?-->|<[^<>]{0,300}>", re.DOTALL)
# How the web reads a label: the superset each legacy Chinese label stands for in practice; windows-1252 for
# Latin-1 and ASCII (with Latin-1 itself behind it, for the five bytes windows-1252 leaves undefined).
_READ_AS = {
    "big5": ("big5hkscs", "cp950"),
    "big5hkscs": ("big5hkscs", "cp950"),
    "cp950": ("cp950", "big5hkscs"),
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "cp936": ("gb18030",),
    "gb18030": ("gb18030",),
    "latin_1": ("cp1252", "latin-1"),
    "ascii": ("cp1252", "latin-1"),
    "cp1252": ("cp1252", "latin-1"),
}
_DETECTION_ORDER = ("utf-8", "big5hkscs", "gb18030", "cp1252")


@dataclass(frozen=True)
class Decoded:
    """A page's text and how it was read."""

    text: str
    #: the codec the text was decoded with
    encoding: str
    #: "bom", "http" or "meta" when a declaration was right; "detected" otherwise
    source: str
    #: False when no candidate decoded to clean text: the text is then a lossy best effort, not to be stored
    clean: bool
    #: the encoding the response or page declared, if any
    declared: str | None = None
    #: why a declaration was overruled or nothing was clean
    note: str = ""


def header_charset(content_type: str | bytes | None) -> str | None:
    """The charset parameter of a Content-Type header value."""
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def declared_charset(body: bytes) -> str | None:
    """The encoding the page declares in its first bytes: <meta charset>, <meta http-equiv> or <?xml?>."""
    head = body[:DECLARATION_WINDOW]
    match = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


def _codecs_for(label: str | None) -> tuple[str, ...]:
    """The Python codecs to try for an encoding label, most likely first; () for an unknown label."""
    if not label:
        return ()
    try:
        name = codecs.lookup(label.strip().lower()).name.replace("-", "_")
    except LookupError:
        return ()
    name = {"iso8859_1": "latin_1", "big5_hkscs": "big5hkscs", "utf_8_sig": "utf_8"}.get(name, name)
    return tuple(_name(codec) for codec in _READ_AS.get(name, (name,)))


def mess(text: str) -> float:
    """How garbled the text around its non-ASCII characters reads (charset_normalizer's mess ratio);
    0.0 for pure ASCII."""
    from charset_normalizer.md import mess_ratio

    sample = _sample(text)
    if not sample:
        return 0.0
    # characters a strict decode lets through but no page means: C1 controls, replacement characters
    junk = sum(1 for ch in sample if "\x80" <= ch <= "\x9f" or ch == "\ufffd")
    return mess_ratio(sample, maximum_threshold=1.0) + junk / len(sample)


def _sample(text: str) -> str:
    """Up to SAMPLE_CHARS of text around the non-ASCII characters, markup left out."""
    parts: list[str] = []
    size = covered = 0
    for match in _NON_ASCII.finditer(text):
        start, end = max(match.start() - 40, covered), min(match.end() + 40, len(text))
        if start < end:
            parts.append(text[start:end])
            size += end - start
            covered = end
        if size >= SAMPLE_CHARS:
            break
    return _TAG.sub(" ", " ".join(parts))


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, content_type: str | bytes | None = None) -> Decoded:
    """The page's text: BOM, then the HTTP charset, then the page's declaration, then detection, each
    checked for mojibake (see the module documentation)."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            text = _strict(body[len(bom) :], codec)
            if text is not None:
                return Decoded(text, _name(codec), "bom", True, _name(codec))
            break

    declarations = [("http", header_charset(content_type)), ("meta", declared_charset(body))]
    declared = next((label for _, label in declarations if label), None)
    notes: list[str] = []
    tried: set[str] = set()
    for source, label in declarations:
        for codec in _codecs_for(label):
            if codec in tried:
                continue
            tried.add(codec)
            if codec != "utf-8" and not body.isascii() and (utf8 := _strict(body, "utf-8")) is not None:
                # bytes that are valid UTF-8 with non-ASCII text are UTF-8, whatever the label says
                if mess(utf8) <= MOJIBAKE_RATIO:
                    notes.append(f"{source} {label}: the bytes are UTF-8")
                    return Decoded(utf8, "utf-8", "detected", True, declared, "; ".join(notes))
            text = _strict(body, codec)
            if text is None:
                notes.append(f"{source} {label}: bytes invalid")
                continue
            # valid UTF-8 is the page whatever it says (box-drawing art, emoji); a legacy codec must read clean
            if codec == "utf-8" or mess(text) <= MOJIBAKE_RATIO:
                return Decoded(text, _name(codec), source, True, declared)
            notes.append(f"{source} {label}: mojibake")
            break  # a codec that decodes but garbles: its fallbacks would garble alike

    best: tuple[float, str, str] | None = None
    for codec in _detection_candidates(body):
        if codec in tried:
            continue
        tried.add(codec)
        text = _strict(body, codec)
        if text is None:
            continue
        score = 0.0 if codec == "utf-8" else mess(text)
        if best is None or score < best[0]:
            best = (score, codec, text)
        if score <= MOJIBAKE_RATIO / 5:  # clearly clean: no need to try the rest
            break
    if best is not None and best[0] <= MOJIBAKE_RATIO:
        return Decoded(best[2], _name(best[1]), "detected", True, declared, "; ".join(notes))
    # UTF-8 with a few broken sequences (a page cut or spliced mid-character) is still the page
    text = body.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    if broken <= max(3, len(body) // 10_000) and mess(text) <= MOJIBAKE_RATIO:
        notes.append(f"{broken} invalid UTF-8 sequence(s) replaced")
        return Decoded(text, "utf-8", "detected", True, declared, "; ".join(notes))
    notes.append("no encoding gives clean text")
    return Decoded(
        body.decode("utf-8", errors="replace"), "utf-8", "detected", False, declared, "; ".join(notes)
    )


def _name(codec: str) -> str:
    """A codec's standard name: "utf-8", "big5hkscs", "gb18030", "cp1252"…"""
    return codecs.lookup(codec).name


def _detection_candidates(body: bytes) -> Iterator[str]:
    """UTF-8 first (valid UTF-8 with non-ASCII text is almost never anything else), then charset_normalizer's
    best guess (computed only when UTF-8 did not settle it), then the legacy encodings of the region."""
    yield _DETECTION_ORDER[0]
    from charset_normalizer import from_bytes

    guess = from_bytes(body[: 256 * 1024]).best()
    if guess is not None:
        yield from _codecs_for(guess.encoding)
    yield from _DETECTION_ORDER[1:]
