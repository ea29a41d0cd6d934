"""The Temporal client and worker of the service: one data converter, one task queue, every program's workflows."""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes
from temporalio.worker import Worker

from subsidy.programs.registry import ACTIVITY_CLASSES, WORKFLOW_CLASSES
from subsidy.service.converter import SharedAdaptersPayloadConverter
from subsidy.service.encryption import EncryptionCodec, Keyring
from subsidy.service.settings import get_settings


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
        # Every program's workflows and activities, from the program registry (shared ones once).
        workflows=WORKFLOW_CLASSES,
        activities=[activity for kind in ACTIVITY_CLASSES for activity in kind(sessions).all()],
        max_concurrent_activities=50,
    )
