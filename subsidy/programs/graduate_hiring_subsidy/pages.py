"""The employer's pages for the graduate hiring subsidy."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
