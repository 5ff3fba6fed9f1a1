"""Turns a contract's custom error into a sentence that says who and what, once, for every caller."""

from __future__ import annotations

from functools import lru_cache

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from . import artifacts
from .errors import Conflict, ElicenseError, InvalidInput, NotAllowed, NotFound
from .types import CERT_TYPE_NAMES, code_text

_ROLE_NAMES = {
    b"\0" * 32: "admin", keccak(text="CONTROLLER_ROLE"): "data controller",
    keccak(text="PROCESSOR_ROLE"): "data processor", keccak(text="SUPERVISOR_ROLE"): "supervisor",
}
REQUEST_STATUS = ["none", "pending", "granted", "denied"]
STATUS_NAMES = ["none", "active", "suspended", "revoked", "renewed", "expired", "not yet valid", "under a closed record"]
AGENCY_STATUS = ["unknown", "active", "suspended"]


def _type_name(t: int) -> str:
    return CERT_TYPE_NAMES.get(t, f"type {t}")


# name -> (error class, message template taking the decoded arguments)
_MESSAGES = {
    "IdentityKeyMalformed": (InvalidInput, lambda a: f"public key must be 64 bytes (x‖y), got {a[0]}"),
    "IdentityKeyMismatch": (NotAllowed, lambda a: f"the public key belongs to {a[1]}, not to the sender {a[0]}"),
    "IdentityAlreadyRegistered": (Conflict, lambda a: f"{a[0]} is already registered"),
    "IdentityRoleInvalid": (InvalidInput, lambda a: f"role {a[0]} is not holder, issuer, inspector or authority"),
    "IdentityUnknown": (NotFound, lambda a: f"{a[0]} is not a registered identity"),
    "IssuerNotAuthority": (NotAllowed, lambda a: f"{a[0]} is not a governing authority"),
    "IssuerProposalUnknown": (NotFound, lambda a: f"there is no proposal {a[0]}"),
    "IssuerProposalExecuted": (Conflict, lambda a: f"proposal {a[0]} has already taken effect"),
    "IssuerProposalStale": (Conflict, lambda a: f"proposal {a[0]} is stale: the authority set changed since; propose again"),
    "IssuerAlreadyApproved": (Conflict, lambda a: f"{a[1]} already approved proposal {a[0]}"),
    "IssuerCodeEmpty": (InvalidInput, lambda a: "the organisation code is empty"),
    "IssuerAgencyExists": (Conflict, lambda a: f"agency {code_text(a[0])} already exists"),
    "IssuerAgencyUnknown": (NotFound, lambda a: f"no agency has organisation code {code_text(a[0])}"),
    "IssuerAgencyStatus": (Conflict, lambda a: f"agency {code_text(a[0])} is {AGENCY_STATUS[a[1]]}"),
    "IssuerAgencyIncomplete": (InvalidInput, lambda a: f"agency {code_text(a[0])} needs at least one signer and one "
                                                       f"certificate type (or the civil-registry capability)"),
    "IssuerSignerTaken": (Conflict, lambda a: f"{a[0]} already signs for agency {code_text(a[1])}"),
    "IssuerSignerNotRegistered": (NotAllowed, lambda a: f"signer {a[0]} is not registered as an issuer identity"),
    "IssuerTypesNotDelegated": (
        NotAllowed,
        lambda a: f"parent {code_text(a[1])} may not issue {', '.join(_type_name(t) for t in range(256) if a[2] >> t & 1)}",
    ),
    "IssuerChainTooDeep": (InvalidInput, lambda a: f"the authority chain above {code_text(a[0])} is too deep"),
    "IssuerAuthorityExists": (Conflict, lambda a: f"{a[0]} is already an authority"),
    "IssuerAuthorityUnknown": (NotFound, lambda a: f"{a[0]} is not an authority"),
    "IssuerLastAuthority": (Conflict, lambda a: f"{a[0]} is the last authority and cannot be removed"),
    "IssuerAuthoritiesInvalid": (InvalidInput, lambda a: "the authority list is empty or has duplicates"),
    "LicenseNotAccredited": (
        NotAllowed,
        lambda a: f"{a[0]} does not sign for an agency accredited for {_type_name(a[1])} (unregistered or suspended issuer)",
    ),
    "LicenseHolderUnknown": (NotFound, lambda a: f"{a[0]} is not a registered holder"),
    "LicenseRecordClosed": (Conflict, lambda a: f"the record of holder {a[0]} is closed; nothing more can be added"),
    "LicenseValidityInvalid": (InvalidInput, lambda a: f"validity {a[0]}..{a[1]} is empty or already over"),
    "LicenseCiphertextInvalid": (InvalidInput, lambda a: f"ciphertext length {a[0]} is out of range"),
    "LicenseDataHashEmpty": (InvalidInput, lambda a: "the licence data hash is empty"),
    "LicenseAlreadyIssued": (Conflict, lambda a: f"licence 0x{a[0].hex()} was already issued (replay)"),
    "LicenseUnknown": (NotFound, lambda a: f"no licence 0x{a[0].hex()} in this registry"),
    "LicenseNotIssuer": (NotAllowed, lambda a: f"{a[1]} does not sign for the agency that issued licence 0x{a[0].hex()}"),
    "LicenseStatusInvalid": (Conflict, lambda a: f"licence 0x{a[0].hex()} is {STATUS_NAMES[a[1]]}"),
    "LicenseNotInspector": (NotAllowed, lambda a: f"{a[0]} is not an inspector authorised in this registry by an agency"),
    "LicenseInspectorNotRegistered": (NotAllowed, lambda a: f"{a[0]} is not a registered inspector identity"),
    "LicenseInspectorTaken": (Conflict, lambda a: f"inspector {a[0]} is already authorised by agency {code_text(a[1])}"),
    "LicenseNotInspectorAgency": (NotAllowed, lambda a: f"{a[1]} does not sign for the agency that authorised "
                                                        f"inspector {a[0]} (or no agency did)"),
    "LicenseNotCivilRegistry": (NotAllowed, lambda a: f"{a[0]} does not sign for a civil registry: only an agency "
                                                      f"governance named a civil registry may close a record"),
    "LicenseReasonInvalid": (InvalidInput, lambda a: f"reason code {a[0]} is not allowed here"),
    "LicenseTooManyAgencies": (Conflict, lambda a: "this registry has no room for another agency"),
    "LicenseBatchInvalid": (InvalidInput, lambda a: "a batch needs a non-zero Merkle root and at least one licence"),
    "LicenseBatchExists": (Conflict, lambda a: f"agency {code_text(a[0])} already issued batch 0x{a[1].hex()} (replay)"),
    "LicenseBatchUnknown": (NotFound, lambda a: f"agency {code_text(a[0])} issued no batch with root 0x{a[1].hex()} "
                                                f"in this registry"),
    "LicenseBatchProofInvalid": (InvalidInput, lambda a: f"the Merkle proof does not lead to batch root 0x{a[0].hex()}"),
    "AnchorSourceInvalid": (InvalidInput, lambda a: f"chain {a[0]} cannot be anchored here (zero or this chain itself)"),
    "AnchorRelayersInvalid": (InvalidInput, lambda a: f"bad relayer list (empty, zero address or duplicate {a[0]})"),
    "AnchorRelayersAlreadySet": (
        NotAllowed, lambda a: f"chain {a[0]} already has relayers: only more than half of them can change the set, "
                              f"not {a[1]}"
    ),
    "AnchorRelayerChangeStale": (
        Conflict, lambda a: f"the relayer change for chain {a[0]} was signed for epoch {a[1]}, but the set is at "
                            f"epoch {a[2]} (replayed or stale)"
    ),
    "AnchorRelayerChangeUnderSigned": (NotAllowed, lambda a: f"only {a[0]} relayers signed the change; {a[1]} are needed"),
    "AnchorSourceUnknown": (NotFound, lambda a: f"no relayers are registered here for chain {a[0]}"),
    "AnchorCheckpointReplayed": (Conflict, lambda a: f"checkpoint #{a[1]} of chain {a[0]} is already anchored (replay)"),
    "AnchorCheckpointOutOfOrder": (Conflict, lambda a: f"the next checkpoint of chain {a[0]} is #{a[1]}, not #{a[2]}"),
    "AnchorCheckpointStale": (
        Conflict, lambda a: f"checkpoint of chain {a[0]} at block {a[1]} is stale: block {a[2]} is already anchored"
    ),
    "AnchorCheckpointIncomplete": (InvalidInput, lambda a: "the checkpoint has no block hash"),
    "AnchorSignatureMalformed": (InvalidInput, lambda a: f"checkpoint signature {a[0]} is malformed"),
    "AnchorSignerUnknown": (NotAllowed, lambda a: f"{a[0]} is not a relayer of that chain (forged or foreign signature)"),
    "AnchorSignersUnordered": (InvalidInput, lambda a: f"signatures must be ordered by signer with no repeats ({a[0]})"),
    "AnchorCheckpointUnderSigned": (NotAllowed, lambda a: f"only {a[0]} relayer signatures; {a[1]} are needed"),
    "AnchorCheckpointUnknown": (NotFound, lambda a: f"checkpoint #{a[1]} of chain {a[0]} is not anchored here"),
    "MirrorRoleInvalid": (InvalidInput, lambda a: "role none cannot be proven"),
    "MirrorCheckpointUnknown": (NotFound, lambda a: f"main-chain checkpoint #{a[0]} is not anchored on this side chain"),
    "MirrorProofInvalid": (InvalidInput, lambda a: "the Merkle proof does not lead to the anchored main-chain root"),
    "MirrorAlreadyProven": (Conflict, lambda a: f"{a[0]} is already proven against this root (replay)"),
    "OwnableUnauthorizedAccount": (NotAllowed, lambda a: f"{a[0]} is not the owner of this contract"),
    "AccessControlUnauthorizedAccount": (
        NotAllowed, lambda a: f"{a[0]} does not hold the {_ROLE_NAMES.get(bytes(a[1]), '0x' + bytes(a[1]).hex())} role"
    ),
    "AccessControlBadConfirmation": (InvalidInput, lambda a: "an account can renounce only its own roles"),
    "PersonalDataPointerInvalid": (InvalidInput, lambda a: f"the file pointer (CID) must be 1 to 128 bytes, got {a[0]}"),
    "PersonalDataHashEmpty": (InvalidInput, lambda a: "the integrity hash of the encrypted file is empty"),
    "PersonalDataPurposeEmpty": (InvalidInput, lambda a: "a consent needs a purpose, and the purpose is empty"),
    "PersonalDataRecordExists": (
        Conflict, lambda a: f"data subject {a[0]} already has a record; rectify it, or erase it before creating anew"
    ),
    "PersonalDataConsentExpired": (NotAllowed, lambda a: f"the consent signature of data subject {a[0]} expired at {a[1]}"),
    "PersonalDataConsentInvalid": (
        NotAllowed,
        lambda a: f"the consent signature is not data subject {a[0]}'s for this controller, purpose, file and nonce "
                  f"(it recovers to {a[1]}): forged, for another registry, or replayed",
    ),
    "PersonalDataUnknownSubject": (NotFound, lambda a: f"{a[0]} has no personal-data record"),
    "PersonalDataRecordErased": (
        Conflict, lambda a: f"the record of data subject {a[0]} is erased; only a newly consented creation restores it"
    ),
    "PersonalDataHashUnchanged": (Conflict, lambda a: f"the new file of data subject {a[0]} has the current file's hash"),
    "PersonalDataNotAuthorised": (NotAllowed, lambda a: f"{a[0]} is neither a data controller nor the data subject {a[1]}"),
    "PersonalDataReadReplayed": (Conflict, lambda a: f"reader {a[0]} already used nonce {a[1]} for a recorded read (replay)"),
    "PersonalDataReadSignatureInvalid": (
        NotAllowed,
        lambda a: f"the read request is not signed by the reader it names ({a[0]}); nothing was logged in its name"),
    "PersonalDataBatchEmpty": (InvalidInput, lambda a: "a batch of reads needs at least one read"),
    "PersonalDataBatchTooLong": (InvalidInput, lambda a: f"a batch of reads holds at most 100 reads, got {a[0]}"),
    "PersonalDataRequesterIsSubject": (InvalidInput, lambda a: f"data subject {a[0]} cannot request consent from themself"),
    "PersonalDataKeyMalformed": (InvalidInput, lambda a: f"the requester's public key must be 64 bytes (x‖y), got {a[0]}"),
    "PersonalDataKeyMismatch": (NotAllowed, lambda a: f"the public key belongs to {a[1]}, not to the requester {a[0]}"),
    "PersonalDataRequestUnknown": (NotFound, lambda a: f"there is no consent request {a[0]}"),
    "PersonalDataRequestAnswered": (Conflict, lambda a: f"consent request {a[0]} was already {REQUEST_STATUS[a[1]]}"),
    "PersonalDataNotSubject": (NotAllowed, lambda a: f"only the data subject {a[1]} may answer this request, not {a[0]}"),
    "PersonalDataNoConsent": (NotFound, lambda a: f"data subject {a[0]} has no active consent for {a[1]}"),
    "PersonalDataFindingInvalid": (
        InvalidInput,
        lambda a: f"audit finding {a[0]} is not intact, tampered, missing, erasure-verified or erasure-incomplete",
    ),
    "AssetUnknown": (NotFound, lambda a: f"there is no shared data asset {a[0]}"),
    "AssetNotActive": (Conflict, lambda a: f"shared data asset {a[0]} was withdrawn; it no longer changes"),
    "AssetDataTypeEmpty": (InvalidInput, lambda a: "the asset's data type is empty"),
    "AssetHashAlgorithmInvalid": (
        InvalidInput, lambda a: f"hash algorithm {a[0]} is not sha256, keccak256, sha3-256, blake2b-256 or sm3"
    ),
    "AssetContentEmpty": (InvalidInput, lambda a: "the asset needs a pointer (CID or URL), inline data, or both"),
    "AssetPointerTooLong": (InvalidInput, lambda a: f"the pointer is {a[0]} bytes long; at most 128 are allowed"),
    "AssetIntegrityHashEmpty": (InvalidInput, lambda a: "the asset's integrity hash is empty"),
    "AssetAccessInfoTooLong": (InvalidInput, lambda a: f"the access information is {a[0]} bytes long; at most 1024 are allowed"),
    "AssetInlineDataTooLong": (
        InvalidInput, lambda a: f"the inline data is {a[0]} bytes long; at most 1024 are allowed (larger data goes off chain)"
    ),
    "AssetBatchInvalid": (InvalidInput, lambda a: f"an allow-list change takes 1 to 100 accounts, not {a[0]}"),
    "AssetAccountZero": (InvalidInput, lambda a: f"account #{a[0]} of the allow-list batch is the zero address"),
    "PaymentNothingOwed": (NotFound, lambda a: f"{a[0]} has no fees or refunds to withdraw"),
    "PaymentRecipientZero": (InvalidInput, lambda a: "payments cannot be withdrawn to the zero address"),
    "PaymentFailed": (Conflict, lambda a: f"sending {a[1]} wei to {a[0]} failed (it refuses ether); the credit is kept"),
    "SharingRenounceDisabled": (NotAllowed, lambda a: "the data owner cannot renounce ownership; transfer it instead"),
}


@lru_cache(maxsize=1)
def _selectors() -> dict[bytes, tuple[str, list[str]]]:
    table = {}
    for abi in artifacts.all_abis():
        for item in abi:
            if item.get("type") != "error":
                continue
            types = [_abi_type(i) for i in item["inputs"]]
            signature = f"{item['name']}({','.join(types)})"
            table[keccak(text=signature)[:4]] = (item["name"], types)
    return table


def _abi_type(param: dict) -> str:
    if param["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param["components"]) + ")" + param["type"][5:]
    return param["type"]


def decode_error(data: str | bytes) -> tuple[str, list] | None:
    """(name, arguments) of a custom error from its revert data, or None if it is not ours."""
    raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else data
    entry = _selectors().get(raw[:4])
    if entry is None:
        return None
    name, types = entry
    args = list(decode(types, raw[4:]))
    args = [to_checksum_address(a) if t == "address" else a for a, t in zip(args, types)]
    return name, args


def explain(data: str | bytes) -> ElicenseError:
    """The user-facing error for revert data."""
    decoded = decode_error(data)
    if decoded is None:
        return ElicenseError(f"the contract refused the call (revert data {data!r})")
    name, args = decoded
    cls, message = _MESSAGES.get(name, (ElicenseError, lambda a: f"{name}({', '.join(map(str, a))})"))
    error = cls(message(args))
    error.contract_error = name
    return error
