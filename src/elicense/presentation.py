"""What a holder shows an inspector: a licence reference, the disclosed fields, a short validity
window and the holder's EIP-712 signature over them (bound to the chain and the registry), so a
copy replayed later, or on another chain, is refused."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data

from . import types
from .errors import InvalidInput
from .licence import LicenceDocument, disclosed_names_hash
from .registries.licences import typed_presentation

DEFAULT_TTL = 120  # seconds a presentation stays usable


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
        return sorted(e["name"] for e in self.disclosure.get("fields", []) if "name" in e)

    def signed_tuple(self) -> tuple:
        return (
            types.bytes32(self.licence_id), disclosed_names_hash(self.disclosed_names), self.not_after,
            types.bytes32(self.nonce),
        )

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
            obj = json.loads(data) if isinstance(data, (str, bytes)) else dict(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"the presentation is not JSON: {exc}") from None
        if not isinstance(obj, dict) or obj.get("v") != 1:
            raise InvalidInput("the presentation is not an elicense presentation (version 1)")
        try:
            p = cls(
                int(obj["chain_id"]), types.address(obj["registry"], "registry address"),
                types.address(obj["holder"], "holder address"), str(obj["agency"]), str(obj["licence_id"]),
                dict(obj["disclosure"]), int(obj["not_after"]), str(obj["nonce"]), str(obj["signature"]),
                _batch(obj.get("batch"), obj["agency"]),
            )
        except KeyError as exc:
            raise InvalidInput(f"the presentation lacks the field {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"malformed presentation: {exc}") from None
        types.bytes32(p.licence_id, "licence id")
        types.bytes32(p.nonce, "nonce")
        if not isinstance(p.disclosure.get("fields"), list):
            raise InvalidInput("malformed presentation: disclosure has no field list")
        return p


def _batch(value, agency) -> dict | None:
    """The batch part; its agency (the batch is the agency's) defaults to the presentation's."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("leaf"), list) or len(value["leaf"]) != 5 \
            or not isinstance(value.get("proof"), list):
        raise InvalidInput("malformed presentation: batch needs a root, a five-part leaf and a proof list")
    agency = value.get("agency") or agency
    types.org_code(agency)
    types.bytes32(value.get("root"), "batch root")
    for node in value["proof"]:
        types.bytes32(node, "proof node")
    return {"agency": agency, "root": value["root"], "leaf": list(value["leaf"]), "proof": list(value["proof"])}


def create(registry, holder_account, licence_id: str, agency: str, document: LicenceDocument,
           fields: list[str] | None = None, ttl: int = DEFAULT_TTL, now: int | None = None,
           batch: dict | None = None) -> Presentation:
    """Signs a presentation of ``document`` (issued as ``licence_id`` in ``registry``) by its holder."""
    if holder_account.address != types.address(document.holder):
        raise InvalidInput(f"the licence belongs to {document.holder}, not to {holder_account.address}")
    disclosure = document.disclose(fields)
    names = sorted(fields) if fields is not None else sorted(document.fields)
    not_after = int(now if now is not None else time.time()) + ttl
    nonce = bytes(16) + os.urandom(16)  # 128 random bits; the QR code carries only those
    message = registry.typed_presentation(types.bytes32(licence_id), disclosed_names_hash(names), not_after, nonce)
    signed = holder_account.sign_message(encode_typed_data(full_message=message))
    return Presentation(
        registry.chain.chain_id, registry.address, holder_account.address, agency, licence_id, disclosure, not_after,
        "0x" + nonce.hex(), "0x" + bytes(signed.signature).hex(), batch,
    )
