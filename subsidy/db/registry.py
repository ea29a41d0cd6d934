"""Every table of the service, for Alembic: the shared tables' modules here, each program's own from its declaration."""

import subsidy.db.auth_models  # noqa: F401 - puts the sessions and sign-in counters on Base.metadata
import subsidy.db.binding_models  # noqa: F401 - puts the account bindings on Base.metadata
import subsidy.db.calendar_models  # noqa: F401 - puts the calendar years on Base.metadata
import subsidy.db.document_models  # noqa: F401 - puts the evidence documents on Base.metadata
import subsidy.db.idempotency_models  # noqa: F401 - puts the submission bodies table on Base.metadata
import subsidy.db.minimum_wages  # noqa: F401 - puts the minimum wage standards on Base.metadata
import subsidy.db.payment_models  # noqa: F401 - puts payments, batches, bank lines and recoveries on Base.metadata
import subsidy.db.person_records  # noqa: F401 - puts the person registry across programs on Base.metadata
import subsidy.db.plans  # noqa: F401 - puts the plans and their actions' statuses on Base.metadata
import subsidy.db.registration_limit_models  # noqa: F401 - puts the registration counters on Base.metadata
from subsidy.db import models
from subsidy.db.models import Base
from subsidy.programs.registry import DECLARED

# Importing a program's models module puts its tables on Base.metadata; the declarations name them.
PROGRAM_MODELS = [module for program in DECLARED for module in program.models]

__all__ = ["PROGRAM_MODELS", "Base", "models"]
