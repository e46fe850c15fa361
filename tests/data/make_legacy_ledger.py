"""Build tests/data/legacy_ledger.sqlite3 with the ledger code of main at 86702ca (before the state store).

Kept for the record: the file was written by `sheetsync.push.ledger.Ledger` as it was then, so the
migration test reads a ledger exactly as today's users have one. Running this against later code does
not reproduce it (the Ledger then writes the state store).
"""

from decimal import Decimal
from pathlib import Path

from sheetsync.push.ledger import NOT_SENT, POSTED, REFUSED, UNKNOWN, Ledger

path = Path(__file__).with_name("legacy_ledger.sqlite3")
ledger = Ledger.open(path)
ledger.record_run("20261101090000-aaaaaa", "/home/ana/alloc.xlsx")
ledger.record_run("20261102090000-bbbbbb", "/home/ana/alloc.xlsx")
rows = [
    ("id:A-1", 1001, "PAY-1", "INV-1", "10.10", POSTED, 501, "", 1),
    ("id:A-2", 1001, "PAY-1", "INV-2", "0.01", POSTED, 502, "", 2),
    ("fp:1001|PAY-1|INV-3|5.00|1", 1001, "PAY-1", "INV-3", "5.00", UNKNOWN, None, "timed out", 3),
    ("id:A-4", 1001, "PAY-1", "INV-4", "7.00", REFUSED, None, "Amount exceeds the open balance", 4),
    ("id:A-5", 1002, "PAY-9", "INV-9", "123456789.99", NOT_SENT, None, "quota", 5),
    ("id:A-6", 1002, "PAY-9", "INV-8", "3.50", "sending", None, "", 6),
]
for key, ar, pay, inv, amount, state, rid, message, n in rows:
    run = "20261101090000-aaaaaa" if n < 4 else "20261102090000-bbbbbb"
    ledger.record_intent(
        key,
        ar_account=ar,
        payment=pay,
        target=inv,
        amount=Decimal(amount),
        run_id=run,
        source="/home/ana/alloc.xlsx",
        row_number=n + 2,
        watermark=500,
    )
    if state != "sending":
        ledger.record_result(key, state, request_id=rid, message=message)
ledger.mark_written(["id:A-1", "id:A-2"], "/home/ana/alloc.xlsx")
ledger.close()
