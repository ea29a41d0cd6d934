"""The Temporal client and worker of the service: one data converter, one task queue, every workflow."""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes
from temporalio.worker import Worker

from subsidy.activities.calendar import CalendarActivities
from subsidy.activities.placement import PlacementActivities
from subsidy.activities.procedure import ProcedureActivities
from subsidy.activities.registration import RegistrationActivities
from subsidy.activities.training import TrainingActivities
from subsidy.service.converter import SharedAdaptersPayloadConverter
from subsidy.service.encryption import EncryptionCodec, Keyring
from subsidy.service.settings import get_settings
from subsidy.workflows.account_registration import AccountRegistrationWorkflow
from subsidy.workflows.flexible_insurance import FlexibleEmploymentInsuranceWorkflow
from subsidy.workflows.public_welfare_placement import PublicWelfarePlacementWorkflow
from subsidy.workflows.public_welfare_post import PostCollectionWorkflow, PublicWelfarePostWorkflow
from subsidy.workflows.rent_subsidy import RentSubsidyWorkflow
from subsidy.workflows.training_subsidy import TrainingSubsidyWorkflow

WORKFLOWS = [
    RentSubsidyWorkflow,
    TrainingSubsidyWorkflow,
    PublicWelfarePostWorkflow,
    PostCollectionWorkflow,
    PublicWelfarePlacementWorkflow,
    FlexibleEmploymentInsuranceWorkflow,
    AccountRegistrationWorkflow,
]


@lru_cache
def _keyring() -> Keyring:
    return get_settings().payload_keyring()


# pydantic carries Decimal, date and datetime exactly (Decimal as a string, never a float); the codec encrypts every
# payload, and failure messages travel inside encrypted payloads rather than in clear.
DATA_CONVERTER = dataclasses.replace(
    pydantic_data_converter,
    # The same conversion, with type adapters built once per process instead of once per workflow instance.
    payload_converter_class=SharedAdaptersPayloadConverter,
    payload_codec=EncryptionCodec(_keyring),
    failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
)


async def connect(address: str, namespace: str = "default") -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=DATA_CONVERTER)


def build_worker(client: Client, task_queue: str, sessions: async_sessionmaker[AsyncSession]) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[
            *ProcedureActivities(sessions).all(),
            *TrainingActivities(sessions).all(),
            *PlacementActivities(sessions).all(),
            *CalendarActivities(sessions).all(),
            *RegistrationActivities(sessions).all(),
        ],
        max_concurrent_activities=50,
    )
