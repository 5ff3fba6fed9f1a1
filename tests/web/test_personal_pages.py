"""The personal-data section of the wallet and the data-sharing page in a real browser (Debian's
Chromium driven by Playwright) against the real server, chain and store.

Set-up is done with the Python client (a controller's registry with a subject, a bank and an insurer
asking for consent through the API, a stranger whose read is refused; a data owner's DataSharing
contract with published assets); everything the subject or the reader does, the page does: signing
reads and transactions with the key unlocked in it, opening envelopes, wrapping the data key to a
requester. Python then checks the outcome on chain and through its own reads. Screenshots go to
reports/screenshots/ (and docs/screenshots/)."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest
from conftest import PROJECT, register
from eth_account.messages import encode_typed_data
from playwright.sync_api import expect

import cbor2
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from elicense import personal, sharing
from elicense.crypto import public_key
from elicense.errors import DecryptionError
from elicense.personal import PersonalData, ReadRefused
from elicense.storage import envelope
from test_pages import import_key, shot, tid

ALICE = {"name": "Alice Example", "email": "alice@example.org", "city": "Tartu", "born": "1990-04-01"}
DOCS = PROJECT / "docs" / "screenshots"


def keep_for_docs(path) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS / path.name)


def row(page, testid: str, **attrs):
    selector = f"[data-testid={testid}]" + "".join(f"[data-{k.replace('_', '-')}='{v}']" for k, v in attrs.items())
    return page.locator(selector)


# ---------------------------------------------------------------------- personal data in the wallet


@pytest.fixture
def subject_world(client, storage, server, api):
    """A registry offered by the server, Alice's record in it, two pending consent requests (made through
    the API, so the server knows their purpose statements and salts) and a stranger's refused read through
    the server's gateway (so the server can open the salted commitment to the fields it asked for)."""
    controller, alice = register(client, "issuer"), register(client, "holder")
    bank, insurer, stranger = register(client, "inspector"), register(client, "inspector"), register(client, "holder")
    registry = personal.deploy(client.chain, controller)
    data = PersonalData(registry, storage, identities=client.identities)
    data.create_with_consent(controller, alice, ALICE, "citizen registry")
    server.app.state.personal.append(registry.address)
    base = f"/api/personal/{registry.address}"
    for requester, purpose in ((bank, "mortgage application"), (insurer, "insurance quote")):
        api.perform(requester, base + "/requests", {"requester": requester.address, "subject": alice.address,
                                                    "purpose": purpose, "public_key": "0x" + public_key(requester).hex()})
    prepared = api.ok(api.get(f"{base}/read-request", subject=alice.address, fields="email"))
    typed = prepared["typed"]
    message = dict(typed["message"], nonce=int(typed["message"]["nonce"]), what=bytes.fromhex(prepared["what"][2:]))
    signature = stranger.sign_message(encode_typed_data(full_message={**typed, "message": message})).signature
    refused = api.post(f"{base}/subjects/{alice.address}/read", {
        "reader": stranger.address, "what": prepared["what"], "deadline": prepared["deadline"],
        "nonce": prepared["nonce"], "signature": "0x" + bytes(signature).hex()})
    assert refused.status_code == 403
    yield controller, alice, bank, insurer, stranger, registry, data
    server.app.state.personal.remove(registry.address)


def test_wallet_personal_data_consents_and_access_log(open_page, subject_world, storage, tmp_path):
    controller, alice, bank, insurer, stranger, registry, data = subject_world
    requests = {r.requester: r.request_id for r in registry.requests_for(alice.address)}
    page = open_page("wallet.html", 1200, 1000)
    import_key(page, "alice", alice)

    card = page.locator(f"[data-testid=personal-registry][data-registry='{registry.address}']")
    expect(card).to_be_visible(timeout=60_000)
    expect(card.get_by_test_id("personal-version")).to_have_text("1")
    expect(card.get_by_test_id("personal-controller")).to_have_text(controller.address)
    expect(card.get_by_test_id("personal-erased")).to_have_text("no")

    # the pending requests, with the purpose statements the requesters gave
    bank_row = row(card, "consent-request", requester=bank.address)
    insurer_row = row(card, "consent-request", requester=insurer.address)
    expect(bank_row).to_have_attribute("data-status", "pending")
    expect(bank_row.get_by_test_id("request-purpose")).to_have_text("mortgage application")
    expect(insurer_row.get_by_test_id("request-purpose")).to_have_text("insurance quote")
    expect(bank_row.get_by_test_id("request-date")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))

    # Grant: the page reads its own envelope through the gateway, wraps the data key to the bank, signs
    bank_row.get_by_test_id("grant-button").click()
    tid(page, "confirm-yes").click()
    expect(bank_row).to_have_attribute("data-status", "granted", timeout=60_000)
    expect(row(card, "consent", requester=bank.address)).to_be_visible()
    assert registry.request(requests[bank.address]).status == "granted"
    assert registry.consent_of(alice.address, bank.address).active
    read = data.read(bank, alice.address)  # the bank, in Python, through its own key
    assert read.data == ALICE and not read.tampered
    assert registry.record(alice.address).version == 2  # the new envelope, same data

    # Deny the insurer
    insurer_row.get_by_test_id("deny-button").click()
    expect(insurer_row).to_have_attribute("data-status", "denied", timeout=60_000)
    assert registry.request(requests[insurer.address]).status == "denied"
    expect(card.get_by_test_id("requests-empty")).to_be_visible()

    # Show my data: a logged read of the subject's own, opened in the page
    card.get_by_test_id("show-data-button").click()
    table = card.get_by_test_id("personal-data")
    expect(table).to_be_visible(timeout=60_000)
    for name, value in ALICE.items():
        expect(row(table, "personal-field", field=name)).to_contain_text(value)
    expect(card.get_by_test_id("personal-tampered")).to_have_count(0)

    # the access log: the stranger's refusal highlighted, the granted reads (the page's, the bank's), verified
    expect(card.get_by_test_id("access-log-verified")).to_have_attribute("data-verified", "true")
    refused = row(card, "access-row", reader=stranger.address)
    expect(refused).to_have_attribute("data-result", "not-authorised")
    expect(refused).to_have_class(re.compile(r"\bfailed\b"))
    expect(refused.get_by_test_id("access-outcome")).to_have_text("not-authorised")
    expect(refused.get_by_test_id("access-fields")).to_have_text("email")
    expect(row(card, "access-row", reader=bank.address, result="granted")).to_have_count(1)
    expect(row(card, "access-row", reader=alice.address, result="granted")).to_have_count(2)  # grant + show
    log = registry.access_log(alice.address)
    assert [(e.reader, e.result) for e in log] == [
        (stranger.address, "not-authorised"), (alice.address, "granted"), (bank.address, "granted"),
        (alice.address, "granted")]
    expect(card.get_by_test_id("access-row")).to_have_count(len(log))
    assert all(e.submitter != alice.address for e in log if e.reader == alice.address)  # the gateway submitted
    shot_path = tmp_path / "section.png"
    tid(page, "personal").screenshot(path=str(shot_path))
    target = PROJECT / "reports" / "screenshots" / "wallet-personal.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot_path, target)
    keep_for_docs(target)

    # Download my data (JSON): the data, the record, the requests and the log in one file
    with page.expect_download() as download:
        card.get_by_test_id("download-data-button").click()
    exported = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert exported["format"] == "elicense-personal-data-export/1"
    assert exported["data"] == ALICE and exported["subject"] == alice.address
    assert exported["registry"]["address"] == registry.address
    assert exported["record"]["version"] == 2 and exported["access_log_verified"] is True
    assert {r["requester"]: r["status"] for r in exported["consent_requests"]} == {bank.address: "granted",
                                                                                   insurer.address: "denied"}
    assert [e["result"] for e in exported["access_log"]][0] == "not-authorised"
    assert exported["active_consents"] == [bank.address]

    # Revoke: the bank's reads are refused from then on (and logged), and the page reseals the data under
    # a fresh data key, so the key the bank kept from its granted read opens nothing stored from now on
    granted = registry.record(alice.address)
    kept_key, _ = envelope._unwrap(envelope._decode(storage.get(granted.pointer)), bank)
    row(card, "consent", requester=bank.address).get_by_test_id("revoke-button").click()
    tid(page, "confirm-yes").click()
    expect(card.get_by_test_id("consents-empty")).to_be_visible(timeout=60_000)
    assert not registry.consent_of(alice.address, bank.address).active
    with pytest.raises(ReadRefused):
        data.read(bank, alice.address)
    resealed = registry.record(alice.address)
    assert resealed.version == granted.version + 1 and resealed.pointer != granted.pointer
    current = storage.get(resealed.pointer)
    assert bank.address not in envelope.readers(current)
    with pytest.raises(DecryptionError, match="is not a reader"):
        envelope.open_envelope(current, bank)
    fields = cbor2.loads(current)
    with pytest.raises(InvalidTag):  # the bank's kept data key against the current ciphertext
        AESGCM(kept_key).decrypt(fields["nonce"], fields["ct"], b"elicense-envelope/v1")
    assert json.loads(envelope.open_envelope(current, alice)) == ALICE  # the data itself is unchanged
    assert json.loads(envelope.open_envelope(current, controller)) == ALICE
    assert not storage.has(granted.pointer)  # the file the bank could open left the store
    tid(page, "personal-refresh").click()
    expect(row(page, "access-row", reader=bank.address, result="not-authorised")).to_have_count(1, timeout=60_000)


def test_wallet_flags_a_missing_file_then_an_erased_record(open_page, storage, subject_world):
    controller, alice, bank, insurer, stranger, registry, data = subject_world
    storage.remove(registry.record(alice.address).pointer)  # the file is gone from the store
    page = open_page("wallet.html")
    import_key(page, "alice", alice)
    card = page.locator(f"[data-testid=personal-registry][data-registry='{registry.address}']")
    card.get_by_test_id("show-data-button").click()
    flag = card.get_by_test_id("personal-tampered")
    expect(flag).to_have_attribute("data-missing", "true", timeout=60_000)
    expect(flag).to_contain_text("MISSING")
    expect(card.get_by_test_id("personal-data")).to_have_count(0)
    # granting is refused too: there is no file to wrap the key of
    row(card, "consent-request", requester=bank.address).get_by_test_id("grant-button").click()
    tid(page, "confirm-yes").click()
    expect(tid(page, "error-banner")).to_contain_text("MISSING")
    assert registry.request(registry.requests_for(alice.address)[0].request_id).status == "pending"

    data.erase(controller, alice.address)
    tid(page, "personal-refresh").click()
    expect(card.get_by_test_id("personal-state")).to_have_attribute("data-erased", "true", timeout=60_000)
    expect(card.get_by_test_id("personal-erased")).to_have_attribute("data-erased", "true")
    expect(card.get_by_test_id("show-data-button")).to_be_disabled()
    expect(card.get_by_test_id("download-data-button")).to_be_disabled()
    expect(card.get_by_test_id("grant-button")).to_have_count(0)  # erased: nothing left to share


def test_wallet_without_a_record_shows_a_note(open_page, client, subject_world):
    nobody = register(client, "holder")
    page = open_page("wallet.html")
    import_key(page, "nobody", nobody)
    expect(tid(page, "personal-empty")).to_be_visible(timeout=60_000)
    expect(tid(page, "personal-registry")).to_have_count(0)


# ---------------------------------------------------------------------- the data-sharing page


@pytest.fixture
def shared_world(client, storage, server):
    owner, reader, outsider = register(client, "issuer"), register(client, "inspector"), register(client, "inspector")
    contract = sharing.deploy(client.chain, owner)
    payload = b"parcel register 2026\x00\xff" + os.urandom(2000)  # binary: the download must be byte-exact
    first = sharing.share(contract, owner, storage, payload, "land-register", {reader.address: public_key(reader)},
                          fee=10**12)
    second = sharing.share(contract, owner, storage, b"second asset", "business-licence",
                           {reader.address: public_key(reader)})
    server.app.state.sharing.append(contract.address)
    yield owner, reader, outsider, contract, first, second, payload
    server.app.state.sharing.remove(contract.address)


def test_sharing_page_requests_access_and_downloads(open_page, shared_world):
    owner, reader, outsider, contract, first, second, payload = shared_world
    page = open_page("sharing.html", 1200, 1000)
    expect(tid(page, "directory-owner")).to_have_text(owner.address, timeout=60_000)
    expect(tid(page, "directory-total")).to_have_text("2")
    rows = tid(page, "asset-row")
    expect(rows).to_have_count(2)
    expect(row(page, "asset-row", asset_id=first.asset_id)).to_contain_text("land-register")
    expect(row(page, "asset-row", asset_id=first.asset_id).get_by_test_id("asset-row-fee")).to_contain_text(
        "1000000000000 wei")
    expect(row(page, "asset-row", asset_id=second.asset_id)).to_contain_text("business-licence")
    expect(row(page, "asset-row", asset_id=second.asset_id)).to_contain_text("free")

    import_key(page, "reader", reader)
    row(page, "asset-row", asset_id=first.asset_id).get_by_test_id("asset-details-button").click()
    expect(tid(page, "asset-id")).to_have_text(str(first.asset_id))
    expect(tid(page, "asset-type")).to_have_text("land-register")
    expect(tid(page, "asset-pointer")).to_have_text(first.pointer)
    tid(page, "access-purpose").fill("valuation of parcel 12")
    tid(page, "request-access-button").click()
    result = tid(page, "access-result")
    expect(result).to_have_attribute("data-outcome", "granted", timeout=60_000)
    expect(result).to_contain_text("Access granted")
    expect(result.get_by_test_id("access-tx")).to_contain_text("block")
    expect(result).not_to_contain_text("[object")
    assert contract.has_grant(first.asset_id, reader.address, 1)
    expect(tid(page, "asset-counters")).to_contain_text("1 granted")

    with page.expect_download() as download:
        tid(page, "download-button").click()
    assert download.value.suggested_filename == f"land-register-asset-{first.asset_id}-v1.bin"
    assert open(download.value.path(), "rb").read() == payload
    expect(tid(page, "download-result")).to_have_attribute("data-size", str(len(payload)))
    expect(tid(page, "download-result")).to_contain_text("matches the SHA-256 on chain")
    shot(page, "sharing")
    keep_for_docs(PROJECT / "reports" / "screenshots" / "sharing.png")

    # the second asset: not requested yet, so the gateway refuses, and the page says why
    row(page, "asset-row", asset_id=second.asset_id).get_by_test_id("asset-details-button").click()
    expect(tid(page, "asset-id")).to_have_text(str(second.asset_id))
    tid(page, "download-button").click()
    expect(tid(page, "error-banner")).to_contain_text("request access on chain first")


def test_sharing_page_shows_a_denial_to_a_reader_off_the_allow_list(open_page, shared_world):
    owner, reader, outsider, contract, first, second, payload = shared_world
    page = open_page("sharing.html")
    import_key(page, "outsider", outsider)
    expect(tid(page, "asset-row")).to_have_count(2, timeout=60_000)
    row(page, "asset-row", asset_id=first.asset_id).get_by_test_id("asset-details-button").click()
    tid(page, "access-purpose").fill("curiosity")
    tid(page, "request-access-button").click()
    result = tid(page, "access-result")
    expect(result).to_have_attribute("data-outcome", "denied", timeout=60_000)
    expect(result).to_have_attribute("data-reason", "not-allowed")
    expect(result).to_contain_text("not on this asset's allow-list")
    expect(result).to_contain_text("refunded")  # the fee sent came back
    assert not contract.has_grant(first.asset_id, outsider.address, 1)
    assert contract.asset(first.asset_id).denied == 1
    expect(tid(page, "asset-counters")).to_contain_text("1 denied")

    tid(page, "download-button").click()
    expect(tid(page, "error-banner")).to_contain_text("is not on the allow-list")
    expect(tid(page, "download-result")).to_be_hidden()


def test_sharing_page_reports_a_bad_contract_address(open_page, client, server):
    page = open_page("sharing.html")
    tid(page, "contract-input").fill(client.identities.address)
    tid(page, "contract-open").click()
    expect(tid(page, "error-banner")).to_contain_text("is not a data-sharing contract this server serves")
    tid(page, "contract-input").fill("0x1234")
    tid(page, "contract-open").click()
    expect(tid(page, "error-banner")).to_contain_text("address")
