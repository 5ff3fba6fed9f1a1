"""LicenseRegistry (degree registry, type 3): issuing, status changes, closing, inspections.

World (conftest): EDU-MIN above EDU-UNI (signers uni, uni2), EDU-OTH (signer other), HLT-AGY
(health only). Each success is checked as return value, event and stored state, with the holder's
record head or access-log head recomputed here.
"""

from types import SimpleNamespace

import pytest
from brownie import chain
from eth_utils import keccak

from conftest import CIVIL_REGISTRY, HEALTH_AGENCY, MINISTRY, OTHER_UNI, UNIVERSITY
from helpers import (
    CLOSE_CITIZENSHIP,
    CLOSE_DEATH,
    CLOSE_OTHER,
    DEGREE,
    NO_END,
    ZERO32,
    ZERO_ADDRESS,
    CheckResult,
    Presentation,
    RecordKind,
    Status,
    access_entry,
    access_head,
    address_of,
    assert_event,
    data_hash,
    extend,
    latest_timestamp,
    licence_id,
    mine_at,
    plain,
    presentation_digest,
    record_entry,
    record_head,
    refused,
    set_next_timestamp,
)

YEAR = 365 * 24 * 3600
CIPHERTEXT = b"ecies: {'degree': 'MSc', 'holder': '...'}"
EVIDENCE = keccak(text="death certificate 2026/123")


# ---------------------------------------------------------------- helpers


def heads(licenses, holder):
    """(recordHead, accessHead) of `holder` as bytes."""
    record = plain(licenses.holderRecord(holder))
    return record[0], record[1]


def issue(licenses, signer, holder, label, valid_from=None, valid_until=None, ciphertext=CIPHERTEXT):
    """Issues a licence and checks return value, event, stored licence and the new record head."""
    now = latest_timestamp()
    valid_from = now - 60 if valid_from is None else valid_from
    valid_until = now + YEAR if valid_until is None else valid_until
    dhash = data_hash(label)
    before, _ = heads(licenses, holder)

    tx = licenses.issue(holder, dhash, valid_from, valid_until, ciphertext, {"from": signer})

    return expect_issued(licenses, tx, holder, dhash, ZERO32, valid_from, valid_until, ciphertext, before)


def renew(licenses, signer, previous, label, valid_from=None, valid_until=None, ciphertext=CIPHERTEXT):
    now = latest_timestamp()
    valid_from = now - 60 if valid_from is None else valid_from
    valid_until = now + YEAR if valid_until is None else valid_until
    dhash = data_hash(label)
    before, _ = heads(licenses, previous.holder)

    tx = licenses.renew(previous.id, dhash, valid_from, valid_until, ciphertext, {"from": signer})

    return expect_issued(licenses, tx, previous.holder, dhash, previous.id, valid_from, valid_until, ciphertext, before)


def expect_issued(licenses, tx, holder, dhash, previous, valid_from, valid_until, ciphertext, head_before):
    agency = plain(tx.events["LicenseIssued"]["agency"])
    lid = licence_id(licenses, dhash, agency)
    head = extend(head_before, record_entry(RecordKind.ISSUED, lid, tx.block_number))

    assert plain(tx.return_value) == lid
    assert plain(licenses.licenceIdOf(agency, dhash)) == lid
    assert_event(
        tx,
        "LicenseIssued",
        licenceId=lid,
        holder=holder,
        agency=agency,
        dataHash=dhash,
        previous=previous,
        validFrom=valid_from,
        validUntil=valid_until,
        recordHead=head,
        ciphertext=ciphertext,
    )
    stored = plain(licenses.licence(lid))
    assert stored[:4] == (address_of(holder), agency, valid_from, valid_until)
    assert stored[4] == licenses.statusOf(lid)
    assert heads(licenses, holder)[0] == head
    return SimpleNamespace(
        id=lid, data_hash=dhash, holder=holder, agency=agency, tx=tx, valid_from=valid_from, valid_until=valid_until
    )


def expect_record_entry(licenses, tx, holder, kind, subject, head_before):
    """The record head moved by exactly one entry (kind, subject, tx block); returns it."""
    head = extend(head_before, record_entry(kind, subject, tx.block_number))
    assert heads(licenses, holder)[0] == head
    return head


def inspect(licenses, inspector, holder, agency, dhash, presentation, expected):
    """Runs `check` as call and as transaction; checks verdict, event and the new access-log head (whose
    entry names the licence the holder signed for)."""
    args = (holder, agency, dhash, presentation.struct, presentation.signature, {"from": inspector})
    _, before = heads(licenses, holder)

    assert licenses.check.call(*args) == expected
    tx = licenses.check(*args)

    lid = presentation.licence
    head = extend(before, access_entry(inspector, lid, expected, tx.block_number))
    assert tx.return_value == expected
    assert_event(
        tx, "LicenseChecked", holder=holder, licenceId=lid, inspector=inspector, result=expected, accessHead=head
    )
    assert heads(licenses, holder)[1] == head
    return tx


def inspect_licence(licenses, inspector, lic, expected):
    """Inspects `lic` as its holder presents it, expecting EDU-UNI as issuer."""
    presentation = Presentation(licenses, lic.holder, lic.id)
    return inspect(licenses, inspector, lic.holder, UNIVERSITY, lic.data_hash, presentation, expected)


@pytest.fixture
def uni(signers):
    return signers["uni"]


@pytest.fixture
def issued(licenses, uni, holder):
    """An active licence of EDU-UNI held by the holder."""
    return issue(licenses, uni, holder, "alice msc")


def present(licenses, holder, lic, **kwargs):
    return Presentation(licenses, holder, lic.id, **kwargs)


def suspend_agency(enact, code):
    enact("proposeSuspendAgency", code)


# ---------------------------------------------------------------- configuration


def test_registry_knows_its_type_and_constants(licenses, identities, issuers):
    assert licenses.certType() == DEGREE
    assert licenses.identities() == identities.address
    assert licenses.issuers() == issuers.address
    assert licenses.MAX_CIPHERTEXT() == 16_384
    assert licenses.CLOSE_DEATH() == CLOSE_DEATH
    assert licenses.CLOSE_CITIZENSHIP() == CLOSE_CITIZENSHIP
    assert licenses.CLOSE_OTHER() == CLOSE_OTHER
    assert plain(licenses.PRESENTATION_TYPEHASH()) == keccak(
        text="Presentation(bytes32 licenceId,bytes32 disclosure,uint64 notAfter,bytes32 nonce)"
    )


def test_eip712_domain_names_this_registry(licenses):
    domain = licenses.eip712Domain()

    assert plain(domain)[1:5] == ("elicense LicenseRegistry", "1", chain.id, licenses.address)


def test_unknown_licence_has_no_status(licenses):
    lid = licence_id(licenses, data_hash("never issued"), UNIVERSITY)

    assert licenses.statusOf(lid) == Status.NONE
    assert plain(licenses.licence(lid)) == (ZERO_ADDRESS, ZERO32, 0, 0, Status.NONE)


def test_fresh_holder_has_empty_record(licenses, holder):
    assert plain(licenses.holderRecord(holder)) == (ZERO32, ZERO32, 0, 0)


# ---------------------------------------------------------------- issue


def test_accredited_signer_issues_licence(licenses, uni, holder):
    lic = issue(licenses, uni, holder, "alice msc")

    assert lic.agency == UNIVERSITY
    assert licenses.statusOf(lic.id) == Status.ACTIVE
    assert heads(licenses, holder)[0] == record_head([(RecordKind.ISSUED, lic.id, lic.tx.block_number)])


def test_licence_id_binds_chain_registry_agency_and_data(licenses):
    dhash = data_hash("anything")

    assert plain(licenses.licenceIdOf(UNIVERSITY, dhash)) == licence_id(licenses, dhash, UNIVERSITY)
    assert licence_id(licenses, dhash, UNIVERSITY) != licence_id(licenses, data_hash("anything else"), UNIVERSITY)
    assert licence_id(licenses, dhash, UNIVERSITY) != licence_id(licenses, dhash, OTHER_UNI)


def test_second_signer_of_the_agency_issues_too(licenses, signers, holder):
    lic = issue(licenses, signers["uni2"], holder, "alice bsc")

    assert lic.agency == UNIVERSITY


def test_each_issue_extends_the_record_chain(licenses, uni, signers, holder):
    first = issue(licenses, uni, holder, "first")
    second = issue(licenses, signers["other"], holder, "second")

    assert heads(licenses, holder)[0] == record_head(
        [(RecordKind.ISSUED, first.id, first.tx.block_number), (RecordKind.ISSUED, second.id, second.tx.block_number)]
    )


def test_open_ended_licence_stays_active(licenses, uni, holder):
    lic = issue(licenses, uni, holder, "open ended", valid_until=NO_END)
    chain.sleep(50 * YEAR)
    chain.mine()

    assert licenses.statusOf(lic.id) == Status.ACTIVE


def test_largest_ciphertext_is_accepted(licenses, uni, holder):
    issue(licenses, uni, holder, "big", ciphertext=b"\x01" * 16_384)


def test_stranger_cannot_issue(licenses, holder, stranger):
    with refused("LicenseNotAccredited", stranger, DEGREE):
        licenses.issue(holder, data_hash("x"), 0, NO_END, CIPHERTEXT, {"from": stranger})


def test_agency_without_the_type_cannot_issue(licenses, signers, holder):
    with refused("LicenseNotAccredited", signers["health"], DEGREE):
        licenses.issue(holder, data_hash("x"), 0, NO_END, CIPHERTEXT, {"from": signers["health"]})


def test_suspended_agency_cannot_issue(licenses, enact, uni, holder):
    suspend_agency(enact, UNIVERSITY)

    with refused("LicenseNotAccredited", uni, DEGREE):
        licenses.issue(holder, data_hash("x"), 0, NO_END, CIPHERTEXT, {"from": uni})


def test_agency_under_suspended_parent_cannot_issue(licenses, enact, uni, holder):
    suspend_agency(enact, MINISTRY)

    with refused("LicenseNotAccredited", uni, DEGREE):
        licenses.issue(holder, data_hash("x"), 0, NO_END, CIPHERTEXT, {"from": uni})


def test_reinstated_agency_issues_again(licenses, enact, uni, holder):
    suspend_agency(enact, UNIVERSITY)
    enact("proposeReinstateAgency", UNIVERSITY)

    issue(licenses, uni, holder, "after reinstatement")


def test_unregistered_holder_is_refused(licenses, uni, stranger):
    with refused("LicenseHolderUnknown", stranger):
        licenses.issue(stranger, data_hash("x"), 0, NO_END, CIPHERTEXT, {"from": uni})


def test_inspector_cannot_hold_a_licence(licenses, uni, inspector):
    with refused("LicenseHolderUnknown", inspector):
        licenses.issue(inspector, data_hash("x"), 0, NO_END, CIPHERTEXT, {"from": uni})


def test_empty_data_hash_is_refused(licenses, uni, holder):
    with refused("LicenseDataHashEmpty"):
        licenses.issue(holder, ZERO32, 0, NO_END, CIPHERTEXT, {"from": uni})


@pytest.mark.parametrize("start, end", [(100, 100), (200, 100)], ids=["empty", "reversed"])
def test_validity_must_end_after_it_starts(licenses, uni, holder, start, end):
    now = latest_timestamp()

    with refused("LicenseValidityInvalid", now + start, now + end):
        licenses.issue(holder, data_hash("x"), now + start, now + end, CIPHERTEXT, {"from": uni})


def test_validity_ending_at_issuance_is_refused(licenses, uni, holder):
    at = latest_timestamp() + 10
    set_next_timestamp(at)

    with refused("LicenseValidityInvalid", 0, at):
        licenses.issue(holder, data_hash("x"), 0, at, CIPHERTEXT, {"from": uni})


def test_validity_ending_a_second_after_issuance_is_accepted(licenses, uni, holder):
    at = latest_timestamp() + 10
    set_next_timestamp(at)

    lic = issue(licenses, uni, holder, "short", valid_from=0, valid_until=at + 1)

    assert lic.tx.timestamp == at
    assert licenses.statusOf(lic.id) == Status.ACTIVE


def test_expired_validity_is_refused(licenses, uni, holder):
    now = latest_timestamp()

    with refused("LicenseValidityInvalid", now - YEAR, now - 1):
        licenses.issue(holder, data_hash("x"), now - YEAR, now - 1, CIPHERTEXT, {"from": uni})


@pytest.mark.parametrize("length", [0, 16_385])
def test_ciphertext_must_be_present_and_bounded(licenses, uni, holder, length):
    with refused("LicenseCiphertextInvalid", length):
        licenses.issue(holder, data_hash("x"), 0, NO_END, b"\x01" * length, {"from": uni})


def test_replayed_issuance_is_refused(licenses, uni, holder, issued):
    with refused("LicenseAlreadyIssued", issued.id):
        licenses.issue(holder, issued.data_hash, 0, NO_END, CIPHERTEXT, {"from": uni})


def test_same_data_hash_from_another_agency_is_another_licence(licenses, signers, other_holder, issued):
    """Changed with issue 12: the id binds the agency, so a copied data hash cannot capture the original."""
    copy = issue(licenses, signers["other"], other_holder, "alice msc")

    assert copy.data_hash == issued.data_hash and copy.id != issued.id
    assert copy.agency == OTHER_UNI
    assert plain(licenses.licence(issued.id))[:2] == (address_of(issued.holder), UNIVERSITY)
    with refused("LicenseNotIssuer", issued.id, signers["other"]):
        licenses.revoke(issued.id, 1, {"from": signers["other"]})


def test_closed_record_refuses_new_licences(civil, licenses, uni, holder):
    licenses.closeRecord(holder, CLOSE_DEATH, EVIDENCE, {"from": civil})

    with refused("LicenseRecordClosed", holder):
        licenses.issue(holder, data_hash("x"), 0, NO_END, CIPHERTEXT, {"from": uni})


# ---------------------------------------------------------------- time


def test_future_licence_is_not_yet_valid_until_it_starts(licenses, uni, holder):
    start = latest_timestamp() + 1000
    lic = issue(licenses, uni, holder, "future", valid_from=start, valid_until=start + YEAR)
    assert licenses.statusOf(lic.id) == Status.NOT_YET_VALID

    mine_at(start - 1)
    assert licenses.statusOf(lic.id) == Status.NOT_YET_VALID
    mine_at(start)
    assert licenses.statusOf(lic.id) == Status.ACTIVE


def test_licence_expires_at_valid_until(licenses, uni, holder):
    end = latest_timestamp() + 1000
    lic = issue(licenses, uni, holder, "expiring", valid_until=end)

    mine_at(end - 1)
    assert licenses.statusOf(lic.id) == Status.ACTIVE
    mine_at(end)
    assert licenses.statusOf(lic.id) == Status.EXPIRED
    assert plain(licenses.licence(lic.id))[4] == Status.EXPIRED


def test_licence_expires_after_sleeping_past_its_end(licenses, uni, holder):
    lic = issue(licenses, uni, holder, "expiring", valid_until=latest_timestamp() + 1000)

    chain.sleep(2000)
    chain.mine()

    assert licenses.statusOf(lic.id) == Status.EXPIRED


# ---------------------------------------------------------------- renew


def test_issuing_agency_renews_licence(licenses, signers, issued):
    successor = renew(licenses, signers["uni2"], issued, "alice msc 2027")

    assert licenses.statusOf(issued.id) == Status.RENEWED
    assert licenses.statusOf(successor.id) == Status.ACTIVE
    assert successor.holder == issued.holder
    assert successor.agency == UNIVERSITY
    assert "LicenseSuspended" not in successor.tx.events
    # The renewal adds one entry, the successor's issuance.
    assert heads(licenses, issued.holder)[0] == record_head(
        [
            (RecordKind.ISSUED, issued.id, issued.tx.block_number),
            (RecordKind.ISSUED, successor.id, successor.tx.block_number),
        ]
    )


def test_suspended_licence_can_be_renewed(licenses, uni, issued):
    licenses.suspend(issued.id, 1, {"from": uni})

    successor = renew(licenses, uni, issued, "renewed after suspension")

    assert licenses.statusOf(issued.id) == Status.RENEWED
    assert licenses.statusOf(successor.id) == Status.ACTIVE


def test_expired_licence_can_be_renewed(licenses, uni, holder):
    lic = issue(licenses, uni, holder, "expiring", valid_until=latest_timestamp() + 100)
    chain.sleep(200)
    chain.mine()
    assert licenses.statusOf(lic.id) == Status.EXPIRED

    successor = renew(licenses, uni, lic, "renewed after expiry")

    assert licenses.statusOf(lic.id) == Status.RENEWED
    assert licenses.statusOf(successor.id) == Status.ACTIVE


def test_revoked_licence_cannot_be_renewed(licenses, uni, issued):
    licenses.revoke(issued.id, 1, {"from": uni})

    with refused("LicenseStatusInvalid", issued.id, Status.REVOKED):
        licenses.renew(issued.id, data_hash("y"), 0, NO_END, CIPHERTEXT, {"from": uni})


def test_renewed_licence_cannot_be_renewed_again(licenses, uni, issued):
    renew(licenses, uni, issued, "first renewal")

    with refused("LicenseStatusInvalid", issued.id, Status.RENEWED):
        licenses.renew(issued.id, data_hash("second renewal"), 0, NO_END, CIPHERTEXT, {"from": uni})


def test_other_agency_cannot_renew(licenses, signers, issued):
    with refused("LicenseNotIssuer", issued.id, signers["other"]):
        licenses.renew(issued.id, data_hash("y"), 0, NO_END, CIPHERTEXT, {"from": signers["other"]})


def test_parent_agency_cannot_renew_childs_licence(licenses, signers, issued):
    with refused("LicenseNotIssuer", issued.id, signers["ministry"]):
        licenses.renew(issued.id, data_hash("y"), 0, NO_END, CIPHERTEXT, {"from": signers["ministry"]})


def test_stranger_cannot_renew(licenses, stranger, issued):
    with refused("LicenseNotAccredited", stranger, DEGREE):
        licenses.renew(issued.id, data_hash("y"), 0, NO_END, CIPHERTEXT, {"from": stranger})


def test_suspended_agency_cannot_renew(licenses, enact, uni, issued):
    suspend_agency(enact, UNIVERSITY)

    with refused("LicenseNotAccredited", uni, DEGREE):
        licenses.renew(issued.id, data_hash("y"), 0, NO_END, CIPHERTEXT, {"from": uni})


def test_renewing_unknown_licence_is_refused(licenses, uni):
    unknown = licence_id(licenses, data_hash("never issued"), UNIVERSITY)

    with refused("LicenseUnknown", unknown):
        licenses.renew(unknown, data_hash("y"), 0, NO_END, CIPHERTEXT, {"from": uni})


def test_renewal_with_a_used_data_hash_is_refused(licenses, uni, issued):
    with refused("LicenseAlreadyIssued", issued.id):
        licenses.renew(issued.id, issued.data_hash, 0, NO_END, CIPHERTEXT, {"from": uni})
    assert licenses.statusOf(issued.id) == Status.ACTIVE


def test_renewal_with_invalid_validity_leaves_licence_active(licenses, uni, issued):
    now = latest_timestamp()

    with refused("LicenseValidityInvalid", now, now):
        licenses.renew(issued.id, data_hash("y"), now, now, CIPHERTEXT, {"from": uni})
    assert licenses.statusOf(issued.id) == Status.ACTIVE


def test_renewal_into_closed_record_is_refused(civil, licenses, uni, issued):
    licenses.closeRecord(issued.holder, CLOSE_OTHER, EVIDENCE, {"from": civil})

    with refused("LicenseRecordClosed", issued.holder):
        licenses.renew(issued.id, data_hash("y"), 0, NO_END, CIPHERTEXT, {"from": uni})
    assert licenses.statusOf(issued.id) == Status.RECORD_CLOSED


# ---------------------------------------------------------------- suspend


def test_issuing_agency_suspends_licence(licenses, uni, issued):
    before, _ = heads(licenses, issued.holder)

    tx = licenses.suspend(issued.id, 7, {"from": uni})

    head = expect_record_entry(licenses, tx, issued.holder, RecordKind.SUSPENDED, issued.id, before)
    assert tx.return_value is None
    assert_event(tx, "LicenseSuspended", licenceId=issued.id, holder=issued.holder, reason=7, recordHead=head)
    assert licenses.statusOf(issued.id) == Status.SUSPENDED


def test_not_yet_valid_licence_can_be_suspended(licenses, uni, holder):
    start = latest_timestamp() + 1000
    lic = issue(licenses, uni, holder, "future", valid_from=start, valid_until=start + YEAR)

    licenses.suspend(lic.id, 1, {"from": uni})

    assert licenses.statusOf(lic.id) == Status.SUSPENDED


def test_suspended_agency_can_still_suspend_its_licence(licenses, enact, uni, issued):
    suspend_agency(enact, UNIVERSITY)

    licenses.suspend(issued.id, 1, {"from": uni})

    assert licenses.statusOf(issued.id) == Status.SUSPENDED


def test_stranger_cannot_suspend(licenses, stranger, issued):
    with refused("LicenseNotIssuer", issued.id, stranger):
        licenses.suspend(issued.id, 1, {"from": stranger})


def test_other_agency_cannot_suspend(licenses, signers, issued):
    with refused("LicenseNotIssuer", issued.id, signers["other"]):
        licenses.suspend(issued.id, 1, {"from": signers["other"]})


def test_suspending_unknown_licence_is_refused(licenses, uni):
    unknown = licence_id(licenses, data_hash("never issued"), UNIVERSITY)

    with refused("LicenseUnknown", unknown):
        licenses.suspend(unknown, 1, {"from": uni})


def test_suspending_suspended_licence_is_refused(licenses, uni, issued):
    licenses.suspend(issued.id, 1, {"from": uni})

    with refused("LicenseStatusInvalid", issued.id, Status.SUSPENDED):
        licenses.suspend(issued.id, 1, {"from": uni})


def test_suspending_revoked_licence_is_refused(licenses, uni, issued):
    licenses.revoke(issued.id, 1, {"from": uni})

    with refused("LicenseStatusInvalid", issued.id, Status.REVOKED):
        licenses.suspend(issued.id, 1, {"from": uni})


def test_suspending_renewed_licence_is_refused(licenses, uni, issued):
    renew(licenses, uni, issued, "renewal")

    with refused("LicenseStatusInvalid", issued.id, Status.RENEWED):
        licenses.suspend(issued.id, 1, {"from": uni})


def test_suspending_expired_licence_is_refused(licenses, uni, holder):
    lic = issue(licenses, uni, holder, "expiring", valid_until=latest_timestamp() + 100)
    chain.sleep(200)

    with refused("LicenseStatusInvalid", lic.id, Status.EXPIRED):
        licenses.suspend(lic.id, 1, {"from": uni})


def test_suspending_in_closed_record_is_refused(civil, licenses, uni, issued):
    licenses.closeRecord(issued.holder, CLOSE_DEATH, EVIDENCE, {"from": civil})

    with refused("LicenseStatusInvalid", issued.id, Status.RECORD_CLOSED):
        licenses.suspend(issued.id, 1, {"from": uni})


# ---------------------------------------------------------------- reinstate


def test_issuing_agency_reinstates_licence(licenses, uni, issued):
    licenses.suspend(issued.id, 1, {"from": uni})
    before, _ = heads(licenses, issued.holder)

    tx = licenses.reinstate(issued.id, {"from": uni})

    head = expect_record_entry(licenses, tx, issued.holder, RecordKind.REINSTATED, issued.id, before)
    assert tx.return_value is None
    assert_event(tx, "LicenseReinstated", licenceId=issued.id, holder=issued.holder, recordHead=head)
    assert licenses.statusOf(issued.id) == Status.ACTIVE


def test_reinstated_licence_that_ran_out_is_expired(licenses, uni, holder):
    lic = issue(licenses, uni, holder, "expiring", valid_until=latest_timestamp() + 100)
    licenses.suspend(lic.id, 1, {"from": uni})
    chain.sleep(200)

    licenses.reinstate(lic.id, {"from": uni})

    assert licenses.statusOf(lic.id) == Status.EXPIRED


def test_reinstating_active_licence_is_refused(licenses, uni, issued):
    with refused("LicenseStatusInvalid", issued.id, Status.ACTIVE):
        licenses.reinstate(issued.id, {"from": uni})


def test_reinstating_revoked_licence_is_refused(licenses, uni, issued):
    licenses.suspend(issued.id, 1, {"from": uni})
    licenses.revoke(issued.id, 1, {"from": uni})

    with refused("LicenseStatusInvalid", issued.id, Status.REVOKED):
        licenses.reinstate(issued.id, {"from": uni})


def test_suspended_agency_cannot_reinstate(licenses, enact, uni, issued):
    licenses.suspend(issued.id, 1, {"from": uni})
    suspend_agency(enact, UNIVERSITY)

    with refused("LicenseNotAccredited", uni, DEGREE):
        licenses.reinstate(issued.id, {"from": uni})


def test_other_agency_cannot_reinstate(licenses, uni, signers, issued):
    licenses.suspend(issued.id, 1, {"from": uni})

    with refused("LicenseNotIssuer", issued.id, signers["other"]):
        licenses.reinstate(issued.id, {"from": signers["other"]})


def test_reinstating_unknown_licence_is_refused(licenses, uni):
    unknown = licence_id(licenses, data_hash("never issued"), UNIVERSITY)

    with refused("LicenseUnknown", unknown):
        licenses.reinstate(unknown, {"from": uni})


def test_reinstating_in_closed_record_is_refused(civil, licenses, uni, issued):
    licenses.suspend(issued.id, 1, {"from": uni})
    licenses.closeRecord(issued.holder, CLOSE_DEATH, EVIDENCE, {"from": civil})

    with refused("LicenseRecordClosed", issued.holder):
        licenses.reinstate(issued.id, {"from": uni})


# ---------------------------------------------------------------- revoke


def test_issuing_agency_revokes_licence(licenses, signers, issued):
    before, _ = heads(licenses, issued.holder)

    tx = licenses.revoke(issued.id, 3, {"from": signers["uni2"]})

    head = expect_record_entry(licenses, tx, issued.holder, RecordKind.REVOKED, issued.id, before)
    assert tx.return_value is None
    assert_event(tx, "LicenseRevoked", licenceId=issued.id, holder=issued.holder, reason=3, recordHead=head)
    assert licenses.statusOf(issued.id) == Status.REVOKED


def test_suspended_agency_can_still_revoke_its_licence(licenses, enact, uni, issued):
    suspend_agency(enact, UNIVERSITY)

    tx = licenses.revoke(issued.id, 1, {"from": uni})

    head = heads(licenses, issued.holder)[0]
    assert_event(tx, "LicenseRevoked", licenceId=issued.id, holder=issued.holder, reason=1, recordHead=head)
    assert licenses.statusOf(issued.id) == Status.REVOKED


def test_agency_under_suspended_parent_can_still_revoke(licenses, enact, uni, issued):
    suspend_agency(enact, MINISTRY)

    licenses.revoke(issued.id, 1, {"from": uni})

    assert licenses.statusOf(issued.id) == Status.REVOKED


def test_suspended_licence_can_be_revoked(licenses, uni, issued):
    licenses.suspend(issued.id, 1, {"from": uni})

    licenses.revoke(issued.id, 1, {"from": uni})

    assert licenses.statusOf(issued.id) == Status.REVOKED


def test_revoking_twice_is_refused(licenses, uni, issued):
    licenses.revoke(issued.id, 1, {"from": uni})

    with refused("LicenseStatusInvalid", issued.id, Status.REVOKED):
        licenses.revoke(issued.id, 1, {"from": uni})


def test_stranger_cannot_revoke(licenses, stranger, issued):
    with refused("LicenseNotIssuer", issued.id, stranger):
        licenses.revoke(issued.id, 1, {"from": stranger})


def test_other_agency_cannot_revoke(licenses, signers, issued):
    with refused("LicenseNotIssuer", issued.id, signers["other"]):
        licenses.revoke(issued.id, 1, {"from": signers["other"]})


def test_revoking_unknown_licence_is_refused(licenses, uni):
    unknown = licence_id(licenses, data_hash("never issued"), UNIVERSITY)

    with refused("LicenseUnknown", unknown):
        licenses.revoke(unknown, 1, {"from": uni})


def test_revoking_in_closed_record_is_refused(civil, licenses, uni, issued):
    licenses.closeRecord(issued.holder, CLOSE_DEATH, EVIDENCE, {"from": civil})
    closed_head = heads(licenses, issued.holder)[0]

    with refused("LicenseRecordClosed", issued.holder):
        licenses.revoke(issued.id, 1, {"from": uni})
    assert heads(licenses, issued.holder)[0] == closed_head
    assert licenses.statusOf(issued.id) == Status.RECORD_CLOSED


# ---------------------------------------------------------------- close


@pytest.mark.parametrize("reason", [CLOSE_DEATH, CLOSE_CITIZENSHIP, CLOSE_OTHER])
def test_civil_registry_closes_record(civil, licenses, uni, issued, reason):
    before, _ = heads(licenses, issued.holder)

    tx = licenses.closeRecord(issued.holder, reason, EVIDENCE, {"from": civil})

    head = expect_record_entry(licenses, tx, issued.holder, RecordKind.CLOSED, EVIDENCE, before)
    assert tx.return_value is None
    assert_event(
        tx, "RecordClosed", holder=issued.holder, agency=CIVIL_REGISTRY, reason=reason, evidence=EVIDENCE, recordHead=head
    )
    assert plain(licenses.holderRecord(issued.holder)) == (head, ZERO32, tx.timestamp, reason)
    assert licenses.statusOf(issued.id) == Status.RECORD_CLOSED


@pytest.mark.parametrize("name", ["uni", "other", "ministry"])
def test_licence_agencies_cannot_close(licenses, signers, issued, name):
    """Closing is a civil-registry act: accreditation for the type, even the issuer's own, is not enough."""
    with refused("LicenseNotCivilRegistry", signers[name]):
        licenses.closeRecord(issued.holder, CLOSE_DEATH, EVIDENCE, {"from": signers[name]})

    assert licenses.statusOf(issued.id) == Status.ACTIVE


def test_record_without_licences_can_be_closed(civil, licenses, uni, other_holder):
    tx = licenses.closeRecord(other_holder, CLOSE_CITIZENSHIP, EVIDENCE, {"from": civil})

    assert heads(licenses, other_holder)[0] == record_head([(RecordKind.CLOSED, EVIDENCE, tx.block_number)])


def test_closing_leaves_revoked_and_renewed_statuses(civil, licenses, uni, holder):
    revoked = issue(licenses, uni, holder, "to revoke")
    renewed = issue(licenses, uni, holder, "to renew")
    licenses.revoke(revoked.id, 1, {"from": uni})
    successor = renew(licenses, uni, renewed, "successor")

    licenses.closeRecord(holder, CLOSE_DEATH, EVIDENCE, {"from": civil})

    assert licenses.statusOf(revoked.id) == Status.REVOKED
    assert licenses.statusOf(renewed.id) == Status.RENEWED
    assert licenses.statusOf(successor.id) == Status.RECORD_CLOSED


@pytest.mark.parametrize("reason", [0, 4, 255])
def test_unknown_close_reason_is_refused(civil, licenses, uni, holder, reason):
    with refused("LicenseReasonInvalid", reason):
        licenses.closeRecord(holder, reason, EVIDENCE, {"from": civil})


def test_stranger_cannot_close(licenses, stranger, holder):
    with refused("LicenseNotCivilRegistry", stranger):
        licenses.closeRecord(holder, CLOSE_DEATH, EVIDENCE, {"from": stranger})


def test_agency_of_another_type_cannot_close(licenses, signers, holder):
    with refused("LicenseNotCivilRegistry", signers["health"]):
        licenses.closeRecord(holder, CLOSE_DEATH, EVIDENCE, {"from": signers["health"]})


def test_suspended_civil_registry_cannot_close(civil, licenses, enact, holder):
    suspend_agency(enact, CIVIL_REGISTRY)

    with refused("LicenseNotCivilRegistry", civil):
        licenses.closeRecord(holder, CLOSE_DEATH, EVIDENCE, {"from": civil})


def test_closing_unregistered_holder_is_refused(civil, licenses, uni, stranger):
    with refused("LicenseHolderUnknown", stranger):
        licenses.closeRecord(stranger, CLOSE_DEATH, EVIDENCE, {"from": civil})


def test_closing_twice_is_refused(civil, licenses, uni, holder):
    licenses.closeRecord(holder, CLOSE_DEATH, EVIDENCE, {"from": civil})

    with refused("LicenseRecordClosed", holder):
        licenses.closeRecord(holder, CLOSE_OTHER, EVIDENCE, {"from": civil})


def test_full_history_recomputes_from_events(civil, licenses, uni, holder):
    first = issue(licenses, uni, holder, "first")
    second = issue(licenses, uni, holder, "second")
    suspended = licenses.suspend(first.id, 1, {"from": uni})
    reinstated = licenses.reinstate(first.id, {"from": uni})
    revoked = licenses.revoke(second.id, 2, {"from": uni})
    closed = licenses.closeRecord(holder, CLOSE_OTHER, EVIDENCE, {"from": civil})

    entries = [
        (RecordKind.ISSUED, first.id, first.tx.block_number),
        (RecordKind.ISSUED, second.id, second.tx.block_number),
        (RecordKind.SUSPENDED, first.id, suspended.block_number),
        (RecordKind.REINSTATED, first.id, reinstated.block_number),
        (RecordKind.REVOKED, second.id, revoked.block_number),
        (RecordKind.CLOSED, EVIDENCE, closed.block_number),
    ]
    assert heads(licenses, holder)[0] == record_head(entries)
    assert plain(closed.events["RecordClosed"]["recordHead"]) == record_head(entries)


# ---------------------------------------------------------------- presentations


def test_eth_account_digest_equals_contract_digest(licenses, holder, issued):
    presentation = present(licenses, holder, issued, not_after=2**64 - 1)

    contract_digest = plain(licenses.presentationDigest(presentation.struct))

    assert contract_digest == presentation.digest
    assert contract_digest == presentation_digest(
        licenses, issued.id, presentation.disclosure, presentation.not_after, presentation.nonce
    )


def test_digest_changes_with_every_field(licenses, holder, issued):
    base = present(licenses, holder, issued, nonce=b"\x01" * 32, not_after=1000)
    variants = [
        (b"\x02" * 32, base.disclosure, 1000, base.nonce),
        (issued.id, b"\x02" * 32, 1000, base.nonce),
        (issued.id, base.disclosure, 1001, base.nonce),
        (issued.id, base.disclosure, 1000, b"\x02" * 32),
    ]
    digests = {plain(licenses.presentationDigest(v)) for v in variants} | {base.digest}

    assert len(digests) == 5


# ---------------------------------------------------------------- check: every verdict


def test_inspector_checks_valid_presentation(licenses, inspector, holder, issued):
    presentation = present(licenses, holder, issued)

    inspect(licenses, inspector, holder, UNIVERSITY, issued.data_hash, presentation, CheckResult.VALID)

    assert licenses.presentationUsed(presentation.digest)


def test_presentation_signed_by_someone_else_is_bad_signature(licenses, inspector, holder, other_holder, issued):
    presentation = Presentation(licenses, other_holder, issued.id)

    inspect(licenses, inspector, holder, UNIVERSITY, issued.data_hash, presentation, CheckResult.BAD_SIGNATURE)

    assert not licenses.presentationUsed(presentation.digest)


def test_tampered_presentation_is_bad_signature(licenses, inspector, holder, issued):
    presentation = present(licenses, holder, issued)
    presentation.not_after += 3600  # the signature covered the earlier deadline

    inspect(licenses, inspector, holder, UNIVERSITY, issued.data_hash, presentation, CheckResult.BAD_SIGNATURE)


@pytest.mark.parametrize(
    "signature", [b"", b"\x11" * 64, b"\x11" * 65, b"\x00" * 65], ids=["empty", "short", "garbage", "zero"]
)
def test_malformed_signature_is_bad_signature(licenses, inspector, holder, issued, signature):
    presentation = present(licenses, holder, issued)
    presentation.signature = signature

    inspect(licenses, inspector, holder, UNIVERSITY, issued.data_hash, presentation, CheckResult.BAD_SIGNATURE)


def test_stale_presentation_is_presentation_expired(licenses, inspector, holder, issued):
    presentation = present(licenses, holder, issued, not_after=latest_timestamp() - 1)

    inspect(licenses, inspector, holder, UNIVERSITY, issued.data_hash, presentation, CheckResult.PRESENTATION_EXPIRED)

    assert not licenses.presentationUsed(presentation.digest)


def test_presentation_valid_until_its_last_second(licenses, inspector, holder, issued):
    at = latest_timestamp() + 10
    presentation = present(licenses, holder, issued, not_after=at)
    set_next_timestamp(at)

    tx = licenses.check(
        holder, UNIVERSITY, issued.data_hash, presentation.struct, presentation.signature, {"from": inspector}
    )

    assert tx.timestamp == at
    assert tx.return_value == CheckResult.VALID


def test_replayed_presentation_is_recorded_as_replayed(licenses, inspector, holder, issued):
    presentation = present(licenses, holder, issued)
    first = inspect(licenses, inspector, holder, UNIVERSITY, issued.data_hash, presentation, CheckResult.VALID)

    replayed = CheckResult.PRESENTATION_REPLAYED
    second = inspect(licenses, inspector, holder, UNIVERSITY, issued.data_hash, presentation, replayed)

    assert heads(licenses, holder)[1] == access_head(
        [
            (inspector, issued.id, CheckResult.VALID, first.block_number),
            (inspector, issued.id, CheckResult.PRESENTATION_REPLAYED, second.block_number),
        ]
    )


def test_presentation_for_other_data_is_data_mismatch(licenses, inspector, holder, issued):
    presentation = present(licenses, holder, issued)
    other_data = data_hash("forged fields")

    inspect(licenses, inspector, holder, UNIVERSITY, other_data, presentation, CheckResult.DATA_MISMATCH)

    # The presentation was consumed: it cannot be retried with the right data.
    inspect(licenses, inspector, holder, UNIVERSITY, issued.data_hash, presentation, CheckResult.PRESENTATION_REPLAYED)


def test_never_issued_licence_is_unknown(licenses, inspector, holder):
    dhash = data_hash("never issued")
    presentation = Presentation(licenses, holder, licence_id(licenses, dhash, UNIVERSITY))

    inspect(licenses, inspector, holder, UNIVERSITY, dhash, presentation, CheckResult.UNKNOWN_LICENCE)


def test_licence_of_another_holder_is_wrong_holder(licenses, inspector, other_holder, issued):
    presentation = Presentation(licenses, other_holder, issued.id)

    inspect(licenses, inspector, other_holder, UNIVERSITY, issued.data_hash, presentation, CheckResult.WRONG_HOLDER)


@pytest.mark.parametrize("expected_agency", [OTHER_UNI, MINISTRY, HEALTH_AGENCY, ZERO32])
def test_licence_from_another_agency_is_wrong_issuer(licenses, inspector, holder, issued, expected_agency):
    presentation = present(licenses, holder, issued)

    inspect(licenses, inspector, holder, expected_agency, issued.data_hash, presentation, CheckResult.WRONG_ISSUER)


def test_suspended_licence_checks_as_suspended(licenses, inspector, uni, holder, issued):
    licenses.suspend(issued.id, 1, {"from": uni})

    inspect_licence(licenses, inspector, issued, CheckResult.SUSPENDED)


def test_revoked_licence_checks_as_revoked(licenses, inspector, uni, holder, issued):
    licenses.revoke(issued.id, 1, {"from": uni})

    inspect_licence(licenses, inspector, issued, CheckResult.REVOKED)


def test_renewed_licence_checks_as_renewed(licenses, inspector, uni, holder, issued):
    successor = renew(licenses, uni, issued, "successor")

    inspect_licence(licenses, inspector, issued, CheckResult.RENEWED)
    inspect_licence(licenses, inspector, successor, CheckResult.VALID)


def test_expired_licence_checks_as_expired(licenses, inspector, uni, holder):
    lic = issue(licenses, uni, holder, "expiring", valid_until=latest_timestamp() + 100)
    chain.sleep(200)
    chain.mine()

    inspect_licence(licenses, inspector, lic, CheckResult.EXPIRED)


def test_future_licence_checks_as_not_yet_valid(licenses, inspector, uni, holder):
    start = latest_timestamp() + 1000
    lic = issue(licenses, uni, holder, "future", valid_from=start, valid_until=start + YEAR)

    inspect_licence(licenses, inspector, lic, CheckResult.NOT_YET_VALID)


def test_licence_in_closed_record_checks_as_record_closed(civil, licenses, inspector, uni, holder, issued):
    licenses.closeRecord(holder, CLOSE_DEATH, EVIDENCE, {"from": civil})

    inspect_licence(licenses, inspector, issued, CheckResult.RECORD_CLOSED)


def test_suspended_licence_in_closed_record_checks_as_record_closed(civil, licenses, inspector, uni, holder, issued):
    licenses.suspend(issued.id, 1, {"from": uni})
    licenses.closeRecord(holder, CLOSE_DEATH, EVIDENCE, {"from": civil})

    inspect_licence(licenses, inspector, issued, CheckResult.RECORD_CLOSED)


def test_access_log_chains_every_inspection(licenses, inspector, uni, holder, other_holder, issued):
    valid = inspect_licence(licenses, inspector, issued, CheckResult.VALID)
    forged = Presentation(licenses, other_holder, issued.id)
    bad = inspect(licenses, inspector, holder, UNIVERSITY, issued.data_hash, forged, CheckResult.BAD_SIGNATURE)
    suspension = licenses.suspend(issued.id, 1, {"from": uni})
    suspended = inspect_licence(licenses, inspector, issued, CheckResult.SUSPENDED)

    assert heads(licenses, holder)[1] == access_head(
        [
            (inspector, issued.id, CheckResult.VALID, valid.block_number),
            (inspector, issued.id, CheckResult.BAD_SIGNATURE, bad.block_number),
            (inspector, issued.id, CheckResult.SUSPENDED, suspended.block_number),
        ]
    )
    # Inspections never touch the record history.
    assert heads(licenses, holder)[0] == record_head(
        [
            (RecordKind.ISSUED, issued.id, issued.tx.block_number),
            (RecordKind.SUSPENDED, issued.id, suspension.block_number),
        ]
    )


@pytest.mark.parametrize("caller", ["holder", "uni", "stranger"])
def test_only_inspectors_may_check(licenses, holder, issued, signers, stranger, caller):
    account = {"holder": holder, "uni": signers["uni"], "stranger": stranger}[caller]
    presentation = present(licenses, holder, issued)

    with refused("LicenseNotInspector", account):
        licenses.check(
            holder, UNIVERSITY, issued.data_hash, presentation.struct, presentation.signature, {"from": account}
        )
    assert not licenses.presentationUsed(presentation.digest)
