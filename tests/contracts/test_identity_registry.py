"""IdentityRegistry: accounts register a role and their own public key; nothing personal is stored."""

import pytest
from eth_utils import keccak

from conftest import public_key
from helpers import ZERO32, Role, address_of, assert_event, plain, refused

COMMITMENT = keccak(text="salt ‖ Alice Example, 1990-01-01")


@pytest.fixture(scope="module")
def alice(keyed):
    return keyed("identity alice")


@pytest.fixture(scope="module")
def bob(keyed):
    return keyed("identity bob")


@pytest.mark.parametrize("role", [Role.HOLDER, Role.ISSUER, Role.INSPECTOR, Role.AUTHORITY])
def test_account_registers_with_its_own_key(identities, alice, role):
    key = public_key(alice)

    tx = identities.register(role, key, COMMITMENT, {"from": alice})

    assert tx.return_value is None
    assert_event(tx, "IdentityRegistered", account=alice, role=role, publicKey=key, commitment=COMMITMENT)
    stored = identities.identityOf(alice)
    assert plain(stored) == (role, tx.timestamp, COMMITMENT, key[:32], key[32:])
    assert identities.roleOf(alice) == role
    assert plain(identities.publicKeyOf(alice)) == key
    assert identities.identityCount() == 1


def test_public_key_hashes_to_the_registered_address(identities, alice):
    identities.register(Role.HOLDER, public_key(alice), ZERO32, {"from": alice})

    stored = bytes(identities.publicKeyOf(alice))
    assert address_of("0x" + keccak(stored)[-20:].hex()) == alice.address


def test_count_grows_by_one_per_account(identities, alice, bob):
    identities.register(Role.HOLDER, public_key(alice), ZERO32, {"from": alice})
    identities.register(Role.INSPECTOR, public_key(bob), ZERO32, {"from": bob})

    assert identities.identityCount() == 2


def test_registration_without_commitment_stores_zero(identities, alice):
    tx = identities.register(Role.HOLDER, public_key(alice), ZERO32, {"from": alice})

    assert_event(
        tx, "IdentityRegistered", account=alice, role=Role.HOLDER, publicKey=public_key(alice), commitment=ZERO32
    )
    assert plain(identities.identityOf(alice)[2]) == ZERO32


@pytest.mark.parametrize("role", [0, 5, 255])
def test_role_outside_holder_to_authority_is_refused(identities, alice, role):
    with refused("IdentityRoleInvalid", role):
        identities.register(role, public_key(alice), ZERO32, {"from": alice})
    assert identities.identityCount() == 0


def test_role_is_checked_before_the_key(identities, alice):
    with refused("IdentityRoleInvalid", 0):
        identities.register(0, b"\x01" * 10, ZERO32, {"from": alice})


@pytest.mark.parametrize("length", [0, 33, 63])
def test_short_key_is_refused(identities, alice, length):
    with refused("IdentityKeyMalformed", length):
        identities.register(Role.HOLDER, public_key(alice)[:length], ZERO32, {"from": alice})


def test_key_with_uncompressed_prefix_is_refused(identities, alice):
    with refused("IdentityKeyMalformed", 65):
        identities.register(Role.HOLDER, b"\x04" + public_key(alice), ZERO32, {"from": alice})


def test_someone_elses_key_is_refused(identities, alice, bob):
    with refused("IdentityKeyMismatch", bob, alice):
        identities.register(Role.HOLDER, public_key(alice), ZERO32, {"from": bob})
    assert identities.roleOf(bob) == Role.NONE


def test_unlocked_account_cannot_borrow_a_key(identities, alice, stranger):
    with refused("IdentityKeyMismatch", stranger, alice):
        identities.register(Role.ISSUER, public_key(alice), ZERO32, {"from": stranger})


def test_second_registration_is_refused(identities, alice):
    identities.register(Role.HOLDER, public_key(alice), ZERO32, {"from": alice})

    with refused("IdentityAlreadyRegistered", alice):
        identities.register(Role.ISSUER, public_key(alice), COMMITMENT, {"from": alice})
    assert identities.roleOf(alice) == Role.HOLDER
    assert identities.identityCount() == 1


def test_holder_replaces_commitment(identities, alice):
    identities.register(Role.HOLDER, public_key(alice), COMMITMENT, {"from": alice})
    rectified = keccak(text="salt ‖ Alice Example, 1990-01-02")

    tx = identities.updateCommitment(rectified, {"from": alice})

    assert tx.return_value is None
    assert_event(tx, "IdentityCommitmentUpdated", account=alice, previous=COMMITMENT, commitment=rectified)
    assert plain(identities.identityOf(alice))[::2] == (Role.HOLDER, rectified, public_key(alice)[32:])
    assert plain(identities.publicKeyOf(alice)) == public_key(alice)


def test_holder_clears_commitment(identities, alice):
    identities.register(Role.HOLDER, public_key(alice), COMMITMENT, {"from": alice})

    tx = identities.updateCommitment(ZERO32, {"from": alice})

    assert_event(tx, "IdentityCommitmentUpdated", account=alice, previous=COMMITMENT, commitment=ZERO32)
    assert plain(identities.identityOf(alice)[2]) == ZERO32


def test_unregistered_account_cannot_update_commitment(identities, stranger):
    with refused("IdentityUnknown", stranger):
        identities.updateCommitment(COMMITMENT, {"from": stranger})


def test_public_key_of_unregistered_account_is_refused(identities, stranger):
    with refused("IdentityUnknown", stranger):
        identities.publicKeyOf(stranger)


def test_unregistered_account_has_no_role_and_an_empty_record(identities, stranger):
    assert identities.roleOf(stranger) == Role.NONE
    assert plain(identities.identityOf(stranger)) == (0, 0, ZERO32, ZERO32, ZERO32)
    assert identities.identityCount() == 0


def test_refusal_check_rejects_wrong_arguments(identities, alice, bob):
    """The `refused` helper matches arguments too, not only the error name."""
    with pytest.raises(AssertionError, match="Unexpected revert string"):
        with refused("IdentityKeyMismatch", alice, bob):
            identities.register(Role.HOLDER, public_key(alice), ZERO32, {"from": bob})
