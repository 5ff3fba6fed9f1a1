"""IssuerRegistry.accreditationLeaves: the leaves of the accreditation root relayers anchor.

World (conftest): EDU-MIN (degree, business) above EDU-UNI (degree; signers uni, uni2), EDU-OTH
(degree), HLT-AGY (health). Every signer of every agency is listed in agency order with its
effective types: its agency's own, narrowed by every ancestor's, and 0 while the agency or any
ancestor is suspended. The list is checked against the registry's own per-type answers, and, at the
end, as a standard Merkle tree anchored on a mirror.
"""

import pytest
from brownie import AnchorRegistry, IssuerRegistry, RegistryMirror

from conftest import HEALTH_AGENCY, MINISTRY, OTHER_UNI, UNIVERSITY
from elicense.merkle import StandardMerkleTree
from helpers import (
    ACCREDITATION_LEAF,
    BUSINESS,
    DEGREE,
    HEALTH,
    MAIN_CHAIN,
    ZERO32,
    Checkpoint,
    address_of,
    know_errors,
    org,
    plain,
    sign_checkpoint,
    types,
)

know_errors(AnchorRegistry, RegistryMirror)

FACULTY = org("EDU-FAC")


def leaves(issuers):
    return [tuple(leaf) for leaf in plain(issuers.accreditationLeaves())]


def expected(signers, **overrides):
    """The conftest world's leaves, with `overrides` (by signer name) of their types."""
    world = [
        ("ministry", MINISTRY, types(DEGREE, BUSINESS)),
        ("uni", UNIVERSITY, types(DEGREE)),
        ("uni2", UNIVERSITY, types(DEGREE)),
        ("other", OTHER_UNI, types(DEGREE)),
        ("health", HEALTH_AGENCY, types(HEALTH)),
    ]
    return [(address_of(signers[name]), code, overrides.get(name, mask)) for name, code, mask in world]


def effective_types(issuers, code):
    """Off-chain recomputation: own types AND every ancestor's, 0 if any of them is not active."""
    mask = (1 << 256) - 1
    while code != ZERO32:
        agency = plain(issuers.agency(code))
        if agency[3] != 1:  # AgencyStatus.Active
            return 0
        mask &= agency[4]
        code = agency[1]
    return mask


def assert_consistent(issuers):
    """Each leaf agrees with effective_types and with signerAccreditation for every type 1..8."""
    for signer, code, mask in leaves(issuers):
        assert plain(issuers.agencyOfSigner(signer)) == code
        assert mask == effective_types(issuers, code)
        for cert_type in range(1, 9):
            assert plain(issuers.signerAccreditation(signer, cert_type)) == (code, bool(mask >> cert_type & 1))


@pytest.fixture
def faculty(enact, signers, agencies):
    """EDU-FAC (degree; signer spare) below EDU-UNI: a third level."""
    enact("proposeAddAgency", FACULTY, "Faculty", [signers["spare"]], types(DEGREE), UNIVERSITY)
    return FACULTY


# ---------------------------------------------------------------- listing


def test_no_agencies_no_leaves(deployer, authorities, identities):
    fresh = IssuerRegistry.deploy(authorities, identities, {"from": deployer})

    assert fresh.accreditationLeaves() == []


def test_every_signer_of_every_agency_in_agency_order(issuers, agencies, signers):
    assert leaves(issuers) == expected(signers)
    assert_consistent(issuers)


def test_leaves_follow_agency_codes_and_signer_order(issuers, agencies):
    listed = leaves(issuers)
    order = []
    for index in range(issuers.agencyCount()):
        agency = plain(issuers.agency(issuers.agencyCodeAt(index)))
        order += [(signer, agency[0]) for signer in agency[6]]

    assert [(signer, code) for signer, code, _ in listed] == order


def test_one_agency_lists_its_signers(deployer, authorities, identities, signers):
    fresh = IssuerRegistry.deploy(authorities, identities, {"from": deployer})
    pair = [signers["health"], signers["spare"]]
    fresh.proposeAddAgency(HEALTH_AGENCY, "Health", pair, types(HEALTH), ZERO32, {"from": authorities[0]})
    fresh.approve(fresh.proposalCount(), {"from": authorities[1]})

    assert leaves(fresh) == [(address_of(signer), HEALTH_AGENCY, types(HEALTH)) for signer in pair]


def test_child_types_are_narrowed_by_the_parent(issuers, agencies, signers):
    """EDU-MIN holds degree and business; its child EDU-UNI only degree, whatever the parent holds."""
    by_signer = {signer: mask for signer, _, mask in leaves(issuers)}
    ministry = plain(issuers.agency(MINISTRY))[4]
    university = plain(issuers.agency(UNIVERSITY))[4]

    assert by_signer[address_of(signers["uni"])] == university & ministry == types(DEGREE)
    assert by_signer[address_of(signers["ministry"])] == ministry


def test_agency_added_later_is_listed_last(issuers, faculty, signers):
    assert leaves(issuers) == expected(signers) + [(address_of(signers["spare"]), FACULTY, types(DEGREE))]
    assert_consistent(issuers)


# ---------------------------------------------------------------- suspension


def test_suspended_agency_lists_zero(enact, issuers, agencies, signers):
    enact("proposeSuspendAgency", OTHER_UNI)

    assert leaves(issuers) == expected(signers, other=0)
    assert_consistent(issuers)


def test_children_of_a_suspended_parent_list_zero(enact, issuers, agencies, signers):
    enact("proposeSuspendAgency", MINISTRY)

    assert leaves(issuers) == expected(signers, ministry=0, uni=0, uni2=0)
    assert_consistent(issuers)


def test_suspended_child_leaves_its_parent_accredited(enact, issuers, agencies, signers):
    enact("proposeSuspendAgency", UNIVERSITY)

    assert leaves(issuers) == expected(signers, uni=0, uni2=0)
    assert_consistent(issuers)


def test_grandchild_of_a_suspended_agency_lists_zero(enact, issuers, faculty, signers):
    enact("proposeSuspendAgency", MINISTRY)

    assert leaves(issuers)[-1] == (address_of(signers["spare"]), FACULTY, 0)
    assert_consistent(issuers)


def test_reinstatement_restores_the_types(enact, issuers, agencies, signers):
    enact("proposeSuspendAgency", MINISTRY)
    enact("proposeSuspendAgency", HEALTH_AGENCY)
    assert leaves(issuers) == expected(signers, ministry=0, uni=0, uni2=0, health=0)

    enact("proposeReinstateAgency", MINISTRY)
    assert leaves(issuers) == expected(signers, health=0)

    enact("proposeReinstateAgency", HEALTH_AGENCY)
    assert leaves(issuers) == expected(signers)
    assert_consistent(issuers)


def test_suspended_child_stays_zero_when_its_parent_is_reinstated(enact, issuers, agencies, signers):
    enact("proposeSuspendAgency", UNIVERSITY)
    enact("proposeSuspendAgency", MINISTRY)

    enact("proposeReinstateAgency", MINISTRY)

    assert leaves(issuers) == expected(signers, uni=0, uni2=0)
    assert_consistent(issuers)


# ---------------------------------------------------------------- as an anchored tree


def test_leaves_form_the_tree_a_mirror_accepts(issuers, agencies, deployer, keyed, stranger):
    """Relayers read the leaves, anchor their root; every signer then proves its leaf on a mirror."""
    listed = leaves(issuers)
    tree = StandardMerkleTree(listed, ACCREDITATION_LEAF)
    anchors = AnchorRegistry.deploy(deployer, {"from": deployer})
    relayers = [keyed(f"leaves relayer {i}") for i in range(3)]
    anchors.setRelayers(MAIN_CHAIN, relayers, {"from": deployer})
    mirror = RegistryMirror.deploy(anchors, MAIN_CHAIN, {"from": deployer})
    checkpoint = Checkpoint(MAIN_CHAIN, 1, 100, b"\x01" * 32, accreditationRoot=tree.root)
    anchors.submitCheckpoint(checkpoint.struct, sign_checkpoint(anchors, checkpoint, relayers[:2]), {"from": stranger})

    for index, (signer, code, mask) in enumerate(listed):
        mirror.proveAccreditation(signer, code, mask, tree.proof(index), {"from": stranger})
        for cert_type in (DEGREE, BUSINESS, HEALTH):
            assert plain(mirror.signerAccreditation(signer, cert_type)) == plain(
                issuers.signerAccreditation(signer, cert_type)
            )
