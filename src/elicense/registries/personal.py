"""PersonalDataRegistry: GDPR records of data subjects, their access log and consents (seed 003).

The chain holds the CID and SHA-256 of each subject's encrypted envelope, flags, consents and the
access log; the personal data stays in the envelope off chain. This wrapper builds the EIP-712 typed
data subjects and readers sign, checks fetched envelopes against the chain (the tamper flag), and
reads and verifies the access log from the events.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from dataclasses import dataclass

from eth_abi import encode
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from ..chain import TxResult
from ..commitments import Purpose, field_commitment, fields_text, new_salt
from ..errors import InvalidInput
from ._base import Wrapper, typed_digest

DOMAIN = "elicense PersonalDataRegistry"

CONSENT_FIELDS = [
    {"name": "controller", "type": "address"}, {"name": "purpose", "type": "bytes32"},
    {"name": "integrityHash", "type": "bytes32"}, {"name": "deadline", "type": "uint64"},
    {"name": "nonce", "type": "uint256"},
]
READ_FIELDS = [
    {"name": "subject", "type": "address"}, {"name": "what", "type": "bytes32"},
    {"name": "deadline", "type": "uint64"}, {"name": "nonce", "type": "uint256"},
]

# The contract's enums, by value.
READ_RESULTS = ["granted", "not-authorised", "erased", "expired"]
REQUEST_STATUS = ["none", "pending", "granted", "denied"]
AUDIT_FINDINGS = ["none", "intact", "tampered", "missing", "erasure-verified", "erasure-incomplete"]

ROLES = {
    "admin": b"\0" * 32,
    "controller": keccak(text="CONTROLLER_ROLE"),
    "processor": keccak(text="PROCESSOR_ROLE"),
    "supervisor": keccak(text="SUPERVISOR_ROLE"),
}

PAGE = 100  # the contract's MAX_PAGE
ZERO32 = b"\0" * 32


def integrity_hash(envelope: bytes) -> bytes:
    """SHA-256 of the encrypted envelope's bytes: what the chain records (never a hash of plaintext)."""
    return hashlib.sha256(bytes(envelope)).digest()


def purpose_code(purpose: str | bytes | Purpose) -> bytes:
    """A purpose as bytes32: a non-zero 32-byte code or commitment as given, or the salted commitment of a
    :class:`~elicense.commitments.Purpose`. A bare statement is refused: its unsalted hash is guessable."""
    if isinstance(purpose, Purpose):
        return purpose.commitment
    if isinstance(purpose, (bytes, bytearray)) and len(purpose) == 32 and any(purpose):
        return bytes(purpose)
    if isinstance(purpose, str):
        raise InvalidInput("a purpose statement goes on chain only as a salted commitment (Purpose.new(text))")
    raise InvalidInput("a purpose is a salted statement or a non-zero 32-byte code")


def access_entry(reader: str, submitter: str, what: bytes, result: int, block_number: int) -> bytes:
    """One access-log entry, as the contract hashes it."""
    return keccak(encode(["address", "address", "bytes32", "uint8", "uint256"],
                         [reader, submitter, bytes(what), result, block_number]))


def next_head(head: bytes, entry: bytes) -> bytes:
    return keccak(encode(["bytes32", "bytes32"], [bytes(head), bytes(entry)]))


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex().removeprefix("0x")


@dataclass(frozen=True)
class PersonalRecord:
    """Everything on chain about a subject's record: no personal data."""

    subject: str
    pointer: str
    integrity_hash: bytes
    version: int
    generation: int
    created_at: int
    updated_at: int
    erased_at: int
    erased: bool
    controller: str
    consent_purpose: bytes
    consent_at: int
    access_head: str
    access_count: int


@dataclass(frozen=True)
class RecordChange:
    """A created, updated (rectified or re-encrypted for a consent) or erased record."""

    subject: str
    by: str
    kind: str
    version: int
    pointer: str | None
    integrity_hash: bytes
    previous_hash: bytes | None
    generation: int | None
    purpose: bytes | None
    tx_hash: str
    block_number: int
    gas_used: int = 0


@dataclass(frozen=True)
class SignedRead:
    """A reader's signed read, ready for :meth:`PersonalDataRegistry.log_read` (by the reader or a gateway).
    ``what`` is the salted commitment to the field names; ``fields`` and ``salt`` open it (off chain only)."""

    subject: str
    reader: str
    what: bytes
    deadline: int
    nonce: int
    signature: bytes
    fields: str | None = None
    salt: bytes | None = None

    def opened(self) -> str | None:
        """The field names, when ``fields`` and ``salt`` open ``what``."""
        if self.fields is None or self.salt is None:
            return None
        return self.fields if field_commitment(self.fields, self.salt) == bytes(self.what) else None


@dataclass(frozen=True)
class ReadEntry:
    """One access-log entry: who read (and who submitted), what, the outcome, the new head."""

    subject: str
    reader: str
    submitter: str
    what: bytes
    result: str
    access_head: str
    tx_hash: str
    block_number: int
    gas_used: int = 0
    names: str | None = None  # the field names, when this side holds the commitment's opening

    @property
    def fields(self) -> str:
        """The field names read if known here, else the commitment the chain holds."""
        return self.names if self.names is not None else _hex(self.what)


@dataclass(frozen=True)
class ConsentRequest:
    request_id: int
    subject: str
    requester: str
    purpose: bytes
    status: str
    requested_at: int
    answered_at: int
    public_key: bytes | None = None
    tx_hash: str | None = None  # set when the request was just made here
    block_number: int = 0
    gas_used: int = 0
    opening: Purpose | None = None  # the purpose's statement and salt, when the request was just made here


@dataclass(frozen=True)
class ConsentDecision:
    """The subject's answer to a request; a grant carries the re-encrypted file's version."""

    request_id: int
    subject: str
    requester: str
    purpose: bytes
    granted: bool
    version: int | None
    tx_hash: str
    block_number: int
    gas_used: int = 0


@dataclass(frozen=True)
class ConsentInfo:
    active: bool
    purpose: bytes
    granted_at: int
    request_id: int


@dataclass(frozen=True)
class FileCheck:
    """A fetched envelope against the chain: ``tampered`` when its SHA-256 is not the recorded hash."""

    record: PersonalRecord
    tampered: bool
    erased: bool


class PersonalDataRegistry(Wrapper):
    """The controller organisation's registry of personal-data records."""

    name = "PersonalDataRegistry"

    # roles ----------------------------------------------------------------------------
    @staticmethod
    def role(name: str) -> bytes:
        try:
            return ROLES[name]
        except KeyError:
            raise InvalidInput(f"unknown role {name!r}; use one of {', '.join(ROLES)}") from None

    def has_role(self, role: str, address: str) -> bool:
        return self.chain.call(self.contract.functions.hasRole(self.role(role), address))

    def grant_role(self, account, role: str, address: str) -> TxResult:
        """Admin only (the controller organisation)."""
        return self.chain.send(self.contract.functions.grantRole(self.role(role), address), account)

    def revoke_role(self, account, role: str, address: str) -> TxResult:
        return self.chain.send(self.contract.functions.revokeRole(self.role(role), address), account)

    def members(self, role: str) -> list[str]:
        """Current holders of ``role``, from the RoleGranted and RoleRevoked logs (in order of granting)."""
        role_id = self.role(role)
        changes = [*self.contract.events.RoleGranted().get_logs(from_block=0, argument_filters={"role": role_id}),
                   *self.contract.events.RoleRevoked().get_logs(from_block=0, argument_filters={"role": role_id})]
        changes.sort(key=lambda e: (e["blockNumber"], e["logIndex"]))
        members: dict[str, None] = {}
        for event in changes:
            if event["event"] == "RoleGranted":
                members[event["args"]["account"]] = None
            else:
                members.pop(event["args"]["account"], None)
        return list(members)

    # EIP-712 ----------------------------------------------------------------------------
    def typed_consent(self, controller: str, purpose: bytes, integrity_hash_: bytes, deadline: int, nonce: int) -> dict:
        """What a subject signs to let ``controller`` create their record; consentDigest gives the same digest."""
        return self.typed_data(DOMAIN, "Consent", CONSENT_FIELDS, {
            "controller": controller, "purpose": bytes(purpose), "integrityHash": bytes(integrity_hash_),
            "deadline": deadline, "nonce": nonce,
        })

    def typed_read(self, subject: str, what: bytes, deadline: int, nonce: int) -> dict:
        """What a reader signs for one read; readDigest gives the same digest."""
        return self.typed_data(DOMAIN, "Read", READ_FIELDS, {
            "subject": subject, "what": bytes(what), "deadline": deadline, "nonce": nonce,
        })

    def consent_digest(self, controller: str, purpose: bytes, integrity_hash_: bytes, deadline: int,
                       nonce: int) -> bytes:
        return typed_digest(self.typed_consent(controller, purpose, integrity_hash_, deadline, nonce))

    def read_digest(self, subject: str, what: bytes, deadline: int, nonce: int) -> bytes:
        return typed_digest(self.typed_read(subject, what, deadline, nonce))

    def sign_consent(self, subject, controller: str, purpose: bytes, integrity_hash_: bytes, deadline: int,
                     nonce: int | None = None) -> bytes:
        """The subject's (a local account's) consent signature, over their current nonce by default."""
        if nonce is None:
            nonce = self.nonce_of(subject.address)
        typed = self.typed_consent(controller, purpose, integrity_hash_, deadline, nonce)
        return bytes(subject.sign_message(encode_typed_data(full_message=typed)).signature)

    def signed_read(self, reader, subject: str, fields: str | list[str] | bytes, *, ttl: int = 600,
                    nonce: int | None = None, salt: bytes | None = None) -> SignedRead:
        """A read signed by ``reader`` (a local account): valid ``ttl`` seconds, with a random nonce. The
        field names are committed under a fresh salt (or ``what`` given as 32 bytes is signed as is)."""
        if isinstance(fields, (bytes, bytearray)):
            what, names = bytes(fields), None
        else:
            salt = new_salt() if salt is None else salt
            names = fields_text(fields)
            what = field_commitment(names, salt)
        deadline = self.chain.timestamp() + ttl
        nonce = secrets.randbits(256) if nonce is None else nonce
        typed = self.typed_read(subject, what, deadline, nonce)
        signature = bytes(reader.sign_message(encode_typed_data(full_message=typed)).signature)
        return SignedRead(subject, reader.address, what, deadline, nonce, signature, names,
                          salt if names is not None else None)

    # the record ---------------------------------------------------------------------------
    def create(self, account, subject: str, pointer: str, integrity_hash_: bytes, purpose: bytes, deadline: int,
               signature: bytes) -> RecordChange:
        """A controller creates (or re-creates after erasure) the subject's record under their signed consent."""
        fn = self.contract.functions.create(subject, pointer, bytes(integrity_hash_), bytes(purpose), deadline,
                                            bytes(signature))
        tx = self.chain.send(fn, account)
        return self._change(self.events(tx, "PersonalDataCreated")[0], tx.gas_used)

    def rectify(self, account, subject: str, pointer: str, integrity_hash_: bytes) -> RecordChange:
        """A controller or the subject records a new file; the caller removes the old one off chain."""
        tx = self.chain.send(self.contract.functions.rectify(subject, pointer, bytes(integrity_hash_)), account)
        return self._change(self.events(tx, "PersonalDataUpdated")[0], tx.gas_used)

    def erase(self, account, subject: str) -> RecordChange:
        """A controller or the subject marks the record erased; the caller removes and unpins the file."""
        tx = self.chain.send(self.contract.functions.erase(subject), account)
        return self._change(self.events(tx, "PersonalDataErased")[0], tx.gas_used)

    @staticmethod
    def _change(event, gas_used: int = 0) -> RecordChange:
        a, name = event["args"], event["event"]
        tx_hash, block = _hex(event["transactionHash"]), event["blockNumber"]
        if name == "PersonalDataCreated":
            return RecordChange(a["subject"], a["controller"], "created", a["version"], a["pointer"],
                                bytes(a["integrityHash"]), None, a["generation"], bytes(a["purpose"]), tx_hash, block,
                                gas_used)
        if name == "PersonalDataUpdated":
            return RecordChange(a["subject"], a["by"], "updated", a["version"], a["pointer"], bytes(a["integrityHash"]),
                                bytes(a["previousHash"]), None, None, tx_hash, block, gas_used)
        return RecordChange(a["subject"], a["by"], "erased", a["version"], None, bytes(a["integrityHash"]), None, None,
                            None, tx_hash, block, gas_used)

    def history(self, subject: str, from_block: int = 0) -> list[RecordChange]:
        """Every creation, new file and erasure of the subject's record in chain order: the hashes a
        supervisor checks (an old file must be gone, only the current one may exist)."""
        filters = {"subject": subject}
        logs = [*self.contract.events.PersonalDataCreated().get_logs(from_block=from_block, argument_filters=filters),
                *self.contract.events.PersonalDataUpdated().get_logs(from_block=from_block, argument_filters=filters),
                *self.contract.events.PersonalDataErased().get_logs(from_block=from_block, argument_filters=filters)]
        logs.sort(key=lambda e: (e["blockNumber"], e["logIndex"]))
        return [self._change(e) for e in logs]

    def check_file(self, subject: str, envelope: bytes) -> FileCheck:
        """Compares a fetched envelope with the chain (seed 003's read with its tamper flag)."""
        record = self.record(subject)
        if record is None:
            raise InvalidInput(f"{subject} has no personal-data record")
        return FileCheck(record, integrity_hash(envelope) != record.integrity_hash, record.erased)

    # the access log -------------------------------------------------------------------------
    def log_read(self, account, read: SignedRead) -> ReadEntry:
        """Records a read (``account`` is the reader or a gateway). A refusal is an outcome, not an
        error; an unknown subject, a replayed signature or one that is not the reader's raises."""
        fn = self.contract.functions.logRead(read.subject, read.reader, read.what, read.deadline, read.nonce,
                                             read.signature)
        tx = self.chain.send(fn, account)
        entry = self._entry(self.events(tx, "ReadLogged")[0], tx.gas_used)
        return dataclasses.replace(entry, names=read.opened())

    def log_reads(self, account, reads: list[SignedRead]) -> list[ReadEntry]:
        """Records 1 to ``PAGE`` reads in one transaction (logReads), exactly as ``log_read`` one by one:
        one entry per read, in order. Refusals are outcomes; an unknown subject or a replayed nonce
        (also one repeated within ``reads``) raises and logs none of them. Each entry's ``gas_used`` is
        the whole transaction's gas, not a share of it."""
        reads = list(reads)
        if not reads or len(reads) > PAGE:
            raise InvalidInput(f"a batch of reads holds 1 to {PAGE} reads, not {len(reads)}")
        fn = self.contract.functions.logReads([
            (r.subject, r.reader, bytes(r.what), r.deadline, r.nonce, bytes(r.signature)) for r in reads
        ])
        tx = self.chain.send(fn, account)
        return [dataclasses.replace(self._entry(event, tx.gas_used), names=read.opened())
                for event, read in zip(self.events(tx, "ReadLogged"), reads, strict=True)]

    @staticmethod
    def _entry(event, gas_used: int = 0) -> ReadEntry:
        a = event["args"]
        return ReadEntry(a["subject"], a["reader"], a["submitter"], bytes(a["what"]), READ_RESULTS[a["result"]],
                         _hex(a["accessHead"]), _hex(event["transactionHash"]), event["blockNumber"], gas_used)

    def access_log(self, subject: str, from_block: int = 0, openings: dict[bytes, str] | None = None
                   ) -> list[ReadEntry]:
        """Every recorded read of the subject's data, granted or not, in chain order. ``openings`` maps a
        ``what`` commitment to the field names it hides, for the commitments this side can open."""
        logs = self.contract.events.ReadLogged().get_logs(from_block=from_block, argument_filters={"subject": subject})
        logs.sort(key=lambda e: (e["blockNumber"], e["logIndex"]))
        entries = [self._entry(e) for e in logs]
        if openings:
            entries = [dataclasses.replace(e, names=openings.get(e.what)) for e in entries]
        return entries

    def verify_access_log(self, subject: str) -> bool:
        """Recomputes the hash chain from every ReadLogged event (from block 0) and compares it with
        each event's head and with the contract's accessHead: False if any entry is missing or altered."""
        head = ZERO32
        for entry in self.access_log(subject):
            result = READ_RESULTS.index(entry.result)
            head = next_head(head, access_entry(entry.reader, entry.submitter, entry.what, result, entry.block_number))
            if _hex(head) != entry.access_head:
                return False
        return head == bytes(self.chain.call(self.contract.functions.accessHead(subject)))

    def read_policy(self, subject: str, reader: str) -> str:
        """What a fresh, validly signed read by ``reader`` would get now (a gateway's pre-check)."""
        return READ_RESULTS[self.chain.call(self.contract.functions.readPolicy(subject, reader))]

    def read_nonce_used(self, reader: str, nonce: int) -> bool:
        return self.chain.call(self.contract.functions.readNonceUsed(reader, nonce))

    # consent --------------------------------------------------------------------------------
    def request_consent(self, account, subject: str, purpose: bytes, public_key: bytes) -> ConsentRequest:
        """Asks the subject for their record; ``public_key`` is the sender's own 64-byte key."""
        fn = self.contract.functions.requestConsent(subject, bytes(purpose), bytes(public_key))
        tx = self.chain.send(fn, account)
        a = self.events(tx, "ConsentRequested")[0]["args"]
        made = self.request(a["requestId"], public_key=bytes(a["publicKey"]))
        return dataclasses.replace(made, tx_hash=tx.tx_hash, block_number=tx.block_number, gas_used=tx.gas_used)

    def grant_consent(self, account, request_id: int, pointer: str, integrity_hash_: bytes) -> ConsentDecision:
        """The subject grants: the envelope, now also wrapped to the requester, is stored at ``pointer``."""
        tx = self.chain.send(self.contract.functions.grantConsent(request_id, pointer, bytes(integrity_hash_)), account)
        return self._decision(self.events(tx, "ConsentGranted")[0], tx.gas_used)

    def deny_consent(self, account, request_id: int) -> ConsentDecision:
        tx = self.chain.send(self.contract.functions.denyConsent(request_id), account)
        return self._decision(self.events(tx, "ConsentDenied")[0], tx.gas_used)

    def revoke_consent(self, account, requester: str) -> TxResult:
        """The subject (``account``) withdraws the consent given to ``requester``."""
        return self.chain.send(self.contract.functions.revokeConsent(requester), account)

    @staticmethod
    def _decision(event, gas_used: int = 0) -> ConsentDecision:
        a = event["args"]
        granted = event["event"] == "ConsentGranted"
        return ConsentDecision(a["requestId"], a["subject"], a["requester"], bytes(a["purpose"]), granted,
                               a["version"] if granted else None, _hex(event["transactionHash"]), event["blockNumber"],
                               gas_used)

    def request(self, request_id: int, public_key: bytes | None = None) -> ConsentRequest | None:
        subject, requester, purpose, status, requested_at, answered_at = self.chain.call(
            self.contract.functions.request(request_id))
        if status == 0:
            return None
        return ConsentRequest(request_id, subject, requester, bytes(purpose), REQUEST_STATUS[status], requested_at,
                              answered_at, public_key)

    def request_count(self) -> int:
        return self.chain.call(self.contract.functions.requestCount())

    def requests_for(self, subject: str, *, pending_only: bool = False, from_block: int = 0) -> list[ConsentRequest]:
        """The requests made to ``subject`` (the wallet page), with the requester's key from the event
        and the current status from the contract."""
        return self._requests({"subject": subject}, pending_only, from_block)

    def requests_by(self, requester: str, *, from_block: int = 0) -> list[ConsentRequest]:
        """The requests ``requester`` made, to any subject."""
        return self._requests({"requester": requester}, False, from_block)

    def _requests(self, filters: dict, pending_only: bool, from_block: int) -> list[ConsentRequest]:
        logs = self.contract.events.ConsentRequested().get_logs(from_block=from_block, argument_filters=filters)
        logs.sort(key=lambda e: (e["blockNumber"], e["logIndex"]))
        found = [self.request(e["args"]["requestId"], bytes(e["args"]["publicKey"])) for e in logs]
        return [r for r in found if r is not None and (not pending_only or r.status == "pending")]

    def consent_of(self, subject: str, account: str) -> ConsentInfo:
        active, purpose, granted_at, request_id = self.chain.call(self.contract.functions.consentOf(subject, account))
        return ConsentInfo(active, bytes(purpose), granted_at, request_id)

    # supervision -------------------------------------------------------------------------------
    def record_audit(self, account, subject: str, finding: str | int, evidence: bytes = ZERO32) -> TxResult:
        """A supervisor records a finding: intact, tampered, missing, erasure-verified, erasure-incomplete."""
        if isinstance(finding, str):
            if finding not in AUDIT_FINDINGS[1:]:
                raise InvalidInput(f"unknown audit finding {finding!r}; use one of {', '.join(AUDIT_FINDINGS[1:])}")
            finding = AUDIT_FINDINGS.index(finding)
        return self.chain.send(self.contract.functions.recordAudit(subject, finding, bytes(evidence)), account)

    # views ---------------------------------------------------------------------------------------
    def nonce_of(self, subject: str) -> int:
        """The nonce the subject's next consent signature must carry."""
        return self.chain.call(self.contract.functions.nonces(subject))

    @staticmethod
    def _record(row) -> PersonalRecord:
        (subject, pointer, ihash, version, generation, created_at, updated_at, erased_at, erased, controller, purpose,
         consent_at, head, count) = row
        return PersonalRecord(subject, pointer, bytes(ihash), version, generation, created_at, updated_at, erased_at,
                              erased, controller, bytes(purpose), consent_at, _hex(head), count)

    def record(self, subject: str) -> PersonalRecord | None:
        record = self._record(self.chain.call(self.contract.functions.record(subject)))
        return record if record.version else None

    def subject_count(self) -> int:
        return self.chain.call(self.contract.functions.subjectCount())

    def subjects(self, offset: int = 0, limit: int = PAGE) -> list[str]:
        return list(self.chain.call(self.contract.functions.subjects(offset, limit)))

    def records(self, offset: int = 0, limit: int = PAGE) -> list[PersonalRecord]:
        """One page (at most 100) of records in order of first creation, erased ones included."""
        return [self._record(row) for row in self.chain.call(self.contract.functions.records(offset, limit))]

    def all_records(self) -> list[PersonalRecord]:
        records: list[PersonalRecord] = []
        while page := self.records(len(records), PAGE):
            records.extend(page)
        return records

    def access_head(self, subject: str) -> str:
        return _hex(self.chain.call(self.contract.functions.accessHead(subject)))
