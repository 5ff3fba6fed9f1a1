"""The holder's own inspection log (seed 001's Subchain 2): every check of their licences.

Each LicenseRegistry records every inspection, failed ones included, as a ``LicenseChecked`` event
and folds it into the holder's ``accessHead``. This module reads those events over every registry of
the topology, names the inspectors it can, and recomputes each registry's hash chain exactly as
``LicenseRegistry._record`` does:

    entry = keccak256(abi.encode(inspector, licenceId, result, blockNumber))
    head  = keccak256(abi.encode(previousHead, entry))

A missing, added or altered entry breaks the chain at that point, and the check says where. The CLI
(``elicense inspections``), the REST API (``GET /api/holders/{address}/inspections``) and the
tests all call :func:`inspection_log`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_abi import encode
from eth_utils import keccak

from . import types
from .errors import InvalidInput
from .registries.licences import CHECK_RESULTS

ZERO = b"\0" * 32
# LicenseRegistry._record: "who, what, outcome, when" (the only copy of the formula outside the contract)
ENTRY_TYPES = ["address", "bytes32", "uint8", "uint256"]


def entry_hash(inspector: str, licence_id: bytes, result: int, block_number: int) -> bytes:
    return keccak(encode(ENTRY_TYPES, [inspector, bytes(licence_id), result, block_number]))


def next_head(head: bytes, entry: bytes) -> bytes:
    return keccak(encode(["bytes32", "bytes32"], [bytes(head), bytes(entry)]))


def sentence(result: str) -> str:
    """The outcome in plain words, as the holder reads it."""
    from .verify import REASONS

    if result == "valid":
        return "the licence was shown and checked valid"
    return "refused: " + REASONS.get(result, f"outcome {result}")


@dataclass(frozen=True)
class Inspection:
    """One recorded check of a holder's licence."""

    cert_type: int
    registry: str
    chain_id: int
    licence_id: str
    holder: str
    inspector: str
    result: str  # a CheckResult by name (registries.licences.CHECK_RESULTS)
    block_number: int
    log_index: int
    tx_hash: str
    access_head: str  # the head the event reported after this entry
    time: int = 0  # the block's timestamp
    inspector_name: str | None = None
    inspector_role: str | None = None

    @property
    def failed(self) -> bool:
        return self.result != "valid"

    @property
    def sentence(self) -> str:
        return sentence(self.result)

    @property
    def type(self) -> str:
        return types.CERT_TYPE_NAMES.get(self.cert_type, str(self.cert_type))

    def to_json(self) -> dict:
        return {"licence_id": self.licence_id, "cert_type": self.cert_type, "type": self.type,
                "registry": self.registry, "chain_id": self.chain_id, "holder": self.holder,
                "inspector": self.inspector, "inspector_name": self.inspector_name,
                "inspector_role": self.inspector_role, "result": self.result, "sentence": self.sentence,
                "failed": self.failed, "time": self.time, "block_number": self.block_number,
                "log_index": self.log_index, "tx_hash": self.tx_hash, "access_head": self.access_head}


@dataclass(frozen=True)
class ChainCheck:
    """One registry's access chain for the holder, recomputed from its events."""

    cert_type: int
    registry: str
    chain_id: int
    entries: int
    head: str  # holderRecord(holder).accessHead
    verified: bool
    problem: str | None = None  # where the chain breaks, in one sentence

    def to_json(self) -> dict:
        return {"cert_type": self.cert_type, "type": types.CERT_TYPE_NAMES.get(self.cert_type, str(self.cert_type)),
                "registry": self.registry, "chain_id": self.chain_id, "entries": self.entries, "head": self.head,
                "verified": self.verified, "problem": self.problem}


@dataclass(frozen=True)
class InspectionLog:
    holder: str
    total: int
    failed: int  # failed attempts among all entries
    items: list[Inspection] = field(default_factory=list)  # the page asked for, newest first
    chains: list[ChainCheck] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return all(c.verified for c in self.chains)

    def to_json(self) -> dict:
        return {"holder": self.holder, "total": self.total, "failed": self.failed, "verified": self.verified,
                "items": [i.to_json() for i in self.items], "chains": [c.to_json() for c in self.chains]}


def verify_chain(entries: list[Inspection], head: str | bytes) -> tuple[bool, str | None]:
    """Recomputes the chain from ``entries`` (in chain order, one registry) and compares every step
    with the head its event reported and the last with ``head`` (the registry's accessHead).
    Returns (True, None) or (False, the sentence saying where it breaks)."""
    current = ZERO
    for number, e in enumerate(entries, 1):
        current = next_head(current, entry_hash(e.inspector, types.bytes32(e.licence_id),
                                                CHECK_RESULTS.index(e.result), e.block_number))
        if "0x" + current.hex() != e.access_head:
            return False, (f"entry {number} (block {e.block_number}, transaction {e.tx_hash}) does not follow from "
                           f"the entries before it: an entry before it is missing, or this one was altered")
    expected = types.bytes32(head) if isinstance(head, str) else bytes(head)
    if current != expected:
        after = f"after block {entries[-1].block_number}" if entries else "at all"
        return False, (f"the registry's access head is 0x{expected.hex()} but the {len(entries)} entries read give "
                       f"0x{current.hex()}: entries {after} are missing")
    return True, None


def registry_entries(registry, holder: str, from_block: int = 0) -> list[Inspection]:
    """Every LicenseChecked event of ``holder`` in one registry, in chain order."""
    logs = registry.contract.events.LicenseChecked().get_logs(argument_filters={"holder": holder},
                                                              from_block=from_block)
    logs = sorted(logs, key=lambda e: (e["blockNumber"], e["logIndex"]))
    found = []
    for e in logs:
        a = e["args"]
        result = CHECK_RESULTS[a["result"]] if a["result"] < len(CHECK_RESULTS) else str(a["result"])
        found.append(Inspection(
            registry.cert_type, registry.address, registry.chain.chain_id, "0x" + bytes(a["licenceId"]).hex(),
            a["holder"], a["inspector"], result, e["blockNumber"], e["logIndex"],
            "0x" + bytes(e["transactionHash"]).hex().removeprefix("0x"), "0x" + bytes(a["accessHead"]).hex()))
    return found


def inspector_names(client, addresses) -> dict[str, tuple[str | None, str | None]]:
    """address -> (name, role): an agency signer is named by its agency, else a local wallet account
    by its name; the role is the identity registry's."""
    local = {}
    for name in client.wallet.names():
        try:
            local[client.wallet.address(name)] = name
        except Exception:  # an unreadable keystore names no one
            continue
    named = {}
    for address in set(addresses):
        role = client.identities.role(address)
        code = client.issuers.agency_of_signer(address)
        name = f"{client.agency_name(code)} ({code})" if code else local.get(address)
        named[address] = (name, role)
    return named


def inspection_log(client, holder: str, *, offset: int = 0, limit: int | None = None) -> InspectionLog:
    """The holder's inspections over every licence registry of the topology, newest first
    (``offset``/``limit`` page them), with each registry's hash chain verified."""
    holder = types.address(holder, "holder address")
    if offset < 0 or (limit is not None and limit < 1):
        raise InvalidInput("offset is 0 or more and limit 1 or more")
    everything, chains = [], []
    times: dict[tuple[int, int], int] = {}
    for registry in client.registries():
        entries = registry_entries(registry, holder, client.from_block(registry))
        head = registry.holder_record(holder).access_head
        ok, problem = verify_chain(entries, head)
        chains.append(ChainCheck(registry.cert_type, registry.address, registry.chain.chain_id, len(entries), head, ok,
                                 problem))
        for e in entries:
            key = (e.chain_id, e.block_number)
            if key not in times:
                times[key] = registry.chain.timestamp(e.block_number)
            everything.append((times[key], e))
    everything.sort(key=lambda pair: (pair[0], pair[1].chain_id, pair[1].block_number, pair[1].log_index), reverse=True)
    page = everything[offset:None if limit is None else offset + limit]
    names = inspector_names(client, [e.inspector for _, e in page])
    items = [_with(e, time, *names[e.inspector]) for time, e in page]
    return InspectionLog(holder, len(everything), sum(1 for _, e in everything if e.failed), items, chains)


def _with(e: Inspection, time: int, name: str | None, role: str | None) -> Inspection:
    from dataclasses import replace

    return replace(e, time=time, inspector_name=name, inspector_role=role)
