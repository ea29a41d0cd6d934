"""Every table of the service, for Alembic: each program's models module is imported here once."""

from subsidy.db import models
from subsidy.db.models import Base

__all__ = ["Base", "models"]
