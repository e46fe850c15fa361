"""Telling people about a job's run: a webhook POST (Slack- and Teams-compatible JSON) and/or an e-mail.

The webhook body works for Slack incoming webhooks (`text`), Microsoft Teams connector webhooks
(`@type: MessageCard`, `title`, `text`) and anything that reads JSON (`sheetsync`: the run itself):

    {"text": "...", "@type": "MessageCard", "@context": "https://schema.org/extensions",
     "summary": "...", "title": "...", "themeColor": "D13438", "sheetsync": {"job": ..., "outcome": ...}}

A webhook URL is a secret (whoever has it can post): it is shown as its scheme and host only.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from sheetsync.errors import ConfigError, DeliveryError

COLORS = {"failure": "D13438", "partial": "FFB900", "recovery": "107C10", "changed": "0078D4"}


@dataclass(frozen=True)
class Alert:
    """What happened to one run of one job, for people.

    event: failure | partial | recovery | changed. run: the RunRecord's JSON (sheetsync.schedule.history).
    """

    job: str
    event: str
    run: dict[str, Any]

    @property
    def title(self) -> str:
        what = {
            "failure": f"failed ({self.run.get('outcome')})",
            "partial": "finished with data missing",
            "recovery": "is working again",
            "changed": "wrote changed data",
        }[self.event]
        return f"sheetsync job {self.job} {what}"

    @property
    def text(self) -> str:
        run = self.run
        lines = [self.title + ".", f"Run {run.get('id')} started {run.get('started')}, outcome {run.get('outcome')}."]
        if run.get("error"):
            lines.append(f"Error: {run['error']}")
        if self.event == "failure":
            lines.append("The previous output was left as it was: nothing was written by this run.")
            if run.get("outputs"):
                lines[-1] = f"Written before the failure: {', '.join(run['outputs'])}."
        elif run.get("outputs"):
            lines.append(f"Wrote: {', '.join(run['outputs'])}.")
        lines += [f"Warning: {w.get('message', w)}" for w in run.get("warnings", [])[:10]]
        return "\n".join(lines)

    def webhook_payload(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": self.title,
            "title": self.title,
            "themeColor": COLORS[self.event],
            "sheetsync": {"job": self.job, "event": self.event, "run": self.run},
        }


def shown_url(url: str) -> str:
    """A webhook URL as it may be shown: scheme and host, never the path or query (the secret part)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…" if parts.hostname else "(webhook)"


def resolve_url(url: str) -> str:
    """`env:VAR` -> the variable's value; ConfigError when it is not set."""
    if not url.startswith("env:"):
        return url
    value = os.environ.get(url.removeprefix("env:"))
    if not value:
        raise ConfigError(f"the alert webhook reads {url.removeprefix('env:')}, which is not set")
    return value


def post_webhook(url: str, alert: Alert, *, session: requests.Session | None = None, timeout: float = 15.0) -> None:
    """POST the alert as JSON; DeliveryError (URL shown without its secret part) unless answered 2xx."""
    target = resolve_url(url)
    try:
        response = (session or requests).post(target, json=alert.webhook_payload(), timeout=timeout)
    except requests.RequestException as exc:
        raise DeliveryError(f"webhook {shown_url(target)}: {type(exc).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook {shown_url(target)} answered {response.status_code}")


def mail_alert(smtp: Any, to: list[str], alert: Alert) -> None:
    """E-mail the alert with the shared mailer (sheetsync.mailer)."""
    from sheetsync.mailer import Mail, send_mail

    send_mail(smtp, Mail(to=to, subject=alert.title, body=alert.text))


class Alerter:
    """Delivers a run's alerts to its policy's webhooks and mailboxes; a delivery failure is reported, not raised.

    `smtp` is the mailer's SmtpSettings, or a callable returning them (read only when a mail is due)."""

    def __init__(self, smtp: Any = None, *, session: requests.Session | None = None) -> None:
        self._smtp = smtp
        self.session = session

    def send(self, job: str, policy: Any, run: dict[str, Any], events: list[str]) -> list[str]:
        """Send each event to every webhook and e-mail of `policy`; returns one line per delivery."""
        delivered = []
        for event in events:
            alert = Alert(job, event, run)
            for url in policy.webhook:
                where = f"webhook {shown_url(url)}"
                send = functools.partial(post_webhook, url, alert, session=self.session)
                delivered.append(_deliver(event, where, send))
            if policy.email:
                where = f"mail {', '.join(policy.email)}"
                delivered.append(_deliver(event, where, functools.partial(self._mail, list(policy.email), alert)))
        return delivered

    def _mail(self, to: list[str], alert: Alert) -> None:
        smtp = self._smtp() if callable(self._smtp) else self._smtp
        if smtp is None:
            raise ConfigError("no mail server configured ([smtp] host)")
        mail_alert(smtp, to, alert)


def _deliver(event: str, where: str, send: Callable[[], None]) -> str:
    try:
        send()
    except (DeliveryError, ConfigError) as exc:
        return f"{event}: {where} FAILED: {exc.message}"
    return f"{event}: {where}"
