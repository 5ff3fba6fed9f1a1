"""What a holder shows an inspector: a licence reference, the disclosed fields, a short validity
window and the holder's EIP-712 signature over them (bound to the chain and the registry), so a
copy replayed later, or on another chain, is refused.

The signed ``disclosure`` goes on chain with the inspection, so it must not tell which fields were
shown: it commits to the presentation's nonce and to every field's salted leaf, flagged shown or
hidden (see docs/presentation-format.md). Without the leaves, which never go on chain, nobody can
test a guessed field set against it, and the same fields shown twice give two unrelated values."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from . import types
from .batch import batch_args
from .errors import InvalidInput
from .licence import MAX_FIELDS, LicenceDocument, field_leaf
from .registries.licences import typed_presentation

DEFAULT_TTL = 120  # seconds a presentation stays usable
# Seconds a code stays acceptable after its notAfter, for a verifier whose clock runs ahead of the
# holder's phone: verifiers judge freshness by their own clock (never a block's timestamp, which lags
# on a quiet chain), and clocks drift by seconds, not minutes. The pages use the same allowance.
CLOCK_SKEW = 30
DISCLOSURE_DOMAIN = b"elicense.disclosure.v2"
MAX_CHAIN_ID = 2**53  # what the pages' numbers hold exactly (qr.MAX_CHAIN_ID)
MAX_PROOF = 64  # Merkle proof nodes: a batch of 2**64 leaves


@dataclass(frozen=True)
class Presentation:
    chain_id: int
    registry: str
    holder: str
    agency: str
    licence_id: str
    disclosure: dict
    not_after: int
    nonce: str
    signature: str
    batch: dict | None = None  # a batched licence: {"agency", "root", "leaf", "proof"}; checkBatched claims it

    def to_json(self) -> dict:
        data = {"v": 1, **asdict(self)}
        if self.batch is None:
            del data["batch"]
        return data

    def dumps(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True)

    @property
    def disclosed_names(self) -> list[str]:
        return sorted(str(e["name"]) for e in self.disclosure.get("fields", []) if "name" in e)

    def signed_tuple(self) -> tuple:
        nonce = types.bytes32(self.nonce, "nonce")
        return types.bytes32(self.licence_id), disclosure_commitment(self.disclosure, nonce), self.not_after, nonce

    def signer(self) -> str | None:
        """The address the signature recovers to over this presentation's typed data (None if malformed)."""
        try:
            message = typed_presentation(self.chain_id, self.registry, *self.signed_tuple())
            return Account.recover_message(encode_typed_data(full_message=message), signature=self.signature)
        except Exception:  # a malformed signature or value: it recovers to nobody
            return None

    @classmethod
    def parse(cls, data: str | bytes | dict) -> "Presentation":
        try:
            obj = json.loads(data) if isinstance(data, (str, bytes)) else data
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer of over 4,300 digits
            raise InvalidInput(f"the presentation is not JSON: {str(exc)[:200]}") from None
        except RecursionError:
            raise InvalidInput("the presentation is not JSON: nested too deeply") from None
        if not isinstance(obj, dict) or obj.get("v") != 1:
            raise InvalidInput("the presentation is not an elicense presentation (version 1)")
        missing = [k for k in ("chain_id", "registry", "holder", "agency", "licence_id", "disclosure", "not_after",
                               "nonce", "signature") if k not in obj]
        if missing:
            raise InvalidInput(f"the presentation lacks the field {missing[0]!r}")
        if not types.is_uint(obj["chain_id"], MAX_CHAIN_ID) or obj["chain_id"] == 0:
            raise InvalidInput("malformed presentation: the chain id is not a positive integer below 2^53")
        if not types.is_uint(obj["not_after"], 2**64):
            raise InvalidInput("malformed presentation: not_after is not unix seconds (an integer below 2^64)")
        for key in ("agency", "licence_id", "nonce", "signature"):
            if not isinstance(obj[key], str):
                raise InvalidInput(f"malformed presentation: {key} is not text")
        types.hex_bytes(obj["signature"], "signature")  # its length and signer are checked as a step of verify
        p = cls(
            obj["chain_id"], types.address(obj["registry"], "registry address"),
            types.address(obj["holder"], "holder address"), obj["agency"], obj["licence_id"],
            _disclosure(obj["disclosure"]), obj["not_after"], obj["nonce"], obj["signature"],
            _batch(obj.get("batch"), obj["agency"]),
        )
        types.bytes32(p.licence_id, "licence id")
        types.bytes32(p.nonce, "nonce")
        return p


def _disclosure(value) -> dict:
    """The disclosure checked for shape: a type and a list of {leaf} or {name, value, salt} entries
    (the values themselves are checked when their leaves are computed)."""
    if not isinstance(value, dict) or not isinstance(value.get("fields"), list):
        raise InvalidInput("malformed presentation: disclosure has no field list")
    if not types.is_uint(value.get("type"), 256) or value["type"] == 0:
        raise InvalidInput("malformed presentation: the disclosure's certificate type is not 1 to 255")
    if not 0 < len(value["fields"]) <= MAX_FIELDS:
        raise InvalidInput(f"malformed presentation: a disclosure has 1 to {MAX_FIELDS} fields")
    for entry in value["fields"]:
        if isinstance(entry, dict) and set(entry) == {"leaf"}:
            types.bytes32(entry["leaf"], "leaf")
        elif isinstance(entry, dict) and set(entry) == {"name", "value", "salt"}:
            name = entry["name"]
            if not isinstance(name, str) or not 0 < len(name) <= 64 or not types.encodes_utf8(name):
                raise InvalidInput(f"malformed presentation: bad field name {str(name)[:40]!r}")
            types.bytes32(entry["salt"], "field salt")
        else:
            raise InvalidInput("malformed presentation: every disclosed entry is {leaf} or {name, value, salt}")
    if "salt" in value:
        types.bytes32(value["salt"], "master salt")
    return dict(value)


def _batch(value, agency) -> dict | None:
    """The batch part; its agency (the batch is the agency's) defaults to the presentation's."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("proof"), list) or len(value["proof"]) > MAX_PROOF:
        raise InvalidInput("malformed presentation: batch needs a root, a five-part leaf and a proof list")
    value = {**value, "agency": value.get("agency") or agency}
    batch_args(value)  # refuses a bad agency, root, leaf or proof node, naming it
    return {"agency": value["agency"], "root": value["root"], "leaf": list(value["leaf"]),
            "proof": list(value["proof"])}


def disclosure_commitment(disclosure: dict, nonce: bytes) -> bytes:
    """What the holder signs as ``disclosure`` (and the inspection puts on chain):

        keccak256("elicense.disclosure.v2" ‖ nonce(32) ‖ (0x01 ‖ leaf | 0x00 ‖ leaf) per field, in order)

    0x01 marks a shown field (its leaf computed from name, value and salt), 0x00 a hidden one."""
    parts = [DISCLOSURE_DOMAIN, types.bytes32(nonce, "nonce")]
    try:
        for entry in disclosure["fields"]:
            if "leaf" in entry:
                parts.append(b"\0" + types.bytes32(entry["leaf"], "leaf"))
            else:
                parts.append(b"\1" + field_leaf(entry["name"], entry["value"], types.bytes32(entry["salt"], "field salt")))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"malformed disclosure: {exc}") from None
    return keccak(b"".join(parts))


def create(registry, holder_account, licence_id: str, agency: str, document: LicenceDocument,
           fields: list[str] | None = None, ttl: int = DEFAULT_TTL, now: int | None = None,
           batch: dict | None = None) -> Presentation:
    """Signs a presentation of ``document`` (issued as ``licence_id`` in ``registry``) by its holder."""
    if holder_account.address != types.address(document.holder):
        raise InvalidInput(f"the licence belongs to {document.holder}, not to {holder_account.address}")
    disclosure = document.disclose(fields)
    not_after = int(now if now is not None else time.time()) + ttl
    nonce = bytes(16) + os.urandom(16)  # 128 random bits; the QR code carries only those
    message = registry.typed_presentation(types.bytes32(licence_id), disclosure_commitment(disclosure, nonce),
                                          not_after, nonce)
    signed = holder_account.sign_message(encode_typed_data(full_message=message))
    return Presentation(
        registry.chain.chain_id, registry.address, holder_account.address, agency, licence_id, disclosure, not_after,
        "0x" + nonce.hex(), "0x" + bytes(signed.signature).hex(), batch,
    )
