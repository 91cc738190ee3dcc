from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from transforms.dates import HKT, parse_date, plausible, week_start_hkt

FETCHED = datetime(2025, 11, 28, 16, 0, tzinfo=HKT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025年11月28日星期五", datetime(2025, 11, 28, tzinfo=HKT)),  # Ming Pao
        ("今日 15:23", datetime(2025, 11, 28, 15, 23, tzinfo=HKT)),  # HKEJ, relative to fetch
        ("2025-11-26 HKT 17:22", datetime(2025, 11, 26, 17, 22, tzinfo=HKT)),  # RTHK
        ("1764147600", datetime(2025, 11, 26, 17, 0, tzinfo=HKT)),  # epoch seconds (HK01)
        ("1764147600000", datetime(2025, 11, 26, 17, 0, tzinfo=HKT)),  # epoch ms (SCMP __NEXT_DATA__)
        ("Sun, 06 Oct 2019 16:28:27 +0800", datetime(2019, 10, 6, 16, 28, 27, tzinfo=HKT)),  # RFC 822
        ("2025-08-07T21:34:30.000+0800", datetime(2025, 8, 7, 21, 34, 30, tzinfo=HKT)),  # The Standard
        ("2025-11-28T13:48:56.000Z", datetime(2025, 11, 28, 21, 48, 56, tzinfo=HKT)),  # SCMP <time>, UTC
        ("Published: 18:57, December 9, 2024", datetime(2024, 12, 9, 18, 57, tzinfo=HKT)),  # China Daily
        ("3小時前", datetime(2025, 11, 28, 13, 0, tzinfo=HKT)),
        # The Standard's legacy heading; email.utils alone reads the pm time as 03:48
        ("Local | 7 Aug 2020 3:48 pm", datetime(2020, 8, 7, 15, 48, tzinfo=HKT)),
        ("1 Aug 2018 11:08 am", datetime(2018, 8, 1, 11, 8, tzinfo=HKT)),
        # GIA press releases close with the date and the issue time
        ("Ends/Tuesday, January 7, 2020 Issued at HKT 17:12", datetime(2020, 1, 7, 17, 12, tzinfo=HKT)),
        ("完 2020年1月7日（星期二） 香港時間17時12分發", datetime(2020, 1, 7, 17, 12, tzinfo=HKT)),
        ("完/2020年1月7日（星期二）\n香港時間17時12分發", datetime(2020, 1, 7, 17, 12, tzinfo=HKT)),
    ],
)
def test_site_formats_parse_to_aware_hkt(text: str, expected: datetime) -> None:
    parsed = parse_date(text, reference=FETCHED)
    assert parsed is not None and parsed.tzinfo is not None
    assert parsed == expected


def test_naive_times_are_hong_kong_time() -> None:
    parsed = parse_date("2025-11-01 00:25:32")
    assert parsed is not None and parsed.utcoffset() == timedelta(hours=8)


def test_guard_rejects_future_and_expiry_dates() -> None:
    assert (
        plausible(parse_date("2031-01-01T00:00:00+08:00"), fetched_at=FETCHED) is None
    )  # cookie/script expiry
    assert plausible(parse_date("1970-01-01T00:00:00Z"), fetched_at=FETCHED) is None
    assert plausible(parse_date("2025-11-28T15:00:00+08:00"), fetched_at=FETCHED) is not None


def test_week_start_is_monday_in_hong_kong_time() -> None:
    # Sunday 23 Nov 2025 17:30 UTC is Monday 24 Nov 01:30 in Hong Kong: a new ISO week there.
    moment = datetime(2025, 11, 23, 17, 30, tzinfo=UTC)
    assert str(week_start_hkt(moment)) == "2025-11-24"
    assert str(week_start_hkt(datetime(2025, 11, 23, 15, 0, tzinfo=UTC))) == "2025-11-17"


def test_garbage_is_none_not_an_error() -> None:
    assert parse_date("not a date") is None
    assert parse_date("") is None
    assert parse_date(None) is None
