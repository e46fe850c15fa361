"""A scripted transport for requests: tests queue responses or exceptions and read what was sent.

adapter = FakeAdapter([(200, {"Data": []}), (429, {"Error": "slow"}, {"Retry-After": "2"})])
session = adapter.session()
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import requests
from requests.adapters import BaseAdapter


class FakeAdapter(BaseAdapter):
    """Answers requests from a script of (status, body, headers) tuples or exceptions, in order."""

    def __init__(self, script: Iterable[Any] = ()) -> None:
        super().__init__()
        self.script: list[Any] = list(script)
        self.sent: list[requests.PreparedRequest] = []

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount("http://", self)
        session.mount("https://", self)
        return session

    def add(self, *items: Any) -> None:
        self.script.extend(items)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        if not self.script:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        item = self.script.pop(0)
        if callable(item) and not isinstance(item, tuple):
            item = item(request)
        if isinstance(item, BaseException):
            raise item
        status, body, *rest = item
        headers = rest[0] if rest else {}
        response = requests.Response()
        response.status_code = status
        response.request = request
        response.url = request.url or ""
        response.headers.update(headers)
        if body is None:
            response._content = b""
        elif isinstance(body, bytes | str):
            response._content = body.encode() if isinstance(body, str) else body
        else:
            response._content = json.dumps(body).encode()
            response.headers.setdefault("Content-Type", "application/json")
        if "X-Request-Id" not in response.headers and request.headers.get("X-Request-Id"):
            response.headers["X-Request-Id"] = request.headers["X-Request-Id"]
        return response

    def close(self) -> None:
        pass
