from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak

from .. import types
from ..chain import TxResult
from ._base import EIP712_DOMAIN, Wrapper, typed_digest

PRESENTATION_FIELDS = [
    {"name": "licenceId", "type": "bytes32"}, {"name": "disclosure", "type": "bytes32"},
    {"name": "notAfter", "type": "uint64"}, {"name": "nonce", "type": "bytes32"},
]

CHECK_RESULTS = [
    "valid", "bad-signature", "presentation-expired", "presentation-replayed", "data-mismatch", "unknown-licence",
    "wrong-holder", "wrong-issuer", "suspended", "revoked", "renewed", "expired", "not-yet-valid", "record-closed",
]


@dataclass(frozen=True)
class IssuedLicence:
    licence_id: str
    holder: str
    agency: str
    data_hash: str
    previous: str | None
    valid_from: int
    valid_until: int
    record_head: str
    ciphertext: bytes
    tx_hash: str
    block_number: int
    gas_used: int = 0


@dataclass(frozen=True)
class BatchInfo:
    root: str
    agency: str
    count: int
    issued_at: int
    issued_block: int


@dataclass(frozen=True)
class IssuedBatch:
    root: str
    agency: str
    count: int
    bundle_hash: bytes
    tx_hash: str
    block_number: int
    gas_used: int = 0


@dataclass(frozen=True)
class LicenceInfo:
    licence_id: str
    holder: str
    agency: str
    valid_from: int
    valid_until: int
    status: str


@dataclass(frozen=True)
class HolderRecord:
    record_head: str
    access_head: str
    closed_at: int
    close_reason: int


def licence_id(chain_id: int, registry: str, agency: str | bytes, data_hash: bytes) -> bytes:
    """keccak256(abi.encode(chainid, registry, agency, dataHash)): a licence is its agency's, so the same
    data hash issued by another agency is another licence (it can neither block nor capture this one)."""
    code = types.org_code(agency) if isinstance(agency, str) else bytes(agency)
    return keccak(encode(["uint256", "address", "bytes32", "bytes32"], [chain_id, registry, code, bytes(data_hash)]))


def batch_key(agency: str | bytes, root: bytes) -> bytes:
    """keccak256(abi.encode(agency, root)): a batch as the chain knows it (its journal subject)."""
    code = types.org_code(agency) if isinstance(agency, str) else bytes(agency)
    return keccak(code + bytes(root))


def typed_presentation(chain_id: int, registry: str, licence_id: bytes, disclosure: bytes, not_after: int,
                       nonce: bytes) -> dict:
    """The EIP-712 message a holder signs, for the registry at ``registry`` on chain ``chain_id``."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN, "Presentation": PRESENTATION_FIELDS},
        "primaryType": "Presentation",
        "domain": {"name": "elicense LicenseRegistry", "version": "1", "chainId": chain_id,
                   "verifyingContract": registry},
        "message": {"licenceId": licence_id, "disclosure": disclosure, "notAfter": not_after, "nonce": nonce},
    }


class LicenceRegistry(Wrapper):
    name = "LicenseRegistry"

    def __init__(self, chain, address: str, cert_type: int):
        super().__init__(chain, address)
        self.cert_type = cert_type

    # changes ----------------------------------------------------------------------
    def issue(self, account, holder: str, data_hash: bytes, valid_from: int, valid_until: int, ciphertext: bytes):
        fn = self.contract.functions.issue(holder, data_hash, valid_from, valid_until, ciphertext)
        return self._issued(self.chain.send(fn, account))

    def renew(self, account, previous: bytes, data_hash: bytes, valid_from: int, valid_until: int, ciphertext: bytes):
        fn = self.contract.functions.renew(previous, data_hash, valid_from, valid_until, ciphertext)
        return self._issued(self.chain.send(fn, account))

    def issue_batch(self, account, root: bytes, count: int, bundle_hash: bytes) -> IssuedBatch:
        tx = self.chain.send(self.contract.functions.issueBatch(root, count, bundle_hash), account)
        return self.batch_from_event(self.events(tx, "LicenseBatchIssued")[0], tx.gas_used)

    def claim(self, account, agency: bytes, root: bytes, leaf: tuple, proof: list[bytes]) -> TxResult:
        """Claims a leaf of the batch ``agency`` issued under ``root`` (the licence is that agency's)."""
        return self.chain.send(self.contract.functions.claim(agency, root, leaf, proof), account)

    @staticmethod
    def batch_from_event(event, gas_used: int = 0) -> IssuedBatch:
        a = event["args"]
        return IssuedBatch("0x" + a["root"].hex(), types.code_text(a["agency"]), a["count"], bytes(a["bundleHash"]),
                           "0x" + event["transactionHash"].hex().removeprefix("0x"), event["blockNumber"], gas_used)

    def batches(self, from_block: int = 0) -> list[IssuedBatch]:
        logs = self.contract.events.LicenseBatchIssued().get_logs(from_block=from_block)
        return [self.batch_from_event(e) for e in logs]

    def batches_with_root(self, root: bytes, from_block: int = 0) -> list[IssuedBatch]:
        """Every batch issued under ``root``, by whichever agency (a copy by another agency is its own batch)."""
        logs = self.contract.events.LicenseBatchIssued().get_logs(argument_filters={"root": bytes(root)},
                                                                  from_block=from_block)
        return [self.batch_from_event(e) for e in logs]

    def batch(self, agency: str | bytes, root: bytes) -> BatchInfo | None:
        """The batch ``agency`` issued under ``root``, or None."""
        code = types.org_code(agency) if isinstance(agency, str) else bytes(agency)
        agency, count, issued_at, issued_block = self.chain.call(self.contract.functions.batch(code, root))
        if count == 0:
            return None
        return BatchInfo("0x" + bytes(root).hex(), types.code_text(agency), count, issued_at, issued_block)

    def suspend(self, account, licence_id: bytes, reason: int = 0) -> TxResult:
        return self.chain.send(self.contract.functions.suspend(licence_id, reason), account)

    def reinstate(self, account, licence_id: bytes) -> TxResult:
        return self.chain.send(self.contract.functions.reinstate(licence_id), account)

    def revoke(self, account, licence_id: bytes, reason: int = 0) -> TxResult:
        return self.chain.send(self.contract.functions.revoke(licence_id, reason), account)

    def close_record(self, account, holder: str, reason: int, evidence: bytes = b"\0" * 32) -> TxResult:
        return self.chain.send(self.contract.functions.closeRecord(holder, reason, evidence), account)

    def authorise_inspector(self, account, inspector: str) -> TxResult:
        return self.chain.send(self.contract.functions.authoriseInspector(inspector), account)

    def deauthorise_inspector(self, account, inspector: str) -> TxResult:
        return self.chain.send(self.contract.functions.deauthoriseInspector(inspector), account)

    def inspector_agency(self, inspector: str) -> str | None:
        """The agency that authorised ``inspector`` here and answers for it (None: not authorised)."""
        return types.code_text(self.chain.call(self.contract.functions.inspectorAgency(inspector))) or None

    def check(self, account, holder: str, agency: bytes, data_hash: bytes, presentation: tuple, signature: bytes):
        fn = self.contract.functions.check(holder, agency, data_hash, presentation, signature)
        tx = self.chain.send(fn, account)
        event = self.events(tx, "LicenseChecked")[0]["args"]
        return CHECK_RESULTS[event["result"]], "0x" + event["accessHead"].hex(), tx

    def check_batched(self, account, holder: str, agency: bytes, batch_agency: bytes, root: bytes, leaf: tuple,
                      proof: list[bytes], presentation: tuple, signature: bytes):
        fn = self.contract.functions.checkBatched(holder, agency, batch_agency, root, leaf, proof, presentation, signature)
        tx = self.chain.send(fn, account)
        event = self.events(tx, "LicenseChecked")[0]["args"]
        return CHECK_RESULTS[event["result"]], "0x" + event["accessHead"].hex(), tx

    def _issued(self, tx: TxResult) -> IssuedLicence:
        return self.issued_from_event(self.events(tx, "LicenseIssued")[0], tx.gas_used)

    @staticmethod
    def issued_from_event(event, gas_used: int = 0) -> IssuedLicence:
        a = event["args"]
        previous = bytes(a["previous"])
        return IssuedLicence(
            "0x" + a["licenceId"].hex(), a["holder"], types.code_text(a["agency"]), "0x" + a["dataHash"].hex(),
            "0x" + previous.hex() if any(previous) else None, a["validFrom"], a["validUntil"],
            "0x" + a["recordHead"].hex(), bytes(a["ciphertext"]), "0x" + event["transactionHash"].hex().removeprefix("0x"),
            event["blockNumber"], gas_used,
        )

    # views --------------------------------------------------------------------------
    def licence(self, licence_id: bytes) -> LicenceInfo | None:
        holder, agency, valid_from, valid_until, status = self.chain.call(self.contract.functions.licence(licence_id))
        if status == 0:
            return None
        return LicenceInfo(
            "0x" + bytes(licence_id).hex(), holder, types.code_text(agency), valid_from, valid_until,
            types.LICENCE_STATUS[status],
        )

    def unclaimed_status(self, holder: str, valid_from: int, valid_until: int) -> str:
        """The status of a batched licence not yet claimed: nothing has changed it, so its validity and
        the holder's record decide (as the contract's status would once it is claimed)."""
        now = self.chain.timestamp()
        if self.holder_record(holder).closed_at != 0:
            return "record-closed"
        if now >= valid_until:
            return "expired"
        return "not-yet-valid" if now < valid_from else "active"

    def licence_id_of(self, agency: str | bytes, data_hash: bytes) -> bytes:
        """licenceIdOf(agency, dataHash), computed here as the contract does: no round trip to the node."""
        return licence_id(self.chain.chain_id, self.address, agency, data_hash)

    def holder_record(self, holder: str) -> HolderRecord:
        record_head, access_head, closed_at, reason = self.chain.call(self.contract.functions.holderRecord(holder))
        return HolderRecord("0x" + record_head.hex(), "0x" + access_head.hex(), closed_at, reason)

    def issued_to(self, holder: str, from_block: int = 0) -> list[IssuedLicence]:
        logs = self.contract.events.LicenseIssued().get_logs(argument_filters={"holder": holder}, from_block=from_block)
        return [self.issued_from_event(e) for e in logs]

    def issued_by(self, agency: str, from_block: int = 0) -> tuple[list[IssuedLicence], list[IssuedBatch]]:
        """An agency's single licences and batches (both events index the agency)."""
        code = types.org_code(agency)
        singles = self.contract.events.LicenseIssued().get_logs(argument_filters={"agency": code}, from_block=from_block)
        batches = self.contract.events.LicenseBatchIssued().get_logs(argument_filters={"agency": code}, from_block=from_block)
        return [self.issued_from_event(e) for e in singles], [self.batch_from_event(e) for e in batches]

    def issued_in_block(self, block: int, holder: str) -> list[IssuedLicence]:
        """The licences issued to ``holder`` in block ``block`` (what a QR code's block number names)."""
        logs = self.contract.events.LicenseIssued().get_logs(argument_filters={"holder": holder}, from_block=block,
                                                             to_block=block)
        return [self.issued_from_event(e) for e in logs]

    def issued_in(self, tx_hash: str) -> list[IssuedLicence]:
        receipt = self.chain.w3.eth.get_transaction_receipt(tx_hash)
        tx = TxResult(tx_hash, receipt["blockNumber"], receipt["gasUsed"], tuple(receipt["logs"]))
        return [self.issued_from_event(e) for e in self.events(tx, "LicenseIssued")]

    def typed_presentation(self, licence_id: bytes, disclosure: bytes, not_after: int, nonce: bytes) -> dict:
        """The EIP-712 message a holder signs; the contract's presentationDigest gives the same digest."""
        return self.typed_data("elicense LicenseRegistry", "Presentation", PRESENTATION_FIELDS, {
            "licenceId": licence_id, "disclosure": disclosure, "notAfter": not_after, "nonce": nonce,
        })

    def presentation_digest(self, licence_id: bytes, disclosure: bytes, not_after: int, nonce: bytes) -> bytes:
        return typed_digest(self.typed_presentation(licence_id, disclosure, not_after, nonce))
