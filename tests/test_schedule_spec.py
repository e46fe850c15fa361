"""schedule.yaml: validated strictly, every mistake one line naming file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheetsync.errors import DefinitionError
from sheetsync.schedule.spec import load_schedule, parse_schedule

GOOD = """\
timezone: America/New_York
alerts: {on: [failure, recovery], email: ops@example.com}
jobs:
  - name: prices
    report: price-list
    params: {customer_ids: [1, 2]}
    outputs: out/prices.xlsx
    cron: "0 6 * * 1-5"
  - name: aging
    report: ar-aging
    params: {burst: true}
    outputs: [aging/]
    cron: "15 7 * * *"
    timezone: Europe/London
    alerts: {on: [partial], webhook: https://hooks.example.com/services/T0/B0/secret}
"""


def test_a_good_schedule_applies_the_file_defaults(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    path = tmp_path / "schedule.yaml"
    path.write_text(GOOD)
    schedule = load_schedule(path)
    prices, aging = schedule.jobs
    assert prices.timezone == "America/New_York" and aging.timezone == "Europe/London"
    assert prices.alerts.events == {"failure", "recovery"} and prices.alerts.email == ["ops@example.com"]
    assert aging.alerts.events == {"failure", "partial"} and aging.alerts.email == []
    assert prices.resolve("out/prices.xlsx") == str(tmp_path / "out" / "prices.xlsx")
    assert prices.resolve("gsheet://1AbCdEfGhIjK") == "gsheet://1AbCdEfGhIjK"
    assert prices.spec.kind == "report"


def job(extra: str = "", **fields: str) -> str:
    values = {"name": "prices", "report": "price-list", "params": "{customer_ids: [1]}", "outputs": "prices.xlsx"}
    values.update({"cron": '"0 6 * * *"'}, **fields)
    body = "".join(f"    {k}: {v}\n" for k, v in values.items() if v != "-")
    return f"jobs:\n  - {body.lstrip()}{extra}"


CASES = [
    (job(crom='"0 6 * * *"'), r"schedule.yaml:7: jobs\[0\]: unknown key 'crom' \(did you mean 'cron'\?\)"),
    (job(cron='"0 25 * * *"'), r"schedule.yaml:6: jobs\[0\].cron: not a valid cron expression: '0 25 \* \* \*'"),
    (job(timezone="US/Nowhere"), r"schedule.yaml:7: jobs\[0\].timezone: unknown time zone 'US/Nowhere'"),
    (job(outputs="[]"), r"schedule.yaml:5: jobs\[0\].outputs: List should have at least 1 item"),
    (job(cron="-"), r"schedule.yaml:2: jobs\[0\]: missing key 'cron'"),
    (job(name='"Prices Daily"'), r"schedule.yaml:2: jobs\[0\].name: job name 'Prices Daily': use lower-case"),
    (job(report="-"), r"schedule.yaml:2: jobs\[0\]: a job runs exactly one of: report, statements \(found 0\)"),
    (job(report="price-lst"), r"schedule.yaml:3: job prices: unknown report 'price-lst' \(did you mean 'price-list'"),
    (job(params="{customer_idz: [1]}"), r"schedule.yaml:4: job prices: report price-list has no parameter"),
    (job(outputs="gsheet://x"), r"schedule.yaml:5: job prices: output 'gsheet://x': gsheet:// needs a spreadsheet ID"),
    (job(alerts="{on: [failur]}"), r"schedule.yaml:7: jobs\[0\].alerts.on\[0\]: Input should be 'failure'"),
    (job(alerts="{webhook: hooks.example.com}"), r"schedule.yaml:7: jobs\[0\].alerts.webhook: a webhook is an http"),
    (job(alerts="{email: [nobody]}"), r"schedule.yaml:7: jobs\[0\].alerts.email: 'nobody' is not an e-mail address"),
    (job(outputs="-"), r"schedule.yaml:2: jobs\[0\]: a report job needs outputs: \(files, folders or gsheet://"),
    (
        job(report="-", outputs="-", statements="{pdf: out}"),
        r"schedule.yaml:5: jobs\[0\].statements: a statements job that sends needs either recipients: FILE or recip",
    ),
    (
        job(report="-", statements="{pdf: out, send: false}"),
        r"schedule.yaml:2: jobs\[0\]: a statements job writes into statements: {pdf: FOLDER}; it takes no outputs",
    ),
    (
        job(report="-", outputs="-", statements="{pdf: out, recipients: a.csv, resend: [1]}"),
        r"schedule.yaml:5: jobs\[0\].statements: unknown key 'resend'",
    ),
    (job() + job().replace("jobs:\n", ""), r"schedule.yaml:1: jobs: two jobs are named 'prices'"),
    ("jobs: []\n", r"schedule.yaml:1: jobs: List should have at least 1 item"),
    ("jobs:\n  - name: a\n    name: b\n", r"schedule.yaml:3: duplicate key 'name'"),
    ("jobs: [\n", r"schedule.yaml:\d+: invalid YAML"),
    ("", r"schedule.yaml: the file is empty"),
]


@pytest.mark.parametrize(("text", "message"), CASES)
def test_bad_schedules_are_one_line_naming_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(DefinitionError, match=message) as info:
        parse_schedule(text, "schedule.yaml")
    assert "\n" not in str(info.value)


def test_an_unknown_profile_is_refused_with_the_known_ones(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sheetsync.toml").write_text('[profiles.staging.kss]\nenv = "test"\napi_key = "k"\n')
    with pytest.raises(DefinitionError, match=r"schedule.yaml:7: job prices: no profile 'stagin'.*profiles: staging"):
        parse_schedule(job(profile="stagin"), "schedule.yaml")
    parse_schedule(job(profile="staging"), "schedule.yaml")
