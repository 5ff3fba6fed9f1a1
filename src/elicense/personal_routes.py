"""The REST routes of personal data under the GDPR (`/api/personal/{registry}/...`, docs/api.md).

The server is the controller's gateway: it submits each reader's signed read to ``logRead`` (paying
the gas with its service account, the reader's signature making the entry theirs) and hands over the
sealed file only when the chain granted it. Everything else follows the API's rule: the subject's
transactions (grant, deny, revoke, reseal) are prepared here and signed by the subject's own key in
the page; the data key never reaches the server (the page wraps it to the requester, or reseals).

Trust (docs/security.md): only the registries the operator configured are served; a file is served
only under the record that stored it (storage/owners.py); a file is stored for a subject only with
their signature over its hash; what can be refused off chain costs no gas, and the rest is budgeted;
purpose statements are shown only to the parties to a request and forgotten with the record.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, Callable

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from fastapi import APIRouter, Path as FPath, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import types
from .chain import ExternalSigner
from .commitments import field_commitment, fields_text, new_salt, purpose_commitment
from .errors import Conflict, ElicenseError, InvalidInput, NotAllowed, NotFound
from .personal import PersonalData, is_personal_registry, parse_fields
from .registries.personal import PAGE, PersonalDataRegistry, SignedRead
from .storage import envelope

Address = Annotated[str, Field(min_length=1, max_length=64, description="0x-prefixed account address")]
Hex = Annotated[str, Field(min_length=1, max_length=200, description="0x-prefixed hex")]
READ_TTL = 300  # seconds a read request prepared here stays signable
MAX_ENVELOPE = 2 << 20  # bytes: a personal record's envelope (documents are at most 1 MiB)


class Strict(BaseModel):
    """A request body: unknown keys refused, and any text UTF-8 cannot carry (the API's models too)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _utf8(cls, data):  # JSON's "\ud800" escape gives text that UTF-8, keccak and the stores refuse
        return types.utf8_text(data)


class PersonalReadIn(Strict):
    reader: Address
    what: Annotated[str, Field(min_length=3, max_length=66, description="the fields read, as the bytes32 signed")]
    deadline: Annotated[int, Field(ge=0, lt=2**64)]
    nonce: Annotated[str, Field(min_length=1, max_length=80, description="uint256, decimal or 0x-hex")]
    signature: Hex


class GrantIn(Strict):
    subject: Address
    envelope: Annotated[str, Field(min_length=4, max_length=2 * MAX_ENVELOPE + 2, description="the new envelope, hex")]
    signature: Annotated[Hex, Field(description="the subject's EIP-712 StoreFile signature over the envelope's hash")]


class ResealIn(Strict):
    envelope: Annotated[str, Field(min_length=4, max_length=2 * MAX_ENVELOPE + 2, description="the new envelope, hex")]
    signature: Annotated[Hex, Field(description="the subject's EIP-712 StoreFile signature over the envelope's hash")]


class ViewIn(Strict):
    viewer: Address
    deadline: Annotated[int, Field(ge=0, lt=2**64)]
    signature: Hex


class SubjectIn(Strict):
    subject: Address


class RevokeIn(Strict):
    subject: Address
    requester: Address


class ConsentRequestIn(Strict):
    requester: Address
    subject: Address
    purpose: Annotated[str, Field(min_length=1, max_length=200, description="purpose statement")]
    public_key: Annotated[str, Field(min_length=1, max_length=200, description="the requester's 64-byte key, hex")]


def _uint256(value: str, what: str) -> int:
    try:
        number = int(value, 16) if value.lower().startswith("0x") else int(value)
    except ValueError:
        raise InvalidInput(f"malformed {what}: a decimal or 0x-hex number") from None
    if not 0 <= number < 2**256:
        raise InvalidInput(f"{what} is out of range (uint256)")
    return number


def _record(record) -> dict:
    return types.jsonable(asdict(record)) if record is not None else None


class Throttled(ElicenseError):
    """A caller used up what it may make the service account spend (HTTP 429)."""

    code = "throttled"


class Budget:
    """What callers can make the service account spend on ``logRead``: submissions per reader and per
    client address within a sliding window, with a tighter limit on refusals (which a caller can
    produce at will). Refusals provable off chain never reach it: they cost nothing."""

    def __init__(self, *, window: float = 3600, per_reader: int = 120, refusals_per_reader: int = 10,
                 per_client: int = 600, refusals_per_client: int = 30):
        self.window, self.per_reader, self.refusals_per_reader = window, per_reader, refusals_per_reader
        self.per_client, self.refusals_per_client = per_client, refusals_per_client
        self._spent: dict[tuple[str, str, bool], list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key, now: float) -> list[float]:
        times = [t for t in self._spent.get(key, []) if now - t < self.window]
        self._spent[key] = times
        return times

    def spend(self, reader: str, client: str, refusal: bool) -> None:
        """Counts one submission, or raises :class:`Throttled` (with nothing counted) when over budget."""
        now = time.monotonic()
        limits = [(("reader", reader, False), self.per_reader, reader), (("client", client, False), self.per_client,
                                                                          f"client {client}")]
        if refusal:
            limits += [(("reader", reader, True), self.refusals_per_reader, reader),
                       (("client", client, True), self.refusals_per_client, f"client {client}")]
        with self._lock:
            for key, limit, who in limits:
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = int(self.window - (now - times[0])) + 1
                    kind = "refused reads" if key[2] else "reads"
                    raise Throttled(f"{who} has had {limit} {kind} logged at this server's expense in the last "
                                    f"{int(self.window)} s; try again in {wait} s")
            for key, _, _ in limits:
                self._spent.setdefault(key, []).append(now)


class Purposes:
    """Purpose statements behind their salted on-chain commitments, with who may read each (the subject
    and the requester). Kept in a 0600 JSON file; dropped when the subject's record is erased."""

    def __init__(self, path: Path | None):
        self.path = path
        self._entries: dict[str, dict] = {}
        self._lock = threading.Lock()
        if path is not None and path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                loaded = {}
            self._entries = {c: e for c, e in loaded.items() if isinstance(e, dict) and self._valid(c, e)}

    @staticmethod
    def _valid(commitment: str, entry: dict) -> bool:
        try:
            return "0x" + purpose_commitment(entry["text"], bytes.fromhex(entry["salt"][2:])).hex() == commitment
        except (KeyError, TypeError, ValueError, AttributeError):
            return False

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(self._entries, indent=1, ensure_ascii=False))
        tmp.replace(self.path)

    def add(self, registry: str, subject: str, requester: str, text: str) -> bytes:
        """A fresh salted commitment for ``text``, remembered with its parties; returns the commitment."""
        salt = secrets.token_bytes(32)
        commitment = purpose_commitment(text, salt)
        with self._lock:
            self._entries["0x" + commitment.hex()] = {"registry": registry, "subject": subject, "requester": requester,
                                                      "text": text, "salt": "0x" + salt.hex()}
            self._save()
        return commitment

    def for_party(self, registry: str, subject: str, viewer: str) -> dict[str, dict]:
        return {c: e for c, e in self._entries.items() if e["registry"] == registry and e["subject"] == subject
                and viewer in (e["subject"], e["requester"])}

    def forget(self, registry: str, subject: str) -> int:
        with self._lock:
            gone = [c for c, e in self._entries.items() if e["registry"] == registry and e["subject"] == subject]
            for c in gone:
                del self._entries[c]
            if gone:
                self._save()
        return len(gone)

    def holds(self, text: str) -> bool:
        return any(e["text"] == text for e in self._entries.values())


def _recover(typed: dict, signature: bytes) -> str | None:
    try:
        return Account.recover_message(encode_typed_data(full_message=typed), signature=signature)
    except Exception:  # malformed signature bytes: nobody signed it
        return None


GATEWAY_DOMAIN = "elicense personal-data gateway"
STORE_FIELDS = [{"name": "subject", "type": "address"}, {"name": "integrityHash", "type": "bytes32"},
                {"name": "use", "type": "string"}]
VIEW_FIELDS = [{"name": "subject", "type": "address"}, {"name": "viewer", "type": "address"},
               {"name": "deadline", "type": "uint64"}]


def store_use(request_id: int | None) -> str:
    """What an upload is for, in the subject's signature: ``grant 7`` or ``reseal`` (a signature for
    one cannot be replayed for the other)."""
    return "reseal" if request_id is None else f"grant {request_id}"


def typed_store(registry: PersonalDataRegistry, subject: str, digest: bytes, use: str) -> dict:
    """What the subject signs so that the gateway stores a file for their record (a grant, a reseal)."""
    return registry.typed_data(GATEWAY_DOMAIN, "StoreFile", STORE_FIELDS,
                               {"subject": subject, "integrityHash": "0x" + bytes(digest).hex(), "use": use})


def typed_view(registry: PersonalDataRegistry, subject: str, viewer: str, deadline: int) -> dict:
    """What a party to a subject's consent requests signs to read their purpose statements."""
    return registry.typed_data(GATEWAY_DOMAIN, "ViewPurposes", VIEW_FIELDS,
                               {"subject": subject, "viewer": viewer, "deadline": deadline})


def routes(client, *, service, storage_of: Callable[[], Any], prepare: Callable,
           serve_contract: Callable[[str, str, Any], None], served: Callable[[], list[str]],
           purposes_path: Path | None = None, budget: Budget | None = None,
           referenced: Callable[[str], bool] | None = None) -> APIRouter:
    """The router. ``prepare`` is the API's (runs an operation up to the caller's signature);
    ``served()`` the registries the operator configured (nothing else is served, by any route);
    ``serve_contract(address, name, after)`` lets /api/transactions broadcast to such a registry and
    calls ``after(events)`` once a transaction to it is mined; ``referenced(cid)`` whether a live record
    or asset of a served contract names a file (checked before any removal)."""
    router = APIRouter(prefix="/api/personal", tags=["personal data"])
    services: dict[str, PersonalData] = {}
    lock = threading.Lock()
    purposes = Purposes(purposes_path)
    budget = budget or Budget()
    router.budget, router.purposes = budget, purposes  # the operator's (and the tests') handles
    read_fields: dict[bytes, str] = {}  # `what` commitments of the read requests prepared here -> field names

    def service_of(contract: str) -> PersonalData:
        address = types.address(contract, "personal-data registry address")
        if address not in served():
            raise NotFound(f"{address} is not a personal-data registry this server serves "
                           "(its operator names them with `elicense serve --personal`)")
        if address not in services:
            if not is_personal_registry(client.chain, address):
                raise NotFound(f"{address} is not a PersonalDataRegistry on chain {client.chain.chain_id}")
            registry = PersonalDataRegistry(client.chain, address)
            services[address] = PersonalData(registry, storage_of(), identities=client.identities,
                                             referenced=referenced)
            serve_contract(address, "PersonalDataRegistry", lambda events: after(address, events))
        return services[address]

    def after(address: str, events: list[dict]) -> None:
        """Once a new file or an erasure is on chain, the files it superseded leave the store, and an
        erased record's purpose statements leave this server."""
        for e in events:
            if e["event"] == "PersonalDataErased":
                purposes.forget(address, e["args"]["subject"])
        subjects = {e["args"]["subject"] for e in events
                    if e["event"] in ("PersonalDataUpdated", "PersonalDataErased")}
        for subject in subjects:
            services[address].collect(subject)

    def signed_by(typed: dict, signature: str, who: str, what: str) -> None:
        if _recover(typed, types.hex_bytes(signature, "signature")) != who:
            raise NotAllowed(f"{what} is not signed by {who}")

    def _request(request) -> dict:
        return types.jsonable(asdict(request))  # purpose statements only to the parties (…/purposes)

    # ---------------------------------------------------------------- reads of the chain

    @router.get("/{contract}", summary="A personal-data registry: how many records, and who may do what")
    def overview(contract: str):
        data = service_of(contract)
        registry = data.registry
        return {"address": registry.address, "chain_id": registry.chain.chain_id, "records": registry.subject_count(),
                "controllers": registry.members("controller"), "processors": registry.members("processor"),
                "supervisors": registry.members("supervisor")}

    @router.get("/{contract}/records", summary="One page of records as the chain holds them (no personal data)")
    def records(contract: str, offset: Annotated[int, Query(ge=0, lt=2**63)] = 0,
                limit: Annotated[int, Query(ge=1, le=PAGE)] = PAGE):
        registry = service_of(contract).registry
        return {"total": registry.subject_count(), "offset": offset,
                "items": [_record(r) for r in registry.records(offset, limit)]}

    @router.get("/{contract}/subjects/{subject}", summary="A subject's record on chain, consents and requests")
    def subject_record(contract: str, subject: str):
        data = service_of(contract)
        subject = types.address(subject, "data subject address")
        record = data.registry.record(subject)
        if record is None:
            raise NotFound(f"{subject} has no personal-data record in registry {data.registry.address}")
        if record.erased:
            purposes.forget(data.registry.address, subject)  # erased elsewhere (the CLI): they go here too
        return {"record": _record(record), "consented": data.consented(subject),
                "requests": [_request(r) for r in data.registry.requests_for(subject)]}

    @router.get("/{contract}/subjects/{subject}/requests", summary="Consent requests made to a subject")
    def subject_requests(contract: str, subject: str, pending: bool = False):
        data = service_of(contract)
        subject = types.address(subject, "data subject address")
        return {"items": [_request(r) for r in data.registry.requests_for(subject, pending_only=pending)]}

    @router.get("/{contract}/subjects/{subject}/readers",
                summary="Who the subject's file must be sealed for now, with their public keys (for a reseal)")
    def readers_of(contract: str, subject: str):
        data = service_of(contract)
        record = data._live(subject)
        readers = data._readers(record.subject, record.controller, data.consented(record.subject))
        return {"readers": [{"address": a, "public_key": "0x" + bytes(k).hex()} for a, k in readers.items()]}

    @router.get("/{contract}/subjects/{subject}/log",
                summary="The access log: every read of the subject's data and every failed attempt")
    def access_log(contract: str, subject: str):
        data = service_of(contract)
        subject = types.address(subject, "data subject address")
        if data.registry.record(subject) is None:
            raise NotFound(f"{subject} has no personal-data record in registry {data.registry.address}")
        chain = data.registry.chain
        times: dict[int, int] = {}
        items = []
        for e in data.registry.access_log(subject, openings=read_fields):
            if e.block_number not in times:
                times[e.block_number] = chain.timestamp(e.block_number)
            items.append({"reader": e.reader, "submitter": e.submitter, "fields": e.fields, "result": e.result,
                          "time": times[e.block_number], "block_number": e.block_number, "tx_hash": e.tx_hash,
                          "access_head": e.access_head})
        return {"items": items, "verified": data.registry.verify_access_log(subject)}

    # ---------------------------------------------------------------- purpose statements (parties only)

    @router.get("/{contract}/subjects/{subject}/purposes-request",
                summary="The EIP-712 message a party signs to read the purpose statements of its requests")
    def purposes_request(contract: str, subject: str, viewer: Annotated[str, Query(max_length=64)]):
        data = service_of(contract)
        subject = types.address(subject, "data subject address")
        viewer = types.address(viewer, "viewer address")
        deadline = _now(data) + READ_TTL
        return {"typed": typed_view(data.registry, subject, viewer, deadline), "deadline": deadline}

    @router.post("/{contract}/subjects/{subject}/purposes",
                 summary="The purpose statements of a subject's consent requests, for the subject or the requester")
    def purposes_of(contract: str, subject: str, body: ViewIn):
        data = service_of(contract)
        subject = types.address(subject, "data subject address")
        viewer = types.address(body.viewer, "viewer address")
        if not _now(data) <= body.deadline <= _now(data) + 2 * READ_TTL:
            raise NotAllowed("the signed view request has expired, or is dated too far ahead; sign a fresh one")
        signed_by(typed_view(data.registry, subject, viewer, body.deadline), body.signature, viewer,
                  "the view request")
        record = data.registry.record(subject)
        if record is None or record.erased:
            purposes.forget(data.registry.address, subject)  # erased with the record
            return {"items": []}
        requests = data.registry.requests_for(subject)
        if viewer != subject and all(r.requester != viewer for r in requests):
            raise NotAllowed(f"{viewer} is not a party to any consent request of {subject}: only the subject and "
                             "each requester may read a request's purpose")
        mine = purposes.for_party(data.registry.address, subject, viewer)
        # the salt too, so the page checks the statement against the chain's commitment itself
        return {"items": [{"request_id": r.request_id, "purpose": "0x" + bytes(r.purpose).hex(),
                           "text": mine["0x" + bytes(r.purpose).hex()]["text"],
                           "salt": mine["0x" + bytes(r.purpose).hex()]["salt"]}
                          for r in requests if "0x" + bytes(r.purpose).hex() in mine]}

    # ---------------------------------------------------------------- the gateway

    @router.get("/{contract}/read-request", summary="The EIP-712 read request a reader signs (fresh nonce)")
    def read_request(contract: str, subject: Annotated[str, Query(max_length=64)],
                     fields: Annotated[str, Query(min_length=1, max_length=500)] = "*"):
        data = service_of(contract)
        subject = types.address(subject, "data subject address")
        names, salt = fields_text(parse_fields(fields)), new_salt()
        what = field_commitment(names, salt)  # the chain sees only this; the gateway keeps the names
        read_fields[what] = names
        deadline = _now(data) + READ_TTL  # a quiet chain's last block lags the clock: date it by the later
        nonce = secrets.randbits(256)
        typed = data.registry.typed_read(subject, what, deadline, nonce)
        message = {"subject": subject, "what": "0x" + what.hex(), "deadline": deadline, "nonce": str(nonce)}
        return {"typed": {**typed, "message": message}, "what": "0x" + what.hex(), "fields": names,
                "salt": "0x" + salt.hex(), "deadline": deadline, "nonce": str(nonce)}

    @router.post("/{contract}/subjects/{subject}/read",
                 summary="Logs a signed read on chain, then returns the sealed file if the chain granted it")
    def read(contract: str, subject: str, body: PersonalReadIn, http: Request):
        data = service_of(contract)
        signed = SignedRead(types.address(subject, "data subject address"), types.address(body.reader, "reader address"),
                            types.bytes32(body.what, "what"), body.deadline, _uint256(body.nonce, "nonce"),
                            types.hex_bytes(body.signature, "signature"))
        if service is None:
            raise NotAllowed("this server has no service account to submit reads with")
        refusal = _precheck(data, signed)  # what is provable off chain costs no gas
        budget.spend(signed.reader, http.client.host if http.client else "unknown", refusal)
        with lock:
            served_ = data.serve(service, signed)  # ReadRefused (403) once the refusal is logged
        entry = served_.entry
        return {"record": _record(served_.record), "tampered": served_.tampered, "missing": served_.missing,
                "envelope": "0x" + served_.sealed.hex() if served_.sealed is not None else None,
                "entry": {"reader": entry.reader, "submitter": entry.submitter,
                          "fields": read_fields.get(entry.what, entry.fields),
                          "result": entry.result, "tx_hash": entry.tx_hash, "block_number": entry.block_number}}

    def _precheck(data: PersonalData, signed: SignedRead) -> bool:
        """Refuses, before any gas is spent, what needs no chain to refuse: an unknown subject, a
        signature that is not the named reader's, an expired request, a used nonce, a reader nobody
        knows, a record whose file it did not store. Returns whether the chain will refuse the read
        (a genuine reader's refusal is still logged: the access log is for exactly that)."""
        registry = data.registry
        record = registry.record(signed.subject)
        if record is None:
            raise NotFound(f"{signed.subject} has no personal-data record in registry {registry.address}")
        typed = registry.typed_read(signed.subject, signed.what, signed.deadline, signed.nonce)
        if _recover(typed, signed.signature) != signed.reader:
            raise NotAllowed(f"read refused: {signed.reader} is not who signed the read request (nothing was "
                             "submitted: a forged request costs this server nothing and names nobody in the log)")
        if signed.deadline < _now(data):
            raise NotAllowed("read refused: the signed read request has expired; ask for a fresh one")
        if registry.read_nonce_used(signed.reader, signed.nonce):
            raise Conflict("read refused: this signed read request was used already (a replay)")
        reader = signed.reader
        known = (reader == signed.subject or any(registry.has_role(r, reader) for r in ("controller", "processor",
                                                                                          "supervisor"))
                 or client.identities.role(reader) != "none"
                 or any(r.requester == reader for r in registry.requests_for(signed.subject)))
        if not known:
            raise NotAllowed(f"read refused: {reader} is neither a registered identity nor a party to this registry; "
                             "register the identity first")
        data.check_owned(record)
        return registry.read_policy(signed.subject, reader) != "granted"

    # ---------------------------------------------------------------- consent (signed by the caller)

    @router.post("/{contract}/requests", summary="A trusted entity asks a subject for their record")
    def request_consent(contract: str, body: ConsentRequestIn):
        data = service_of(contract)
        key = types.hex_bytes(body.public_key, "public key")
        requester = types.address(body.requester, "requester address")
        subject = data._live(body.subject).subject
        if not body.purpose.strip():
            raise InvalidInput("a purpose is a non-empty statement")
        commitment = purposes.add(data.registry.address, subject, requester, body.purpose)
        return prepare(lambda: data.registry.request_consent(ExternalSigner(requester), subject, commitment, key),
                       "requestConsent", purpose="0x" + commitment.hex())

    @router.get("/{contract}/subjects/{subject}/store-request",
                summary="The EIP-712 message the subject signs so that the gateway stores a new file for them")
    def store_request(contract: str, subject: str, integrity_hash: Annotated[str, Query(max_length=66)],
                      request_id: Annotated[int | None, Query(ge=0, lt=2**64, description="a grant's; none: a reseal")]
                      = None):
        data = service_of(contract)
        subject = types.address(subject, "data subject address")
        return {"typed": typed_store(data.registry, subject, types.bytes32(integrity_hash, "integrity hash"),
                                     store_use(request_id))}

    def _upload(data: PersonalData, subject: str, hex_envelope: str, signature: str, use: str
                ) -> tuple[str, bytes, bytes]:
        """Stores the subject's new file, only on the subject's signature over its hash; a file is keyed
        by its hash and never replaces or removes another (the subject's earlier upload may yet be signed)."""
        sealed = types.hex_bytes(hex_envelope, "envelope")
        if len(sealed) > MAX_ENVELOPE:
            raise InvalidInput(f"the envelope is {len(sealed):,} bytes; the limit is {MAX_ENVELOPE:,}")
        envelope.readers(sealed)  # InvalidInput when it is not an envelope
        digest = envelope.integrity_hash(sealed)
        signed_by(typed_store(data.registry, subject, digest, use), signature, subject, f"the upload ({use})")
        return data.store_file(subject, sealed, "upload"), digest, sealed

    @router.post("/{contract}/requests/{request_id}/grant",
                 summary="The subject grants: stores the envelope the page re-wrapped to the requester (signed by "
                         "the subject), and prepares grantConsent for the subject's signature")
    def grant(contract: str, request_id: Annotated[int, FPath(ge=0, lt=2**64)], body: GrantIn):
        data = service_of(contract)
        subject = types.address(body.subject, "subject address")
        request = data._pending_request(subject, request_id)
        record = data._live(subject)
        sealed = types.hex_bytes(body.envelope, "envelope")
        readers = envelope.readers(sealed)  # InvalidInput when it is not an envelope
        missing = [a for a in (subject, request.requester) if a not in readers]
        if missing:
            raise InvalidInput(f"the envelope is not wrapped for {', '.join(missing)}")
        if envelope.integrity_hash(sealed) == record.integrity_hash:
            raise Conflict("this envelope is the current file; wrap the data key to the requester first")
        cid, digest, _ = _upload(data, subject, body.envelope, body.signature, store_use(request_id))
        signer = ExternalSigner(subject)
        return prepare(lambda: data.registry.grant_consent(signer, request_id, cid, digest),
                       "grantConsent", cid=cid, integrity_hash="0x" + digest.hex())

    @router.post("/{contract}/subjects/{subject}/reseal",
                 summary="The subject's file sealed again under a fresh data key for today's readers (after a "
                         "revocation): stores it (signed by the subject) and prepares rectify for their signature")
    def reseal(contract: str, subject: str, body: ResealIn):
        data = service_of(contract)
        record = data._live(subject)
        subject = record.subject
        sealed = types.hex_bytes(body.envelope, "envelope")
        expected = set(data._readers(subject, record.controller, data.consented(subject)))
        given = set(envelope.readers(sealed))
        if given != expected:
            parts = [f"not sealed for {', '.join(sorted(expected - given))}" if expected - given else "",
                     f"sealed for {', '.join(sorted(given - expected))}, who may not read it" if given - expected else ""]
            raise InvalidInput("the resealed file is " + " and ".join(p for p in parts if p))
        if envelope.integrity_hash(sealed) == record.integrity_hash:
            raise Conflict("this envelope is the current file; seal the data under a fresh data key")
        cid, digest, _ = _upload(data, subject, body.envelope, body.signature, store_use(None))
        return prepare(lambda: data.registry.rectify(ExternalSigner(subject), subject, cid, digest), "rectify",
                       cid=cid, integrity_hash="0x" + digest.hex())

    @router.post("/{contract}/requests/{request_id}/deny", summary="The subject denies a request")
    def deny(contract: str, request_id: Annotated[int, FPath(ge=0, lt=2**64)], body: SubjectIn):
        data = service_of(contract)
        subject = types.address(body.subject, "subject address")
        data._pending_request(subject, request_id)
        return prepare(lambda: data.registry.deny_consent(ExternalSigner(subject), request_id), "denyConsent")

    @router.post("/{contract}/consents/revoke", summary="The subject withdraws a consent (then reseals: …/reseal)")
    def revoke(contract: str, body: RevokeIn):
        data = service_of(contract)
        subject = types.address(body.subject, "subject address")
        requester = types.address(body.requester, "requester address")
        if not data.registry.consent_of(subject, requester).active:
            raise Conflict(f"{requester} holds no active consent of {subject}")
        return prepare(lambda: data.registry.revoke_consent(ExternalSigner(subject), requester), "revokeConsent")

    router.service_of = service_of
    return router


def _now(data: PersonalData) -> int:
    """The later of the chain's clock and ours: a request is stale once either says so."""
    return max(data.registry.chain.timestamp(), int(time.time()))
