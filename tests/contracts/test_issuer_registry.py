"""IssuerRegistry: agencies accredited, suspended and reinstated by a majority of authorities."""

import brownie
import pytest
from brownie import IssuerRegistry, chain
from eth_abi import encode

from conftest import MINISTRY, UNIVERSITY
from helpers import (
    BUSINESS,
    DEGREE,
    HEALTH,
    MARRIAGE,
    ZERO32,
    ZERO_ADDRESS,
    AgencyStatus,
    ProposalKind,
    Role,
    address_of,
    assert_event,
    expect_refused,
    org,
    plain,
    refused,
    types,
)

EDU = org("EDU-UNI")
CIVIL = org("CIV-REG")
LAW = org("LAW-FAC")


@pytest.fixture(scope="module")
def holder_account(keyed, enrol):
    """Registered, but as a Holder: not allowed to sign for an agency."""
    return enrol(keyed("issuer-test holder"), Role.HOLDER)


@pytest.fixture(scope="module")
def unregistered(keyed):
    return keyed("issuer-test unregistered")


def propose_agency(issuers, proposer, code, signer_list, cert_types, parent=ZERO32, name="Agency"):
    return issuers.proposeAddAgency(code, name, signer_list, cert_types, parent, {"from": proposer})


def agency_payload(name, signer_list, cert_types, parent):
    return encode(
        ["string", "address[]", "uint256", "bytes32"], [name, [address_of(s) for s in signer_list], cert_types, parent]
    )


# ---------------------------------------------------------------- constructor


def test_constructor_installs_founding_authorities(issuers, authorities):
    tx = issuers.tx

    assert [address_of(a) for a in issuers.authorities()] == [a.address for a in authorities]
    for index, authority in enumerate(authorities):
        assert_event(tx, "AuthorityAdded", index, account=authority, epoch=0)
        assert issuers.isAuthority(authority)
    assert issuers.quorum() == 2
    assert issuers.epoch() == 0
    assert issuers.proposalCount() == 0
    assert issuers.agencyCount() == 0
    assert issuers.MAX_DEPTH() == 8


def test_constructor_refuses_no_authorities(deployer, identities):
    with refused("IssuerAuthoritiesInvalid"):
        IssuerRegistry.deploy([], identities, {"from": deployer})


def test_constructor_refuses_duplicate_authority(deployer, identities, authorities):
    with refused("IssuerAuthoritiesInvalid"):
        IssuerRegistry.deploy([authorities[0], authorities[1], authorities[0]], identities, {"from": deployer})


def test_constructor_refuses_zero_authority(deployer, identities, authorities):
    with refused("IssuerAuthoritiesInvalid"):
        IssuerRegistry.deploy([authorities[0], ZERO_ADDRESS], identities, {"from": deployer})


# ---------------------------------------------------------------- proposing an agency


def test_authority_proposes_agency_and_its_approval_counts(issuers, authorities, signers):
    proposer = authorities[0]
    signer_list = [signers["uni"], signers["uni2"]]

    tx = propose_agency(issuers, proposer, EDU, signer_list, types(DEGREE), name="University")

    assert tx.return_value == 1
    assert_event(
        tx, "ProposalCreated", id=1, kind=ProposalKind.ADD_AGENCY, proposer=proposer, code=EDU, account=ZERO_ADDRESS
    )
    assert_event(tx, "ProposalApproved", id=1, authority=proposer, approvals=1, needed=2)
    assert "ProposalExecuted" not in tx.events
    payload = agency_payload("University", signer_list, types(DEGREE), ZERO32)
    assert plain(issuers.proposal(1)) == (
        ProposalKind.ADD_AGENCY, False, 1, tx.timestamp, 0, proposer.address, EDU, ZERO_ADDRESS, payload
    )
    assert issuers.proposalCount() == 1
    assert issuers.hasApproved(1, proposer)
    assert not issuers.hasApproved(1, authorities[1])
    assert issuers.agency(EDU)[3] == AgencyStatus.NONE


def test_majority_approval_accredits_agency(issuers, authorities, signers):
    signer_list = [signers["uni"], signers["uni2"]]
    propose_agency(issuers, authorities[0], EDU, signer_list, types(DEGREE, BUSINESS), name="University")

    tx = issuers.approve(1, {"from": authorities[1]})

    assert tx.return_value is True
    assert_event(tx, "ProposalApproved", id=1, authority=authorities[1], approvals=2, needed=2)
    assert_event(
        tx,
        "AgencyAdded",
        code=EDU,
        parent=ZERO32,
        name="University",
        certTypes=types(DEGREE, BUSINESS),
        signers=signer_list,
    )
    assert_event(tx, "AgencyStatusChanged", code=EDU, status=AgencyStatus.ACTIVE)
    assert_event(tx, "ProposalExecuted", id=1, kind=ProposalKind.ADD_AGENCY)
    signer_addresses = tuple(s.address for s in signer_list)
    assert plain(issuers.agency(EDU)) == (
        EDU, ZERO32, "University", AgencyStatus.ACTIVE, types(DEGREE, BUSINESS), tx.timestamp, signer_addresses
    )
    assert plain(issuers.agencyHistory(EDU)) == ((tx.block_number, tx.timestamp, True),)
    assert issuers.proposal(1)[1] is True
    assert issuers.agencyCount() == 1
    assert plain(issuers.agencyCodeAt(0)) == EDU
    for signer in signer_list:
        assert plain(issuers.agencyOfSigner(signer)) == EDU
        assert plain(issuers.signerAccreditation(signer, DEGREE)) == (EDU, True)
    assert issuers.isAccredited(EDU, DEGREE)
    assert issuers.isAccredited(EDU, BUSINESS)
    assert not issuers.isAccredited(EDU, HEALTH)


def test_child_agency_with_delegated_types_is_accredited(issuers, enact, signers):
    enact("proposeAddAgency", MINISTRY, "Ministry", [signers["ministry"]], types(DEGREE, BUSINESS), ZERO32)

    tx = enact("proposeAddAgency", UNIVERSITY, "University", [signers["uni"]], types(DEGREE), MINISTRY)

    assert_event(
        tx,
        "AgencyAdded",
        code=UNIVERSITY,
        parent=MINISTRY,
        name="University",
        certTypes=types(DEGREE),
        signers=[signers["uni"]],
    )
    assert plain(issuers.agency(UNIVERSITY)[1]) == MINISTRY
    assert issuers.isAccredited(UNIVERSITY, DEGREE)
    assert not issuers.isAccredited(UNIVERSITY, BUSINESS)
    assert plain(issuers.agencyCodeAt(1)) == UNIVERSITY


def test_approval_short_of_quorum_does_not_execute(issuers, enact, authorities, signers, keyed):
    newcomer = keyed("fourth authority")
    enact("proposeAddAuthority", newcomer)  # four authorities: quorum 3
    proposed = propose_agency(issuers, authorities[0], EDU, [signers["uni"]], types(DEGREE))
    proposal_id = proposed.return_value

    tx = issuers.approve(proposal_id, {"from": authorities[1]})

    assert tx.return_value is False
    assert_event(tx, "ProposalApproved", id=proposal_id, authority=authorities[1], approvals=2, needed=3)
    assert "ProposalExecuted" not in tx.events
    assert issuers.agency(EDU)[3] == AgencyStatus.NONE
    assert issuers.approve(proposal_id, {"from": newcomer}).return_value is True
    assert issuers.agency(EDU)[3] == AgencyStatus.ACTIVE


def test_single_authority_executes_at_once(deployer, identities, authorities, signers):
    solo = IssuerRegistry.deploy([authorities[0]], identities, {"from": deployer})

    tx = propose_agency(solo, authorities[0], EDU, [signers["uni"]], types(DEGREE))

    assert tx.return_value == 1
    assert_event(tx, "ProposalApproved", id=1, authority=authorities[0], approvals=1, needed=1)
    assert_event(tx, "ProposalExecuted", id=1, kind=ProposalKind.ADD_AGENCY)
    assert solo.isAccredited(EDU, DEGREE)


@pytest.mark.parametrize(
    "method, args",
    [
        ("proposeAddAgency", (EDU, "x", [ZERO_ADDRESS], types(DEGREE), ZERO32)),
        ("proposeSuspendAgency", (EDU,)),
        ("proposeReinstateAgency", (EDU,)),
        ("proposeAddAuthority", (ZERO_ADDRESS,)),
        ("proposeRemoveAuthority", (ZERO_ADDRESS,)),
        ("approve", (1,)),
    ],
)
def test_stranger_cannot_govern(issuers, stranger, method, args):
    expect_refused(lambda: getattr(issuers, method)(*args, {"from": stranger}), "IssuerNotAuthority", stranger)


def test_signer_cannot_govern(issuers, signers):
    with refused("IssuerNotAuthority", signers["uni"]):
        propose_agency(issuers, signers["uni"], EDU, [signers["uni"]], types(DEGREE))


def test_empty_code_is_refused(issuers, authorities, signers):
    with refused("IssuerCodeEmpty"):
        propose_agency(issuers, authorities[0], ZERO32, [signers["uni"]], types(DEGREE))


def test_existing_code_is_refused(issuers, enact, authorities, signers):
    enact("proposeAddAgency", EDU, "University", [signers["uni"]], types(DEGREE), ZERO32)

    with refused("IssuerAgencyExists", EDU):
        propose_agency(issuers, authorities[0], EDU, [signers["uni2"]], types(DEGREE))


def test_agency_without_signers_is_refused(issuers, authorities):
    with refused("IssuerAgencyIncomplete", EDU):
        propose_agency(issuers, authorities[0], EDU, [], types(DEGREE))


def test_agency_without_any_type_is_refused(issuers, authorities, signers):
    with refused("IssuerAgencyIncomplete", EDU):
        propose_agency(issuers, authorities[0], EDU, [signers["uni"]], 0)


@pytest.mark.parametrize("cert_types", [1, 1 | types(MARRIAGE)], ids=["civil-only", "civil-and-marriage"])
def test_civil_registry_capability_is_a_type_bit(issuers, enact, signers, cert_types):
    """Changed with issue 12: bit 0, once refused, is the civil-registry capability (may close records)."""
    enact("proposeAddAgency", CIVIL, "Civil Registry", [signers["spare"]], cert_types, ZERO32)

    assert issuers.isAccredited(CIVIL, 0)
    assert plain(issuers.signerAccreditation(signers["spare"], 0)) == (CIVIL, True)
    assert issuers.isAccredited(CIVIL, MARRIAGE) == bool(cert_types & types(MARRIAGE))


def test_civil_registry_capability_is_delegated_like_a_type(issuers, enact, authorities, signers):
    enact("proposeAddAgency", CIVIL, "Civil Registry", [signers["spare"]], 1 | types(MARRIAGE), ZERO32)
    enact("proposeAddAgency", EDU, "University", [signers["uni"]], types(DEGREE), ZERO32)

    with refused("IssuerTypesNotDelegated", LAW, EDU, 1):
        propose_agency(issuers, authorities[0], LAW, [signers["uni2"]], 1 | types(DEGREE), parent=EDU)
    enact("proposeAddAgency", LAW, "Local office", [signers["uni2"]], 1, CIVIL)
    assert plain(issuers.signerAccreditation(signers["uni2"], 0)) == (LAW, True)

    enact("proposeSuspendAgency", CIVIL)
    assert plain(issuers.signerAccreditation(signers["uni2"], 0)) == (LAW, False)


def test_signer_of_another_agency_is_refused(issuers, enact, authorities, signers):
    enact("proposeAddAgency", EDU, "University", [signers["uni"]], types(DEGREE), ZERO32)

    with refused("IssuerSignerTaken", signers["uni"], EDU):
        propose_agency(issuers, authorities[0], LAW, [signers["uni2"], signers["uni"]], types(DEGREE))


def test_duplicate_signer_is_refused(issuers, authorities, signers):
    with refused("IssuerSignerTaken", signers["uni"], EDU):
        propose_agency(issuers, authorities[0], EDU, [signers["uni"], signers["uni2"], signers["uni"]], types(DEGREE))


def test_signer_not_registered_is_refused(issuers, authorities, signers, unregistered):
    with refused("IssuerSignerNotRegistered", unregistered):
        propose_agency(issuers, authorities[0], EDU, [signers["uni"], unregistered], types(DEGREE))


def test_signer_registered_as_holder_is_refused(issuers, authorities, holder_account):
    with refused("IssuerSignerNotRegistered", holder_account):
        propose_agency(issuers, authorities[0], EDU, [holder_account], types(DEGREE))


def test_unknown_parent_is_refused(issuers, authorities, signers):
    with refused("IssuerAgencyUnknown", MINISTRY):
        propose_agency(issuers, authorities[0], EDU, [signers["uni"]], types(DEGREE), parent=MINISTRY)


def test_parent_without_the_type_is_refused(issuers, enact, authorities, signers):
    enact("proposeAddAgency", MINISTRY, "Ministry", [signers["ministry"]], types(DEGREE), ZERO32)

    with refused("IssuerTypesNotDelegated", EDU, MINISTRY, types(HEALTH, MARRIAGE)):
        propose_agency(issuers, authorities[0], EDU, [signers["uni"]], types(DEGREE, HEALTH, MARRIAGE), parent=MINISTRY)


@pytest.fixture(scope="module")
def deep_chain(deployer, identities, authorities, keyed, enrol):
    """A registry with one authority (proposals execute at once) and a chain of MAX_DEPTH agencies."""
    solo = IssuerRegistry.deploy([authorities[0]], identities, {"from": deployer})
    parent = ZERO32
    codes = []
    for level in range(8):
        code = org(f"LEVEL-{level}")
        signer = enrol(keyed(f"deep signer {level}"), Role.ISSUER)
        solo.proposeAddAgency(code, f"Level {level}", [signer], types(DEGREE), parent, {"from": authorities[0]})
        codes.append(code)
        parent = code
    return solo, codes


def test_agency_at_max_depth_is_accredited(deep_chain):
    solo, codes = deep_chain

    assert solo.agencyCount() == 8
    assert solo.isAccredited(codes[-1], DEGREE)


def test_chain_deeper_than_max_depth_is_refused(deep_chain, authorities, keyed, enrol):
    solo, codes = deep_chain
    signer = enrol(keyed("deep signer 8"), Role.ISSUER)

    with refused("IssuerChainTooDeep", org("LEVEL-8")):
        solo.proposeAddAgency(org("LEVEL-8"), "Level 8", [signer], types(DEGREE), codes[-1], {"from": authorities[0]})


def test_code_taken_since_proposal_is_refused_at_execution(issuers, authorities, signers):
    propose_agency(issuers, authorities[0], EDU, [signers["uni"]], types(DEGREE))
    propose_agency(issuers, authorities[0], EDU, [signers["uni2"]], types(DEGREE))
    issuers.approve(1, {"from": authorities[1]})

    with refused("IssuerAgencyExists", EDU):
        issuers.approve(2, {"from": authorities[1]})
    assert plain(issuers.agencyOfSigner(signers["uni2"])) == ZERO32


def test_signer_taken_since_proposal_is_refused_at_execution(issuers, authorities, signers):
    propose_agency(issuers, authorities[0], EDU, [signers["uni"]], types(DEGREE))
    propose_agency(issuers, authorities[0], LAW, [signers["uni"]], types(DEGREE))
    issuers.approve(1, {"from": authorities[1]})

    with refused("IssuerSignerTaken", signers["uni"], EDU):
        issuers.approve(2, {"from": authorities[2]})
    assert issuers.agency(LAW)[3] == AgencyStatus.NONE


# ---------------------------------------------------------------- approving


def test_approving_unknown_proposal_is_refused(issuers, authorities):
    with refused("IssuerProposalUnknown", 7):
        issuers.approve(7, {"from": authorities[0]})
    with refused("IssuerProposalUnknown", 0):
        issuers.approve(0, {"from": authorities[0]})


def test_approving_twice_is_refused(issuers, authorities, signers):
    propose_agency(issuers, authorities[0], EDU, [signers["uni"]], types(DEGREE))

    with refused("IssuerAlreadyApproved", 1, authorities[0]):
        issuers.approve(1, {"from": authorities[0]})
    assert issuers.proposal(1)[2] == 1


def test_approving_executed_proposal_is_refused(issuers, enact, authorities, signers):
    enact("proposeAddAgency", EDU, "University", [signers["uni"]], types(DEGREE), ZERO32)

    with refused("IssuerProposalExecuted", 1):
        issuers.approve(1, {"from": authorities[2]})


def test_proposal_goes_stale_when_authorities_change(issuers, enact, authorities, signers, keyed):
    propose_agency(issuers, authorities[0], EDU, [signers["uni"]], types(DEGREE))
    enact("proposeAddAuthority", keyed("fourth authority"))

    with refused("IssuerProposalStale", 1, 0, 1):
        issuers.approve(1, {"from": authorities[1]})
    assert issuers.agency(EDU)[3] == AgencyStatus.NONE


# ---------------------------------------------------------------- suspending and reinstating


@pytest.fixture
def accredited(enact, signers):
    """EDU-MIN (degree, business) with its child EDU-UNI (degree)."""
    enact("proposeAddAgency", MINISTRY, "Ministry", [signers["ministry"]], types(DEGREE, BUSINESS), ZERO32)
    enact("proposeAddAgency", UNIVERSITY, "University", [signers["uni"]], types(DEGREE), MINISTRY)


def test_majority_suspends_agency(issuers, accredited, authorities, signers):
    proposed = issuers.proposeSuspendAgency(UNIVERSITY, {"from": authorities[0]})
    proposal_id = proposed.return_value
    assert_event(
        proposed,
        "ProposalCreated",
        id=proposal_id,
        kind=ProposalKind.SUSPEND_AGENCY,
        proposer=authorities[0],
        code=UNIVERSITY,
        account=ZERO_ADDRESS,
    )

    tx = issuers.approve(proposal_id, {"from": authorities[2]})

    assert tx.return_value is True
    assert_event(tx, "AgencyStatusChanged", code=UNIVERSITY, status=AgencyStatus.SUSPENDED)
    assert_event(tx, "ProposalExecuted", id=proposal_id, kind=ProposalKind.SUSPEND_AGENCY)
    assert issuers.agency(UNIVERSITY)[3] == AgencyStatus.SUSPENDED
    assert plain(issuers.agencyHistory(UNIVERSITY)[-1]) == (tx.block_number, tx.timestamp, False)
    assert not issuers.isAccredited(UNIVERSITY, DEGREE)
    assert plain(issuers.signerAccreditation(signers["uni"], DEGREE)) == (UNIVERSITY, False)


def test_majority_reinstates_agency(issuers, accredited, enact, authorities, signers):
    enact("proposeSuspendAgency", UNIVERSITY)
    proposed = issuers.proposeReinstateAgency(UNIVERSITY, {"from": authorities[1]})
    assert_event(
        proposed,
        "ProposalCreated",
        id=proposed.return_value,
        kind=ProposalKind.REINSTATE_AGENCY,
        proposer=authorities[1],
        code=UNIVERSITY,
        account=ZERO_ADDRESS,
    )

    tx = issuers.approve(proposed.return_value, {"from": authorities[0]})

    assert_event(tx, "AgencyStatusChanged", code=UNIVERSITY, status=AgencyStatus.ACTIVE)
    assert_event(tx, "ProposalExecuted", id=proposed.return_value, kind=ProposalKind.REINSTATE_AGENCY)
    assert [c[2] for c in issuers.agencyHistory(UNIVERSITY)] == [True, False, True]
    assert plain(issuers.signerAccreditation(signers["uni"], DEGREE)) == (UNIVERSITY, True)


def test_suspending_parent_unaccredits_child(issuers, accredited, enact, signers):
    enact("proposeSuspendAgency", MINISTRY)

    assert issuers.agency(UNIVERSITY)[3] == AgencyStatus.ACTIVE
    assert not issuers.isAccredited(UNIVERSITY, DEGREE)
    assert plain(issuers.signerAccreditation(signers["uni"], DEGREE)) == (UNIVERSITY, False)


def test_suspending_unknown_agency_is_refused(issuers, authorities):
    with refused("IssuerAgencyUnknown", EDU):
        issuers.proposeSuspendAgency(EDU, {"from": authorities[0]})


def test_suspending_suspended_agency_is_refused(issuers, accredited, enact, authorities):
    enact("proposeSuspendAgency", UNIVERSITY)

    with refused("IssuerAgencyStatus", UNIVERSITY, AgencyStatus.SUSPENDED):
        issuers.proposeSuspendAgency(UNIVERSITY, {"from": authorities[0]})


def test_reinstating_active_agency_is_refused(issuers, accredited, authorities):
    with refused("IssuerAgencyStatus", UNIVERSITY, AgencyStatus.ACTIVE):
        issuers.proposeReinstateAgency(UNIVERSITY, {"from": authorities[0]})


def test_reinstating_unknown_agency_is_refused(issuers, authorities):
    with refused("IssuerAgencyUnknown", EDU):
        issuers.proposeReinstateAgency(EDU, {"from": authorities[0]})


def test_second_suspension_is_refused_at_execution(issuers, accredited, authorities):
    issuers.proposeSuspendAgency(UNIVERSITY, {"from": authorities[0]})
    issuers.proposeSuspendAgency(UNIVERSITY, {"from": authorities[1]})
    first, second = issuers.proposalCount() - 1, issuers.proposalCount()
    issuers.approve(first, {"from": authorities[2]})

    with refused("IssuerAgencyStatus", UNIVERSITY, AgencyStatus.SUSPENDED):
        issuers.approve(second, {"from": authorities[2]})


# ---------------------------------------------------------------- authorities


def test_majority_adds_authority(issuers, authorities, keyed):
    newcomer = keyed("fourth authority")
    proposed = issuers.proposeAddAuthority(newcomer, {"from": authorities[2]})
    assert_event(
        proposed,
        "ProposalCreated",
        id=1,
        kind=ProposalKind.ADD_AUTHORITY,
        proposer=authorities[2],
        code=ZERO32,
        account=newcomer,
    )
    assert plain(issuers.proposal(1)[7]) == newcomer.address

    tx = issuers.approve(1, {"from": authorities[0]})

    assert_event(tx, "AuthorityAdded", account=newcomer, epoch=1)
    assert_event(tx, "ProposalExecuted", id=1, kind=ProposalKind.ADD_AUTHORITY)
    assert issuers.isAuthority(newcomer)
    assert [address_of(a) for a in issuers.authorities()] == [a.address for a in authorities] + [newcomer.address]
    assert issuers.epoch() == 1
    assert issuers.quorum() == 3


def test_majority_removes_authority(issuers, authorities):
    proposed = issuers.proposeRemoveAuthority(authorities[2], {"from": authorities[0]})
    assert_event(
        proposed,
        "ProposalCreated",
        id=1,
        kind=ProposalKind.REMOVE_AUTHORITY,
        proposer=authorities[0],
        code=ZERO32,
        account=authorities[2],
    )

    tx = issuers.approve(1, {"from": authorities[1]})

    assert_event(tx, "AuthorityRemoved", account=authorities[2], epoch=1)
    assert_event(tx, "ProposalExecuted", id=1, kind=ProposalKind.REMOVE_AUTHORITY)
    assert not issuers.isAuthority(authorities[2])
    assert issuers.epoch() == 1
    assert issuers.quorum() == 2
    assert len(issuers.authorities()) == 2


def test_removed_authority_cannot_propose(issuers, enact, authorities):
    enact("proposeRemoveAuthority", authorities[2])

    with refused("IssuerNotAuthority", authorities[2]):
        issuers.proposeSuspendAgency(EDU, {"from": authorities[2]})


def test_adding_existing_authority_is_refused(issuers, authorities):
    with refused("IssuerAuthorityExists", authorities[1]):
        issuers.proposeAddAuthority(authorities[1], {"from": authorities[0]})


def test_adding_zero_address_as_authority_is_refused(issuers, authorities):
    with refused("IssuerAuthorityExists", ZERO_ADDRESS):
        issuers.proposeAddAuthority(ZERO_ADDRESS, {"from": authorities[0]})


def test_removing_non_authority_is_refused(issuers, authorities, stranger):
    with refused("IssuerAuthorityUnknown", stranger):
        issuers.proposeRemoveAuthority(stranger, {"from": authorities[0]})


def test_last_authority_cannot_be_removed(deployer, identities, authorities):
    solo = IssuerRegistry.deploy([authorities[0]], identities, {"from": deployer})

    with refused("IssuerLastAuthority", authorities[0]):
        solo.proposeRemoveAuthority(authorities[0], {"from": authorities[0]})


# ---------------------------------------------------------------- accreditation history


def test_type_zero_asks_for_the_civil_registry_capability(issuers, accredited, signers):
    """Changed with issue 12: type 0 is no longer refused; licence agencies simply do not hold it."""
    assert not issuers.isAccredited(UNIVERSITY, 0)
    assert not issuers.wasAccreditedAtBlock(UNIVERSITY, 0, chain.height)
    assert not issuers.wasAccreditedAtTime(UNIVERSITY, 0, chain.time())
    assert plain(issuers.signerAccreditation(signers["uni"], 0)) == (UNIVERSITY, False)


def test_agency_index_past_the_end_is_refused(issuers, accredited):
    assert issuers.agencyCount() == 2

    with brownie.reverts("Index out of range"):
        issuers.agencyCodeAt(2)


def test_unknown_proposal_reads_as_empty(issuers):
    assert plain(issuers.proposal(9)) == (0, False, 0, 0, 0, ZERO_ADDRESS, ZERO32, ZERO_ADDRESS, b"")
    assert not issuers.hasApproved(9, issuers.authorities()[0])


def test_unknown_signer_and_agency_are_not_accredited(issuers, stranger):
    assert plain(issuers.signerAccreditation(stranger, DEGREE)) == (ZERO32, False)
    assert not issuers.isAccredited(EDU, DEGREE)
    assert not issuers.wasAccreditedAtBlock(EDU, DEGREE, chain.height)
    assert not issuers.wasAccreditedAtTime(EDU, DEGREE, chain.time())


@pytest.fixture
def timeline(issuers, enact, signers):
    """Ministry and university created, then the university suspended and reinstated, then the
    ministry suspended; 100 s apart, so blocks and times of the steps differ."""
    points = {}

    def step(name, method, *args):
        chain.sleep(100)
        tx = enact(method, *args)
        points[name] = (tx.block_number, tx.timestamp)

    step("ministry", "proposeAddAgency", MINISTRY, "Ministry", [signers["ministry"]], types(DEGREE, BUSINESS), ZERO32)
    step("created", "proposeAddAgency", UNIVERSITY, "University", [signers["uni"]], types(DEGREE), MINISTRY)
    step("suspended", "proposeSuspendAgency", UNIVERSITY)
    step("reinstated", "proposeReinstateAgency", UNIVERSITY)
    step("parent_suspended", "proposeSuspendAgency", MINISTRY)
    return points


@pytest.mark.parametrize(
    "moment, offset, expected",
    [
        ("created", -1, False),  # before creation
        ("created", 0, True),  # from the creating block on
        ("suspended", -1, True),  # while active
        ("suspended", 0, False),  # after suspension
        ("reinstated", -1, False),
        ("reinstated", 0, True),  # after reinstatement
        ("parent_suspended", -1, True),
        ("parent_suspended", 0, False),  # the parent's suspension unaccredits the child
    ],
)
def test_accreditation_history_by_block(issuers, timeline, moment, offset, expected):
    block_number, _ = timeline[moment]

    assert issuers.wasAccreditedAtBlock(UNIVERSITY, DEGREE, block_number + offset) is expected


@pytest.mark.parametrize(
    "moment, offset, expected",
    [
        ("created", -1, False),
        ("created", 0, True),
        ("suspended", -1, True),
        ("suspended", 0, False),
        ("reinstated", -1, False),
        ("reinstated", 0, True),
        ("parent_suspended", -1, True),
        ("parent_suspended", 0, False),
    ],
)
def test_accreditation_history_by_time(issuers, timeline, moment, offset, expected):
    _, timestamp = timeline[moment]

    assert issuers.wasAccreditedAtTime(UNIVERSITY, DEGREE, timestamp + offset) is expected


def test_history_only_covers_the_agencys_types(issuers, timeline):
    block_number, timestamp = timeline["reinstated"]

    assert issuers.wasAccreditedAtBlock(MINISTRY, BUSINESS, block_number)
    assert not issuers.wasAccreditedAtBlock(UNIVERSITY, BUSINESS, block_number)
    assert not issuers.wasAccreditedAtTime(UNIVERSITY, BUSINESS, timestamp)


def test_parent_history_is_its_own(issuers, timeline):
    assert [c[2] for c in issuers.agencyHistory(MINISTRY)] == [True, False]
    assert [c[2] for c in issuers.agencyHistory(UNIVERSITY)] == [True, False, True]
    assert issuers.wasAccreditedAtBlock(MINISTRY, DEGREE, timeline["reinstated"][0])
    assert not issuers.isAccredited(UNIVERSITY, DEGREE)
