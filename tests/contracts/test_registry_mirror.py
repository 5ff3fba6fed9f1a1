"""RegistryMirror: a side chain's view of the main chain's identities and accreditations.

World: this Anvil chain plays a side chain. Its AnchorRegistry (owned by the deployer) accepts
checkpoints of the main chain 7001 from three relayers; a RegistryMirror reads them. The "main
chain" exists only as Merkle trees built here with elicense.merkle: identity leaves (account, role)
and accreditation leaves (signer, agency, certTypes) over real keyed accounts. A LicenseRegistry
deployed with the mirror as both lookups shows that a side chain issues and checks licences only
for what has been proven from the main chain.
"""

from types import SimpleNamespace

import pytest
from brownie import AnchorRegistry, LicenseRegistry, RegistryMirror
from eth_utils import keccak

from conftest import CIVIL_BIT, CIVIL_REGISTRY, HEALTH_AGENCY, MINISTRY, OTHER_UNI, UNIVERSITY
from elicense.merkle import StandardMerkleTree
from helpers import (
    ACCREDITATION_LEAF,
    BATCH_LEAF,
    BUSINESS,
    DEGREE,
    HEALTH,
    IDENTITY_LEAF,
    MAIN_CHAIN,
    MARRIAGE,
    REAL_ESTATE,
    SIDE_CHAIN,
    ZERO32,
    CheckResult,
    Checkpoint,
    Presentation,
    Role,
    Status,
    address_of,
    assert_event,
    data_hash,
    know_errors,
    latest_timestamp,
    licence_id,
    plain,
    refused,
    sign_checkpoint,
    types,
)

know_errors(AnchorRegistry, RegistryMirror)

YEAR = 365 * 24 * 3600
CIPHERTEXT = b"ecies: {'degree': 'MSc'}"


# ---------------------------------------------------------------- the main chain, as trees


@pytest.fixture(scope="module")
def people(keyed):
    """Real keyed accounts of the main chain's identity registry, by name."""
    names = ["holder", "other holder", "late holder", "inspector", "uni", "uni2", "ministry", "health", "other", "civil"]
    return SimpleNamespace(**{name.replace(" ", "_"): keyed(f"mirror {name}") for name in names})


def identity_values(people, late=False):
    """(account, role) of the main chain's identities; `late` adds one registered afterwards."""
    values = [
        (people.holder, Role.HOLDER),
        (people.other_holder, Role.HOLDER),
        (people.inspector, Role.INSPECTOR),
        (people.uni, Role.ISSUER),
        (people.uni2, Role.ISSUER),
        (people.ministry, Role.ISSUER),
        (people.health, Role.ISSUER),
        (people.other, Role.ISSUER),
        (people.civil, Role.ISSUER),
    ]
    if late:
        values.append((people.late_holder, Role.HOLDER))
    return [(address_of(account), int(role)) for account, role in values]


def accreditation_values(people, uni_types=None, with_other=False):
    """(signer, agency, effective types) of the main chain's signers.

    `uni_types` overrides EDU-UNI's types (0: suspended); `with_other` adds EDU-OTH, accredited later.
    """
    uni_types = types(DEGREE) if uni_types is None else uni_types
    values = [
        (people.ministry, MINISTRY, types(DEGREE, BUSINESS)),
        (people.uni, UNIVERSITY, uni_types),
        (people.uni2, UNIVERSITY, uni_types),
        (people.health, HEALTH_AGENCY, types(HEALTH)),
        (people.civil, CIVIL_REGISTRY, CIVIL_BIT),
    ]
    if with_other:
        values.append((people.other, OTHER_UNI, types(DEGREE)))
    return [(address_of(signer), agency, mask) for signer, agency, mask in values]


class Tree:
    """A StandardMerkleTree with proofs looked up by value."""

    def __init__(self, values, encoding):
        self.values = values
        self.tree = StandardMerkleTree(values, encoding)
        self.root = self.tree.root

    def proof(self, *value):
        return self.tree.proof_for(list(value))


def identity_tree(people, **kwargs):
    return Tree(identity_values(people, **kwargs), IDENTITY_LEAF)


def accreditation_tree(people, **kwargs):
    return Tree(accreditation_values(people, **kwargs), ACCREDITATION_LEAF)


# ---------------------------------------------------------------- the side chain


@pytest.fixture(scope="module")
def anchors(deployer):
    return AnchorRegistry.deploy(deployer, {"from": deployer})


@pytest.fixture(scope="module")
def relayers(anchors, deployer, keyed):
    """The main chain's three relayers, installed on the side chain's anchor."""
    members = [keyed(f"mirror relayer {i}") for i in range(3)]
    anchors.setRelayers(MAIN_CHAIN, members, {"from": deployer})
    return members


@pytest.fixture(scope="module")
def mirror(anchors, relayers, deployer):
    return RegistryMirror.deploy(anchors, MAIN_CHAIN, {"from": deployer})


@pytest.fixture(scope="module")
def side_licenses(mirror, deployer):
    """A degree registry on the side chain, asking the mirror both questions."""
    return LicenseRegistry.deploy(DEGREE, mirror, mirror, {"from": deployer})


def anchor_next(anchors, relayers, identities=None, accreditations=None, source=MAIN_CHAIN):
    """Anchors the next checkpoint of `source` carrying the given trees' roots; returns its sequence."""
    sequence = anchors.latestSequence(source) + 1
    checkpoint = Checkpoint(
        source,
        sequence,
        1000 * sequence,
        keccak(text=f"main block {sequence}"),
        identities.root if identities else ZERO32,
        accreditations.root if accreditations else ZERO32,
        keccak(text=f"journal {sequence}"),
    )
    signatures = sign_checkpoint(anchors, checkpoint, relayers[:2])
    anchors.submitCheckpoint(checkpoint.struct, signatures, {"from": relayers[0]})
    return sequence


@pytest.fixture
def world(anchors, relayers, people):
    """Checkpoint 1 of the main chain is anchored with its identity and accreditation roots."""
    identities, accreditations = identity_tree(people), accreditation_tree(people)
    sequence = anchor_next(anchors, relayers, identities, accreditations)
    return SimpleNamespace(identities=identities, accreditations=accreditations, sequence=sequence)


def prove_identity(mirror, world, account, role, sender, sequence=None, tree=None):
    tree = tree or world.identities
    sequence = world.sequence if sequence is None else sequence
    proof = tree.proof(address_of(account), int(role))
    tx = mirror.proveIdentity(account, role, sequence, proof, {"from": sender})
    assert_event(tx, "IdentityProven", account=account, role=role, sequence=sequence)
    assert mirror.roleOf(account) == role
    return tx


def prove_accreditation(mirror, tree, signer, sender, sequence):
    """Proves `signer`'s leaf of `tree` (the latest anchored one) and checks event and state."""
    _, agency, mask = next(v for v in tree.values if v[0] == address_of(signer))
    tx = mirror.proveAccreditation(signer, agency, mask, tree.proof(address_of(signer), agency, mask), {"from": sender})
    assert_event(tx, "AccreditationProven", signer=signer, agency=agency, certTypes=mask, sequence=sequence)
    assert plain(mirror.accreditationOf(signer)) == (agency, mask, tree.root, True)
    assert plain(mirror.agencyOfSigner(signer)) == agency
    return tx


# ---------------------------------------------------------------- configuration


def test_mirror_reads_its_anchor_for_the_main_chain(mirror, anchors):
    assert mirror.anchors() == anchors.address
    assert mirror.mainChainId() == MAIN_CHAIN


def test_nothing_is_proven_at_first(mirror, people):
    assert mirror.roleOf(people.holder) == Role.NONE
    assert plain(mirror.signerAccreditation(people.uni, DEGREE)) == (ZERO32, False)
    assert plain(mirror.agencyOfSigner(people.uni)) == ZERO32
    assert plain(mirror.accreditationOf(people.uni)) == (ZERO32, 0, ZERO32, False)


# ---------------------------------------------------------------- proveIdentity


def test_anyone_proves_every_identity(mirror, world, people, stranger):
    for account, role in world.identities.values:
        prove_identity(mirror, world, account, role, stranger)


def test_role_none_is_invalid(mirror, world, people, stranger):
    with refused("MirrorRoleInvalid"):
        mirror.proveIdentity(people.holder, Role.NONE, world.sequence, [], {"from": stranger})


def test_role_none_is_invalid_even_before_any_checkpoint(mirror, people, stranger):
    with refused("MirrorRoleInvalid"):
        mirror.proveIdentity(people.holder, Role.NONE, 1, [], {"from": stranger})


@pytest.mark.parametrize("sequence", [0, 2, 99])
def test_identity_against_an_unknown_checkpoint_is_refused(mirror, world, people, stranger, sequence):
    proof = world.identities.proof(people.holder.address, int(Role.HOLDER))

    with refused("MirrorCheckpointUnknown", sequence):
        mirror.proveIdentity(people.holder, Role.HOLDER, sequence, proof, {"from": stranger})


def test_identity_before_any_checkpoint_is_refused(mirror, people, stranger):
    tree = identity_tree(people)

    with refused("MirrorCheckpointUnknown", 1):
        mirror.proveIdentity(people.holder, Role.HOLDER, 1, tree.proof(people.holder.address, 1), {"from": stranger})


def test_identity_against_a_checkpoint_without_identity_root_is_refused(mirror, anchors, relayers, people, stranger):
    sequence = anchor_next(anchors, relayers, identities=None, accreditations=accreditation_tree(people))
    proof = identity_tree(people).proof(people.holder.address, 1)

    with refused("MirrorCheckpointUnknown", sequence):
        mirror.proveIdentity(people.holder, Role.HOLDER, sequence, proof, {"from": stranger})


def test_checkpoints_of_other_chains_do_not_count(mirror, anchors, deployer, relayers, people, stranger):
    """Only the main chain's checkpoints are read, however many other chains the anchor accepts."""
    anchors.setRelayers(SIDE_CHAIN, relayers, {"from": deployer})
    tree = identity_tree(people)
    anchor_next(anchors, relayers, tree, accreditation_tree(people), source=SIDE_CHAIN)

    with refused("MirrorCheckpointUnknown", 1):
        mirror.proveIdentity(people.holder, Role.HOLDER, 1, tree.proof(people.holder.address, 1), {"from": stranger})
    with refused("MirrorCheckpointUnknown", 0):
        mirror.proveAccreditation(people.uni, UNIVERSITY, types(DEGREE), [], {"from": stranger})


@pytest.mark.parametrize("claimed", [Role.ISSUER, Role.INSPECTOR, Role.AUTHORITY])
def test_identity_with_a_wrong_role_is_refused(mirror, world, people, stranger, claimed):
    proof = world.identities.proof(people.holder.address, int(Role.HOLDER))

    with refused("MirrorProofInvalid"):
        mirror.proveIdentity(people.holder, claimed, world.sequence, proof, {"from": stranger})
    assert mirror.roleOf(people.holder) == Role.NONE


def test_identity_with_a_wrong_proof_is_refused(mirror, world, people, stranger):
    others_proof = world.identities.proof(people.other_holder.address, int(Role.HOLDER))
    proof = world.identities.proof(people.holder.address, int(Role.HOLDER))

    for bad in (others_proof, [], proof[:-1], [keccak(text="junk")] + proof[1:]):
        with refused("MirrorProofInvalid"):
            mirror.proveIdentity(people.holder, Role.HOLDER, world.sequence, bad, {"from": stranger})


def test_identity_not_on_the_main_chain_is_refused(mirror, world, people, stranger):
    """The late holder registered after checkpoint 1: no proof against it exists."""
    proof = world.identities.proof(people.holder.address, int(Role.HOLDER))

    with refused("MirrorProofInvalid"):
        mirror.proveIdentity(people.late_holder, Role.HOLDER, world.sequence, proof, {"from": stranger})


def test_proven_identity_cannot_be_proven_again(mirror, world, anchors, relayers, people, stranger):
    prove_identity(mirror, world, people.holder, Role.HOLDER, stranger)

    proof = world.identities.proof(people.holder.address, int(Role.HOLDER))
    with refused("MirrorAlreadyProven", people.holder):
        mirror.proveIdentity(people.holder, Role.HOLDER, world.sequence, proof, {"from": people.holder})

    # Nor against a later checkpoint holding the same fact.
    later = identity_tree(people, late=True)
    sequence = anchor_next(anchors, relayers, later, world.accreditations)
    with refused("MirrorAlreadyProven", people.holder):
        mirror.proveIdentity(
            people.holder, Role.HOLDER, sequence, later.proof(people.holder.address, 1), {"from": stranger}
        )


def test_identity_proof_against_an_older_checkpoint_still_holds(mirror, world, anchors, relayers, people, stranger):
    later = identity_tree(people, late=True)
    sequence = anchor_next(anchors, relayers, later, world.accreditations)
    assert sequence == 2

    prove_identity(mirror, world, people.holder, Role.HOLDER, stranger, sequence=1)
    prove_identity(mirror, world, people.other_holder, Role.HOLDER, stranger, sequence=2, tree=later)
    prove_identity(mirror, world, people.late_holder, Role.HOLDER, stranger, sequence=2, tree=later)


def test_late_identity_does_not_prove_against_the_older_checkpoint(mirror, world, anchors, relayers, people, stranger):
    later = identity_tree(people, late=True)
    anchor_next(anchors, relayers, later, world.accreditations)

    with refused("MirrorProofInvalid"):
        mirror.proveIdentity(
            people.late_holder, Role.HOLDER, 1, later.proof(people.late_holder.address, 1), {"from": stranger}
        )


# ---------------------------------------------------------------- proveAccreditation


def test_anyone_proves_an_accreditation(mirror, world, people, stranger):
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)

    assert plain(mirror.signerAccreditation(people.uni, DEGREE)) == (UNIVERSITY, True)


def test_every_signer_proves_its_accreditation(mirror, world, people, stranger):
    for signer, _, _ in world.accreditations.values:
        prove_accreditation(mirror, world.accreditations, signer, stranger, world.sequence)


@pytest.mark.parametrize(
    "signer, accredited",
    [("uni", {DEGREE}), ("ministry", {DEGREE, BUSINESS}), ("health", {HEALTH})],
)
def test_signer_is_accredited_only_for_the_types_in_its_mask(mirror, world, people, stranger, signer, accredited):
    account = getattr(people, signer)
    prove_accreditation(mirror, world.accreditations, account, stranger, world.sequence)
    agency = plain(mirror.agencyOfSigner(account))

    for cert_type in (0, MARRIAGE, REAL_ESTATE, DEGREE, BUSINESS, HEALTH, 6, 255):
        assert plain(mirror.signerAccreditation(account, cert_type)) == (agency, cert_type in accredited)


def test_unproven_signer_is_not_accredited(mirror, world, people, stranger):
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)

    assert plain(mirror.signerAccreditation(people.uni2, DEGREE)) == (ZERO32, False)


def test_accreditation_before_any_checkpoint_is_refused(mirror, people, stranger):
    tree = accreditation_tree(people)
    leaf = (people.uni.address, UNIVERSITY, types(DEGREE))

    with refused("MirrorCheckpointUnknown", 0):
        mirror.proveAccreditation(*leaf, tree.proof(*leaf), {"from": stranger})


def test_accreditation_when_the_latest_checkpoint_has_no_accreditation_root(
    mirror, world, anchors, relayers, people, stranger
):
    sequence = anchor_next(anchors, relayers, world.identities, accreditations=None)
    leaf = (people.uni.address, UNIVERSITY, types(DEGREE))

    with refused("MirrorCheckpointUnknown", sequence):
        mirror.proveAccreditation(*leaf, world.accreditations.proof(*leaf), {"from": stranger})


@pytest.mark.parametrize("change", ["more types", "other agency", "no types", "not a signer"])
def test_accreditation_with_altered_leaf_is_refused(mirror, world, people, stranger, change):
    leaf = (people.uni.address, UNIVERSITY, types(DEGREE))
    proof = world.accreditations.proof(*leaf)
    altered = {
        "more types": (people.uni.address, UNIVERSITY, types(DEGREE, BUSINESS)),
        "other agency": (people.uni.address, MINISTRY, types(DEGREE)),
        "no types": (people.uni.address, UNIVERSITY, 0),
        "not a signer": (stranger.address, UNIVERSITY, types(DEGREE)),
    }[change]

    with refused("MirrorProofInvalid"):
        mirror.proveAccreditation(*altered, proof, {"from": stranger})


def test_accreditation_with_a_wrong_proof_is_refused(mirror, world, people, stranger):
    leaf = (people.uni.address, UNIVERSITY, types(DEGREE))
    other_proof = world.accreditations.proof(people.health.address, HEALTH_AGENCY, types(HEALTH))

    for bad in (other_proof, []):
        with refused("MirrorProofInvalid"):
            mirror.proveAccreditation(*leaf, bad, {"from": stranger})


def test_proven_accreditation_cannot_be_proven_again(mirror, world, people, stranger):
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)
    leaf = (people.uni.address, UNIVERSITY, types(DEGREE))

    with refused("MirrorAlreadyProven", people.uni):
        mirror.proveAccreditation(*leaf, world.accreditations.proof(*leaf), {"from": people.uni})


def test_newer_accreditation_root_makes_a_proof_stale_until_re_proven(
    mirror, world, anchors, relayers, people, stranger
):
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)
    # The main chain accredited EDU-OTH: a new root, although EDU-UNI did not change.
    newer = accreditation_tree(people, with_other=True)
    sequence = anchor_next(anchors, relayers, world.identities, newer)

    assert plain(mirror.signerAccreditation(people.uni, DEGREE)) == (UNIVERSITY, False)
    assert plain(mirror.accreditationOf(people.uni)) == (UNIVERSITY, types(DEGREE), world.accreditations.root, False)
    assert plain(mirror.agencyOfSigner(people.uni)) == UNIVERSITY
    # The old proof does not lead to the new root; the new one does.
    leaf = (people.uni.address, UNIVERSITY, types(DEGREE))
    with refused("MirrorProofInvalid"):
        mirror.proveAccreditation(*leaf, world.accreditations.proof(*leaf), {"from": stranger})

    prove_accreditation(mirror, newer, people.uni, stranger, sequence)
    assert plain(mirror.signerAccreditation(people.uni, DEGREE)) == (UNIVERSITY, True)


def test_checkpoint_with_the_same_accreditation_root_keeps_proofs_current(
    mirror, world, anchors, relayers, people, stranger
):
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)

    anchor_next(anchors, relayers, world.identities, world.accreditations)

    assert plain(mirror.signerAccreditation(people.uni, DEGREE)) == (UNIVERSITY, True)
    assert plain(mirror.accreditationOf(people.uni))[3] is True


def test_suspension_on_the_main_chain_reaches_the_mirror(mirror, world, anchors, relayers, people, stranger):
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)
    suspended = accreditation_tree(people, uni_types=0)
    sequence = anchor_next(anchors, relayers, world.identities, suspended)

    # The former mask cannot be proven against the new root ...
    leaf = (people.uni.address, UNIVERSITY, types(DEGREE))
    with refused("MirrorProofInvalid"):
        mirror.proveAccreditation(*leaf, world.accreditations.proof(*leaf), {"from": people.uni})
    # ... and anyone may prove the suspension (mask 0).
    prove_accreditation(mirror, suspended, people.uni, stranger, sequence)

    assert plain(mirror.signerAccreditation(people.uni, DEGREE)) == (UNIVERSITY, False)
    assert plain(mirror.agencyOfSigner(people.uni)) == UNIVERSITY
    assert plain(mirror.accreditationOf(people.uni)) == (UNIVERSITY, 0, suspended.root, True)


def test_checkpoint_without_accreditation_root_leaves_no_signer_accredited(
    mirror, world, anchors, relayers, people, stranger
):
    """The latest checkpoint decides: one anchored without an accreditation root (identities only)
    leaves every proven signer not current, and nothing can be re-proven until the next root."""
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)

    anchor_next(anchors, relayers, world.identities, accreditations=None)

    assert plain(mirror.signerAccreditation(people.uni, DEGREE)) == (UNIVERSITY, False)
    assert plain(mirror.accreditationOf(people.uni))[3] is False
    sequence = anchor_next(anchors, relayers, world.identities, world.accreditations)
    # The same root as before: the earlier proof is current again, no re-proof needed.
    assert plain(mirror.signerAccreditation(people.uni, DEGREE)) == (UNIVERSITY, True)
    assert sequence == 3


def test_reinstatement_is_proven_like_any_accreditation(mirror, world, anchors, relayers, people, stranger):
    suspended = accreditation_tree(people, uni_types=0)
    prove_accreditation(mirror, suspended, people.uni, stranger, anchor_next(anchors, relayers, None, suspended))
    reinstated = accreditation_tree(people, with_other=True)
    sequence = anchor_next(anchors, relayers, None, reinstated)

    prove_accreditation(mirror, reinstated, people.uni, stranger, sequence)

    assert plain(mirror.signerAccreditation(people.uni, DEGREE)) == (UNIVERSITY, True)


# ---------------------------------------------------------------- a licence registry on the side chain


def issue(side_licenses, signer, holder, label):
    now = latest_timestamp()
    dhash = data_hash(label)
    tx = side_licenses.issue(holder, dhash, now - 60, now + YEAR, CIPHERTEXT, {"from": signer})
    lid = licence_id(side_licenses, dhash, tx.events["LicenseIssued"]["agency"])
    assert plain(tx.return_value) == lid
    return SimpleNamespace(id=lid, data_hash=dhash, holder=holder, tx=tx)


def inspect(side_licenses, inspector, lic, agency=UNIVERSITY):
    presentation = Presentation(side_licenses, lic.holder, lic.id)
    args = (lic.holder, agency, lic.data_hash, presentation.struct, presentation.signature, {"from": inspector})
    return side_licenses.check(*args)


def test_side_registry_asks_the_mirror(side_licenses, mirror):
    assert side_licenses.identities() == mirror.address
    assert side_licenses.issuers() == mirror.address
    assert side_licenses.certType() == DEGREE


def test_side_registry_refuses_issue_before_any_proof(side_licenses, world, people):
    with refused("LicenseNotAccredited", people.uni, DEGREE):
        issue(side_licenses, people.uni, people.holder, "too early")


def test_side_registry_refuses_unproven_holder(side_licenses, mirror, world, people, stranger):
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)

    with refused("LicenseHolderUnknown", people.holder):
        issue(side_licenses, people.uni, people.holder, "holder not yet proven")


def test_side_registry_refuses_holder_proven_with_another_role(side_licenses, mirror, world, people, stranger):
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)
    prove_identity(mirror, world, people.inspector, Role.INSPECTOR, stranger)

    with refused("LicenseHolderUnknown", people.inspector):
        issue(side_licenses, people.uni, people.inspector, "inspector as holder")


def test_side_registry_refuses_signer_not_accredited_for_its_type(side_licenses, mirror, world, people, stranger):
    prove_accreditation(mirror, world.accreditations, people.health, stranger, world.sequence)
    prove_identity(mirror, world, people.holder, Role.HOLDER, stranger)

    with refused("LicenseNotAccredited", people.health, DEGREE):
        issue(side_licenses, people.health, people.holder, "health signs degree")


def test_side_registry_issues_after_both_proofs(side_licenses, mirror, world, people, stranger):
    prove_identity(mirror, world, people.holder, Role.HOLDER, stranger)
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)

    lic = issue(side_licenses, people.uni, people.holder, "side msc")

    assert plain(lic.tx.events["LicenseIssued"]["agency"]) == UNIVERSITY
    assert lic.tx.events["LicenseIssued"]["holder"] == people.holder.address
    stored = plain(side_licenses.licence(lic.id))
    assert stored[:2] == (people.holder.address, UNIVERSITY)
    assert stored[4] == Status.ACTIVE


def test_side_check_requires_a_proven_and_authorised_inspector(side_licenses, mirror, world, people, stranger):
    prove_identity(mirror, world, people.holder, Role.HOLDER, stranger)
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)
    lic = issue(side_licenses, people.uni, people.holder, "side msc")

    with refused("LicenseNotInspector", people.inspector):
        inspect(side_licenses, people.inspector, lic)
    with refused("LicenseInspectorNotRegistered", people.inspector):
        side_licenses.authoriseInspector(people.inspector, {"from": people.uni})

    prove_identity(mirror, world, people.inspector, Role.INSPECTOR, stranger)
    with refused("LicenseNotInspector", people.inspector):  # proven, but nobody answers for it yet
        inspect(side_licenses, people.inspector, lic)
    side_licenses.authoriseInspector(people.inspector, {"from": people.uni})
    tx = inspect(side_licenses, people.inspector, lic)

    assert tx.return_value == CheckResult.VALID
    assert tx.events["LicenseChecked"]["inspector"] == people.inspector.address


def test_side_registry_refuses_a_signer_whose_proof_went_stale(
    side_licenses, mirror, world, anchors, relayers, people, stranger
):
    prove_identity(mirror, world, people.holder, Role.HOLDER, stranger)
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)
    issue(side_licenses, people.uni, people.holder, "before the new checkpoint")
    newer = accreditation_tree(people, with_other=True)
    sequence = anchor_next(anchors, relayers, world.identities, newer)

    with refused("LicenseNotAccredited", people.uni, DEGREE):
        issue(side_licenses, people.uni, people.holder, "stale accreditation")

    prove_accreditation(mirror, newer, people.uni, stranger, sequence)
    issue(side_licenses, people.uni, people.holder, "re-proven accreditation")


def test_suspended_signer_still_withdraws_its_licences_on_the_side_chain(
    side_licenses, mirror, world, anchors, relayers, people, stranger
):
    prove_identity(mirror, world, people.holder, Role.HOLDER, stranger)
    prove_identity(mirror, world, people.inspector, Role.INSPECTOR, stranger)
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)
    side_licenses.authoriseInspector(people.inspector, {"from": people.uni})
    lic = issue(side_licenses, people.uni, people.holder, "to be revoked")
    suspended = accreditation_tree(people, uni_types=0)
    prove_accreditation(mirror, suspended, people.uni, stranger, anchor_next(anchors, relayers, None, suspended))

    with refused("LicenseNotAccredited", people.uni, DEGREE):
        issue(side_licenses, people.uni, people.holder, "while suspended")
    # The agency is still known, so it can withdraw what it issued.
    side_licenses.revoke(lic.id, 1, {"from": people.uni})

    assert side_licenses.statusOf(lic.id) == Status.REVOKED
    assert inspect(side_licenses, people.inspector, lic).return_value == CheckResult.REVOKED


def test_side_chain_batch_is_claimed_for_a_proven_holder(side_licenses, mirror, world, people, stranger):
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)
    now = latest_timestamp()
    leaves = [
        (people.holder.address, data_hash(f"side batch {i}"), now - 60, now + YEAR, keccak(text=f"ct {i}"))
        for i in range(3)
    ] + [(people.other_holder.address, data_hash("side batch other"), now - 60, now + YEAR, keccak(text="ct o"))]
    tree = StandardMerkleTree(leaves, BATCH_LEAF)
    side_licenses.issueBatch(tree.root, len(leaves), keccak(text="bundle"), {"from": people.uni})

    with refused("LicenseHolderUnknown", people.holder):
        side_licenses.claim(UNIVERSITY, tree.root, leaves[0], tree.proof(0), {"from": stranger})

    prove_identity(mirror, world, people.holder, Role.HOLDER, stranger)
    tx = side_licenses.claim(UNIVERSITY, tree.root, leaves[0], tree.proof(0), {"from": stranger})

    assert plain(tx.return_value) == licence_id(side_licenses, leaves[0][1], UNIVERSITY)
    assert plain(side_licenses.licence(tx.return_value))[:2] == (people.holder.address, UNIVERSITY)


def test_side_chain_honours_the_civil_registry_capability_proven_from_the_main_chain(
    side_licenses, mirror, world, people, stranger
):
    """Bit 0 of an accreditation leaf is the civil-registry capability: the mirror answers it like a type."""
    prove_identity(mirror, world, people.holder, Role.HOLDER, stranger)
    prove_accreditation(mirror, world.accreditations, people.uni, stranger, world.sequence)
    lic = issue(side_licenses, people.uni, people.holder, "side msc")

    with refused("LicenseNotCivilRegistry", people.uni):
        side_licenses.closeRecord(people.holder, 1, keccak(text="death certificate"), {"from": people.uni})
    with refused("LicenseNotCivilRegistry", people.civil):  # not proven on this side chain yet
        side_licenses.closeRecord(people.holder, 1, keccak(text="death certificate"), {"from": people.civil})
    with refused("LicenseNotAccredited", people.civil, DEGREE):  # the capability is no licence type
        issue(side_licenses, people.civil, people.holder, "civil registry issues a degree")

    prove_accreditation(mirror, world.accreditations, people.civil, stranger, world.sequence)
    assert plain(mirror.signerAccreditation(people.civil, 0)) == (CIVIL_REGISTRY, True)
    assert plain(mirror.signerAccreditation(people.uni, 0)) == (UNIVERSITY, False)
    tx = side_licenses.closeRecord(people.holder, 1, keccak(text="death certificate"), {"from": people.civil})

    assert plain(tx.events["RecordClosed"]["agency"]) == CIVIL_REGISTRY
    assert side_licenses.statusOf(lic.id) == Status.RECORD_CLOSED
