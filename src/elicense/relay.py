"""The relayer: watches every chain of a topology, signs checkpoints and submits them.

Crash safety comes from keeping no state of its own: on every round it reads, on each destination
chain, the last checkpoint accepted from each source and builds the next one from there. Killed at
any point and restarted, it resumes where the chains say it is:

* killed before submitting: nothing happened; the next round builds the checkpoint again;
* killed after submitting: the transaction is mined (or still pending, which the next round waits
  out before reading) and the next round starts after it;
* another relayer got there first: the contract refuses a replayed or out-of-order sequence before
  anything is sent (gas estimation runs the call), and the round moves on.

Checkpoints are contiguous (sequence n covers the blocks after n-1 up to its own), so nothing
recorded on a source chain is ever skipped.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError
from rich.console import Console

from .anchoring import view_of
from . import types
from .errors import ElicenseError, InvalidInput, NotAllowed, NodeUnreachable
from .registries.anchors import ZERO, AnchorRegistry

# Refusals that mean "someone already did it": another relayer, or ourselves before a restart.
ALREADY_DONE = {"AnchorCheckpointReplayed", "AnchorCheckpointOutOfOrder", "AnchorCheckpointStale"}


@dataclass(frozen=True)
class Submitted:
    source: str
    destination: str
    sequence: int
    block_number: int
    entries: int
    tx_hash: str
    gas_used: int
    seconds: float


class Relayer:
    """Relays every (source → destination) pair of a topology with a set of relayer keys."""

    def __init__(self, topology, keys: list[LocalAccount], *, submitter: LocalAccount | None = None,
                 confirmations: int = 0, console: Console | None = None, settle_timeout: float = 60.0):
        if not keys:
            raise NotAllowed("the relayer needs at least one relayer key")
        self.topology = topology
        self.keys = keys
        self.submitter = submitter or keys[0]
        self.confirmations = confirmations
        self.console = console
        self.settle_timeout = settle_timeout
        self.views = {name: view_of(topology, name) for name in topology.chains}
        self.submitted: list[Submitted] = []
        self._anchors = {}
        self._check_keys()

    def _anchor(self, name: str) -> AnchorRegistry:
        if name not in self._anchors:
            self._anchors[name] = AnchorRegistry(self.topology.chain(name), self.topology.deployment(name).anchor_registry)
        return self._anchors[name]

    def _check_keys(self) -> None:
        mine = {k.address for k in self.keys}
        for source, destination in self.topology.relays:
            source_id = self.topology.entry(source).chain_id
            anchor = self._anchor(destination)
            relayers = set(anchor.relayers(source_id))
            have = len(mine & relayers)
            needed = anchor.threshold(source_id)
            if have < needed:
                raise NotAllowed(
                    f"these keys are {have} of the relayers of {source} on {destination}; {needed} signatures are needed"
                )

    # ------------------------------------------------------------------ one round

    def step(self) -> list[Submitted]:
        """One pass over every relay; returns the checkpoints it got accepted."""
        done = []
        # Sources in topology order: side chains first, so their checkpoints reach the main chain's
        # journal before the main chain's own checkpoint goes up a level in the same round.
        for source, destination in sorted(self.topology.relays, key=self._order):
            result = self._relay(source, destination)
            if result is not None:
                done.append(result)
        return done

    def _order(self, relay: tuple[str, str]) -> int:
        source, destination = relay
        if self.topology.entry(source).parent == destination and source != self.topology.main:
            return 0  # side → main
        return 1 if destination != self.topology.entry(self.topology.main).parent else 2

    def _relay(self, source: str, destination: str) -> Submitted | None:
        started = time.monotonic()
        anchor = self._anchor(destination)
        self._settle(anchor.chain)
        source_chain = self.topology.chain(source)
        latest = anchor.latest(source_chain.chain_id)
        sequence = latest.sequence + 1 if latest else 1
        after = latest.block_number if latest else 0
        head = source_chain.w3.eth.block_number - self.confirmations
        if head <= after:
            return None
        checkpoint, entries = self.views[source].checkpoint(sequence, after, head)
        upward = self.topology.entry(source).parent == destination
        if latest is not None and (checkpoint.journal_root == ZERO or not upward) and (
            checkpoint.identity_root, checkpoint.accreditation_root
        ) == (latest.identity_root, latest.accreditation_root):
            return None  # nothing the destination needs: no checkpoint, no gas
        # The set may have changed since start (relayers replace it themselves): sign only with current members.
        current = set(anchor.relayers(source_chain.chain_id))
        keys = [k for k in self.keys if k.address in current]
        needed = anchor.threshold(source_chain.chain_id)
        if len(keys) < needed:
            self._say(f"[yellow]{source} → {destination}: these keys are {len(keys)} of its relayers now; "
                      f"{needed} signatures are needed[/]")
            return None
        signatures = anchor.sign(keys, checkpoint)[:needed]
        try:
            tx = anchor.submit(self.submitter, checkpoint, signatures)
        except ElicenseError as exc:
            if getattr(exc, "contract_error", None) in ALREADY_DONE:
                self._say(f"[dim]{source} → {destination}: #{sequence} already anchored by another relayer[/]")
                return None
            raise
        result = Submitted(source, destination, sequence, head, entries, tx.tx_hash, tx.gas_used,
                           time.monotonic() - started)
        self.submitted.append(result)
        self._say(f"{source} → {destination}: checkpoint #{sequence} at block {head} ({entries} journal entries, "
                  f"{tx.gas_used:,} gas)")
        return result

    def _settle(self, chain) -> None:
        """Waits until no transaction of ours is pending there, so what we read is what we sent."""
        deadline = time.monotonic() + self.settle_timeout
        address = self.submitter.address
        while chain.w3.eth.get_transaction_count(address, "pending") != chain.w3.eth.get_transaction_count(address, "latest"):
            if time.monotonic() > deadline:
                raise NodeUnreachable(f"a relayer transaction on chain {chain.chain_id} stays pending")
            time.sleep(0.1)
        chain.forget_nonce(address)  # re-read after a restart or another process

    # ------------------------------------------------------------------ loop

    def run(self, interval: float = 2.0, stop: threading.Event | None = None, rounds: int | None = None) -> None:
        """Relays every ``interval`` seconds until ``stop`` is set or ``rounds`` have run."""
        stop = stop or threading.Event()
        done = 0
        while not stop.is_set() and (rounds is None or done < rounds):
            began = time.monotonic()
            try:
                self.step()
            except NodeUnreachable as exc:
                self._say(f"[yellow]{exc.user_message}; retrying[/]")
            done += 1
            stop.wait(max(0.0, interval - (time.monotonic() - began)))

    def _say(self, text: str) -> None:
        if self.console is not None:
            self.console.print(text)


# ---------------------------------------------------------------------- relayer sets


def relayer_change(topology, source: str, destination: str, new_set: list[str], keys: list[LocalAccount],
                   signatures: list[bytes] = (), submitter: LocalAccount | None = None):
    """Replaces the relayers that anchor ``source`` on ``destination`` by ``new_set``: ``keys`` (current
    relayers held here) sign the change at the set's current epoch, ``signatures`` are those collected
    from the others. With a ``submitter`` (anyone: it only pays the gas) the change is sent once more
    than half of the current relayers signed; without one, returns the signatures to hand on."""
    anchor = AnchorRegistry(topology.chain(destination), topology.deployment(destination).anchor_registry)
    source_id = topology.entry(source).chain_id
    new_set = [types.address(a, "relayer address") for a in new_set]
    if not new_set:
        raise InvalidInput("the new relayer set needs at least one address: pass --relayer ADDRESS")
    epoch = anchor.relayer_epoch(source_id)
    signable = encode_typed_data(full_message=anchor.typed_relayer_change(source_id, epoch, new_set))
    by_signer = {}
    for signature in signatures:
        try:
            by_signer[Account.recover_message(signable, signature=signature)] = bytes(signature)
        except (BadSignature, ValidationError, ValueError):
            raise InvalidInput(f"signature 0x{bytes(signature).hex()[:16]}… is not a 65-byte signature") from None
    for key in keys:
        by_signer[key.address] = bytes(key.sign_message(signable).signature)
    ordered = [by_signer[a] for a in sorted(by_signer, key=lambda a: int(a, 16))]  # the contract's order
    if submitter is None:
        return ordered
    return anchor.change_relayers(submitter, source_id, new_set, ordered, epoch)
