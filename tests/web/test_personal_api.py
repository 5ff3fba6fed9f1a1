"""The personal-data routes over HTTP: the gateway logs each signed read before serving, the subject's
consent answers are signed by the subject, and superseded files leave the store once the chain moves."""

from __future__ import annotations

import json

import pytest
from conftest import error_of, register
from eth_account.messages import encode_typed_data

from elicense import personal
from elicense.commitments import field_commitment, purpose_commitment
from elicense.crypto import new_account, public_key
from elicense.personal import PersonalData
from elicense.storage import envelope

ALICE = {"name": "Alice Example", "email": "alice@example.org", "city": "Tartu"}


@pytest.fixture
def world(client, storage, server):
    controller, alice, bank = register(client, "issuer"), register(client, "holder"), register(client, "inspector")
    registry = personal.deploy(client.chain, controller)
    data = PersonalData(registry, storage, identities=client.identities)
    data.create_with_consent(controller, alice, ALICE, "citizen registry")
    server.app.state.personal.append(registry.address)  # the operator configures it (serve --personal)
    yield controller, alice, bank, registry, data
    server.app.state.personal.remove(registry.address)


def sign_plain(account, typed: dict) -> str:
    return "0x" + bytes(account.sign_message(encode_typed_data(full_message=typed)).signature).hex()


def store_signature(api, registry, subject, sealed: bytes, request_id: int | None = None) -> str:
    """The subject's signature over an upload's hash and use (what the page signs before a grant or a reseal)."""
    params = {"integrity_hash": "0x" + envelope.integrity_hash(sealed).hex()}
    if request_id is not None:
        params["request_id"] = request_id
    typed = api.ok(api.get(f"/api/personal/{registry.address}/subjects/{subject.address}/store-request",
                           **params))["typed"]
    return sign_plain(subject, typed)


def purposes_seen_by(api, registry, subject: str, viewer) -> dict[int, str]:
    base = f"/api/personal/{registry.address}/subjects/{subject}"
    prepared = api.ok(api.get(base + "/purposes-request", viewer=viewer.address))
    body = {"viewer": viewer.address, "deadline": prepared["deadline"], "signature": sign_plain(viewer, prepared["typed"])}
    return {i["request_id"]: i["text"] for i in api.ok(api.post(base + "/purposes", body))["items"]}


def sign_typed(account, typed: dict) -> str:
    """What the page does with ethers' signTypedData: numbers as given, bytes32 as hex."""
    message = dict(typed["message"])
    message["nonce"] = int(message["nonce"])
    message["what"] = bytes.fromhex(message["what"][2:])
    full = {**typed, "message": message}
    return "0x" + bytes(account.sign_message(encode_typed_data(full_message=full)).signature).hex()


def gateway_read(api, registry, reader, subject, fields="*"):
    prepared = api.ok(api.get(f"/api/personal/{registry.address}/read-request", subject=subject, fields=fields))
    body = {"reader": reader.address, "what": prepared["what"], "deadline": prepared["deadline"],
            "nonce": prepared["nonce"], "signature": sign_typed(reader, prepared["typed"])}
    return api.post(f"/api/personal/{registry.address}/subjects/{subject}/read", body)


def test_views_of_the_chain(api, world, client):
    controller, alice, _, registry, _ = world
    base = f"/api/personal/{registry.address}"
    overview = api.ok(api.get(base))
    assert overview["records"] == 1 and overview["controllers"] == [controller.address]
    page = api.ok(api.get(base + "/records", offset=0, limit=10))
    assert page["total"] == 1 and page["items"][0]["subject"] == alice.address
    assert "Alice" not in json.dumps(page)  # the chain's view holds no personal data
    assert api.ok(api.get(f"{base}/subjects/{alice.address}"))["record"]["version"] == 1
    assert "no personal-data record" in error_of(api.get(f"{base}/subjects/{new_account().address}"), 404)
    assert "not a personal-data registry this server serves" in error_of(api.get(f"/api/personal/{controller.address}"),
                                                                           404)
    assert "address" in error_of(api.get("/api/personal/0x12"), 400)
    assert error_of(api.get(base + "/records", limit=101), 422)


def test_the_gateway_logs_then_serves_and_refusals_are_logged(api, world):
    controller, alice, bank, registry, _ = world
    served = api.ok(gateway_read(api, registry, alice, alice.address, "email,name"))
    assert not served["tampered"] and served["entry"]["result"] == "granted"
    assert served["entry"]["submitter"] != alice.address  # the server paid, the reader signed
    assert json.loads(envelope.open_envelope(bytes.fromhex(served["envelope"][2:]), alice)) == ALICE

    message = error_of(gateway_read(api, registry, bank, alice.address), 403)
    assert "neither the subject" in message and "access log" in message
    log = api.ok(api.get(f"/api/personal/{registry.address}/subjects/{alice.address}/log"))
    assert log["verified"]
    assert [(e["reader"], e["result"], e["fields"]) for e in log["items"]] == [
        (alice.address, "granted", "email,name"), (bank.address, "not-authorised", "*")]
    assert all(e["time"] > 0 for e in log["items"])

    # the attack (issue 12, 9c) as raw HTTP: the bank signs a read but names Alice as the reader. Refused
    # and nothing is logged in Alice's name (the log would otherwise say she read what she never asked)
    prepared = api.ok(api.get(f"/api/personal/{registry.address}/read-request", subject=alice.address))
    body = {"reader": alice.address, "what": prepared["what"], "deadline": prepared["deadline"],
            "nonce": prepared["nonce"], "signature": sign_typed(bank, prepared["typed"])}
    assert f"{alice.address} is not who signed the read request" in error_of(
        api.post(f"/api/personal/{registry.address}/subjects/{alice.address}/read", body), 403)
    assert len(api.ok(api.get(f"/api/personal/{registry.address}/subjects/{alice.address}/log"))["items"]) == 2
    # the field names are a salted commitment: the chain cannot tell which fields were read
    assert prepared["what"] == "0x" + field_commitment("*", prepared["salt"]).hex() and prepared["fields"] == "*"
    body["signature"] = sign_typed(alice, prepared["typed"])
    api.ok(api.post(f"/api/personal/{registry.address}/subjects/{alice.address}/read", body))
    assert "replay" in error_of(api.post(f"/api/personal/{registry.address}/subjects/{alice.address}/read", body),
                                409).lower()
    body["nonce"] = "twelve"
    assert "nonce" in error_of(api.post(f"/api/personal/{registry.address}/subjects/{alice.address}/read", body), 400)


def test_consent_granted_from_the_page_flow(api, world, storage):
    controller, alice, bank, registry, data = world
    base = f"/api/personal/{registry.address}"
    api.perform(bank, base + "/requests", {"requester": bank.address, "subject": alice.address,
                                           "purpose": "mortgage application", "public_key": "0x" + public_key(bank).hex()})
    pending = api.ok(api.get(f"{base}/subjects/{alice.address}/requests", pending="true"))["items"]
    assert [r["requester"] for r in pending] == [bank.address] and pending[0]["public_key"]
    request_id = pending[0]["request_id"]
    # the statement only for the parties, who sign for it; the chain holds a salted commitment of it
    assert "purpose_text" not in pending[0] and "mortgage" not in json.dumps(pending)
    assert purposes_seen_by(api, registry, alice.address, alice) == {request_id: "mortgage application"}
    assert purposes_seen_by(api, registry, alice.address, bank) == {request_id: "mortgage application"}

    # the page: fetch its own file through the gateway, wrap the data key to the requester, upload
    old = registry.record(alice.address)
    sealed = bytes.fromhex(api.ok(gateway_read(api, registry, alice, alice.address))["envelope"][2:])
    wrapped = envelope.add_reader(sealed, alice, bank.address, bytes.fromhex(pending[0]["public_key"][2:]))
    path = f"{base}/requests/{request_id}/grant"
    assert "addressed to" in error_of(api.post(path, {"subject": bank.address, "envelope": "0x" + wrapped.hex(),
                                                      "signature": "0x00"}), 403)
    assert "not an elicense envelope" in error_of(api.post(path, {"subject": alice.address, "envelope": "0x00ff",
                                                                  "signature": "0x00"}), 400)
    signature = store_signature(api, registry, alice, wrapped, request_id)
    assert f"not wrapped for {bank.address}" in error_of(
        api.post(path, {"subject": alice.address, "envelope": "0x" + sealed.hex(), "signature": signature}), 400)
    prepared, receipt = api.perform(alice, path, {"subject": alice.address, "envelope": "0x" + wrapped.hex(),
                                                  "signature": signature})
    assert receipt["from"] == alice.address and prepared["cid"] == registry.record(alice.address).pointer
    assert not storage.has(old.pointer)  # the superseded file left the store once the grant was mined
    served = api.ok(gateway_read(api, registry, bank, alice.address, "city"))
    assert json.loads(envelope.open_envelope(bytes.fromhex(served["envelope"][2:]), bank))["city"] == "Tartu"
    assert "already answered" in error_of(api.post(path, {"subject": alice.address, "envelope": "0x" + wrapped.hex(),
                                                          "signature": signature}), 409)

    # revoke: the bank's next read is refused (and logged)
    api.perform(alice, base + "/consents/revoke", {"subject": alice.address, "requester": bank.address})
    assert "neither the subject" in error_of(gateway_read(api, registry, bank, alice.address), 403)
    assert "no active consent" in error_of(api.post(base + "/consents/revoke",
                                                    {"subject": alice.address, "requester": bank.address}), 409)


def test_consent_denied(api, world, client):
    controller, alice, bank, registry, data = world
    base = f"/api/personal/{registry.address}"
    request = data.request_consent(bank, alice.address, "insurance quote")
    other = register(client, "holder")
    assert "addressed to" in error_of(api.post(f"{base}/requests/{request.request_id}/deny",
                                               {"subject": other.address}), 403)
    api.perform(alice, f"{base}/requests/{request.request_id}/deny", {"subject": alice.address})
    assert registry.request(request.request_id).status == "denied"
    assert "there is no consent request" in error_of(api.post(f"{base}/requests/999999/deny",
                                                              {"subject": alice.address}), 404)
    # a request for someone with no record is refused before anything is signed
    assert "no personal-data record" in error_of(api.post(base + "/requests", {
        "requester": bank.address, "subject": other.address, "purpose": "x",
        "public_key": "0x" + public_key(bank).hex()}), 404)


def test_a_shared_asset_is_requested_and_read_with_prepared_signatures(api, client, storage, server):
    from elicense import sharing

    owner, reader = register(client, "issuer"), register(client, "inspector")
    contract = sharing.deploy(client.chain, owner)
    server.app.state.sharing.append(contract.address)
    published = sharing.share(contract, owner, storage, b"parcel register 2026", "land-register",
                              {reader.address: public_key(reader)}, fee=10**12)
    base = f"/api/sharing/{contract.address}/assets/{published.asset_id}"
    prepared, receipt = api.perform(reader, base + "/access", {"reader": reader.address, "purpose": "valuation"})
    assert int(prepared["sign"]["tx"]["value"]) == 10**12 and contract.has_grant(published.asset_id, reader.address, 1)
    # the purpose on chain is a salted commitment; only the reader got the salt that opens it
    from eth_utils import keccak

    granted = next(e for e in receipt["events"] if e["event"] == "AccessGranted")
    salt = bytes.fromhex(prepared["purpose_salt"][2:])
    assert granted["args"]["purpose"] == prepared["purpose"] == "0x" + purpose_commitment("valuation", salt).hex()
    assert granted["args"]["purpose"] != "0x" + keccak(text="valuation").hex()
    request = api.ok(api.get(base + "/read-request"))
    message = dict(request["typed"]["message"], nonce=bytes.fromhex(request["typed"]["message"]["nonce"][2:]))
    signature = reader.sign_message(encode_typed_data(full_message={**request["typed"], "message": message})).signature
    body = {"reader": reader.address, **request["request"], "signature": "0x" + bytes(signature).hex()}
    response = api.post(base + "/read", body)
    assert response.status_code == 200
    assert envelope.open_envelope(response.content, reader) == b"parcel register 2026"
    assert "no shared data asset" in error_of(api.post(f"/api/sharing/{contract.address}/assets/99/access",
                                                       {"reader": reader.address, "purpose": "x"}), 404)
    server.app.state.sharing.remove(contract.address)
