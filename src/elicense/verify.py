"""Verification of a presented licence, one step per check of DESIGN.md, each with a stable code and
a sentence. The CLI, the API and the inspector page all render this same list."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from eth_account import Account
from eth_account.messages import encode_typed_data

from . import types
from .errors import Conflict, ElicenseError, InvalidInput, NotFound
from .anchoring import (BATCH_LEAF, event_topic, KIND_BATCH, KIND_LICENCE, SourceView, accreditation_root_at, anchor_path,
                        is_real_block)
from .batch import batch_args
from .licence import disclosure_hash
from .merkle import StandardMerkleTree
from . import qr
from .presentation import CLOCK_SKEW, Presentation
from .registries.anchors import AnchorRegistry
from .registries.licences import LicenceInfo, LicenceRegistry, batch_key

VALID, INVALID, SKIPPED, ERROR = "valid", "invalid", "skipped", "error"

# Sentences for the on-chain check results; the codes never change.
REASONS = {
    "bad-signature": "the holder's signature does not cover this data: it was forged, or the data was altered after signing",
    "presentation-expired": "the presentation's validity window is over (a screenshot replayed later?)",
    "presentation-replayed": "this presentation was already used in an inspection (a replay)",
    "data-mismatch": "the data shown is not the data the holder signed for",
    "unknown-licence": "the data shown matches no licence issued in this registry",
    "wrong-holder": "the licence was issued to someone else",
    "wrong-issuer": "the licence was issued by another agency",
    "suspended": "the licence is suspended",
    "revoked": "the licence was revoked",
    "renewed": "the licence was replaced by a renewal",
    "expired": "the licence has expired",
    "not-yet-valid": "the licence is not valid yet",
    "record-closed": "the holder's record is closed (final entry)",
}


@dataclass(frozen=True)
class Step:
    name: str
    status: str
    code: str
    reason: str


@dataclass
class Verdict:
    valid: bool = False
    steps: list[Step] = field(default_factory=list)
    result: str | None = None  # the on-chain check result
    tx_hash: str | None = None
    block_number: int | None = None
    fields: dict = field(default_factory=dict)  # what the holder disclosed
    agency: dict | None = None
    holder: str | None = None
    cert_type: int | None = None
    type: str | None = None

    @property
    def failed_step(self) -> Step | None:
        return next((s for s in self.steps if s.status in (INVALID, ERROR)), None)

    def to_json(self) -> dict:
        return asdict(self) | {"failed_step": asdict(self.failed_step) if self.failed_step else None}


def _utc(timestamp: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def anchored_steps(client, registry, kind: int, subject: bytes, block: int) -> list[Step]:
    """One step per level of anchoring above the licence's chain (none on a single chain). Each
    checkpoint's block hash is compared with the source chain's own block at that number, so relayers
    cannot anchor a made-up history."""
    topology = client.topology
    name = client.chain_name(registry.chain)
    if topology.entry(name).parent is None:
        return [Step("anchored", SKIPPED, "single-chain", "the licence lives on the main chain; nothing to anchor")]
    blocks = client._cache.setdefault("real-blocks", {})
    steps = []
    for hop in anchor_path(topology, name, kind, registry.address, subject, block):
        step = "anchored" if not steps else f"anchored-{hop.destination}"
        if hop.sequence is None:
            steps.append(Step(step, SKIPPED, "pending", f"not yet in a checkpoint of {hop.source} on {hop.destination} "
                                                        f"(the relayer carries it with its next round)"))
        elif not hop.valid:
            steps.append(Step(step, INVALID, "not-anchored", f"checkpoint #{hop.sequence} of {hop.source} on "
                                                             f"{hop.destination} does not contain it"))
        elif not is_real_block(blocks, topology.chain(hop.source), hop.checkpoint_block, hop.block_hash):
            steps.append(Step(step, INVALID, "forged-block-hash", f"checkpoint #{hop.sequence} of {hop.source} on "
                                                                  f"{hop.destination} names a block hash that is not "
                                                                  f"{hop.source}'s block {hop.checkpoint_block}: its "
                                                                  f"relayers signed a made-up history"))
        else:
            steps.append(Step(step, VALID, "ok", f"in checkpoint #{hop.sequence} of {hop.source} (block "
                                                 f"{hop.checkpoint_block}, its hash checked on {hop.source}), anchored "
                                                 f"on {hop.destination} in block {hop.anchored_at_block}; Merkle proof "
                                                 f"checked there"))
    return steps


def _issuance_sender(chain, registry_address: str, kind: int, topics: list[bytes], block: int) -> str | None:
    """The account that sent the transaction recording a licence (``topics``: its id) or a batch (its root
    and agency) in ``block``: the signer the licence registry asked its mirror about. Two raw requests."""
    event = "LicenseIssued" if kind == KIND_LICENCE else "LicenseBatchIssued"
    topic = "0x" + event_topic("LicenseRegistry", event).hex()
    logs = chain._request("eth_getLogs", [{"fromBlock": hex(block), "toBlock": hex(block), "address": registry_address,
                                           "topics": [topic, *("0x" + bytes(t).hex() for t in topics)]}]
                          ).get("result") or []
    if not logs:
        return None
    tx = chain._request("eth_getTransactionByHash", [logs[0]["transactionHash"]]).get("result")
    return types.address(tx["from"]) if isinstance(tx, dict) else None


def main_chain_steps(client, registry, info, kind: int, topics: list[bytes], block: int) -> list[Step]:
    """On a side chain, what its licence registry took from the RegistryMirror (whose roots only the
    relayers vouch for), checked against the main chain itself:

    * ``issuer-signer``: the account that sent the issuing transaction is, in the main chain's
      IssuerRegistry, a signer of the agency the licence names. Signer sets have no history there
      because they need none: an agency's signers are fixed when it is added and a signer can never
      join another agency, so membership now is membership at issuance, given (step ``issuer``) that
      the agency was accredited then;
    * ``mirror-checkpoint``: each main-chain checkpoint the mirror could have relied on when the
      licence was issued names a real main-chain block, and its accreditation root is the one the
      main chain's IssuerRegistry gives at that block.

    Nothing on the main chain itself, whose licence registries ask the IssuerRegistry directly."""
    if client.on_main_chain(registry):
        return []
    cache = client._cache.setdefault("real-blocks", {})
    agency = info.agency
    side = client.chain_name(registry.chain)
    sender = _issuance_sender(registry.chain, registry.address, kind, topics, block)
    signs_for = client.issuers.agency_of_signer(sender) if sender else None
    if sender is None:
        steps = [Step("issuer-signer", INVALID, "unknown-issuance", f"no transaction in {side} block {block} issued it")]
    elif signs_for != agency:
        steps = [Step("issuer-signer", INVALID, "signer-not-of-agency",
                      f"{sender}, who issued it on the {side} chain, is not a signer of {agency} on the main chain "
                      f"(it signs for {signs_for or 'no agency'}): the side chain's copy of the main chain was forged")]
    else:
        steps = [Step("issuer-signer", VALID, "ok", f"issued by {sender}, a signer of {agency} on the main chain")]

    main = client.chain
    anchor = AnchorRegistry(registry.chain, client.topology.deployment(side).anchor_registry)
    last = anchor.latest_sequence(main.chain_id, block)
    if last == 0:
        return steps + [Step("mirror-checkpoint", INVALID, "no-checkpoint",
                             f"no main-chain checkpoint was anchored on the {side} chain when it was issued")]
    if "main" not in client._cache:
        client._cache["main"] = SourceView(main, client.deployment)
    # The latest checkpoint at the end of the issuance block, and those anchored earlier in that same
    # block: the issuance may have come before them (the mirror compares with the latest root).
    unchecked, sequence, first = [], last, last
    while sequence >= 1:
        c = anchor.checkpoint(main.chain_id, sequence)
        first = sequence
        if not is_real_block(cache, main, c.block_number, c.block_hash):
            return steps + [Step("mirror-checkpoint", INVALID, "forged-block-hash",
                                 f"main-chain checkpoint #{sequence} on the {side} chain names a block hash that is "
                                 f"not the main chain's block {c.block_number}: its relayers signed a made-up block")]
        real_root = accreditation_root_at(cache, client._cache["main"], c.block_number, c.block_hash)
        if real_root is None:
            unchecked.append(sequence)
        elif real_root != c.accreditation_root:
            return steps + [Step("mirror-checkpoint", INVALID, "forged-accreditation-root",
                                 f"main-chain checkpoint #{sequence} on the {side} chain carries an accreditation root "
                                 f"the main chain did not have at block {c.block_number}: its relayers forged it")]
        if c.anchored_at_block < block:
            break
        sequence -= 1
    which = f"#{first}" if first == last else f"#{first} to #{last}"
    if unchecked:  # a pruned main-chain node: the block is real, the root could not be recomputed
        return steps + [Step("mirror-checkpoint", VALID, "root-unchecked",
                             f"main-chain checkpoint {which} names a real main-chain block; the main-chain node keeps "
                             f"no state that old to recompute its accreditation root")]
    return steps + [Step("mirror-checkpoint", VALID, "ok",
                         f"the {side} chain relied on main-chain checkpoint {which}: a real main-chain block, with "
                         f"the accreditation root the main chain had there")]


def _batch(client, registry, batch: dict, data_hash: bytes) -> dict | None:
    """The batch a presented leaf belongs to, checked here: its data hash is the presented data's, its
    proof leads to the root of a batch the named agency issued in this registry. None if any of that
    fails (then: unknown licence)."""
    agency, root, leaf, proof = batch_args(batch)
    issued = registry.batch(agency, root)
    if issued is None or leaf[1] != data_hash or not StandardMerkleTree.verify(root, BATCH_LEAF, leaf, proof):
        return None
    status = registry.unclaimed_status(leaf[0], leaf[2], leaf[3])
    licence_id = "0x" + registry.licence_id_of(agency, data_hash).hex()
    info = LicenceInfo(licence_id, leaf[0], issued.agency, leaf[2], leaf[3], status)
    return {"root": root, "key": batch_key(agency, root), "topics": [root, agency], "block": issued.issued_block,
            "info": info}


def licence_agency(info) -> bytes:
    """The organisation code to check a licence against when the inspector names none: its own."""
    return types.org_code(info.agency) if info is not None else bytes(32)


def presented_licence(client, registry, p: Presentation, data_hash: bytes):
    """The licence a presentation shows (the one the holder signed for): stored on chain, or (not yet
    claimed) proven in a batch."""
    info = registry.licence(types.bytes32(p.licence_id))
    if info is None and p.batch is not None:
        found = _batch(client, registry, p.batch, data_hash)
        info = found["info"] if found and found["info"].licence_id == p.licence_id.lower() else None
    return info


def record_inspection(client, p: Presentation, holder: str, agency_code: bytes, data_hash: bytes):
    """API 3 on chain: the inspector's ``check`` transaction, which appends the outcome (failed ones
    too) to the holder's access log. Returns (result code, transaction)."""
    registry = client.registry_at(p.chain_id, p.registry)
    late = int(time.time()) - p.not_after
    if late > CLOCK_SKEW and registry.chain.timestamp() <= p.not_after:  # a chain that lags would record it valid
        raise Conflict(f"the presentation expired {late} s ago by this verifier's clock, but the chain's latest block "
                       f"is older and would accept it: not recorded; ask the holder for a new code")
    inspector = client._signer()
    client.ensure_mirrored(registry, identities=[(inspector.address, "inspector")])
    signature = bytes.fromhex(p.signature.removeprefix("0x"))
    if p.batch is not None:
        batch_agency, root, leaf, proof = batch_args(p.batch)
        client.ensure_mirrored(registry, identities=[(leaf[0], "holder")])
        result, _, tx = registry.check_batched(inspector, holder, agency_code, batch_agency, root, leaf, proof,
                                               p.signed_tuple(), signature)
    else:
        result, _, tx = registry.check(inspector, holder, agency_code, data_hash, p.signed_tuple(), signature)
    return result, tx


def record_presented(client, presentation, org_code: str | None = None):
    """API 3 on its own, as the REST API's inspector does it after showing the verdict: records the
    inspection of a presentation (QR text, JSON or object), checked against ``org_code`` or else
    the licence's own agency."""
    p, _ = parse(client, presentation)
    registry = client.registry_at(p.chain_id, p.registry)
    if registry is None:
        raise InvalidInput(f"the presentation is for chain {p.chain_id}, which has no such licence registry here")
    data_hash, _ = disclosure_hash(p.disclosure)
    agency = types.org_code(org_code) if org_code is not None else licence_agency(
        presented_licence(client, registry, p, data_hash))
    return record_inspection(client, p, p.holder, agency, data_hash)


def parse(client, presentation) -> tuple[Presentation, int | None]:
    """A presentation from a QR text (``EL1:…``), JSON text, a dict or an object; with the block that
    issued it when the QR code says so."""
    if isinstance(presentation, Presentation):
        return presentation, None
    if qr.is_compact(presentation):
        p, ref = qr.decode(presentation, lambda *args: _resolve(client, *args))
        return p, ref.get("block")
    if isinstance(presentation, bytes):
        presentation = presentation.decode("utf-8", "replace")
    if isinstance(presentation, str) and not presentation.strip().startswith("{"):
        raise InvalidInput("this is not an elicense presentation: it starts neither with EL1: (a QR code) "
                           "nor with { (JSON)")
    return Presentation.parse(presentation), None


def _resolve(client, chain_id: int, cert_type: int, ref: dict, data_hash: bytes, holder: str):
    """What a QR code leaves out: the registry of its type on its chain, and the licences it may mean
    (issuing agency, and for a batched licence its leaf and proof from the batch's bundle)."""
    topology = client.topology
    name = topology.name_of_chain_id(chain_id)
    deployment = topology.entry(name).deployment if name else None
    address = deployment.licence_registries.get(cert_type) if deployment else None
    if address is None:
        return None, ()
    return address, _candidates(client, LicenceRegistry(topology.chain(name), address, cert_type), ref, data_hash,
                                holder)


def _candidates(client, registry, ref: dict, data_hash: bytes, holder: str):
    """(agency, batch or None) pairs, lazily: first the issuances the reference names (the block's
    licences of this holder and data, or every batch under the root: another agency may have copied
    it), then every agency of the type, so that a wrong reference is still reported as such (the
    holder's signature, over an id that binds the agency, picks the right one)."""
    seen = set()

    unknown = {"root": ref.get("root"), "proof": [],  # a leaf no batch holds: checked later, "unknown licence"
               "leaf": [types.ZERO_ADDRESS, "0x" + data_hash.hex(), 0, 0, "0x" + "00" * 32]}

    def entry(agency: str) -> dict:
        return client.batch_entry(registry, agency, ref["root"], data_hash) or {**unknown, "agency": agency}

    if "block" in ref:
        if ref["block"] <= registry.chain.w3.eth.block_number:
            for issued in registry.issued_in_block(ref["block"], holder):
                if issued.data_hash == "0x" + data_hash.hex() and issued.agency not in seen:
                    seen.add(issued.agency)
                    yield issued.agency, None
    else:
        for issued in registry.batches_with_root(types.bytes32(ref["root"]), client.from_block(registry)):
            if issued.agency not in seen:
                seen.add(issued.agency)
                yield issued.agency, entry(issued.agency)
    for code in client.issuers.codes_with_type(registry.cert_type, client.deployment.block):
        if code not in seen:  # no batch of this agency has the root: the placeholder is what there is
            yield code, None if "block" in ref else {**unknown, "agency": code}


def verify(client, presentation, *, holder: str | None = None, org_code: str | None = None,
           record: bool = True) -> Verdict:
    """The verdict on a presentation; ``holder`` and ``org_code`` are what the inspector expects (by
    default: whoever signed it, whichever agency issued it)."""
    verdict = Verdict()
    steps = verdict.steps

    def fail(name, code, reason) -> Verdict:
        steps.append(Step(name, INVALID, code, reason))
        return verdict

    # 1. format: a well-formed presentation for this chain and one of its licence registries
    try:
        p, issued_block = parse(client, presentation)
        holder = p.holder if holder is None else types.address(holder, "holder address")
        agency_code = None if org_code is None else types.org_code(org_code)
    except InvalidInput as exc:
        return fail("format", "malformed", exc.user_message)
    verdict.holder = p.holder
    if client.topology.name_of_chain_id(p.chain_id) is None:
        return fail("format", "foreign-chain", f"the presentation is for chain {p.chain_id}, which is not part of this topology")
    registry = client.registry_at(p.chain_id, p.registry)
    if registry is None:
        return fail("format", "unknown-registry", f"{p.registry} is not a licence registry of this deployment")
    verdict.cert_type, verdict.type = registry.cert_type, types.CERT_TYPE_NAMES.get(registry.cert_type)
    if p.holder != holder:
        return fail("format", "wrong-holder", f"the presentation is by {p.holder}, not by the holder {holder}")
    try:
        data_hash, shown = disclosure_hash(p.disclosure)
    except InvalidInput as exc:
        return fail("format", "malformed", exc.user_message)
    if int(p.disclosure["type"]) != registry.cert_type:
        return fail("format", "malformed", "the disclosure's certificate type is not the registry's")
    verdict.fields = shown
    steps.append(Step("format", VALID, "ok", f"{types.CERT_TYPE_NAMES.get(registry.cert_type)} licence presentation"))

    # 2. holder signature and freshness, by this verifier's own clock: the latest block's timestamp lags
    # on a quiet chain (the chain enforces its own clock too when the inspection is recorded)
    licence_id, disclosure, not_after, nonce = p.signed_tuple()
    now = int(time.time())
    message = registry.typed_presentation(licence_id, disclosure, not_after, nonce)
    try:
        signer = Account.recover_message(encode_typed_data(full_message=message), signature=p.signature)
    except Exception:
        signer = None
    if signer != holder:
        steps.append(Step("holder-signature", INVALID, "bad-signature", REASONS["bad-signature"]))
    elif not_after + CLOCK_SKEW < now:
        steps.append(Step("holder-signature", INVALID, "presentation-expired", REASONS["presentation-expired"]
                          + f" (expired {now - not_after} s ago by this verifier's clock)"))
    elif client.chain.call(registry.contract.functions.presentationUsed(
            registry.presentation_digest(licence_id, disclosure, not_after, nonce))):
        steps.append(Step("holder-signature", INVALID, "presentation-replayed", REASONS["presentation-replayed"]))
    else:
        steps.append(Step("holder-signature", VALID, "ok", f"signed by the holder, usable for {max(not_after - now, 0)} s more"))

    # 3. data matches what was issued: the licence the holder signed for, whose id the data (with the
    # agency that issued it) gives
    info = registry.licence(licence_id)
    batch = None
    if p.batch is not None:  # a licence of a batch: the Merkle proof stands in for the stored record
        batch = _batch(client, registry, p.batch, data_hash)
        if batch is not None and types.bytes32(batch["info"].licence_id) != licence_id:
            batch = None  # another agency's batch: not the licence the holder signed for
        if batch is not None and info is None:
            info = batch["info"]
    if info is None:
        steps.append(Step("data", INVALID, "unknown-licence", REASONS["unknown-licence"]))
    elif registry.licence_id_of(info.agency, data_hash) != licence_id:
        steps.append(Step("data", INVALID, "data-mismatch", REASONS["data-mismatch"]))
    elif info.holder != holder:
        steps.append(Step("data", INVALID, "wrong-holder", REASONS["wrong-holder"]))
    else:
        steps.append(Step("data", VALID, "ok", f"{len(shown)} field(s) shown match the hash issued on chain"))

    # 4. status
    if info is not None:
        code = info.status
        if code == "active":
            steps.append(Step("status", VALID, "ok", "the licence is active"))
        else:
            steps.append(Step("status", INVALID, code, REASONS.get(code, f"the licence is {code}")))

        # 5. issuer accredited for the type at issuance, up its authority chain
        if batch is not None:
            issued_block, anchor_kind, anchor_subject = batch["block"], KIND_BATCH, batch["key"]
            event_topics = batch["topics"]  # LicenseBatchIssued(root, agency)
        else:
            try:
                issued_block = client.find_issuance(registry, info.licence_id, issued_block).block_number
            except NotFound:  # only with a QR code's block number: a full search always finds it
                where = f"block {issued_block}" if issued_block is not None else "the batch it names"
                steps.append(Step("issuer", INVALID, "unknown-issuance",
                                  f"{where}, named by the presentation, did not issue this licence"))
                return verdict
            anchor_kind, anchor_subject = KIND_LICENCE, types.bytes32(info.licence_id)
            event_topics = [anchor_subject]  # LicenseIssued(licenceId)
        name = client.agency_name(info.agency)
        verdict.agency = {"code": info.agency, "name": name}
        label = f"{name} ({info.agency})" if name else info.agency
        if client.on_main_chain(registry):
            accredited = client.issuers.was_accredited_at_block(info.agency, registry.cert_type, issued_block)
            when = f"block {issued_block}"
        else:  # another chain's block numbers mean nothing here: compare by time
            issued_at = registry.chain.timestamp(issued_block)
            accredited = client.issuers.was_accredited_at_time(info.agency, registry.cert_type, issued_at)
            when = f"{_utc(issued_at)} (side-chain block {issued_block})"
        if agency_code is not None and info.agency != types.code_text(agency_code):
            steps.append(Step("issuer", INVALID, "wrong-issuer", f"issued by {label}, not by {org_code}"))
        elif not accredited:
            steps.append(Step("issuer", INVALID, "not-accredited", f"{label} was not accredited at issuance"))
        else:
            steps.append(Step("issuer", VALID, "ok", f"issued by {label}, accredited at {when}"))

        # 5b. on a side chain: what its mirror said, checked on the main chain
        steps.extend(main_chain_steps(client, registry, info, anchor_kind, event_topics, issued_block))

        # 6. anchoring: the issuance is inside checkpoints anchored on the main chain (and above)
        steps.extend(anchored_steps(client, registry, anchor_kind, anchor_subject, issued_block))
    else:
        steps.append(Step("anchored", SKIPPED, "no-licence", "nothing to anchor"))

    # 7. the inspection recorded in the holder's access log
    if record:  # failed inspections too: the holder's access log keeps every attempt
        expected = agency_code or licence_agency(info)
        try:
            result, tx = record_inspection(client, p, holder, expected, data_hash)
        except ElicenseError as exc:
            steps.append(Step("recorded", ERROR, getattr(exc, "contract_error", exc.code), exc.user_message))
        else:
            verdict.result, verdict.tx_hash, verdict.block_number = result, tx.tx_hash, tx.block_number
            if result == "valid":
                steps.append(Step("recorded", VALID, "ok", f"inspection recorded in block {tx.block_number}"))
            else:
                steps.append(Step("recorded", INVALID, result, f"recorded as failed: {REASONS.get(result, result)}"))
    else:
        steps.append(Step("recorded", SKIPPED, "not-recorded", "the inspection was not recorded"))

    verdict.valid = all(s.status in (VALID, SKIPPED) for s in steps) and any(s.name == "status" for s in steps)
    return verdict
