"""Verification of a presented licence, one step per check of DESIGN.md, each with a stable code and
a sentence. The CLI, the API and the inspector page all render this same list."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from eth_account import Account
from eth_account.messages import encode_typed_data

from . import types
from .errors import ElicenseError, InvalidInput
from .licence import disclosed_names_hash, disclosure_hash
from .presentation import Presentation
from .registries import LicenceRegistry

VALID, INVALID, SKIPPED, ERROR = "valid", "invalid", "skipped", "error"

# Sentences for the on-chain check results; the codes never change.
REASONS = {
    "bad-signature": "the holder's signature does not match the holder's address",
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

    @property
    def failed_step(self) -> Step | None:
        return next((s for s in self.steps if s.status in (INVALID, ERROR)), None)

    def to_json(self) -> dict:
        return asdict(self) | {"failed_step": asdict(self.failed_step) if self.failed_step else None}


def verify(client, presentation, *, holder: str, org_code: str, record: bool = True) -> Verdict:
    verdict = Verdict()
    steps = verdict.steps

    def fail(name, code, reason) -> Verdict:
        steps.append(Step(name, INVALID, code, reason))
        return verdict

    # 1. format: a well-formed presentation for this chain and one of its licence registries
    try:
        holder = types.address(holder, "holder address")
        agency_code = types.org_code(org_code)
        p = presentation if isinstance(presentation, Presentation) else Presentation.parse(presentation)
    except InvalidInput as exc:
        return fail("format", "malformed", exc.user_message)
    if p.chain_id != client.chain.chain_id:
        return fail("format", "foreign-chain", f"the presentation is for chain {p.chain_id}, not this chain ({client.chain.chain_id})")
    registry = next(
        (LicenceRegistry(client.chain, a, t) for t, a in client.deployment.licence_registries.items() if a == p.registry),
        None,
    )
    if registry is None:
        return fail("format", "unknown-registry", f"{p.registry} is not a licence registry of this deployment")
    if p.holder != holder:
        return fail("format", "wrong-holder", f"the presentation is by {p.holder}, not by the holder {holder}")
    try:
        data_hash, shown = disclosure_hash(p.disclosure)
    except InvalidInput as exc:
        return fail("format", "malformed", exc.user_message)
    verdict.fields = shown
    steps.append(Step("format", VALID, "ok", f"{types.CERT_TYPE_NAMES.get(registry.cert_type)} licence presentation"))

    # 2. holder signature and freshness (also enforced on chain when recorded)
    licence_id, disclosure, not_after, nonce = p.signed_tuple()
    now = client.chain.w3.eth.get_block("latest")["timestamp"]
    message = registry.typed_presentation(licence_id, disclosed_names_hash(p.disclosed_names), not_after, nonce)
    try:
        signer = Account.recover_message(encode_typed_data(full_message=message), signature=p.signature)
    except Exception:
        signer = None
    if signer != holder:
        steps.append(Step("holder-signature", INVALID, "bad-signature", REASONS["bad-signature"]))
    elif not_after < now:
        steps.append(Step("holder-signature", INVALID, "presentation-expired", REASONS["presentation-expired"]))
    elif client.chain.call(registry.contract.functions.presentationUsed(
            registry.presentation_digest(licence_id, disclosure, not_after, nonce))):
        steps.append(Step("holder-signature", INVALID, "presentation-replayed", REASONS["presentation-replayed"]))
    else:
        steps.append(Step("holder-signature", VALID, "ok", f"signed by the holder, usable for {not_after - now} s more"))

    # 3. data matches what was issued
    presented_id = registry.licence_id_of(data_hash)
    info = registry.licence(presented_id)
    if presented_id != licence_id:
        steps.append(Step("data", INVALID, "data-mismatch", REASONS["data-mismatch"]))
    elif info is None:
        steps.append(Step("data", INVALID, "unknown-licence", REASONS["unknown-licence"]))
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
        issuance = client.find_issuance(registry, info.licence_id)  # the licence the data is of
        agency = client.issuers.agency(info.agency)
        verdict.agency = {"code": info.agency, "name": agency.name if agency else None}
        label = f"{agency.name} ({info.agency})" if agency else info.agency
        if info.agency != types.code_text(agency_code):
            steps.append(Step("issuer", INVALID, "wrong-issuer", f"issued by {label}, not by {org_code}"))
        elif not client.issuers.was_accredited_at_block(info.agency, registry.cert_type, issuance.block_number):
            steps.append(Step("issuer", INVALID, "not-accredited", f"{label} was not accredited at issuance"))
        else:
            steps.append(Step("issuer", VALID, "ok", f"issued by {label}, accredited at block {issuance.block_number}"))

    # 6. anchoring between chains: one chain here, nothing to anchor
    steps.append(Step("anchored", SKIPPED, "single-chain", "all contracts live on one chain"))

    # 7. the inspection recorded in the holder's access log
    if record:
        try:
            result, _, tx = registry.check(client._signer(), holder, agency_code, data_hash, p.signed_tuple(), bytes.fromhex(p.signature.removeprefix("0x")))
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
