"""Canonical URLs, so one article is one row whatever tracking parameters a feed added."""

from __future__ import annotations

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


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMS


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, https, no fragment, no tracking parameters, sorted query.

    Paths keep their case (SCMP slugs and HK01 Chinese paths are case-sensitive) and are
    percent-encoded one consistent way, so an encoded and a raw Chinese path compare equal.
    """
    parts = urlsplit(url.strip())
    scheme = "https" if parts.scheme in {"http", "https", ""} else parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("rthk9."):
        host = host.replace("rthk9.", "news.", 1)
    if parts.port and parts.port not in {80, 443}:
        host = f"{host}:{parts.port}"
    path = quote(unquote(parts.path or "/"), safe="/:@!$&'()*+,;=-._~%")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))
