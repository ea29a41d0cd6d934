"""Payloads and failures leave the process encrypted: Temporal's database and UI never hold personal data in clear.

AES-256-GCM from `cryptography`; each payload names the key it was sealed with (`encryption-key-id`), so keys rotate:
the first key of the keyring seals, every key of it opens. Failure messages and stack traces are moved into the
payloads too (Temporal's `DefaultFailureConverterWithEncodedAttributes`), so they are encrypted as well.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_NONCE_BYTES = 12


class KeyringError(RuntimeError):
    pass


@dataclass(frozen=True)
class Keyring:
    """Named 256-bit keys; the first seals new payloads."""

    keys: tuple[tuple[str, bytes], ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("the payload keyring is empty")
        for key_id, key in self.keys:
            if len(key) != 32 or not key_id or ":" in key_id or "," in key_id:
                raise KeyringError(f"payload key {key_id!r} must be 32 bytes with a plain id")

    @property
    def current(self) -> tuple[str, bytes]:
        return self.keys[0]

    def get(self, key_id: str) -> bytes:
        for known_id, key in self.keys:
            if known_id == key_id:
                return key
        raise KeyringError(f"no payload key {key_id!r} in the keyring: it was rotated out or never configured")

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """`id1:base64key,id2:base64key` — the format of SUBSIDY_PAYLOAD_KEYS."""
        pairs = []
        for item in text.split(","):
            key_id, _, encoded = item.strip().partition(":")
            try:
                pairs.append((key_id, base64.b64decode(encoded, validate=True)))
            except ValueError:
                raise KeyringError(f"payload key {key_id!r} is not base64") from None
        return cls(tuple(pairs))

    @staticmethod
    def new_entry(key_id: str) -> str:
        return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


class EncryptionCodec(PayloadCodec):
    """Resolves its keyring when first used, so one converter serves every process however it is configured."""

    def __init__(self, keyring: Callable[[], Keyring]) -> None:
        self._keyring = keyring

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        key_id, key = self._keyring().current
        sealer = AESGCM(key)
        sealed = []
        for payload in payloads:
            nonce = os.urandom(_NONCE_BYTES)
            sealed.append(
                Payload(
                    metadata={"encoding": ENCODING, KEY_ID: key_id.encode()},
                    data=nonce + sealer.encrypt(nonce, payload.SerializeToString(), None),
                )
            )
        return sealed

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        opened = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                opened.append(payload)  # written before encryption was on: readable as it is
                continue
            key = self._keyring().get(payload.metadata[KEY_ID].decode())
            nonce, sealed = payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:]
            opened.append(Payload.FromString(AESGCM(key).decrypt(nonce, sealed, None)))
        return opened
