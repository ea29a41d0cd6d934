"""One settings object for the whole service, read from the environment (pydantic-settings).

When `DATABASE_URL` and `TEMPORAL_ADDRESS` are unset, `subsidy up` starts embedded PostgreSQL and the
Temporal dev server under `SUBSIDY_HOME` (default `./var`) and fills them in itself.
"""

from __future__ import annotations

import os
import secrets
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from subsidy.policy.workdays import china_today
from subsidy.temporal_client.encryption import Keyring, KeyringError

TASK_QUEUE = "subsidy"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    temporal_address: str | None = Field(default=None, alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="default", alias="TEMPORAL_NAMESPACE")
    task_queue: str = Field(default=TASK_QUEUE, alias="SUBSIDY_TASK_QUEUE")
    home: Path = Field(default=Path("var"), alias="SUBSIDY_HOME")
    # Signing key of the bearer tokens. Embedded mode makes one and keeps it in the home folder;
    # production must set it, and a known-weak value is refused.
    jwt_secret: SecretStr | None = Field(default=None, alias="SUBSIDY_JWT_SECRET")
    # Lifetime of a bearer token (its server-side session ends then too, or earlier by sign-out or disabling).
    jwt_minutes: int = Field(default=30, ge=1, le=24 * 60, alias="SUBSIDY_JWT_MINUTES")
    embedded: bool = Field(default=False, alias="SUBSIDY_EMBEDDED")
    temporal_port: int = Field(default=7233, alias="SUBSIDY_TEMPORAL_PORT")
    temporal_ui_port: int = Field(default=8233, alias="SUBSIDY_TEMPORAL_UI_PORT")
    # Keys that seal Temporal payloads (`id:base64,id:base64`; the first seals). Embedded mode keeps its own.
    payload_keys: SecretStr | None = Field(default=None, alias="SUBSIDY_PAYLOAD_KEYS")
    # Session and CSRF cookies are Secure by default; browsers accept Secure cookies from http://localhost.
    cookie_secure: bool = Field(default=True, alias="SUBSIDY_COOKIE_SECURE")
    # Page sessions end after this much inactivity, or this long after sign-in; a warning comes first.
    session_idle_seconds: int = Field(default=30 * 60, ge=1, alias="SUBSIDY_SESSION_IDLE_SECONDS")
    session_absolute_seconds: int = Field(default=10 * 3600, ge=1, alias="SUBSIDY_SESSION_ABSOLUTE_SECONDS")
    session_warn_seconds: int = Field(default=3 * 60, ge=1, alias="SUBSIDY_SESSION_WARN_SECONDS")
    # How long Temporal keeps closed histories (the record-keeping period); PostgreSQL keeps its own copy anyway.
    record_retention_days: int = Field(default=3650, ge=1, alias="SUBSIDY_RECORD_RETENTION_DAYS")
    # How often the worker archives closed histories and starts saved submissions that have no workflow yet.
    sweep_seconds: float = Field(default=30, gt=0, le=3600, alias="SUBSIDY_SWEEP_SECONDS")
    # Connections each process keeps open to PostgreSQL (up to 20 more under load, opened and closed as needed).
    db_pool_size: int = Field(default=10, ge=1, le=200, alias="SUBSIDY_DB_POOL_SIZE")
    # `subsidy up` runs the API and the worker in processes of their own, this many of each (unset: by the cores,
    # see `processes()`); the archiver and the starter run once, in `subsidy up` itself.
    api_processes: int | None = Field(default=None, ge=1, le=64, alias="SUBSIDY_API_PROCESSES")
    worker_processes: int | None = Field(default=None, ge=1, le=64, alias="SUBSIDY_WORKER_PROCESSES")
    # The day (MM-DD, China time) each year on which the counties' annual report tasks open (a Temporal Schedule).
    annual_report_opens: str = Field(
        default="11-01", pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$", alias="SUBSIDY_ANNUAL_REPORT_OPENS"
    )
    # Whether a service started after this year's opening day opens this year's reports at once (off: only the
    # Schedule opens them; a harness whose data must start empty turns it off).
    annual_report_catch_up: bool = Field(default=True, alias="SUBSIDY_ANNUAL_REPORT_CATCH_UP")
    # The zone in which a subsidy month ends and a working day begins.
    timezone: str = Field(default="Asia/Shanghai", alias="SUBSIDY_TIMEZONE")
    # Browser origins (comma-separated, e.g. the Temporal UI's http://localhost:8233) that may call the auditors'
    # codec endpoint cross-origin, with the auditor's cookies. Only that endpoint, only these origins; none by
    # default. `subsidy up` adds its own Temporal UI.
    codec_cors_origins: str = Field(default="", alias="SUBSIDY_CODEC_CORS_ORIGINS")
    # `subsidy up` restarts an embedded part (PostgreSQL, Temporal) that dies, at most this often within 10 minutes;
    # one more death and it stops, exiting non-zero with the part's name.
    part_restarts: int = Field(default=5, ge=0, alias="SUBSIDY_PART_RESTARTS")
    # Seed the official calendar's years from the installed chinesecalendar package (0: the package looks empty,
    # as it will from January 2027 on; the tests run once that way so that none depends on the packaged years).
    calendar_packaged: bool = Field(default=True, alias="SUBSIDY_CALENDAR_PACKAGED")
    # For tests and demos only: the day the API and pages take as today in China (YYYY-MM-DD). Workflows keep
    # Temporal's clock.
    today_override: date | None = Field(default=None, alias="SUBSIDY_TODAY")

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> Settings:
        if self.jwt_secret is not None and len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("SUBSIDY_JWT_SECRET must be at least 32 characters")
        return self

    @model_validator(mode="after")
    def _refuse_vague_codec_origins(self) -> Settings:
        for origin in self.codec_origins():
            scheme, _, rest = origin.partition("://")
            if scheme not in ("http", "https") or not rest or "/" in rest or "*" in origin:
                raise ValueError(
                    f"SUBSIDY_CODEC_CORS_ORIGINS: {origin!r} is not an origin such as http://localhost:8233 "
                    "(a wildcard would hand decrypted payloads to any site an auditor visits)"
                )
        return self

    def today(self) -> date:
        """Today in China for the API and pages: the machine's clock, unless `SUBSIDY_TODAY` sets it."""
        return self.today_override or china_today()

    def codec_origins(self) -> list[str]:
        return [origin.strip() for origin in self.codec_cors_origins.split(",") if origin.strip()]

    def processes(self, cores: int | None = None) -> tuple[int, int]:
        """How many API and worker processes `subsidy up` runs: as set, else by the cores (measured with
        `python -m bench` on 2 cores, README "Performance")."""
        cores = max(1, cores if cores is not None else (os.cpu_count() or 1))
        api = self.api_processes if self.api_processes is not None else default_api_processes(cores)
        worker = self.worker_processes if self.worker_processes is not None else default_worker_processes(cores)
        return api, worker

    def signing_key(self) -> str:
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if not self.embedded:
            raise RuntimeError("SUBSIDY_JWT_SECRET is not set: production refuses to invent a signing key")
        key_file = self.home / "jwt-secret"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()

    def payload_keyring(self) -> Keyring:
        if self.payload_keys is not None:
            return Keyring.parse(self.payload_keys.get_secret_value())
        if not self.embedded:
            raise KeyringError("SUBSIDY_PAYLOAD_KEYS is not set: production refuses to write unencrypted histories")
        key_file = self.home / "payload-keys"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(Keyring.new_entry("k1"))
            key_file.chmod(0o600)
        return Keyring.parse(key_file.read_text().strip())


def default_api_processes(cores: int) -> int:
    return max(1, min(cores, 8))


def default_worker_processes(cores: int) -> int:
    return max(1, min(cores // 2, 8))


@lru_cache
def get_settings() -> Settings:
    return Settings()
