"""Issuer governance through the client: three authorities, a proposal takes two approvals.

Accrediting, suspending and reinstating agencies runs on the session's deployment (each test its
own agency code); changing the authority set runs on a deployment of its own, since it changes the
quorum for everyone.
"""

from __future__ import annotations

import pytest

from conftest import accredit, head, make_agency, register, unique_code
from elicense import Conflict, InvalidInput, NotAllowed, NotFound


def proposal_count(client) -> int:
    return client.chain.call(client.issuers.contract.functions.proposalCount())


def test_the_founding_authorities_need_two_of_three_approvals(client, authorities):
    assert client.issuers.authorities() == [a.address for a in authorities]
    assert client.issuers.quorum() == 2


def test_a_proposal_waits_for_a_second_approval_then_takes_effect(client, authorities):
    signer = register(client, "issuer")
    code = unique_code("EDU")

    proposed = client.issuers.propose_add_agency(authorities[0], code, "University", [signer.address],
                                                 ["degree", "marriage"])

    assert (proposed.executed, proposed.approvals, proposed.needed) == (False, 1, 2)
    assert client.issuers.agency(code) is None
    assert client.issuers.proposal(proposed.proposal_id)["kind"] == "add-agency"
    assert client.issuers.proposal(proposed.proposal_id)["proposer"] == authorities[0].address

    approved = client.issuers.approve(authorities[1], proposed.proposal_id)

    assert approved.proposal_id == proposed.proposal_id
    assert (approved.executed, approved.approvals, approved.needed) == (True, 2, 2)
    agency = client.issuers.agency(code)
    assert (agency.code, agency.name, agency.status) == (code, "University", "active")
    assert agency.cert_types == ("marriage", "degree")
    assert agency.signers == (signer.address,)
    assert client.issuers.agency_of_signer(signer.address) == code
    assert client.issuers.is_accredited(code, 3) and not client.issuers.is_accredited(code, 2)
    assert client.issuers.proposal(proposed.proposal_id)["executed"] is True
    assert code in [a.code for a in client.issuers.agencies()]


def test_an_authority_cannot_approve_twice(client, authorities):
    signer = register(client, "issuer")
    proposed = client.issuers.propose_add_agency(authorities[0], unique_code(), "Twice", [signer.address], ["degree"])
    before = (head(client), client.issuers.proposal(proposed.proposal_id))

    with pytest.raises(Conflict, match=f"{authorities[0].address} already approved proposal {proposed.proposal_id}"):
        client.issuers.approve(authorities[0], proposed.proposal_id)

    assert (head(client), client.issuers.proposal(proposed.proposal_id)) == before


def test_an_executed_proposal_cannot_be_approved_again(client, authorities):
    signer = register(client, "issuer")
    code = unique_code()
    outcome = accredit(client, authorities, code, [signer.address], ["degree"])

    with pytest.raises(Conflict, match=f"proposal {outcome.proposal_id} has already taken effect"):
        client.issuers.approve(authorities[2], outcome.proposal_id)


def test_a_non_authority_cannot_propose(client, agency):
    before = (head(client), proposal_count(client))

    with pytest.raises(NotAllowed, match=f"{agency.signer.address} is not a governing authority"):
        client.issuers.propose_suspend(agency.signer, agency.code)

    assert (head(client), proposal_count(client)) == before
    assert client.issuers.agency(agency.code).status == "active"


def test_a_non_authority_cannot_approve(client, authorities, agency, holder):
    proposed = client.issuers.propose_suspend(authorities[0], agency.code)
    with pytest.raises(NotAllowed, match=f"{holder.address} is not a governing authority"):
        client.issuers.approve(holder, proposed.proposal_id)
    assert client.issuers.proposal(proposed.proposal_id)["approvals"] == 1


def test_approving_an_unknown_proposal_is_not_found(client, authorities):
    unknown = proposal_count(client) + 1000
    with pytest.raises(NotFound, match=f"there is no proposal {unknown}"):
        client.issuers.approve(authorities[1], unknown)


def test_suspension_and_reinstatement_take_two_approvals_each(client, authorities, agency):
    issued_block = head(client)
    suspend = client.issuers.propose_suspend(authorities[0], agency.code)
    assert client.issuers.agency(agency.code).status == "active"
    client.issuers.approve(authorities[2], suspend.proposal_id)

    assert client.issuers.agency(agency.code).status == "suspended"
    assert not client.issuers.is_accredited(agency.code, 3)
    assert client.issuers.was_accredited_at_block(agency.code, 3, issued_block)

    reinstate = client.issuers.propose_reinstate(authorities[1], agency.code)
    assert client.issuers.approve(authorities[0], reinstate.proposal_id).executed
    assert client.issuers.agency(agency.code).status == "active"
    assert client.issuers.is_accredited(agency.code, 3)


def test_suspending_a_suspended_agency_is_a_conflict(client, authorities, agency):
    from conftest import suspend_agency

    suspend_agency(client, authorities, agency.code)
    with pytest.raises(Conflict, match=f"agency {agency.code} is suspended"):
        client.issuers.propose_suspend(authorities[0], agency.code)


def test_reinstating_an_active_agency_is_a_conflict(client, authorities, agency):
    with pytest.raises(Conflict, match=f"agency {agency.code} is active"):
        client.issuers.propose_reinstate(authorities[0], agency.code)


def test_suspending_an_unknown_agency_is_not_found(client, authorities):
    code = unique_code("GHOST")
    with pytest.raises(NotFound, match=f"no agency has organisation code {code}"):
        client.issuers.propose_suspend(authorities[0], code)


def test_an_existing_agency_code_cannot_be_proposed_again(client, authorities, agency):
    signer = register(client, "issuer")
    with pytest.raises(Conflict, match=f"agency {agency.code} already exists"):
        client.issuers.propose_add_agency(authorities[0], agency.code, "Again", [signer.address], ["degree"])


def test_a_signer_of_one_agency_cannot_sign_for_another(client, authorities, agency):
    with pytest.raises(Conflict, match=f"{agency.signer.address} already signs for agency {agency.code}"):
        client.issuers.propose_add_agency(authorities[0], unique_code(), "Other", [agency.signer.address], ["degree"])


def test_a_signer_must_be_a_registered_issuer(client, authorities, holder, stranger):
    for account in (holder, stranger):
        with pytest.raises(NotAllowed, match=f"signer {account.address} is not registered as an issuer identity"):
            client.issuers.propose_add_agency(authorities[0], unique_code(), "Bad", [account.address], ["degree"])


def test_an_agency_needs_a_signer(client, authorities):
    code = unique_code()
    with pytest.raises(InvalidInput, match=f"agency {code} needs at least one signer and one certificate type"):
        client.issuers.propose_add_agency(authorities[0], code, "Empty", [], ["degree"])


def test_a_malformed_signer_address_is_invalid(client, authorities):
    with pytest.raises(InvalidInput, match="malformed signer address '0xabc'"):
        client.issuers.propose_add_agency(authorities[0], unique_code(), "Bad", ["0xabc"], ["degree"])


@pytest.mark.parametrize("code", ["", "X" * 33, "ÄÖ-FI"])
def test_a_malformed_organisation_code_is_invalid(client, authorities, code):
    with pytest.raises(InvalidInput, match="malformed organisation code"):
        client.issuers.propose_suspend(authorities[0], code)


def test_a_child_agency_may_only_issue_what_its_parent_may(client, authorities):
    parent = make_agency(client, authorities, ("degree",), "GOV")
    child = register(client, "issuer")
    code = unique_code("SUB")

    with pytest.raises(NotAllowed, match=f"parent {parent.code} may not issue marriage"):
        client.issuers.propose_add_agency(authorities[0], code, "Child", [child.address], ["marriage"], parent.code)

    accredit(client, authorities, code, [child.address], ["degree"], parent.code)
    assert client.issuers.agency(code).parent == parent.code


# ---------------------------------------------------------------- the authority set (own deployment)


def test_adding_an_authority_raises_the_quorum(fresh_deployment, authorities, stranger):
    gov = fresh_deployment()
    proposed = gov.issuers.propose_add_authority(authorities[0], stranger.address)
    assert gov.issuers.approve(authorities[1], proposed.proposal_id).executed

    assert gov.issuers.authorities() == [a.address for a in authorities] + [stranger.address]
    assert gov.issuers.quorum() == 3


def test_a_proposal_made_before_the_authority_set_changed_is_stale(fresh_deployment, authorities, stranger):
    gov = fresh_deployment()
    signer = register(gov, "issuer")
    code = unique_code()
    pending = gov.issuers.propose_add_agency(authorities[0], code, "Pending", [signer.address], ["degree"])
    change = gov.issuers.propose_add_authority(authorities[1], stranger.address)
    gov.issuers.approve(authorities[2], change.proposal_id)
    before = (head(gov), gov.issuers.proposal(pending.proposal_id))

    stale = f"proposal {pending.proposal_id} is stale: the authority set changed since; propose again"
    with pytest.raises(Conflict, match=stale):
        gov.issuers.approve(authorities[1], pending.proposal_id)

    assert (head(gov), gov.issuers.proposal(pending.proposal_id)) == before
    assert gov.issuers.agency(code) is None


def test_a_removed_authority_can_no_longer_propose(fresh_deployment, authorities):
    gov = fresh_deployment()
    removal = gov.issuers.propose_remove_authority(authorities[0], authorities[2].address)
    assert gov.issuers.approve(authorities[1], removal.proposal_id).executed
    assert gov.issuers.authorities() == [authorities[0].address, authorities[1].address]
    assert gov.issuers.quorum() == 2  # more than half of two

    with pytest.raises(NotAllowed, match=f"{authorities[2].address} is not a governing authority"):
        gov.issuers.propose_add_authority(authorities[2], authorities[2].address)


def test_an_existing_authority_cannot_be_added_again(client, authorities):
    with pytest.raises(Conflict, match=f"{authorities[1].address} is already an authority"):
        client.issuers.propose_add_authority(authorities[0], authorities[1].address)


def test_removing_an_unknown_authority_is_not_found(client, authorities, stranger):
    with pytest.raises(NotFound, match=f"{stranger.address} is not an authority"):
        client.issuers.propose_remove_authority(authorities[0], stranger.address)


def test_the_last_authority_cannot_be_removed(fresh_deployment, authorities):
    alone = fresh_deployment(founders=authorities[:1])
    assert alone.issuers.quorum() == 1
    with pytest.raises(Conflict, match=f"{authorities[0].address} is the last authority and cannot be removed"):
        alone.issuers.propose_remove_authority(authorities[0], authorities[0].address)


def test_a_single_authority_decides_alone(fresh_deployment, authorities):
    alone = fresh_deployment(founders=authorities[:1])
    signer = register(alone, "issuer")
    outcome = alone.issuers.propose_add_agency(authorities[0], unique_code(), "Solo", [signer.address], ["degree"])
    assert (outcome.executed, outcome.approvals, outcome.needed) == (True, 1, 1)
