"""The pydantic payload converter of `temporalio.contrib.pydantic`, with one cache of type adapters per process.

Temporal makes a new payload converter for every workflow instance it starts or replays, and the contrib converter
keeps its `TypeAdapter`s per converter, so each instance built them anew: ~15 ms of CPU per workflow in the worker
(the rent subsidy's input alone ~9 ms), and most of a replay's time per history (bench/, README "Performance").
The type hints are the contracts' own classes, passed through the workflow sandbox, so one adapter serves them all.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import CompositePayloadConverter, DefaultPayloadConverter, JSONPlainPayloadConverter

# Bounded: a hint that is not passed through the sandbox is a new class in every instance, and must not pile up.
_adapter = functools.lru_cache(maxsize=1024)(TypeAdapter)


class _SharedAdaptersJSONConverter(PydanticJSONPlainPayloadConverter):
    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        hint = type_hint if type_hint is not None else Any
        try:
            hash(hint)
        except TypeError:  # an unhashable hint cannot be cached: the contrib converter builds its adapter each time
            return super().from_payload(payload, type_hint)
        return _adapter(hint).validate_json(payload.data)


class SharedAdaptersPayloadConverter(CompositePayloadConverter):
    """`PydanticPayloadConverter`, built the same way (JSON through pydantic, the other encodings as Temporal's)."""

    def __init__(self) -> None:
        json = _SharedAdaptersJSONConverter()
        super().__init__(
            *(
                json if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )
