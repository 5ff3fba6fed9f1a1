"""API 2 (send certification) and API 5 (query e-licence), with renewal and the holder's list."""

from __future__ import annotations

import pytest

from conftest import FIELDS, head, issue, make_agency, register, suspend_agency
from elicense import Client, Conflict, DecryptionError, InvalidInput, NotAllowed, NotDeployed, NotFound
from elicense import crypto, types
from elicense.licence import LicenceDocument


def state(client, holder_address, licence_id=None):
    """Everything a refused issuance must leave untouched."""
    degree = client.licences("degree")
    return (
        head(client),
        degree.holder_record(holder_address),
        degree.licence(types.bytes32(licence_id)) if licence_id else None,
        len(client.licences_of(holder_address)),
    )


def expect_issued(client, agency, holder, issued, fields):
    """Return value, event, stored record and the holder's new record head agree."""
    degree = client.licences("degree")
    document = issued_document(issued, holder)
    assert document.fields == fields
    assert issued.data_hash == "0x" + document.data_hash.hex()
    assert issued.licence_id == "0x" + degree.licence_id_of(agency.code, document.data_hash).hex()
    assert (issued.holder, issued.agency, issued.previous) == (holder.address, agency.code, None)
    info = degree.licence(types.bytes32(issued.licence_id))
    assert (info.holder, info.agency, info.status) == (holder.address, agency.code, "active")
    assert (info.valid_from, info.valid_until) == (issued.valid_from, issued.valid_until)
    assert degree.holder_record(holder.address).record_head == issued.record_head
    [event] = degree.issued_in(issued.tx_hash)
    assert event.licence_id == issued.licence_id and event.ciphertext == issued.ciphertext


def issued_document(issued, holder) -> LicenceDocument:
    return LicenceDocument.from_bytes(crypto.decrypt(holder.key, issued.ciphertext))


# ---------------------------------------------------------------- API 2: send certification


def test_an_accredited_agency_issues_a_licence_encrypted_to_the_holder(client, agency, holder):
    before = client.licences("degree").holder_record(holder.address).record_head

    issued = agency.client.send_certification(holder.address, agency.code, "degree", FIELDS)

    expect_issued(client, agency, holder, issued, FIELDS)
    assert issued.record_head != before
    assert issued.gas_used > 0
    assert issued.valid_until == types.FOREVER


def test_the_chain_holds_only_ciphertext_and_a_hash(client, issued):
    plain = issued.licence.ciphertext
    for value in FIELDS.values():
        assert value.encode() not in plain


def test_a_licence_keeps_the_validity_it_was_issued_with(client, agency, holder):
    now = client.chain.w3.eth.get_block("latest")["timestamp"]
    issued = agency.client.send_certification(holder.address, agency.code, "degree", {"degree": "BSc"},
                                              valid_from=now - 10, valid_until=now + 86_400)
    assert (issued.valid_from, issued.valid_until) == (now - 10, now + 86_400)
    document = issued_document(issued, holder)
    assert (document.valid_from, document.valid_until) == (now - 10, now + 86_400)


def test_issuing_to_an_unknown_holder_is_not_found(client, agency, stranger):
    before = head(client)
    with pytest.raises(NotFound, match=f"{stranger.address} is not a registered identity"):
        agency.client.send_certification(stranger.address, agency.code, "degree", FIELDS)
    assert head(client) == before


def test_issuing_to_a_registered_non_holder_is_not_found(client, agency, inspector):
    before = state(client, inspector.address)
    with pytest.raises(NotFound, match=f"{inspector.address} is not a registered holder"):
        agency.client.send_certification(inspector.address, agency.code, "degree", FIELDS)
    assert state(client, inspector.address) == before


def test_an_unregistered_organisation_code_is_not_found(client, agency, holder):
    before = state(client, holder.address)
    with pytest.raises(NotFound, match="no agency has organisation code 'NO-SUCH-AGENCY'"):
        agency.client.send_certification(holder.address, "NO-SUCH-AGENCY", "degree", FIELDS)
    assert state(client, holder.address) == before


def test_an_account_that_does_not_sign_for_the_agency_is_not_allowed(client, agency, holder, authorities):
    outsider = client.with_sender(authorities[2])
    before = state(client, holder.address)
    with pytest.raises(NotAllowed, match=f"{authorities[2].address} is not a signing account of {agency.code}$"):
        outsider.send_certification(holder.address, agency.code, "degree", FIELDS)
    assert state(client, holder.address) == before


def test_a_signer_of_another_agency_is_told_which_agency_it_signs_for(client, authorities, agency, holder):
    other = make_agency(client, authorities, ("degree",), "OTHER")
    with pytest.raises(NotAllowed, match=f"is not a signing account of {agency.code} \\(it signs for {other.code}\\)"):
        other.client.send_certification(holder.address, agency.code, "degree", FIELDS)


def test_a_suspended_agency_cannot_issue(client, authorities, agency, holder):
    issue(client, agency, holder)  # it could, before
    suspend_agency(client, authorities, agency.code)
    before = state(client, holder.address)

    with pytest.raises(NotAllowed, match=f"{agency.signer.address} does not sign for an agency accredited for degree "
                                         r"\(unregistered or suspended issuer\)"):
        agency.client.send_certification(holder.address, agency.code, "degree", {"degree": "PhD"})

    assert state(client, holder.address) == before
    assert client.issuers.agency(agency.code).status == "suspended"


def test_an_agency_accredited_for_degrees_cannot_issue_a_marriage(client, agency, holder):
    marriage = client.licences("marriage")
    before = (head(client), marriage.holder_record(holder.address))
    refusal = f"{agency.signer.address} does not sign for an agency accredited for marriage"
    with pytest.raises(NotAllowed, match=refusal):
        agency.client.send_certification(holder.address, agency.code, "marriage", {"spouse": "Bob"})
    assert (head(client), marriage.holder_record(holder.address)) == before


@pytest.mark.parametrize("bad", ["0x12", "alice", "0x" + "z" * 40])
def test_a_malformed_holder_address_is_invalid(client, agency, bad):
    before = head(client)
    with pytest.raises(InvalidInput, match=f"malformed holder address '{bad}'"):
        agency.client.send_certification(bad, agency.code, "degree", FIELDS)
    assert head(client) == before


def test_an_unknown_certificate_type_is_invalid(agency, holder):
    with pytest.raises(InvalidInput, match="unknown certificate type 'passport'; use one of marriage, real-estate"):
        agency.client.send_certification(holder.address, agency.code, "passport", FIELDS)


@pytest.mark.parametrize("fields, message", [
    ({}, "a licence needs at least one field"),
    ({"score": 4.5}, r"licence values may not be floating-point numbers \(4.5\)"),
    ({"": "x"}, "malformed field name ''"),
    ({f"f{i}": i for i in range(65)}, "a licence has at most 64 fields, got 65"),
])
def test_malformed_licence_fields_are_invalid(client, agency, holder, fields, message):
    before = state(client, holder.address)
    with pytest.raises(InvalidInput, match=message):
        agency.client.send_certification(holder.address, agency.code, "degree", fields)
    assert state(client, holder.address) == before


def test_a_validity_already_over_is_invalid(client, agency, holder):
    now = client.chain.w3.eth.get_block("latest")["timestamp"]
    with pytest.raises(InvalidInput, match=f"validity {now - 100}..{now - 10} is empty or already over"):
        agency.client.send_certification(holder.address, agency.code, "degree", FIELDS,
                                         valid_from=now - 100, valid_until=now - 10)


def test_a_validity_out_of_range_is_invalid(agency, holder):
    with pytest.raises(InvalidInput, match=f"valid-until must be a unix time between 0 and {2**40 - 1}, got {2**40}"):
        agency.client.send_certification(holder.address, agency.code, "degree", FIELDS, valid_until=2**40)


def test_issuing_needs_a_signing_account(client, agency, holder):
    anonymous = Client(client.chain, deployment=client.deployment)
    with pytest.raises(InvalidInput, match="this action needs a signing account"):
        anonymous.send_certification(holder.address, agency.code, "degree", FIELDS)


def test_a_type_without_a_deployed_registry_is_not_deployed(fresh_deployment, holder):
    degree_only = fresh_deployment(cert_types=("degree",))
    with pytest.raises(NotDeployed, match="no marriage registry is deployed on chain 31337"):
        degree_only.send_certification(holder.address, "ANY", "marriage", FIELDS)


def test_nothing_is_issued_to_a_closed_record(client, issued, civil):
    agency, holder = issued.agency, issued.holder
    civil.client.close_record("degree", holder.address, "death")
    before = state(client, holder.address)

    with pytest.raises(Conflict, match=f"the record of holder {holder.address} is closed; nothing more can be added"):
        agency.client.send_certification(holder.address, agency.code, "degree", {"degree": "PhD"})

    assert state(client, holder.address) == before


# ---------------------------------------------------------------- API 5: query e-licence


def test_query_licence_returns_the_agency_and_the_holders_data(client, issued):
    found = client.query_licence(issued.holder.address, issued.licence.block_number, issued.licence.tx_hash)

    assert (found.agency, found.cert_type, found.licence_id) == (issued.agency.code, 3, issued.licence.licence_id)
    assert (found.holder, found.status, found.previous) == (issued.holder.address, "active", None)
    assert found.ciphertext == issued.licence.ciphertext
    assert (found.tx_hash, found.block_number) == (issued.licence.tx_hash, issued.licence.block_number)


def test_the_holder_decrypts_exactly_the_issued_fields(issued):
    document = issued.queried.decrypt(issued.holder.key)

    assert document.fields == FIELDS
    assert (document.cert_type, document.agency, document.holder) == (3, issued.agency.code, issued.holder.address)
    assert len(document.salt) == 32


def test_the_decrypted_data_hashes_to_the_hash_issued_on_chain(client, issued):
    document = issued.queried.decrypt(issued.holder.key)
    degree = client.licences("degree")

    assert "0x" + document.data_hash.hex() == issued.queried.data_hash == issued.licence.data_hash
    assert "0x" + degree.licence_id_of(issued.agency.code, document.data_hash).hex() == issued.licence.licence_id


def test_a_third_partys_key_cannot_decrypt(issued, other_holder):
    with pytest.raises(DecryptionError, match="this key cannot decrypt the licence: it was encrypted to another"):
        issued.queried.decrypt(other_holder.key)


def test_the_issuers_key_cannot_decrypt_either(issued):
    with pytest.raises(DecryptionError):
        issued.queried.decrypt(issued.agency.signer.key)


def test_query_with_the_wrong_block_number_is_not_found(client, issued):
    block, tx = issued.licence.block_number, issued.licence.tx_hash
    with pytest.raises(NotFound, match=f"transaction {tx} is in block {block}, not {block + 1}"):
        client.query_licence(issued.holder.address, block + 1, tx)


def test_query_of_a_transaction_that_issued_nothing_is_not_found(client):
    user = client.register_user("nobody", "holder")  # a transaction, but no licence in it
    with pytest.raises(NotFound, match=f"transaction {user.tx_hash} issued no licence to {user.address}"):
        client.query_licence(user.address, user.block_number, user.tx_hash)


def test_query_for_another_holder_is_not_found(client, issued, other_holder):
    with pytest.raises(NotFound, match=f"issued no licence to {other_holder.address}"):
        client.query_licence(other_holder.address, issued.licence.block_number, issued.licence.tx_hash)


def test_query_of_an_unknown_transaction_is_not_found(client, holder):
    with pytest.raises(NotFound, match="no transaction 0x" + "ab" * 32 + " on chain 31337"):
        client.query_licence(holder.address, 1, "0x" + "ab" * 32)


def test_query_with_a_malformed_transaction_hash_is_invalid(client, holder):
    with pytest.raises(InvalidInput, match="malformed transaction hash '0x1234'"):
        client.query_licence(holder.address, 1, "0x1234")


def test_licences_of_lists_every_licence_with_its_status(client, authorities, holder):
    degree = make_agency(client, authorities, ("degree",), "EDU")
    marriage = make_agency(client, authorities, ("marriage",), "REG")
    first = issue(client, degree, holder, {"degree": "BSc"})
    second = issue(client, marriage, holder, {"spouse": "Bob"}, cert_type="marriage")
    degree.client.revoke("degree", first.licence.licence_id)

    listed = {(q.licence_id, q.cert_type, q.agency, q.status) for q in client.licences_of(holder.address)}

    assert listed == {
        (first.licence.licence_id, 3, degree.code, "revoked"),
        (second.licence.licence_id, 1, marriage.code, "active"),
    }


def test_licences_of_a_holder_with_none_is_empty(client, holder):
    assert client.licences_of(holder.address) == []


# ---------------------------------------------------------------- renewal


def test_renewal_issues_a_successor_and_marks_the_old_licence_renewed(client, issued):
    renewed = issued.agency.client.renew("degree", issued.licence.licence_id, {**FIELDS, "degree": "PhD"})

    degree = client.licences("degree")
    assert renewed.previous == issued.licence.licence_id
    assert renewed.holder == issued.holder.address
    assert degree.licence(types.bytes32(issued.licence.licence_id)).status == "renewed"
    assert degree.licence(types.bytes32(renewed.licence_id)).status == "active"
    assert issued_document(renewed, issued.holder).fields["degree"] == "PhD"
    assert client.query_licence(issued.holder.address, renewed.block_number, renewed.tx_hash).previous == \
        issued.licence.licence_id


def test_renewing_twice_is_a_conflict(client, issued):
    issued.agency.client.renew("degree", issued.licence.licence_id, {"degree": "PhD"})
    before = state(client, issued.holder.address, issued.licence.licence_id)
    with pytest.raises(Conflict, match=f"licence {issued.licence.licence_id} is renewed"):
        issued.agency.client.renew("degree", issued.licence.licence_id, {"degree": "DSc"})
    assert state(client, issued.holder.address, issued.licence.licence_id) == before


def test_renewing_an_unknown_licence_is_not_found(agency):
    with pytest.raises(NotFound, match="no licence 0x" + "11" * 32 + " in the degree registry"):
        agency.client.renew("degree", "0x" + "11" * 32, FIELDS)


def test_another_agency_cannot_renew_a_licence(client, authorities, issued):
    other = make_agency(client, authorities, ("degree",), "OTHER")
    with pytest.raises(NotAllowed, match=f"{other.signer.address} does not sign for the agency that issued licence "
                                         f"{issued.licence.licence_id}"):
        other.client.renew("degree", issued.licence.licence_id, {"degree": "PhD"})


def test_a_holder_registered_later_gets_a_fresh_record(client, agency):
    late = register(client, "holder")
    assert client.licences("degree").holder_record(late.address).record_head == "0x" + "00" * 32
    issued = issue(client, agency, late)
    assert client.licences("degree").holder_record(late.address).record_head == issued.licence.record_head


# ---------------------------------------------------------------- status changes by the issuing agency


def test_revoking_records_the_event_the_status_and_the_new_record_head(client, issued):
    degree = client.licences("degree")
    before = degree.holder_record(issued.holder.address).record_head

    tx = issued.agency.client.revoke("degree", issued.licence.licence_id, 7)

    [event] = degree.events(tx, "LicenseRevoked")
    assert "0x" + event["args"]["licenceId"].hex() == issued.licence.licence_id
    assert (event["args"]["holder"], event["args"]["reason"]) == (issued.holder.address, 7)
    assert degree.licence(types.bytes32(issued.licence.licence_id)).status == "revoked"
    record = degree.holder_record(issued.holder.address)
    assert record.record_head == "0x" + event["args"]["recordHead"].hex() != before


def test_a_holder_cannot_revoke_and_nothing_changes(client, issued):
    before = state(client, issued.holder.address, issued.licence.licence_id)
    with pytest.raises(NotAllowed, match=f"{issued.holder.address} does not sign for the agency that issued licence "
                                         f"{issued.licence.licence_id}"):
        client.with_sender(issued.holder).revoke("degree", issued.licence.licence_id)
    assert state(client, issued.holder.address, issued.licence.licence_id) == before


def test_revoking_twice_is_a_conflict(client, issued):
    issued.agency.client.revoke("degree", issued.licence.licence_id)
    before = state(client, issued.holder.address, issued.licence.licence_id)
    with pytest.raises(Conflict, match=f"licence {issued.licence.licence_id} is revoked"):
        issued.agency.client.revoke("degree", issued.licence.licence_id)
    assert state(client, issued.holder.address, issued.licence.licence_id) == before


def test_revoking_an_unknown_licence_is_not_found(agency):
    with pytest.raises(NotFound, match="no licence 0x" + "22" * 32 + " in this registry"):
        agency.client.revoke("degree", "0x" + "22" * 32)


def test_a_malformed_licence_id_is_invalid(agency):
    with pytest.raises(InvalidInput, match="malformed licence id '0x22'"):
        agency.client.suspend("degree", "0x22")


def test_reinstating_an_active_licence_is_a_conflict(issued):
    with pytest.raises(Conflict, match=f"licence {issued.licence.licence_id} is active"):
        issued.agency.client.reinstate("degree", issued.licence.licence_id)


def test_a_suspended_agency_can_still_revoke_what_it_issued(client, authorities, issued):
    suspend_agency(client, authorities, issued.agency.code)
    issued.agency.client.revoke("degree", issued.licence.licence_id)
    assert client.licences("degree").licence(types.bytes32(issued.licence.licence_id)).status == "revoked"


def test_closing_a_record_needs_a_known_reason(issued, civil):
    with pytest.raises(InvalidInput, match="unknown reason 'moved'; use one of death, citizenship, other"):
        civil.client.close_record("degree", issued.holder.address, "moved")


def test_closing_a_record_marks_it_and_its_licences(client, issued, civil):
    tx = civil.client.close_record("degree", issued.holder.address, "citizenship")

    degree = client.licences("degree")
    [event] = degree.events(tx, "RecordClosed")
    assert (event["args"]["holder"], event["args"]["reason"]) == (issued.holder.address, 2)
    record = degree.holder_record(issued.holder.address)
    assert (record.close_reason, record.record_head) == (2, "0x" + event["args"]["recordHead"].hex())
    assert record.closed_at == client.chain.w3.eth.get_block(tx.block_number)["timestamp"]
    assert degree.licence(types.bytes32(issued.licence.licence_id)).status == "record-closed"


def test_licence_ids_computed_by_the_client_equal_the_contracts(client):
    """verify.py and batch lookups compute licenceIdOf locally; it must stay the contract's formula."""
    registry = client.licences("degree")
    for agency in ("EDU-UH", "X", "A" * 32):
        for data_hash in (b"\0" * 32, b"\x01" * 32, bytes(range(32))):
            assert registry.licence_id_of(agency, data_hash) == bytes(
                registry.chain.call(registry.contract.functions.licenceIdOf(types.org_code(agency), data_hash)))
