"""Publication dates: every site format Hong Kong outlets use, always timezone-aware (HKT = UTC+8).

Naive times are read as Hong Kong time, because every source in the registry publishes in HKT.
A guard rejects dates in the future (script expiry dates, cookie dates) and implausibly old ones.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

HKT = timezone(timedelta(hours=8), "HKT")
EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(hours=2)

_CJK_DATE = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日(?:\s*(?:星期|週|周)[一二三四五六日天])?"
)
_TIME = re.compile(r"(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?")
_RELATIVE_TODAY = re.compile(
    r"^\s*(今日|今天|Today|昨日|昨天|Yesterday)\s*(\d{1,2})[:：](\d{2})", re.IGNORECASE
)
_YESTERDAY = {"昨日", "昨天", "yesterday"}
_RELATIVE_AGO = re.compile(r"^\s*(\d+)\s*(分鐘|分钟|小時|小时|天|日)前")
_HKT_STAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})\s+HKT\s+(\d{1,2}):(\d{2})")
# GIA press releases end with "Ends/Tuesday, January 7, 2020 Issued at HKT 17:12"
_GIA_ENDS = re.compile(r"Ends/\w+, (\w+ \d{1,2}, \d{4})\s*Issued at HKT (\d{1,2}):(\d{2})")
# and in Chinese "完 2020年1月7日（星期二） 香港時間17時12分發"
_ZH_HOUR_MINUTE = re.compile(r"(\d{1,2})時(\d{1,2})分")
_DMY = re.compile(r"^\s*(\d{1,2})[-./](\d{1,2})[-./](\d{4})(?:\s+(\d{1,2}):(\d{2}))?\s*$")
_EPOCH = re.compile(r"^\s*\d{9,13}(?:\.\d+)?\s*$")
_COMPACT_OFFSET = re.compile(r"([+-])(\d{2})(\d{2})$")


def now_hkt() -> datetime:
    return datetime.now(HKT)


def as_hkt(value: datetime) -> datetime:
    """Attach HKT to a naive datetime; convert an aware one to HKT."""
    if value.tzinfo is None:
        return value.replace(tzinfo=HKT)
    return value.astimezone(HKT)


def from_epoch(value: float | int | str) -> datetime:
    """Epoch seconds or milliseconds (HK01 uses seconds, SCMP's __NEXT_DATA__ milliseconds)."""
    number = float(value)
    if number > 1e11:
        number /= 1000.0
    return datetime.fromtimestamp(number, tz=UTC).astimezone(HKT)


def _iso(text: str) -> datetime | None:
    candidate = text.strip().replace("Z", "+00:00")
    candidate = _COMPACT_OFFSET.sub(r"\1\2:\3", candidate)
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def parse_date(text: object, *, reference: datetime | None = None) -> datetime | None:
    """Parse any date form seen on HK sources; return an aware datetime or None.

    `reference` is the fetch time, used for relative forms such as 今日 15:23 or 3小時前.
    """
    if text is None:
        return None
    if isinstance(text, datetime):
        return as_hkt(text)
    if isinstance(text, date):
        return datetime(text.year, text.month, text.day, tzinfo=HKT)
    if isinstance(text, int | float):
        return from_epoch(text)
    raw = str(text).strip()
    if not raw:
        return None
    ref = as_hkt(reference) if reference else now_hkt()
    if _EPOCH.match(raw):
        return from_epoch(raw)
    if match := _HKT_STAMP.search(raw):
        y, m, d, hh, mm = (int(g) for g in match.groups())
        return datetime(y, m, d, hh, mm, tzinfo=HKT)
    if match := _GIA_ENDS.search(raw):
        day = datetime.strptime(match.group(1), "%B %d, %Y")
        return day.replace(hour=int(match.group(2)), minute=int(match.group(3)), tzinfo=HKT)
    if match := _RELATIVE_TODAY.match(raw):
        day = ref - timedelta(days=1) if match.group(1).lower() in _YESTERDAY else ref
        return day.replace(hour=int(match.group(2)), minute=int(match.group(3)), second=0, microsecond=0)
    if match := _RELATIVE_AGO.match(raw):
        amount, unit = int(match.group(1)), match.group(2)
        delta = {"分鐘": "minutes", "分钟": "minutes", "小時": "hours", "小时": "hours"}.get(unit, "days")
        return (ref - timedelta(**{delta: amount})).replace(second=0, microsecond=0)
    if match := _CJK_DATE.search(raw):
        y, m, d = (int(g) for g in match.groups())
        rest = raw[match.end() :]
        hh = mm = ss = 0
        if tmatch := _TIME.search(rest):
            hh, mm = int(tmatch.group(1)), int(tmatch.group(2))
            ss = int(tmatch.group(3) or 0)
        elif tmatch := _ZH_HOUR_MINUTE.search(rest):
            hh, mm = int(tmatch.group(1)), int(tmatch.group(2))
        return datetime(y, m, d, hh, mm, ss, tzinfo=HKT)
    if match := _DMY.match(raw):
        d, m, y = int(match.group(1)), int(match.group(2)), int(match.group(3))
        hh, mm = int(match.group(4) or 0), int(match.group(5) or 0)
        return datetime(y, m, d, hh, mm, tzinfo=HKT)
    if parsed := _iso(raw):
        return as_hkt(parsed)
    if _AM_PM.search(raw):  # email.utils would read "7 Aug 2020 3:48 pm" as 03:48
        stamp = _EN_DAY_MONTH_YEAR_TIME.search(raw)
        if parsed := _parse_english(stamp.group(0) if stamp else raw):
            return parsed
    try:
        return as_hkt(parsedate_to_datetime(raw))
    except (TypeError, ValueError, IndexError):
        pass
    return _parse_english(raw)


_AM_PM = re.compile(r"\d:\d{2}\s?[ap]\.?m\b", re.IGNORECASE)
# "7 Aug 2020 3:48 pm" inside a longer line such as "Local | 7 Aug 2020 3:48 pm"
_EN_DAY_MONTH_YEAR_TIME = re.compile(r"\b\d{1,2} [A-Z][a-z]{2,8} \d{4} \d{1,2}:\d{2} ?[ap]m\b", re.IGNORECASE)

_EN_FORMATS = (
    "%B %d, %Y %H:%M",
    "%B %d, %Y",
    "%d %B %Y %H:%M",
    "%d %B %Y",
    "%d %b %Y %I:%M %p",
    "%d %b %Y %I:%M%p",
    "%d %B %Y %I:%M %p",
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%b %d, %Y",
    "%H:%M, %B %d, %Y",
    "%I:%M%p, %d %b %Y",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
)


def _parse_english(raw: str) -> datetime | None:
    cleaned = re.sub(r"^(Published|Updated|Date)\s*:\s*", "", raw, flags=re.IGNORECASE)
    cleaned = re.sub(r"\s*(HKT|\|.*)$", "", cleaned).strip()
    cleaned = cleaned.replace("am", "AM").replace("pm", "PM")
    for fmt in _EN_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).replace(tzinfo=HKT)
        except ValueError:
            continue
    return None


def plausible(value: datetime | None, *, fetched_at: datetime | None = None) -> datetime | None:
    """Reject future dates (beyond the fetch time) and dates before the web news era."""
    if value is None:
        return None
    limit = (as_hkt(fetched_at) if fetched_at else now_hkt()) + FUTURE_TOLERANCE
    if value > limit or value < EARLIEST_PLAUSIBLE:
        return None
    return value


def week_start_hkt(value: datetime) -> date:
    """Monday of the ISO week that contains `value`, in Hong Kong time."""
    local = as_hkt(value).date()
    return local - timedelta(days=local.weekday())
