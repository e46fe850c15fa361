"""Redemption codes (`POST redemption_codes/create`), once: intent in the store before the POST, raw answer after.

The document shows no success body, so the answer is parsed defensively (`codes_in`) and kept whole in
the store. A request whose outcome is unknown (timeout, dropped connection, 5xx) blocks further code
requests for that portal until a person has checked the portal and passes `--despite-unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sheetsync.apis.kotis import DAILY_CODE_LIMIT
from sheetsync.errors import ApiError, ExitCode, ParameterError, PushError
from sheetsync.model import Column, Format, Tab, Workbook
from sheetsync.push.failures import failure_state
from sheetsync.push.kotis_ledger import BLOCKED, CREATED, REFUSED, SENDING, UNKNOWN, KotisLedger
from sheetsync.push.payments import new_run_id
from sheetsync.store import utc_now


@dataclass(frozen=True)
class CreatedCode:
    code: str
    created: datetime  # when the request was sent, UTC (naive, as a sheet shows it)
    run_id: str


@dataclass
class CodesResult:
    codes: list[str] = field(default_factory=list)  # created by this run
    lines: list[str] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    portal_codes: list[CreatedCode] = field(default_factory=list)  # every code created for the portal so far


def check_count(count: int) -> None:
    if not 1 <= count <= DAILY_CODE_LIMIT:
        raise ParameterError(
            f"--count {count:,}: a single request can create 1 to {DAILY_CODE_LIMIT:,} codes (the daily limit); "
            "nothing was sent"
        )


def create_codes(
    client: Any, ledger: KotisLedger, portal: str, count: int, *, apply: bool, despite_unknown: bool = False
) -> CodesResult:
    """Plan or (with `apply`) send one code request; refuses a count above 5,000 before sending."""
    check_count(count)
    head = f"{count:,} redemption codes for portal {portal!r} at {client.stores_base_url}"
    if not apply:
        return CodesResult(lines=[f"Plan: {head}. Nothing was sent; run again with --apply to create them."])
    with ledger.locked():
        _check_unknown(ledger, portal, despite_unknown)
        run_id = new_run_id()
        intent = {"portal": portal, "count": count, "sent_at": utc_now(), "answer": None}
        ledger.record_codes(run_id, SENDING, intent)
        try:
            body = client.create_redemption_codes(portal, count)
        except ApiError as exc:
            return _failed(ledger, run_id, exc)
        codes = codes_in(body)
        ledger.record_codes(run_id, CREATED, {"answer": body, "codes": len(codes)}, f"{len(codes)} codes")
    lines = [f"Created {len(codes):,} of {head} (run {run_id})"]
    if len(codes) != count:
        lines.append(f"warning: asked for {count:,}, the answer lists {len(codes):,} codes (kept raw in the store)")
    exit_code = ExitCode.OK if len(codes) == count else ExitCode.PARTIAL
    return CodesResult(codes, lines, exit_code, portal_codes(ledger, portal))


def portal_codes(ledger: KotisLedger, portal: str) -> list[CreatedCode]:
    """Every code the store's raw answers hold for `portal`, oldest request first."""
    created = [r for r in ledger.code_requests() if r.state == CREATED and r.data.get("portal") == portal]
    out = []
    for record in sorted(created, key=lambda r: str(r.data.get("sent_at"))):
        sent = datetime.fromisoformat(str(record.data["sent_at"])).astimezone(UTC).replace(tzinfo=None, microsecond=0)
        out += [CreatedCode(code, sent, record.key) for code in codes_in(record.data.get("answer"))]
    return out


def _failed(ledger: KotisLedger, run_id: str, exc: ApiError) -> CodesResult:
    """An answered refusal (the limit, no such portal, quota, key) created nothing; anything else may have."""
    if failure_state(exc) == UNKNOWN:
        ledger.record_codes(run_id, UNKNOWN, {}, exc.message)
        return CodesResult(
            lines=[
                f"Outcome unknown: {exc.message}. Codes may have been created: check the portal before "
                "asking again (the next request for this portal needs --despite-unknown)"
            ],
            exit_code=ExitCode.UNKNOWN_OUTCOME,
        )
    ledger.record_codes(run_id, REFUSED, {"answer": exc.api_message}, exc.message)
    allowed = getattr(exc, "allowed_number", None)
    still = f"; the API says {allowed:,} may be created now" if allowed is not None else ""
    return CodesResult(lines=[f"Refused: {exc.api_message or exc.message}{still}"], exit_code=ExitCode.API)


def _check_unknown(ledger: KotisLedger, portal: str, despite_unknown: bool) -> None:
    open_ = [r for r in ledger.code_requests() if r.state in BLOCKED and r.data.get("portal") == portal]
    if not open_:
        return
    if not despite_unknown:
        last = open_[-1].data
        raise PushError(
            f"a request for {last.get('count'):,} codes for portal {portal!r} at {str(last.get('sent_at'))[:19]}Z has "
            "an unknown outcome; check the portal, then run again with --despite-unknown (nothing was sent)"
        )
    for record in open_:
        ledger.record_codes(record.key, "settled", {}, "settled by --despite-unknown")


def codes_in(body: Any) -> list[str]:
    """The codes of an answer: `codes` or `data` as strings, or dicts with `code` (also under `attributes`)."""
    if not isinstance(body, dict):
        return []
    items = body.get("codes") or body.get("data") or body.get("redemption_codes") or []
    codes = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            item = item.get("code") or (item.get("attributes") or {}).get("code")
        if item not in (None, ""):
            codes.append(str(item))
    return codes


def codes_workbook(portal: str, codes: list[CreatedCode]) -> Workbook:
    """A tab of every code created for `portal` (one tab per portal, so a later request or another
    portal written to the same sheet adds to it instead of replacing codes already handed out)."""
    tab = Tab(
        name=f"Codes {portal}"[:31],
        key=f"codes/{portal}",
        title=f"Redemption codes, portal {portal}",
        columns=[
            Column("Code", Format.TEXT, 24),
            Column("Created (UTC)", Format.DATETIME, 18),
            Column("Run", Format.TEXT, 24),
        ],
        rows=[[c.code, c.created, c.run_id] for c in codes],
    )
    return Workbook(f"kotis-codes-{portal}", [tab])
