from __future__ import annotations

import hashlib
from dataclasses import dataclass

from eth_utils import keccak

from ..chain import TxResult
from ..commitments import Purpose
from ..errors import InvalidInput
from ._base import Wrapper

# The contract's enums, by value.
HASH_ALGORITHMS = ["sha256", "keccak256", "sha3-256", "blake2b-256", "sm3"]
ASSET_STATUS = ["none", "active", "withdrawn"]
DENIAL_REASONS = ["not-allowed", "withdrawn", "wrong-fee"]

PAGE = 100  # the contract's MAX_PAGE


@dataclass(frozen=True)
class Asset:
    """A digital asset: header (version, data type, hash algorithm), metadata, fee, status, counters."""

    asset_id: int
    version: int
    data_type: str
    hash_algorithm: str
    pointer: str
    integrity_hash: bytes
    access_info: bytes
    inline_data: bytes
    fee: int
    status: str
    granted: int
    denied: int
    allowed_count: int
    published_at: int
    updated_at: int


@dataclass(frozen=True)
class PublishedAsset:
    asset_id: int
    data_type: str
    hash_algorithm: str
    pointer: str
    integrity_hash: bytes
    fee: int
    tx_hash: str
    block_number: int
    gas_used: int = 0


@dataclass(frozen=True)
class DirectoryEntry:
    asset_id: int
    data_type: str
    version: int
    status: str
    fee: int
    pointer: str


@dataclass(frozen=True)
class Grant:
    """An account's latest grant on an asset: the version granted, when, the grant's number, and whether it
    is current (paid since the account was last put on the allow-list, and it is still on it)."""

    version: int
    granted_at: int
    number: int
    current: bool = False


@dataclass(frozen=True)
class AccessOutcome:
    """One recorded access request: granted (with version, fee and grant number) or denied (with a reason
    and the refund)."""

    asset_id: int
    requester: str
    granted: bool
    reason: str | None
    version: int | None
    fee: int
    purpose: bytes
    grant_number: int | None
    refund: int
    tx_hash: str
    block_number: int
    gas_used: int = 0


def data_type_code(value: str | bytes) -> bytes:
    """A data type as bytes32: printable ASCII, left-aligned, 1 to 32 characters."""
    if isinstance(value, (bytes, bytearray)) and len(value) == 32 and any(value):
        return bytes(value)
    if not isinstance(value, str) or not value or len(value) > 32 or not value.isascii() or not value.isprintable():
        raise InvalidInput(f"malformed data type {value!r}: 1 to 32 printable ASCII characters")
    return value.encode().ljust(32, b"\0")


def hash_algorithm(value: str | int) -> int:
    if isinstance(value, int) and 0 <= value < len(HASH_ALGORITHMS):
        return value
    if isinstance(value, str) and value.lower() in HASH_ALGORITHMS:
        return HASH_ALGORITHMS.index(value.lower())
    raise InvalidInput(f"unknown hash algorithm {value!r}; use one of {', '.join(HASH_ALGORITHMS)}")


def content_hash(data: bytes, algorithm: str | int = "sha256") -> bytes:
    """The integrity hash of ``data`` by the asset's algorithm, to check a fetched file against the chain."""
    name = HASH_ALGORITHMS[hash_algorithm(algorithm)]
    if name == "keccak256":
        return keccak(data)
    if name == "blake2b-256":
        return hashlib.blake2b(data, digest_size=32).digest()
    try:
        return hashlib.new(name.replace("-", "_"), data).digest()
    except ValueError:  # sm3 needs an OpenSSL built with it
        raise InvalidInput(f"hash algorithm {name} is not available in this Python") from None


def _text(raw: bytes) -> str:
    return bytes(raw).rstrip(b"\0").decode("ascii", "replace")


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex().removeprefix("0x")


class DataSharing(Wrapper):
    """A data owner's DataSharing contract: assets, allow-lists, recorded access requests, fees."""

    name = "DataSharing"

    # owner: assets ------------------------------------------------------------------
    def publish(self, account, data_type: str | bytes, algorithm: str | int, integrity_hash: bytes, *,
                pointer: str = "", access_info: bytes = b"", inline_data: bytes = b"", fee: int = 0) -> PublishedAsset:
        """Publishes an asset. ``inline_data`` is public on chain: small non-personal text only."""
        metadata = (pointer, bytes(integrity_hash), bytes(access_info), bytes(inline_data))
        fn = self.contract.functions.publish(data_type_code(data_type), hash_algorithm(algorithm), metadata, fee)
        tx = self.chain.send(fn, account)
        a = self.events(tx, "AssetPublished")[0]["args"]
        return PublishedAsset(a["id"], _text(a["dataType"]), HASH_ALGORITHMS[a["hashAlgorithm"]], a["pointer"],
                              bytes(a["integrityHash"]), a["fee"], tx.tx_hash, tx.block_number, tx.gas_used)

    def update(self, account, asset_id: int, integrity_hash: bytes, *, pointer: str = "", access_info: bytes = b"",
               inline_data: bytes = b"") -> int:
        """Replaces every metadata field; returns the asset's new version."""
        metadata = (pointer, bytes(integrity_hash), bytes(access_info), bytes(inline_data))
        tx = self.chain.send(self.contract.functions.update(asset_id, metadata), account)
        return self.events(tx, "AssetUpdated")[0]["args"]["version"]

    def set_fee(self, account, asset_id: int, fee: int) -> TxResult:
        return self.chain.send(self.contract.functions.setFee(asset_id, fee), account)

    def withdraw(self, account, asset_id: int) -> TxResult:
        return self.chain.send(self.contract.functions.withdraw(asset_id), account)

    # owner: allow-lists ---------------------------------------------------------------
    def allow(self, account, asset_id: int, accounts: list[str]) -> list[str]:
        """Puts ``accounts`` on the allow-list; returns those that were not on it already."""
        tx = self.chain.send(self.contract.functions.allow(asset_id, list(accounts)), account)
        return [e["args"]["account"] for e in self.events(tx, "AccessAllowed")]

    def disallow(self, account, asset_id: int, accounts: list[str]) -> list[str]:
        """Takes ``accounts`` off the allow-list; returns those that were on it."""
        tx = self.chain.send(self.contract.functions.disallow(asset_id, list(accounts)), account)
        return [e["args"]["account"] for e in self.events(tx, "AccessDisallowed")]

    # access ---------------------------------------------------------------------------
    def request_access(self, account, asset_id: int, purpose: bytes | Purpose, value: int | None = None
                       ) -> AccessOutcome:
        """Requests access, paying the asset's current fee unless ``value`` says otherwise. ``purpose`` is a
        public 32-byte code or a :class:`Purpose` (only its salted commitment goes on chain). A denial is
        an outcome, not an error (the contract records it); only an unknown asset raises."""
        if isinstance(purpose, Purpose):
            purpose = purpose.commitment
        elif not isinstance(purpose, (bytes, bytearray)) or len(purpose) != 32:
            raise InvalidInput("a purpose is a Purpose (statement and salt) or a 32-byte code")
        if value is None:
            value = self.chain.call(self.contract.functions.asset(asset_id))[2]
        tx = self.chain.send(self.contract.functions.requestAccess(asset_id, bytes(purpose)), account, value=value)
        granted = self.events(tx, "AccessGranted")
        event = granted[0] if granted else self.events(tx, "AccessDenied")[0]
        return self._outcome(event, tx.gas_used)

    def withdraw_payments(self, account, to: str | None = None) -> int:
        """Sends the sender's whole credit to ``to`` (default: the sender); returns the wei sent."""
        tx = self.chain.send(self.contract.functions.withdrawPayments(to or account.address), account)
        return self.events(tx, "PaymentWithdrawn")[0]["args"]["amount"]

    def requests(self, asset_id: int | None = None, from_block: int = 0) -> list[AccessOutcome]:
        """Every recorded request (grants and denials) in chain order, from the logs."""
        filters = {"id": asset_id} if asset_id is not None else {}
        logs = [*self.contract.events.AccessGranted().get_logs(from_block=from_block, argument_filters=filters),
                *self.contract.events.AccessDenied().get_logs(from_block=from_block, argument_filters=filters)]
        logs.sort(key=lambda e: (e["blockNumber"], e["logIndex"]))
        return [self._outcome(e) for e in logs]

    @staticmethod
    def _outcome(event, gas_used: int = 0) -> AccessOutcome:
        a = event["args"]
        tx_hash = _hex(event["transactionHash"])
        if event["event"] == "AccessGranted":
            return AccessOutcome(a["id"], a["requester"], True, None, a["version"], a["fee"], bytes(a["purpose"]),
                                 a["grantNumber"], 0, tx_hash, event["blockNumber"], gas_used)
        return AccessOutcome(a["id"], a["requester"], False, DENIAL_REASONS[a["reason"]], None, 0, bytes(a["purpose"]),
                             None, a["refund"], tx_hash, event["blockNumber"], gas_used)

    # views ----------------------------------------------------------------------------
    def owner(self) -> str:
        return self.chain.call(self.contract.functions.owner())

    def count(self) -> int:
        return self.chain.call(self.contract.functions.assetCount())

    def asset(self, asset_id: int) -> Asset | None:
        if not 1 <= asset_id <= self.count():
            return None
        header, meta, fee, status, granted, denied, allowed, published_at, updated_at = self.chain.call(
            self.contract.functions.asset(asset_id))
        version, kind, algorithm = header
        pointer, integrity, access_info, inline = meta
        return Asset(asset_id, version, _text(kind), HASH_ALGORITHMS[algorithm], pointer, bytes(integrity),
                     bytes(access_info), bytes(inline), fee, ASSET_STATUS[status], granted, denied, allowed,
                     published_at, updated_at)

    def directory(self, offset: int = 0, limit: int = PAGE) -> list[DirectoryEntry]:
        """One page of the directory (at most 100 entries)."""
        rows = self.chain.call(self.contract.functions.directory(offset, limit))
        return [DirectoryEntry(i, _text(kind), version, ASSET_STATUS[status], fee, pointer)
                for i, kind, version, status, fee, pointer in rows]

    def all_assets(self) -> list[DirectoryEntry]:
        """The whole directory, page by page."""
        entries: list[DirectoryEntry] = []
        while page := self.directory(len(entries), PAGE):
            entries.extend(page)
        return entries

    def is_allowed(self, asset_id: int, address: str) -> bool:
        return self.chain.call(self.contract.functions.isAllowed(asset_id, address))

    def allow_list(self, asset_id: int) -> list[str]:
        """Every account on the asset's allow-list, page by page."""
        accounts: list[str] = []
        while page := self.chain.call(self.contract.functions.allowListOf(asset_id, len(accounts), PAGE)):
            accounts.extend(page)
        return accounts

    def last_grant(self, asset_id: int, address: str) -> Grant | None:
        version, granted_at, number, current = self.chain.call(self.contract.functions.lastGrant(asset_id, address))
        return Grant(version, granted_at, number, current) if number else None

    def has_grant(self, asset_id: int, address: str, version: int, not_before: int = 0) -> bool:
        """The gateway's question: granted this version at or after ``not_before`` and since the account was
        last allowed (a disallow ends a grant), still allowed, asset active."""
        return self.chain.call(self.contract.functions.hasGrant(asset_id, address, version, not_before))

    def payments_of(self, address: str) -> int:
        return self.chain.call(self.contract.functions.paymentsOf(address))
