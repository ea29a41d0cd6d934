"""The FastAPI application: JSON API under /api/v1, pages at /, OpenAPI at /docs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from subsidy.api.deps import Resources
from subsidy.api.errors import install_error_handlers
from subsidy.api.limits import BodySizeLimit
from subsidy.api.pages import install_pages
from subsidy.api.routers import accounts as account_admin
from subsidy.api.routers import (
    applications,
    audit,
    calendar,
    documents,
    health,
    identity,
    ledger,
    payments,
    people,
    policies,
    public_welfare,
    registrations,
    reports,
    tasks,
)
from subsidy.db.session import create_engine, session_factory
from subsidy.programs.blind_massage_insurance_subsidy import api as blind_massage_api
from subsidy.programs.registry import PROGRAMS
from subsidy.settings import Settings, get_settings
from subsidy.temporal_client.client import connect

DESCRIPTION = """Subsidy workflow service for disability employment programs (包头市促进残疾人就业三年行动方案).
Sign in with `POST /api/v1/auth/token`; money is a string with two decimals; dates are `YYYY-MM-DD`."""


async def open_resources(settings: Settings) -> Resources:
    if not settings.database_url or not settings.temporal_address:
        raise RuntimeError("DATABASE_URL and TEMPORAL_ADDRESS must be set (or run `subsidy up`)")
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    temporal = await connect(settings.temporal_address, settings.temporal_namespace)
    return Resources(settings, engine, session_factory(engine), temporal, settings.signing_key())


def create_app(resources: Resources | None = None, *, cookie_secure: bool | None = None) -> FastAPI:
    """With `resources`, the caller owns them (`subsidy up`, tests); without, the app opens its own."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if resources is not None:
            app.state.resources = resources
            yield
            return
        opened = await open_resources(get_settings())
        app.state.resources = opened
        try:
            yield
        finally:
            await opened.engine.dispose()

    app = FastAPI(title="残疾人就业补贴服务 Subsidy service", version="1", description=DESCRIPTION, lifespan=lifespan)
    install_error_handlers(app, PROGRAMS)
    for module in (
        health,
        identity,
        registrations,
        applications,
        tasks,
        ledger,
        policies,
        public_welfare,
        audit,
        calendar,
        documents,
        reports,
        payments,
        people,
    ):
        app.include_router(module.router)
    app.include_router(account_admin.router)
    app.include_router(blind_massage_api.router)
    settings = resources.settings if resources is not None else get_settings()
    install_pages(
        app,
        resources.signing_key if resources is not None else settings.signing_key(),
        cookie_secure=settings.cookie_secure if cookie_secure is None else cookie_secure,
        idle_seconds=settings.session_idle_seconds,
        absolute_seconds=settings.session_absolute_seconds,
        warn_seconds=settings.session_warn_seconds,
    )
    if settings.codec_origins():
        # The Temporal UI's calls to the codec endpoint, and nothing else, cross origins (routers/audit.py).
        app.add_middleware(audit.CodecCors, origins=settings.codec_origins())
    # Outermost, so that an oversized body is refused before sessions, pages or routes see it.
    app.add_middleware(BodySizeLimit)
    return app
