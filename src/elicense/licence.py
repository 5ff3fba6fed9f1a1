"""Licence documents and their on-chain commitment.

A licence is canonical JSON (sorted keys, no spaces, UTF-8). The chain holds only ``data_hash``, a
commitment built from one salted leaf per field, so that

* no field can be guessed from the chain (every leaf has a 32-byte salt derived from a master salt
  that only the holder and issuer know), and
* a holder can later disclose some fields and hide the others (their leaves stand in for them) while
  the commitment still checks.

    salt(name)  = keccak256(master_salt ‖ name)
    leaf(name)  = keccak256("elicense.field.v1" ‖ salt(name) ‖ keccak256(name) ‖ keccak256(canonical(value)))
    data_hash   = keccak256("elicense.licence.v1" ‖ uint8(cert_type) ‖ leaf(n1) ‖ leaf(n2) ‖ ...)   names sorted
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from eth_utils import keccak

from . import types
from .errors import InvalidInput

FIELD_DOMAIN = b"elicense.field.v1"
LICENCE_DOMAIN = b"elicense.licence.v1"
MAX_FIELDS = 64


def canonical(value) -> bytes:
    """Canonical JSON bytes of what both languages read alike (frontend/src/lib/canonical.js): text
    UTF-8 can encode, integers within ±(2^53 - 1), booleans, null, lists, objects with text keys.
    Floats are refused: they do not round-trip between languages."""
    _check_json(value, 0)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


MAX_DEPTH = 32  # nesting of a licence value; deeper is a mistake or an attack on the parser
MAX_SAFE = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER


def _check_json(value, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidInput(f"a licence value is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        _utf8(value)
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE:
            raise InvalidInput("a licence integer is beyond what JavaScript holds exactly (±2^53); use a string")
    elif isinstance(value, float):
        raise InvalidInput(f"licence values may not be floating-point numbers ({value!r}); use a string or an integer")
    elif isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidInput(f"a licence object's keys are text, not {type(k).__name__}")
            _utf8(k)
            _check_json(v, depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _check_json(v, depth + 1)
    else:
        raise InvalidInput(f"a licence value must be JSON (string, integer, boolean, null, list or object), "
                           f"not {type(value).__name__}")


def _utf8(text: str) -> None:
    if not types.encodes_utf8(text):
        raise InvalidInput("a licence text has a lone UTF-16 surrogate, which UTF-8 cannot encode")


def field_salt(master_salt: bytes, name: str) -> bytes:
    return keccak(master_salt + name.encode())


def field_leaf(name: str, value, salt: bytes) -> bytes:
    return keccak(FIELD_DOMAIN + salt + keccak(name.encode()) + keccak(canonical(value)))


def commitment(cert_type: int, leaves: list[bytes]) -> bytes:
    return keccak(LICENCE_DOMAIN + bytes([cert_type]) + b"".join(leaves))


@dataclass(frozen=True)
class LicenceDocument:
    """What the holder decrypts: the fields, the master salt, and the context they were issued in."""

    cert_type: int
    agency: str
    holder: str
    fields: dict = field(default_factory=dict)
    salt: bytes = b""
    valid_from: int = 0
    valid_until: int = 0

    @classmethod
    def new(cls, cert_type: int, agency: str, holder: str, fields: dict, valid_from: int, valid_until: int):
        if not isinstance(fields, dict) or not fields:
            raise InvalidInput("a licence needs at least one field (name: value)")
        if len(fields) > MAX_FIELDS:
            raise InvalidInput(f"a licence has at most {MAX_FIELDS} fields, got {len(fields)}")
        for name in fields:
            if not isinstance(name, str) or not name or len(name) > 64:
                raise InvalidInput(f"malformed field name {name!r}: 1 to 64 characters")
        canonical(fields)  # refuses floats, lone surrogates, ... early
        return cls(cert_type, agency, holder, dict(fields), os.urandom(32), valid_from, valid_until)

    def leaves(self) -> list[bytes]:
        return [field_leaf(n, self.fields[n], field_salt(self.salt, n)) for n in sorted(self.fields)]

    @property
    def data_hash(self) -> bytes:
        return commitment(self.cert_type, self.leaves())

    def to_json(self) -> dict:
        return {
            "v": 1,
            "type": self.cert_type,
            "agency": self.agency,
            "holder": self.holder,
            "validFrom": self.valid_from,
            "validUntil": self.valid_until,
            "fields": self.fields,
            "salt": "0x" + self.salt.hex(),
        }

    def to_bytes(self) -> bytes:
        return canonical(self.to_json())

    @classmethod
    def from_json(cls, data: dict) -> "LicenceDocument":
        try:
            if data.get("v") != 1:
                raise InvalidInput(f"unsupported licence document version {repr(data.get('v'))[:40]}")
            return cls(
                int(data["type"]), str(data["agency"]), str(data["holder"]), dict(data["fields"]),
                bytes.fromhex(str(data["salt"]).removeprefix("0x")), int(data["validFrom"]), int(data["validUntil"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(f"malformed licence document: {exc}") from None

    @classmethod
    def from_bytes(cls, raw: bytes) -> "LicenceDocument":
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise InvalidInput(f"licence document is not JSON (UTF-8): {str(exc)[:200]}") from None
        if not isinstance(data, dict):
            raise InvalidInput("licence document is not a JSON object")
        return cls.from_json(data)

    def disclose(self, names: list[str] | None = None) -> dict:
        """A disclosure: the named fields with their salts, the others as bare leaves."""
        names = sorted(self.fields) if names is None else names
        unknown = [n for n in names if n not in self.fields]
        if unknown:
            raise InvalidInput(f"the licence has no field {', '.join(map(repr, unknown))}")
        entries = []
        for name in sorted(self.fields):
            salt = field_salt(self.salt, name)
            if name in names:
                entries.append({"name": name, "value": self.fields[name], "salt": "0x" + salt.hex()})
            else:
                entries.append({"leaf": "0x" + field_leaf(name, self.fields[name], salt).hex()})
        disclosure = {"type": self.cert_type, "fields": entries}
        if set(names) == set(self.fields):  # all shown: the master salt stands for every field's salt
            disclosure["salt"] = "0x" + self.salt.hex()
        return disclosure


def disclosure_hash(disclosure: dict) -> tuple[bytes, dict]:
    """Recomputes the commitment from a disclosure; returns (data_hash, disclosed fields)."""
    try:
        cert_type = int(disclosure["type"])
        leaves, shown = [], {}
        for entry in disclosure["fields"]:
            if "leaf" in entry:
                leaves.append(bytes.fromhex(str(entry["leaf"]).removeprefix("0x")))
            else:
                salt = bytes.fromhex(str(entry["salt"]).removeprefix("0x"))
                leaves.append(field_leaf(entry["name"], entry["value"], salt))
                shown[entry["name"]] = entry["value"]
        if not 0 < cert_type < 256 or any(len(x) != 32 for x in leaves):
            raise ValueError("bad type or leaf length")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"malformed disclosure: {exc}") from None
    return commitment(cert_type, leaves), shown


def disclosed_names_hash(names) -> bytes:
    """The unsalted hash of the sorted names shown, which presentations signed until version 1 of the
    disclosure; guessable, so presentation.disclosure_commitment replaced it."""
    return keccak(canonical(sorted(names)))
