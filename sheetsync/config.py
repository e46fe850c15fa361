"""Settings from command-line flags, the environment and an optional ./sheetsync.toml.

Precedence: a flag, then an environment variable, then sheetsync.toml, then the default. Each value
remembers where it came from so `sheetsync config show` can say so. Secrets are redacted whenever a
setting is displayed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

from sheetsync.errors import ConfigError
from sheetsync.model import Company, Negatives

KSS_HOSTS = {
    "production": "https://api.kssdata.com/api/v1",
    "test": "https://api.test.kssdata.com/api/v1",
}
KSS_ENVIRONMENTS = ("production", "test", "sandbox")
KEY_TYPES = ("employee", "customer", "supplier")
KOTIS_BASE_URL = "https://kwf.kotisdesign.com/api/v1"
KOTIS_STORES_BASE_URL = "https://stores.kotisdesign.com/api/v1"
CONFIG_FILE = "sheetsync.toml"
PROFILES = "profiles"  # [profiles.NAME.SECTION] tables: one named set of keys and environment


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name, environment variable and place in sheetsync.toml."""

    name: str
    env: str
    toml: tuple[str, str]
    default: str | None = None
    secret: bool = False
    help: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting("kss_api_key", "KSS_API_KEY", ("kss", "api_key"), secret=True, help="KSS x-api-key"),
    Setting(
        "kss_key_type",
        "KSS_KEY_TYPE",
        ("kss", "key_type"),
        "employee",
        help="employee | customer | supplier: the scope of the KSS key",
    ),
    Setting("kss_env", "KSS_ENV", ("kss", "env"), "production", help="production | test | sandbox"),
    Setting("kss_base_url", "KSS_BASE_URL", ("kss", "base_url"), help="overrides the KSS host entirely"),
    Setting(
        "requests_per_hour",
        "SHEETSYNC_REQUESTS_PER_HOUR",
        ("kss", "requests_per_hour"),
        help="client-side budget of KSS requests per hour",
    ),
    Setting("kotis_api_key", "KOTIS_API_KEY", ("kotis", "api_key"), secret=True, help="Kotis Authorization key"),
    Setting("kotis_base_url", "KOTIS_BASE_URL", ("kotis", "base_url"), KOTIS_BASE_URL),
    Setting("kotis_stores_base_url", "KOTIS_STORES_BASE_URL", ("kotis", "stores_base_url"), KOTIS_STORES_BASE_URL),
    Setting(
        "google_credentials",
        "SHEETSYNC_GOOGLE_CREDENTIALS",
        ("google", "credentials"),
        help="service-account JSON file for Google Sheets",
    ),
    Setting(
        "ledger_path",
        "SHEETSYNC_LEDGER",
        ("paths", "ledger"),
        str(Path(user_data_dir("sheetsync")) / "ledger.sqlite3"),
        help="payments ledger (SQLite); the state store when db is not set",
    ),
    Setting(
        "db",
        "SHEETSYNC_DB",
        ("paths", "db"),
        help="state store: a SQLite file path or a postgresql:// URL (default: ledger_path)",
    ),
    Setting(
        "require_approval",
        "SHEETSYNC_REQUIRE_APPROVAL",
        ("payments", "require_approval"),
        "false",
        help="true: `payments push --apply` needs a plan approved with `payments approve`",
    ),
    Setting(
        "cache_dir",
        "SHEETSYNC_CACHE_DIR",
        ("paths", "cache_dir"),
        user_cache_dir("sheetsync"),
        help="ETag cache, one folder per API key hash",
    ),
    Setting("smtp_host", "SHEETSYNC_SMTP_HOST", ("smtp", "host"), help="mail server for alerts and statements"),
    Setting("smtp_port", "SHEETSYNC_SMTP_PORT", ("smtp", "port"), help="default 587 (starttls), 465 (ssl), 25 (none)"),
    Setting("smtp_security", "SHEETSYNC_SMTP_SECURITY", ("smtp", "security"), "starttls", help="starttls | ssl | none"),
    Setting("smtp_username", "SHEETSYNC_SMTP_USERNAME", ("smtp", "username"), help="SMTP login (optional)"),
    Setting("smtp_password", "SHEETSYNC_SMTP_PASSWORD", ("smtp", "password"), secret=True, help="SMTP password"),
    Setting("smtp_sender", "SHEETSYNC_SMTP_FROM", ("smtp", "from"), help="From: address of the mail sheetsync sends"),
    Setting("smtp_ca_file", "SHEETSYNC_SMTP_CA_FILE", ("smtp", "ca_file"), help="extra CA bundle to trust (PEM)"),
    Setting("statements_paper", "SHEETSYNC_STATEMENTS_PAPER", ("statements", "paper"), "letter", help="a4 | letter"),
    Setting(
        "statements_subject",
        "SHEETSYNC_STATEMENTS_SUBJECT",
        ("statements", "subject"),
        help="subject of statement e-mails: {customer} {customer_id} {amount_due} {statement_date} {company}",
    ),
    Setting(
        "statements_body",
        "SHEETSYNC_STATEMENTS_BODY",
        ("statements", "body"),
        help="body of statement e-mails, with the subject's placeholders",
    ),
)
COMPANY_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "the company name at the top of customer statements"),
    ("address", "its address (a list of lines, or one string with newlines)"),
    ("remit_to", "where customers send payments (lines, the payee first); the name and address when unset"),
    ("phone", "phone number on statements"),
    ("email", "e-mail address on statements"),
    ("logo", "a PNG or JPEG logo file for statements (default: the template's)"),
    ("terms", "payment terms shown on statements, e.g. Net 30"),
    ("payment_instructions", "lines printed under a statement's total (bank, reference ...)"),
)
SETTINGS += tuple(
    Setting(f"company_{key}", f"SHEETSYNC_COMPANY_{key.upper()}", ("company", key), help=text)
    for key, text in COMPANY_FIELDS
)
SETTINGS += (
    Setting(
        "negatives",
        "SHEETSYNC_NEGATIVES",
        ("presentation", "negatives"),
        help="negative money: parentheses (default), red, minus or red-minus; a report's `negatives:` wins",
    ),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Value:
    value: str | None
    source: str  # "flag", "env KSS_API_KEY", "sheetsync.toml [kss] api_key", "default", "unset"


class Settings:
    """The effective configuration. Attribute access gives the value: `settings.kss_api_key`."""

    def __init__(self, values: Mapping[str, Value]) -> None:
        self._values = dict(values)

    def __getattr__(self, name: str) -> str | None:
        try:
            return self._values[name].value
        except KeyError:
            raise AttributeError(name) from None

    def source(self, name: str) -> str:
        return self._values[name].source

    def with_overrides(self, **overrides: str | None) -> Settings:
        values = dict(self._values)
        for name, value in overrides.items():
            if value is not None:
                values[name] = Value(value, "flag")
        return Settings(values)

    @property
    def kss_base(self) -> str:
        """The KSS base URL for the configured environment (sandbox URLs are set by the caller)."""
        if self.kss_base_url:
            return self.kss_base_url.rstrip("/")
        env = self.kss_env or "production"
        if env not in KSS_HOSTS:
            raise ConfigError(f"KSS_ENV is {env!r}; use --sandbox for the sandbox, or one of production, test")
        return KSS_HOSTS[env]

    @property
    def requests_per_hour_int(self) -> int | None:
        raw = self.requests_per_hour
        if raw in (None, ""):
            return None
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"requests_per_hour must be a whole number, got {raw!r}") from None
        if value <= 0:
            raise ConfigError(f"requests_per_hour must be positive, got {value}")
        return value

    def company(self) -> Company | None:
        """The `[company]` profile of customer documents; None when no company name is set."""
        if not self.company_name:
            return None
        return Company(
            name=self.company_name,
            address=_lines(self.company_address),
            remit_to=_lines(self.company_remit_to) or (self.company_name, *_lines(self.company_address)),
            phone=self.company_phone or "",
            email=self.company_email or "",
            logo=_checked_logo(self.company_logo, self.source("company_logo")),
            terms=self.company_terms or "",
            payment_instructions=_lines(self.company_payment_instructions),
        )

    @property
    def store_location(self) -> str:
        """Where the state store lives: SHEETSYNC_DB / [paths] db, else the ledger path (SHEETSYNC_LEDGER)."""
        return self.db or self.ledger_path or str(Path(user_data_dir("sheetsync")) / "ledger.sqlite3")

    @property
    def approval_required(self) -> bool:
        raw = (self.require_approval or "false").strip().lower()
        if raw not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"require_approval must be true or false, got {self.require_approval!r}")
        return raw in ("true", "1", "yes")

    def display_rows(self) -> list[tuple[str, str, str]]:
        """(name, shown value, source) for every setting, secrets redacted."""
        return [(s.name, _shown(s, self._values[s.name].value), self._values[s.name].source) for s in SETTINGS]


def redact(secret: str | None) -> str:
    """Show that a secret is set without showing it: the last 2 characters at most."""
    if not secret:
        return "(not set)"
    tail = secret[-2:] if len(secret) >= 12 else ""
    return f"****{tail} ({len(secret)} chars)"


def redact_url(text: str) -> str:
    """`text` with the password of any URL in it (user part or query string) replaced by ***."""
    # up to the last @: a password may hold an unescaped @ or / (hiding too much is the safe mistake);
    # or, when it holds a space, up to the next @ on the line
    shown = re.sub(r"(://[^/:@\s]*:)(?:\S*|[^\n@/]*)@", r"\1***@", text)
    return re.sub(r"(?i)((?:password|sslpassword)=)[^&\s]*", r"\1***", shown)


def _shown(setting: Setting, value: str | None) -> str:
    if setting.secret:
        return redact(value)
    return " | ".join(_lines(redact_url(value))) if value is not None else "(not set)"


PLACEHOLDER_COMPANY = Company(
    name="Example Distribution Co.",
    address=("100 Example Way", "Oakland, CA 94607"),
    remit_to=("Example Distribution Co. - Receivables", "PO Box 1000", "Oakland, CA 94604"),
    phone="(555) 010-0100",
    email="ar@example.com",
    terms="Net 30",
    payment_instructions=(
        "Pay by ACH to Example Bank, routing 000000000, account 0000000000,",
        "or mail a check to the remit-to address. Please quote your account number.",
    ),
)
"""What the sandbox and the demo put on statements when no `[company]` is configured."""

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


def _beside_file(value: Value, folder: Path) -> Value:
    """A relative path from sheetsync.toml is relative to the file's folder."""
    if value.value and value.source.startswith(CONFIG_FILE) and not Path(value.value).is_absolute():
        return Value(str(folder / value.value), value.source)
    return value


def _checked_logo(path: str | None, source: str) -> str | None:
    """The logo file, refused unless it is a readable PNG or JPEG."""
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise ConfigError(f"company logo {path} (from {source}): {exc.strerror or exc}") from None
    if not head.startswith(_IMAGE_MAGIC):
        raise ConfigError(f"company logo {path} (from {source}): not a PNG or JPEG file")
    return path


def _lines(value: str | None) -> tuple[str, ...]:
    """A multi-line setting (newlines; a TOML list is joined with them) as its non-empty lines."""
    return tuple(line.strip() for line in (value or "").splitlines() if line.strip())


def load_settings(
    environ: Mapping[str, str] | None = None, cwd: Path | None = None, *, profile: str | None = None
) -> Settings:
    """Read the environment and ./sheetsync.toml into Settings and validate the enumerations.

    With `profile`, the `[profiles.NAME.SECTION]` tables of sheetsync.toml override everything else
    (a scheduled job names its profile: which keys and which environment); a profile value
    `"env:VAR"` is read from the environment variable VAR, so keys need not sit in the file."""
    environ = os.environ if environ is None else environ
    file_values = _read_toml((cwd or Path.cwd()) / CONFIG_FILE)
    values = {s.name: _resolve(s, environ, file_values) for s in SETTINGS}
    if profile is not None:
        values.update(_profile_values(profile, file_values, environ))
    values["company_logo"] = _beside_file(values["company_logo"], cwd or Path.cwd())
    settings = Settings(values)
    _check_choice(settings, "kss_env", KSS_ENVIRONMENTS)
    _check_choice(settings, "kss_key_type", KEY_TYPES)
    _check_choice(settings, "negatives", tuple(Negatives))
    return settings


def _resolve(setting: Setting, environ: Mapping[str, str], file_values: dict[str, dict[str, object]]) -> Value:
    if environ.get(setting.env):
        return Value(_trimmed(setting, environ[setting.env], f"env {setting.env}"), f"env {setting.env}")
    section, key = setting.toml
    if key in file_values.get(section, {}):
        raw = file_values[section][key]
        text = "\n".join(map(str, raw)) if isinstance(raw, list) else str(raw)
        where = f"{CONFIG_FILE} [{section}] {key}"
        return Value(_trimmed(setting, text, where) if setting.secret else text, where)
    if setting.default is not None:
        return Value(setting.default, "default")
    return Value(None, "unset")


def _trimmed(setting: Setting, text: str, where: str) -> str:
    """A secret without the newline or spaces a shell or an editor leaves around it (`$(cat key.txt)`);
    ConfigError, naming where it came from and never the value, when whitespace is inside it."""
    if not setting.secret:
        return text
    trimmed = text.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in trimmed):
        raise ConfigError(f"{setting.name} from {where} has a space or line break inside it; check the key")
    return trimmed


def _read_toml(path: Path) -> dict[str, dict[str, object]]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    for section, table in data.items():
        if section == PROFILES:
            _check_profiles(path, table)
        else:
            _check_section(path, section, table)
    return data


def _check_section(path: Path, section: str, table: object, prefix: str = "") -> None:
    known = {s.toml for s in SETTINGS}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{prefix}{section}] must be a table of settings")
    for key in table:
        if (section, key) not in known:
            allowed = ", ".join(f"[{s}] {k}" for s, k in sorted(known))
            raise ConfigError(f"{path}: unknown setting [{prefix}{section}] {key}; known: {allowed}")


def _check_profiles(path: Path, profiles: object) -> None:
    if not isinstance(profiles, dict):
        raise ConfigError(f"{path}: [{PROFILES}] must hold tables such as [{PROFILES}.staging.kss]")
    for name, sections in profiles.items():
        if not isinstance(sections, dict):
            raise ConfigError(f"{path}: [{PROFILES}.{name}] must hold tables such as [{PROFILES}.{name}.kss]")
        for section, table in sections.items():
            _check_section(path, section, table, prefix=f"{PROFILES}.{name}.")


def profile_names(cwd: Path | None = None) -> list[str]:
    """The profiles defined in ./sheetsync.toml."""
    return sorted(_read_toml((cwd or Path.cwd()) / CONFIG_FILE).get(PROFILES, {}))


def _profile_values(
    profile: str, file_values: dict[str, dict[str, object]], environ: Mapping[str, str]
) -> dict[str, Value]:
    profiles: dict[str, dict[str, dict[str, object]]] = file_values.get(PROFILES, {})  # type: ignore[assignment]
    if profile not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(
            f"no profile '{profile}' in {CONFIG_FILE} (profiles: {known}); add a [{PROFILES}.{profile}.kss] table"
        )
    values = {}
    for setting in SETTINGS:
        section, key = setting.toml
        raw = profiles[profile].get(section, {}).get(key)
        if raw is None:
            continue
        where = f"{CONFIG_FILE} [{PROFILES}.{profile}.{section}] {key}"
        text = str(raw)
        if text.startswith("env:"):
            variable = text.removeprefix("env:")
            if not environ.get(variable):
                raise ConfigError(f"{where} reads the environment variable {variable}, which is not set")
            text, where = environ[variable], f"{where} (env {variable})"
        values[setting.name] = Value(text, where)
    return values


def _check_choice(settings: Settings, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(settings, name)
    if value is not None and value not in choices:
        setting = SETTINGS_BY_NAME[name]
        raise ConfigError(
            f"{setting.env} / {name} is {value!r} (from {settings.source(name)}); use one of {', '.join(choices)}"
        )
