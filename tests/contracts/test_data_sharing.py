"""DataSharing: a data owner's digital assets, their allow-lists, recorded access requests and fees.

World: a DataSharing deployed by the data owner (accounts[4], a government business system); two
requesters (accounts[5] and [6], e.g. an agency and a bank) and a stranger (accounts[9]). Assets
are published per test (`published` publishes one, allowing `reader`). Every success is checked as
return value, event and stored state; every refusal by its custom error; every denial as a recorded
event that did not revert, with the sent ether returned to the wei.
"""

import hashlib

import brownie
import pytest
from brownie import DataSharing, TestOnlyReentrantRequester, accounts, chain, web3
from eth_utils import keccak

from helpers import ZERO32, ZERO_ADDRESS, address_of, assert_event, event, know_errors, org, plain, refused

know_errors(DataSharing, TestOnlyReentrantRequester)

# Enums of IDataSharing.
SHA256, KECCAK256, SHA3_256, BLAKE2B_256, SM3 = range(5)
NONE, ACTIVE, WITHDRAWN = range(3)
NOT_ALLOWED, WITHDRAWN_ASSET, WRONG_FEE = range(3)

MAX_POINTER, MAX_ACCESS_INFO, MAX_INLINE_DATA, MAX_BATCH, MAX_PAGE = 128, 1024, 1024, 100, 100

BUSINESS_REGISTER = org("business-licence")
HEALTH_STATS = org("health-statistics")
CONTENT = b"encrypted shared data file, version 1"
CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"  # an IPFS CIDv1 (59 bytes)
DIGEST = hashlib.sha256(CONTENT).digest()
# ECIES-wrapped data key: 65-byte ephemeral key, 12-byte nonce, 32-byte key, 16-byte tag.
EPHEMERAL_KEY = b"\x04" + keccak(text="ephemeral x") + keccak(text="ephemeral y")
ACCESS_INFO = EPHEMERAL_KEY + b"\x01" * 12 + keccak(text="wrapped data key") + b"\x02" * 16
INLINE_TEXT = b"licence-category codes: A=retail, B=wholesale, C=import"  # public, never personal data
# A purpose goes on chain as keccak256("elicense.purpose.v1" ‖ salt ‖ statement), the salt kept off chain.
PURPOSE = keccak(b"elicense.purpose.v1" + keccak(text="a 32-byte salt") + b"purpose: verify a business licence")
FEE = 10**16  # 0.01 ether per access
REENTERED = b"reentered".ljust(32, b"\0")  # the purpose the test-only attacker sends when it re-enters


def metadata(pointer=CID, integrity=DIGEST, access_info=ACCESS_INFO, inline=b""):
    """IDataSharing.Metadata as a call argument."""
    return (pointer, integrity, access_info, inline)


def addresses(label, n):
    """`n` distinct deterministic addresses (list members need no key or balance)."""
    return [address_of("0x" + keccak(text=f"{label} {i}")[-20:].hex()) for i in range(n)]


def gas_cost(tx):
    """Wei the sender paid for gas (Anvil's base fee may be zero, then this is zero)."""
    return tx.gas_used * web3.eth.get_transaction_receipt(tx.txid)["effectiveGasPrice"]


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def data_owner():
    return accounts[4]


@pytest.fixture(scope="module")
def reader():
    return accounts[5]


@pytest.fixture(scope="module")
def second_reader():
    return accounts[6]


@pytest.fixture(scope="module")
def sharing(data_owner):
    return DataSharing.deploy({"from": data_owner})


@pytest.fixture(scope="module")
def attacker(sharing, deployer):
    return TestOnlyReentrantRequester.deploy(sharing, {"from": deployer})


def publish(sharing, owner, data_type=BUSINESS_REGISTER, algorithm=SHA256, meta=None, fee=0):
    return sharing.publish(data_type, algorithm, metadata() if meta is None else meta, fee, {"from": owner})


@pytest.fixture
def published(sharing, data_owner, reader):
    """Asset 1: free, active, `reader` on its allow-list."""
    publish(sharing, data_owner)
    sharing.allow(1, [reader], {"from": data_owner})
    return 1


@pytest.fixture
def paid(sharing, data_owner, reader):
    """Asset 1 at FEE wei per access, `reader` allowed."""
    publish(sharing, data_owner, fee=FEE)
    sharing.allow(1, [reader], {"from": data_owner})
    return 1


def asset_of(sharing, asset_id):
    """The asset view as a dict of plain values."""
    header, meta, fee, status, granted, denied, allowed, published_at, updated_at = plain(sharing.asset(asset_id))
    return {
        "header": header, "metadata": meta, "fee": fee, "status": status, "granted": granted, "denied": denied,
        "allowed": allowed, "publishedAt": published_at, "updatedAt": updated_at,
    }


def allow_list(sharing, asset_id):
    return [address_of(a) for a in sharing.allowListOf(asset_id, 0, MAX_PAGE)]


# ---------------------------------------------------------------- construction and ownership


def test_deployer_is_the_data_owner_and_no_asset_exists(sharing, data_owner):
    assert sharing.owner() == data_owner
    assert sharing.pendingOwner() == ZERO_ADDRESS
    assert sharing.assetCount() == 0
    assert list(sharing.directory(0, 10)) == []
    assert (sharing.MAX_POINTER(), sharing.MAX_ACCESS_INFO(), sharing.MAX_INLINE_DATA()) == (128, 1024, 1024)
    assert (sharing.MAX_BATCH(), sharing.MAX_PAGE()) == (MAX_BATCH, MAX_PAGE)


def test_ownership_moves_in_two_steps(sharing, data_owner, second_reader):
    tx = sharing.transferOwnership(second_reader, {"from": data_owner})
    assert_event(tx, "OwnershipTransferStarted", previousOwner=data_owner, newOwner=second_reader)
    assert sharing.owner() == data_owner
    with refused("OwnableUnauthorizedAccount", second_reader):
        publish(sharing, second_reader)

    tx = sharing.acceptOwnership({"from": second_reader})

    assert_event(tx, "OwnershipTransferred", previousOwner=data_owner, newOwner=second_reader)
    assert sharing.owner() == second_reader
    with refused("OwnableUnauthorizedAccount", data_owner):
        publish(sharing, data_owner)
    assert publish(sharing, second_reader).return_value == 1


def test_only_the_pending_owner_accepts_ownership(sharing, data_owner, second_reader, stranger):
    sharing.transferOwnership(second_reader, {"from": data_owner})

    with refused("OwnableUnauthorizedAccount", stranger):
        sharing.acceptOwnership({"from": stranger})
    assert sharing.owner() == data_owner


def test_only_the_owner_transfers_ownership(sharing, stranger):
    with refused("OwnableUnauthorizedAccount", stranger):
        sharing.transferOwnership(stranger, {"from": stranger})


def test_owner_cannot_renounce_ownership(sharing, data_owner):
    with refused("SharingRenounceDisabled"):
        sharing.renounceOwnership({"from": data_owner})
    assert sharing.owner() == data_owner


def test_stranger_cannot_renounce_ownership(sharing, stranger):
    with refused("OwnableUnauthorizedAccount", stranger):
        sharing.renounceOwnership({"from": stranger})


def test_fees_are_credited_to_the_owner_of_the_moment(sharing, paid, data_owner, reader, second_reader):
    sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})
    sharing.transferOwnership(second_reader, {"from": data_owner})
    sharing.acceptOwnership({"from": second_reader})

    sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})

    assert sharing.paymentsOf(data_owner) == FEE
    assert sharing.paymentsOf(second_reader) == FEE


# ---------------------------------------------------------------- publish


def test_owner_publishes_an_asset(sharing, data_owner):
    tx = publish(sharing, data_owner, fee=FEE)

    assert tx.return_value == 1
    assert_event(
        tx, "AssetPublished", id=1, dataType=BUSINESS_REGISTER, hashAlgorithm=SHA256, pointer=CID,
        integrityHash=DIGEST, fee=FEE,
    )
    assert asset_of(sharing, 1) == {
        "header": (1, BUSINESS_REGISTER, SHA256),
        "metadata": (CID, DIGEST, ACCESS_INFO, b""),
        "fee": FEE, "status": ACTIVE, "granted": 0, "denied": 0, "allowed": 0,
        "publishedAt": tx.timestamp, "updatedAt": tx.timestamp,
    }
    assert sharing.assetCount() == 1
    assert plain(sharing.directory(0, 10)) == ((1, BUSINESS_REGISTER, 1, ACTIVE, FEE, CID),)
    assert allow_list(sharing, 1) == []


def test_asset_ids_count_up_from_one(sharing, data_owner):
    ids = [publish(sharing, data_owner).return_value for _ in range(3)]

    assert ids == [1, 2, 3]
    assert sharing.assetCount() == 3


def test_publishing_the_same_metadata_again_makes_a_second_asset(sharing, data_owner):
    publish(sharing, data_owner)

    tx = publish(sharing, data_owner)

    assert tx.return_value == 2
    assert asset_of(sharing, 2)["metadata"] == asset_of(sharing, 1)["metadata"]


def test_small_text_sits_on_chain_without_pointer(sharing, data_owner):
    inline_digest = keccak(INLINE_TEXT)
    tx = publish(sharing, data_owner, HEALTH_STATS, KECCAK256, metadata("", inline_digest, b"", INLINE_TEXT))

    assert_event(
        tx, "AssetPublished", id=1, dataType=HEALTH_STATS, hashAlgorithm=KECCAK256, pointer="",
        integrityHash=inline_digest, fee=0,
    )
    stored = asset_of(sharing, 1)
    assert stored["metadata"] == ("", inline_digest, b"", INLINE_TEXT)
    assert keccak(stored["metadata"][3]) == stored["metadata"][1]


def test_asset_may_have_both_pointer_and_inline_data(sharing, data_owner):
    publish(sharing, data_owner, meta=metadata(inline=INLINE_TEXT))

    assert asset_of(sharing, 1)["metadata"] == (CID, DIGEST, ACCESS_INFO, INLINE_TEXT)


@pytest.mark.parametrize("algorithm", [SHA256, KECCAK256, SHA3_256, BLAKE2B_256, SM3])
def test_every_known_hash_algorithm_is_accepted(sharing, data_owner, algorithm):
    tx = publish(sharing, data_owner, algorithm=algorithm)

    assert event(tx, "AssetPublished")["hashAlgorithm"] == algorithm
    assert asset_of(sharing, 1)["header"] == (1, BUSINESS_REGISTER, algorithm)


def test_fields_of_maximum_length_are_accepted(sharing, data_owner):
    pointer = "ipfs://" + "b" * (MAX_POINTER - 7)
    meta = metadata(pointer, DIGEST, b"\xaa" * MAX_ACCESS_INFO, b"t" * MAX_INLINE_DATA)

    publish(sharing, data_owner, meta=meta)

    assert asset_of(sharing, 1)["metadata"] == meta


@pytest.mark.parametrize("caller", ["stranger", "reader"])
def test_only_the_owner_publishes(sharing, request, caller):
    account = request.getfixturevalue(caller)
    with refused("OwnableUnauthorizedAccount", account):
        publish(sharing, account)
    assert sharing.assetCount() == 0


def test_empty_data_type_is_refused(sharing, data_owner):
    with refused("AssetDataTypeEmpty"):
        publish(sharing, data_owner, data_type=ZERO32)


@pytest.mark.parametrize("algorithm", [5, 255])
def test_unknown_hash_algorithm_is_refused(sharing, data_owner, algorithm):
    with refused("AssetHashAlgorithmInvalid", algorithm):
        publish(sharing, data_owner, algorithm=algorithm)


# Bad metadata and the refusal it gets, for publish and update alike.
BAD_METADATA = [
    pytest.param(metadata(pointer="x" * (MAX_POINTER + 1)), "AssetPointerTooLong", (MAX_POINTER + 1,), id="pointer"),
    pytest.param(metadata(integrity=ZERO32), "AssetIntegrityHashEmpty", (), id="integrity-hash"),
    pytest.param(
        metadata(access_info=b"\x01" * (MAX_ACCESS_INFO + 1)), "AssetAccessInfoTooLong", (MAX_ACCESS_INFO + 1,),
        id="access-info",
    ),
    pytest.param(
        metadata(inline=b"t" * (MAX_INLINE_DATA + 1)), "AssetInlineDataTooLong", (MAX_INLINE_DATA + 1,), id="inline",
    ),
    pytest.param(metadata(pointer="", inline=b""), "AssetContentEmpty", (), id="no-content"),
]


@pytest.mark.parametrize("meta, error, args", BAD_METADATA)
def test_bad_metadata_is_refused_at_publication(sharing, data_owner, meta, error, args):
    with refused(error, *args):
        publish(sharing, data_owner, meta=meta)
    assert sharing.assetCount() == 0


# ---------------------------------------------------------------- update


def test_owner_updates_metadata_and_the_version_grows(sharing, published, data_owner):
    published_at = asset_of(sharing, published)["publishedAt"]
    new_digest = hashlib.sha256(b"encrypted shared data file, version 2").digest()
    new_cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"

    tx = sharing.update(published, metadata(new_cid, new_digest, b"\x05" * 40), {"from": data_owner})

    assert tx.return_value == 2
    assert_event(tx, "AssetUpdated", id=published, version=2, pointer=new_cid, integrityHash=new_digest)
    stored = asset_of(sharing, published)
    assert stored["header"] == (2, BUSINESS_REGISTER, SHA256)
    assert stored["metadata"] == (new_cid, new_digest, b"\x05" * 40, b"")
    assert (stored["publishedAt"], stored["updatedAt"]) == (published_at, tx.timestamp)
    assert plain(sharing.directory(0, 1))[0][2] == 2

    assert sharing.update(published, metadata(), {"from": data_owner}).return_value == 3
    assert asset_of(sharing, published)["header"][0] == 3


def test_update_keeps_allow_list_fee_and_counters(sharing, paid, data_owner, reader, stranger):
    sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})
    sharing.requestAccess(paid, PURPOSE, {"from": stranger})

    sharing.update(paid, metadata(), {"from": data_owner})

    stored = asset_of(sharing, paid)
    assert (stored["fee"], stored["granted"], stored["denied"], stored["allowed"]) == (FEE, 1, 1, 1)
    assert sharing.isAllowed(paid, reader)


def test_update_replaces_every_field_even_with_empty_ones(sharing, data_owner):
    publish(sharing, data_owner, meta=metadata(inline=INLINE_TEXT))
    inline_digest = keccak(b"short")

    sharing.update(1, metadata("", inline_digest, b"", b"short"), {"from": data_owner})

    assert asset_of(sharing, 1)["metadata"] == ("", inline_digest, b"", b"short")


def test_only_the_owner_updates(sharing, published, reader):
    with refused("OwnableUnauthorizedAccount", reader):
        sharing.update(published, metadata(), {"from": reader})
    assert asset_of(sharing, published)["header"][0] == 1


@pytest.mark.parametrize("asset_id", [0, 2, 2**64 - 1])
def test_update_of_unknown_asset_is_refused(sharing, published, data_owner, asset_id):
    with refused("AssetUnknown", asset_id):
        sharing.update(asset_id, metadata(), {"from": data_owner})


def test_update_of_withdrawn_asset_is_refused(sharing, published, data_owner):
    sharing.withdraw(published, {"from": data_owner})

    with refused("AssetNotActive", published):
        sharing.update(published, metadata(), {"from": data_owner})


@pytest.mark.parametrize("meta, error, args", BAD_METADATA)
def test_bad_metadata_is_refused_at_update(sharing, published, data_owner, meta, error, args):
    with refused(error, *args):
        sharing.update(published, meta, {"from": data_owner})
    assert asset_of(sharing, published)["header"][0] == 1


# ---------------------------------------------------------------- setFee


def test_owner_changes_the_fee(sharing, published, data_owner):
    tx = sharing.setFee(published, FEE, {"from": data_owner})

    assert tx.return_value is None
    assert_event(tx, "AssetFeeChanged", id=published, previous=0, fee=FEE)
    assert asset_of(sharing, published)["fee"] == FEE
    assert plain(sharing.directory(0, 1))[0][4] == FEE

    tx = sharing.setFee(published, 0, {"from": data_owner})
    assert_event(tx, "AssetFeeChanged", id=published, previous=FEE, fee=0)


def test_setting_the_same_fee_changes_nothing(sharing, paid, data_owner):
    tx = sharing.setFee(paid, FEE, {"from": data_owner})

    assert "AssetFeeChanged" not in tx.events
    assert asset_of(sharing, paid)["fee"] == FEE


def test_largest_fee_fits(sharing, published, data_owner):
    sharing.setFee(published, 2**96 - 1, {"from": data_owner})

    assert asset_of(sharing, published)["fee"] == 2**96 - 1


def test_only_the_owner_changes_the_fee(sharing, published, reader):
    with refused("OwnableUnauthorizedAccount", reader):
        sharing.setFee(published, 0, {"from": reader})


def test_fee_of_unknown_asset_is_refused(sharing, data_owner):
    with refused("AssetUnknown", 1):
        sharing.setFee(1, FEE, {"from": data_owner})


def test_fee_of_withdrawn_asset_is_refused(sharing, published, data_owner):
    sharing.withdraw(published, {"from": data_owner})

    with refused("AssetNotActive", published):
        sharing.setFee(published, FEE, {"from": data_owner})


# ---------------------------------------------------------------- allow


def test_owner_allows_accounts(sharing, data_owner, reader, second_reader):
    publish(sharing, data_owner)

    tx = sharing.allow(1, [reader, second_reader], {"from": data_owner})

    assert tx.return_value == 2
    assert_event(tx, "AccessAllowed", 0, id=1, account=reader, epoch=1)
    assert_event(tx, "AccessAllowed", 1, id=1, account=second_reader, epoch=1)
    assert sharing.isAllowed(1, reader) and sharing.isAllowed(1, second_reader)
    assert allow_list(sharing, 1) == [reader, second_reader]
    assert asset_of(sharing, 1)["allowed"] == 2


def test_allowing_again_changes_nothing(sharing, published, data_owner, reader, second_reader):
    tx = sharing.allow(published, [reader], {"from": data_owner})

    assert tx.return_value == 0
    assert "AccessAllowed" not in tx.events

    tx = sharing.allow(published, [second_reader, reader, second_reader], {"from": data_owner})
    assert tx.return_value == 1
    assert len(tx.events["AccessAllowed"]) == 1
    assert allow_list(sharing, published) == [reader, second_reader]
    assert asset_of(sharing, published)["allowed"] == 2


def test_allow_lists_are_per_asset(sharing, published, data_owner, reader):
    publish(sharing, data_owner)

    assert sharing.isAllowed(published, reader)
    assert not sharing.isAllowed(2, reader)
    assert allow_list(sharing, 2) == []


def test_a_full_batch_is_accepted(sharing, published, data_owner):
    batch = addresses("full batch", MAX_BATCH)

    tx = sharing.allow(published, batch, {"from": data_owner})

    assert tx.return_value == MAX_BATCH
    assert asset_of(sharing, published)["allowed"] == MAX_BATCH + 1


@pytest.mark.parametrize("caller", ["stranger", "reader"])
def test_only_the_owner_allows(sharing, published, request, caller):
    account = request.getfixturevalue(caller)
    with refused("OwnableUnauthorizedAccount", account):
        sharing.allow(published, [account], {"from": account})


def test_zero_address_is_refused_and_nothing_is_allowed(sharing, published, data_owner, second_reader, stranger):
    with refused("AssetAccountZero", 1):
        sharing.allow(published, [second_reader, ZERO_ADDRESS, stranger], {"from": data_owner})
    assert not sharing.isAllowed(published, second_reader)
    assert asset_of(sharing, published)["allowed"] == 1


@pytest.mark.parametrize("size", [0, MAX_BATCH + 1])
def test_empty_or_oversized_allow_batch_is_refused(sharing, published, data_owner, size):
    with refused("AssetBatchInvalid", size):
        sharing.allow(published, addresses("batch", size), {"from": data_owner})


def test_allow_on_unknown_asset_is_refused(sharing, data_owner, reader):
    with refused("AssetUnknown", 1):
        sharing.allow(1, [reader], {"from": data_owner})


def test_allow_on_withdrawn_asset_is_refused(sharing, published, data_owner, second_reader):
    sharing.withdraw(published, {"from": data_owner})

    with refused("AssetNotActive", published):
        sharing.allow(published, [second_reader], {"from": data_owner})


# ---------------------------------------------------------------- disallow


def test_owner_disallows_and_the_last_account_fills_the_gap(sharing, published, data_owner, reader):
    a, b, c = addresses("list", 3)
    sharing.allow(published, [a, b, c], {"from": data_owner})  # [reader, a, b, c]

    tx = sharing.disallow(published, [a], {"from": data_owner})

    assert tx.return_value == 1
    assert_event(tx, "AccessDisallowed", id=published, account=a, endedGrant=0)
    assert not sharing.isAllowed(published, a)
    assert allow_list(sharing, published) == [reader, c, b]
    assert asset_of(sharing, published)["allowed"] == 3

    sharing.disallow(published, [b], {"from": data_owner})  # the last one: nothing moves
    assert allow_list(sharing, published) == [reader, c]

    tx = sharing.disallow(published, [reader, c], {"from": data_owner})
    assert tx.return_value == 2
    assert allow_list(sharing, published) == []
    assert asset_of(sharing, published)["allowed"] == 0
    assert not any(sharing.isAllowed(published, x) for x in (reader, a, b, c))


def test_disallowed_account_can_be_allowed_again(sharing, published, data_owner, reader, second_reader):
    sharing.allow(published, [second_reader], {"from": data_owner})
    sharing.disallow(published, [reader], {"from": data_owner})

    tx = sharing.allow(published, [reader], {"from": data_owner})

    assert tx.return_value == 1
    assert_event(tx, "AccessAllowed", id=published, account=reader, epoch=2)  # its second admission
    assert allow_list(sharing, published) == [second_reader, reader]


def test_disallowing_an_account_not_on_the_list_changes_nothing(sharing, published, data_owner, reader, stranger):
    tx = sharing.disallow(published, [stranger], {"from": data_owner})

    assert tx.return_value == 0
    assert "AccessDisallowed" not in tx.events

    tx = sharing.disallow(published, [reader, reader], {"from": data_owner})
    assert tx.return_value == 1
    assert len(tx.events["AccessDisallowed"]) == 1


@pytest.mark.parametrize("caller", ["stranger", "reader"])
def test_only_the_owner_disallows(sharing, published, request, caller, reader):
    account = request.getfixturevalue(caller)
    with refused("OwnableUnauthorizedAccount", account):
        sharing.disallow(published, [reader], {"from": account})
    assert sharing.isAllowed(published, reader)


def test_zero_address_in_disallow_is_refused(sharing, published, data_owner, reader):
    with refused("AssetAccountZero", 1):
        sharing.disallow(published, [reader, ZERO_ADDRESS], {"from": data_owner})
    assert sharing.isAllowed(published, reader)


@pytest.mark.parametrize("size", [0, MAX_BATCH + 1])
def test_empty_or_oversized_disallow_batch_is_refused(sharing, published, data_owner, size):
    with refused("AssetBatchInvalid", size):
        sharing.disallow(published, addresses("batch", size), {"from": data_owner})


def test_disallow_on_unknown_asset_is_refused(sharing, data_owner, reader):
    with refused("AssetUnknown", 1):
        sharing.disallow(1, [reader], {"from": data_owner})


def test_disallow_on_withdrawn_asset_is_refused(sharing, published, data_owner, reader):
    sharing.withdraw(published, {"from": data_owner})

    with refused("AssetNotActive", published):
        sharing.disallow(published, [reader], {"from": data_owner})
    assert sharing.isAllowed(published, reader)


# ---------------------------------------------------------------- withdraw


def test_owner_withdraws_an_asset_and_the_directory_still_lists_it(sharing, published, data_owner):
    sharing.update(published, metadata(), {"from": data_owner})

    tx = sharing.withdraw(published, {"from": data_owner})

    assert tx.return_value is None
    assert_event(tx, "AssetWithdrawn", id=published, version=2)
    assert asset_of(sharing, published)["status"] == WITHDRAWN
    assert plain(sharing.directory(0, 10)) == ((published, BUSINESS_REGISTER, 2, WITHDRAWN, 0, CID),)
    assert sharing.assetCount() == 1


def test_withdrawing_twice_is_refused(sharing, published, data_owner):
    sharing.withdraw(published, {"from": data_owner})

    with refused("AssetNotActive", published):
        sharing.withdraw(published, {"from": data_owner})


def test_only_the_owner_withdraws(sharing, published, reader):
    with refused("OwnableUnauthorizedAccount", reader):
        sharing.withdraw(published, {"from": reader})
    assert asset_of(sharing, published)["status"] == ACTIVE


def test_withdraw_of_unknown_asset_is_refused(sharing, data_owner):
    with refused("AssetUnknown", 1):
        sharing.withdraw(1, {"from": data_owner})


# ---------------------------------------------------------------- requestAccess: grants


def test_allowed_account_is_granted_free_access(sharing, published, reader):
    tx = sharing.requestAccess(published, PURPOSE, {"from": reader})

    assert tx.return_value is True
    assert_event(tx, "AccessGranted", id=published, requester=reader, version=1, fee=0, purpose=PURPOSE, grantNumber=1)
    assert "AccessDenied" not in tx.events and "PaymentCredited" not in tx.events
    stored = asset_of(sharing, published)
    assert (stored["granted"], stored["denied"]) == (1, 0)
    assert plain(sharing.lastGrant(published, reader)) == (1, tx.timestamp, 1, True)
    assert sharing.hasGrant(published, reader, 1, tx.timestamp)


def test_grant_numbers_count_up_and_the_last_grant_follows_the_version(
    sharing, published, data_owner, reader, second_reader
):
    sharing.allow(published, [second_reader], {"from": data_owner})
    sharing.requestAccess(published, PURPOSE, {"from": reader})
    sharing.requestAccess(published, PURPOSE, {"from": second_reader})
    sharing.update(published, metadata(), {"from": data_owner})

    tx = sharing.requestAccess(published, PURPOSE, {"from": reader})

    assert_event(tx, "AccessGranted", id=published, requester=reader, version=2, fee=0, purpose=PURPOSE, grantNumber=3)
    assert plain(sharing.lastGrant(published, reader)) == (2, tx.timestamp, 3, True)
    assert plain(sharing.lastGrant(published, second_reader))[::2] == (1, 2)
    assert asset_of(sharing, published)["granted"] == 3


def test_paid_access_credits_the_exact_fee_to_the_owner(sharing, paid, data_owner, reader):
    reader_before, owner_before = reader.balance(), data_owner.balance()

    tx = sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})

    assert tx.return_value is True
    assert_event(tx, "AccessGranted", id=paid, requester=reader, version=1, fee=FEE, purpose=PURPOSE, grantNumber=1)
    assert_event(tx, "PaymentCredited", payee=data_owner, amount=FEE)
    assert reader.balance() == reader_before - FEE - gas_cost(tx)
    assert data_owner.balance() == owner_before  # pull payment: nothing is sent during the request
    assert sharing.balance() == FEE
    assert sharing.paymentsOf(data_owner) == FEE

    sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})
    assert sharing.paymentsOf(data_owner) == 2 * FEE == sharing.balance()


# ---------------------------------------------------------------- requestAccess: denials


def test_account_not_on_the_list_is_denied_and_the_denial_recorded(sharing, published, stranger):
    tx = sharing.requestAccess(published, PURPOSE, {"from": stranger})

    assert tx.status == 1  # recorded, not reverted
    assert tx.return_value is False
    assert_event(tx, "AccessDenied", id=published, requester=stranger, reason=NOT_ALLOWED, purpose=PURPOSE, refund=0)
    assert "AccessGranted" not in tx.events
    stored = asset_of(sharing, published)
    assert (stored["granted"], stored["denied"]) == (0, 1)
    assert plain(sharing.lastGrant(published, stranger)) == (0, 0, 0, False)
    assert not sharing.hasGrant(published, stranger, 1, 0)


def test_denied_payment_is_refunded_in_full(sharing, paid, stranger):
    before = stranger.balance()

    tx = sharing.requestAccess(paid, PURPOSE, {"from": stranger, "value": FEE})

    assert_event(tx, "AccessDenied", id=paid, requester=stranger, reason=NOT_ALLOWED, purpose=PURPOSE, refund=FEE)
    assert stranger.balance() == before - gas_cost(tx)
    assert sharing.balance() == 0
    assert sharing.paymentsOf(stranger) == 0 and sharing.paymentsOf(sharing.owner()) == 0


@pytest.mark.parametrize("value", [0, 1, FEE - 1, FEE + 1, 10 * FEE])
def test_wrong_fee_is_denied_and_refunded(sharing, paid, reader, value):
    before = reader.balance()

    tx = sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": value})

    assert tx.return_value is False
    assert_event(tx, "AccessDenied", id=paid, requester=reader, reason=WRONG_FEE, purpose=PURPOSE, refund=value)
    assert reader.balance() == before - gas_cost(tx)
    assert sharing.balance() == 0
    assert plain(sharing.lastGrant(paid, reader)) == (0, 0, 0, False)


def test_payment_for_a_free_asset_is_denied_and_refunded(sharing, published, reader):
    before = reader.balance()

    tx = sharing.requestAccess(published, PURPOSE, {"from": reader, "value": 1})

    assert_event(tx, "AccessDenied", id=published, requester=reader, reason=WRONG_FEE, purpose=PURPOSE, refund=1)
    assert reader.balance() == before - gas_cost(tx)


def test_old_fee_is_denied_after_a_fee_change(sharing, paid, data_owner, reader):
    sharing.setFee(paid, 2 * FEE, {"from": data_owner})

    tx = sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})

    assert event(tx, "AccessDenied")["reason"] == WRONG_FEE
    assert sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": 2 * FEE}).return_value is True


def test_withdrawn_asset_denies_even_allowed_paying_accounts(sharing, paid, data_owner, reader):
    sharing.withdraw(paid, {"from": data_owner})
    before = reader.balance()

    tx = sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})

    assert_event(tx, "AccessDenied", id=paid, requester=reader, reason=WITHDRAWN_ASSET, purpose=PURPOSE, refund=FEE)
    assert reader.balance() == before - gas_cost(tx)
    assert asset_of(sharing, paid)["denied"] == 1


def test_denial_reasons_are_checked_withdrawn_then_list_then_fee(sharing, paid, data_owner, stranger):
    tx = sharing.requestAccess(paid, PURPOSE, {"from": stranger, "value": 1})  # not allowed and wrong fee
    assert event(tx, "AccessDenied")["reason"] == NOT_ALLOWED

    sharing.withdraw(paid, {"from": data_owner})
    tx = sharing.requestAccess(paid, PURPOSE, {"from": stranger, "value": 1})  # and withdrawn
    assert event(tx, "AccessDenied")["reason"] == WITHDRAWN_ASSET


def test_disallowed_account_is_denied_but_its_grant_stays_recorded(sharing, published, data_owner, reader):
    granted = sharing.requestAccess(published, PURPOSE, {"from": reader})
    disallowed = sharing.disallow(published, [reader], {"from": data_owner})

    tx = sharing.requestAccess(published, PURPOSE, {"from": reader})

    assert_event(disallowed, "AccessDisallowed", id=published, account=reader, endedGrant=1)
    assert event(tx, "AccessDenied")["reason"] == NOT_ALLOWED
    assert plain(sharing.lastGrant(published, reader)) == (1, granted.timestamp, 1, False)
    assert not sharing.hasGrant(published, reader, 1, 0)


def test_re_allowing_does_not_revive_a_paid_grant(sharing, paid, data_owner, reader):
    """The attack (issue 12, 9b): a reader pays once, is taken off the list, is put back on it, and asks
    the gateway to serve the file on its old grant, without a new request or fee. Refused: a disallow ends
    the grant for good; only a new paid request admits the reader again."""
    granted = sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})
    assert sharing.hasGrant(paid, reader, 1, 0)
    disallowed = sharing.disallow(paid, [reader], {"from": data_owner})
    allowed = sharing.allow(paid, [reader], {"from": data_owner})

    assert_event(disallowed, "AccessDisallowed", id=paid, account=reader, endedGrant=1)
    assert_event(allowed, "AccessAllowed", id=paid, account=reader, epoch=2)
    assert sharing.isAllowed(paid, reader)
    # the gateway's question, as it asks it (any grant time), and the reader's own view of its grant
    assert not sharing.hasGrant(paid, reader, 1, 0)
    assert not sharing.hasGrant(paid, reader, 1, granted.timestamp)
    assert plain(sharing.lastGrant(paid, reader)) == (1, granted.timestamp, 1, False)

    # a request without the fee stays a denial; the paid one admits it again, as a new grant
    assert sharing.requestAccess(paid, PURPOSE, {"from": reader}).return_value is False
    assert not sharing.hasGrant(paid, reader, 1, 0)
    again = sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})
    assert_event(again, "AccessGranted", id=paid, requester=reader, version=1, fee=FEE, purpose=PURPOSE, grantNumber=2)
    assert sharing.hasGrant(paid, reader, 1, again.timestamp)
    assert plain(sharing.lastGrant(paid, reader)) == (1, again.timestamp, 2, True)
    assert sharing.paymentsOf(data_owner) == 2 * FEE  # two grants, two fees


def test_a_disallow_ends_the_grant_even_when_undone_in_the_same_block(sharing, paid, data_owner, reader):
    """The owner's disallow and allow mined together (or in any order of blocks) still end the grant:
    the grant is bound to an admission, not to a time."""
    sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        nonce = web3.eth.get_transaction_count(data_owner.address)
        contract = web3.eth.contract(address=sharing.address, abi=sharing.abi)
        owner = data_owner.address
        sent = [contract.functions.disallow(paid, [reader.address]).transact({"from": owner, "nonce": nonce}),
                contract.functions.allow(paid, [reader.address]).transact({"from": owner, "nonce": nonce + 1})]
        chain.mine()
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    assert [web3.eth.get_transaction_receipt(h)["status"] for h in sent] == [1, 1]
    assert sharing.isAllowed(paid, reader) and not sharing.hasGrant(paid, reader, 1, 0)


def test_grants_of_other_accounts_survive_a_disallow(sharing, published, data_owner, reader, second_reader):
    """The allowed path: a disallow ends only the named account's grant; the others keep theirs."""
    sharing.allow(published, [second_reader], {"from": data_owner})
    sharing.requestAccess(published, PURPOSE, {"from": reader})
    kept = sharing.requestAccess(published, PURPOSE, {"from": second_reader})

    sharing.disallow(published, [reader], {"from": data_owner})  # second_reader moves into reader's place

    assert sharing.hasGrant(published, second_reader, 1, kept.timestamp)
    assert plain(sharing.lastGrant(published, second_reader)) == (1, kept.timestamp, 2, True)
    assert not sharing.hasGrant(published, reader, 1, 0)


def test_the_owner_has_no_implicit_access(sharing, published, data_owner):
    tx = sharing.requestAccess(published, PURPOSE, {"from": data_owner})

    assert event(tx, "AccessDenied")["reason"] == NOT_ALLOWED


def test_denials_and_grants_are_counted_per_asset(sharing, published, data_owner, reader, stranger):
    publish(sharing, data_owner)
    for _ in range(3):
        sharing.requestAccess(published, PURPOSE, {"from": stranger})
    sharing.requestAccess(published, PURPOSE, {"from": reader})
    sharing.requestAccess(2, PURPOSE, {"from": reader})

    assert (asset_of(sharing, 1)["granted"], asset_of(sharing, 1)["denied"]) == (1, 3)
    assert (asset_of(sharing, 2)["granted"], asset_of(sharing, 2)["denied"]) == (0, 1)


@pytest.mark.parametrize("asset_id", [0, 2, 2**64 - 1])
def test_request_for_unknown_asset_reverts_and_keeps_the_ether(sharing, published, reader, asset_id):
    before = reader.balance()

    with refused("AssetUnknown", asset_id):
        sharing.requestAccess(asset_id, PURPOSE, {"from": reader, "value": FEE})
    assert reader.balance() == before
    assert sharing.balance() == 0


# ---------------------------------------------------------------- hasGrant (the gateway's question)


def test_grant_holds_for_its_version_and_from_its_time(sharing, published, data_owner, reader):
    tx = sharing.requestAccess(published, PURPOSE, {"from": reader})
    t = tx.timestamp

    assert sharing.hasGrant(published, reader, 1, t)
    assert sharing.hasGrant(published, reader, 1, 0)
    assert not sharing.hasGrant(published, reader, 1, t + 1)  # older than the gateway accepts
    assert not sharing.hasGrant(published, reader, 2, 0)  # not granted for that version
    assert not sharing.hasGrant(published, reader, 0, 0)

    sharing.update(published, metadata(), {"from": data_owner})
    assert sharing.hasGrant(published, reader, 1, t)  # still names the version granted
    assert not sharing.hasGrant(published, reader, 2, 0)


def test_grant_no_longer_holds_once_the_asset_is_withdrawn(sharing, published, data_owner, reader):
    sharing.requestAccess(published, PURPOSE, {"from": reader})

    sharing.withdraw(published, {"from": data_owner})

    assert not sharing.hasGrant(published, reader, 1, 0)


def test_no_grant_for_an_allowed_account_that_never_asked(sharing, published, reader):
    assert sharing.isAllowed(published, reader)
    assert not sharing.hasGrant(published, reader, 1, 0)


def test_unknown_asset_has_no_grants_and_no_allowed_accounts(sharing, reader):
    assert not sharing.hasGrant(1, reader, 1, 0)
    assert not sharing.isAllowed(1, reader)


# ---------------------------------------------------------------- withdrawPayments


def test_owner_withdraws_its_fees_to_any_address(sharing, paid, data_owner, reader, stranger):
    for _ in range(3):
        sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})
    before = stranger.balance()

    tx = sharing.withdrawPayments(stranger, {"from": data_owner})

    assert tx.return_value == 3 * FEE
    assert_event(tx, "PaymentWithdrawn", payee=data_owner, to=stranger, amount=3 * FEE)
    assert stranger.balance() == before + 3 * FEE
    assert sharing.paymentsOf(data_owner) == 0
    assert sharing.balance() == 0


def test_owner_withdraws_its_fees_to_itself(sharing, paid, data_owner, reader):
    sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})
    before = data_owner.balance()

    tx = sharing.withdrawPayments(data_owner, {"from": data_owner})

    assert data_owner.balance() == before + FEE - gas_cost(tx)


def test_withdrawing_without_credit_is_refused(sharing, paid, data_owner, reader, stranger):
    with refused("PaymentNothingOwed", stranger):
        sharing.withdrawPayments(stranger, {"from": stranger})

    sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})
    sharing.withdrawPayments(data_owner, {"from": data_owner})
    with refused("PaymentNothingOwed", data_owner):  # a replayed withdrawal
        sharing.withdrawPayments(data_owner, {"from": data_owner})


def test_withdrawing_to_the_zero_address_is_refused(sharing, paid, data_owner, reader):
    sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})

    with refused("PaymentRecipientZero"):
        sharing.withdrawPayments(ZERO_ADDRESS, {"from": data_owner})
    assert sharing.paymentsOf(data_owner) == FEE


def test_withdrawing_to_an_address_that_refuses_ether_is_refused(sharing, paid, data_owner, reader, attacker):
    sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})
    attacker.setMode(1, 0, 0, {"from": reader})  # Reject

    with refused("PaymentFailed", attacker, FEE):
        sharing.withdrawPayments(attacker, {"from": data_owner})
    assert sharing.paymentsOf(data_owner) == FEE == sharing.balance()


# ---------------------------------------------------------------- ether sent back: refusals and reentrancy


def test_refund_refused_by_the_requester_is_credited_and_the_denial_recorded(sharing, paid, stranger, attacker):
    attacker.setMode(1, 0, 0, {"from": stranger})  # Reject

    tx = attacker.request(paid, PURPOSE, {"from": stranger, "value": FEE})

    assert tx.return_value is False
    assert_event(tx, "AccessDenied", id=paid, requester=attacker, reason=NOT_ALLOWED, purpose=PURPOSE, refund=FEE)
    assert_event(tx, "PaymentCredited", payee=attacker, amount=FEE)
    assert sharing.paymentsOf(attacker) == FEE == sharing.balance()
    assert asset_of(sharing, paid)["denied"] == 1

    before = stranger.balance()
    tx = attacker.withdrawTo(stranger, {"from": stranger})  # the credit goes where the requester says
    assert sharing.paymentsOf(attacker) == 0 and sharing.balance() == 0
    assert stranger.balance() == before + FEE - gas_cost(tx)


def test_reentering_requests_from_the_refund_are_each_recorded(sharing, paid, stranger, attacker):
    attacker.setMode(2, FEE, 3, {"from": stranger})  # ReenterRequest, sending the refund again, 3 times

    tx = attacker.request(paid, PURPOSE, {"from": stranger, "value": FEE})

    assert tx.return_value is False
    assert len(tx.events["AccessDenied"]) == 4
    assert [plain(e["purpose"]) for e in tx.events["AccessDenied"]] == [PURPOSE] + [REENTERED] * 3
    assert asset_of(sharing, paid)["denied"] == 4
    assert attacker.received() == 4 * FEE and attacker.balance() == FEE  # got back exactly what it sent
    assert sharing.balance() == 0
    assert sharing.paymentsOf(attacker) == 0


def test_reentering_with_the_right_fee_is_one_ordinary_grant(sharing, paid, data_owner, stranger, attacker):
    sharing.allow(paid, [attacker], {"from": data_owner})
    attacker.setMode(2, FEE, 5, {"from": stranger})  # ReenterRequest with the right fee

    tx = attacker.request(paid, PURPOSE, {"from": stranger, "value": 3 * FEE})  # wrong fee: refunded

    assert event(tx, "AccessDenied")["reason"] == WRONG_FEE
    assert_event(
        tx, "AccessGranted", id=paid, requester=attacker, version=1, fee=FEE, purpose=REENTERED, grantNumber=1
    )
    assert attacker.grantedInReentry() == 1 and attacker.reentries() == 1  # a grant sends nothing back
    stored = asset_of(sharing, paid)
    assert (stored["granted"], stored["denied"]) == (1, 1)
    assert attacker.balance() == 2 * FEE
    assert sharing.paymentsOf(data_owner) == FEE == sharing.balance()


def test_a_grant_sends_no_ether_to_the_requester(sharing, paid, data_owner, stranger, attacker):
    sharing.allow(paid, [attacker], {"from": data_owner})
    attacker.setMode(2, FEE, 5, {"from": stranger})

    tx = attacker.request(paid, PURPOSE, {"from": stranger, "value": FEE})

    assert tx.return_value is True
    assert attacker.received() == 0 and attacker.reentries() == 0


def test_reentering_withdrawal_pays_a_credit_exactly_once(sharing, paid, stranger, attacker):
    attacker.setMode(1, 0, 0, {"from": stranger})  # Reject: the first refund becomes a credit
    attacker.request(paid, PURPOSE, {"from": stranger, "value": FEE})
    attacker.setMode(3, 0, 2, {"from": stranger})  # ReenterWithdraw on the next ether received

    tx = attacker.request(paid, PURPOSE, {"from": stranger, "value": 2 * FEE})  # denied, refund 2 * FEE

    assert event(tx, "AccessDenied")["refund"] == 2 * FEE
    assert_event(tx, "PaymentWithdrawn", payee=attacker, to=attacker, amount=FEE)
    assert attacker.withdrawnInReentry() == FEE
    assert attacker.reentries() == 2  # the second re-entry found nothing owed
    nothing_owed = keccak(text="PaymentNothingOwed(address)")[:4] + bytes.fromhex(attacker.address[2:]).rjust(32, b"\0")
    assert plain(attacker.lastError()) == nothing_owed
    assert attacker.balance() == 3 * FEE
    assert sharing.paymentsOf(attacker) == 0 and sharing.balance() == 0


def test_contract_balance_always_equals_the_credits(
    sharing, paid, data_owner, reader, second_reader, stranger, attacker
):
    sharing.allow(paid, [second_reader], {"from": data_owner})
    attacker.setMode(1, 0, 0, {"from": stranger})
    sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})
    sharing.requestAccess(paid, PURPOSE, {"from": second_reader, "value": FEE})
    sharing.requestAccess(paid, PURPOSE, {"from": stranger, "value": 5 * FEE})
    attacker.request(paid, PURPOSE, {"from": stranger, "value": 7})
    sharing.withdrawPayments(stranger, {"from": data_owner})
    sharing.requestAccess(paid, PURPOSE, {"from": reader, "value": FEE})

    assert sharing.balance() == sharing.paymentsOf(data_owner) + sharing.paymentsOf(attacker) == FEE + 7


def test_plain_ether_transfers_are_refused(sharing, stranger):
    with brownie.reverts():
        stranger.transfer(sharing, 1)
    assert sharing.balance() == 0


# ---------------------------------------------------------------- views: asset, directory, allow-list pages


@pytest.mark.parametrize("view", ["asset", "lastGrant", "allowListOf"])
def test_views_of_an_unknown_asset_are_refused(sharing, published, reader, view):
    args = {"asset": (2,), "lastGrant": (2, reader), "allowListOf": (2, 0, 10)}[view]
    with refused("AssetUnknown", 2):
        getattr(sharing, view)(*args)


def test_directory_pages(sharing, data_owner):
    for i in range(5):
        publish(sharing, data_owner, data_type=org(f"type-{i}"), meta=metadata(pointer=f"ipfs://cid-{i}"), fee=i)
    sharing.withdraw(3, {"from": data_owner})

    def ids(offset, limit):
        return [entry[0] for entry in plain(sharing.directory(offset, limit))]

    assert ids(0, 2) == [1, 2]
    assert ids(2, 2) == [3, 4]
    assert ids(4, 2) == [5]  # the last, partial page
    assert ids(0, 5) == ids(0, 50) == [1, 2, 3, 4, 5]
    assert ids(5, 2) == [] and ids(100, 10) == [] and ids(2**256 - 1, 2**256 - 1) == []  # past the end
    assert ids(0, 0) == [] and ids(3, 0) == []  # limit 0
    assert ids(3, 2**256 - 1) == [4, 5]
    assert plain(sharing.directory(2, 1)) == ((3, org("type-2"), 1, WITHDRAWN, 2, "ipfs://cid-2"),)


def test_directory_pages_are_capped(sharing, data_owner):
    for _ in range(MAX_PAGE + 1):
        publish(sharing, data_owner, meta=metadata(pointer="p", access_info=b""))

    page = plain(sharing.directory(0, MAX_PAGE + 1))

    assert len(page) == MAX_PAGE
    assert [e[0] for e in page] == list(range(1, MAX_PAGE + 1))
    assert [e[0] for e in plain(sharing.directory(MAX_PAGE, MAX_PAGE))] == [MAX_PAGE + 1]


def test_allow_list_pages(sharing, published, data_owner, reader):
    more = addresses("paging", MAX_BATCH)
    sharing.allow(published, more, {"from": data_owner})
    everyone = [reader] + more  # 101 accounts

    def page(offset, limit):
        return [address_of(a) for a in sharing.allowListOf(published, offset, limit)]

    assert page(0, 3) == everyone[:3]
    assert page(99, 5) == everyone[99:]  # the last, partial page
    assert page(0, 2**256 - 1) == everyone[:MAX_PAGE]  # capped
    assert page(MAX_PAGE, MAX_PAGE) == everyone[MAX_PAGE:]
    assert page(101, 1) == [] and page(2**256 - 1, 1) == []  # past the end
    assert page(0, 0) == []  # limit 0


# ---------------------------------------------------------------- gas


def test_gas_per_operation(sharing, data_owner, reader, second_reader, stranger, capsys):
    """Prints what each operation costs (run with -s or see the summary) and guards against regressions."""
    gas = {}
    gas[f"publish (CIDv1 pointer, {len(ACCESS_INFO)}-byte access info)"] = publish(sharing, data_owner).gas_used
    gas["publish (inline data 1,024 bytes, no pointer)"] = publish(
        sharing, data_owner, meta=metadata("", keccak(b"x" * 1024), b"", b"x" * 1024)
    ).gas_used
    gas["update (same sizes)"] = sharing.update(1, metadata(integrity=keccak(b"v2")), {"from": data_owner}).gas_used
    gas["setFee"] = sharing.setFee(1, FEE, {"from": data_owner}).gas_used
    gas["allow 1 account"] = sharing.allow(1, [reader], {"from": data_owner}).gas_used
    gas["allow 10 accounts"] = sharing.allow(1, addresses("gas", 10), {"from": data_owner}).gas_used
    gas["allow 1 account again (no-op)"] = sharing.allow(1, [reader], {"from": data_owner}).gas_used
    gas["disallow 1 account (swap and pop)"] = sharing.disallow(1, addresses("gas", 1), {"from": data_owner}).gas_used
    sharing.allow(2, [reader, second_reader], {"from": data_owner})
    gas["requestAccess granted, free (first grant)"] = sharing.requestAccess(2, PURPOSE, {"from": reader}).gas_used
    gas["requestAccess granted, free (again)"] = sharing.requestAccess(2, PURPOSE, {"from": reader}).gas_used
    gas["requestAccess granted, paid (owner's first credit)"] = sharing.requestAccess(
        1, PURPOSE, {"from": reader, "value": FEE}
    ).gas_used
    gas["requestAccess granted, paid (later)"] = sharing.requestAccess(
        1, PURPOSE, {"from": reader, "value": FEE}
    ).gas_used
    gas["requestAccess denied, not allowed"] = sharing.requestAccess(1, PURPOSE, {"from": stranger}).gas_used
    gas["requestAccess denied, refunded"] = sharing.requestAccess(
        1, PURPOSE, {"from": stranger, "value": FEE}
    ).gas_used
    gas["disallow 1 account holding a grant"] = sharing.disallow(1, [reader], {"from": data_owner}).gas_used
    gas["allow 1 account again (second admission)"] = sharing.allow(1, [reader], {"from": data_owner}).gas_used
    gas["withdraw"] = sharing.withdraw(2, {"from": data_owner}).gas_used
    gas["withdrawPayments"] = sharing.withdrawPayments(data_owner, {"from": data_owner}).gas_used

    with capsys.disabled():
        print("\n\nDataSharing gas per operation (whole transaction, 21,000 base included)")
        for name, used in gas.items():
            print(f"  {name:<52} {used:>9,}")

    assert gas["requestAccess granted, free (again)"] < 45_000
    assert gas["requestAccess granted, paid (later)"] < 55_000
    assert gas["requestAccess denied, not allowed"] < 40_000
    assert gas["allow 10 accounts"] < 21_000 + 10 * 50_000  # two new slots per account: entry and list position
    # the entry's slot keeps its admission count, so a disallow earns no refund for clearing it
    assert gas["disallow 1 account holding a grant"] < 55_000


# ---------------------------------------------------------------- the Python wrapper over the same contract


def test_python_wrapper_round_trip(sharing, data_owner, reader, stranger):
    """elicense.registries.sharing.DataSharing drives the deployed contract without Brownie."""
    from elicense.chain import Chain, account_from_key
    from elicense.commitments import Purpose
    from elicense.errors import InvalidInput
    from elicense.nodes import dev_key
    from elicense.registries.sharing import DataSharing as Wrapped
    from elicense.registries.sharing import content_hash

    chain = Chain(web3.provider.endpoint_uri)
    owner_key, reader_key, stranger_key = (account_from_key(dev_key(i)) for i in (4, 5, 9))
    assert (owner_key.address, reader_key.address, stranger_key.address) == (data_owner, reader, stranger)
    wrapped = Wrapped(chain, sharing.address)

    published = wrapped.publish(
        owner_key, "business-licence", "sha256", content_hash(CONTENT), pointer=CID, access_info=ACCESS_INFO, fee=FEE
    )
    assert (published.asset_id, published.data_type, published.hash_algorithm, published.fee) == (
        1, "business-licence", "sha256", FEE
    )
    assert wrapped.allow(owner_key, 1, [reader.address, reader.address]) == [reader.address]

    purpose = Purpose.new("verify business licence for a loan")
    granted = wrapped.request_access(reader_key, 1, purpose)  # pays the current fee; only the commitment on chain
    denied = wrapped.request_access(stranger_key, 1, PURPOSE, value=FEE)
    assert granted.purpose == purpose.commitment and purpose.opens(granted.purpose)
    with pytest.raises(InvalidInput):  # a bare statement never goes on chain unsalted
        wrapped.request_access(reader_key, 1, "verify business licence for a loan")
    assert (granted.granted, granted.version, granted.fee, granted.grant_number) == (True, 1, FEE, 1)
    assert (denied.granted, denied.reason, denied.refund) == (False, "not-allowed", FEE)
    recorded = [(r.requester, r.granted) for r in wrapped.requests(1)]
    assert recorded == [(reader.address, True), (stranger.address, False)]

    assert wrapped.update(owner_key, 1, content_hash(b"v2"), pointer=CID) == 2
    info = wrapped.asset(1)
    assert (info.version, info.status, info.granted, info.denied, info.allowed_count) == (2, "active", 1, 1, 1)
    assert info.integrity_hash == content_hash(b"v2") and info.access_info == b""
    assert wrapped.asset(2) is None
    assert [(e.asset_id, e.version, e.status) for e in wrapped.all_assets()] == [(1, 2, "active")]
    assert wrapped.allow_list(1) == [reader.address] and wrapped.is_allowed(1, reader.address)
    assert wrapped.last_grant(1, reader.address).version == 1 and wrapped.last_grant(1, stranger.address) is None
    assert wrapped.last_grant(1, reader.address).current
    assert wrapped.has_grant(1, reader.address, 1) and not wrapped.has_grant(1, reader.address, 2)
    assert wrapped.payments_of(data_owner.address) == FEE
    assert wrapped.withdraw_payments(owner_key, stranger.address) == FEE
    assert wrapped.disallow(owner_key, 1, [reader.address, stranger.address]) == [reader.address]
    assert wrapped.allow(owner_key, 1, [reader.address]) == [reader.address]
    assert wrapped.last_grant(1, reader.address).current is False  # ended by the disallow, not revived by the allow
    assert not wrapped.has_grant(1, reader.address, 1)
    wrapped.withdraw(owner_key, 1)
    assert wrapped.asset(1).status == "withdrawn" and wrapped.owner() == data_owner.address
