"""The Temporal client of the service: one data converter for the API, the worker and the CLI."""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes

from subsidy.settings import get_settings
from subsidy.temporal_client.converter import SharedAdaptersPayloadConverter
from subsidy.temporal_client.encryption import EncryptionCodec, Keyring


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
