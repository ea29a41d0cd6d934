"""The workflows, each a module of its own, and their contracts (`*_contracts.py`).

`ALL_WORKFLOWS` lists every workflow class the worker runs (and the archiver and the replay tests read). It is
imported on first use only: Temporal's sandbox imports this package afresh for every workflow it runs, and must not
import every other workflow module with it.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name != "ALL_WORKFLOWS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from subsidy.workflows.account_registration import AccountRegistrationWorkflow
    from subsidy.workflows.flexible_insurance import FlexibleEmploymentInsuranceWorkflow
    from subsidy.workflows.public_welfare_placement import PublicWelfarePlacementWorkflow
    from subsidy.workflows.public_welfare_post import PostCollectionWorkflow, PublicWelfarePostWorkflow
    from subsidy.workflows.rent_subsidy import RentSubsidyWorkflow
    from subsidy.workflows.training_subsidy import TrainingSubsidyWorkflow

    workflows: list[type] = [
        RentSubsidyWorkflow,
        TrainingSubsidyWorkflow,
        PublicWelfarePostWorkflow,
        PostCollectionWorkflow,
        PublicWelfarePlacementWorkflow,
        FlexibleEmploymentInsuranceWorkflow,
        AccountRegistrationWorkflow,
    ]
    globals()["ALL_WORKFLOWS"] = workflows
    return workflows
