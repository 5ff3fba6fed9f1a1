"""The REST routes of personal data under the GDPR (`/api/personal/{registry}/...`, docs/api.md).

The server is the controller's gateway: it submits each reader's signed read to ``logRead`` (paying
the gas with its service account, the reader's signature making the entry theirs) and hands over the
sealed file only when the chain granted it. Everything else follows the API's rule: the subject's
transactions (grant, deny, revoke) are prepared here and signed by the subject's own key in the page;
the data key never reaches the server (the page wraps it to the requester itself).
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, Callable

from fastapi import APIRouter, Path as FPath, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import types
from .chain import ExternalSigner
from .errors import Conflict, InvalidInput, NotAllowed, NotFound
from .personal import PersonalData, is_personal_registry, parse_fields
from .registries.personal import PAGE, PersonalDataRegistry, SignedRead, field_code, field_text, purpose_code
from .storage import envelope

Address = Annotated[str, Field(min_length=1, max_length=64, description="0x-prefixed account address")]
Hex = Annotated[str, Field(min_length=1, max_length=200, description="0x-prefixed hex")]
READ_TTL = 300  # seconds a read request prepared here stays signable
MAX_ENVELOPE = 2 << 20  # bytes: a personal record's envelope (documents are at most 1 MiB)


class Strict(BaseModel):
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


class Purposes:
    """Purpose statements by their keccak256 (the chain keeps only the hash), so the wallet can show
    the sentence a requester gave; kept in a JSON file, each entry checked against its hash."""

    def __init__(self, path: Path | None):
        self.path = path
        self._texts: dict[str, str] = {}
        if path is not None and path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                loaded = {}
            self._texts = {h: t for h, t in loaded.items()
                           if isinstance(t, str) and "0x" + purpose_code(t).hex() == h}

    def add(self, text: str) -> None:
        key = "0x" + purpose_code(text).hex()
        if self._texts.get(key) != text:
            self._texts[key] = text
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps(self._texts, indent=1, ensure_ascii=False), encoding="utf-8")
                tmp.replace(self.path)

    def text(self, purpose: bytes) -> str | None:
        return self._texts.get("0x" + bytes(purpose).hex())


def routes(client, *, service, storage_of: Callable[[], Any], prepare: Callable,
           serve_contract: Callable[[str, str, Any], None], purposes_path: Path | None = None) -> APIRouter:
    """The router. ``prepare`` is the API's (runs an operation up to the caller's signature);
    ``serve_contract(address, name, after)`` lets /api/transactions broadcast to a registry this
    server serves, and calls ``after(events)`` once such a transaction is mined."""
    router = APIRouter(prefix="/api/personal", tags=["personal data"])
    services: dict[str, PersonalData] = {}
    uploads: dict[tuple[str, str], str] = {}  # (registry, subject) -> CID stored for a grant not yet signed
    lock = threading.Lock()
    purposes = Purposes(purposes_path)

    def _request(request) -> dict:
        return types.jsonable(asdict(request)) | {"purpose_text": purposes.text(request.purpose)}

    def service_of(contract: str) -> PersonalData:
        address = types.address(contract, "personal-data registry address")
        if address not in services:
            if not is_personal_registry(client.chain, address):
                raise NotFound(f"{address} is not a PersonalDataRegistry on chain {client.chain.chain_id}")
            registry = PersonalDataRegistry(client.chain, address)
            services[address] = PersonalData(registry, storage_of(), identities=client.identities)
            serve_contract(address, "PersonalDataRegistry", lambda events: after(address, events))
        return services[address]

    def after(address: str, events: list[dict]) -> None:
        """Once a new file or an erasure is on chain, the files it superseded leave the store."""
        subjects = {e["args"]["subject"] for e in events
                    if e["event"] in ("PersonalDataUpdated", "PersonalDataErased")}
        for subject in subjects:
            uploads.pop((address, subject), None)
            services[address].collect(subject)

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
        return {"record": _record(record), "consented": data.consented(subject),
                "requests": [_request(r) for r in data.registry.requests_for(subject)]}

    @router.get("/{contract}/subjects/{subject}/requests", summary="Consent requests made to a subject")
    def subject_requests(contract: str, subject: str, pending: bool = False):
        data = service_of(contract)
        subject = types.address(subject, "data subject address")
        return {"items": [_request(r) for r in data.registry.requests_for(subject, pending_only=pending)]}

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
        for e in data.registry.access_log(subject):
            if e.block_number not in times:
                times[e.block_number] = chain.timestamp(e.block_number)
            items.append({"reader": e.reader, "submitter": e.submitter, "fields": e.fields, "result": e.result,
                          "time": times[e.block_number], "block_number": e.block_number, "tx_hash": e.tx_hash,
                          "access_head": e.access_head})
        return {"items": items, "verified": data.registry.verify_access_log(subject)}

    # ---------------------------------------------------------------- the gateway

    @router.get("/{contract}/read-request", summary="The EIP-712 read request a reader signs (fresh nonce)")
    def read_request(contract: str, subject: Annotated[str, Query(max_length=64)],
                     fields: Annotated[str, Query(min_length=1, max_length=500)] = "*"):
        data = service_of(contract)
        subject = types.address(subject, "data subject address")
        what = field_code(parse_fields(fields))
        deadline = data.registry.chain.timestamp() + READ_TTL
        nonce = secrets.randbits(256)
        typed = data.registry.typed_read(subject, what, deadline, nonce)
        message = {"subject": subject, "what": "0x" + what.hex(), "deadline": deadline, "nonce": str(nonce)}
        return {"typed": {**typed, "message": message}, "what": "0x" + what.hex(), "fields": field_text(what),
                "deadline": deadline, "nonce": str(nonce)}

    @router.post("/{contract}/subjects/{subject}/read",
                 summary="Logs a signed read on chain, then returns the sealed file if the chain granted it")
    def read(contract: str, subject: str, body: PersonalReadIn):
        data = service_of(contract)
        signed = SignedRead(types.address(subject, "data subject address"), types.address(body.reader, "reader address"),
                            types.bytes32(body.what, "what"), body.deadline, _uint256(body.nonce, "nonce"),
                            types.hex_bytes(body.signature, "signature"))
        if service is None:
            raise NotAllowed("this server has no service account to submit reads with")
        with lock:
            served = data.serve(service, signed)  # ReadRefused (403) once the refusal is logged
        entry = served.entry
        return {"record": _record(served.record), "tampered": served.tampered, "missing": served.missing,
                "envelope": "0x" + served.sealed.hex() if served.sealed is not None else None,
                "entry": {"reader": entry.reader, "submitter": entry.submitter, "fields": entry.fields,
                          "result": entry.result, "tx_hash": entry.tx_hash, "block_number": entry.block_number}}

    # ---------------------------------------------------------------- consent (signed by the caller)

    @router.post("/{contract}/requests", summary="A trusted entity asks a subject for their record")
    def request_consent(contract: str, body: ConsentRequestIn):
        data = service_of(contract)
        key = types.hex_bytes(body.public_key, "public key")
        requester = ExternalSigner(types.address(body.requester, "requester address"))
        subject = data._live(body.subject).subject
        purposes.add(body.purpose)
        return prepare(lambda: data.registry.request_consent(requester, subject, purpose_code(body.purpose), key),
                       "requestConsent")

    @router.post("/{contract}/requests/{request_id}/grant",
                 summary="The subject grants: stores the envelope the page re-wrapped to the requester, "
                         "and prepares grantConsent for the subject's signature")
    def grant(contract: str, request_id: Annotated[int, FPath(ge=0, lt=2**64)], body: GrantIn):
        data = service_of(contract)
        subject = types.address(body.subject, "subject address")
        request = data._pending_request(subject, request_id)
        record = data._live(subject)
        sealed = types.hex_bytes(body.envelope, "envelope")
        if len(sealed) > MAX_ENVELOPE:
            raise InvalidInput(f"the envelope is {len(sealed):,} bytes; the limit is {MAX_ENVELOPE:,}")
        readers = envelope.readers(sealed)  # InvalidInput when it is not an envelope
        missing = [a for a in (subject, request.requester) if a not in readers]
        if missing:
            raise InvalidInput(f"the envelope is not wrapped for {', '.join(missing)}")
        if envelope.integrity_hash(sealed) == record.integrity_hash:
            raise Conflict("this envelope is the current file; wrap the data key to the requester first")
        with lock:
            previous = uploads.get((data.registry.address, subject))
            cid = data.storage.add(sealed)
            if previous and previous != cid and previous != record.pointer:
                data._discard(previous)  # an earlier grant the subject never signed
            uploads[(data.registry.address, subject)] = cid
        signer = ExternalSigner(subject)
        return prepare(lambda: data.registry.grant_consent(signer, request_id, cid, envelope.integrity_hash(sealed)),
                       "grantConsent", cid=cid, integrity_hash="0x" + envelope.integrity_hash(sealed).hex())

    @router.post("/{contract}/requests/{request_id}/deny", summary="The subject denies a request")
    def deny(contract: str, request_id: Annotated[int, FPath(ge=0, lt=2**64)], body: SubjectIn):
        data = service_of(contract)
        subject = types.address(body.subject, "subject address")
        data._pending_request(subject, request_id)
        return prepare(lambda: data.registry.deny_consent(ExternalSigner(subject), request_id), "denyConsent")

    @router.post("/{contract}/consents/revoke", summary="The subject withdraws a consent")
    def revoke(contract: str, body: RevokeIn):
        data = service_of(contract)
        subject = types.address(body.subject, "subject address")
        requester = types.address(body.requester, "requester address")
        if not data.registry.consent_of(subject, requester).active:
            raise Conflict(f"{requester} holds no active consent of {subject}")
        return prepare(lambda: data.registry.revoke_consent(ExternalSigner(subject), requester), "revokeConsent")

    return router

