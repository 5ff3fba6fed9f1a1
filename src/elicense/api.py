"""The REST API and the pages (`elicense serve`): the five e-licence APIs, agency operations and
verification over HTTP, on the same :class:`Client` as the CLI. See docs/api.md.

No private key reaches this server. A state change runs the client operation as an
:class:`ExternalSigner`, which stops at the signature with the complete unsigned transaction; the
page signs it with the key it holds and posts the signed bytes to ``/api/transactions``. What needs
no one's authority (Merkle proofs to a side chain's mirror, test-chain gas) the server's own service
account pays for.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from fastapi import FastAPI, Path as FPath, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from web3.logs import DISCARD

from . import __version__, crypto, personal_routes, types
from .batch import BatchRow, parse_csv
from .chain import ExternalSigner, SignatureRequired
from .client import Client, QueriedLicence
from .errors import (Conflict, DecryptionError, ElicenseError, InvalidInput, KeystoreError, NodeUnreachable, NotAllowed,
                     NotDeployed, NotFound)
from .personal_routes import Strict  # one strict request model (unknown keys and lone surrogates refused) for both routers
from .verify import REASONS, record_presented

log = logging.getLogger("elicense.api")

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
FAUCET_AMOUNT = 5 * 10**16  # wei: a few hundred transactions on a local chain

STATUS = {InvalidInput: 400, KeystoreError: 400, DecryptionError: 400, NotAllowed: 403, NotFound: 404,
          NotDeployed: 404, Conflict: 409, NodeUnreachable: 502}
CODES = {400: "invalid-input", 403: "not-allowed", 404: "not-found", 409: "conflict", 422: "invalid-request",
         429: "too-many-requests", 502: "node-unreachable", 503: "unavailable"}

Address = Annotated[str, Field(min_length=1, max_length=64, description="0x-prefixed account address")]
Code = Annotated[str, Field(min_length=1, max_length=64, description="organisation code")]
CertType = Annotated[str, Field(min_length=1, max_length=32, description="certificate type name or number")]
Time = Annotated[int, Field(ge=0, le=types.FOREVER, description="unix seconds")]
Fields = Annotated[dict[str, Any], Field(min_length=1, max_length=64, description="licence fields: name -> value")]


class Unavailable(ElicenseError):
    code = "unavailable"


STATUS[Unavailable] = 503
STATUS[personal_routes.Throttled] = 429


# ---------------------------------------------------------------------- request bodies

class IdentityIn(Strict):
    address: Address
    role: Annotated[str, Field(min_length=1, max_length=16)] = "holder"
    public_key: Annotated[str, Field(min_length=1, max_length=200, description="64-byte x‖y public key, hex")]


class FaucetIn(Strict):
    address: Address


class Validity(Strict):
    """Licence data with its optional validity window (from: now, until: no end)."""

    fields: Fields
    valid_from: Time | None = None
    valid_until: Time | None = None


class IssueIn(Validity):
    signer: Address
    type: CertType
    agency: Code
    holder: Address


class RenewIn(Validity):
    signer: Address
    type: CertType


class SealedRenewIn(Strict):
    """A licence document built and encrypted to the holder in the agency's browser: the server gets
    its commitment and ciphertext only, never a field value."""

    signer: Address
    type: CertType
    data_hash: Annotated[str, Field(min_length=64, max_length=66, description="the document's commitment, hex")]
    ciphertext: Annotated[str, Field(min_length=2, max_length=2 + 2 * 16_384, description="ECIES to the holder, hex")]
    valid_from: Time
    valid_until: Time | None = None


class SealedIssueIn(SealedRenewIn):
    agency: Code
    holder: Address


class StatusIn(Strict):
    signer: Address
    type: CertType
    reason: Annotated[int, Field(ge=0, le=255)] = 0


class CsvIn(Strict):
    csv: Annotated[str, Field(min_length=1, max_length=20_000_000)]


class BatchRowIn(Validity):
    holder: Address


class SealedRowIn(Strict):
    """One batch licence built and encrypted to its holder in the browser: no field value."""

    holder: Address
    data_hash: Annotated[str, Field(min_length=64, max_length=66)]
    ciphertext: Annotated[str, Field(min_length=2, max_length=2 + 2 * 16_384)]
    valid_from: Time
    valid_until: Time | None = None


class SealedBatchIn(Strict):
    signer: Address
    type: CertType
    agency: Code
    rows: Annotated[list[SealedRowIn], Field(min_length=1, max_length=10_000)]


class BatchIn(Strict):
    signer: Address
    type: CertType
    agency: Code
    rows: Annotated[list[BatchRowIn], Field(min_length=1, max_length=10_000)]


class VerifyIn(Strict):
    payload: Annotated[str, Field(min_length=1, max_length=20_000, description="QR text (EL1:…) or JSON presentation")]
    org: Code | None = None
    holder: Address | None = None


class InspectionIn(Strict):
    payload: Annotated[str, Field(min_length=1, max_length=20_000)]
    inspector: Address
    org: Code | None = None


class ReadIn(Strict):
    reader: Address
    version: Annotated[int, Field(ge=0, lt=2**32)]
    not_after: Annotated[int, Field(ge=0, lt=2**64)]
    nonce: Annotated[str, Field(min_length=1, max_length=66)]
    signature: Annotated[str, Field(min_length=1, max_length=200)]


class AccessIn(Strict):
    reader: Address
    purpose: Annotated[str, Field(min_length=1, max_length=200, description="why the reader needs the data")]


class RawTxIn(Strict):
    chain_id: Annotated[int, Field(gt=0, lt=2**63)]
    raw: Annotated[str, Field(min_length=4, max_length=200_000, description="0x-prefixed signed transaction")]


# ---------------------------------------------------------------------- the application

def create_app(client: Client, *, service: Any = None, faucet: bool = False, frontend: Path | None = FRONTEND,
               static: dict[str, Path] | None = None, storage=None, gateway_log: Path | None = None,
               personal: list[str] = (), sharing: list[str] = ()) -> FastAPI:
    """``client``: the deployment to serve (its sender is ignored); ``service``: the account that pays
    for mirror proofs and the faucet; ``faucet``: fund new accounts (local chains only); ``static``:
    more folders to serve (URL prefix -> folder), such as the demo's sample keystores; ``personal`` and
    ``sharing``: the PersonalDataRegistry and DataSharing contracts this server serves, and the only
    ones: any other address gets a 404 on every route and a 403 at /api/transactions, whatever code it
    runs (a genuine copy of a contract is still someone else's). ``app.state.personal``/``.sharing``
    hold the lists; only the operator changes them (in process), never a request."""
    app = FastAPI(title="elicense", version=__version__,
                  description="Electronic licences on Ethereum: register, issue, renew, revoke, present, verify. "
                              "State changes are prepared here and signed by the caller's own key.")
    app.state.personal = [types.address(a, "personal-data registry") for a in personal]
    app.state.sharing = [types.address(a, "data-sharing contract") for a in sharing]
    client = client.with_sender(service) if service is not None else client
    client.prover = service
    writes = threading.Lock()  # one preparation at a time: nonces of the service account, bundle store
    funded: set[str] = set()

    def acting(address: str) -> Client:
        acting_client = client.with_sender(ExternalSigner(types.address(address, "signer address")))
        acting_client.prover = service
        return acting_client

    def prepare(operation, *final: str, **extra) -> dict:
        """Runs a client operation up to the caller's signature; the answer carries that transaction.
        ``final``: the contract functions that complete the operation (others, such as a claim
        first, mean: sign this one, then ask again)."""
        with writes:
            try:
                operation()
            except SignatureRequired as needed:
                pending = _pending(client, needed.tx)
                if pending["function"] not in final:  # a step before the operation itself (a claim)
                    return {"sign": pending, "then": "retry"}
                extra = {k: (v(pending) if callable(v) else v) for k, v in extra.items()}
                return {"sign": pending, "then": "done", **extra}
        raise Conflict("nothing to sign: the operation was already done")

    # ------------------------------------------------------------------ errors

    @app.exception_handler(ElicenseError)
    async def elicense_error(request: Request, exc: ElicenseError):
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        return _error(status, exc.user_message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
        return _error(422, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)
        return _error(500, f"internal error ({type(exc).__name__}); the server log has the details")

    # ------------------------------------------------------------------ reads

    @app.get("/api/config", summary="Chains, licence registries and server options")
    def config():
        topology = client.topology
        chains = [{"name": name, "chain_id": entry.chain_id, "parent": entry.parent,
                   "types": [types.CERT_TYPE_NAMES[t] for t in sorted(entry.cert_types)]}
                  for name, entry in topology.chains.items()]
        registries = [{"cert_type": r.cert_type, "type": types.CERT_TYPE_NAMES[r.cert_type], "chain_id": r.chain.chain_id,
                       "chain": client.chain_name(r.chain), "address": r.address} for r in client.registries()]
        return {"version": __version__, "main": topology.main, "chains": chains, "registries": registries,
                "faucet": faucet and service is not None, "service_account": service.address if service else None,
                "personal_registries": list(app.state.personal), "sharing_contracts": list(app.state.sharing)}

    @app.get("/api/identities/{address}", summary="API 4: role and public key of a registered account")
    def identity(address: str):
        found = client.identities.identity(types.address(address))
        if found is None:
            raise NotFound(f"{to_checksum_address(address)} is not registered")
        return {"address": found.address, "role": found.role, "public_key": "0x" + bytes(found.public_key).hex()}

    @app.get("/api/agencies", summary="Accredited agencies")
    def agencies():
        return [_agency(a) for a in client.issuers.agencies()]

    @app.get("/api/agencies/{code}", summary="One agency by organisation code")
    def agency(code: str):
        types.org_code(code)
        found = client.issuers.agency(code)
        if found is None:
            raise NotFound(f"no agency has organisation code {code!r}")
        return _agency(found)

    @app.get("/api/agencies/{code}/licences", summary="What an agency issued, newest first")
    def agency_licences(code: str, offset: Annotated[int, Query(ge=0)] = 0,
                        limit: Annotated[int, Query(ge=1, le=1000)] = 200):
        types.org_code(code)
        if client.issuers.agency(code) is None:
            raise NotFound(f"no agency has organisation code {code!r}")
        found = client.issued_by(code)
        return {"total": len(found), "items": [_licence(client, q, ciphertext=False) for q in found[offset:offset + limit]]}

    @app.get("/api/holders/{address}/licences", summary="API 5: every licence of a holder, encrypted to them")
    def holder_licences(address: str):
        return [_licence(client, q) for q in client.licences_of(types.address(address, "holder address"))]

    @app.get("/api/holders/{address}/inspections",
             summary="The holder's inspection log: every check of their licences, failed ones too, newest first")
    def holder_inspections(address: str, offset: Annotated[int, Query(ge=0, lt=2**31)] = 0,
                           limit: Annotated[int, Query(ge=1, le=1000)] = 100):
        return client.inspections(types.address(address, "holder address"), offset=offset, limit=limit).to_json()

    @app.get("/api/licences/{tx_hash}", summary="API 5 as seed 002 names it: the licence a transaction issued")
    def licence_of_tx(tx_hash: str, holder: Annotated[str, Query(max_length=64)],
                      block: Annotated[int, Query(ge=0, lt=2**63)]):
        return _licence(client, client.query_licence(holder, block, tx_hash))

    # ------------------------------------------------------------------ API 1: register

    @app.post("/api/identities", summary="API 1: register an account with its public key (signed by that account)")
    def register(body: IdentityIn):
        address = types.address(body.address)
        role = types.role(body.role)
        if role == types.ROLES["authority"]:
            raise NotAllowed("authorities are added by governance, not by self-registration")
        public = types.hex_bytes(body.public_key, "public key")
        if len(public) == 65 and public[0] == 4:
            public = public[1:]
        if crypto.address_of(public) != address:
            raise InvalidInput(f"the public key belongs to {crypto.address_of(public)}, not to {address}")
        if client.identities.role(address) != "none":
            raise Conflict(f"{address} is already registered")
        return prepare(lambda: client.identities.register(ExternalSigner(address), role, public), "register")

    @app.post("/api/faucet", summary="Gas money for a new account (local chains, `serve --faucet` only)")
    def fund(body: FaucetIn):
        if not faucet or service is None:
            raise Unavailable("this server has no faucet; fund the account from elsewhere")
        address = types.address(body.address)
        if address in funded:
            raise Conflict(f"{address} was funded already")
        with writes:
            client.fund(address, FAUCET_AMOUNT)
        funded.add(address)
        return {"address": address, "amount": FAUCET_AMOUNT}

    # ------------------------------------------------------------------ API 2 and agency operations

    @app.post("/api/licences", summary="API 2: issue a licence (signed by an agency signer)")
    def issue(body: IssueIn):
        c = acting(body.signer)
        return prepare(lambda: c.send_certification(body.holder, body.agency, body.type, body.fields,
                                                     valid_from=body.valid_from,
                                                     valid_until=_until(body.valid_until)),
                       "issue", licence_id=lambda p: _licence_id(c, body.type, p))

    @app.post("/api/licences/{licence_id}/renew", summary="Renew a licence with new data (the old one is marked renewed)")
    def renew(licence_id: str, body: RenewIn):
        c = acting(body.signer)
        return prepare(lambda: c.renew(body.type, licence_id, body.fields, valid_from=body.valid_from,
                                       valid_until=_until(body.valid_until)),
                       "renew", licence_id=lambda p: _licence_id(c, body.type, p))

    @app.get("/api/time", summary="The clock of the chain holding a certificate type's registry (latest block)")
    def chain_time(type: Annotated[str, Query(min_length=1, max_length=32, pattern="^[A-Za-z0-9-]+$")]):
        registry = client.licences(type)
        return {"type": types.CERT_TYPE_NAMES[registry.cert_type], "chain_id": registry.chain.chain_id,
                "now": registry.chain.timestamp()}

    @app.post("/api/licences/sealed", summary="Issue a licence built and encrypted in the browser (no field values)")
    def issue_sealed(body: SealedIssueIn):
        c = acting(body.signer)
        ciphertext = types.hex_bytes(body.ciphertext, "ciphertext")
        return prepare(lambda: c.issue_sealed(body.holder, body.agency, body.type, body.data_hash, ciphertext,
                                              body.valid_from, _until(body.valid_until)),
                       "issue", licence_id=lambda p: _licence_id(c, body.type, p))

    @app.post("/api/licences/{licence_id}/renew/sealed",
              summary="Renew a licence with a document built and encrypted in the browser (no field values)")
    def renew_sealed(licence_id: str, body: SealedRenewIn):
        c = acting(body.signer)
        ciphertext = types.hex_bytes(body.ciphertext, "ciphertext")
        return prepare(lambda: c.renew_sealed(body.type, licence_id, body.data_hash, ciphertext, body.valid_from,
                                              _until(body.valid_until)),
                       "renew", licence_id=lambda p: _licence_id(c, body.type, p))

    @app.post("/api/licences/{licence_id}/{action}", summary="Suspend, reinstate or revoke a licence")
    def change_status(licence_id: str, action: str, body: StatusIn):
        c = acting(body.signer)
        types.bytes32(licence_id, "licence id")
        operations = {
            "suspend": lambda: c.suspend(body.type, licence_id, body.reason),
            "reinstate": lambda: c.reinstate(body.type, licence_id),
            "revoke": lambda: c.revoke(body.type, licence_id, body.reason),
        }
        if action not in operations:
            raise NotFound(f"no action {action!r}; use suspend, reinstate or revoke")
        return prepare(operations[action], action)

    @app.post("/api/batches/csv", summary="Read a batch CSV (holder column, one column per field)")
    def batch_csv(body: CsvIn):
        rows = parse_csv(body.csv.splitlines(), types.parse_time, "the CSV")
        return {"count": len(rows), "rows": [{"holder": r.holder, "fields": r.fields, "valid_from": r.valid_from,
                                               "valid_until": r.valid_until} for r in rows]}

    @app.post("/api/batches", summary="Issue many licences under one Merkle root (signed by an agency signer)")
    def batch(body: BatchIn):
        c = acting(body.signer)
        rows = [BatchRow(types.address(r.holder, "holder address"), r.fields, r.valid_from, _until(r.valid_until))
                for r in body.rows]
        return prepare(lambda: c.issue_batch(body.type, body.agency, rows), "issueBatch",
                       root=lambda p: p["args"]["root"], count=len(rows))

    @app.post("/api/batches/sealed",
              summary="Issue many licences built and encrypted in the browser under one Merkle root (no field values)")
    def batch_sealed(body: SealedBatchIn):
        from .batch import SealedRow

        c = acting(body.signer)
        rows = [SealedRow(r.holder, r.data_hash, r.valid_from, _until(r.valid_until),
                          types.hex_bytes(r.ciphertext, f"ciphertext of row {n}")) for n, r in enumerate(body.rows, 1)]
        # the tree goes back too: the page checks its own leaves are in it before signing the root
        return prepare(lambda: c.issue_batch_sealed(body.type, body.agency, rows), "issueBatch",
                       root=lambda p: p["args"]["root"], count=len(rows),
                       tree=lambda p: c.bundle(types.bytes32(p["args"]["bundleHash"], "bundle hash")).tree.dump())

    # ------------------------------------------------------------------ API 3: check

    @app.post("/api/verify", summary="API 3 without recording: the verdict on a presentation, step by step")
    def verify(body: VerifyIn):
        return client.check(body.holder, body.org, body.payload, record=False).to_json()

    @app.post("/api/inspections", summary="API 3: record an inspection on chain (signed by the inspector)")
    def inspect(body: InspectionIn):
        c = acting(body.inspector)
        if client.identities.role(c.sender.address) != "inspector":
            raise NotAllowed(f"{c.sender.address} is not a registered inspector")
        return prepare(lambda: record_presented(c, body.payload, body.org), "check", "checkBatched")

    # ------------------------------------------------------------------ contracts served beyond the deployment

    after_tx: dict[str, Any] = {}  # address -> what to do once a transaction to it is mined
    def storage_of():
        nonlocal storage
        if storage is None:
            from .storage import open_store

            storage = open_store()
        return storage

    def serve_contract(address: str, name: str, after=None) -> None:
        """Lets /api/transactions broadcast to a contract of the main chain this server serves
        (a data owner's DataSharing, a controller's PersonalDataRegistry), after checking its code."""
        main = client.topology.main
        client._cache.setdefault("api-served", {}).setdefault(main, {})[address] = (
            name, client.chain.contract(name, address))
        if after is not None:
            after_tx[address] = after

    def referenced(cid: str) -> bool:
        """Whether a live record or an active asset of a contract this server serves names ``cid``: no
        clean-up removes such a file, whoever's erase or rectification set it off."""
        from .registries.personal import PersonalDataRegistry
        from .registries.sharing import DataSharing

        def named_by_records(address: str) -> bool:
            return any(r.pointer == cid and not r.erased for r in PersonalDataRegistry(client.chain, address).all_records())

        def named_by_assets(address: str) -> bool:
            contract, offset = DataSharing(client.chain, address), 0
            total = contract.count()
            while offset < total:
                page = contract.directory(offset, 100)
                if any(e.pointer == cid and e.status == "active" for e in page):
                    return True
                offset += max(len(page), 1)
            return False

        for check, addresses in ((named_by_records, app.state.personal), (named_by_assets, app.state.sharing)):
            for address in list(addresses):
                try:
                    if check(address):
                        return True
                except Exception:  # a contract that cannot answer (a misconfigured address): keep the file
                    return True
        return False

    purposes = (gateway_log or Path.home() / ".elicense" / "gateway") / "purposes.json"
    personal_router = personal_routes.routes(client, service=service, storage_of=storage_of, prepare=prepare,
                                             serve_contract=serve_contract, served=lambda: app.state.personal,
                                             purposes_path=purposes, referenced=referenced)
    app.state.read_budget, app.state.purposes = personal_router.budget, personal_router.purposes
    app.include_router(personal_router)

    # ------------------------------------------------------------------ shared data sets (gateway)

    gateways: dict[tuple[int, str], Any] = {}

    def gateway(contract: str):
        from .sharing import Gateway, is_data_sharing

        address = types.address(contract, "data-sharing contract address")
        if address not in app.state.sharing:
            raise NotFound(f"{address} is not a data-sharing contract this server serves "
                           "(its operator names them with `elicense serve --sharing`)")
        key = (client.chain.chain_id, address)
        if key not in gateways:
            if not is_data_sharing(client.chain, address):
                raise NotFound(f"{address} is not a DataSharing contract on chain {client.chain.chain_id}")
            from .registries.sharing import DataSharing

            log = (gateway_log or Path.home() / ".elicense" / "gateway") / f"{client.chain.chain_id}-{address}.jsonl"
            gateways[key] = Gateway(DataSharing(client.chain, address), storage_of(), log)
            serve_contract(address, "DataSharing")
        return gateways[key]

    @app.get("/api/sharing/{contract}/assets", summary="The directory of a data owner's shared assets, paged")
    def sharing_directory(contract: str, offset: Annotated[int, Query(ge=0, lt=2**63)] = 0,
                          limit: Annotated[int, Query(ge=1, le=100)] = 100):
        sharing = gateway(contract).sharing
        return {"owner": sharing.owner(), "total": sharing.count(),
                "items": [types.jsonable(asdict(e)) for e in sharing.directory(offset, limit)]}

    @app.get("/api/sharing/{contract}/assets/{asset_id}", summary="One shared asset: header, metadata, counters")
    def sharing_asset(contract: str, asset_id: Annotated[int, FPath(ge=0, lt=2**64)]):
        asset = gateway(contract).sharing.asset(asset_id)
        if asset is None:
            raise NotFound(f"there is no shared data asset {asset_id}")
        return types.jsonable(asdict(asset))

    @app.get("/api/sharing/{contract}/assets/{asset_id}/read-request",
             summary="The EIP-712 read request a reader signs for the gateway (fresh nonce, current version)")
    def sharing_read_request(contract: str, asset_id: Annotated[int, FPath(ge=0, lt=2**64)]):
        import os
        import time

        from .sharing import MAX_TTL, typed_read

        sharing = gateway(contract).sharing
        asset = sharing.asset(asset_id)
        if asset is None:
            raise NotFound(f"there is no shared data asset {asset_id}")
        not_after = int(max(client.chain.timestamp(), time.time())) + MAX_TTL // 2
        nonce = "0x" + os.urandom(32).hex()
        typed = typed_read(sharing, asset_id, asset.version, not_after, bytes.fromhex(nonce[2:]))
        return {"typed": {**typed, "message": {**typed["message"], "nonce": nonce}},
                "request": {"version": asset.version, "not_after": not_after, "nonce": nonce}}

    @app.post("/api/sharing/{contract}/assets/{asset_id}/access",
              summary="Prepares requestAccess (with the asset's fee) for the reader's signature")
    def sharing_access(contract: str, asset_id: Annotated[int, FPath(ge=0, lt=2**64)], body: AccessIn):
        from .commitments import Purpose

        sharing = gateway(contract).sharing
        if sharing.asset(asset_id) is None:
            raise NotFound(f"there is no shared data asset {asset_id}")
        reader = ExternalSigner(types.address(body.reader, "reader address"))
        purpose = Purpose.new(body.purpose)  # on chain only salted; the salt goes back to the reader alone
        return prepare(lambda: sharing.request_access(reader, asset_id, purpose), "requestAccess",
                       purpose="0x" + purpose.commitment.hex(), purpose_salt="0x" + purpose.salt.hex())

    @app.post("/api/sharing/{contract}/assets/{asset_id}/read",
              summary="The gateway: an asset's sealed file for a fresh signed read request the contract admits",
              response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}})
    def sharing_read(contract: str, asset_id: Annotated[int, FPath(ge=0, lt=2**64)], body: ReadIn):
        request = body.model_dump() | {"asset_id": asset_id}
        return Response(gateway(contract).read(request), media_type="application/octet-stream")

    # ------------------------------------------------------------------ signed transactions

    @app.post("/api/transactions", summary="Broadcast a transaction signed by its sender; returns what it did")
    def submit(body: RawTxIn):
        raw = types.hex_bytes(body.raw, "signed transaction")
        try:
            tx = TypedTransaction.from_bytes(HexBytes(raw)).as_dict() if raw and raw[0] < 0x80 else None
            sender = Account.recover_transaction(raw)
        except Exception:
            raise InvalidInput("the signed transaction cannot be decoded") from None
        if tx is None:
            raise InvalidInput("only typed (EIP-1559) transactions are accepted")
        name = client.topology.name_of_chain_id(body.chain_id)
        if name is None or tx.get("chainId") != body.chain_id:
            raise InvalidInput(f"chain {body.chain_id} is not part of this deployment, or the transaction is for another")
        to = to_checksum_address(tx["to"]) if tx.get("to") else None
        if name == client.topology.main and to in app.state.personal:
            personal_router.service_of(to)  # checks its code, hooks the clean-up after the transaction
        elif name == client.topology.main and to in app.state.sharing:
            gateway(to)
        contracts = {a: c for a, c in _contracts(client, name).items()
                     if a in _contracts(client, name, served=False) or a in app.state.personal or a in app.state.sharing}
        if to not in contracts:
            raise NotAllowed("this server only broadcasts transactions to the contracts of its deployment and the "
                             "personal-data registries and data-sharing contracts its operator configured")
        chain = client.topology.chain(name)
        result = chain.send_raw(raw, sender)
        events = _events(client, name, result.logs)
        if to in after_tx and to in contracts:
            after_tx[to](events)
        return {"tx_hash": result.tx_hash, "block_number": result.block_number, "gas_used": result.gas_used,
                "from": sender, "to": to, "events": events, "summary": _summary(events)}

    for prefix, folder in (static or {}).items():
        app.mount(prefix, StaticFiles(directory=folder), name=prefix.strip("/").replace("/", "-"))
    if frontend is not None and frontend.is_dir():
        app.mount("/", StaticFiles(directory=frontend, html=True), name="pages")
    return app


# ---------------------------------------------------------------------- helpers

def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": CODES.get(status, "error" if status < 500 else "internal"),
                                   "message": message}}, status_code=status)


def _until(value: int | None) -> int:
    return types.FOREVER if value is None else value


def _agency(a) -> dict:
    return {"code": a.code, "name": a.name, "parent": a.parent or None, "status": a.status, "active": a.status == "active",
            "types": list(a.cert_types), "signers": list(a.signers), "created_at": a.created_at}


def _licence(client: Client, q: QueriedLicence, ciphertext: bool = True) -> dict:
    registry = client.licences(q.cert_type)
    data = {
        "licence_id": q.licence_id, "cert_type": q.cert_type, "type": types.CERT_TYPE_NAMES[q.cert_type],
        "agency": q.agency, "agency_name": client.agency_name(q.agency), "holder": q.holder, "data_hash": q.data_hash,
        "valid_from": q.valid_from, "valid_until": q.valid_until, "previous": q.previous, "status": q.status,
        "tx_hash": q.tx_hash, "block_number": q.block_number, "chain_id": registry.chain.chain_id,
        "registry": registry.address, "batch": q.batch, "batch_root": q.batch["root"] if q.batch else None,
    }
    if ciphertext:
        data["ciphertext"] = "0x" + bytes(q.ciphertext).hex()
    return data


def _contracts(client: Client, name: str, served: bool = True) -> dict:
    """address -> (contract name, wrapper-less web3 contract) of every contract on chain ``name``
    (with ``served``, also the registries and sharing contracts the API has served)."""
    cache = client._cache.setdefault("api-contracts", {})
    if name not in cache:
        topology = client.topology
        chain = topology.chain(name)
        deployment = topology.deployment(name)
        found = {}
        for attr, contract in (("identity_registry", "IdentityRegistry"), ("issuer_registry", "IssuerRegistry"),
                               ("anchor_registry", "AnchorRegistry"), ("registry_mirror", "RegistryMirror")):
            address = getattr(deployment, attr, None)
            if address:
                found[address] = (contract, chain.contract(contract, address))
        for address in deployment.licence_registries.values():
            found[address] = ("LicenseRegistry", chain.contract("LicenseRegistry", address))
        cache[name] = found
    if not served:
        return cache[name]
    return {**cache[name], **client._cache.get("api-served", {}).get(name, {})}


def _pending(client: Client, tx: dict) -> dict:
    """The unsigned transaction as the page's signer wants it, with the call decoded for display."""
    name = client.topology.name_of_chain_id(tx["chainId"])
    contract_name, contract = _contracts(client, name)[to_checksum_address(tx["to"])]
    function, args = contract.decode_function_input(tx["data"])
    unsigned = {k: tx[k] for k in ("chainId", "nonce", "to", "data", "value", "gas", "maxFeePerGas",
                                   "maxPriorityFeePerGas", "gasPrice") if k in tx}
    unsigned["type"] = 2 if "maxFeePerGas" in unsigned else 0
    if isinstance(unsigned["data"], bytes):
        unsigned["data"] = "0x" + unsigned["data"].hex()
    shown = {k: types.jsonable(v) for k, v in args.items()}
    return {"chain_id": tx["chainId"], "tx": unsigned, "from": tx["from"], "contract": contract_name,
            "function": function.fn_name, "args": shown,
            "what": f"{contract_name}.{function.fn_name} on chain {tx['chainId']} ({name})"}


def _licence_id(client: Client, cert_type: str, pending: dict) -> str:
    """The id the pending issuance will get: it binds the signer's agency."""
    registry = client.licences(cert_type)
    agency = client.issuers.agency_of_signer(client._signer().address)
    return "0x" + registry.licence_id_of(agency, bytes.fromhex(pending["args"]["dataHash"][2:])).hex()


def _events(client: Client, name: str, logs) -> list[dict]:
    contracts = _contracts(client, name)
    decoded = []
    for entry in logs:
        known = contracts.get(to_checksum_address(entry["address"]))
        if known is None:
            continue
        contract_name, contract = known
        for event in contract.events:
            for e in event.process_receipt({"logs": [entry]}, errors=DISCARD):
                decoded.append({"contract": contract_name, "event": e["event"], "args": types.jsonable(dict(e["args"]))})
    return decoded


def _summary(events: list[dict]) -> dict:
    from .registries.licences import CHECK_RESULTS

    for e in events:
        args = e["args"]
        if e["event"] == "LicenseChecked":
            code = CHECK_RESULTS[args["result"]] if args["result"] < len(CHECK_RESULTS) else str(args["result"])
            return {"result": code, "reason": "the licence checked valid" if code == "valid" else REASONS.get(code, code),
                    "licence_id": args["licenceId"], "holder": args["holder"], "inspector": args["inspector"]}
        if e["event"] == "LicenseIssued":
            return {"licence_id": args["licenceId"], "holder": args["holder"], "renewal_of": args["previous"]
                    if int(args["previous"], 16) else None}
        if e["event"] == "LicenseBatchIssued":
            return {"root": args["root"], "count": args["count"]}
        if e["event"] == "IdentityRegistered":
            return {"address": args.get("account"), "role": types.ROLE_NAMES.get(args.get("role"))}
        if e["event"] in ("LicenseSuspended", "LicenseReinstated", "LicenseRevoked"):
            return {"licence_id": args["licenceId"], "status": e["event"].removeprefix("License").lower()}
    return {}
