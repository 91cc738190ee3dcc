"""A watchlist alert: a short message listing why it was sent (a watched entity spiking, a new name
in a watched sector) and the day's stories behind it, framed in the subscriber's language.
Headlines stay as published; entity names use the subscriber's language where the knowledge
base has one."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from digest.i18n import ZH_HANT, day_month, entity_name, is_day_only, language_of, sector_name
from digest.render import RenderedDigest, template_environment
from digest.send import build_message

ALERT_LIST_NAME = "Hong Kong AI watchlist alerts"

ALERT_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Hong Kong AI watchlist",
        "subject": "Hong Kong AI watchlist, {day}: {what}",
        "spike": "{name} is spiking: {articles} articles this week vs {baseline} usual",
        "new_name": "New name in {sector}: {name}",
        "intro": "Why you get this alert on {day} (HKT):",
        "stories": "Stories",
        "footer": "Sent to {recipient} because you watch these names or sectors in the Hong Kong AI news "
        "tracker. At most one alert a day.",
        "unsubscribe": "Unsubscribe",
        "and_more": "{first} and {n} more",
        "colon": ": ",
    },
    ZH_HANT: {
        "title": "香港人工智能關注提示",
        "subject": "香港人工智能關注提示（{day}）：{what}",
        "spike": "{name} 報道量急升：本週 {articles} 篇，平常 {baseline} 篇",
        "new_name": "{sector}行業出現新名字：{name}",
        "intro": "{day}（香港時間）發出此提示的原因：",
        "stories": "相關新聞",
        "footer": "您在香港人工智能新聞追蹤系統關注了這些名字或行業，因此收到此郵件（{recipient}）。每日最多一封。",
        "unsubscribe": "取消訂閱",
        "and_more": "{first}及另外 {n} 項",
        "colon": "：",
    },
}


def reason_line(reason: dict[str, Any], language: str) -> str:
    """One reason, in words: a spike with its numbers, or a new name and its sector."""
    words = ALERT_LABELS[language]
    name = _short_reason(reason, language)
    if reason["kind"] == "spike":
        return words["spike"].format(
            name=name, articles=reason["articles"], baseline=f"{reason['baseline']:g}"
        )
    return words["new_name"].format(name=name, sector=sector_name(reason["sector"], language))


def _short_reason(reason: dict[str, Any], language: str) -> str:
    return entity_name(reason["name"], reason.get("name_zh"), language)


def render_alert(
    *,
    recipient: str,
    day: date,
    language: str,
    stories: list[dict[str, Any]],
    reasons: list[dict[str, Any]],
    unsubscribe_url: str | None = None,
) -> RenderedDigest:
    """Subject, HTML and text of one alert (no images: an alert is read on a phone)."""
    language = language_of(language)
    words = ALERT_LABELS[language]
    day_label = day_month(day, language) + (f" {day.year}" if language != ZH_HANT else "")
    names = [_short_reason(r, language) for r in reasons]
    what = names[0] if len(names) == 1 else words["and_more"].format(first=names[0], n=len(names) - 1)
    context = {
        "words": words,
        "language": language,
        "title": words["title"],
        "intro": words["intro"].format(day=day_label),
        "reasons": [reason_line(r, language) for r in reasons],
        "stories": [{**story, "when": _when(story.get("published_at"), language)} for story in stories],
        "footer": words["footer"].format(recipient=recipient),
        "unsubscribe_url": unsubscribe_url,
    }
    env = template_environment()
    return RenderedDigest(
        subject=words["subject"].format(day=day_label, what=what),
        html=env.get_template("alert.html").render(**context),
        text=env.get_template("alert.txt").render(**context),
    )


def _when(value: str | None, language: str) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value)  # HKT, as hkai.alerts writes it
    day = day_month(moment.date(), language)
    return day if is_day_only(moment) else f"{day} {moment:%H:%M}"


def alert_message_id(recipient: str, day: date, sender: str) -> str:
    """The same Message-ID for every copy of one (recipient, day) alert, so a relay or mail client
    can drop a duplicate; never equal to a digest's."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "hkai.local"
    digest = hashlib.sha256(f"alert|{recipient.strip().lower()}|{day.isoformat()}".encode()).hexdigest()
    return f"<alert-{day.isoformat()}-{digest[:32]}@{domain}>"


def build_alert_message(
    rendered: RenderedDigest,
    *,
    to: str,
    sender: str,
    day: date,
    language: str,
    unsubscribe: list[str],
) -> EmailMessage:
    """The digest's message builder (Date, List-Unsubscribe, text + HTML), with the alert's own
    Message-ID and List-Id."""
    message = build_message(
        rendered, to=to, sender=sender, week_start=day, language=language, unsubscribe=unsubscribe
    )
    del message["Message-ID"]
    message["Message-ID"] = alert_message_id(to, day, sender)
    domain = message["Message-ID"].rpartition("@")[2].rstrip(">")
    del message["List-Id"]
    message["List-Id"] = f"{ALERT_LIST_NAME} <alerts.{domain}>"
    return message
