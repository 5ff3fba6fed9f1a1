"""Checkpoints between chains: the roots a relayer signs and the Merkle proofs that use them.

One chain seen as a checkpoint *source* gives, at a block:

* its identity root: every (account, role) registered in its IdentityRegistry up to the block;
* its accreditation root: IssuerRegistry.accreditationLeaves() read at the block;
* its journal root: what it recorded after its previous checkpoint, up to the block: licences
  (kind 1, the licence id), batches (kind 2, keccak256(agency, root): the batch is its agency's) and checkpoints it accepted itself
  (kind 3, their digest), so a record proven on the main chain can be proven one level up too.

All three are OpenZeppelin standard Merkle trees (:mod:`elicense.merkle`), so the contracts verify
the proofs with OpenZeppelin's MerkleProof. Everything is recomputed from the source chain itself
(logs and a view call at the block), so any relayer, inspector or auditor gets the same roots.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from eth_utils import event_abi_to_log_topic, to_checksum_address
from web3.exceptions import Web3Exception

from . import artifacts
from .chain import Chain
from .deployments import Deployment
from .errors import NotFound
from .merkle import StandardMerkleTree
from .registries.anchors import ZERO, AnchorRegistry, Checkpoint
from .registries.licences import batch_key

IDENTITY_LEAF = ["address", "uint8"]
ACCREDITATION_LEAF = ["address", "bytes32", "uint256"]
JOURNAL_LEAF = ["uint8", "address", "bytes32"]
BATCH_LEAF = ["address", "bytes32", "uint40", "uint40", "bytes32"]

KIND_LICENCE, KIND_BATCH, KIND_CHECKPOINT = 1, 2, 3


@lru_cache(maxsize=None)
def event_topic(contract: str, event: str) -> bytes:
    abi = next(e for e in artifacts.load(contract)["abi"] if e.get("type") == "event" and e["name"] == event)
    return event_abi_to_log_topic(abi)


def tree(entries: list, encoding: list[str]) -> StandardMerkleTree | None:
    return StandardMerkleTree(entries, encoding) if entries else None


def root(entries: list, encoding: list[str]) -> bytes:
    """The standard-tree root, or zero for nothing (a checkpoint of a quiet chain)."""
    t = tree(entries, encoding)
    return t.root if t else ZERO


class SourceView:
    """One chain read as a checkpoint source. Past logs never change, so they are cached."""

    def __init__(self, chain: Chain, deployment: Deployment, children: tuple[int, ...] = ()):
        self.chain = chain
        self.deployment = deployment
        # Only checkpoints of chains anchored *into* this one belong in its journal (they go up a
        # level with it); a side chain's copies of main-chain checkpoints do not, or the two chains
        # would checkpoint each other's checkpoints forever.
        self.children = {int(c).to_bytes(32, "big") for c in children}
        self._identities: list[tuple[int, str, int]] = []  # (block, account, role)
        self._identities_to = deployment.block - 1
        self._topics = None

    # ------------------------------------------------------------ identities

    def identities(self, block: int) -> list[tuple[str, int]]:
        if not self.deployment.identity_registry:
            return []
        if block > self._identities_to:
            logs = self.chain.w3.eth.get_logs({
                "fromBlock": self._identities_to + 1, "toBlock": block, "address": self.deployment.identity_registry,
                "topics": [event_topic("IdentityRegistry", "IdentityRegistered")],
            })
            for log in logs:
                account = to_checksum_address(bytes(log["topics"][1])[12:])
                self._identities.append((log["blockNumber"], account, int.from_bytes(bytes(log["topics"][2]), "big")))
            self._identities_to = block
        return [(a, r) for b, a, r in self._identities if b <= block]

    def registration_block(self, account: str) -> int | None:
        self.identities(self.chain.w3.eth.block_number)
        return next((b for b, a, _ in self._identities if a == account), None)

    # ------------------------------------------------------------ accreditation

    def accreditations(self, block: int) -> list[tuple[str, bytes, int]]:
        if not self.deployment.issuer_registry:
            return []
        issuers = self.chain.contract("IssuerRegistry", self.deployment.issuer_registry)
        leaves = self.chain.call(issuers.functions.accreditationLeaves(), block_identifier=block)
        return [(signer, bytes(agency), mask) for signer, agency, mask in leaves]

    # ------------------------------------------------------------ journal

    def _journal_sources(self) -> tuple[list[str], list[bytes]]:
        if self._topics is None:
            self._topics = [
                event_topic("LicenseRegistry", "LicenseIssued"), event_topic("LicenseRegistry", "LicenseBatchIssued"),
                event_topic("AnchorRegistry", "CheckpointAnchored"),
            ]
        addresses = list(self.deployment.licence_registries.values())
        if self.deployment.anchor_registry:
            addresses.append(self.deployment.anchor_registry)
        return addresses, self._topics

    def journal(self, after_block: int, block: int) -> list[tuple[int, str, bytes]]:
        """Journal entries (kind, emitter, subject) recorded in blocks ``after_block`` + 1 .. ``block``."""
        addresses, topics = self._journal_sources()
        if not addresses or block <= after_block:
            return []
        logs = self.chain.w3.eth.get_logs({
            "fromBlock": max(after_block + 1, self.deployment.block), "toBlock": block, "address": addresses,
            "topics": [topics],
        })
        entries = []
        for log in logs:
            topic = bytes(log["topics"][0])
            emitter = to_checksum_address(log["address"])
            if topic == topics[0]:
                entries.append((KIND_LICENCE, emitter, bytes(log["topics"][1])))
            elif topic == topics[1]:  # topics: root, agency
                entries.append((KIND_BATCH, emitter, batch_key(bytes(log["topics"][2]), bytes(log["topics"][1]))))
            elif bytes(log["topics"][1]) in self.children:
                entries.append((KIND_CHECKPOINT, emitter, bytes(log["data"])[160:192]))  # the digest
        return entries

    # ------------------------------------------------------------ checkpoints

    def checkpoint(self, sequence: int, after_block: int, block: int) -> tuple[Checkpoint, int]:
        """The checkpoint of this chain at ``block`` following one at ``after_block``, and its journal size."""
        journal = self.journal(after_block, block)
        block_hash = bytes(self.chain.w3.eth.get_block(block)["hash"])
        checkpoint = Checkpoint(
            self.chain.chain_id, sequence, block, block_hash,
            root(self.identities(block), IDENTITY_LEAF),
            root(self.accreditations(block), ACCREDITATION_LEAF),
            root(journal, JOURNAL_LEAF),
        )
        return checkpoint, len(journal)

    def identity_proof(self, block: int, account: str, role: int) -> list[bytes]:
        t = tree(self.identities(block), IDENTITY_LEAF)
        try:
            return t.proof_for((account, role)) if t else _missing()
        except KeyError:
            raise NotFound(f"{account} is not registered on chain {self.chain.chain_id} at block {block}") from None

    def accreditation_leaf(self, block: int, signer: str) -> tuple[tuple, list[bytes]] | None:
        leaves = self.accreditations(block)
        t = tree(leaves, ACCREDITATION_LEAF)
        for leaf in leaves:
            if leaf[0] == signer:
                return leaf, t.proof_for(leaf)
        return None

    def journal_proof(self, after_block: int, block: int, entry: tuple) -> list[bytes]:
        t = tree(self.journal(after_block, block), JOURNAL_LEAF)
        try:
            return t.proof_for(entry) if t else _missing()
        except KeyError:
            raise NotFound(f"the entry is not in the journal of chain {self.chain.chain_id} "
                           f"between blocks {after_block + 1} and {block}") from None


def view_of(topology, name: str) -> SourceView:
    """Chain ``name`` of ``topology`` as a checkpoint source."""
    children = tuple(e.chain_id for e in topology.chains.values() if e.parent == name)
    return SourceView(topology.chain(name), topology.deployment(name), children)


def _missing():
    raise KeyError("empty tree")


@dataclass(frozen=True)
class Hop:
    """One level of anchoring: a record of ``source`` proven inside a checkpoint on ``destination``."""

    source: str
    destination: str
    sequence: int | None  # None: no checkpoint covers the record yet
    checkpoint_block: int | None
    anchored_at_block: int | None
    valid: bool
    block_hash: bytes | None = None  # what the checkpoint says the source's block hash was


def anchor_path(topology, chain_name: str, kind: int, emitter: str, subject: bytes, block: int,
                views: dict | None = None) -> list[Hop]:
    """Proves a journal entry of ``chain_name`` (recorded at ``block``) up every level of the topology:
    side chain → main chain → higher level, each hop checked by the destination's AnchorRegistry."""
    views = views if views is not None else {}
    hops = []
    name = chain_name
    while (parent := topology.entry(name).parent) is not None:
        source_id = topology.entry(name).chain_id
        anchor = AnchorRegistry(topology.chain(parent), topology.deployment(parent).anchor_registry)
        found, after = anchor.covering(source_id, block)
        if found is None:
            hops.append(Hop(name, parent, None, None, None, False))
            break
        view = views.setdefault(name, view_of(topology, name))
        try:
            proof = view.journal_proof(after, found.block_number, (kind, emitter, subject))
            valid = anchor.verify_journal(source_id, found.sequence, kind, emitter, subject, proof)
        except NotFound:
            valid = False
        hops.append(Hop(name, parent, found.sequence, found.block_number, found.anchored_at_block, valid,
                        found.block_hash))
        if not valid:
            break
        # The acceptance of that checkpoint is itself an entry of the parent's journal.
        kind, emitter, subject, block = KIND_CHECKPOINT, anchor.address, found.digest, found.anchored_at_block
        name = parent
    return hops


# ---------------------------------------------------------------- checking what relayers claimed


def block_hash_at(chain: Chain, number: int) -> bytes | None:
    """The hash of ``chain``'s block ``number`` (one request), or None if it has no such block."""
    response = chain._request("eth_getBlockByNumber", [hex(number), False])
    block = response.get("result")
    return bytes.fromhex(block["hash"][2:]) if isinstance(block, dict) else None


def is_real_block(cache: dict, chain: Chain, number: int, claimed: bytes) -> bool:
    """Whether block ``number`` of ``chain`` has the hash ``claimed``. Only a match is cached, keyed by
    (chain, number, hash): a hash names one block forever, so a later claim of another hash at the
    same number is read again, and a mismatch (a forgery, or a reorg in progress) is never remembered.
    Relayers anchor blocks ``confirmations`` deep, so a matched block is final on a reorg-able chain."""
    key = (chain.chain_id, number, bytes(claimed))
    if key in cache:
        return True
    if block_hash_at(chain, number) != bytes(claimed):
        return False
    cache[key] = True
    return True


def accreditation_root_at(cache: dict, view: SourceView, number: int, block_hash: bytes) -> bytes | None:
    """The accreditation root the source chain's IssuerRegistry gives at a real block (cached by
    (number, hash): state at a block never changes), or None when the node keeps no state that old."""
    key = ("accreditation-root", view.chain.chain_id, number, bytes(block_hash))
    if key not in cache:
        try:
            cache[key] = root(view.accreditations(number), ACCREDITATION_LEAF)
        except (Web3Exception, ValueError):  # a pruned node refuses a historical call, in its own words
            return None
    return cache[key]
