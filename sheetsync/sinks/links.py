"""The sinks' rule for links: a cell never links to a URL that carries a credential.

The KSS document shows invoice `PDFURL`s with `?APIKeyID=...`: such a link opens our API account to
whoever receives the sheet or a statement, so the cell keeps its text and drops the link. Stripping
the parameter instead would leave a link that does not work. A URL with a user name or password in
it (`https://user:pass@host/`) is refused the same way.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

# query parameter names that carry a credential, compared without case, "-" or "_"
_CREDENTIAL_NAMES = re.compile(
    r"^(x)?(api)?key(id)?$|token|secret|password|passwd|signature|^sig$|^auth|credential|session",
)


def is_credential_name(name: str) -> bool:
    """Whether a query parameter named `name` carries a credential (APIKeyID, api_key, token ...)."""
    return bool(_CREDENTIAL_NAMES.search(re.sub(r"[-_\s]", "", name.lower())))


def safe_link(url: str) -> str | None:
    """`url` when a cell may link to it; None when it names a credential (query, fragment or user info)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.username or parts.password:
        return None
    for component in (parts.query, parts.fragment):
        if any(is_credential_name(name) for name, _ in parse_qsl(component, keep_blank_values=True)):
            return None
    return url
