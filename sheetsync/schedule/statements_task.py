"""`statements:` jobs: build the customer statements, then e-mail each one once (sheetsync.statements).

What `sheetsync statements build --pdf DIR` then `statements send --pdf DIR ... [--apply]` do, under
the scheduler's locks, history and alerts. Never twice: the send log in the state store is keyed by
customer and statement date, so a re-run (a catch-up, a manual `schedule run`) sends nothing already
sent, and a message whose SMTP transaction did not complete stays "unknown" until someone resends it
from the command line. Every job that sends holds the one lock `statements:send`, so two runs never
plan the same statement at once (`sheetsync statements send --apply` holds it as well).

The run's history: rows "statements/built" and one per outcome ("statements/sent", "statements/already
sent", "statements/no address", "statements/failed", "statements/unknown", "statements/planned" when
`apply` is false); a customer not reached is a warning, and makes the run `partial` (alerted on
`partial`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sheetsync.config import Settings, load_settings
from sheetsync.errors import ConfigError, SinkError
from sheetsync.schedule.tasks import MISSING_HINT, TaskEnv, TaskResult, api_counts, kss_quota
from sheetsync.statements.send import SEND_LOCK  # `statements send --apply` holds it too

NOT_REACHED = ("no address", "failed", "unknown", "test failed")


class StatementsTask:
    """`statements:` jobs (spec.StatementsRun): build, then send unless `send: false`."""

    def __init__(self, job: Any) -> None:
        self.job = job
        self.spec = job.spec
        self.options = job.spec.statements

    @property
    def pdf_dir(self) -> Path:
        return Path(self.job.resolve(self.options.pdf))

    @property
    def sends(self) -> bool:
        """Whether a run may e-mail a customer (and so holds the send lock)."""
        return bool(self.options.send and self.options.apply)

    def check(self) -> None:
        """The ar-aging parameters, the PDF folder, the recipients file, the addresses, the paper and,
        when it sends, the mail server: refused before any request."""
        from sheetsync.statements.build import paper_size

        self._params()
        settings = self._settings()
        paper_size(settings.statements_paper)
        if not self.pdf_dir.parent.is_dir():
            raise SinkError(f"pdf {self.options.pdf}: directory {self.pdf_dir.parent} does not exist")
        if self.options.send:
            self._send_options(settings)
            if self.options.recipients is not None:
                self._recipients_file()
        if self.sends:
            self._smtp(settings)

    def output_locks(self) -> list[str]:
        return [f"output:{self.pdf_dir.expanduser().resolve()}"] + ([SEND_LOCK] if self.sends else [])

    def run(self, env: TaskEnv) -> TaskResult:
        from sheetsync.statements.build import build_statements

        smtp = self._smtp(env.settings) if self.sends else None
        with env.connect(env.settings) as connections:
            try:
                built = build_statements(
                    connections, self.pdf_dir, params=self._params(), settings=env.settings,
                    combined=self.options.combined,
                )  # fmt: skip
                recipients = self._recipients(connections, built) if self.options.send else {}
            finally:
                env.spent.requests, env.spent.not_modified = api_counts(connections)
            quota_left, quota_reset = kss_quota(connections)
        result = TaskResult(
            outputs=[str(self.pdf_dir / s.file) for s in built],
            rows={"statements/built": len(built)},
            requests=env.spent.requests,
            not_modified=env.spent.not_modified,
            fingerprint=_fingerprint(built),
            quota_left=quota_left,
            quota_reset=quota_reset,
        )
        result.bytes_written = sum(_size(Path(path)) for path in result.outputs)
        if self.options.send and built:
            self._send(built, recipients, env.settings, smtp, result)
        return result

    # ---- sending
    def _send(self, built: list[Any], recipients: Any, settings: Settings, smtp: Any, result: TaskResult) -> None:
        from sheetsync.statements.send import plan_sends, send_planned

        store = None if self.options.test_to else _open_store(settings)
        try:
            plan = plan_sends(built, recipients, store, self._send_options(settings), self.pdf_dir)
            if self.sends:
                send_planned(plan, smtp, store)
        finally:
            if store is not None:
                store.close()
        for item in plan.items:
            state = _state_of(item, applied=self.sends)
            result.rows[f"statements/{state}"] = result.rows.get(f"statements/{state}", 0) + 1
            if state in NOT_REACHED:
                result.warnings.append(_not_reached(item, state))
        result.partial = any(state in NOT_REACHED for state in map(_key_state, result.rows))
        result.unchanged = False if result.rows.get("statements/sent") else None

    def _send_options(self, settings: Settings) -> Any:
        from sheetsync.statements.recipients import addresses
        from sheetsync.statements.send import SendOptions

        test_to = self.options.test_to
        if test_to is not None and addresses(test_to, "test_to") != [test_to.strip()]:
            raise ConfigError(f"test_to {test_to!r}: give one e-mail address")
        return SendOptions(
            bcc=tuple(a for text in self.options.bcc for a in addresses(text, "bcc")),
            test_to=test_to.strip() if test_to else None,
            subject=settings.statements_subject,
            body=settings.statements_body,
            recipients_note=_API_NOTE if self.options.recipients_from_api else "",
        )

    def _recipients(self, connections: Any, built: list[Any]) -> Any:
        from sheetsync.statements.recipients import recipients_from_users

        if self.options.recipients is not None:
            return self._recipients_file()
        ids = sorted({s.customer_id for s in built})
        users = connections.kss.get_all("users", {"CustomerIDs": ids, "Roles": ["Customer"]}) if ids else []
        return recipients_from_users(users, ids)

    def _recipients_file(self) -> Any:
        from sheetsync.statements.recipients import read_recipients

        path = Path(self.job.resolve(self.options.recipients))
        if not path.is_file():
            raise ConfigError(f"recipients {self.options.recipients}: no such file ({path})")
        return read_recipients(path)

    # ---- settings
    def _params(self) -> dict[str, Any]:
        """The ar-aging parameters, checked as `statements build -p` checks them."""
        from sheetsync.definition import find_definition, resolve_params

        resolve_params(find_definition("ar-aging"), {**self.spec.params, "burst": True}, missing_hint=MISSING_HINT)
        return dict(self.spec.params)

    def _settings(self) -> Settings:
        return load_settings(profile=self.spec.profile)

    @staticmethod
    def _smtp(settings: Settings) -> Any:
        from sheetsync.mailer import SmtpSettings

        return SmtpSettings.from_settings(settings)


_API_NOTE = "recipients are the customers' KSS users with an e-mail: buyers, not necessarily billing contacts"


def _open_store(settings: Settings) -> Any:
    """The state store holding the send log (the same one `sheetsync statements send` uses)."""
    from sheetsync.store import Actor, open_store

    return open_store(settings.store_location, actor=Actor.current(api_key=settings.kss_api_key))


def _state_of(item: Any, *, applied: bool) -> str:
    """What happened to one planned statement: sent, failed, unknown, already sent, no address, planned
    (not applied), or "test sent"/"test failed" (test_to: nothing recorded)."""
    if not item.will_send:
        return str(item.action)
    if not applied:
        return "planned"
    head = str(item.outcome or "unknown").split(":")[0].split(" (")[0]
    return f"test {head}" if item.action == "test" else head


def _key_state(row: str) -> str:
    return row.split("/", 1)[1]


def _not_reached(item: Any, state: str) -> dict[str, Any]:
    statement = item.statement
    why = (
        {
            "no address": "no e-mail address for this customer",
            "unknown": "an earlier send may or may not have gone out; check, then `sheetsync statements send --resend`",
        }.get(state, "")
        if not item.outcome
        else item.outcome
    )
    return {
        "code": "statement_not_sent",
        "message": f"statement of {statement.customer} ({statement.customer_id}) not sent: {why}",
        "subject": str(statement.customer_id),
    }


def _fingerprint(built: list[Any]) -> str:
    """The statements' identity and amounts (not the PDF bytes, which carry print times)."""
    digest = hashlib.sha256()
    for statement in built:
        digest.update(f"{statement.customer_id}|{statement.statement_date}|{statement.amount_due}\n".encode())
    return digest.hexdigest()[:32]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
