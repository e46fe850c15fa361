"""The quota the HTTP layer remembers from RateLimit headers, as the scheduler reads it (quota())."""

from __future__ import annotations

from sheetsync.apis.http import HttpClient


def test_out_of_order_responses_keep_the_lowest_remaining_of_a_window() -> None:
    now = [1_000.0]
    http = HttpClient(clock=lambda: now[0], sleep=lambda s: None)
    http.pacer.observe({"RateLimit-Remaining": "5", "RateLimit-Reset": "600"})
    http.pacer.observe({"RateLimit-Remaining": "6", "RateLimit-Reset": "600"})  # sent earlier, answered later
    assert http.quota() == (5, 1_600.0)
    now[0] += 700  # a new window: its count replaces the old one
    http.pacer.observe({"RateLimit-Remaining": "99", "RateLimit-Reset": "3600"})
    assert http.quota() == (99, 5_300.0)
