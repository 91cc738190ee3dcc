"""Canonical URLs, so one article is one row whatever tracking parameters a feed added."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = {
    "archive_date",  # RTHK adds it to archive links
    "fbclid",
    "gclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "ref",
    "share",
    "itm_source",
    "itm_medium",
    "itm_campaign",
    "itm_content",
    "module",
    "pgtype",
    "spm",
    "from",
}


# An encoded slash is part of a path segment, not a separator: it stays encoded.
_ENCODED_SLASH = re.compile("%2F", re.IGNORECASE)

# Hosts that serve the same pages under another name, mapped to the name the sources use.
HOST_ALIASES = {
    "rthk9.rthk.hk": "news.rthk.hk",  # RTHK's mirror host (research/hk-sources.md)
}


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMS


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, https, no fragment, no tracking parameters, sorted query, and
    known host aliases mapped to one name.

    Paths keep their case (SCMP slugs and HK01 Chinese paths are case-sensitive) and are
    percent-encoded one consistent way, so an encoded and a raw Chinese path compare equal (an
    encoded slash stays encoded: decoding it would change the path's segments).
    """
    parts = urlsplit(url.strip())
    scheme = "https" if parts.scheme in {"http", "https", ""} else parts.scheme.lower()
    host = (parts.hostname or "").lower()
    host = HOST_ALIASES.get(host, host)
    if parts.port and parts.port not in {80, 443}:
        host = f"{host}:{parts.port}"
    path = "%2F".join(
        quote(unquote(piece), safe="/:@!$&'()*+,;=-._~%") for piece in _ENCODED_SLASH.split(parts.path or "/")
    )
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))
