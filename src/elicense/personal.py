"""Personal data under the GDPR (seed 003): every right, on PersonalDataRegistry and a Storage.

The chain (registries/personal.py) holds the CID and SHA-256 of each data subject's sealed envelope,
flags, consents and the access log; the personal data itself is one JSON object per subject, sealed
(storage/envelope.py) for the subject, the controller and whoever the subject consented to, and kept
in the embedded store or an IPFS node. This module joins the two sides so that no right is half done:

- create: seal and store the file, get the subject's EIP-712 consent, record CID + hash (a refused
  transaction removes the stored draft again);
- read: log the signed read on chain *first*, then fetch, compare with the chain (tamper flag) and
  decrypt; a refused read is logged and raises :class:`ReadRefused`;
- rectify: a new file under a fresh data key, then the old file removed from the store;
- erase: the chain's flag, then every file the record ever pointed at removed (unpinned and garbage
  collected on IPFS) and checked gone;
- export: the subject's data and everything on chain about it, in one JSON document;
- list by field: one page of records, their reads logged in one transaction (``logReads``);
- consent: requests, grant (the data key wrapped to the requester, no re-encryption), deny, revoke
  (re-keyed, so a revoked reader's copy of the data key opens nothing new);
- audit: what a supervisor can check without any data key, recorded on chain.

Every file stored for a subject is claimed in the store's ownership index (storage/owners.py) the
moment it is stored, drafts and uploads included: a record is served, cleaned up and erased by what it
stored, never by what a look-alike registry names, and the audit checks the store's own inventory.

Readers' public keys come from, in order: keys passed in, local accounts used here, the identity
registry, and the keys requesters put in their consent requests.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace

from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address

from . import types
from .commitments import Purpose
from .crypto import address_of, public_key as public_key_of
from .errors import Conflict, DecryptionError, ElicenseError, InvalidInput, NotAllowed, NotFound
from .licence import canonical
from .registries.personal import (PAGE, ConsentDecision, ConsentRequest, PersonalDataRegistry, PersonalRecord,
                                  ReadEntry, RecordChange, SignedRead, purpose_code)
from .storage import Storage, envelope
from .storage.owners import Owner

EXPORT_FORMAT = "elicense-personal-data-export/1"
AUDIT_FORMAT = "elicense-personal-data-audit/1"
MAX_DOCUMENT = 1 << 20  # bytes of canonical JSON: a person's record, not a file store (attachments go elsewhere)
CONSENT_TTL = 3600  # seconds a subject's consent signature stays usable
PENDING_TTL = CONSENT_TTL  # seconds a stored file not yet on chain (draft, upload) is kept for its signature


class ReadRefused(NotAllowed):
    """The registry refused a read; the attempt is in the access log (``entry``)."""

    def __init__(self, message: str, entry: ReadEntry):
        super().__init__(message)
        self.entry = entry


REFUSALS = {
    "not-authorised": "is neither the subject, a controller or processor, nor holds the subject's consent",
    "erased": "asked for a record that was erased",
    "expired": "signed a read request that has expired",
}


def deploy(chain, controller) -> PersonalDataRegistry:
    """A controller organisation's own registry; the deployer holds the admin and controller roles."""
    contract, _ = chain.deploy("PersonalDataRegistry", [], controller)
    return PersonalDataRegistry(chain, contract.address)


def is_personal_registry(chain, address: str) -> bool:
    """Whether ``address`` runs this project's PersonalDataRegistry code (so a server never acts for a look-alike)."""
    from . import artifacts

    return artifacts.runs_code(chain, address, "PersonalDataRegistry")


def encode_document(document: dict) -> bytes:
    """A subject's personal data as canonical JSON: an object of field name -> value."""
    if not isinstance(document, dict) or not document:
        raise InvalidInput("personal data is a JSON object with at least one field")
    for name in document:
        if not isinstance(name, str) or not name or len(name) > 64 or not name.isprintable() or "," in name:
            raise InvalidInput(f"malformed field name {name!r}: 1 to 64 printable characters, no comma")
    raw = canonical(document)
    if len(raw) > MAX_DOCUMENT:
        raise InvalidInput(f"the personal data is {len(raw):,} bytes; the limit is {MAX_DOCUMENT:,}")
    return raw


def decode_document(raw: bytes) -> dict:
    try:
        document = json.loads(raw)
    except ValueError:
        raise DecryptionError("the decrypted personal data is not JSON") from None
    if not isinstance(document, dict):
        raise DecryptionError("the decrypted personal data is not a JSON object")
    return document


def pick(document: dict, fields: str | Iterable[str]) -> dict:
    """The named fields of a document (all for ``"*"``); absent fields are left out."""
    if fields == "*":
        return dict(document)
    names = [fields] if isinstance(fields, str) else list(fields)
    return {n: document[n] for n in names if n in document}


def parse_fields(fields: str | Iterable[str]) -> str | list[str]:
    """The fields of a read: ``"*"``, or names from a comma-separated text or a list."""
    if isinstance(fields, str):
        names = [f.strip() for f in fields.split(",")] if fields != "*" else ["*"]
    else:
        names = [str(f).strip() for f in fields]
    if not names or any(not n for n in names):
        raise InvalidInput("name the fields to read (comma-separated), or '*' for all")
    return "*" if names == ["*"] else names


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _salted(purpose: Purpose | str | bytes) -> Purpose | bytes:
    """A purpose statement never goes on chain bare: it gets a fresh salt."""
    return Purpose.new(purpose) if isinstance(purpose, str) else purpose


# ------------------------------------------------------------------------------------ results

@dataclass(frozen=True)
class Draft:
    """A sealed personal-data file already in the store, waiting for the subject's consent."""

    subject: str
    controller: str
    cid: str
    integrity_hash: bytes
    readers: tuple[str, ...]


@dataclass(frozen=True)
class PersonalRead:
    """A logged read. ``data`` is the decrypted fields asked for; None when ``tampered`` (the stored
    file is not the one the chain names) or ``missing`` (no file under the recorded CID)."""

    record: PersonalRecord
    entry: ReadEntry
    data: dict | None
    tampered: bool
    missing: bool = False


@dataclass(frozen=True)
class Served:
    """What a gateway hands a reader after logging the read: the sealed file (None if not held)."""

    record: PersonalRecord
    entry: ReadEntry
    sealed: bytes | None
    tampered: bool
    missing: bool = False


@dataclass(frozen=True)
class Erasure:
    """An erasure: the chain's record, the files removed from the store and any still held there."""

    change: RecordChange | None
    removed: tuple[str, ...]
    still_stored: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.still_stored


@dataclass(frozen=True)
class ListedRecord:
    subject: str
    version: int
    erased: bool
    result: str | None  # the logged read's outcome; None for an erased record (nothing to read)
    tampered: bool
    values: dict | None


@dataclass(frozen=True)
class RecordPage:
    items: list[ListedRecord]
    offset: int
    total: int
    tx_hash: str | None
    gas_used: int

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self.items)
        return end if end < self.total else None


@dataclass(frozen=True)
class AuditReport:
    """A supervisor's finding for one subject and the facts behind it (CIDs, hashes, presence; no data)."""

    subject: str
    finding: str
    version: int
    integrity_hash: str
    current: dict
    earlier: list[dict]
    evidence: str
    tx_hash: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------------------------ the service

class PersonalData:
    """The rights of seed 003 on one controller's registry and the store holding its files.

    ``account`` arguments are eth-account LocalAccounts, or :class:`~elicense.chain.ExternalSigner`
    for operations that need only a transaction signature (the REST API)."""

    def __init__(self, registry: PersonalDataRegistry, storage: Storage, *, identities=None,
                 keys: dict[str, bytes] | None = None, referenced: Callable[[str], bool] | None = None):
        """``referenced(cid)``: whether a live record or asset elsewhere still names ``cid`` (the server
        checks every contract it serves); a file no index entry claims is removed only when it is not."""
        self.registry, self.storage, self.identities = registry, storage, identities
        self.referenced = referenced
        self._keys: dict[str, bytes] = {}
        self._read_fields: dict[bytes, str] = {}  # `what` commitments of reads made here -> field names
        for address, key in (keys or {}).items():
            self.add_key(address, key)

    # keys -----------------------------------------------------------------------------------
    def add_key(self, address: str, key: bytes) -> None:
        key = bytes(key)[-64:]
        if address_of(key) != to_checksum_address(address):
            raise InvalidInput(f"the public key given for {address} belongs to another address")
        self._keys[to_checksum_address(address)] = key

    def _remember(self, account) -> None:
        if getattr(account, "key", None) is not None:
            self._keys.setdefault(account.address, public_key_of(account))

    def public_key(self, address: str) -> bytes:
        """The 64-byte public key of a reader, from what this service knows (see the module docstring)."""
        address = to_checksum_address(address)
        if address not in self._keys and self.identities is not None:
            try:
                key = self.identities.public_key(address)
            except NotFound:
                key = b""
            if any(key):
                self._keys[address] = key
        if address not in self._keys:
            for request in self.registry.requests_by(address):
                if request.public_key:
                    self._keys[address] = request.public_key
                    break
        if address not in self._keys:
            raise NotFound(f"no public key is known for {address}: register the identity, or pass its key")
        return self._keys[address]

    def _readers(self, subject: str, controller: str, consented: Iterable[str] = ()) -> dict[str, bytes]:
        """Who a file is sealed for: the subject, its controller, the processors and whoever holds an
        active consent. Supervisors never: they audit without reading."""
        addresses = [subject, controller, *self.registry.members("processor"), *consented]
        return {a: self.public_key(a) for a in dict.fromkeys(to_checksum_address(a) for a in addresses)}

    def consented(self, subject: str) -> list[str]:
        """Requesters holding an active consent of ``subject``."""
        found = []
        for request in self.registry.requests_for(subject):
            if request.status == "granted" and request.requester not in found:
                if self.registry.consent_of(subject, request.requester).active:
                    found.append(request.requester)
        return found

    # helpers ----------------------------------------------------------------------------------
    def _record(self, subject: str) -> PersonalRecord:
        subject = types.address(subject, "data subject address")
        record = self.registry.record(subject)
        if record is None:
            raise NotFound(f"{subject} has no personal-data record in registry {self.registry.address}")
        return record

    def _live(self, subject: str) -> PersonalRecord:
        record = self._record(subject)
        if record.erased:
            raise Conflict(f"the personal data of {record.subject} was erased")
        return record

    def owner(self, subject: str) -> Owner:
        """The subject's record in this registry, as the store's ownership index names it."""
        return Owner.subject(self.registry.chain.chain_id, self.registry.address, subject)

    def store_file(self, subject: str, sealed: bytes, kind: str = "upload") -> str:
        """Stores a sealed file for ``subject``'s record and claims it at once, so it is found, served
        and erased as this record's from the moment it is stored (storage/owners.py)."""
        cid = self.storage.add(sealed)
        self.storage.ownership.claim(cid, self.owner(subject), kind)
        return cid

    def _store(self, subject: str, document: dict, readers: dict[str, bytes], kind: str = "upload"
               ) -> tuple[str, bytes]:
        sealed = envelope.seal(encode_document(document), readers)
        return self.store_file(subject, sealed, kind), envelope.integrity_hash(sealed)

    def _discard(self, subject: str, cid: str) -> str:
        """Gives up this record's claim on ``cid`` and removes the file unless another record or asset
        still claims or names it (CIDs are public: a look-alike record may name it).
        Returns ``removed``, ``kept`` (someone else's too) or ``failed`` (the store would not let go)."""
        if self.storage.ownership.release(self.owner(subject), cid):
            return "kept"
        if self.referenced is not None and self.referenced(cid):
            return "kept"
        try:
            self.storage.remove(cid)
        except ElicenseError:
            pass  # best effort here; collect() and the supervisor's audit find what is left
        return "failed" if self.storage.has(cid) else "removed"

    # create -------------------------------------------------------------------------------------
    def draft(self, controller: str, subject: str, document: dict, subject_key: bytes | None = None) -> Draft:
        """Seals ``document`` for the subject, the controller and the processors, and stores it; the subject then signs
        :meth:`consent_typed_data` for it, and :meth:`create` records it."""
        subject = types.address(subject, "data subject address")
        controller = types.address(controller, "controller address")
        if subject_key is not None:
            self.add_key(subject, subject_key)
        readers = self._readers(subject, controller)
        cid, digest = self._store(subject, document, readers, "draft")
        return Draft(subject, controller, cid, digest, tuple(readers))

    def consent_typed_data(self, draft: Draft, purpose: Purpose | str | bytes, *, ttl: int = CONSENT_TTL) -> dict:
        """The EIP-712 message the subject signs to consent to this draft, for this purpose: a
        :class:`Purpose` (statement + salt, handed to the subject off chain), a 32-byte code, or a
        statement committed under a fresh salt that is not kept."""
        deadline = self.registry.chain.timestamp() + ttl
        return self.registry.typed_consent(draft.controller, purpose_code(_salted(purpose)), draft.integrity_hash,
                                           deadline, self.registry.nonce_of(draft.subject))

    @staticmethod
    def sign_consent(subject, typed: dict) -> bytes:
        """The subject's signature over consent typed data (a local account; the wallet page signs its own)."""
        if getattr(subject, "key", None) is None:
            raise InvalidInput("the subject's consent needs the subject's own key")
        return bytes(subject.sign_message(encode_typed_data(full_message=typed)).signature)

    def create(self, controller, draft: Draft, typed: dict, signature: bytes) -> RecordChange:
        """Records the draft under the subject's signed consent; a refusal removes the stored draft."""
        message = typed["message"]
        if bytes(message["integrityHash"]) != draft.integrity_hash:
            raise InvalidInput("the consent was signed for another file than this draft")
        try:
            return self.registry.create(controller, draft.subject, draft.cid, draft.integrity_hash,
                                        bytes(message["purpose"]), int(message["deadline"]), signature)
        except ElicenseError:
            self._discard(draft.subject, draft.cid)
            raise

    def create_with_consent(self, controller, subject, document: dict, purpose: Purpose | str | bytes) -> RecordChange:
        """Draft, consent and create in one go, for a subject whose key is here (tests, scripts, demo)."""
        self._remember(controller)
        self._remember(subject)
        draft = self.draft(controller.address, subject.address, document)
        typed = self.consent_typed_data(draft, purpose)
        return self.create(controller, draft, typed, self.sign_consent(subject, typed))

    # read ---------------------------------------------------------------------------------------
    def sign_read(self, reader, subject: str, fields: str | Iterable[str] = "*", *, ttl: int = 600) -> SignedRead:
        return self.registry.signed_read(reader, types.address(subject, "data subject address"), parse_fields(fields),
                                         ttl=ttl)

    def serve(self, submitter, read: SignedRead) -> Served:
        """The gateway's part of a read: logs it on chain (paid by ``submitter``), and only when granted
        fetches the sealed file and compares it with the chain's hash. Raises :class:`ReadRefused`."""
        record = self._record(read.subject)
        self.check_owned(record)
        entry = self.registry.log_read(submitter, read)
        if entry.names is not None:
            self._read_fields[entry.what] = entry.names
        if entry.result != "granted":
            raise ReadRefused(f"read refused: {entry.reader} {REFUSALS.get(entry.result, entry.result)}; "
                              f"the attempt is in the access log (transaction {entry.tx_hash})", entry)
        record = self.registry.record(read.subject) or record  # the head moved
        try:
            sealed = self.storage.get(record.pointer)
        except NotFound:
            return Served(record, entry, None, True, missing=True)
        except ElicenseError:  # the store refused bytes that no longer match their CID
            return Served(record, entry, None, True)
        return Served(record, entry, sealed, envelope.integrity_hash(sealed) != record.integrity_hash)

    def check_owned(self, record: PersonalRecord) -> None:
        """Refuses a record whose file this registry's record did not store: a genuine copy of the
        contract can point at anyone's CID, and a gateway serves a file only under its owner."""
        if not record.erased and not self.storage.ownership.owns(self.owner(record.subject), record.pointer):
            raise NotAllowed(f"file {record.pointer} was not stored for {record.subject}'s record in registry "
                             f"{self.registry.address}; a file is served only under the record that stored it")

    def read(self, reader, subject: str, fields: str | Iterable[str] = "*", *, submitter=None) -> PersonalRead:
        """Seed 003's read with its tamper flag: signed by ``reader`` (a local account), logged on chain
        (submitted by ``submitter``, a gateway, or the reader), then fetched, checked and decrypted."""
        names = parse_fields(fields)
        served = self.serve(submitter or reader, self.sign_read(reader, subject, names))
        if served.sealed is None or served.tampered:
            return PersonalRead(served.record, served.entry, None, True, served.missing)
        document = decode_document(envelope.open_envelope(served.sealed, reader))
        return PersonalRead(served.record, served.entry, pick(document, names), False)

    # rectify and erase ---------------------------------------------------------------------------
    def rectify(self, account, subject: str, document: dict | None = None, *,
                changes: dict | None = None) -> RecordChange:
        """A controller or the subject replaces the file: ``document`` in full, or ``changes`` merged
        into the current one (``None`` values delete fields; needs the caller's key). The new file has
        a fresh data key; the old file is removed from the store once the chain has the new one."""
        record = self._live(subject)
        self._remember(account)
        if document is None:
            if changes is None:
                raise InvalidInput("give the new personal data, or the fields to change")
            current = decode_document(envelope.open_envelope(self.storage.get(record.pointer), account))
            document = {k: v for k, v in {**current, **changes}.items() if v is not None}
        cid, digest = self._store(record.subject, document, self._readers(record.subject, record.controller,
                                                                          self.consented(record.subject)))
        try:
            change = self.registry.rectify(account, record.subject, cid, digest)
        except ElicenseError:
            self._discard(record.subject, cid)
            raise
        self.collect(record.subject)
        return change

    def reseal(self, account, subject: str) -> RecordChange:
        """The same data under a fresh data key for today's readers: after a processor joins or leaves,
        or a consent ends. ``account`` is the controller or the subject (it decrypts the current file)."""
        return self.rectify(account, subject, changes={})

    def add_processor(self, admin, processor: str, *, progress: Callable[[int, int], None] | None = None) -> int:
        """Grants the processor role and reseals every live record so the processor can read it;
        returns the number of records resealed."""
        processor = types.address(processor, "processor address")
        self.public_key(processor)  # refuse before granting: a processor nobody can encrypt to reads nothing
        self._remember(admin)
        self.registry.grant_role(admin, "processor", processor)
        live = [r for r in self.registry.all_records() if not r.erased]
        for done, record in enumerate(live, 1):
            self.reseal(admin, record.subject)
            if progress:
                progress(done, len(live))
        return len(live)

    def erase(self, account, subject: str) -> Erasure:
        """Art. 17: the chain's erased flag (hash kept for audit), then every file the record ever
        pointed at removed from the store and checked gone."""
        record = self._live(subject)
        change = self.registry.erase(account, record.subject)
        return self._purge(record.subject, change)

    def collect(self, subject: str) -> Erasure:
        """Removes every file of ``subject`` that the record no longer points at (all of them after an
        erasure): finishes a rectification or an erasure that could not reach the store at the time,
        and drops drafts and uploads never signed once they are older than ``PENDING_TTL``."""
        return self._purge(types.address(subject, "data subject address"), None)

    def _purge(self, subject: str, change: RecordChange | None, *, now: float | None = None) -> Erasure:
        """The files of the subject's record are those the chain ever named *and* those the store's index
        says it stored (drafts, uploads never signed). A file another record or asset claims stays."""
        record = self.registry.record(subject)
        history = self.pointers(subject) if record is not None else []
        claims = {c.cid: c for c in self.storage.ownership.claims(self.owner(subject))}
        now = time.time() if now is None else now
        removed, left = [], []
        for cid in dict.fromkeys([*history, *claims]):
            if record is not None and not record.erased and cid == record.pointer:
                continue
            pending = cid not in history and cid in claims and now - claims[cid].stored_at < PENDING_TTL
            if pending and not (record is not None and record.erased):
                continue  # a draft or upload waiting for its signature (a subject with no record yet too)
            held = self.storage.has(cid)
            outcome = self._discard(subject, cid)
            if outcome == "failed":
                left.append(cid)
            elif outcome == "removed" and held:
                removed.append(cid)
        return Erasure(change, tuple(removed), tuple(left))

    def access_log(self, subject: str) -> list[ReadEntry]:
        """The subject's access log, with the field names of the reads made through this service (the
        chain holds only their salted commitments)."""
        return self.registry.access_log(types.address(subject, "data subject address"), openings=self._read_fields)

    def pointers(self, subject: str) -> list[str]:
        """Every CID the subject's record ever pointed at, oldest first."""
        return list(dict.fromkeys(c.pointer for c in self.registry.history(subject) if c.pointer))

    # export (portability) -------------------------------------------------------------------------
    def export(self, subject_account, *, submitter=None) -> dict:
        """Art. 15 and 20: the subject's data and everything the chain holds about it, as one JSON
        document. The subject's own read is logged like any other (``what = "*"``)."""
        read = self.read(subject_account, subject_account.address, "*", submitter=submitter)
        if read.data is None:
            raise Conflict("the stored file does not match the chain's hash (tampered or missing); "
                           "ask the controller to rectify it, then export again")
        subject = read.record.subject
        chain = self.registry.chain
        return {
            "format": EXPORT_FORMAT,
            "exported_at": int(time.time()),
            "registry": {"chain_id": chain.chain_id, "address": self.registry.address},
            "subject": subject,
            "data": read.data,
            "record": types.jsonable(asdict(read.record)),
            "history": [types.jsonable(asdict(c)) for c in self.registry.history(subject)],
            "consent_requests": [types.jsonable(asdict(r)) for r in self.registry.requests_for(subject)],
            "access_log": [types.jsonable(asdict(e)) | {"fields": e.fields} for e in self.access_log(subject)],
            "access_log_verified": self.registry.verify_access_log(subject),
        }

    # list by field ---------------------------------------------------------------------------------
    def list_by_field(self, reader, fields: str | Iterable[str], *, offset: int = 0, limit: int = PAGE,
                      submitter=None) -> RecordPage:
        """Seed 003's Alg. 4: one page of records (order of first creation) with the named fields. The
        reads of the page go on chain in one ``logReads`` transaction; erased records are listed with
        no values and no read."""
        names = parse_fields(fields)
        if not 1 <= limit <= PAGE:
            raise InvalidInput(f"a page holds 1 to {PAGE} records")
        if offset < 0:
            raise InvalidInput("offset must be 0 or more")
        total = self.registry.subject_count()
        records = self.registry.records(offset, limit)
        live = [r for r in records if not r.erased]
        entries: dict[str, ReadEntry] = {}
        tx_hash, gas = None, 0
        if live:
            reads = [self.registry.signed_read(reader, r.subject, names) for r in live]
            logged = self.registry.log_reads(submitter or reader, reads)
            self._read_fields.update((e.what, e.names) for e in logged if e.names is not None)
            entries = {e.subject: e for e in logged}
            tx_hash, gas = logged[0].tx_hash, logged[0].gas_used
        items = []
        for record in records:
            entry = entries.get(record.subject)
            if entry is None or entry.result != "granted":
                items.append(ListedRecord(record.subject, record.version, record.erased,
                                          entry.result if entry else None, False, None))
                continue
            values, tampered = None, True
            try:
                sealed = self.storage.get(record.pointer)
                if envelope.integrity_hash(sealed) == record.integrity_hash:
                    values = pick(decode_document(envelope.open_envelope(sealed, reader)), names)
                    tampered = False
            except ElicenseError:
                pass
            items.append(ListedRecord(record.subject, record.version, False, entry.result, tampered, values))
        return RecordPage(items, offset, total, tx_hash, gas)

    # consent -------------------------------------------------------------------------------------------
    def request_consent(self, requester, subject: str, purpose: Purpose | str | bytes, public_key: bytes | None = None
                        ) -> ConsentRequest:
        """A trusted entity asks for the subject's record; its own public key goes with the request. Only
        the purpose's salted commitment goes on chain; the returned request's ``opening`` (statement and
        salt) is what the requester hands the subject off chain."""
        record = self._live(subject)
        if public_key is None:
            if getattr(requester, "key", None) is None:
                raise InvalidInput("give the requester's public key (64 bytes)")
            public_key = public_key_of(requester)
        purpose = _salted(purpose)
        made = self.registry.request_consent(requester, record.subject, purpose_code(purpose), bytes(public_key))
        return replace(made, opening=purpose) if isinstance(purpose, Purpose) else made

    def pending(self, subject: str) -> list[ConsentRequest]:
        return self.registry.requests_for(types.address(subject, "data subject address"), pending_only=True)

    def _pending_request(self, subject: str, request_id: int) -> ConsentRequest:
        request = self.registry.request(request_id)
        if request is None:
            raise NotFound(f"there is no consent request {request_id}")
        if request.subject != subject:
            raise NotAllowed(f"consent request {request_id} is addressed to {request.subject}, not {subject}")
        if request.status != "pending":
            raise Conflict(f"consent request {request_id} was already answered ({request.status})")
        return request

    def grant(self, subject_account, request_id: int) -> ConsentDecision:
        """The subject grants: the current file's data key is wrapped to the requester too (the data is
        not re-encrypted), the new envelope stored and recorded, the old one removed."""
        record = self._live(subject_account.address)
        request = self._pending_request(record.subject, request_id)
        key = self._request_key(request)
        sealed = envelope.add_reader(self.storage.get(record.pointer), subject_account, request.requester, key)
        cid, digest = self.store_file(record.subject, sealed), envelope.integrity_hash(sealed)
        try:
            decision = self.registry.grant_consent(subject_account, request_id, cid, digest)
        except ElicenseError:
            self._discard(record.subject, cid)
            raise
        self.collect(record.subject)
        return decision

    def _request_key(self, request: ConsentRequest) -> bytes:
        key = request.public_key
        if key is None:
            key = next((r.public_key for r in self.registry.requests_for(request.subject)
                        if r.request_id == request.request_id), None)
        if not key:
            raise NotFound(f"the public key of consent request {request.request_id} is not in the chain's logs")
        return bytes(key)

    def deny(self, subject_account, request_id: int) -> ConsentDecision:
        self._pending_request(types.address(subject_account.address, "subject"), request_id)
        return self.registry.deny_consent(subject_account, request_id)

    def revoke(self, subject_account, requester: str, *, rekey: bool = True) -> RecordChange | None:
        """Withdraws a consent; with ``rekey`` (and the subject's key here) the file is sealed again under a
        fresh data key without the requester, so a data key it kept opens nothing stored from now on."""
        requester = types.address(requester, "requester address")
        self.registry.revoke_consent(subject_account, requester)
        if rekey and getattr(subject_account, "key", None) is not None:
            return self.reseal(subject_account, subject_account.address)
        return None

    # supervision ---------------------------------------------------------------------------------------
    def inventory(self) -> dict[str, set[str]]:
        """What the store holds, by reader: every stored envelope's CID under each address it is wrapped
        for (the audit's view of the store itself, whatever the chain or the index name)."""
        found: dict[str, set[str]] = {}
        for cid in list(self.storage.pins()):
            try:
                readers = envelope.readers(self.storage.get(cid))
            except ElicenseError:
                continue  # not an envelope (an IPFS node's own files), or unreadable: nobody's personal data
            for address in readers:
                found.setdefault(address, set()).add(cid)
        return found

    def _held_for(self, record: PersonalRecord, inventory: dict[str, set[str]]) -> list[str]:
        """Files held for the record besides the current one: those the chain named or the index says it
        stored, and any envelope wrapped for the subject that no other record or asset claims."""
        ownership = self.storage.ownership
        ours = {c.cid for c in ownership.claims(self.owner(record.subject))}
        unclaimed = {c for c in inventory.get(record.subject, ()) if not ownership.owners(c)}
        # a CID the chain names but another record or asset stored is that one's file, not this record's
        named = [c for c in self.pointers(record.subject) if c in ours or not ownership.owners(c)]
        candidates = dict.fromkeys([*named, *sorted(ours), *sorted(unclaimed)])
        return [c for c in candidates if c != record.pointer]

    def audit(self, supervisor, subject: str, *, record_finding: bool = True,
              inventory: dict[str, set[str]] | None = None) -> AuditReport:
        """What a supervisor checks with no data key: the current file is held and matches its hash,
        every other file of the record is gone (earlier versions, drafts, uploads never signed, and any
        envelope in the store wrapped for the subject), and after an erasure the last one too. The
        report's SHA-256 is the evidence recorded on chain with the finding."""
        record = self._record(subject)
        cids = self._held_for(record, self.inventory() if inventory is None else inventory)
        ownership = self.storage.ownership
        current = {"cid": record.pointer, "held": False, "matches": False}
        try:
            sealed = self.storage.get(record.pointer)
            current.update(held=True, matches=envelope.integrity_hash(sealed) == record.integrity_hash)
        except NotFound:
            pass
        except ElicenseError:
            current["held"] = True
        if record.erased and current["held"] and not ownership.owns(self.owner(record.subject), record.pointer) \
                and ownership.owners(record.pointer):
            current["held"] = False  # another record's file, which a look-alike record named
        history = set(self.pointers(record.subject))
        claims = {c.cid: c for c in ownership.claims(self.owner(record.subject))}
        now = time.time()
        earlier = [{"cid": c, "held": self.storage.has(c),
                    "pending": c not in history and c in claims and now - claims[c].stored_at < PENDING_TTL}
                   for c in cids]
        # a draft or upload waiting for the subject's signature is not a leftover of a live record
        leftovers = any(e["held"] and (record.erased or not e["pending"]) for e in earlier)
        if record.erased:
            finding = "erasure-incomplete" if current["held"] or leftovers else "erasure-verified"
        elif not current["held"]:
            finding = "missing"
        elif not current["matches"]:
            finding = "tampered"
        else:
            finding = "erasure-incomplete" if leftovers else "intact"
        facts = {"format": AUDIT_FORMAT, "registry": self.registry.address, "subject": record.subject,
                 "version": record.version, "integrity_hash": _hex(record.integrity_hash), "erased": record.erased,
                 "current": current, "earlier": earlier, "finding": finding}
        evidence = hashlib.sha256(canonical(facts)).digest()
        tx_hash = None
        if record_finding:
            tx_hash = self.registry.record_audit(supervisor, record.subject, finding, evidence).tx_hash
        return AuditReport(record.subject, finding, record.version, _hex(record.integrity_hash), current, earlier,
                           _hex(evidence), tx_hash)

    def audit_all(self, supervisor, *, record_finding: bool = True,
                  progress: Callable[[int, int], None] | None = None) -> list[AuditReport]:
        """Audits every record, page by page; ``progress(done, total)`` after each."""
        total = self.registry.subject_count()
        reports: list[AuditReport] = []
        inventory = self.inventory()  # one pass over the store for all records
        offset = 0
        while offset < total:
            for subject in self.registry.subjects(offset, PAGE):
                reports.append(self.audit(supervisor, subject, record_finding=record_finding, inventory=inventory))
                if progress:
                    progress(len(reports), total)
            offset += PAGE
        return reports


__all__ = ["PersonalData", "Draft", "PersonalRead", "Served", "Erasure", "ListedRecord", "RecordPage", "AuditReport",
           "ReadRefused", "deploy", "is_personal_registry", "encode_document", "decode_document", "pick", "Purpose"]
