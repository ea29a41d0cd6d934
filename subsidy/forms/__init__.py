"""Jinja2 templates, static files and the pydantic models of each form."""

from pathlib import Path

FORMS_DIR = Path(__file__).parent
TEMPLATES_DIR = FORMS_DIR / "templates"
STATIC_DIR = Path(__file__).parent / "static"
