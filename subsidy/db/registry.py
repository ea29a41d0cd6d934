"""Every table of the service, for Alembic: each program's models module is imported here once."""

import subsidy.db.auth_models  # noqa: F401 - puts the sessions and sign-in counters on Base.metadata
import subsidy.db.binding_models  # noqa: F401 - puts the account bindings on Base.metadata
import subsidy.db.calendar_models  # noqa: F401 - puts the calendar years on Base.metadata
import subsidy.db.idempotency_models  # noqa: F401 - puts the submission bodies table on Base.metadata
import subsidy.db.placement_models  # noqa: F401 - puts the public-welfare post tables on Base.metadata
import subsidy.db.registration_limit_models  # noqa: F401 - puts the registration counters on Base.metadata
import subsidy.db.training_models  # noqa: F401 - puts the training tables on Base.metadata
from subsidy.db import models
from subsidy.db.models import Base

__all__ = ["Base", "models"]
