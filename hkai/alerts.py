"""Daily watchlist alerts, end to end: the `hk_ai_watchlist_alerts` DAG's tasks.

find_alerts → send_alerts, for one Hong Kong day (by default the day before the run). For each
subscriber with `watch_entities` or `watch_sectors`, a match is

- a watched entity spiking: its relevant articles this ISO week up to the end of the day, against
  the 4 weeks before, by the same statistic as `mart_entity_spikes` (warehouse/marts/spikes.py),
  with at least one story on the day;
- a new name (a `cand:` row of `mart_new_entities`) first seen on the day in an article tagged
  with a watched sector.

Every watcher gets a ledger row (digest/alert_ledger.py): `pending` with the stories and the
reasons, or `nothing`, so a quiet day is recorded and logged, never silent. Sending claims each
row before any SMTP traffic, so an alert goes out at most once per (recipient, day); an
ambiguous send becomes `unknown` and is not resent; a refused one becomes `failed`, is counted,
and does not stop the other recipients.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from config.settings import get_settings
from digest import alert_ledger as ledger
from digest.alert_render import alert_message_id, build_alert_message, render_alert
from digest.deliveries import this_sender
from digest.outbox import recipient_key
from digest.queries import chinese_names
from digest.recipients import display_name, frame_language, watchers, watchlist
from digest.send import (
    DEFAULT_SENDER,
    MAX_RETRY_DELAY,
    Ambiguous,
    ClaimLost,
    NotSent,
    SmtpSettings,
    smtp_settings,
    transmit,
    unsubscribe_targets,
)
from transforms.dates import HKT, week_start_hkt
from warehouse.db import get_engine, upgrade
from warehouse.marts.definitions import mart_table
from warehouse.marts.spikes import SPIKE_WINDOW_WEEKS, as_date, compute_spikes
from warehouse.models import SECTORS, Article, ArticleEntity, ArticleSector, Entity

log = logging.getLogger(__name__)


class AlertProblems(RuntimeError):
    """Some alerts are `failed` or `unknown`: counted and logged; a person should look."""


# --- the day -------------------------------------------------------------------------------------


def choose_day(requested: str | date | None, *, moment: datetime) -> date:
    """The Hong Kong day to report: `requested`, else the day before `moment` (in HKT)."""
    if requested:
        return requested if isinstance(requested, date) else date.fromisoformat(str(requested)[:10])
    return moment.astimezone(HKT).date() - timedelta(days=1)


def day_bounds_utc(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a Hong Kong day as naive UTC, as the warehouse stores times."""
    start = datetime(day.year, day.month, day.day, tzinfo=HKT)
    return _naive_utc(start), _naive_utc(start + timedelta(days=1))


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


# --- matching ------------------------------------------------------------------------------------


def validate_watchlists(engine: Engine, people: list[dict[str, Any]]) -> None:
    """Every watched sector is a known sector and every watched entity a knowledge-base id;
    otherwise one clear error naming the subscriber, before anything is recorded or sent."""
    with engine.connect() as conn:
        known = set(conn.execute(select(Entity.id).where(Entity.status == "kb")).scalars())
    problems = []
    for person in people:
        entities, sectors = watchlist(person)
        if bad := sorted(sectors - set(SECTORS)):
            problems.append(f"{person['email']}: unknown watch_sectors {bad} (known: {sorted(SECTORS)})")
        if bad := sorted(entities - known):
            problems.append(f"{person['email']}: watch_entities not in the knowledge base: {bad}")
    if problems:
        raise ValueError("bad watchlist in the subscribers file: " + "; ".join(problems))


def _story(row: Any) -> dict[str, Any]:
    published = row.published_at.replace(tzinfo=UTC).astimezone(HKT) if row.published_at else None
    return {
        "article_id": int(row.id),
        "title": row.title,
        "url": row.url,
        "source": row.source,
        "language": row.language,
        "published_at": published.isoformat() if published else None,
    }


def _stories_of_day(
    engine: Engine, day: date, entity_ids: set[str], sectors: set[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Relevant articles published on `day` naming each entity (optionally tagged with one of `sectors`)."""
    start, end = day_bounds_utc(day)
    query = (
        select(
            ArticleEntity.entity_id,
            Article.id,
            Article.title,
            Article.url,
            Article.source,
            Article.language,
            Article.published_at,
        )
        .join(Article, Article.id == ArticleEntity.article_id)
        .where(
            ArticleEntity.entity_id.in_(sorted(entity_ids)),
            Article.relevant.is_(True),
            Article.published_at >= start,
            Article.published_at < end,
        )
        .order_by(Article.published_at, Article.id)
    )
    if sectors is not None:
        tagged = select(ArticleSector.article_id).where(ArticleSector.sector.in_(sorted(sectors)))
        query = query.where(Article.id.in_(tagged))
    found: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            found.setdefault(row.entity_id, []).append(_story(row))
    return found


def entity_spikes(engine: Engine, day: date, entity_ids: set[str]) -> list[dict[str, Any]]:
    """Watched entities spiking this ISO week as of the end of `day` (the mart's statistic, on the
    week so far), each with the day's stories; an entity without a story that day is not news."""
    if not entity_ids:
        return []
    week = week_start_hkt(datetime(day.year, day.month, day.day, 12, tzinfo=HKT))
    _, end = day_bounds_utc(day)
    weekly = (
        select(
            Article.published_week,
            ArticleEntity.entity_id,
            Entity.name,
            func.count(func.distinct(Article.id)),
        )
        .join(Article, Article.id == ArticleEntity.article_id)
        .join(Entity, Entity.id == ArticleEntity.entity_id)
        .where(
            ArticleEntity.entity_id.in_(sorted(entity_ids)),
            Article.relevant.is_(True),
            Article.published_week >= week - timedelta(weeks=SPIKE_WINDOW_WEEKS),
            Article.published_at < end,
        )
        .group_by(Article.published_week, ArticleEntity.entity_id, Entity.name)
    )
    with engine.connect() as conn:
        counts = [(as_date(r[0]), r[1], r[2], int(r[3])) for r in conn.execute(weekly)]
    spikes = [s for s in compute_spikes(counts) if s["week_start"] == week]
    stories = _stories_of_day(engine, day, {s["entity_id"] for s in spikes})
    return [
        {
            "kind": "spike",
            "entity_id": s["entity_id"],
            "name": s["entity_name"],
            "articles": s["articles"],
            "baseline": s["baseline"],
            "score": s["score"],
            "stories": stories[s["entity_id"]],
        }
        for s in spikes
        if stories.get(s["entity_id"])
    ]


def new_names(engine: Engine, day: date, sectors: set[str]) -> list[dict[str, Any]]:
    """Candidate names (mart_new_entities, `cand:` ids) first seen on `day` in an article tagged
    with one of `sectors`, each with those articles and the first watched sector they carry."""
    if not sectors:
        return []
    start, end = day_bounds_utc(day)
    mart = mart_table("mart_new_entities")
    with engine.connect() as conn:
        firsts = {
            row.entity_id: row.entity_name
            for row in conn.execute(
                select(mart.c.entity_id, mart.c.entity_name).where(
                    mart.c.entity_id.like("cand:%"), mart.c.first_seen_at >= start, mart.c.first_seen_at < end
                )
            )
        }
    if not firsts:
        return []
    stories = _stories_of_day(engine, day, set(firsts), sectors)
    with engine.connect() as conn:
        article_sectors: dict[int, list[str]] = {}
        ids = sorted({s["article_id"] for found in stories.values() for s in found})
        for article_id, sector in conn.execute(
            select(ArticleSector.article_id, ArticleSector.sector)
            .where(ArticleSector.article_id.in_(ids), ArticleSector.sector.in_(sorted(sectors)))
            .order_by(ArticleSector.article_id, ArticleSector.confidence.desc(), ArticleSector.sector)
        ):
            article_sectors.setdefault(int(article_id), []).append(sector)
    return [
        {
            "kind": "new_name",
            "entity_id": entity_id,
            "name": firsts[entity_id],
            "sector": article_sectors[found[0]["article_id"]][0],
            "stories": found,
        }
        for entity_id, found in sorted(stories.items())
    ]


def _localise(engine: Engine, reasons: list[dict[str, Any]]) -> None:
    """Add the knowledge base's Traditional Chinese name to each spike reason (for zh-Hant frames)."""
    ids = [r["entity_id"] for r in reasons if r["kind"] == "spike"]
    if not ids:
        return
    with engine.connect() as conn:
        names = chinese_names(conn, ids)
    for reason in reasons:
        if names.get(reason["entity_id"]):
            reason["name_zh"] = names[reason["entity_id"]]


def matches_for(
    engine: Engine, person: dict[str, Any], day: date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(stories, reasons) for one watcher on one day; reasons refer to stories by article id."""
    entities, sectors = watchlist(person)
    found = entity_spikes(engine, day, entities) + new_names(engine, day, sectors)
    _localise(engine, found)
    stories: dict[int, dict[str, Any]] = {}
    reasons = []
    for match in found:
        for story in match.pop("stories"):
            stories.setdefault(story["article_id"], story)
            match.setdefault("article_ids", []).append(story["article_id"])
        reasons.append(match)
    return sorted(stories.values(), key=lambda s: (s["published_at"] or "", s["article_id"])), reasons


def find_alerts(day: str | date, *, only: list[str] | None = None) -> dict[str, Any]:
    """Match every watcher (or those in `only`) for `day` and record the outcome in the ledger:
    `pending` (to send) or `nothing`. Rows already sent or unknown are left alone."""
    alert_day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    upgrade()
    engine = get_engine()
    people = watchers()
    if only:
        wanted = {address.strip().lower() for address in only}
        missing = wanted - {p["email"].lower() for p in people}
        if missing:
            raise LookupError(
                f"not watchers (no watch_entities or watch_sectors): {', '.join(sorted(missing))}"
            )
        people = [p for p in people if p["email"].lower() in wanted]
    validate_watchlists(engine, people)
    planned: dict[str, str] = {}
    for person in people:
        stories, reasons = matches_for(engine, person, alert_day)
        status = ledger.plan(
            engine,
            person["email"],
            alert_day,
            language=frame_language(person),
            stories=stories,
            reasons=reasons,
        )
        planned[person["email"]] = status
        if status == ledger.NOTHING:
            log.info("alert %s %s: nothing matched the watchlist (recorded)", alert_day, person["email"])
        else:
            log.info(
                "alert %s %s: %s, %s reason(s), %s stor(ies)",
                alert_day,
                person["email"],
                status,
                len(reasons),
                len(stories),
            )
    if not people:
        log.info("alert %s: no subscriber watches an entity or a sector", alert_day)
    return {"alert_day": alert_day.isoformat(), "watchers": len(people), "planned": planned}


# --- sending -------------------------------------------------------------------------------------


def alert_dir(day: date) -> Path:
    return get_settings().out_dir / "alerts" / day.isoformat()


def send_alerts(
    day: str | date, *, send: bool = True, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    """Send each `pending` alert of `day` at most once (dry run without smtp_default or with
    send=False: .eml files under out/alerts/<day>/, nothing claimed). One recipient's failure is
    recorded and counted and the others are still sent."""
    alert_day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    engine = get_engine()
    smtp = smtp_settings(get_settings().smtp_conn_id) if send else None
    lease = max(ledger.DEFAULT_LEASE, timedelta(seconds=10 * smtp.timeout)) if smtp else ledger.DEFAULT_LEASE
    expired = ledger.expire_stale(engine, alert_day, lease=lease)
    for recipient in expired:
        log.error("alert %s for %s: sender died mid-send, outcome unknown (not resent)", alert_day, recipient)
    people = {p["email"]: p for p in watchers()}
    sender = smtp.from_email if smtp else DEFAULT_SENDER
    outcomes: dict[str, str] = {}
    directory = alert_dir(alert_day)
    owner = this_sender()
    for row in ledger.pending(engine, alert_day):
        person = people.get(row.recipient, {"email": row.recipient})
        unsubscribe = unsubscribe_targets(row.recipient, sender, get_settings().digest_unsubscribe_url)
        rendered = render_alert(
            recipient=row.recipient,
            day=alert_day,
            language=row.language,
            stories=row.stories,
            reasons=row.reasons,
            unsubscribe_url=unsubscribe[-1],
        )
        message = build_alert_message(
            rendered,
            to=row.recipient,
            sender=sender,
            day=alert_day,
            language=row.language,
            unsubscribe=unsubscribe,
        )
        directory.mkdir(parents=True, exist_ok=True)
        eml = directory / f"{recipient_key(row.recipient)}.eml"
        eml.write_bytes(bytes(message))
        log.info(
            "alert for %s (%s): %s",
            display_name(person),
            eml.relative_to(get_settings().out_dir),
            rendered.subject,
        )
        if smtp is None:
            outcomes[row.recipient] = "dry run (.eml written)"
            continue
        outcomes[row.recipient] = _send_one(engine, row, message, smtp, owner, sleep)
    counts: dict[str, int] = {}
    for status in [r["status"] for r in ledger.rows(engine, alert_day)]:
        counts[status] = counts.get(status, 0) + 1
    problems = [f"{r}: {o}" for r, o in outcomes.items() if o.startswith(("failed", "unknown"))]
    problems += [f"{r}: unknown (sender died mid-send)" for r in expired]
    return {
        "alert_day": alert_day.isoformat(),
        "deliveries": outcomes,
        "ledger": counts,
        "problems": problems,
    }


def _send_one(
    engine: Engine, row: Any, message: Any, smtp: SmtpSettings, owner: str, sleep: Callable[[float], None]
) -> str:
    """Claim, send (retrying a definite failure before DATA), record. Returns the outcome."""
    held = ledger.claim(
        engine, row, owner=owner, message_id=alert_message_id(row.recipient, row.alert_day, smtp.from_email)
    )
    if held is None:
        return "claimed by another sender"
    tries = 0
    while True:
        try:
            reply = transmit(message, smtp, before_data=lambda: ledger.still_mine(engine, held))
        except ClaimLost:
            return "claimed by another sender"
        except NotSent as exc:
            tries += 1
            if tries > smtp.retry_limit:
                detail = f"not sent after {tries} tries: {exc}"
                ledger.record(engine, held, ledger.FAILED, detail)
                log.error("alert for %s failed: %s", row.recipient, detail)
                return f"failed: {detail}"
            log.warning("alert for %s not sent (try %s, will retry): %s", row.recipient, tries, exc)
            sleep(min(smtp.retry_delay * 2 ** (tries - 1), MAX_RETRY_DELAY))
            continue
        except Ambiguous as exc:
            ledger.record(engine, held, ledger.UNKNOWN, str(exc))
            log.error("alert for %s may or may not have been delivered (not resent): %s", row.recipient, exc)
            return f"unknown: {exc}"
        except BaseException as exc:  # interrupted mid-send: the relay may have it
            ledger.record(engine, held, ledger.UNKNOWN, f"interrupted: {type(exc).__name__}")
            raise
        ledger.record(engine, held, ledger.SENT, None if tries == 0 else f"sent after {tries} retries")
        log.info("alert for %s sent: %s", row.recipient, reply)
        return "sent"


def raise_for_problems(result: dict[str, Any]) -> None:
    problems = result.get("problems") or []
    if problems:
        raise AlertProblems(
            f"{len(problems)} alert(s) for {result['alert_day']} need a person: " + "; ".join(problems)
        )
