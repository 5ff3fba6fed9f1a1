"""Salted commitments: all the chain keeps of a purpose statement or of the field names a reader read.

An unsalted hash of a short text is confirmed by guessing it ("mortgage application of <name>,
<national id>"), so the chain gets ``keccak256(domain ‖ salt ‖ UTF-8 text)`` with a 32-byte random
salt that travels with the text to the parties only (requester, subject, the controller's gateway).
Whoever holds text and salt checks them against the chain with :meth:`Purpose.opens` /
:func:`field_commitment`; nobody else learns anything from the 32 bytes on chain.
``frontend/src/lib/commitments.js`` computes the same bytes in the browser.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from eth_utils import keccak

from . import types
from .errors import InvalidInput

PURPOSE_DOMAIN = b"elicense.purpose.v1"
FIELDS_DOMAIN = b"elicense.fields.v1"
MAX_PURPOSE = 1000  # characters of a purpose statement


def new_salt() -> bytes:
    return secrets.token_bytes(32)


def _salt(salt: bytes | str) -> bytes:
    if isinstance(salt, str):
        try:
            salt = bytes.fromhex(salt.removeprefix("0x"))
        except ValueError:
            raise InvalidInput("malformed salt: 32 bytes as 0x-hex") from None
    if not isinstance(salt, (bytes, bytearray)) or len(salt) != 32:
        raise InvalidInput("a commitment's salt is 32 bytes")
    return bytes(salt)


def _utf8(text: str) -> bytes:
    if not types.encodes_utf8(text):
        raise InvalidInput(f"the text {text!r} holds a lone UTF-16 surrogate, which UTF-8 cannot carry")
    return text.encode("utf-8")


def purpose_commitment(text: str, salt: bytes | str) -> bytes:
    """What goes on chain for a purpose statement: keccak256("elicense.purpose.v1" ‖ salt ‖ text)."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_PURPOSE:
        raise InvalidInput(f"a purpose is a statement of 1 to {MAX_PURPOSE} characters")
    return keccak(PURPOSE_DOMAIN + _salt(salt) + _utf8(text))


def fields_text(fields: str | Iterable[str]) -> str:
    """The canonical text of the fields of a read: ``"*"`` (the whole file), or the names (a list, or a
    comma-separated text: names hold no comma) sorted and comma-joined."""
    names = sorted(fields.split(",") if isinstance(fields, str) else (str(f) for f in fields))
    if names == ["*"]:
        return "*"
    if not names or any(not n or "," in n or n == "*" or not n.isprintable() for n in names):
        raise InvalidInput(f"malformed field list {fields!r}: printable field names without commas, or '*'")
    return ",".join(names)


def field_commitment(fields: str | Iterable[str], salt: bytes | str) -> bytes:
    """The ``what`` a reader signs: keccak256("elicense.fields.v1" ‖ salt ‖ canonical field list)."""
    return keccak(FIELDS_DOMAIN + _salt(salt) + _utf8(fields_text(fields)))


@dataclass(frozen=True)
class Purpose:
    """A purpose statement with the salt of its on-chain commitment: the opening the parties keep."""

    text: str
    salt: bytes

    @classmethod
    def new(cls, text: str) -> Purpose:
        purpose = cls(text, new_salt())
        purpose.commitment  # refuse an empty statement now, not at the chain
        return purpose

    @classmethod
    def from_json(cls, value: dict) -> Purpose:
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            raise InvalidInput("a purpose opening is {\"text\": statement, \"salt\": 0x-hex}")
        return cls(value["text"], _salt(value.get("salt")))

    @property
    def commitment(self) -> bytes:
        return purpose_commitment(self.text, self.salt)

    def opens(self, commitment: bytes) -> bool:
        return self.commitment == bytes(commitment)

    def to_json(self) -> dict:
        return {"text": self.text, "salt": "0x" + self.salt.hex()}


__all__ = ["Purpose", "purpose_commitment", "field_commitment", "fields_text", "new_salt", "PURPOSE_DOMAIN",
           "FIELDS_DOMAIN"]
