"""API 3 (check): a presented licence verified step by step, and the inspection recorded on chain.

Every refusal names the step that failed and its stable code; a verdict is never an exception.
"""

from __future__ import annotations

import json
import time

import pytest

from conftest import FIELDS, advance_time, head, issue, make_agency, register
from elicense import NotAllowed, types
from elicense.presentation import CLOCK_SKEW, Presentation, create

STEPS = ["format", "holder-signature", "data", "status", "issuer", "anchored", "recorded"]


def step(verdict, name):
    [found] = [s for s in verdict.steps if s.name == name]
    return found


def codes(verdict) -> dict:
    return {s.name: s.code for s in verdict.steps}


def access_head(client, holder):
    return client.licences("degree").holder_record(holder.address).access_head


def present_and_check(client, inspector_client, issued, fields=None, org=None):
    """The holder presents ``issued`` afresh and the inspector checks it (as from ``org``)."""
    shown = client.present(issued.holder, issued.queried, fields)
    return inspector_client.check(issued.holder.address, org or issued.agency.code, shown)


def expect_valid(verdict):
    assert [s.name for s in verdict.steps] == STEPS
    assert verdict.valid, verdict.steps
    assert verdict.failed_step is None
    assert verdict.result == "valid"


def expect_invalid(verdict, name, code, recorded=None):
    """The verdict is invalid, the first failed step is ``name`` with ``code``, and (when recorded)
    the chain's own check result is ``recorded``."""
    assert not verdict.valid
    assert (verdict.failed_step.name, verdict.failed_step.code) == (name, code), verdict.steps
    if recorded is not None:
        assert verdict.result == recorded
        assert (step(verdict, "recorded").status, step(verdict, "recorded").code) == ("invalid", recorded)


@pytest.fixture
def presented(client, issued):
    """A fresh presentation of the whole licence by its holder."""
    return client.present(issued.holder, issued.queried)


# ---------------------------------------------------------------- allowed paths


def test_a_fresh_presentation_of_an_active_licence_is_valid_and_recorded(client, inspector_client, issued, presented):
    holder = issued.holder
    before = access_head(client, holder)

    verdict = inspector_client.check(holder.address, issued.agency.code, presented)

    expect_valid(verdict)
    assert verdict.fields == FIELDS
    assert verdict.agency == {"code": issued.agency.code, "name": f"Agency {issued.agency.code}"}
    assert step(verdict, "issuer").reason.endswith(f"accredited at block {issued.licence.block_number}")
    receipt = client.chain.w3.eth.get_transaction_receipt(verdict.tx_hash)
    assert receipt["blockNumber"] == verdict.block_number
    assert access_head(client, holder) != before  # the inspection is in the holder's access log


def test_selective_disclosure_verifies_with_the_other_fields_hidden(inspector_client, client, issued):
    shown = client.present(issued.holder, issued.queried, ["degree", "programme"])

    verdict = inspector_client.check(issued.holder.address, issued.agency.code, shown)

    expect_valid(verdict)
    assert verdict.fields == {"degree": "MSc", "programme": "Physics"}
    hidden = [e for e in shown.disclosure["fields"] if "leaf" in e]
    assert len(hidden) == 2
    assert "Alice Example" not in shown.dumps() and "2024-05-31" not in shown.dumps()


def test_a_presentation_disclosing_no_field_still_proves_the_licence(inspector_client, client, issued):
    verdict = present_and_check(client, inspector_client, issued, [])
    expect_valid(verdict)
    assert verdict.fields == {}


@pytest.mark.parametrize("form", ["object", "json", "dict"])
def test_check_accepts_the_presentation_as_object_json_or_dict(client, inspector_client, issued, form):
    p = client.present(issued.holder, issued.queried)
    given = {"object": p, "json": p.dumps(), "dict": p.to_json()}[form]
    expect_valid(inspector_client.check(issued.holder.address, issued.agency.code, given))


def test_checking_without_recording_sends_nothing(client, issued, presented):
    before = (head(client), access_head(client, issued.holder))

    verdict = client.check(issued.holder.address, issued.agency.code, presented, record=False)

    assert verdict.valid
    assert (step(verdict, "recorded").status, step(verdict, "recorded").code) == ("skipped", "not-recorded")
    assert verdict.tx_hash is None
    assert (head(client), access_head(client, issued.holder)) == before


def test_the_verdict_renders_as_json(inspector_client, client, issued):
    shown = client.present(issued.holder, issued.queried)
    shown = json.loads(shown.dumps()) | {"chain_id": 1}
    data = inspector_client.check(issued.holder.address, issued.agency.code, shown).to_json()
    assert data["valid"] is False
    assert data["failed_step"] == {"name": "format", "status": "invalid", "code": "foreign-chain",
                                   "reason": "the presentation is for chain 1, which is not part of this topology"}
    json.dumps(data)


# ---------------------------------------------------------------- the presentation itself


def test_a_replayed_presentation_is_refused(inspector_client, issued, presented):
    holder, code = issued.holder.address, issued.agency.code
    expect_valid(inspector_client.check(holder, code, presented))

    again = inspector_client.check(holder, code, presented)

    expect_invalid(again, "holder-signature", "presentation-replayed", recorded="presentation-replayed")


def test_a_replay_is_caught_even_when_the_check_is_not_recorded(client, inspector_client, issued, presented):
    expect_valid(inspector_client.check(issued.holder.address, issued.agency.code, presented))

    verdict = client.check(issued.holder.address, issued.agency.code, presented, record=False)

    expect_invalid(verdict, "holder-signature", "presentation-replayed")


def test_a_tampered_disclosed_value_fails_the_data_step(inspector_client, issued, presented):
    data = presented.to_json()
    entry = next(e for e in data["disclosure"]["fields"] if e.get("name") == "degree")
    entry["value"] = "PhD"  # the holder signed every field's leaf (presentation.disclosure_commitment), values too

    verdict = inspector_client.check(issued.holder.address, issued.agency.code, data)

    assert (step(verdict, "data").status, step(verdict, "data").code) == ("invalid", "data-mismatch")
    assert verdict.fields["degree"] == "PhD"
    expect_invalid(verdict, "holder-signature", "bad-signature", recorded="bad-signature")


def test_a_tampered_hidden_leaf_fails_the_data_step(client, inspector_client, issued):
    data = client.present(issued.holder, issued.queried, ["degree"]).to_json()
    hidden = next(e for e in data["disclosure"]["fields"] if "leaf" in e)
    hidden["leaf"] = "0x" + "00" * 32

    verdict = inspector_client.check(issued.holder.address, issued.agency.code, data)

    assert (step(verdict, "data").status, step(verdict, "data").code) == ("invalid", "data-mismatch")
    expect_invalid(verdict, "holder-signature", "bad-signature", recorded="bad-signature")


def test_an_expired_presentation_is_refused(client, inspector_client, issued):
    # expired by the verifier's clock, and so by the chain's, which never runs behind it here
    # (clocks that disagree: tests/client/test_freshness.py)
    shown = create(client.licences("degree"), issued.holder, issued.queried.licence_id, issued.agency.code,
                   issued.queried.decrypt(issued.holder.key), ttl=30, now=int(time.time()) - 30 - CLOCK_SKEW - 60)

    verdict = inspector_client.check(issued.holder.address, issued.agency.code, shown)

    expect_invalid(verdict, "holder-signature", "presentation-expired", recorded="presentation-expired")
    assert step(verdict, "status").code == "ok"  # the licence itself is fine


def test_a_presentation_signed_by_someone_else_is_refused(client, inspector_client, issued, other_holder):
    forged = client.present(issued.holder, issued.queried).to_json()
    signed_by_other = other_holder.unsafe_sign_hash(client.licences("degree").presentation_digest(
        *Presentation.parse(forged).signed_tuple()))
    forged["signature"] = "0x" + bytes(signed_by_other.signature).hex()

    verdict = inspector_client.check(issued.holder.address, issued.agency.code, forged)

    expect_invalid(verdict, "holder-signature", "bad-signature", recorded="bad-signature")


def test_a_presentation_for_another_chain_is_foreign(client, inspector_client, issued, presented):
    before = (head(client), access_head(client, issued.holder))
    data = presented.to_json() | {"chain_id": 1}

    verdict = inspector_client.check(issued.holder.address, issued.agency.code, data)

    assert [(s.name, s.status, s.code) for s in verdict.steps] == [("format", "invalid", "foreign-chain")]
    assert not verdict.valid and verdict.tx_hash is None
    assert (head(client), access_head(client, issued.holder)) == before  # nothing recorded


def test_a_presentation_from_another_deployment_names_an_unknown_registry(
        fresh_deployment, inspector_client, client, issued, presented):
    elsewhere = fresh_deployment().deployment.licence_registries[3]
    data = presented.to_json() | {"registry": elsewhere}

    verdict = inspector_client.check(issued.holder.address, issued.agency.code, data)

    expect_invalid(verdict, "format", "unknown-registry")
    assert elsewhere in verdict.failed_step.reason


def test_a_presentation_by_another_holder_than_the_one_named_is_refused(inspector_client, issued, presented,
                                                                        other_holder):
    verdict = inspector_client.check(other_holder.address, issued.agency.code, presented)
    expect_invalid(verdict, "format", "wrong-holder")
    assert verdict.failed_step.reason == \
        f"the presentation is by {issued.holder.address}, not by the holder {other_holder.address}"


@pytest.mark.parametrize("text, fragment", [
    ("not json", "starts neither with EL1: (a QR code) nor with { (JSON)"),
    ("{not json", "the presentation is not JSON"),
    ('{"v": 2}', "not an elicense presentation"),
    ('{"v": 1, "chain_id": 31337}', "lacks the field 'registry'"),
])
def test_a_malformed_presentation_fails_the_format_step(inspector_client, issued, text, fragment):
    verdict = inspector_client.check(issued.holder.address, issued.agency.code, text)
    expect_invalid(verdict, "format", "malformed")
    assert fragment in verdict.failed_step.reason


def test_a_malformed_holder_address_fails_the_format_step(inspector_client, issued, presented):
    verdict = inspector_client.check("0x1234", issued.agency.code, presented)
    expect_invalid(verdict, "format", "malformed")
    assert "malformed holder address '0x1234'" in verdict.failed_step.reason


def test_a_presentation_naming_a_licence_never_issued_is_an_unknown_licence_not_a_crash(client, inspector_client, issued):
    """Changed with issue 12: the data step checks the licence named (signed for), which does not exist."""
    data = client.present(issued.holder, issued.queried).to_json() | {"licence_id": "0x" + "11" * 32}

    verdict = inspector_client.check(issued.holder.address, issued.agency.code, data)

    assert (step(verdict, "data").status, step(verdict, "data").code) == ("invalid", "unknown-licence")
    assert not verdict.valid


# ---------------------------------------------------------------- the licence's status


def test_a_revoked_licence_fails_the_status_step(client, inspector_client, issued):
    issued.agency.client.revoke("degree", issued.licence.licence_id, 2)
    verdict = present_and_check(client, inspector_client, issued)
    expect_invalid(verdict, "status", "revoked", recorded="revoked")
    assert step(verdict, "status").reason == "the licence was revoked"


def test_a_suspended_licence_fails_the_status_step(client, inspector_client, issued):
    issued.agency.client.suspend("degree", issued.licence.licence_id, 1)
    verdict = present_and_check(client, inspector_client, issued)
    expect_invalid(verdict, "status", "suspended", recorded="suspended")


def test_a_reinstated_licence_is_valid_again(client, inspector_client, issued):
    issued.agency.client.suspend("degree", issued.licence.licence_id, 1)
    issued.agency.client.reinstate("degree", issued.licence.licence_id)
    expect_valid(present_and_check(client, inspector_client, issued))


def test_a_renewed_licence_fails_the_status_step_and_its_successor_is_valid(client, inspector_client, issued):
    renewed = issued.agency.client.renew("degree", issued.licence.licence_id, {**FIELDS, "degree": "PhD"})
    holder, code = issued.holder, issued.agency.code

    old = inspector_client.check(holder.address, code, client.present(holder, issued.queried))
    successor = client.query_licence(holder.address, renewed.block_number, renewed.tx_hash)
    new = inspector_client.check(holder.address, code, client.present(holder, successor))

    expect_invalid(old, "status", "renewed", recorded="renewed")
    expect_valid(new)
    assert new.fields["degree"] == "PhD"


def test_a_licence_under_a_closed_record_fails_the_status_step(client, inspector_client, issued, civil):
    civil.client.close_record("degree", issued.holder.address, "death")
    verdict = present_and_check(client, inspector_client, issued)
    expect_invalid(verdict, "status", "record-closed", recorded="record-closed")


def test_an_expired_licence_fails_the_status_step(client, inspector_client, agency, holder):
    now = client.chain.w3.eth.get_block("latest")["timestamp"]
    short = issue(client, agency, holder, {"permit": "temporary"}, valid_from=now - 10, valid_until=now + 600)
    advance_time(client, 1200)

    verdict = inspector_client.check(holder.address, agency.code, client.present(holder, short.queried))

    expect_invalid(verdict, "status", "expired", recorded="expired")


def test_a_licence_not_yet_valid_fails_the_status_step(client, inspector_client, agency, holder):
    now = client.chain.w3.eth.get_block("latest")["timestamp"]
    future = issue(client, agency, holder, {"permit": "next year"}, valid_from=now + 365 * 86_400)

    verdict = inspector_client.check(holder.address, agency.code, client.present(holder, future.queried))

    expect_invalid(verdict, "status", "not-yet-valid", recorded="not-yet-valid")


# ---------------------------------------------------------------- issuer and inspector


def test_a_licence_shown_as_another_agencys_fails_the_issuer_step(client, authorities, inspector_client, issued):
    other = make_agency(client, authorities, ("degree",), "OTHER")
    verdict = present_and_check(client, inspector_client, issued, org=other.code)
    expect_invalid(verdict, "issuer", "wrong-issuer", recorded="wrong-issuer")
    code = issued.agency.code
    assert verdict.failed_step.reason == f"issued by Agency {code} ({code}), not by {other.code}"


def test_a_licence_issued_before_its_agency_was_suspended_still_checks_its_issuer(
        client, authorities, inspector_client, issued):
    from conftest import suspend_agency

    suspend_agency(client, authorities, issued.agency.code)
    verdict = present_and_check(client, inspector_client, issued)
    expect_valid(verdict)  # accredited at issuance is what counts


def test_only_an_authorised_inspector_can_record_a_check(client, issued, other_holder):
    before = access_head(client, issued.holder)
    as_holder = client.with_sender(other_holder)

    verdict = as_holder.check(issued.holder.address, issued.agency.code, client.present(issued.holder, issued.queried))

    recorded = step(verdict, "recorded")
    assert (recorded.status, recorded.code) == ("error", "LicenseNotInspector")
    assert recorded.reason == f"{other_holder.address} is not an inspector authorised in this registry by an agency"
    assert not verdict.valid
    assert access_head(client, issued.holder) == before


def test_a_self_registered_inspector_cannot_record_a_check(client, issued):
    """Issue 12, attack 9: the Inspector role is self-declared; only an agency's authorisation counts."""
    self_declared = register(client, "inspector")
    before = access_head(client, issued.holder)

    verdict = client.with_sender(self_declared).check(
        issued.holder.address, issued.agency.code, client.present(issued.holder, issued.queried))

    recorded = step(verdict, "recorded")
    assert (recorded.status, recorded.code) == ("error", "LicenseNotInspector")
    assert access_head(client, issued.holder) == before


def test_an_agency_authorises_and_withdraws_an_inspector(client, issued):
    inspector = register(client, "inspector")
    agency = issued.agency
    degree = client.licences("degree")

    agency.client.authorise_inspector("degree", inspector.address)
    assert degree.inspector_agency(inspector.address) == agency.code
    expect_valid(client.with_sender(inspector).check(issued.holder.address, agency.code,
                                                     client.present(issued.holder, issued.queried)))

    agency.client.deauthorise_inspector("degree", inspector.address)
    assert degree.inspector_agency(inspector.address) is None
    verdict = client.with_sender(inspector).check(issued.holder.address, agency.code,
                                                  client.present(issued.holder, issued.queried))
    assert (step(verdict, "recorded").status, step(verdict, "recorded").code) == ("error", "LicenseNotInspector")


def test_another_agency_cannot_withdraw_an_inspector(client, authorities, inspector):
    other = make_agency(client, authorities, ("degree",), "OTHER")
    with pytest.raises(NotAllowed, match="does not sign for the agency that authorised inspector"):
        other.client.deauthorise_inspector("degree", inspector.address)


def test_an_ordinary_agency_cannot_close_a_record(client, issued):
    """Issue 12, attack 8: closing a record is the civil registry's act."""
    with pytest.raises(NotAllowed, match="does not sign for a civil registry"):
        issued.agency.client.close_record("degree", issued.holder.address, "death")
    assert client.licences("degree").holder_record(issued.holder.address).closed_at == 0


def test_checking_with_a_malformed_org_code_fails_the_format_step(inspector_client, issued, presented):
    verdict = inspector_client.check(issued.holder.address, "X" * 33, presented)
    expect_invalid(verdict, "format", "malformed")
    assert "malformed organisation code" in verdict.failed_step.reason


def test_each_recorded_check_moves_the_access_log_head(client, inspector_client, issued):
    heads = [access_head(client, issued.holder)]
    for _ in range(2):
        present_and_check(client, inspector_client, issued)
        heads.append(access_head(client, issued.holder))
    assert len(set(heads)) == 3
    assert types.bytes32(heads[-1]) != b"\0" * 32
