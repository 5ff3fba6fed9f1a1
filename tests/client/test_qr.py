"""The compact QR presentation (``EL1:``): what a wallet shows and an inspector scans, verified
against the real contracts. Each refusal names the right step and code."""

from __future__ import annotations

import time

import cbor2
import pytest
import segno

from conftest import FIELDS, advance_time, issue, make_agency
from elicense import InvalidInput, NotAllowed, qr, types
from elicense.batch import BatchRow
from elicense.presentation import CLOCK_SKEW, Presentation, create

from test_check_api import codes, expect_invalid


def _reencode(text: str, change) -> str:
    item = cbor2.loads(qr.b45decode(text[len(qr.PREFIX):]))
    change(item)
    return qr.PREFIX + qr.b45encode(cbor2.dumps(item))


def test_a_qr_code_verifies_without_knowing_holder_or_issuer(client, inspector_client, issued):
    text = client.present_qr(issued.holder, issued.queried)
    verdict = inspector_client.check(None, None, text)
    assert verdict.valid, verdict.steps
    assert verdict.result == "valid" and verdict.tx_hash
    assert verdict.holder == issued.holder.address and verdict.type == "degree"
    assert verdict.fields == FIELDS
    assert verdict.agency == {"code": issued.agency.code, "name": f"Agency {issued.agency.code}"}


def test_a_typical_licence_fits_qr_version_15_at_level_m(client, issued):
    for fields in (None, ["degree"]):
        text = client.present_qr(issued.holder, issued.queried, fields)
        code = segno.make(text, error="m", boost_error=False)
        assert code.mode == "alphanumeric" and code.version <= 15, (code.version, len(text))


def test_selective_disclosure_through_a_qr_code(client, inspector_client, issued):
    text = client.present_qr(issued.holder, issued.queried, ["degree", "programme"])
    verdict = inspector_client.check(None, None, text, record=False)
    assert verdict.valid, verdict.steps
    assert verdict.fields == {"degree": "MSc", "programme": "Physics"}
    assert "Alice" not in str(qr.decode(text, lambda *a: (None, None))[0].disclosure)


def test_a_tampered_field_breaks_the_holder_signature(client, inspector_client, issued):
    text = client.present_qr(issued.holder, issued.queried)
    forged = _reencode(text, lambda item: item[6][2].__setitem__("degree", "PhD"))
    verdict = inspector_client.check(None, None, forged, record=False)
    expect_invalid(verdict, "holder-signature", "bad-signature")
    assert codes(verdict)["data"] == "unknown-licence"


def test_a_qr_code_for_another_chain_is_refused(client, inspector_client, issued):
    text = client.present_qr(issued.holder, issued.queried)
    foreign = _reencode(text, lambda item: item.__setitem__(1, 1))
    expect_invalid(inspector_client.check(None, None, foreign, record=False), "format", "foreign-chain")


def test_an_expired_qr_code_is_refused(client, inspector_client, issued):
    # expired by the verifier's own clock (a block's timestamp is not the judge: tests/client/test_freshness.py)
    registry = client.licences(issued.queried.cert_type)
    signed = create(registry, issued.holder, issued.queried.licence_id, issued.agency.code,
                    issued.queried.decrypt(issued.holder.key), ttl=30, now=int(time.time()) - 30 - CLOCK_SKEW - 60)
    text = qr.encode(signed, issued_block=issued.queried.block_number)
    expect_invalid(inspector_client.check(None, None, text, record=False), "holder-signature", "presentation-expired")


def test_a_replayed_qr_code_is_refused(client, inspector_client, issued):
    text = client.present_qr(issued.holder, issued.queried)
    assert inspector_client.check(None, None, text).valid
    expect_invalid(inspector_client.check(None, None, text, record=False), "holder-signature", "presentation-replayed")


def test_a_revoked_licence_qr_is_refused(client, inspector_client, issued):
    issued.agency.client.revoke("degree", issued.licence.licence_id, 1)
    text = client.present_qr(issued.holder, issued.queried)
    expect_invalid(inspector_client.check(None, None, text), "status", "revoked", recorded="revoked")


def test_a_wrong_issuance_block_is_named(client, inspector_client, issued):
    text = client.present_qr(issued.holder, issued.queried)
    moved = _reencode(text, lambda item: item.__setitem__(7, item[7] - 1))
    expect_invalid(inspector_client.check(None, None, moved, record=False), "issuer", "unknown-issuance")


def test_the_expected_issuer_still_applies(client, inspector_client, issued):
    text = client.present_qr(issued.holder, issued.queried)
    expect_invalid(inspector_client.check(None, "SOMEONE-ELSE", text, record=False), "issuer", "wrong-issuer")


def test_a_batched_licence_qr_finds_its_proof_in_the_bundle(client, inspector_client, agency, holder):
    rows = [BatchRow(holder.address, {"degree": "BSc", "row": str(i)}) for i in range(5)]
    agency.client.issue_batch("degree", agency.code, rows)
    batched = [q for q in client.licences_of(holder.address) if q.batch is not None]
    text = client.present_qr(holder, batched[2], ["degree"])
    assert len(text) < 500  # the proof stays out of the QR code
    verdict = inspector_client.check(None, None, text)
    assert verdict.valid, verdict.steps
    assert verdict.fields == {"degree": "BSc"}
    other = client.present_qr(holder, batched[3], ["degree"])  # not claimed yet: only its proof vouches for it
    stranger_root = _reencode(other, lambda item: item.__setitem__(7, b"\x01" * 32))
    expect_invalid(inspector_client.check(None, None, stranger_root, record=False), "data", "unknown-licence")


@pytest.mark.parametrize("text, message", [
    ("hello", "starts neither with EL1:"),
    ("EL1:", "damaged"),
    ("EL1:AAAA", "cut short"),
    ("EL1:" + qr.b45encode(cbor2.dumps([2, 1, b"", 0, b"", b"", [], 0])), "unsupported presentation version 2"),
    ("EL1:" + qr.b45encode(cbor2.dumps([1, 1, b"x", 0, b"", b"", [], 0])), "bad holder address"),
    ("EL1:" + qr.b45encode(cbor2.dumps({"a": 1})), "8 items expected"),
    ("EL1:abc~", "character base45 does not use"),
])
def test_malformed_qr_text_is_refused_with_a_sentence(inspector_client, text, message):
    verdict = inspector_client.check(None, None, text, record=False)
    assert (verdict.failed_step.name, verdict.failed_step.code) == ("format", "malformed")
    assert message in verdict.failed_step.reason


def test_base45_matches_rfc_9285():
    for raw, text in [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0")]:
        assert qr.b45encode(raw) == text and qr.b45decode(text) == raw
    with pytest.raises(InvalidInput):
        qr.b45decode("GGW")  # 65535 < value


def test_a_qr_round_trip_keeps_every_part(client, issued):
    shown = client.present(issued.holder, issued.queried, ["degree"])
    text = qr.encode(shown, issued_block=issued.queried.block_number)
    back, ref = qr.decode(text, lambda chain, cert, ref, data, holder: (shown.registry, [(shown.agency, None)]))
    assert ref == {"block": issued.queried.block_number}
    assert (back.chain_id, back.registry, back.holder, back.agency, back.licence_id, back.not_after, back.nonce,
            back.signature) == (shown.chain_id, shown.registry, shown.holder, shown.agency, shown.licence_id,
                                shown.not_after, shown.nonce, shown.signature)
    assert back.disclosure == shown.disclosure
    assert isinstance(Presentation.parse(back.dumps()), Presentation)


def test_the_holders_signature_picks_the_issuing_agency_among_candidates(client, issued):
    """The licence id binds the agency and the QR code does not carry it: of the agencies the reference
    may mean, the one whose licence the holder signed for is taken, whichever comes first."""
    shown = client.present(issued.holder, issued.queried)
    text = qr.encode(shown, issued_block=issued.queried.block_number)
    candidates = [("COPIER", None), (issued.agency.code, None), ("OTHER", None)]

    back, _ = qr.decode(text, lambda *_: (shown.registry, iter(candidates)))

    assert (back.agency, back.licence_id) == (issued.agency.code, shown.licence_id)


def test_another_agency_issuing_the_same_data_hash_does_not_capture_the_qr_code(
        client, authorities, inspector_client, issued):
    """Issue 12, attack 4 through the verifier: the copier's raw issue() of the holder's data hash, in
    a later block, is its own licence; the holder's code still verifies as the real agency's."""
    copier = make_agency(client, authorities, ("degree",), "COPY")
    copy = copier.client.licences("degree").issue(copier.signer, issued.holder.address,
                                                    types.bytes32(issued.queried.data_hash), 0, types.FOREVER, b"copied")
    assert copy.licence_id != issued.licence.licence_id and copy.agency == copier.code

    verdict = inspector_client.check(None, None, client.present_qr(issued.holder, issued.queried))

    assert verdict.valid, verdict.steps
    assert verdict.agency["code"] == issued.agency.code
    with pytest.raises(NotAllowed, match="does not sign for the agency that issued licence"):
        copier.client.revoke("degree", issued.licence.licence_id, 1)


def test_a_batch_root_front_run_by_another_agency_does_not_capture_the_batch(
        client, authorities, inspector_client, agency, holder):
    """Issue 12, attack 5 through the client: the copier lands the root first (as a higher tip would);
    the real batch still lands, the holder's wallet lists only it, and its QR codes verify as the real agency's."""
    from elicense.batch import store_bundle

    registry = agency.client.licences("degree")
    rows = [BatchRow(holder.address, {"degree": "BSc", "row": str(i)}) for i in range(3)]
    now = registry.chain.timestamp()
    root, bundle_hash = store_bundle(agency.client.store, registry, agency.code, rows, agency.client.holder_keys(), now)
    copier = make_agency(client, authorities, ("degree",), "COPY")
    copied = copier.client.licences("degree").issue_batch(copier.signer, root, 3, bundle_hash)
    real = registry.issue_batch(agency.signer, root, 3, bundle_hash)

    assert (copied.agency, real.agency) == (copier.code, agency.code)
    mine = [q for q in client.licences_of(holder.address) if q.batch is not None]
    assert len(mine) == 3 and {q.agency for q in mine} == {agency.code}
    verdict = inspector_client.check(None, None, client.present_qr(holder, mine[0], ["degree"]))
    assert verdict.valid, verdict.steps
    assert verdict.agency["code"] == agency.code
