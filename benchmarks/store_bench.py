"""The state store's cost per payments-ledger write, on SQLite and on a throwaway PostgreSQL cluster.

A push writes, per row, one intent (`put` + event) before the POST and one outcome (`update` + event)
after it; this times N of each, plus one `get_many` of N keys (what the plan reads) and one lock.
Run: python benchmarks/store_bench.py [N]   (needs initdb/pg_ctl for the PostgreSQL line)
"""

from __future__ import annotations

import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from pg_cluster import pg_bin, running_cluster

from sheetsync.push.ledger import POSTED, Ledger


def measure(location: str, rows: int) -> dict[str, float]:
    ledger = Ledger.open(location)
    keys = [f"id:B-{i}" for i in range(rows)]
    started = time.perf_counter()
    with ledger.locked():
        locked = time.perf_counter()
        for i, key in enumerate(keys):
            ledger.record_intent(
                key, ar_account=1, payment="P", target=f"I{i}", amount=Decimal("1.00"), run_id="r",
                source="b.xlsx", row_number=i + 2, watermark=0,
            )  # fmt: skip
            ledger.record_result(key, POSTED, request_id=i + 1)
        written = time.perf_counter()
    found = ledger.entries(keys)
    read = time.perf_counter()
    assert len(found) == rows
    ledger.close()
    return {
        "lock ms": (locked - started) * 1000,
        "intent+outcome ms/row": (written - locked) * 1000 / rows,
        f"get_many({rows}) ms": (read - written) * 1000,
    }


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    results = {"sqlite (WAL, synchronous=FULL)": measure(str(Path(tempfile.mkdtemp()) / "b.sqlite3"), rows)}
    if pg_bin() is not None:
        with running_cluster() as cluster:
            results["postgresql 15 (loopback, fsync off)"] = measure(cluster.new_database(), rows)
    names = list(next(iter(results.values())))
    print(f"{'backend':<38}" + "".join(f"{n:>24}" for n in names))
    for backend, figures in results.items():
        print(f"{backend:<38}" + "".join(f"{figures[n]:>24.2f}" for n in names))


if __name__ == "__main__":
    main()
