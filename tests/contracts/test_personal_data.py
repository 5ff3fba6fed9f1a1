"""PersonalDataRegistry: GDPR records (create, rectify, erase), the access log, consent requests, audits.

World: the registry deployed by the controller organisation (accounts[0]: admin and controller); a
second controller, a processor and a supervisor granted their roles; two data subjects and two
requesters with known keys; a gateway (accounts[5]) that submits reads for others; a stranger
(accounts[9]). Every success is checked as return value, event and stored state; every refusal by
its exact custom error; the EIP-712 typed data is built here with eth-account, independently of
src/, and the access log's hash chain is recomputed here from the events.
"""

import dataclasses
import hashlib

import eth_keys
import pytest
from brownie import PersonalDataRegistry, accounts, chain, web3
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from conftest import public_key
from helpers import (
    EIP712_DOMAIN,
    ZERO32,
    ZERO_ADDRESS,
    address_of,
    assert_event,
    b32,
    extend,
    know_errors,
    latest_timestamp,
    plain,
    recover,
    refused,
    set_next_timestamp,
)

know_errors(PersonalDataRegistry)

# Enums of IPersonalDataRegistry.
GRANTED, NOT_AUTHORISED, ERASED, EXPIRED = range(4)
R_NONE, R_PENDING, R_GRANTED, R_DENIED = range(4)
F_NONE, INTACT, TAMPERED, MISSING, ERASURE_VERIFIED, ERASURE_INCOMPLETE = range(6)

ADMIN_ROLE = ZERO32
CONTROLLER_ROLE = keccak(text="CONTROLLER_ROLE")
PROCESSOR_ROLE = keccak(text="PROCESSOR_ROLE")
SUPERVISOR_ROLE = keccak(text="SUPERVISOR_ROLE")

MAX_POINTER, MAX_PAGE = 128, 100
CID_V1 = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"  # 59 bytes
CID_V0 = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"  # 46 bytes
CID_V2 = "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def commitment(domain, text, salt_label):
    """keccak256(domain ‖ salt ‖ UTF-8 text): the salted commitment that stands for a purpose statement or
    a read's field names on chain (docs/personal-data.md), built here from the spec."""
    return keccak(domain + keccak(text=salt_label) + text.encode())


PURPOSE = commitment(b"elicense.purpose.v1", "purpose: employment contract, payroll", "salt 1")
BANK_PURPOSE = commitment(b"elicense.purpose.v1", "purpose: mortgage application", "salt 2")
WHAT = commitment(b"elicense.fields.v1", "email,name", "salt 3")  # the fields read: names, salted
EXPORT = commitment(b"elicense.fields.v1", "*", "salt 4")  # the whole file (portability export)
EVIDENCE = keccak(text="audit report 2026/7")
HOUR = 3600


def envelope(label):
    """A stand-in for an encrypted envelope (the real one is AES-256-GCM; the chain sees only its hash)."""
    return f"elicense-envelope v1, sealed: {label}".encode()


def file_hash(label):
    """SHA-256 of the encrypted envelope: the integrity hash the chain keeps."""
    return hashlib.sha256(envelope(label)).digest()


# Anvil's development accounts (accounts[i]) are unlocked in Brownie, without their keys: derive them.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
Account.enable_unaudited_hdwallet_features()


def key_of(signer):
    """The private key of a keyed account, an eth-account key or one of Anvil's development accounts."""
    if getattr(signer, "private_key", None):
        return signer.private_key
    if hasattr(signer, "key"):
        return signer.key
    index = [a.address for a in accounts].index(signer.address)
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key


def loose_key(label):
    """A keyed identity that never sends a transaction (a subject signing consent only)."""
    return Account.from_key(keccak(text=f"elicense personal-data key: {label}"))


# ---------------------------------------------------------------- EIP-712, built here from the spec


def domain(registry, chain_id=None, verifying_contract=None):
    return {
        "name": "elicense PersonalDataRegistry",
        "version": "1",
        "chainId": chain.id if chain_id is None else chain_id,
        "verifyingContract": address_of(registry if verifying_contract is None else verifying_contract),
    }


def consent_message(registry, controller, purpose, integrity_hash, deadline, nonce, **dom):
    return {
        "types": {
            "EIP712Domain": EIP712_DOMAIN,
            "Consent": [
                {"name": "controller", "type": "address"},
                {"name": "purpose", "type": "bytes32"},
                {"name": "integrityHash", "type": "bytes32"},
                {"name": "deadline", "type": "uint64"},
                {"name": "nonce", "type": "uint256"},
            ],
        },
        "primaryType": "Consent",
        "domain": domain(registry, **dom),
        "message": {
            "controller": address_of(controller),
            "purpose": b32(purpose),
            "integrityHash": b32(integrity_hash),
            "deadline": deadline,
            "nonce": nonce,
        },
    }


def read_message(registry, subject, what, deadline, nonce, **dom):
    return {
        "types": {
            "EIP712Domain": EIP712_DOMAIN,
            "Read": [
                {"name": "subject", "type": "address"},
                {"name": "what", "type": "bytes32"},
                {"name": "deadline", "type": "uint64"},
                {"name": "nonce", "type": "uint256"},
            ],
        },
        "primaryType": "Read",
        "domain": domain(registry, **dom),
        "message": {"subject": address_of(subject), "what": b32(what), "deadline": deadline, "nonce": nonce},
    }


def digest_of(message):
    signable = encode_typed_data(full_message=message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign(signer, message):
    return bytes(Account.sign_message(encode_typed_data(full_message=message), key_of(signer)).signature)


class Consent:
    """A subject's consent signature for `controller` to create their record with `label`'s file."""

    def __init__(self, registry, subject, controller, label="v1", purpose=PURPOSE, deadline=None, nonce=None,
                 signer=None, **dom):
        self.subject = subject
        self.hash = file_hash(label)
        self.purpose = purpose
        self.deadline = latest_timestamp() + HOUR if deadline is None else deadline
        self.nonce = registry.nonces(subject) if nonce is None else nonce
        self.message = consent_message(registry, controller, purpose, self.hash, self.deadline, self.nonce, **dom)
        self.signature = sign(signer or subject, self.message)
        self.digest = digest_of(self.message)

    def args(self, pointer=CID_V1):
        return (self.subject, pointer, self.hash, self.purpose, self.deadline, self.signature)


class Read:
    """A reader's signed read of `subject`'s `what`, with a fresh random-looking nonce."""

    _count = 0

    def __init__(self, registry, reader, subject, what=WHAT, deadline=None, nonce=None, signer=None, **dom):
        Read._count += 1
        self.reader = reader
        self.subject = subject
        self.what = what
        self.deadline = latest_timestamp() + 600 if deadline is None else deadline
        self.nonce = int.from_bytes(keccak(text=f"read nonce {Read._count}"), "big") if nonce is None else nonce
        self.message = read_message(registry, subject, what, self.deadline, self.nonce, **dom)
        self.signature = sign(signer or reader, self.message)

    def args(self):
        return (self.subject, self.reader, self.what, self.deadline, self.nonce, self.signature)


def other_domain(where, deployer):
    """Domain overrides for a signature made for another chain or another registry."""
    if where == "other chain":
        return {"chain_id": 1}
    return {"verifying_contract": PersonalDataRegistry.deploy({"from": deployer})}


def access_entry(reader, submitter, what, result, block_number):
    """keccak256(abi.encode(reader, submitter, what, uint8 result, uint256 block))."""
    return keccak(
        encode(
            ["address", "address", "bytes32", "uint8", "uint256"],
            [address_of(reader), address_of(submitter), b32(what), int(result), block_number],
        )
    )


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def org(deployer):
    """The controller organisation: deploys the registry, administers its roles, is a controller."""
    return deployer


@pytest.fixture(scope="module")
def controller(keyed):
    return keyed("pd controller clara")


@pytest.fixture(scope="module")
def processor(keyed):
    return keyed("pd processor paul")


@pytest.fixture(scope="module")
def supervisor(keyed):
    return keyed("pd supervisor sofia")


@pytest.fixture(scope="module")
def subject(keyed):
    return keyed("pd subject alice")


@pytest.fixture(scope="module")
def other_subject(keyed):
    return keyed("pd subject bob")


@pytest.fixture(scope="module")
def requester(keyed):
    return keyed("pd requester bank")


@pytest.fixture(scope="module")
def second_requester(keyed):
    return keyed("pd requester insurer")


@pytest.fixture(scope="module")
def gateway():
    return accounts[5]


@pytest.fixture(scope="module")
def registry(org, controller, processor, supervisor):
    deployed = PersonalDataRegistry.deploy({"from": org})
    deployed.grantRole(CONTROLLER_ROLE, controller, {"from": org})
    deployed.grantRole(PROCESSOR_ROLE, processor, {"from": org})
    deployed.grantRole(SUPERVISOR_ROLE, supervisor, {"from": org})
    return deployed


def record_of(registry, subject):
    """IPersonalDataRegistry.RecordView as a dict of plain values."""
    names = [
        "subject", "pointer", "integrityHash", "version", "generation", "createdAt", "updatedAt", "erasedAt",
        "erased", "controller", "consentPurpose", "consentAt", "accessHead", "accessCount",
    ]
    return dict(zip(names, plain(registry.record(subject))))


def request_of(registry, request_id):
    names = ["subject", "requester", "purpose", "status", "requestedAt", "answeredAt"]
    return dict(zip(names, plain(registry.request(request_id))))


def consent_of(registry, subject, account):
    return dict(zip(["active", "purpose", "grantedAt", "requestId"], plain(registry.consentOf(subject, account))))


def create(registry, controller, subject, label="v1", pointer=CID_V1, purpose=PURPOSE, signer=None):
    """Creates `subject`'s record under their fresh consent; checks event, record, list and nonce."""
    before = record_of(registry, subject)
    count = registry.subjectCount()
    consent = Consent(registry, subject, controller, label, purpose, signer=signer)

    tx = registry.create(*consent.args(pointer), {"from": controller})

    version, generation = before["version"] + 1, before["generation"] + 1
    assert_event(
        tx, "PersonalDataCreated", subject=subject, controller=controller, generation=generation, version=version,
        pointer=pointer, integrityHash=consent.hash, purpose=purpose,
    )
    now = tx.timestamp
    assert record_of(registry, subject) == {
        "subject": address_of(subject), "pointer": pointer, "integrityHash": consent.hash, "version": version,
        "generation": generation, "createdAt": now, "updatedAt": now, "erasedAt": 0, "erased": False,
        "controller": address_of(controller), "consentPurpose": purpose, "consentAt": now,
        "accessHead": before["accessHead"], "accessCount": before["accessCount"],
    }
    assert registry.nonces(subject) == consent.nonce + 1
    assert registry.subjectCount() == count + (1 if generation == 1 else 0)
    return tx


def replace_expect(registry, tx, subject, by, label, pointer, before):
    """A new file was recorded: PersonalDataUpdated and the stored record."""
    assert_event(
        tx, "PersonalDataUpdated", subject=subject, by=by, version=before["version"] + 1, pointer=pointer,
        previousHash=before["integrityHash"], integrityHash=file_hash(label),
    )
    after = record_of(registry, subject)
    assert after == dict(
        before, pointer=pointer, integrityHash=file_hash(label), version=before["version"] + 1, updatedAt=tx.timestamp
    )


def rectify(registry, by, subject, label="v2", pointer=CID_V2):
    before = record_of(registry, subject)
    tx = registry.rectify(subject, pointer, file_hash(label), {"from": by})
    replace_expect(registry, tx, subject, by, label, pointer, before)
    return tx


def log_read(registry, submitter, read, expected):
    """Runs logRead as call and as transaction; checks verdict, event, head and count."""
    before = record_of(registry, read.subject)

    assert registry.logRead.call(*read.args(), {"from": submitter}) == expected
    tx = registry.logRead(*read.args(), {"from": submitter})

    head = extend(before["accessHead"], access_entry(read.reader, submitter, read.what, expected, tx.block_number))
    assert tx.return_value == expected
    assert_event(
        tx, "ReadLogged", subject=read.subject, reader=read.reader, submitter=submitter, what=read.what,
        result=expected, accessHead=head,
    )
    assert plain(registry.accessHead(read.subject)) == head
    assert record_of(registry, read.subject) == dict(before, accessHead=head, accessCount=before["accessCount"] + 1)
    return tx


def forged(registry, submitter, read, signer):
    """logRead and logReads of a read whose signature is not its reader's revert with
    PersonalDataReadSignatureInvalid(reader, signer): nothing is logged in anyone's name, no nonce used."""
    before = record_of(registry, read.subject)
    with refused("PersonalDataReadSignatureInvalid", read.reader, signer):
        registry.logRead(*read.args(), {"from": submitter})
    with refused("PersonalDataReadSignatureInvalid", read.reader, signer):
        registry.logReads([signed(read)], {"from": submitter})
    assert record_of(registry, read.subject) == before
    assert not registry.readNonceUsed(read.reader, read.nonce)


def claimed_signer(registry, read):
    """Whom the signature recovers to over what the read claims (the contract's own digest)."""
    return recover(registry.readDigest(read.subject, read.what, read.deadline, read.nonce), read.signature)


def read_as(registry, reader, subject, expected, submitter=None, **kwargs):
    return log_read(registry, submitter or reader, Read(registry, reader, subject, **kwargs), expected)


def signed(read):
    """A read as an IPersonalDataRegistry.SignedRead tuple, an element of logReads' argument."""
    return (address_of(read.subject), address_of(read.reader), read.what, read.deadline, read.nonce, read.signature)


def log_reads(registry, submitter, reads, expected):
    """Runs logReads as call and as transaction; checks the verdicts, one ReadLogged per read in order,
    and each subject's head (recomputed here read by read, all entries at the batch's block) and count."""
    subjects = list(dict.fromkeys(address_of(read.subject) for read in reads))
    before = {who: record_of(registry, who) for who in subjects}

    assert plain(registry.logReads.call([signed(r) for r in reads], {"from": submitter})) == tuple(expected)
    tx = registry.logReads([signed(r) for r in reads], {"from": submitter})

    assert plain(tx.return_value) == tuple(expected)
    assert list(tx.events.keys()) == ["ReadLogged"] and len(tx.events["ReadLogged"]) == len(reads)
    heads = {who: before[who]["accessHead"] for who in subjects}
    for index, (read, result) in enumerate(zip(reads, expected)):
        who = address_of(read.subject)
        heads[who] = extend(heads[who], access_entry(read.reader, submitter, read.what, result, tx.block_number))
        assert_event(
            tx, "ReadLogged", index, subject=who, reader=read.reader, submitter=submitter, what=read.what,
            result=result, accessHead=heads[who],
        )
    for who in subjects:
        reads_of_who = sum(address_of(read.subject) == who for read in reads)
        assert plain(registry.accessHead(who)) == heads[who]
        assert record_of(registry, who) == dict(
            before[who], accessHead=heads[who], accessCount=before[who]["accessCount"] + reads_of_who
        )
    return tx


def create_keyed(registry, controller, key):
    """Creates the record of a loose-key subject (who signs its consent but never sends a transaction)."""
    registry.create(*Consent(registry, key.address, controller, signer=key).args(), {"from": controller})
    return key


def ask(registry, requester, subject, purpose=BANK_PURPOSE):
    """requestConsent with the requester's own key; checks id, event and the stored request."""
    count = registry.requestCount()
    tx = registry.requestConsent(subject, purpose, public_key(requester), {"from": requester})
    request_id = count + 1
    assert tx.return_value == request_id
    assert_event(
        tx, "ConsentRequested", requestId=request_id, subject=subject, requester=requester, purpose=purpose,
        publicKey=public_key(requester),
    )
    assert request_of(registry, request_id) == {
        "subject": address_of(subject), "requester": address_of(requester), "purpose": purpose,
        "status": R_PENDING, "requestedAt": tx.timestamp, "answeredAt": 0,
    }
    assert registry.requestCount() == request_id
    return request_id


def grant(registry, subject, request_id, label="re-encrypted", pointer=CID_V2):
    """grantConsent: the re-encrypted file replaces the old one and the requester is consented."""
    before = record_of(registry, subject)
    asked = request_of(registry, request_id)
    tx = registry.grantConsent(request_id, pointer, file_hash(label), {"from": subject})

    replace_expect(registry, tx, subject, subject, label, pointer, before)
    assert_event(
        tx, "ConsentGranted", requestId=request_id, subject=subject, requester=asked["requester"],
        purpose=asked["purpose"], version=before["version"] + 1,
    )
    assert request_of(registry, request_id) == dict(asked, status=R_GRANTED, answeredAt=tx.timestamp)
    assert consent_of(registry, subject, asked["requester"]) == {
        "active": True, "purpose": asked["purpose"], "grantedAt": tx.timestamp, "requestId": request_id,
    }
    return tx


@pytest.fixture
def created(registry, controller, subject):
    """The subject's record, version 1, created by `controller`."""
    return create(registry, controller, subject)


@pytest.fixture
def consented(registry, created, subject, requester):
    """The requester asked (request 1) and the subject granted; the record is at version 2."""
    request_id = ask(registry, requester, subject)
    grant(registry, subject, request_id)
    return request_id


# ---------------------------------------------------------------- configuration and roles


def test_deployer_administers_and_controls(registry, org):
    assert registry.hasRole(ADMIN_ROLE, org)
    assert registry.hasRole(CONTROLLER_ROLE, org)
    assert not registry.hasRole(PROCESSOR_ROLE, org)
    assert not registry.hasRole(SUPERVISOR_ROLE, org)
    for role in (CONTROLLER_ROLE, PROCESSOR_ROLE, SUPERVISOR_ROLE):
        assert plain(registry.getRoleAdmin(role)) == ADMIN_ROLE


def test_constants(registry):
    assert plain(registry.CONTROLLER_ROLE()) == CONTROLLER_ROLE
    assert plain(registry.PROCESSOR_ROLE()) == PROCESSOR_ROLE
    assert plain(registry.SUPERVISOR_ROLE()) == SUPERVISOR_ROLE
    assert plain(registry.CONSENT_TYPEHASH()) == keccak(
        text="Consent(address controller,bytes32 purpose,bytes32 integrityHash,uint64 deadline,uint256 nonce)"
    )
    assert plain(registry.READ_TYPEHASH()) == keccak(
        text="Read(address subject,bytes32 what,uint64 deadline,uint256 nonce)"
    )
    assert registry.MAX_POINTER() == MAX_POINTER
    assert registry.MAX_PAGE() == MAX_PAGE


def test_eip712_domain_names_this_registry(registry):
    assert plain(registry.eip712Domain())[1:5] == ("elicense PersonalDataRegistry", "1", chain.id, registry.address)


def test_digests_match_typed_data_built_here(registry, controller, subject):
    when = latest_timestamp() + 99
    assert plain(registry.consentDigest(controller, PURPOSE, file_hash("x"), when, 7)) == digest_of(
        consent_message(registry, controller, PURPOSE, file_hash("x"), when, 7)
    )
    assert plain(registry.readDigest(subject, WHAT, when, 2**256 - 1)) == digest_of(
        read_message(registry, subject, WHAT, when, 2**256 - 1)
    )


def test_supports_its_interfaces(registry):
    def interface_id(signatures):
        value = 0
        for signature in signatures:
            value ^= int.from_bytes(keccak(text=signature)[:4], "big")
        return "0x" + value.to_bytes(4, "big").hex()

    own = [
        f"{item['name']}({','.join(_abi_type(i) for i in item['inputs'])})"
        for item in PersonalDataRegistry.abi
        if item["type"] == "function" and item["name"] in _INTERFACE_FUNCTIONS
    ]
    assert len(own) == len(_INTERFACE_FUNCTIONS)
    assert registry.supportsInterface(interface_id(own))
    assert registry.supportsInterface("0x7965db0b")  # IAccessControl
    assert registry.supportsInterface("0x01ffc9a7")  # ERC-165
    assert not registry.supportsInterface("0xffffffff")


_INTERFACE_FUNCTIONS = {
    "create", "rectify", "erase", "logRead", "logReads", "requestConsent", "grantConsent", "denyConsent",
    "revokeConsent", "recordAudit", "record", "subjectCount", "subjects", "records", "accessHead", "readPolicy",
    "requestCount", "request", "consentOf", "nonces", "readNonceUsed", "consentDigest", "readDigest",
}


def _abi_type(param):
    if param["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param["components"]) + ")" + param["type"][5:]
    return param["type"]


def test_unknown_subject_has_empty_record(registry, subject):
    assert record_of(registry, subject) == {
        "subject": address_of(subject), "pointer": "", "integrityHash": ZERO32, "version": 0, "generation": 0,
        "createdAt": 0, "updatedAt": 0, "erasedAt": 0, "erased": False, "controller": ZERO_ADDRESS,
        "consentPurpose": ZERO32, "consentAt": 0, "accessHead": ZERO32, "accessCount": 0,
    }
    assert plain(registry.accessHead(subject)) == ZERO32
    assert registry.subjectCount() == 0
    assert registry.nonces(subject) == 0


def test_admin_grants_and_revokes_roles(registry, org, stranger):
    tx = registry.grantRole(PROCESSOR_ROLE, stranger, {"from": org})
    assert_event(tx, "RoleGranted", role=PROCESSOR_ROLE, account=stranger, sender=org)
    assert registry.hasRole(PROCESSOR_ROLE, stranger)

    registry.revokeRole(PROCESSOR_ROLE, stranger, {"from": org})
    assert not registry.hasRole(PROCESSOR_ROLE, stranger)


@pytest.mark.parametrize("who", ["controller", "processor", "supervisor", "stranger"])
def test_only_the_admin_grants_roles(registry, who, request):
    caller = request.getfixturevalue(who)
    with refused("AccessControlUnauthorizedAccount", caller, ADMIN_ROLE):
        registry.grantRole(CONTROLLER_ROLE, caller, {"from": caller})


# ---------------------------------------------------------------- create


def test_controller_creates_record_with_subject_consent(registry, controller, subject):
    tx = create(registry, controller, subject)

    assert plain(registry.subjects(0, 10)) == (address_of(subject),)
    assert record_of(registry, subject)["version"] == 1
    assert list(tx.events.keys()) == ["PersonalDataCreated"]


def test_deployer_creates_as_controller(registry, org, subject):
    create(registry, org, subject, pointer=CID_V0)


def test_subject_without_funds_or_transaction_is_registered(registry, controller):
    """The subject only signs; the controller sends and pays."""
    carol = loose_key("carol")
    create(registry, controller, carol.address, signer=carol)


def test_longest_pointer_is_accepted(registry, controller, subject):
    create(registry, controller, subject, pointer="x" * MAX_POINTER)


@pytest.mark.parametrize("who", ["processor", "supervisor", "subject", "stranger"])
def test_only_a_controller_creates(registry, subject, who, request):
    caller = request.getfixturevalue(who)
    consent = Consent(registry, subject, caller)
    with refused("AccessControlUnauthorizedAccount", caller, CONTROLLER_ROLE):
        registry.create(*consent.args(), {"from": caller})


def test_revoked_controller_cannot_create(registry, org, controller, subject):
    registry.revokeRole(CONTROLLER_ROLE, controller, {"from": org})
    consent = Consent(registry, subject, controller)

    with refused("AccessControlUnauthorizedAccount", controller, CONTROLLER_ROLE):
        registry.create(*consent.args(), {"from": controller})


@pytest.mark.parametrize("length", [0, MAX_POINTER + 1])
def test_pointer_must_be_present_and_bounded(registry, controller, subject, length):
    consent = Consent(registry, subject, controller)
    with refused("PersonalDataPointerInvalid", length):
        registry.create(*consent.args("x" * length), {"from": controller})


def test_zero_hash_is_refused(registry, controller, subject):
    consent = Consent(registry, subject, controller)
    args = list(consent.args())
    args[2] = ZERO32
    with refused("PersonalDataHashEmpty"):
        registry.create(*args, {"from": controller})


def test_zero_purpose_is_refused(registry, controller, subject):
    consent = Consent(registry, subject, controller, purpose=ZERO32)
    with refused("PersonalDataPurposeEmpty"):
        registry.create(*consent.args(), {"from": controller})


def test_second_record_for_a_subject_is_refused(registry, controller, org, subject, created):
    consent = Consent(registry, subject, org, label="another")
    with refused("PersonalDataRecordExists", subject):
        registry.create(*consent.args(), {"from": org})


def test_expired_consent_is_refused(registry, controller, subject):
    consent = Consent(registry, subject, controller, deadline=latest_timestamp() - 1)
    with refused("PersonalDataConsentExpired", subject, consent.deadline):
        registry.create(*consent.args(), {"from": controller})


def test_consent_valid_until_its_deadline_second(registry, controller, subject):
    at = latest_timestamp() + 10
    consent = Consent(registry, subject, controller, deadline=at)
    set_next_timestamp(at)

    tx = registry.create(*consent.args(), {"from": controller})

    assert tx.timestamp == at
    assert record_of(registry, subject)["version"] == 1


def test_consent_signed_by_someone_else_is_refused(registry, controller, subject, other_subject):
    consent = Consent(registry, subject, controller, signer=other_subject)
    with refused("PersonalDataConsentInvalid", subject, other_subject):
        registry.create(*consent.args(), {"from": controller})


def test_consent_for_another_controller_is_refused(registry, controller, org, subject):
    """A consent names its controller: another controller cannot use it."""
    consent = Consent(registry, subject, controller)
    used_as = digest_of(consent_message(registry, org, PURPOSE, consent.hash, consent.deadline, consent.nonce))
    with refused("PersonalDataConsentInvalid", subject, recover(used_as, consent.signature)):
        registry.create(*consent.args(), {"from": org})


def test_consent_for_another_file_is_refused(registry, controller, subject):
    consent = Consent(registry, subject, controller, label="v1")
    args = list(consent.args())
    args[2] = file_hash("swapped")
    used_as = digest_of(consent_message(registry, controller, PURPOSE, args[2], consent.deadline, consent.nonce))
    with refused("PersonalDataConsentInvalid", subject, recover(used_as, consent.signature)):
        registry.create(*args, {"from": controller})


def test_consent_for_another_purpose_is_refused(registry, controller, subject):
    consent = Consent(registry, subject, controller)
    args = list(consent.args())
    args[3] = BANK_PURPOSE
    used_as = digest_of(
        consent_message(registry, controller, BANK_PURPOSE, consent.hash, consent.deadline, consent.nonce)
    )
    with refused("PersonalDataConsentInvalid", subject, recover(used_as, consent.signature)):
        registry.create(*args, {"from": controller})


def test_consent_with_extended_deadline_is_refused(registry, controller, subject):
    consent = Consent(registry, subject, controller)
    args = list(consent.args())
    args[4] = consent.deadline + HOUR
    used_as = digest_of(consent_message(registry, controller, PURPOSE, consent.hash, args[4], consent.nonce))
    with refused("PersonalDataConsentInvalid", subject, recover(used_as, consent.signature)):
        registry.create(*args, {"from": controller})


@pytest.mark.parametrize("where", ["other chain", "other registry"])
def test_consent_for_another_domain_is_refused(registry, org, controller, subject, where):
    dom = other_domain(where, org)
    consent = Consent(registry, subject, controller, **dom)
    used_as = digest_of(consent_message(registry, controller, PURPOSE, consent.hash, consent.deadline, consent.nonce))
    with refused("PersonalDataConsentInvalid", subject, recover(used_as, consent.signature)):
        registry.create(*consent.args(), {"from": controller})


def test_consent_with_a_future_nonce_is_refused(registry, controller, subject):
    consent = Consent(registry, subject, controller, nonce=1)
    used_as = digest_of(consent_message(registry, controller, PURPOSE, consent.hash, consent.deadline, 0))
    with refused("PersonalDataConsentInvalid", subject, recover(used_as, consent.signature)):
        registry.create(*consent.args(), {"from": controller})


@pytest.mark.parametrize("signature", [b"", b"\x01" * 64, b"\x01" * 66], ids=["empty", "64 bytes", "66 bytes"])
def test_malformed_consent_signature_is_refused(registry, controller, subject, signature):
    consent = Consent(registry, subject, controller)
    args = list(consent.args())
    args[5] = signature
    with refused("PersonalDataConsentInvalid", subject, ZERO_ADDRESS):
        registry.create(*args, {"from": controller})


def test_zero_subject_is_refused(registry, controller, subject):
    consent = Consent(registry, ZERO_ADDRESS, controller, signer=subject)
    with refused("PersonalDataConsentInvalid", ZERO_ADDRESS, subject):
        registry.create(*consent.args(), {"from": controller})


def test_zero_subject_with_malformed_signature_is_refused(registry, controller):
    """A malformed signature recovers to nobody (zero), which must not pass as the zero subject's consent."""
    with refused("PersonalDataConsentInvalid", ZERO_ADDRESS, ZERO_ADDRESS):
        registry.create(ZERO_ADDRESS, CID_V1, file_hash("v1"), PURPOSE, latest_timestamp() + HOUR, b"",
                        {"from": controller})


def test_replayed_consent_is_refused_after_erasure(registry, controller, subject):
    consent = Consent(registry, subject, controller)
    registry.create(*consent.args(), {"from": controller})
    registry.erase(subject, {"from": subject})

    # The signature carried nonce 0; the subject's nonce is now 1.
    used_as = digest_of(consent_message(registry, controller, PURPOSE, consent.hash, consent.deadline, 1))
    with refused("PersonalDataConsentInvalid", subject, recover(used_as, consent.signature)):
        registry.create(*consent.args(), {"from": controller})


def test_erased_record_is_recreated_only_with_new_consent(registry, controller, org, subject, processor, created):
    read_as(registry, processor, subject, GRANTED)
    registry.erase(subject, {"from": controller})
    head = record_of(registry, subject)["accessHead"]

    tx = create(registry, org, subject, label="back again", pointer=CID_V0)

    after = record_of(registry, subject)
    assert (after["version"], after["generation"], after["controller"]) == (2, 2, address_of(org))
    assert after["accessHead"] == head and after["accessCount"] == 1  # the access log continues
    assert registry.subjectCount() == 1 and plain(registry.subjects(0, 10)) == (address_of(subject),)
    assert tx.events["PersonalDataCreated"]["generation"] == 2


# ---------------------------------------------------------------- rectify


def test_controller_rectifies(registry, controller, subject, created):
    tx = rectify(registry, controller, subject)
    assert plain(tx.events["PersonalDataUpdated"]["previousHash"]) == file_hash("v1")


def test_subject_rectifies_own_record(registry, subject, created):
    rectify(registry, subject, subject)


def test_another_controller_rectifies(registry, org, subject, created):
    rectify(registry, org, subject)


def test_each_rectification_counts_a_version(registry, controller, subject, created):
    rectify(registry, controller, subject, "v2")
    rectify(registry, subject, subject, "v3", CID_V0)
    rectify(registry, controller, subject, "v2 again")

    assert record_of(registry, subject)["version"] == 4


@pytest.mark.parametrize("who", ["processor", "supervisor", "other_subject", "stranger"])
def test_only_controller_or_subject_rectifies(registry, subject, created, who, request):
    caller = request.getfixturevalue(who)
    with refused("PersonalDataNotAuthorised", caller, subject):
        registry.rectify(subject, CID_V2, file_hash("v2"), {"from": caller})


def test_rectifying_an_unknown_subject_is_refused(registry, controller, subject):
    with refused("PersonalDataUnknownSubject", subject):
        registry.rectify(subject, CID_V2, file_hash("v2"), {"from": controller})
    with refused("PersonalDataUnknownSubject", subject):
        registry.rectify(subject, CID_V2, file_hash("v2"), {"from": subject})


def test_rectifying_an_erased_record_is_refused(registry, controller, subject, created):
    registry.erase(subject, {"from": subject})
    with refused("PersonalDataRecordErased", subject):
        registry.rectify(subject, CID_V2, file_hash("v2"), {"from": controller})


def test_rectifying_to_the_same_file_is_refused(registry, controller, subject, created):
    with refused("PersonalDataHashUnchanged", subject):
        registry.rectify(subject, CID_V2, file_hash("v1"), {"from": controller})


@pytest.mark.parametrize("length", [0, MAX_POINTER + 1])
def test_rectified_pointer_must_be_present_and_bounded(registry, controller, subject, created, length):
    with refused("PersonalDataPointerInvalid", length):
        registry.rectify(subject, "x" * length, file_hash("v2"), {"from": controller})


def test_rectified_hash_must_be_non_zero(registry, controller, subject, created):
    with refused("PersonalDataHashEmpty"):
        registry.rectify(subject, CID_V2, ZERO32, {"from": controller})


# ---------------------------------------------------------------- erase


@pytest.mark.parametrize("who", ["controller", "subject", "org"])
def test_controller_or_subject_erases(registry, subject, created, who, request):
    by = request.getfixturevalue(who)
    before = record_of(registry, subject)

    tx = registry.erase(subject, {"from": by})

    assert_event(tx, "PersonalDataErased", subject=subject, by=by, version=1, integrityHash=file_hash("v1"))
    # Pointer and hash stay for audit; only the flag and its time change.
    assert record_of(registry, subject) == dict(before, erasedAt=tx.timestamp, erased=True)


def test_second_erasure_is_refused(registry, controller, subject, created):
    registry.erase(subject, {"from": subject})
    with refused("PersonalDataRecordErased", subject):
        registry.erase(subject, {"from": controller})


@pytest.mark.parametrize("who", ["processor", "supervisor", "other_subject", "stranger"])
def test_only_controller_or_subject_erases(registry, subject, created, who, request):
    caller = request.getfixturevalue(who)
    with refused("PersonalDataNotAuthorised", caller, subject):
        registry.erase(subject, {"from": caller})


def test_erasing_an_unknown_subject_is_refused(registry, controller, subject):
    with refused("PersonalDataUnknownSubject", subject):
        registry.erase(subject, {"from": controller})


def test_erased_record_stays_listed(registry, controller, subject, created):
    registry.erase(subject, {"from": controller})

    assert registry.subjectCount() == 1
    assert plain(registry.records(0, 10))[0][8] is True  # erased


# ---------------------------------------------------------------- logRead: outcomes


@pytest.mark.parametrize("who", ["subject", "controller", "org", "processor"])
def test_authorised_reads_are_granted(registry, subject, created, who, request):
    read_as(registry, request.getfixturevalue(who), subject, GRANTED)


def test_subject_exports_own_data(registry, subject, created):
    """Portability: the subject's own read of the whole file is granted and logged."""
    read_as(registry, subject, subject, GRANTED, what=EXPORT)


def test_consented_requester_reads(registry, subject, requester, consented):
    read_as(registry, requester, subject, GRANTED)


@pytest.mark.parametrize("who", ["supervisor", "stranger", "other_subject", "requester"])
def test_unauthorised_reads_are_recorded(registry, subject, created, who, request):
    read_as(registry, request.getfixturevalue(who), subject, NOT_AUTHORISED)


def test_reader_whose_role_was_revoked_is_refused(registry, org, processor, subject, created):
    registry.revokeRole(PROCESSOR_ROLE, processor, {"from": org})
    read_as(registry, processor, subject, NOT_AUTHORISED)


def test_authorised_read_of_erased_record_is_recorded(registry, controller, subject, created):
    registry.erase(subject, {"from": subject})
    read_as(registry, controller, subject, ERASED)
    read_as(registry, subject, subject, ERASED)


def test_unauthorised_read_of_erased_record_says_not_authorised(registry, stranger, subject, created):
    registry.erase(subject, {"from": subject})
    read_as(registry, stranger, subject, NOT_AUTHORISED)


def test_expired_read_is_recorded_and_consumes_the_nonce(registry, processor, subject, created):
    read = Read(registry, processor, subject, deadline=latest_timestamp() - 1)
    log_read(registry, processor, read, EXPIRED)

    assert registry.readNonceUsed(processor, read.nonce)
    with refused("PersonalDataReadReplayed", processor, read.nonce):
        registry.logRead(*read.args(), {"from": processor})


def test_read_valid_until_its_deadline_second(registry, processor, subject, created):
    at = latest_timestamp() + 10
    read = Read(registry, processor, subject, deadline=at)
    set_next_timestamp(at)
    tx = log_read(registry, processor, read, GRANTED)
    assert tx.timestamp == at


def test_stranger_cannot_log_a_read_in_a_processors_name(registry, processor, stranger, subject, created):
    """The attack (issue 12, 9c): a stranger signs a read with its own key, names the processor as the
    reader and sends it from its own account. Refused: the log never names a reader who did not sign,
    and the processor's nonce stays free for its own genuine read."""
    read = Read(registry, processor, subject, signer=stranger)
    forged(registry, stranger, read, stranger.address)

    assert plain(registry.accessHead(subject)) == ZERO32 and record_of(registry, subject)["accessCount"] == 0
    genuine = Read(registry, processor, subject, nonce=read.nonce)
    log_read(registry, stranger, genuine, GRANTED)  # anyone may submit a genuine signed read


def test_gateway_cannot_log_a_read_in_a_readers_name(registry, gateway, processor, stranger, subject, created):
    """A submitting gateway is held to the same rule: it cannot pad the log with someone else's reads."""
    forged(registry, gateway, Read(registry, processor, subject, signer=stranger), stranger.address)
    forged(registry, gateway, Read(registry, stranger, subject, signer=gateway), address_of(gateway))


def test_read_signed_for_other_fields_is_refused(registry, processor, subject, created):
    read = Read(registry, processor, subject, what=WHAT)
    read.what = EXPORT  # the reader signed for name,email, the submitter claims the whole file
    forged(registry, processor, read, claimed_signer(registry, read))


def test_read_signed_for_another_subject_is_refused(registry, controller, processor, subject, other_subject, created):
    create(registry, controller, other_subject)
    read = Read(registry, processor, other_subject)
    read.subject = subject
    forged(registry, processor, read, claimed_signer(registry, read))


@pytest.mark.parametrize("where", ["other chain", "other registry"])
def test_read_signed_for_another_domain_is_refused(registry, org, processor, subject, created, where):
    read = Read(registry, processor, subject, **other_domain(where, org))
    forged(registry, processor, read, claimed_signer(registry, read))


@pytest.mark.parametrize("signature", [b"", b"\x01" * 64, b"\x00" * 65], ids=["empty", "64 bytes", "zeros"])
def test_malformed_read_signature_is_refused(registry, processor, subject, created, signature):
    read = Read(registry, processor, subject)
    read.signature = signature
    forged(registry, processor, read, ZERO_ADDRESS)


def test_zero_reader_with_malformed_signature_is_refused(registry, stranger, subject, created):
    """tryRecover answers zero for a malformed signature: that never proves a read by address(0)."""
    read = Read(registry, stranger, subject)
    read.reader, read.signature = ZERO_ADDRESS, b""
    forged(registry, stranger, read, ZERO_ADDRESS)


# ---------------------------------------------------------------- logRead: replay and unknown subjects


@pytest.mark.parametrize("first", [GRANTED, NOT_AUTHORISED], ids=["after granted", "after refused"])
def test_replayed_read_is_refused(registry, gateway, processor, stranger, subject, created, first):
    reader = processor if first == GRANTED else stranger
    read = Read(registry, reader, subject)
    log_read(registry, gateway, read, first)

    with refused("PersonalDataReadReplayed", reader, read.nonce):
        registry.logRead(*read.args(), {"from": gateway})
    with refused("PersonalDataReadReplayed", reader, read.nonce):  # whoever submits it
        registry.logRead(*read.args(), {"from": reader})


def test_read_nonce_is_single_use_across_subjects(registry, controller, processor, subject, other_subject, created):
    create(registry, controller, other_subject)
    read_as(registry, processor, subject, GRANTED, nonce=42)

    with refused("PersonalDataReadReplayed", processor, 42):
        registry.logRead(*Read(registry, processor, other_subject, nonce=42).args(), {"from": processor})


def test_nonces_are_per_reader(registry, controller, processor, subject, created):
    read_as(registry, processor, subject, GRANTED, nonce=7)
    read_as(registry, controller, subject, GRANTED, nonce=7)


def test_nonces_are_used_in_any_order_bit_by_bit(registry, processor, subject, created):
    """Unordered nonces, 256 to a storage word: each is single use, neighbours stay free."""
    for nonce in (257, 255, 256, 0):
        read_as(registry, processor, subject, GRANTED, nonce=nonce)
    for nonce in (0, 255, 256, 257):
        assert registry.readNonceUsed(processor, nonce)
        with refused("PersonalDataReadReplayed", processor, nonce):
            registry.logRead(*Read(registry, processor, subject, nonce=nonce).args(), {"from": processor})
    for nonce in (1, 254, 258, 511, 2**256 - 1):
        assert not registry.readNonceUsed(processor, nonce)
    read_as(registry, processor, subject, GRANTED, nonce=2**256 - 1)
    assert registry.readNonceUsed(processor, 2**256 - 1)


def test_reading_an_unknown_subject_reverts(registry, processor, subject):
    read = Read(registry, processor, subject)
    with refused("PersonalDataUnknownSubject", subject):
        registry.logRead(*read.args(), {"from": processor})
    assert not registry.readNonceUsed(processor, read.nonce)


# ---------------------------------------------------------------- logRead: the access log


def test_access_log_is_recomputed_from_the_events(registry, controller, processor, stranger, gateway, subject,
                                                   other_subject, requester, consented):
    """The wallet's view: every ReadLogged of the subject, from the node's logs, chains to accessHead."""
    create(registry, controller, other_subject)
    start = web3.eth.block_number
    read_as(registry, processor, subject, GRANTED, submitter=gateway)
    read_as(registry, stranger, subject, NOT_AUTHORISED)
    read_as(registry, requester, subject, GRANTED, submitter=gateway)
    read_as(registry, processor, other_subject, GRANTED)  # another subject's log
    read_as(registry, processor, subject, EXPIRED, deadline=latest_timestamp() - 5)
    forged(registry, stranger, Read(registry, processor, subject, signer=stranger), stranger.address)  # no entry
    registry.revokeConsent(requester, {"from": subject})
    read_as(registry, requester, subject, NOT_AUTHORISED, submitter=gateway)
    read_as(registry, subject, subject, GRANTED, what=EXPORT)
    registry.erase(subject, {"from": subject})
    read_as(registry, controller, subject, ERASED)

    contract = web3.eth.contract(address=registry.address, abi=PersonalDataRegistry.abi)
    logs = contract.events.ReadLogged().get_logs(from_block=start + 1, argument_filters={"subject": subject.address})
    head = ZERO32
    for log in sorted(logs, key=lambda e: (e["blockNumber"], e["logIndex"])):
        a = log["args"]
        head = extend(head, access_entry(a["reader"], a["submitter"], a["what"], a["result"], log["blockNumber"]))
        assert bytes(a["accessHead"]) == head
    results = [log["args"]["result"] for log in logs]

    assert results == [GRANTED, NOT_AUTHORISED, GRANTED, EXPIRED, NOT_AUTHORISED, GRANTED, ERASED]
    assert plain(registry.accessHead(subject)) == head
    assert record_of(registry, subject)["accessCount"] == 7
    assert record_of(registry, other_subject)["accessCount"] == 1
    assert [log["args"]["submitter"] for log in logs][:3] == [gateway.address, stranger.address, gateway.address]


def test_gateway_submits_for_the_reader(registry, gateway, processor, subject, created):
    tx = read_as(registry, processor, subject, GRANTED, submitter=gateway)
    assert tx.events["ReadLogged"]["reader"] == processor.address
    assert tx.events["ReadLogged"]["submitter"] == gateway.address


# ---------------------------------------------------------------- logReads: batches


def test_batch_logs_each_read_with_its_outcome(registry, controller, processor, stranger, gateway, subject,
                                               other_subject, created):
    """A gateway's batch over three subjects: every outcome recorded in order, each subject's chain moved."""
    create(registry, controller, other_subject)
    registry.erase(other_subject, {"from": controller})
    carol = create_keyed(registry, controller, loose_key("pd subject carol"))
    reads = [
        Read(registry, processor, subject),
        Read(registry, stranger, subject),
        Read(registry, controller, other_subject),
        Read(registry, processor, carol.address, deadline=latest_timestamp() - 1),
        Read(registry, carol, carol.address, what=EXPORT),
        Read(registry, stranger, other_subject),
    ]
    expected = [GRANTED, NOT_AUTHORISED, ERASED, EXPIRED, GRANTED, NOT_AUTHORISED]

    log_reads(registry, gateway, reads, expected)

    for read in reads:
        assert registry.readNonceUsed(address_of(read.reader), read.nonce)
    assert [record_of(registry, who)["accessCount"] for who in (subject, other_subject, carol.address)] == [2, 2, 2]


def test_batch_log_is_recomputed_from_the_node_logs(registry, controller, processor, stranger, gateway, subject,
                                                    created):
    """The wallet's view of batched reads: ReadLogged events in log order chain to accessHead."""
    read_as(registry, processor, subject, GRANTED)  # an earlier single read: the batch chains onto it
    start = web3.eth.block_number
    log_reads(registry, gateway, [Read(registry, stranger, subject), Read(registry, controller, subject)],
              [NOT_AUTHORISED, GRANTED])
    log_reads(registry, gateway, [Read(registry, processor, subject, what=EXPORT)], [GRANTED])

    contract = web3.eth.contract(address=registry.address, abi=PersonalDataRegistry.abi)
    logs = contract.events.ReadLogged().get_logs(from_block=0, argument_filters={"subject": subject.address})
    logs = sorted(logs, key=lambda e: (e["blockNumber"], e["logIndex"]))
    head = ZERO32
    for log in logs:
        a = log["args"]
        head = extend(head, access_entry(a["reader"], a["submitter"], a["what"], a["result"], log["blockNumber"]))
        assert bytes(a["accessHead"]) == head
    assert [log["args"]["result"] for log in logs] == [GRANTED, NOT_AUTHORISED, GRANTED, GRANTED]
    assert [log["blockNumber"] - start for log in logs] == [0, 1, 1, 2]  # a batch's entries share its block
    assert plain(registry.accessHead(subject)) == head
    assert record_of(registry, subject)["accessCount"] == 4


def test_batch_chains_reads_of_one_subject_in_order(registry, processor, stranger, gateway, subject, created):
    first, second = Read(registry, processor, subject), Read(registry, stranger, subject, what=EXPORT)
    tx = log_reads(registry, gateway, [first, second], [GRANTED, NOT_AUTHORISED])

    one = access_entry(processor, gateway, WHAT, GRANTED, tx.block_number)
    two = access_entry(stranger, gateway, EXPORT, NOT_AUTHORISED, tx.block_number)
    assert plain(registry.accessHead(subject)) == extend(extend(ZERO32, one), two) != extend(extend(ZERO32, two), one)
    assert [plain(e["accessHead"]) for e in tx.events["ReadLogged"]] == [
        extend(ZERO32, one), extend(extend(ZERO32, one), two)
    ]


def test_batch_equals_log_read_one_by_one(registry, controller, processor, stranger, gateway, subject, other_subject,
                                          created):
    """The same reads, batched for one fresh subject pair and sent one logRead at a time for another, all
    in one block: same outcomes, same events but the subject, same heads and counts (an entry names the
    reader, submitter, fields, outcome and block, not the subject)."""
    create(registry, controller, other_subject)
    pair = (subject.address, other_subject.address)
    fresh = tuple(create_keyed(registry, controller, loose_key(f"pd one by one {i}")).address for i in (1, 2))

    def reads_of(first, second):
        return [
            Read(registry, processor, first),
            Read(registry, stranger, first),
            Read(registry, processor, second, what=EXPORT, deadline=latest_timestamp() - 1),
            Read(registry, controller, second),
            Read(registry, controller, first, what=EXPORT),
        ]

    batched, singles = reads_of(*pair), reads_of(*fresh)
    expected = [GRANTED, NOT_AUTHORISED, EXPIRED, GRANTED, GRANTED]
    assert plain(registry.logReads.call([signed(r) for r in batched], {"from": gateway})) == tuple(expected)
    assert [registry.logRead.call(*signed(r), {"from": gateway}) for r in singles] == expected

    contract = web3.eth.contract(address=registry.address, abi=PersonalDataRegistry.abi)
    nonce = web3.eth.get_transaction_count(gateway.address)
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        sent = [contract.functions.logReads([signed(r) for r in batched]).transact(
            {"from": gateway.address, "nonce": nonce, "gas": 2_000_000})]
        for i, read in enumerate(singles, start=1):
            sent.append(contract.functions.logRead(*signed(read)).transact(
                {"from": gateway.address, "nonce": nonce + i, "gas": 500_000}))
        chain.mine()
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    receipts = [web3.eth.get_transaction_receipt(h) for h in sent]
    assert [r["status"] for r in receipts] == [1] * len(sent)
    assert len({r["blockNumber"] for r in receipts}) == 1

    def logged(receipt_list, subjects):
        events = [e for r in receipt_list for e in contract.events.ReadLogged().process_receipt(r)]
        return [dict(e["args"], subject=subjects.index(e["args"]["subject"])) for e in events]

    assert logged(receipts[:1], pair) == logged(receipts[1:], fresh)
    assert [e["result"] for e in logged(receipts[:1], pair)] == expected
    for batched_subject, single_subject in zip(pair, fresh):
        assert plain(registry.accessHead(batched_subject)) == plain(registry.accessHead(single_subject)) != ZERO32
        assert record_of(registry, batched_subject)["accessCount"] == record_of(registry, single_subject)["accessCount"]


def test_batch_same_nonce_of_different_readers(registry, controller, processor, gateway, subject, created):
    """Nonces are per reader: two readers may use the same number in one batch."""
    reads = [Read(registry, processor, subject, nonce=9), Read(registry, controller, subject, nonce=9)]
    log_reads(registry, gateway, reads, [GRANTED, GRANTED])
    assert registry.readNonceUsed(processor, 9) and registry.readNonceUsed(controller, 9)


@pytest.mark.parametrize("position", [0, 1, 2], ids=["first", "middle", "last"])
def test_forged_read_anywhere_reverts_the_whole_batch(registry, controller, processor, stranger, gateway, subject,
                                                      created, position):
    """The attack in a batch: a gateway slips one read in a controller's name, signed by a stranger, among
    genuine ones. The whole batch is refused; nothing is logged or consumed, and the controller's nonce
    stays free for its own read."""
    reads = [Read(registry, processor, subject), Read(registry, stranger, subject)]
    fake = Read(registry, controller, subject, nonce=10, signer=stranger)
    reads.insert(position, fake)
    before = record_of(registry, subject)

    with refused("PersonalDataReadSignatureInvalid", controller.address, stranger.address):
        registry.logReads([signed(r) for r in reads], {"from": gateway})

    assert record_of(registry, subject) == before
    assert not any(registry.readNonceUsed(address_of(r.reader), r.nonce) for r in reads)
    log_reads(registry, gateway, [Read(registry, controller, subject, nonce=10)], [GRANTED])


def test_batch_of_a_full_page_is_accepted(registry, controller, processor, gateway, subject, created):
    reads = [Read(registry, processor, subject) for _ in range(MAX_PAGE)]
    log_reads(registry, gateway, reads, [GRANTED] * MAX_PAGE)


def test_empty_batch_is_refused(registry, gateway):
    with refused("PersonalDataBatchEmpty"):
        registry.logReads([], {"from": gateway})


def test_batch_longer_than_a_page_is_refused(registry, processor, gateway, subject, created):
    reads = [Read(registry, processor, subject) for _ in range(MAX_PAGE + 1)]
    with refused("PersonalDataBatchTooLong", MAX_PAGE + 1):
        registry.logReads([signed(r) for r in reads], {"from": gateway})
    assert not any(registry.readNonceUsed(processor, r.nonce) for r in reads)
    assert record_of(registry, subject)["accessCount"] == 0


@pytest.mark.parametrize("position", [0, 1, 2], ids=["first", "middle", "last"])
def test_unknown_subject_anywhere_reverts_the_whole_batch(registry, processor, stranger, gateway, subject,
                                                          other_subject, created, position):
    reads = [Read(registry, processor, subject), Read(registry, stranger, subject)]
    reads.insert(position, Read(registry, processor, other_subject))  # other_subject has no record
    before = record_of(registry, subject)

    with refused("PersonalDataUnknownSubject", other_subject):
        registry.logReads([signed(r) for r in reads], {"from": gateway})

    assert record_of(registry, subject) == before
    assert not any(registry.readNonceUsed(address_of(r.reader), r.nonce) for r in reads)


def test_replayed_nonce_reverts_the_whole_batch(registry, processor, stranger, gateway, subject, created):
    used = Read(registry, processor, subject)
    log_read(registry, processor, used, GRANTED)
    before = record_of(registry, subject)
    fresh = Read(registry, stranger, subject)

    for reads in ([fresh, used], [used, fresh]):
        with refused("PersonalDataReadReplayed", processor, used.nonce):
            registry.logReads([signed(r) for r in reads], {"from": gateway})

    assert record_of(registry, subject) == before
    assert not registry.readNonceUsed(stranger, fresh.nonce)


def test_nonce_repeated_within_a_batch_reverts_it(registry, controller, processor, stranger, gateway, subject,
                                                   other_subject, created):
    create(registry, controller, other_subject)
    before = [record_of(registry, who) for who in (subject, other_subject)]
    reads = [
        Read(registry, processor, subject, nonce=5),
        Read(registry, stranger, subject),
        Read(registry, processor, other_subject, what=EXPORT, nonce=5),  # another read, the same nonce
    ]

    with refused("PersonalDataReadReplayed", processor, 5):
        registry.logReads([signed(r) for r in reads], {"from": gateway})
    with refused("PersonalDataReadReplayed", processor, 5):  # the very same read twice
        registry.logReads([signed(reads[0]), signed(reads[0])], {"from": gateway})

    assert [record_of(registry, who) for who in (subject, other_subject)] == before
    assert not registry.readNonceUsed(processor, 5) and not registry.readNonceUsed(stranger, reads[1].nonce)
    log_reads(registry, gateway, reads[:2], [GRANTED, NOT_AUTHORISED])  # without the repeat it goes through


# ---------------------------------------------------------------- readPolicy


def test_read_policy_answers_like_log_read(registry, controller, processor, supervisor, stranger, subject, requester,
                                           consented):
    for reader, expected in [
        (subject, GRANTED), (controller, GRANTED), (processor, GRANTED), (requester, GRANTED),
        (supervisor, NOT_AUTHORISED), (stranger, NOT_AUTHORISED),
    ]:
        assert registry.readPolicy(subject, reader) == expected
    registry.erase(subject, {"from": controller})
    assert registry.readPolicy(subject, processor) == ERASED
    assert registry.readPolicy(subject, requester) == NOT_AUTHORISED  # erasure ends consents
    assert registry.readPolicy(subject, stranger) == NOT_AUTHORISED


def test_read_policy_of_an_unknown_subject_reverts(registry, processor, subject):
    with refused("PersonalDataUnknownSubject", subject):
        registry.readPolicy(subject, processor)


# ---------------------------------------------------------------- requestConsent


def test_anyone_requests_consent(registry, subject, requester, created):
    assert ask(registry, requester, subject) == 1


def test_requests_are_numbered(registry, subject, other_subject, controller, requester, second_requester, created):
    create(registry, controller, other_subject)
    assert ask(registry, requester, subject) == 1
    assert ask(registry, second_requester, subject) == 2
    assert ask(registry, requester, other_subject) == 3
    assert ask(registry, requester, subject, PURPOSE) == 4  # again, another purpose


def test_unknown_request_is_empty(registry):
    assert request_of(registry, 1) == {
        "subject": ZERO_ADDRESS, "requester": ZERO_ADDRESS, "purpose": ZERO32, "status": R_NONE, "requestedAt": 0,
        "answeredAt": 0,
    }
    assert registry.requestCount() == 0


def test_request_to_an_unknown_subject_is_refused(registry, subject, requester):
    with refused("PersonalDataUnknownSubject", subject):
        registry.requestConsent(subject, BANK_PURPOSE, public_key(requester), {"from": requester})


def test_request_to_an_erased_record_is_refused(registry, subject, requester, created):
    registry.erase(subject, {"from": subject})
    with refused("PersonalDataRecordErased", subject):
        registry.requestConsent(subject, BANK_PURPOSE, public_key(requester), {"from": requester})


def test_subject_cannot_request_from_themself(registry, subject, created):
    with refused("PersonalDataRequesterIsSubject", subject):
        registry.requestConsent(subject, BANK_PURPOSE, public_key(subject), {"from": subject})


def test_request_needs_a_purpose(registry, subject, requester, created):
    with refused("PersonalDataPurposeEmpty"):
        registry.requestConsent(subject, ZERO32, public_key(requester), {"from": requester})


@pytest.mark.parametrize("length", [0, 63, 65])
def test_request_key_must_be_64_bytes(registry, subject, requester, created, length):
    key = (public_key(requester) + b"\x04")[:length]
    with refused("PersonalDataKeyMalformed", length):
        registry.requestConsent(subject, BANK_PURPOSE, key, {"from": requester})


def test_request_key_must_be_the_requesters(registry, subject, requester, second_requester, created):
    with refused("PersonalDataKeyMismatch", requester, second_requester):
        registry.requestConsent(subject, BANK_PURPOSE, public_key(second_requester), {"from": requester})


# ---------------------------------------------------------------- grantConsent


def test_subject_grants_with_a_re_encrypted_file(registry, subject, requester, created):
    request_id = ask(registry, requester, subject)
    tx = grant(registry, subject, request_id)

    assert record_of(registry, subject)["version"] == 2
    assert list(tx.events.keys()) == ["PersonalDataUpdated", "ConsentGranted"]
    assert registry.readPolicy(subject, requester) == GRANTED


def test_grants_to_two_requesters(registry, subject, requester, second_requester, created):
    first = ask(registry, requester, subject)
    second = ask(registry, second_requester, subject)
    grant(registry, subject, second, "for insurer")
    grant(registry, subject, first, "for insurer and bank")

    assert record_of(registry, subject)["version"] == 3
    assert consent_of(registry, subject, requester)["requestId"] == first
    assert consent_of(registry, subject, second_requester)["requestId"] == second


@pytest.mark.parametrize("who", ["requester", "controller", "other_subject", "stranger"])
def test_only_the_subject_grants(registry, subject, created, requester, who, request):
    request_id = ask(registry, requester, subject)
    caller = request.getfixturevalue(who)
    with refused("PersonalDataNotSubject", caller, subject):
        registry.grantConsent(request_id, CID_V2, file_hash("x"), {"from": caller})


@pytest.mark.parametrize("request_id", [0, 1, 2**64 - 1])
def test_granting_an_unknown_request_is_refused(registry, subject, created, request_id):
    with refused("PersonalDataRequestUnknown", request_id):
        registry.grantConsent(request_id, CID_V2, file_hash("x"), {"from": subject})


def test_granting_twice_is_refused(registry, subject, consented):
    with refused("PersonalDataRequestAnswered", consented, R_GRANTED):
        registry.grantConsent(consented, CID_V0, file_hash("again"), {"from": subject})


def test_granting_a_denied_request_is_refused(registry, subject, requester, created):
    request_id = ask(registry, requester, subject)
    registry.denyConsent(request_id, {"from": subject})
    with refused("PersonalDataRequestAnswered", request_id, R_DENIED):
        registry.grantConsent(request_id, CID_V2, file_hash("x"), {"from": subject})


def test_grant_needs_a_new_file(registry, subject, requester, created):
    request_id = ask(registry, requester, subject)
    with refused("PersonalDataHashUnchanged", subject):
        registry.grantConsent(request_id, CID_V2, file_hash("v1"), {"from": subject})
    with refused("PersonalDataHashEmpty"):
        registry.grantConsent(request_id, CID_V2, ZERO32, {"from": subject})
    with refused("PersonalDataPointerInvalid", 0):
        registry.grantConsent(request_id, "", file_hash("x"), {"from": subject})


def test_grant_on_an_erased_record_is_refused(registry, subject, requester, created):
    request_id = ask(registry, requester, subject)
    registry.erase(subject, {"from": subject})
    with refused("PersonalDataRecordErased", subject):
        registry.grantConsent(request_id, CID_V2, file_hash("x"), {"from": subject})


def test_re_granting_after_revocation(registry, subject, requester, consented):
    registry.revokeConsent(requester, {"from": subject})
    request_id = ask(registry, requester, subject)
    grant(registry, subject, request_id, "re-encrypted again", CID_V0)
    assert registry.readPolicy(subject, requester) == GRANTED


# ---------------------------------------------------------------- denyConsent


def test_subject_denies(registry, subject, requester, created):
    request_id = ask(registry, requester, subject)
    before = record_of(registry, subject)

    tx = registry.denyConsent(request_id, {"from": subject})

    assert_event(tx, "ConsentDenied", requestId=request_id, subject=subject, requester=requester, purpose=BANK_PURPOSE)
    assert request_of(registry, request_id)["status"] == R_DENIED
    assert request_of(registry, request_id)["answeredAt"] == tx.timestamp
    assert record_of(registry, subject) == before  # the file is untouched
    assert not consent_of(registry, subject, requester)["active"]
    assert registry.readPolicy(subject, requester) == NOT_AUTHORISED


@pytest.mark.parametrize("who", ["requester", "controller", "stranger"])
def test_only_the_subject_denies(registry, subject, requester, created, who, request):
    request_id = ask(registry, requester, subject)
    caller = request.getfixturevalue(who)
    with refused("PersonalDataNotSubject", caller, subject):
        registry.denyConsent(request_id, {"from": caller})


def test_denying_an_unknown_request_is_refused(registry, subject):
    with refused("PersonalDataRequestUnknown", 5):
        registry.denyConsent(5, {"from": subject})


def test_denying_twice_is_refused(registry, subject, requester, created):
    request_id = ask(registry, requester, subject)
    registry.denyConsent(request_id, {"from": subject})
    with refused("PersonalDataRequestAnswered", request_id, R_DENIED):
        registry.denyConsent(request_id, {"from": subject})


def test_denying_a_granted_request_is_refused(registry, subject, consented):
    with refused("PersonalDataRequestAnswered", consented, R_GRANTED):
        registry.denyConsent(consented, {"from": subject})


def test_denying_on_an_erased_record_is_allowed(registry, subject, requester, created):
    request_id = ask(registry, requester, subject)
    registry.erase(subject, {"from": subject})
    registry.denyConsent(request_id, {"from": subject})
    assert request_of(registry, request_id)["status"] == R_DENIED


def test_a_later_denial_keeps_an_earlier_consent(registry, subject, requester, consented):
    again = ask(registry, requester, subject, PURPOSE)
    registry.denyConsent(again, {"from": subject})
    assert consent_of(registry, subject, requester)["active"]


# ---------------------------------------------------------------- revokeConsent and the end of consents


def test_subject_revokes_consent(registry, subject, requester, consented):
    tx = registry.revokeConsent(requester, {"from": subject})

    assert_event(tx, "ConsentRevoked", subject=subject, requester=requester, requestId=consented, purpose=BANK_PURPOSE)
    assert consent_of(registry, subject, requester) == {
        "active": False, "purpose": ZERO32, "grantedAt": 0, "requestId": 0,
    }
    read_as(registry, requester, subject, NOT_AUTHORISED)


def test_revoking_twice_is_refused(registry, subject, requester, consented):
    registry.revokeConsent(requester, {"from": subject})
    with refused("PersonalDataNoConsent", subject, requester):
        registry.revokeConsent(requester, {"from": subject})


def test_revoking_a_consent_never_given_is_refused(registry, subject, stranger, created):
    with refused("PersonalDataNoConsent", subject, stranger):
        registry.revokeConsent(stranger, {"from": subject})


def test_only_the_subject_revokes_their_consent(registry, subject, requester, controller, consented):
    """The call revokes the sender's own consents: a controller has none to revoke."""
    with refused("PersonalDataNoConsent", controller, requester):
        registry.revokeConsent(requester, {"from": controller})
    assert consent_of(registry, subject, requester)["active"]


def test_erasure_ends_consents(registry, subject, requester, consented):
    registry.erase(subject, {"from": subject})

    assert consent_of(registry, subject, requester)["active"] is False
    read_as(registry, requester, subject, NOT_AUTHORISED)
    with refused("PersonalDataNoConsent", subject, requester):
        registry.revokeConsent(requester, {"from": subject})


def test_consent_does_not_survive_re_creation(registry, controller, subject, requester, consented):
    registry.erase(subject, {"from": subject})
    create(registry, controller, subject, label="new life")

    assert consent_of(registry, subject, requester)["active"] is False
    assert consent_of(registry, subject, requester)["requestId"] == consented  # the old grant, void
    read_as(registry, requester, subject, NOT_AUTHORISED)


# ---------------------------------------------------------------- recordAudit


@pytest.mark.parametrize("finding", [INTACT, TAMPERED, MISSING, ERASURE_VERIFIED, ERASURE_INCOMPLETE])
def test_supervisor_records_findings(registry, supervisor, subject, created, finding):
    tx = registry.recordAudit(subject, finding, EVIDENCE, {"from": supervisor})
    assert_event(
        tx, "AuditRecorded", subject=subject, supervisor=supervisor, finding=finding, version=1,
        integrityHash=file_hash("v1"), evidence=EVIDENCE,
    )


def test_supervisor_verifies_an_erasure(registry, controller, supervisor, subject, created):
    rectify(registry, controller, subject)
    registry.erase(subject, {"from": subject})
    tx = registry.recordAudit(subject, ERASURE_VERIFIED, EVIDENCE, {"from": supervisor})
    assert tx.events["AuditRecorded"]["version"] == 2
    assert plain(tx.events["AuditRecorded"]["integrityHash"]) == file_hash("v2")


@pytest.mark.parametrize("who", ["controller", "org", "processor", "subject"])
def test_only_a_supervisor_audits(registry, subject, created, who, request):
    caller = request.getfixturevalue(who)
    with refused("AccessControlUnauthorizedAccount", caller, SUPERVISOR_ROLE):
        registry.recordAudit(subject, INTACT, EVIDENCE, {"from": caller})


@pytest.mark.parametrize("finding", [F_NONE, ERASURE_INCOMPLETE + 1, 255])
def test_finding_must_be_known(registry, supervisor, subject, created, finding):
    with refused("PersonalDataFindingInvalid", finding):
        registry.recordAudit(subject, finding, EVIDENCE, {"from": supervisor})


def test_auditing_an_unknown_subject_is_refused(registry, supervisor, subject):
    with refused("PersonalDataUnknownSubject", subject):
        registry.recordAudit(subject, INTACT, EVIDENCE, {"from": supervisor})


# ---------------------------------------------------------------- listing


def test_empty_registry_lists_nothing(registry):
    assert plain(registry.subjects(0, 10)) == ()
    assert plain(registry.records(0, 10)) == ()
    assert plain(registry.subjects(5, 0)) == ()


def test_records_page_holds_each_record(registry, controller, subject, other_subject):
    create(registry, controller, subject)
    create(registry, controller, other_subject, label="bob v1", pointer=CID_V0)
    registry.erase(other_subject, {"from": other_subject})

    rows = [dict(zip(record_of(registry, subject).keys(), row)) for row in plain(registry.records(0, 10))]

    assert rows == [record_of(registry, subject), record_of(registry, other_subject)]
    assert [r["erased"] for r in rows] == [False, True]
    assert plain(registry.records(1, 1))[0][0] == address_of(other_subject)


def test_paging_edges(registry, controller):
    keys = [loose_key(f"page {i}") for i in range(MAX_PAGE + 1)]
    people = [key.address for key in keys]
    for key in keys:
        registry.create(*Consent(registry, key.address, controller, signer=key).args(), {"from": controller})

    def page(offset, limit):
        return [address_of(a) for a in registry.subjects(offset, limit)]

    assert registry.subjectCount() == MAX_PAGE + 1
    assert page(0, 3) == people[:3]
    assert page(99, 5) == people[99:]  # short last page
    assert page(0, 2**256 - 1) == people[:MAX_PAGE]  # capped
    assert page(MAX_PAGE, MAX_PAGE) == people[MAX_PAGE:]
    assert page(MAX_PAGE + 1, 1) == [] and page(2**256 - 1, 2**256 - 1) == []  # past the end
    assert page(0, 0) == []
    assert len(registry.records(0, 2**256 - 1)) == MAX_PAGE
    assert [r[0] for r in plain(registry.records(98, 10))] == people[98:]


# ---------------------------------------------------------------- gas


def test_gas_per_operation(registry, org, controller, processor, stranger, gateway, subject, requester, capsys):
    """Prints what each operation costs (run with -s) and guards against regressions."""
    gas = {}
    consent = Consent(registry, subject, controller)
    gas["create (CIDv1 pointer, 59 bytes)"] = registry.create(*consent.args(), {"from": controller}).gas_used
    gas["rectify by controller"] = registry.rectify(subject, CID_V0, file_hash("v2"), {"from": controller}).gas_used
    gas["rectify by subject"] = registry.rectify(subject, CID_V1, file_hash("v3"), {"from": subject}).gas_used
    gas["logRead granted: the subject's first read"] = registry.logRead(
        *Read(registry, processor, subject).args(), {"from": gateway}
    ).gas_used
    gas["logRead granted: random nonce"] = registry.logRead(
        *Read(registry, processor, subject, nonce=2**200).args(), {"from": gateway}
    ).gas_used
    gas["logRead granted: next nonce (same nonce word)"] = registry.logRead(
        *Read(registry, processor, subject, nonce=2**200 + 1).args(), {"from": gateway}
    ).gas_used
    gas["logRead refused: not authorised"] = registry.logRead(
        *Read(registry, stranger, subject).args(), {"from": stranger}
    ).gas_used
    gas["requestConsent"] = registry.requestConsent(
        subject, BANK_PURPOSE, public_key(requester), {"from": requester}
    ).gas_used
    gas["grantConsent (re-encrypted file)"] = registry.grantConsent(
        1, CID_V2, file_hash("for bank"), {"from": subject}
    ).gas_used
    gas["logRead granted (consented requester)"] = registry.logRead(
        *Read(registry, requester, subject).args(), {"from": gateway}
    ).gas_used
    registry.requestConsent(subject, PURPOSE, public_key(requester), {"from": requester})
    gas["denyConsent"] = registry.denyConsent(2, {"from": subject}).gas_used
    gas["revokeConsent"] = registry.revokeConsent(requester, {"from": subject}).gas_used
    gas["erase"] = registry.erase(subject, {"from": subject}).gas_used
    gas["logRead refused: erased"] = registry.logRead(
        *Read(registry, processor, subject).args(), {"from": gateway}
    ).gas_used
    again = Consent(registry, subject, org, label="again")
    gas["create again after erasure"] = registry.create(*again.args(), {"from": org}).gas_used

    with capsys.disabled():
        print("\n\nPersonalDataRegistry gas per operation (whole transaction, 21,000 base included)")
        for name, used in gas.items():
            print(f"  {name:<48} {used:>9,}")

    assert gas["create (CIDv1 pointer, 59 bytes)"] < 250_000
    assert gas["logRead granted: random nonce"] < 80_000
    assert gas["logRead granted: next nonce (same nonce word)"] < 60_000
    assert gas["requestConsent"] < 125_000
    assert gas["grantConsent (re-encrypted file)"] < 120_000
    assert gas["erase"] < 40_000


def test_log_reads_gas_per_element(registry, controller, processor, gateway, capsys):
    """A processor's listing logged in one transaction: gas per read for batches of 1, 10 and 100 reads of
    distinct subjects (run with -s). Subjects are read once before, nonces random, as the logRead rows."""
    keys = [create_keyed(registry, controller, loose_key(f"gas batch {i}")) for i in range(MAX_PAGE)]
    people = [key.address for key in keys]

    def batch(who, **kwargs):
        reads = [Read(registry, processor, subject, **kwargs) for subject in who]
        tx = registry.logReads([signed(r) for r in reads], {"from": gateway})
        assert [e["result"] for e in tx.events["ReadLogged"]] == [GRANTED] * len(who)
        return tx.gas_used

    per_read = {}
    per_read["logReads x100: each subject's first read"] = batch(people) / MAX_PAGE
    single = registry.logRead(*signed(Read(registry, processor, people[0])), {"from": gateway}).gas_used
    per_read["logRead alone (for comparison)"] = single
    for size in (1, 10, MAX_PAGE):
        per_read[f"logReads x{size}: random nonces"] = batch(people[:size]) / size
    nonces = iter(range(2**200, 2**200 + MAX_PAGE))
    reads = [Read(registry, processor, subject, nonce=next(nonces)) for subject in people]
    per_read["logReads x100: consecutive nonces"] = registry.logReads(
        [signed(r) for r in reads], {"from": gateway}
    ).gas_used / MAX_PAGE

    with capsys.disabled():
        print("\n\nPersonalDataRegistry.logReads gas per read (whole transaction / reads, 21,000 base included)")
        for name, used in per_read.items():
            print(f"  {name:<48} {used:>11,.0f}")

    assert per_read["logReads x1: random nonces"] < single + 2_000  # the batch's own overhead is small
    assert per_read["logReads x10: random nonces"] < per_read["logReads x1: random nonces"] - 15_000
    assert per_read["logReads x100: random nonces"] < 55_000
    assert per_read["logReads x100: consecutive nonces"] < 40_000
    assert per_read["logReads x100: random nonces"] * MAX_PAGE < 10_000_000  # far below a block's gas


# ---------------------------------------------------------------- the Python wrapper over the same contract


def test_python_wrapper_round_trip(registry, org, processor, gateway):
    """elicense.registries.personal.PersonalDataRegistry drives the deployed contract without Brownie,
    and its typed data matches the contract's digests."""
    from elicense.chain import Chain, account_from_key
    from elicense.nodes import dev_key
    from elicense.registries.personal import PersonalDataRegistry as Wrapped
    from elicense.commitments import Purpose, field_commitment, purpose_commitment
    from elicense.errors import InvalidInput, NotAllowed
    from elicense.registries.personal import integrity_hash, purpose_code

    chain_ = Chain(web3.provider.endpoint_uri)
    org_key, gateway_key, subject_key, requester_key = (account_from_key(dev_key(i)) for i in (0, 5, 6, 7))
    assert (org_key.address, gateway_key.address) == (org.address, gateway.address)
    wrapped = Wrapped(chain_, registry.address)
    processor_key = account_from_key(processor.private_key)

    # typed data: same digests as the contract's
    typed = wrapped.typed_consent(org.address, PURPOSE, file_hash("w1"), 123, 4)
    assert digest_of(typed) == plain(registry.consentDigest(org.address, PURPOSE, file_hash("w1"), 123, 4))
    assert typed == consent_message(registry, org.address, PURPOSE, file_hash("w1"), 123, 4)
    typed = wrapped.typed_read(subject_key.address, WHAT, 123, 5)
    assert digest_of(typed) == plain(registry.readDigest(subject_key.address, WHAT, 123, 5))
    assert typed == read_message(registry, subject_key.address, WHAT, 123, 5)
    # the salted commitments of src/ are the ones built here from the spec
    assert field_commitment(["name", "email"], keccak(text="salt 3")) == WHAT
    assert field_commitment("*", keccak(text="salt 4")) == EXPORT
    assert purpose_commitment("purpose: mortgage application", keccak(text="salt 2")) == BANK_PURPOSE
    assert Purpose("purpose: mortgage application", keccak(text="salt 2")).opens(BANK_PURPOSE)
    with pytest.raises(InvalidInput):  # a bare statement never goes on chain unsalted
        purpose_code("purpose: mortgage application")

    # create, read with tamper check, rectify
    sealed = envelope("wrapper v1")
    deadline = chain_.timestamp() + HOUR
    signature = wrapped.sign_consent(subject_key, org.address, PURPOSE, integrity_hash(sealed), deadline)
    created_ = wrapped.create(
        org_key, subject_key.address, CID_V1, integrity_hash(sealed), PURPOSE, deadline, signature
    )
    assert (created_.kind, created_.version, created_.generation, created_.by) == ("created", 1, 1, org.address)
    check = wrapped.check_file(subject_key.address, sealed)
    assert (check.tampered, check.erased, check.record.version) == (False, False, 1)
    assert wrapped.check_file(subject_key.address, sealed + b"!").tampered is True

    entry = wrapped.log_read(gateway_key, wrapped.signed_read(processor_key, subject_key.address, ["name", "email"]))
    assert (entry.result, entry.reader, entry.submitter) == ("granted", processor.address, gateway.address)
    assert entry.fields == "email,name" and entry.what not in (WHAT, b"email,name".ljust(32, b"\0"))  # fresh salt
    forged_read = dataclasses.replace(wrapped.signed_read(processor_key, subject_key.address, "*"),
                                      reader=requester_key.address)
    with pytest.raises(NotAllowed) as refusal:
        wrapped.log_read(gateway_key, forged_read)
    assert refusal.value.contract_error == "PersonalDataReadSignatureInvalid"
    changed = wrapped.rectify(subject_key, subject_key.address, CID_V2, integrity_hash(envelope("wrapper v2")))
    assert (changed.kind, changed.version, changed.previous_hash) == ("updated", 2, integrity_hash(sealed))

    # consent: request, grant, read, revoke
    requester_public = eth_keys.keys.PrivateKey(bytes(requester_key.key)).public_key.to_bytes()
    pending = wrapped.request_consent(requester_key, subject_key.address, BANK_PURPOSE, requester_public)
    assert (pending.request_id, pending.status, pending.public_key) == (1, "pending", requester_public)
    assert [r.request_id for r in wrapped.requests_for(subject_key.address, pending_only=True)] == [1]
    answer = wrapped.grant_consent(subject_key, 1, CID_V0, integrity_hash(envelope("for bank")))
    assert (answer.granted, answer.version, answer.requester) == (True, 3, requester_key.address)
    assert wrapped.requests_for(subject_key.address, pending_only=True) == []
    assert wrapped.consent_of(subject_key.address, requester_key.address).active
    bank_read = wrapped.log_read(requester_key, wrapped.signed_read(requester_key, subject_key.address, "*"))
    assert bank_read.result == "granted"
    wrapped.revoke_consent(subject_key, requester_key.address)
    refused_read = wrapped.log_read(requester_key, wrapped.signed_read(requester_key, subject_key.address, "*"))
    assert refused_read.result == "not-authorised"

    # the access log, verified; history; erase; listing
    log = wrapped.access_log(subject_key.address)
    assert [e.result for e in log] == ["granted", "granted", "not-authorised"]
    assert wrapped.verify_access_log(subject_key.address)
    erased = wrapped.erase(org_key, subject_key.address)
    assert (erased.kind, erased.version) == ("erased", 3)
    assert wrapped.check_file(subject_key.address, sealed).erased is True
    assert [c.kind for c in wrapped.history(subject_key.address)] == ["created", "updated", "updated", "erased"]
    assert [r.subject for r in wrapped.all_records()] == [subject_key.address]
    assert wrapped.record(org.address) is None
    assert wrapped.has_role("controller", org.address) and not wrapped.has_role("supervisor", org.address)

    # refusals surface as client errors before any transaction is sent
    from elicense import artifacts
    from elicense.errors import ElicenseError

    with pytest.raises(ElicenseError) as refusal:
        wrapped.erase(org_key, subject_key.address)
    if "PersonalDataRegistry" in artifacts.CONTRACTS:  # once the registry's errors are known to revert.py
        assert refusal.value.contract_error == "PersonalDataRecordErased"


def test_python_wrapper_logs_reads_in_one_transaction(registry, org, processor, gateway, stranger):
    """PersonalDataRegistry.log_reads: one transaction, one entry per read in order, each carrying the
    transaction's whole gas; an empty or too long batch is refused before anything is sent."""
    from elicense.chain import Chain, account_from_key
    from elicense.errors import ElicenseError, InvalidInput
    from elicense.nodes import dev_key
    from elicense.registries.personal import PAGE
    from elicense.registries.personal import PersonalDataRegistry as Wrapped

    chain_ = Chain(web3.provider.endpoint_uri)
    org_key, gateway_key, subject_key, stranger_key = (account_from_key(dev_key(i)) for i in (0, 5, 6, 9))
    assert stranger_key.address == stranger.address
    wrapped = Wrapped(chain_, registry.address)
    processor_key = account_from_key(processor.private_key)
    subject_ = subject_key.address
    deadline = chain_.timestamp() + HOUR
    signature = wrapped.sign_consent(subject_key, org.address, PURPOSE, file_hash("w1"), deadline)
    wrapped.create(org_key, subject_, CID_V1, file_hash("w1"), PURPOSE, deadline, signature)

    reads = [
        wrapped.signed_read(processor_key, subject_, ["name", "email"]),
        wrapped.signed_read(stranger_key, subject_, "*"),
        wrapped.signed_read(subject_key, subject_, "*"),
    ]
    entries = wrapped.log_reads(gateway_key, reads)

    assert [(e.reader, e.result, e.fields) for e in entries] == [
        (processor.address, "granted", "email,name"), (stranger.address, "not-authorised", "*"),
        (subject_, "granted", "*"),
    ]
    assert {(e.submitter, e.tx_hash, e.block_number, e.gas_used) for e in entries} == {
        (gateway.address, entries[0].tx_hash, entries[0].block_number,
         web3.eth.get_transaction_receipt(entries[0].tx_hash)["gasUsed"])
    }
    assert entries[-1].access_head == wrapped.access_head(subject_)
    assert wrapped.access_log(subject_) == [dataclasses.replace(e, gas_used=0, names=None) for e in entries]
    assert [e.fields for e in wrapped.access_log(subject_)] == ["0x" + r.what.hex() for r in reads]  # salted on chain
    openings = {r.what: r.fields for r in reads}
    assert wrapped.access_log(subject_, openings=openings) == [dataclasses.replace(e, gas_used=0) for e in entries]
    assert wrapped.verify_access_log(subject_)

    sent = web3.eth.get_transaction_count(gateway.address)
    for batch in ([], [reads[0]] * (PAGE + 1)):
        with pytest.raises(InvalidInput):
            wrapped.log_reads(gateway_key, batch)
    assert web3.eth.get_transaction_count(gateway.address) == sent

    with pytest.raises(ElicenseError) as refusal:  # a replay in the batch: nothing of it is logged
        wrapped.log_reads(gateway_key, [wrapped.signed_read(processor_key, subject_, "*"), reads[0]])
    assert refusal.value.contract_error == "PersonalDataReadReplayed"
    assert len(wrapped.access_log(subject_)) == 3
