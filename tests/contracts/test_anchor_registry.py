"""AnchorRegistry: relayer sets per source chain and checkpoints accepted on a quorum of their signatures.
The owner installs a source chain's first set only; later sets need more than half of the current
relayers' signatures over the new set and the set's epoch (issue 12, item 9).

World: an anchor owned by the deployer; three relayers (keyed accounts) for the main chain 7001 are
installed per test by `with_relayers`. Checkpoints are signed off chain with eth-account (EIP-712,
domain "elicense AnchorRegistry" / "1" / Anvil's chain id / the anchor) and submitted by anyone.
Every success is checked as event, stored checkpoint and views; every refusal by its custom error.
"""

import pytest
from brownie import AnchorRegistry, RegistryMirror, chain
from eth_account import Account
from eth_utils import keccak

from elicense.merkle import StandardMerkleTree, leaf_hash
from helpers import (
    EIP712_DOMAIN,
    JOURNAL_LEAF,
    MAIN_CHAIN,
    SIDE_CHAIN,
    ZERO32,
    ZERO_ADDRESS,
    Checkpoint,
    address_of,
    assert_event,
    by_address,
    checkpoint_digest,
    checkpoint_message,
    know_errors,
    plain,
    recover,
    refused,
    sign_checkpoint,
)

know_errors(AnchorRegistry, RegistryMirror)

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

IDENTITY_ROOT = keccak(text="identity root")
ACCREDITATION_ROOT = keccak(text="accreditation root")
JOURNAL_ROOT = keccak(text="journal root")


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def anchors(deployer):
    return AnchorRegistry.deploy(deployer, {"from": deployer})


@pytest.fixture(scope="module")
def relayers(keyed):
    """The main chain's three relayers (threshold 2)."""
    return [keyed(f"anchor relayer {i}") for i in range(3)]


@pytest.fixture(scope="module")
def new_relayers(keyed):
    """A replacement set of three relayers."""
    return [keyed(f"anchor relayer new {i}") for i in range(3)]


@pytest.fixture(scope="module")
def forger(keyed):
    """A key that was never a relayer."""
    return keyed("anchor forger")


@pytest.fixture
def with_relayers(anchors, deployer, relayers):
    """The main chain's relayers are installed (reverted after each test)."""
    anchors.setRelayers(MAIN_CHAIN, relayers, {"from": deployer})
    return relayers


def relayer_change_message(anchors, source, epoch, new_set):
    """The EIP-712 typed data current relayers sign to replace their set by `new_set` at `epoch`."""
    return {
        "types": {
            "EIP712Domain": EIP712_DOMAIN,
            "RelayerChange": [
                {"name": "sourceChainId", "type": "uint256"},
                {"name": "epoch", "type": "uint64"},
                {"name": "relayers", "type": "address[]"},
            ],
        },
        "primaryType": "RelayerChange",
        "domain": {"name": "elicense AnchorRegistry", "version": "1", "chainId": chain.id,
                   "verifyingContract": anchors.address},
        "message": {"sourceChainId": source, "epoch": epoch, "relayers": [address_of(r) for r in new_set]},
    }


def sign_change(anchors, signers, new_set, epoch=None, source=MAIN_CHAIN):
    """The signers' signatures (ascending signer address) over replacing the set by `new_set`."""
    epoch = anchors.relayerEpoch(source) if epoch is None else epoch
    message = relayer_change_message(anchors, source, epoch, new_set)
    return [bytes(Account.sign_typed_data(s.private_key, full_message=message).signature) for s in by_address(signers)]


def change(anchors, signers, new_set, sender, epoch=None, source=MAIN_CHAIN):
    epoch = anchors.relayerEpoch(source) if epoch is None else epoch
    signatures = sign_change(anchors, signers, new_set, epoch, source)
    return anchors.changeRelayers(source, epoch, new_set, signatures, {"from": sender})


def block_hash(source, number):
    return keccak(text=f"chain {source} block {number}")


def make_checkpoint(source=MAIN_CHAIN, sequence=1, block_number=None, **roots):
    block_number = 100 * sequence if block_number is None else block_number
    values = {"identityRoot": IDENTITY_ROOT, "accreditationRoot": ACCREDITATION_ROOT, "journalRoot": JOURNAL_ROOT}
    values.update(roots)
    return Checkpoint(source, sequence, block_number, block_hash(source, block_number), **values)


def submit(anchors, checkpoint, signatures, sender):
    return anchors.submitCheckpoint(checkpoint.struct, signatures, {"from": sender})


def anchor(anchors, checkpoint, signers, sender):
    """Submits `checkpoint` signed by `signers` and checks event, storage and latest sequence."""
    digest = checkpoint_digest(anchors, checkpoint)
    tx = submit(anchors, checkpoint, sign_checkpoint(anchors, checkpoint, signers), sender)

    assert_event(
        tx,
        "CheckpointAnchored",
        sourceChainId=checkpoint.sourceChainId,
        sequence=checkpoint.sequence,
        blockNumber=checkpoint.blockNumber,
        blockHash=checkpoint.blockHash,
        identityRoot=checkpoint.identityRoot,
        accreditationRoot=checkpoint.accreditationRoot,
        journalRoot=checkpoint.journalRoot,
        digest=digest,
    )
    assert plain(anchors.checkpoint(checkpoint.sourceChainId, checkpoint.sequence)) == (
        checkpoint.blockNumber,
        tx.block_number,
        tx.timestamp,
        checkpoint.blockHash,
        checkpoint.identityRoot,
        checkpoint.accreditationRoot,
        checkpoint.journalRoot,
        digest,
    )
    assert anchors.latestSequence(checkpoint.sourceChainId) == checkpoint.sequence
    return tx


def compact(signature):
    """The EIP-2098 64-byte form (r ‖ yParity·2^255 + s) of a 65-byte signature."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + ((v - 27) << 255 | s).to_bytes(32, "big")


def high_s(signature):
    """The malleated twin (r, n - s, flipped v): valid for raw ecrecover, refused by OpenZeppelin."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


# ---------------------------------------------------------------- construction


def test_owner_is_the_constructor_argument(deployer, authorities):
    anchors = AnchorRegistry.deploy(authorities[0], {"from": deployer})

    assert anchors.owner() == authorities[0]
    assert anchors.pendingOwner() == ZERO_ADDRESS


def test_typehash_and_domain(anchors):
    assert plain(anchors.CHECKPOINT_TYPEHASH()) == keccak(
        text="Checkpoint(uint256 sourceChainId,uint64 sequence,uint64 blockNumber,bytes32 blockHash,"
        "bytes32 identityRoot,bytes32 accreditationRoot,bytes32 journalRoot)"
    )
    assert plain(anchors.eip712Domain())[1:5] == ("elicense AnchorRegistry", "1", chain.id, anchors.address)


def test_fresh_anchor_knows_no_chain(anchors):
    assert anchors.latestSequence(MAIN_CHAIN) == 0
    assert anchors.relayersOf(MAIN_CHAIN) == []
    assert anchors.threshold(MAIN_CHAIN) == 0
    assert plain(anchors.checkpoint(MAIN_CHAIN, 1)) == (0, 0, 0, ZERO32, ZERO32, ZERO32, ZERO32, ZERO32)
    assert plain(anchors.latestAccreditationRoot(MAIN_CHAIN)) == (ZERO32, 0)


# ---------------------------------------------------------------- setRelayers


def test_owner_sets_relayers(anchors, deployer, relayers):
    tx = anchors.setRelayers(MAIN_CHAIN, relayers, {"from": deployer})

    assert_event(tx, "RelayersSet", sourceChainId=MAIN_CHAIN, relayers=relayers, threshold=2, epoch=1)
    assert anchors.relayersOf(MAIN_CHAIN) == [r.address for r in relayers]
    assert anchors.threshold(MAIN_CHAIN) == 2
    assert anchors.relayerEpoch(MAIN_CHAIN) == 1


@pytest.mark.parametrize("size, threshold", [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4)])
def test_threshold_is_more_than_half(anchors, deployer, keyed, size, threshold):
    members = [keyed(f"anchor relayer {i}") for i in range(size)]

    tx = anchors.setRelayers(MAIN_CHAIN, members, {"from": deployer})

    assert tx.events["RelayersSet"]["threshold"] == threshold
    assert anchors.threshold(MAIN_CHAIN) == threshold


def test_relayer_sets_are_per_source_chain(anchors, deployer, relayers, new_relayers):
    anchors.setRelayers(MAIN_CHAIN, relayers, {"from": deployer})
    anchors.setRelayers(SIDE_CHAIN, new_relayers[:1], {"from": deployer})

    assert anchors.relayersOf(MAIN_CHAIN) == [r.address for r in relayers]
    assert anchors.relayersOf(SIDE_CHAIN) == [new_relayers[0].address]
    assert anchors.threshold(MAIN_CHAIN) == 2
    assert anchors.threshold(SIDE_CHAIN) == 1


@pytest.mark.parametrize("caller", ["stranger", "relayer"])
def test_only_the_owner_sets_relayers(anchors, stranger, relayers, caller):
    account = {"stranger": stranger, "relayer": relayers[0]}[caller]

    with refused("OwnableUnauthorizedAccount", account):
        anchors.setRelayers(MAIN_CHAIN, relayers, {"from": account})


def test_a_relayer_cannot_use_the_owners_first_setting(anchors, with_relayers, new_relayers):
    with refused("OwnableUnauthorizedAccount", with_relayers[0]):
        anchors.setRelayers(MAIN_CHAIN, new_relayers, {"from": with_relayers[0]})


def test_source_zero_is_invalid(anchors, deployer, relayers):
    with refused("AnchorSourceInvalid", 0):
        anchors.setRelayers(0, relayers, {"from": deployer})


def test_own_chain_is_invalid_as_source(anchors, deployer, relayers):
    assert chain.id == 31337

    with refused("AnchorSourceInvalid", chain.id):
        anchors.setRelayers(chain.id, relayers, {"from": deployer})


def test_empty_relayer_list_is_invalid(anchors, deployer):
    with refused("AnchorRelayersInvalid", ZERO_ADDRESS):
        anchors.setRelayers(MAIN_CHAIN, [], {"from": deployer})


def test_zero_address_relayer_is_invalid(anchors, deployer, relayers):
    with refused("AnchorRelayersInvalid", ZERO_ADDRESS):
        anchors.setRelayers(MAIN_CHAIN, [relayers[0], ZERO_ADDRESS], {"from": deployer})


def test_duplicate_relayer_is_invalid(anchors, deployer, relayers):
    with refused("AnchorRelayersInvalid", relayers[1]):
        anchors.setRelayers(MAIN_CHAIN, [relayers[0], relayers[1], relayers[1]], {"from": deployer})


def test_owner_cannot_replace_a_set_it_installed(anchors, deployer, with_relayers, new_relayers):
    """The attack of issue 12 (9): the owner makes itself the only relayer, then writes a checkpoint."""
    with refused("AnchorRelayersAlreadySet", MAIN_CHAIN, deployer):
        anchors.setRelayers(MAIN_CHAIN, [deployer], {"from": deployer})

    assert anchors.relayersOf(MAIN_CHAIN) == [r.address for r in with_relayers]
    assert anchors.relayerEpoch(MAIN_CHAIN) == 1


def test_owner_cannot_change_the_set_with_its_own_signature(anchors, deployer, keyed, with_relayers):
    owner_key = keyed("anchor owner key")
    with refused("AnchorSignerUnknown", owner_key):
        change(anchors, [owner_key], [owner_key], deployer)


def test_a_majority_of_relayers_replaces_the_set(anchors, stranger, with_relayers, new_relayers):
    tx = change(anchors, with_relayers[:2], new_relayers[:2], stranger)

    assert_event(tx, "RelayersSet", sourceChainId=MAIN_CHAIN, relayers=new_relayers[:2], threshold=2, epoch=2)
    assert anchors.relayersOf(MAIN_CHAIN) == [r.address for r in new_relayers[:2]]
    assert anchors.threshold(MAIN_CHAIN) == 2
    assert anchors.relayerEpoch(MAIN_CHAIN) == 2


def test_one_of_three_relayers_cannot_replace_the_set(anchors, stranger, with_relayers, new_relayers):
    with refused("AnchorRelayerChangeUnderSigned", 1, 2):
        change(anchors, with_relayers[:1], new_relayers, stranger)

    assert anchors.relayersOf(MAIN_CHAIN) == [r.address for r in with_relayers]


def test_replayed_relayer_change_is_refused(anchors, stranger, with_relayers, new_relayers):
    signatures = sign_change(anchors, with_relayers, new_relayers, epoch=1)
    anchors.changeRelayers(MAIN_CHAIN, 1, new_relayers, signatures, {"from": stranger})
    change(anchors, new_relayers[:2], with_relayers, stranger)  # back to the first set, epoch 3

    with refused("AnchorRelayerChangeStale", MAIN_CHAIN, 1, 3):
        anchors.changeRelayers(MAIN_CHAIN, 1, new_relayers, signatures, {"from": stranger})
    assert anchors.relayersOf(MAIN_CHAIN) == [r.address for r in with_relayers]


def test_change_signed_for_another_epoch_does_not_count(anchors, stranger, with_relayers, new_relayers):
    """Signatures over epoch 1 presented as epoch 2 recover to strangers."""
    change(anchors, with_relayers[:2], with_relayers, stranger)  # epoch 2, same members
    signatures = sign_change(anchors, with_relayers, new_relayers, epoch=1)

    stranger_key = recover(anchors.relayerChangeDigest(MAIN_CHAIN, 2, new_relayers), signatures[0])
    with refused("AnchorSignerUnknown", stranger_key):
        anchors.changeRelayers(MAIN_CHAIN, 2, new_relayers, signatures, {"from": stranger})


def test_change_of_an_unknown_source_is_refused(anchors, stranger, relayers, new_relayers):
    with refused("AnchorSourceUnknown", SIDE_CHAIN):
        anchors.changeRelayers(SIDE_CHAIN, 0, new_relayers, [], {"from": stranger})


def test_change_signatures_must_be_ordered(anchors, stranger, with_relayers, new_relayers):
    signatures = list(reversed(sign_change(anchors, with_relayers[:2], new_relayers)))
    with refused("AnchorSignersUnordered", by_address(with_relayers[:2])[0]):
        anchors.changeRelayers(MAIN_CHAIN, 1, new_relayers, signatures, {"from": stranger})


def test_refused_list_leaves_the_set_unchanged(anchors, stranger, with_relayers, new_relayers):
    with refused("AnchorRelayersInvalid", new_relayers[0]):
        change(anchors, with_relayers, [new_relayers[0], new_relayers[0]], stranger)

    assert anchors.relayersOf(MAIN_CHAIN) == [r.address for r in with_relayers]
    assert anchors.relayerEpoch(MAIN_CHAIN) == 1


def test_replacement_may_keep_some_members(anchors, stranger, with_relayers, new_relayers):
    members = [new_relayers[0], with_relayers[2]]

    change(anchors, with_relayers[1:], members, stranger)

    assert anchors.relayersOf(MAIN_CHAIN) == [m.address for m in members]


def test_relayer_change_digest_equals_eip712_digest(anchors, relayers, new_relayers):
    message = relayer_change_message(anchors, MAIN_CHAIN, 4, new_relayers)
    signed = Account.sign_typed_data(relayers[0].private_key, full_message=message)

    digest = plain(anchors.relayerChangeDigest(MAIN_CHAIN, 4, new_relayers))
    assert digest == plain(signed.message_hash)
    assert plain(anchors.RELAYER_CHANGE_TYPEHASH()) == keccak(
        text="RelayerChange(uint256 sourceChainId,uint64 epoch,address[] relayers)")


# ---------------------------------------------------------------- submitCheckpoint: accepted


@pytest.mark.parametrize("pair", [(0, 1), (0, 2), (1, 2)])
def test_two_of_three_relayers_anchor_a_checkpoint(anchors, stranger, with_relayers, pair):
    signers = [with_relayers[i] for i in pair]

    anchor(anchors, make_checkpoint(), signers, stranger)

    assert plain(anchors.latestAccreditationRoot(MAIN_CHAIN)) == (ACCREDITATION_ROOT, 1)
    assert plain(anchors.identityRootAt(MAIN_CHAIN, 1)) == IDENTITY_ROOT


def test_three_of_three_relayers_anchor_a_checkpoint(anchors, deployer, with_relayers):
    anchor(anchors, make_checkpoint(), with_relayers, deployer)


def test_a_relayer_may_submit_its_own_checkpoint(anchors, with_relayers):
    anchor(anchors, make_checkpoint(), with_relayers[:2], with_relayers[0])


def test_checkpoints_follow_each_other(anchors, stranger, with_relayers):
    for sequence in (1, 2, 3):
        root = keccak(text=f"accreditations {sequence}")
        anchor(anchors, make_checkpoint(sequence=sequence, accreditationRoot=root), with_relayers[1:], stranger)
        assert plain(anchors.latestAccreditationRoot(MAIN_CHAIN)) == (root, sequence)

    assert plain(anchors.checkpoint(MAIN_CHAIN, 1))[5] == keccak(text="accreditations 1")


def test_block_numbers_may_jump(anchors, stranger, with_relayers):
    anchor(anchors, make_checkpoint(sequence=1, block_number=1), with_relayers, stranger)
    anchor(anchors, make_checkpoint(sequence=2, block_number=2**64 - 1), with_relayers, stranger)


def test_checkpoint_with_only_a_journal_is_accepted(anchors, stranger, with_relayers):
    checkpoint = make_checkpoint(identityRoot=ZERO32, accreditationRoot=ZERO32)

    anchor(anchors, checkpoint, with_relayers, stranger)


def test_each_source_chain_has_its_own_sequence(anchors, deployer, stranger, with_relayers, new_relayers):
    anchors.setRelayers(SIDE_CHAIN, new_relayers, {"from": deployer})
    anchor(anchors, make_checkpoint(MAIN_CHAIN, 1), with_relayers, stranger)
    anchor(anchors, make_checkpoint(MAIN_CHAIN, 2), with_relayers, stranger)
    anchor(anchors, make_checkpoint(SIDE_CHAIN, 1, block_number=5), new_relayers, stranger)

    assert anchors.latestSequence(MAIN_CHAIN) == 2
    assert anchors.latestSequence(SIDE_CHAIN) == 1


# ---------------------------------------------------------------- submitCheckpoint: refused


def test_checkpoint_of_an_unknown_source_is_refused(anchors, stranger, relayers):
    checkpoint = make_checkpoint(SIDE_CHAIN)

    with refused("AnchorSourceUnknown", SIDE_CHAIN):
        submit(anchors, checkpoint, sign_checkpoint(anchors, checkpoint, relayers), stranger)


def test_accepted_checkpoint_cannot_be_replayed(anchors, stranger, with_relayers):
    checkpoint = make_checkpoint()
    signatures = sign_checkpoint(anchors, checkpoint, with_relayers)
    submit(anchors, checkpoint, signatures, stranger)

    with refused("AnchorCheckpointReplayed", MAIN_CHAIN, 1):
        submit(anchors, checkpoint, signatures, stranger)


def test_older_sequence_is_refused_as_replay(anchors, stranger, with_relayers):
    anchor(anchors, make_checkpoint(sequence=1), with_relayers, stranger)
    anchor(anchors, make_checkpoint(sequence=2), with_relayers, stranger)
    # A different checkpoint 1 (a fork the relayers were tricked into signing) is refused too.
    fork = make_checkpoint(sequence=1, block_number=900, identityRoot=keccak(text="fork"))

    with refused("AnchorCheckpointReplayed", MAIN_CHAIN, 1):
        submit(anchors, fork, sign_checkpoint(anchors, fork, with_relayers), stranger)


def test_sequence_zero_is_refused(anchors, stranger, with_relayers):
    checkpoint = make_checkpoint(sequence=0, block_number=10)

    with refused("AnchorCheckpointReplayed", MAIN_CHAIN, 0):
        submit(anchors, checkpoint, sign_checkpoint(anchors, checkpoint, with_relayers), stranger)


def test_first_checkpoint_must_be_sequence_one(anchors, stranger, with_relayers):
    checkpoint = make_checkpoint(sequence=2)

    with refused("AnchorCheckpointOutOfOrder", MAIN_CHAIN, 1, 2):
        submit(anchors, checkpoint, sign_checkpoint(anchors, checkpoint, with_relayers), stranger)


def test_skipped_sequence_is_refused(anchors, stranger, with_relayers):
    anchor(anchors, make_checkpoint(sequence=1), with_relayers, stranger)
    checkpoint = make_checkpoint(sequence=3)

    with refused("AnchorCheckpointOutOfOrder", MAIN_CHAIN, 2, 3):
        submit(anchors, checkpoint, sign_checkpoint(anchors, checkpoint, with_relayers), stranger)


@pytest.mark.parametrize("block_number", [100, 99, 1], ids=["equal", "lower", "much-lower"])
def test_checkpoint_not_after_the_last_anchored_block_is_stale(anchors, stranger, with_relayers, block_number):
    anchor(anchors, make_checkpoint(sequence=1, block_number=100), with_relayers, stranger)
    checkpoint = make_checkpoint(sequence=2, block_number=block_number)

    with refused("AnchorCheckpointStale", MAIN_CHAIN, block_number, 100):
        submit(anchors, checkpoint, sign_checkpoint(anchors, checkpoint, with_relayers), stranger)


def test_first_checkpoint_at_block_zero_is_stale(anchors, stranger, with_relayers):
    checkpoint = make_checkpoint(sequence=1, block_number=0)

    with refused("AnchorCheckpointStale", MAIN_CHAIN, 0, 0):
        submit(anchors, checkpoint, sign_checkpoint(anchors, checkpoint, with_relayers), stranger)


def test_checkpoint_without_block_hash_is_incomplete(anchors, stranger, with_relayers):
    checkpoint = make_checkpoint()._replace(blockHash=ZERO32)

    with refused("AnchorCheckpointIncomplete"):
        submit(anchors, checkpoint, sign_checkpoint(anchors, checkpoint, with_relayers), stranger)


@pytest.mark.parametrize("form", ["compact-64", "empty", "high-s", "v-zero"])
def test_malformed_signature_is_refused_by_index(anchors, stranger, with_relayers, form):
    checkpoint = make_checkpoint()
    signatures = sign_checkpoint(anchors, checkpoint, with_relayers)
    good = signatures[1]
    signatures[1] = {
        "compact-64": compact(good),
        "empty": b"",
        "high-s": high_s(good),
        "v-zero": good[:64] + b"\x00",  # v = 0: neither 27 nor 28
    }[form]
    assert len(signatures[1]) == {"compact-64": 64, "empty": 0}.get(form, 65)

    with refused("AnchorSignatureMalformed", 1):
        submit(anchors, checkpoint, signatures, stranger)


def test_signature_of_a_non_relayer_is_refused(anchors, stranger, with_relayers, forger):
    checkpoint = make_checkpoint()
    signers = by_address([with_relayers[0], forger])

    with refused("AnchorSignerUnknown", forger):
        submit(anchors, checkpoint, sign_checkpoint(anchors, checkpoint, signers), stranger)


def test_forged_checkpoint_alone_is_refused(anchors, stranger, with_relayers, forger):
    checkpoint = make_checkpoint()

    with refused("AnchorSignerUnknown", forger):
        submit(anchors, checkpoint, sign_checkpoint(anchors, checkpoint, [forger]), stranger)


def test_signature_for_another_anchor_recovers_to_a_stranger(anchors, stranger, with_relayers):
    checkpoint = make_checkpoint()
    elsewhere = "0x" + "11" * 20
    foreign = sign_checkpoint(anchors, checkpoint, with_relayers[:1], verifying_contract=elsewhere)[0]
    genuine = sign_checkpoint(anchors, checkpoint, with_relayers[1:2])[0]
    # What the anchor recovers from a signature made for another contract: some unrelated address.
    recovered = recover(checkpoint_digest(anchors, checkpoint), foreign)
    assert recovered not in [r.address for r in with_relayers]

    with refused("AnchorSignerUnknown", recovered):
        submit(anchors, checkpoint, [foreign, genuine], stranger)


def test_signature_for_another_chain_recovers_to_a_stranger(anchors, stranger, with_relayers):
    checkpoint = make_checkpoint()
    foreign = sign_checkpoint(anchors, checkpoint, with_relayers, chain_id=1)
    recovered = recover(checkpoint_digest(anchors, checkpoint), foreign[0])
    assert recovered not in [r.address for r in with_relayers]

    with refused("AnchorSignerUnknown", recovered):
        submit(anchors, checkpoint, foreign, stranger)


def test_signature_over_another_checkpoint_is_refused(anchors, stranger, with_relayers):
    checkpoint = make_checkpoint()
    tampered = checkpoint._replace(journalRoot=keccak(text="tampered journal"))
    signatures = sign_checkpoint(anchors, checkpoint, with_relayers)
    recovered = recover(checkpoint_digest(anchors, tampered), signatures[0])

    with refused("AnchorSignerUnknown", recovered):
        submit(anchors, tampered, signatures, stranger)


def test_signatures_in_descending_order_are_refused(anchors, stranger, with_relayers):
    checkpoint = make_checkpoint()
    descending = list(reversed(by_address(with_relayers)))
    signatures = sign_checkpoint(anchors, checkpoint, descending, ordered=False)

    with refused("AnchorSignersUnordered", descending[1]):
        submit(anchors, checkpoint, signatures, stranger)


def test_the_same_signature_twice_is_refused(anchors, stranger, with_relayers):
    checkpoint = make_checkpoint()
    signature = sign_checkpoint(anchors, checkpoint, with_relayers[:1])[0]

    with refused("AnchorSignersUnordered", with_relayers[0]):
        submit(anchors, checkpoint, [signature, signature], stranger)


def test_two_signatures_of_one_relayer_are_refused(anchors, stranger, with_relayers):
    """A second, malleated signature by the same key does not count either (refused before ordering)."""
    checkpoint = make_checkpoint()
    signature = sign_checkpoint(anchors, checkpoint, with_relayers[:1])[0]

    with refused("AnchorSignatureMalformed", 1):
        submit(anchors, checkpoint, [signature, high_s(signature)], stranger)


def test_one_of_three_signatures_is_under_signed(anchors, stranger, with_relayers):
    checkpoint = make_checkpoint()

    with refused("AnchorCheckpointUnderSigned", 1, 2):
        submit(anchors, checkpoint, sign_checkpoint(anchors, checkpoint, with_relayers[:1]), stranger)


def test_no_signature_is_under_signed(anchors, stranger, with_relayers):
    with refused("AnchorCheckpointUnderSigned", 0, 2):
        submit(anchors, make_checkpoint(), [], stranger)


def test_half_of_an_even_set_is_under_signed(anchors, deployer, stranger, relayers, new_relayers):
    members = relayers[:2] + new_relayers[:2]
    anchors.setRelayers(MAIN_CHAIN, members, {"from": deployer})
    checkpoint = make_checkpoint()

    with refused("AnchorCheckpointUnderSigned", 2, 3):
        submit(anchors, checkpoint, sign_checkpoint(anchors, checkpoint, members[1:3]), stranger)
    anchor(anchors, checkpoint, members[1:], stranger)


def test_refused_checkpoint_leaves_nothing(anchors, stranger, with_relayers):
    checkpoint = make_checkpoint()
    with refused("AnchorCheckpointUnderSigned", 1, 2):
        submit(anchors, checkpoint, sign_checkpoint(anchors, checkpoint, with_relayers[:1]), stranger)

    assert anchors.latestSequence(MAIN_CHAIN) == 0
    assert plain(anchors.checkpoint(MAIN_CHAIN, 1))[0] == 0


def test_old_relayers_are_refused_after_replacement(anchors, deployer, stranger, with_relayers, new_relayers):
    anchor(anchors, make_checkpoint(sequence=1), with_relayers, stranger)
    checkpoint = make_checkpoint(sequence=2)
    signed_by_old_set = sign_checkpoint(anchors, checkpoint, with_relayers)
    change(anchors, with_relayers, new_relayers, stranger)

    with refused("AnchorSignerUnknown", by_address(with_relayers)[0]):
        submit(anchors, checkpoint, signed_by_old_set, stranger)
    # The new set continues the same sequence.
    anchor(anchors, checkpoint, new_relayers[:2], stranger)


# ---------------------------------------------------------------- views


def test_checkpoint_digest_equals_eip712_digest(anchors, relayers):
    checkpoint = make_checkpoint(sequence=7)
    signed = Account.sign_typed_data(relayers[0].private_key, full_message=checkpoint_message(anchors, checkpoint))

    digest = plain(anchors.checkpointDigest(checkpoint.struct))

    assert digest == checkpoint_digest(anchors, checkpoint)
    assert digest == bytes(signed.message_hash)


def test_digest_changes_with_every_field(anchors):
    base = make_checkpoint()
    variants = [
        base._replace(sourceChainId=SIDE_CHAIN),
        base._replace(sequence=2),
        base._replace(blockNumber=101),
        base._replace(blockHash=keccak(text="other block")),
        base._replace(identityRoot=keccak(text="x")),
        base._replace(accreditationRoot=keccak(text="x")),
        base._replace(journalRoot=keccak(text="x")),
    ]

    digests = {plain(anchors.checkpointDigest(c.struct)) for c in [base] + variants}

    assert len(digests) == 8


def test_digest_is_bound_to_the_anchor(anchors, deployer):
    other = AnchorRegistry.deploy(deployer, {"from": deployer})
    checkpoint = make_checkpoint()

    assert plain(other.checkpointDigest(checkpoint.struct)) == checkpoint_digest(other, checkpoint)
    assert plain(other.checkpointDigest(checkpoint.struct)) != plain(anchors.checkpointDigest(checkpoint.struct))


@pytest.mark.parametrize("kind", [1, 2, 3])
def test_journal_leaf_is_the_standard_tree_leaf(anchors, kind):
    emitter, subject = "0x" + "ab" * 20, keccak(text=f"subject {kind}")

    assert plain(anchors.journalLeaf(kind, emitter, subject)) == leaf_hash(JOURNAL_LEAF, [kind, emitter, subject])


def journal_entries(anchors, deployer):
    """Five journal entries: licences, batches and a checkpoint recorded on the source chain."""
    registry, other = address_of(deployer), "0x" + "c0" * 20
    return [
        (1, registry, keccak(text="licence a")),
        (1, registry, keccak(text="licence b")),
        (2, registry, keccak(text="batch root")),
        (1, other, keccak(text="licence c")),
        (3, address_of(anchors), keccak(text="checkpoint digest")),
    ]


@pytest.fixture
def journal(anchors, deployer, stranger, with_relayers):
    """Checkpoint 1 of the main chain carries the root of a five-entry journal tree."""
    entries = journal_entries(anchors, deployer)
    tree = StandardMerkleTree(entries, JOURNAL_LEAF)
    anchor(anchors, make_checkpoint(journalRoot=tree.root), with_relayers, stranger)
    return tree, entries


def test_every_journal_entry_verifies(anchors, journal):
    tree, entries = journal

    for index, (kind, emitter, subject) in enumerate(entries):
        proof = tree.proof(index)
        assert anchors.verifyJournal(MAIN_CHAIN, 1, kind, emitter, subject, proof)
        assert StandardMerkleTree.verify(tree.root, JOURNAL_LEAF, entries[index], proof)


@pytest.mark.parametrize("field", ["kind", "emitter", "subject"])
def test_altered_journal_entry_does_not_verify(anchors, journal, field):
    tree, entries = journal
    kind, emitter, subject = entries[0]
    altered = {
        "kind": (2, emitter, subject),
        "emitter": (kind, "0x" + "ee" * 20, subject),
        "subject": (kind, emitter, keccak(text="never recorded")),
    }[field]

    assert not anchors.verifyJournal(MAIN_CHAIN, 1, *altered, tree.proof(0))


def test_journal_entry_with_a_wrong_proof_does_not_verify(anchors, journal):
    tree, entries = journal

    assert not anchors.verifyJournal(MAIN_CHAIN, 1, *entries[0], tree.proof(1))
    assert not anchors.verifyJournal(MAIN_CHAIN, 1, *entries[0], [])
    assert not anchors.verifyJournal(MAIN_CHAIN, 1, *entries[0], tree.proof(0)[:-1])


def test_journal_entry_does_not_verify_against_another_checkpoint(anchors, stranger, with_relayers, journal):
    tree, entries = journal
    anchor(anchors, make_checkpoint(sequence=2), with_relayers, stranger)

    assert anchors.verifyJournal(MAIN_CHAIN, 1, *entries[2], tree.proof(2))
    assert not anchors.verifyJournal(MAIN_CHAIN, 2, *entries[2], tree.proof(2))


def test_checkpoint_without_journal_verifies_nothing(anchors, stranger, with_relayers):
    anchor(anchors, make_checkpoint(journalRoot=ZERO32), with_relayers, stranger)

    assert not anchors.verifyJournal(MAIN_CHAIN, 1, 1, "0x" + "ab" * 20, ZERO32, [])


def test_one_entry_journal_verifies_with_an_empty_proof(anchors, stranger, with_relayers):
    entry = (1, "0x" + "ab" * 20, keccak(text="only licence"))
    tree = StandardMerkleTree([entry], JOURNAL_LEAF)
    anchor(anchors, make_checkpoint(journalRoot=tree.root), with_relayers, stranger)

    assert tree.proof(0) == []
    assert anchors.verifyJournal(MAIN_CHAIN, 1, *entry, [])


@pytest.mark.parametrize("source, sequence", [(MAIN_CHAIN, 2), (MAIN_CHAIN, 0), (SIDE_CHAIN, 1)])
def test_journal_of_an_unknown_checkpoint_reverts(anchors, journal, source, sequence):
    tree, entries = journal

    with refused("AnchorCheckpointUnknown", source, sequence):
        anchors.verifyJournal(source, sequence, *entries[0], tree.proof(0))


@pytest.mark.parametrize("source, sequence", [(MAIN_CHAIN, 2), (MAIN_CHAIN, 0), (SIDE_CHAIN, 1)])
def test_identity_root_of_an_unknown_checkpoint_reverts(anchors, stranger, with_relayers, source, sequence):
    anchor(anchors, make_checkpoint(sequence=1), with_relayers, stranger)

    with refused("AnchorCheckpointUnknown", source, sequence):
        anchors.identityRootAt(source, sequence)


def test_identity_root_of_each_checkpoint_is_kept(anchors, stranger, with_relayers):
    roots = [keccak(text=f"identities {i}") for i in (1, 2)]
    for sequence, root in enumerate(roots, start=1):
        anchor(anchors, make_checkpoint(sequence=sequence, identityRoot=root), with_relayers, stranger)

    assert [plain(anchors.identityRootAt(MAIN_CHAIN, s)) for s in (1, 2)] == roots


def test_latest_accreditation_root_follows_the_latest_checkpoint(anchors, stranger, with_relayers):
    assert plain(anchors.latestAccreditationRoot(MAIN_CHAIN)) == (ZERO32, 0)
    first, second = keccak(text="accreditations 1"), keccak(text="accreditations 2")

    anchor(anchors, make_checkpoint(sequence=1, accreditationRoot=first), with_relayers, stranger)
    assert plain(anchors.latestAccreditationRoot(MAIN_CHAIN)) == (first, 1)

    anchor(anchors, make_checkpoint(sequence=2, accreditationRoot=second), with_relayers, stranger)
    assert plain(anchors.latestAccreditationRoot(MAIN_CHAIN)) == (second, 2)
    assert plain(anchors.latestAccreditationRoot(SIDE_CHAIN)) == (ZERO32, 0)


def test_relayers_and_threshold_of_an_unknown_chain(anchors, with_relayers):
    assert anchors.relayersOf(SIDE_CHAIN) == []
    assert anchors.threshold(SIDE_CHAIN) == 0
    assert anchors.relayersOf(MAIN_CHAIN) == [r.address for r in with_relayers]


# ---------------------------------------------------------------- Ownable2Step


def test_ownership_moves_in_two_steps(anchors, deployer, authorities, relayers):
    new_owner = authorities[0]

    tx = anchors.transferOwnership(new_owner, {"from": deployer})
    assert_event(tx, "OwnershipTransferStarted", previousOwner=deployer, newOwner=new_owner)
    assert anchors.owner() == deployer
    assert anchors.pendingOwner() == new_owner
    with refused("OwnableUnauthorizedAccount", new_owner):
        anchors.setRelayers(MAIN_CHAIN, relayers, {"from": new_owner})

    tx = anchors.acceptOwnership({"from": new_owner})
    assert_event(tx, "OwnershipTransferred", previousOwner=deployer, newOwner=new_owner)
    assert anchors.owner() == new_owner
    assert anchors.pendingOwner() == ZERO_ADDRESS

    with refused("OwnableUnauthorizedAccount", deployer):
        anchors.setRelayers(MAIN_CHAIN, relayers, {"from": deployer})
    anchors.setRelayers(MAIN_CHAIN, relayers, {"from": new_owner})
    assert anchors.relayersOf(MAIN_CHAIN) == [r.address for r in relayers]


def test_only_the_pending_owner_accepts(anchors, deployer, authorities, stranger):
    anchors.transferOwnership(authorities[0], {"from": deployer})

    with refused("OwnableUnauthorizedAccount", stranger):
        anchors.acceptOwnership({"from": stranger})
    assert anchors.owner() == deployer


def test_only_the_owner_transfers_ownership(anchors, stranger):
    with refused("OwnableUnauthorizedAccount", stranger):
        anchors.transferOwnership(stranger, {"from": stranger})
