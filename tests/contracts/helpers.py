"""Shared constants and checks for the contract tests.

Everything here is plain Python over Brownie objects: enums mirroring the Solidity ones, the two
per-holder hash chains recomputed off chain, EIP-712 presentation signing with eth-account, and
`refused`, which asserts a revert by custom-error name and arguments.
"""

from contextlib import contextmanager
from enum import IntEnum

import brownie
from brownie import chain, web3
from brownie.exceptions import decode_typed_error
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from hexbytes import HexBytes

ZERO32 = b"\0" * 32
ZERO_ADDRESS = "0x" + "00" * 20
NO_END = 2**40 - 1  # type(uint40).max: a licence without end

# Certificate types (bit t of an agency's set = type t).
MARRIAGE, REAL_ESTATE, DEGREE, BUSINESS, HEALTH = 1, 2, 3, 4, 5


def types(*cert_types):
    """The bit set holding `cert_types`."""
    return sum(1 << t for t in cert_types)


def org(code):
    """An organisation code: ASCII, left-aligned in bytes32."""
    return code.encode().ljust(32, b"\0")


class Role(IntEnum):
    NONE = 0
    HOLDER = 1
    ISSUER = 2
    INSPECTOR = 3
    AUTHORITY = 4


class AgencyStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


class ProposalKind(IntEnum):
    ADD_AGENCY = 0
    SUSPEND_AGENCY = 1
    REINSTATE_AGENCY = 2
    ADD_AUTHORITY = 3
    REMOVE_AUTHORITY = 4


class Status(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3
    RENEWED = 4
    EXPIRED = 5
    NOT_YET_VALID = 6
    RECORD_CLOSED = 7


class CheckResult(IntEnum):
    VALID = 0
    BAD_SIGNATURE = 1
    PRESENTATION_EXPIRED = 2
    PRESENTATION_REPLAYED = 3
    DATA_MISMATCH = 4
    UNKNOWN_LICENCE = 5
    WRONG_HOLDER = 6
    WRONG_ISSUER = 7
    SUSPENDED = 8
    REVOKED = 9
    RENEWED = 10
    EXPIRED = 11
    NOT_YET_VALID = 12
    RECORD_CLOSED = 13


class RecordKind(IntEnum):
    ISSUED = 0
    SUSPENDED = 1
    REINSTATED = 2
    REVOKED = 3
    CLOSED = 4


# What `check` answers for a licence in each status (after signature, freshness and data passed).
RESULT_FOR_STATUS = {
    Status.ACTIVE: CheckResult.VALID,
    Status.SUSPENDED: CheckResult.SUSPENDED,
    Status.REVOKED: CheckResult.REVOKED,
    Status.RENEWED: CheckResult.RENEWED,
    Status.EXPIRED: CheckResult.EXPIRED,
    Status.NOT_YET_VALID: CheckResult.NOT_YET_VALID,
    Status.RECORD_CLOSED: CheckResult.RECORD_CLOSED,
}

CLOSE_DEATH, CLOSE_CITIZENSHIP, CLOSE_OTHER = 1, 2, 3


# ---------------------------------------------------------------- values


def address_of(account):
    """A checksummed address from an Account, a contract or a string."""
    return web3.to_checksum_address(getattr(account, "address", account))


def b32(value):
    """32 bytes from bytes, a hex string or Brownie's HexString."""
    return bytes(HexBytes(value)).rjust(32, b"\0") if value else ZERO32


def data_hash(label):
    """A stand-in for the salted commitment to a licence's data."""
    return keccak(text=f"licence data: {label}")


def licence_id(registry, dhash, agency):
    """keccak256(abi.encode(chainid, registry, agency, dataHash)), as the registry derives it."""
    return keccak(
        encode(["uint256", "address", "bytes32", "bytes32"], [chain.id, address_of(registry), b32(agency), b32(dhash)])
    )


def latest_timestamp():
    return web3.eth.get_block("latest").timestamp


# ---------------------------------------------------------------- hash chains


def extend(head, entry):
    """head' = keccak256(abi.encode(head, entry))."""
    return keccak(encode(["bytes32", "bytes32"], [b32(head), b32(entry)]))


def record_entry(kind, subject, block_number):
    """A record-history entry: keccak256(abi.encode(uint8 kind, bytes32 subject, uint256 block))."""
    return keccak(encode(["uint8", "bytes32", "uint256"], [int(kind), b32(subject), block_number]))


def access_entry(inspector, licence, result, block_number):
    """An access-log entry: keccak256(abi.encode(inspector, licenceId, uint8 result, uint256 block))."""
    return keccak(
        encode(
            ["address", "bytes32", "uint8", "uint256"],
            [address_of(inspector), b32(licence), int(result), block_number],
        )
    )


def record_head(entries, head=ZERO32):
    """The record head after `entries`, each (kind, subject, blockNumber)."""
    for kind, subject, block_number in entries:
        head = extend(head, record_entry(kind, subject, block_number))
    return head


def access_head(entries, head=ZERO32):
    """The access-log head after `entries`, each (inspector, licenceId, result, blockNumber)."""
    for inspector, licence, result, block_number in entries:
        head = extend(head, access_entry(inspector, licence, result, block_number))
    return head


# ---------------------------------------------------------------- presentations


EIP712_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def presentation_message(registry, licence, disclosure, not_after, nonce):
    """The EIP-712 typed data a holder signs to present `licence` to `registry`."""
    return {
        "types": {
            "EIP712Domain": EIP712_DOMAIN,
            "Presentation": [
                {"name": "licenceId", "type": "bytes32"},
                {"name": "disclosure", "type": "bytes32"},
                {"name": "notAfter", "type": "uint64"},
                {"name": "nonce", "type": "bytes32"},
            ],
        },
        "primaryType": "Presentation",
        "domain": {
            "name": "elicense LicenseRegistry",
            "version": "1",
            "chainId": chain.id,
            "verifyingContract": address_of(registry),
        },
        "message": {
            "licenceId": b32(licence),
            "disclosure": b32(disclosure),
            "notAfter": not_after,
            "nonce": b32(nonce),
        },
    }


def presentation_digest(registry, licence, disclosure, not_after, nonce):
    """The digest eth-account signs for the presentation."""
    signable = encode_typed_data(full_message=presentation_message(registry, licence, disclosure, not_after, nonce))
    # EIP-191 version 0x01: keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(message)).
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


class Presentation:
    """A presentation and the holder's signature, ready to pass to `check`."""

    _count = 0

    def __init__(self, registry, signer, licence, disclosure=None, not_after=None, nonce=None):
        Presentation._count += 1
        self.licence = b32(licence)
        self.disclosure = b32(disclosure) if disclosure is not None else keccak(text="disclosed: name, degree")
        self.not_after = not_after if not_after is not None else latest_timestamp() + 600
        self.nonce = b32(nonce) if nonce is not None else keccak(text=f"nonce {Presentation._count}")
        message = presentation_message(registry, self.licence, self.disclosure, self.not_after, self.nonce)
        signed = Account.sign_message(encode_typed_data(full_message=message), signer.private_key)
        self.signature = bytes(signed.signature)
        self.digest = bytes(signed.message_hash)

    @property
    def struct(self):
        return (self.licence, self.disclosure, self.not_after, self.nonce)


# ---------------------------------------------------------------- refusals

_ERROR_ABIS = {}


def _error_abi(name):
    if not _ERROR_ABIS:
        for container in (brownie.IdentityRegistry, brownie.IssuerRegistry, brownie.LicenseRegistry):
            for item in container.abi:
                if item["type"] == "error":
                    _ERROR_ABIS[item["name"]] = item
    return _ERROR_ABIS[name]


def _abi_value(abi_type, value):
    if abi_type == "address":
        return address_of(value)
    if abi_type == "bytes32":
        return b32(value)
    return int(value)


def error_message(name, *args):
    """The revert message Brownie shows for custom error `name(args)`: "Name: arg, arg".

    The expected error is ABI-encoded and decoded by Brownie's own `decode_typed_error`, so the
    rendering of addresses, bytes32 and enums is exactly what a real revert produces.
    """
    abi = _error_abi(name)
    arg_types = [i["type"] for i in abi["inputs"]]
    assert len(arg_types) == len(args), f"{name} takes {len(arg_types)} arguments, got {len(args)}"
    selector = keccak(text=f"{name}({','.join(arg_types)})")[:4]
    data = selector + encode(arg_types, [_abi_value(t, v) for t, v in zip(arg_types, args)])
    return decode_typed_error(HexBytes(data).to_0x_hex())


@contextmanager
def refused(name, *args):
    """Asserts that the block reverts with custom error `name` and exactly these arguments."""
    with brownie.reverts(revert_msg=error_message(name, *args)):
        yield


def expect_refused(call, name, *args):
    """Calls `call()` and asserts it reverts with custom error `name(args)`."""
    with refused(name, *args):
        call()


def event(tx, name, index=0):
    """The `index`-th event `name` of `tx`, as a dict."""
    assert name in tx.events, f"{name} not emitted; got {list(tx.events.keys())}"
    return dict(tx.events[name][index])


def assert_event(tx, name, index=0, /, **expected):
    """Asserts the event's arguments equal `expected` (addresses and bytes32 normalised)."""
    got = event(tx, name, index)
    assert set(got) == set(expected), f"{name}: arguments {sorted(got)} vs expected {sorted(expected)}"
    for key, want in expected.items():
        have = got[key]
        assert _same(have, want), f"{name}.{key}: {have!r} != {want!r}"
    return got


def _same(have, want):
    return plain(have) == plain(want)


def plain(value):
    """Brownie's return values and event arguments as plain Python, for comparisons.

    Brownie's compiled `ReturnValue`/`Wei` refuse to compare with plain tuples and ints, so both
    sides are normalised: sequences to tuples, integers and enums to int, byte strings to bytes,
    addresses (and Accounts, contracts) to checksummed strings.
    """
    if hasattr(value, "address"):
        return address_of(value)
    if isinstance(value, (list, tuple)):
        return tuple(plain(item) for item in value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x"):
        if len(value) == 42:
            return address_of(value)
        return bytes(HexBytes(value))
    return str(value) if isinstance(value, str) else value


# ---------------------------------------------------------------- time


def mine_at(timestamp):
    """Mines one block with exactly `timestamp`.

    Brownie 1.22's `chain.mine(timestamp=...)` sends a malformed `evm_mine` to Anvil ("Invalid
    request"), so the next block's time is set with Anvil's `evm_setNextBlockTimestamp` and the
    block is mined through `chain.mine()`, which keeps Brownie's clock and snapshots in step.
    """
    set_next_timestamp(timestamp)
    chain.mine()
    assert latest_timestamp() == timestamp


def set_next_timestamp(timestamp):
    """The next block (the next transaction's) gets exactly `timestamp` (Anvil)."""
    response = web3.provider.make_request("evm_setNextBlockTimestamp", [int(timestamp)])
    assert "error" not in response, response


# ---------------------------------------------------------------- stateful tests


def brownie_state_machine(fixture):
    """Brownie's `state_machine`, runnable.

    The `state_machine` fixture of the installed Brownie comes from a mypyc-compiled
    `brownie/test/stateful` whose `_BrownieStateMachine.__init__` rejects the very subclass it
    generates ("_BrownieStateMachine object expected; got ...BrownieStateMachine"). The wheel ships
    the module's Python source next to the extension, so that source is loaded and its
    `state_machine` used instead: same rules, invariants, strategies and chain reverts.
    """
    import importlib.util
    import pathlib

    import brownie.test.stateful as compiled

    if pathlib.Path(compiled.__file__).suffix == ".py":
        return fixture
    source = pathlib.Path(compiled.__file__).with_name("stateful.py")
    spec = importlib.util.spec_from_file_location("brownie_stateful_source", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_machine


# ---------------------------------------------------------------- anchors and Merkle leaves
# (Appended for the anchor, mirror and batch tests.)

from typing import NamedTuple  # noqa: E402

# Foreign source chains: the anchor refuses its own chain id (Anvil: 31337) as a source.
MAIN_CHAIN, SIDE_CHAIN = 7001, 7002

# OpenZeppelin standard-tree leaf encodings, as the contracts hash them.
IDENTITY_LEAF = ["address", "uint8"]  # (account, role)
ACCREDITATION_LEAF = ["address", "bytes32", "uint256"]  # (signer, agency, certTypes)
JOURNAL_LEAF = ["uint8", "address", "bytes32"]  # (kind, emitter, subject)
BATCH_LEAF = ["address", "bytes32", "uint40", "uint40", "bytes32"]  # (holder, dataHash, from, until, ctHash)


def know_errors(*containers):
    """Lets `refused` name the custom errors of further contracts (AnchorRegistry, RegistryMirror...)."""
    _error_abi("LicenseUnknown")  # loads the default contracts' errors first: `_error_abi` only fills an empty table
    for container in containers:
        for item in container.abi:
            if item["type"] == "error":
                _ERROR_ABIS.setdefault(item["name"], item)


class Checkpoint(NamedTuple):
    """IAnchorRegistry.Checkpoint; `.struct` is what a contract call takes."""

    sourceChainId: int
    sequence: int
    blockNumber: int
    blockHash: bytes
    identityRoot: bytes = ZERO32
    accreditationRoot: bytes = ZERO32
    journalRoot: bytes = ZERO32

    @property
    def struct(self):
        return (
            self.sourceChainId,
            self.sequence,
            self.blockNumber,
            b32(self.blockHash),
            b32(self.identityRoot),
            b32(self.accreditationRoot),
            b32(self.journalRoot),
        )


def checkpoint_message(anchor, checkpoint, chain_id=None, verifying_contract=None):
    """The EIP-712 typed data relayers sign for `checkpoint` on `anchor` (domain overridable)."""
    fields = [
        ("sourceChainId", "uint256"),
        ("sequence", "uint64"),
        ("blockNumber", "uint64"),
        ("blockHash", "bytes32"),
        ("identityRoot", "bytes32"),
        ("accreditationRoot", "bytes32"),
        ("journalRoot", "bytes32"),
    ]
    return {
        "types": {
            "EIP712Domain": EIP712_DOMAIN,
            "Checkpoint": [{"name": name, "type": kind} for name, kind in fields],
        },
        "primaryType": "Checkpoint",
        "domain": {
            "name": "elicense AnchorRegistry",
            "version": "1",
            "chainId": chain.id if chain_id is None else chain_id,
            "verifyingContract": address_of(anchor if verifying_contract is None else verifying_contract),
        },
        "message": dict(zip([name for name, _ in fields], checkpoint.struct)),
    }


def checkpoint_digest(anchor, checkpoint, chain_id=None, verifying_contract=None):
    """The EIP-712 digest of `checkpoint`, computed off chain with eth-account."""
    message = checkpoint_message(anchor, checkpoint, chain_id, verifying_contract)
    signable = encode_typed_data(full_message=message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def by_address(signers):
    """`signers` in ascending address order, the order the anchor wants their signatures in."""
    return sorted(signers, key=lambda s: int(address_of(s), 16))


def sign_checkpoint(anchor, checkpoint, relayers, chain_id=None, verifying_contract=None, ordered=True):
    """Each relayer's 65-byte signature over `checkpoint`, ordered by ascending signer address."""
    message = checkpoint_message(anchor, checkpoint, chain_id, verifying_contract)
    signers = by_address(relayers) if ordered else list(relayers)
    return [bytes(Account.sign_typed_data(s.private_key, full_message=message).signature) for s in signers]


def recover(digest, signature):
    """The address a signature over `digest` recovers to."""
    return Account._recover_hash(bytes(digest), signature=bytes(signature))
