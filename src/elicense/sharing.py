"""Shared data sets: the owner's side (encrypt, store off chain, publish, allow) and the gateway that
serves an asset's file only to a reader the contract admits (docs/data-sharing.md).

The file leaves the owner's machine sealed (AES-256-GCM, the key wrapped with ECIES for the owner and
each allowed reader: storage/envelope.py); the chain holds its CID and the SHA-256 of the sealed
bytes. A reader first requests access on chain (recorded, fee paid), then asks the gateway with a
fresh EIP-712 signed read request; the gateway checks the signature, its freshness and the
contract's grant for the current version, serves the sealed file, and logs every served read and
every refused one in an append-only file.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_account import Account
from eth_account.messages import encode_typed_data

from . import types
from .errors import ElicenseError, InvalidInput, NotAllowed, NotFound
from .registries.sharing import DataSharing, PublishedAsset
from .storage import envelope
from .storage.owners import Owner

READ_FIELDS = [
    {"name": "assetId", "type": "uint64"}, {"name": "version", "type": "uint32"},
    {"name": "notAfter", "type": "uint64"}, {"name": "nonce", "type": "bytes32"},
]
READ_DOMAIN = "elicense DataSharing"
MAX_TTL = 300  # seconds: a read request is usable once, within five minutes


def deploy(chain, owner) -> DataSharing:
    """A data owner's own DataSharing contract (the owner is the deployer)."""
    contract, _ = chain.deploy("DataSharing", [], owner)
    return DataSharing(chain, contract.address)


def is_data_sharing(chain, address: str) -> bool:
    """Whether ``address`` runs this project's DataSharing code (so a gateway never serves for a look-alike)."""
    from . import artifacts

    return artifacts.runs_code(chain, address, "DataSharing")


def share(sharing: DataSharing, owner, storage, data: bytes, data_type: str, readers: dict[str, bytes],
          fee: int = 0) -> PublishedAsset:
    """Seals ``data`` for the owner and ``readers`` (address -> 64-byte public key), stores it off
    chain, publishes CID + SHA-256 on chain and puts the readers on the allow-list."""
    from .crypto import public_key

    sealed = envelope.seal(data, {owner.address: public_key(owner), **readers})
    cid = storage.add(sealed)
    published = sharing.publish(owner, data_type, "sha256", envelope.integrity_hash(sealed), pointer=cid, fee=fee)
    storage.ownership.claim(cid, asset_owner(sharing, published.asset_id), "asset")
    if readers:
        sharing.allow(owner, published.asset_id, list(readers))
    return published


def add_reader(sharing: DataSharing, owner, storage, asset_id: int, reader: str, reader_key: bytes) -> int:
    """Wraps the asset's data key for one more reader (the data is not re-encrypted), stores the new
    envelope, points the asset at it and allows the reader; returns the new version."""
    asset = _asset(sharing, asset_id)
    sealed = envelope.add_reader(storage.get(asset.pointer), owner.key, reader, reader_key)
    cid = storage.add(sealed)
    storage.ownership.claim(cid, asset_owner(sharing, asset_id), "asset")
    version = sharing.update(owner, asset_id, envelope.integrity_hash(sealed), pointer=cid)
    sharing.allow(owner, asset_id, [reader])
    return version


def asset_owner(sharing: DataSharing, asset_id: int) -> Owner:
    """The asset as the store's ownership index names it: only its own files are served under it."""
    return Owner.asset(sharing.chain.chain_id, sharing.address, asset_id)


def typed_read(sharing: DataSharing, asset_id: int, version: int, not_after: int, nonce: bytes) -> dict:
    return sharing.typed_data(READ_DOMAIN, "AssetRead", READ_FIELDS, {
        "assetId": asset_id, "version": version, "notAfter": not_after, "nonce": nonce})


def sign_read(sharing: DataSharing, reader, asset_id: int, *, ttl: int = 60, now: int | None = None) -> dict:
    """A reader's request for the current version of an asset's file, as the gateway takes it."""
    version = _asset(sharing, asset_id).version
    # the gateway judges freshness by the chain's clock, so the request is dated by it too
    not_after = int(now if now is not None else max(sharing.chain.timestamp(), time.time())) + ttl
    nonce = os.urandom(32)
    signed = reader.sign_message(encode_typed_data(full_message=typed_read(sharing, asset_id, version, not_after, nonce)))
    return {"reader": reader.address, "asset_id": asset_id, "version": version, "not_after": not_after,
            "nonce": "0x" + nonce.hex(), "signature": "0x" + bytes(signed.signature).hex()}


def _asset(sharing: DataSharing, asset_id: int):
    asset = sharing.asset(asset_id)
    if asset is None:
        raise NotFound(f"there is no shared data asset {asset_id}")
    return asset


@dataclass(frozen=True)
class LogEntry:
    time: float
    contract: str
    asset_id: int | None
    version: int | None
    reader: str | None
    served: bool
    reason: str
    nonce: str | None


class Gateway:
    """Serves sealed asset files to admitted readers; logs each served and refused read (JSON lines,
    appended and flushed to disk before the answer leaves)."""

    def __init__(self, sharing: DataSharing, storage, log_path: Path | str):
        self.sharing, self.storage, self.log_path = sharing, storage, Path(log_path)
        self._lock = threading.Lock()
        self._used = {e.nonce for e in self.entries() if e.nonce and e.served}  # a served request is spent

    def read(self, request: dict) -> bytes:
        """The sealed file for a signed read request, or an ElicenseError naming why not (logged too)."""
        with self._lock:
            parsed = {}
            try:
                parsed = self._check(request)
                asset = parsed["asset"]
                if not self.storage.ownership.owns(asset_owner(self.sharing, asset.asset_id), asset.pointer):
                    # CIDs are public: a look-alike asset may name anyone's file, fee or no fee
                    raise NotAllowed(f"file {asset.pointer} was not stored for asset {asset.asset_id} of "
                                     f"{self.sharing.address}; a file is served only under the asset that stored it")
                sealed = self.storage.get(asset.pointer)
                if envelope.integrity_hash(sealed) != asset.integrity_hash:
                    raise ElicenseError(f"the stored file of asset {asset.asset_id} does not match the hash on chain")
            except ElicenseError as exc:
                self._log(parsed, request, False, exc.user_message)
                raise
            self._used.add(parsed["nonce"])
            self._log(parsed, request, True, "served")
            return sealed

    def _check(self, request: dict) -> dict:
        try:
            asset_id, version = int(request["asset_id"]), int(request["version"])
            not_after, nonce = int(request["not_after"]), "0x" + types.bytes32(request["nonce"], "nonce").hex()
            signature = bytes.fromhex(str(request["signature"]).removeprefix("0x"))
            claimed = types.address(request["reader"], "reader address")
        except KeyError as exc:
            raise InvalidInput(f"the read request lacks {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"malformed read request: {exc}") from None
        if not (0 <= asset_id < 2**64 and 0 <= version < 2**32 and 0 <= not_after < 2**64):
            raise InvalidInput("malformed read request: a number is out of range")
        parsed = {"asset_id": asset_id, "version": version, "reader": claimed, "nonce": nonce}
        message = typed_read(self.sharing, asset_id, version, not_after, bytes.fromhex(nonce[2:]))
        try:
            signer = Account.recover_message(encode_typed_data(full_message=message), signature=signature)
        except Exception:
            signer = None
        if signer != claimed:
            raise NotAllowed("the read request is not signed by the reader it names")
        now = self.sharing.chain.timestamp()
        if not_after < now:
            raise NotAllowed("the read request has expired; sign a fresh one")
        if not_after > now + MAX_TTL:
            raise InvalidInput(f"the read request is valid for more than {MAX_TTL} s; ask for a shorter window")
        if nonce in self._used:
            raise NotAllowed("this read request was used already (a replay)")
        asset = _asset(self.sharing, asset_id)
        parsed["asset"] = asset
        if asset.status != "active":
            raise NotAllowed(f"asset {asset_id} was withdrawn")
        if version != asset.version:
            raise NotAllowed(f"asset {asset_id} is at version {asset.version}, not {version}")
        if not self.sharing.has_grant(asset_id, claimed, version):
            why = "is not on the allow-list" if not self.sharing.is_allowed(asset_id, claimed) else \
                f"has no recorded access grant for version {version} (request access on chain first)"
            raise NotAllowed(f"{claimed} {why} of asset {asset_id}")
        return parsed

    def _log(self, parsed: dict, request, served: bool, reason: str) -> None:
        reader = parsed.get("reader") or (request.get("reader") if isinstance(request, dict) else None)
        entry = LogEntry(time.time(), self.sharing.address, parsed.get("asset_id"), parsed.get("version"),
                         str(reader) if reader is not None else None, served, reason, parsed.get("nonce"))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(entry), separators=(",", ":")) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def entries(self, asset_id: int | None = None) -> list[LogEntry]:
        if not self.log_path.exists():
            return []
        found = []
        for line in self.log_path.read_text(encoding="utf-8").splitlines():
            try:
                entry = LogEntry(**json.loads(line))
            except (ValueError, TypeError):
                continue  # a line cut short by a crash: the entries before it stand
            if asset_id is None or entry.asset_id == asset_id:
                found.append(entry)
        return found
