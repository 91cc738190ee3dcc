"""Failure emails for any DAG or task: `on_failure_callback=notify_failure`.

The email goes to HKAI_OPS_EMAIL over the same SMTP connection as the digest (`smtp_default`),
with what an operator needs to act: DAG, task, run, try number, the exception and the log URL.
Without an address or a connection it only logs. It never raises (a callback that fails would
hide the task's own error) and never writes a secret: the connection's password is scrubbed from
everything it sends or logs, and no connection detail is put in the message.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import TYPE_CHECKING, Any

from config.settings import get_settings
from transforms.dates import HKT

if TYPE_CHECKING:  # digest.send pulls in the renderer; a DAG file imports this module at parse time
    from digest.send import SmtpSettings

log = logging.getLogger(__name__)

MAX_TRACE_CHARS = 4000


def failure_facts(context: Mapping[str, Any]) -> dict[str, str]:
    """DAG id, task id, run id, try number, exception and log URL from an Airflow task context."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    exception = context.get("exception")
    if isinstance(exception, BaseException):
        trace = "".join(traceback.format_exception(exception))[-MAX_TRACE_CHARS:]
        error = f"{type(exception).__name__}: {exception}"
    else:
        error, trace = str(exception or context.get("reason") or "unknown"), ""
    return {
        "dag_id": str(getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", "?")),
        "task_id": str(getattr(ti, "task_id", None) or "-"),
        "map_index": str(getattr(ti, "map_index", -1)),
        "run_id": str(getattr(ti, "run_id", None) or getattr(dag_run, "run_id", "?")),
        "try_number": str(getattr(ti, "try_number", "?")),
        "error": error,
        "trace": trace,
        "log_url": str(getattr(ti, "log_url", "") or ""),
    }


def failure_message(facts: dict[str, str], *, to: str, sender: str) -> EmailMessage:
    """A plain-text email naming the failed task and how to read its log."""
    task = facts["task_id"] + (f"[{facts['map_index']}]" if facts["map_index"] not in ("-1", "None") else "")
    message = EmailMessage()
    message["Subject"] = f"[hkai] {facts['dag_id']}.{task} failed (try {facts['try_number']})"
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(HKT))
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "hkai.local")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to an alarm
    message.set_content(
        "\n".join(
            [
                f"DAG:        {facts['dag_id']}",
                f"Task:       {task}",
                f"Run:        {facts['run_id']}",
                f"Try:        {facts['try_number']}",
                f"Exception:  {facts['error']}",
                f"Log:        {facts['log_url'] or '(no log URL)'}",
                "",
                facts["trace"],
            ]
        )
    )
    return message


def _scrubbed(facts: dict[str, str], smtp: SmtpSettings | None) -> dict[str, str]:
    return {key: smtp.scrub(value) for key, value in facts.items()} if smtp else facts


def notify_failure(context: Mapping[str, Any]) -> None:
    """Airflow failure callback: email the operator (HKAI_OPS_EMAIL over smtp_default); log otherwise."""
    from digest.send import SendError, smtp_settings, transmit

    try:
        settings = get_settings()
        smtp = smtp_settings(settings.smtp_conn_id)
        facts = _scrubbed(failure_facts(context), smtp)
        where = f"{facts['dag_id']}.{facts['task_id']} run {facts['run_id']} try {facts['try_number']}"
        if not settings.ops_email or smtp is None:
            log.warning(
                "failure of %s not emailed (set HKAI_OPS_EMAIL and smtp_default): %s", where, facts["error"]
            )
            return
        message = failure_message(facts, to=settings.ops_email, sender=smtp.from_email)
        reply = transmit(message, smtp)
        log.info("failure of %s emailed to %s: %s", where, settings.ops_email, reply)
    except SendError as exc:
        log.error("failure email not sent: %s", exc)  # transmit already scrubbed the password
    except Exception as exc:  # a broken callback must not hide the task's own failure
        log.error("failure email not sent: %s", type(exc).__name__)
