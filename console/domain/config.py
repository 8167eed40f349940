"""Settings: one pydantic model, read from TOML in the platform config directory.

Order of precedence (later wins): defaults, the TOML file, environment variables
(``INCIDENTS_DB``, ``INCIDENTS_BACKEND``, ``INCIDENTS_TOKEN``, ``INCIDENTS_CONFIG`` names
another file), then command-line flags (applied by the CLI). Unknown keys are refused with
the key named, so a typo never silently does nothing.
"""

from __future__ import annotations

import getpass
import os
import tomllib
import typing
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from console.domain.keys import BY_ID
from console.domain.models import Duration
from console.domain.sla import SlaPolicy

APP_NAME = "incident-console"


class ConfigError(Exception):
    """The configuration file or environment is invalid; the message says where and why."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class ServerSettings(Section):
    host: str = "127.0.0.1"
    """Address ``incidents serve`` listens on."""
    port: int = Field(default=8080, ge=0, le=65535)
    """Port ``incidents serve`` listens on (0 picks a free one)."""
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    """Request bodies larger than this are refused with 413."""
    escalator_interval: float = Field(default=5.0, gt=0)
    """Seconds between the escalator's passes over the open incidents (on the leader)."""
    header_timeout: float = Field(default=5.0, gt=0)
    """Seconds a connection has to send a request's headers in full, counted from when it
    opens (or, on a kept-alive connection, from the first byte of its next request); one
    that sends nothing or half a request is closed then."""
    keep_alive_timeout: int = Field(default=10, ge=1)
    """Seconds an idle kept-alive connection stays open between two requests (longer than
    the remote client's own 5 s, so the server never closes one the client is reusing)."""
    max_connections: int = Field(default=1000, ge=1)
    """Open connections (server-sent event streams included) and requests in progress at
    most; a request past it is answered 503. Connections waiting for a request are closed,
    oldest first, to make room for a new one before anything is refused. Never more than
    the open-file limit allows, less a reserve of 256 (a quarter below 1,024) for the
    database and outgoing webhooks."""
    backlog: int = Field(default=128, ge=1)
    """Connections the kernel queues before the server accepts them (and how many it accepts
    at once)."""
    raise_fd_limit: bool = True
    """Raise the open-file soft limit to the hard limit at start (the common soft limit of
    1,024 is far below what the kernel allows)."""
    log_repeats: int = Field(default=5, ge=1)
    """One message (same logger and text) is logged at most this many times per
    ``log_window``; the next one after the window says how many were left out."""
    log_window: float = Field(default=60.0, gt=0)
    """Seconds of ``log_repeats``."""
    metrics_refresh: float = Field(default=5.0, gt=0)
    """``/metrics`` counts open incidents from a snapshot at most this many seconds old
    (one aggregate query per period however often it is scraped)."""
    leader_lease: float = Field(default=10.0, ge=1)
    """Seconds a server's lead (it runs the escalator and the notifier) lasts without being
    renewed, on a SQLite file several servers share: a leader that dies is replaced within
    this plus a third of it. (PostgreSQL's lock goes with its holder's connection.)"""
    metrics_token: bool = False
    """Require a bearer token (any role: a viewer token for Prometheus's ``authorization``
    setting) on ``/metrics``; off by default, as Prometheus expects."""


class DemoSettings(Section):
    rate: float = Field(default=6.0, ge=0)
    """Simulator events (create / acknowledge / resolve) per minute in ``--demo``."""
    seed: int | None = None
    """Seed for the demo data and simulator; ``None`` picks a new one each run."""


class SeverityRule(Section):
    impact: int = Field(ge=1, le=3)
    """Impact (1 high .. 3 low) an alert of this severity gives its incident."""
    urgency: int = Field(ge=1, le=3)
    """Urgency (1 high .. 3 low); impact x urgency gives the priority (ITIL matrix)."""


def _default_severities() -> dict[str, SeverityRule]:
    return {
        "critical": SeverityRule(impact=1, urgency=1),
        "error": SeverityRule(impact=2, urgency=1),
        "warning": SeverityRule(impact=2, urgency=2),
        "info": SeverityRule(impact=3, urgency=3),
    }


class IntakeSettings(Section):
    severities: dict[str, SeverityRule] = Field(default_factory=_default_severities)
    """Severity name (lower case) -> impact and urgency; defaults: critical P1, error P2,
    warning P3, info P5."""
    default_severity: str = "warning"
    """Severity used when an alert has none, or one that ``severities`` does not name."""
    severity_label: str = "severity"
    """The Alertmanager label that holds an alert's severity."""
    alertmanager_group_by: Literal["group_key", "fingerprint"] = "group_key"
    """Alertmanager alerts share an incident per ``groupKey``, or get one each."""
    events_group_by: Literal["dedup_key", "group", "source", "component", "class"] = "dedup_key"
    """Events v2 events share an incident per ``dedup_key``, or per payload field."""
    max_alerts: int = Field(default=10_000, ge=1)
    """A webhook with more alerts than this is refused with 413."""


NotifyEvent = Literal[
    "incident.created", "incident.escalated", "incident.breached", "incident.resolved"
]
_ALL_EVENTS: tuple[NotifyEvent, ...] = typing.get_args(NotifyEvent)


class WebhookTarget(Section):
    url: str = Field(pattern=r"^https?://")
    """Where to POST (an http or https URL, e.g. a Slack incoming webhook)."""
    format: Literal["slack", "json"] = "json"
    """``slack``: an incoming-webhook body (text + blocks); ``json``: a generic JSON body."""
    events: list[NotifyEvent] = Field(default_factory=lambda: list(_ALL_EVENTS))
    """Which events this receiver gets."""
    min_priority: Literal["P1", "P2", "P3", "P4", "P5"] = "P2"
    """Only incidents of this priority or more urgent (P2 sends P1 and P2)."""
    name: str = ""
    """A label for the delivery log (defaults to the URL's host)."""


class NotifySettings(Section):
    webhooks: list[WebhookTarget] = Field(default_factory=list)
    """Outgoing ChatOps webhooks (``[[notify.webhooks]]`` tables)."""
    timeout: float = Field(default=5.0, gt=0)
    """Seconds one delivery attempt may take before it counts as failed."""
    attempts: int = Field(default=6, ge=1, le=20)
    """Delivery attempts per message before it is given up (logged as failed)."""
    backoff: float = Field(default=1.0, gt=0)
    """First retry delay in seconds; each further retry waits twice as long (max 5 min)."""
    queue_size: int = Field(default=1000, ge=1)
    """Messages waiting for delivery at most; beyond it new ones are logged as dropped."""


class ChangeSettings(Section):
    window: Duration = timedelta(hours=2)
    """How far before an incident's start the incident screen and the review draft look for
    changes on its service and the services it depends on."""
    recent: Duration = timedelta(minutes=30)
    """The queue marks an incident whose service (or a dependency) changed this recently
    before it started."""


class Settings(Section):
    db: Path | None = None
    """SQLite database file (``~`` is expanded); defaults to ``incidents.db`` in the platform
    data directory."""
    database_url: str | None = None
    """A ``postgresql://user@host/db`` team store: when set, the console, ``serve`` and every
    command use it instead of ``db``. ``db`` / ``--db`` / ``INCIDENTS_DB`` given such a URL
    set this instead."""
    backend: str | None = None
    """URL of an ``incidents serve`` server (``http://`` or ``https://``); when set, the
    console uses it instead of ``db``."""
    token: str | None = None
    """Bearer token for the remote backend."""
    user: str | None = None
    """Who you are (the actor of your actions); defaults to the login name."""
    theme: Literal["default", "high-contrast"] = "default"
    """Colour theme of the console."""
    timezone: str | None = None
    """Your time zone (an IANA name such as ``"Europe/Berlin"``) for on-call hand-off times
    on the schedules screen; defaults to this machine's."""
    bell: bool = False
    """Ring the terminal bell on new P1/P2 incidents and new breaches."""
    reviews_dir: Path | None = None
    """Folder where the incident screen's ``P`` writes post-incident review drafts
    (``INC-1042-review.md``; ``~`` is expanded). Defaults to ``reviews`` in the platform data
    directory, not wherever the console happened to start. An existing draft (perhaps
    edited) is only replaced after a confirmation."""
    escalator: bool = True
    """Run the automatic escalator inside the local (SQLite) console."""
    sla: SlaPolicy = Field(default_factory=SlaPolicy)
    """SLA targets per priority, warning threshold and business-hours calendar."""
    keymap: dict[str, str] = Field(default_factory=dict)
    """Binding id -> keys, e.g. ``acknowledge = "A"`` or ``"quit" = "q,ctrl+q"``; the ids are
    those of ``console.domain.keys.KEYS`` (listed in the ``?`` help screen)."""
    server: ServerSettings = Field(default_factory=ServerSettings)
    """Settings of ``incidents serve``."""
    demo: DemoSettings = Field(default_factory=DemoSettings)
    """Settings of ``--demo``."""
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    """Alert intake: severity -> impact/urgency rules and how alerts group into incidents."""
    notify: NotifySettings = Field(default_factory=NotifySettings)
    """Outgoing ChatOps webhooks (Slack-compatible or generic JSON)."""
    changes: ChangeSettings = Field(default_factory=ChangeSettings)
    """Change correlation: the window before an incident, the queue's recent-change marker."""

    @model_validator(mode="before")
    @classmethod
    def _database_url_in_db(cls, data: Any) -> Any:
        if isinstance(data, dict) and is_database_url(data.get("db")):
            data = {**data, "database_url": data["db"], "db": None}
        return data

    def reviews_path(self) -> Path:
        """The folder for review drafts (``reviews_dir``, else the data directory's)."""
        return self.reviews_dir if self.reviews_dir is not None else data_dir() / "reviews"

    @field_validator("reviews_dir")
    @classmethod
    def _expand_reviews(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser()

    @field_validator("db")
    @classmethod
    def _expand_home(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f'unknown time zone {value!r} (use an IANA name such as "Europe/Berlin")'
                ) from None
        return value

    @field_validator("keymap")
    @classmethod
    def _known_bindings(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(BY_ID))
        if unknown:
            raise ValueError(
                f"unknown binding id {', '.join(repr(u) for u in unknown)}; "
                f"known ids: {', '.join(sorted(BY_ID))}"
            )
        empty = sorted(key for key, keys in value.items() if not keys.strip())
        if empty:
            raise ValueError(f"binding {', '.join(empty)} has no keys")
        return value

    def database_path(self) -> Path:
        return self.db if self.db is not None else default_db_path()


def is_database_url(value: object) -> bool:
    """Does ``value`` name a PostgreSQL database (``postgresql://`` or ``postgres://``)?"""
    return isinstance(value, str) and value.startswith(("postgresql://", "postgres://"))


def db_argument(value: str) -> Path | str:
    """``--db``: a PostgreSQL URL stays a string, anything else is a file path."""
    return value if is_database_url(value) else Path(value)


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_config_path() -> Path:
    return config_dir() / "config.toml"


def default_db_path() -> Path:
    return data_dir() / "incidents.db"


_ENV = {"INCIDENTS_DB": "db", "INCIDENTS_BACKEND": "backend", "INCIDENTS_TOKEN": "token"}


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"unknown key {where!r}")
        else:
            lines.append(f"{where}: {item['msg']}")
    return f"invalid configuration in {source}: " + "; ".join(lines)


def settings_from(data: Mapping[str, Any], source: str = "settings") -> Settings:
    try:
        return Settings.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML config (if it exists) and apply environment overrides."""
    env = os.environ if env is None else env
    if path is None:
        path = Path(env["INCIDENTS_CONFIG"]) if env.get("INCIDENTS_CONFIG") else None
    explicit = path is not None
    path = path or default_config_path()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{path} is not valid TOML: {exc}; fix the file or move it away"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
    elif explicit:
        raise ConfigError(
            f"config file {path} does not exist; create it or unset INCIDENTS_CONFIG / --config"
        )
    for var, key in _ENV.items():
        if env.get(var):
            data[key] = env[var]
    return settings_from(data, str(path))


def login_name() -> str:
    """Who runs this process: the default user of the console and the CLI."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "responder")
