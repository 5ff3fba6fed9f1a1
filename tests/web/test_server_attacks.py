"""Issue 12's attacks on the server, played as the attacker plays them: a second genuine deployment of
PersonalDataRegistry or DataSharing by the attacker, raw signed transactions posted to
/api/transactions, raw HTTP requests with forged signatures. Each test asserts the refusal and its
sentence, and that nothing was lost (the victim's file), leaked (a file served) or spent (gas)."""

from __future__ import annotations

import json
import os
import time

import pytest
from conftest import SERVICE, error_of, register
from eth_account import Account
from eth_utils import keccak
from test_personal_api import ALICE, gateway_read, purposes_seen_by, sign_plain, sign_typed, store_signature

from elicense import personal, sharing
from elicense.chain import ExternalSigner, SignatureRequired
from elicense.crypto import new_account, public_key
from elicense.nodes import dev_key
from elicense.personal import PersonalData
from elicense.storage import envelope


def raw_tx(account, operation) -> str:
    """The attacker's own signed transaction for a wrapper call (built by web3, signed here, not sent)."""
    try:
        operation(ExternalSigner(account.address))
    except SignatureRequired as needed:
        tx = {k: v for k, v in needed.tx.items() if k != "from"}
        return "0x" + account.sign_transaction(tx).raw_transaction.hex()
    raise AssertionError("the operation did not stop at the signature")


def broadcast(api, client, raw: str):
    return api.post("/api/transactions", {"chain_id": client.chain.chain_id, "raw": raw})


@pytest.fixture
def victim(client, storage, server):
    """Alice's record in the registry the server is configured with; the bank asked and was granted."""
    controller, alice, bank = register(client, "issuer"), register(client, "holder"), register(client, "inspector")
    registry = personal.deploy(client.chain, controller)
    data = PersonalData(registry, storage, identities=client.identities)
    data.create_with_consent(controller, alice, ALICE, "citizen registry")
    server.app.state.personal.append(registry.address)
    yield controller, alice, bank, registry, data
    for address in list(server.app.state.personal):
        if address != registry.address:
            continue
        server.app.state.personal.remove(address)


def lookalike(client, storage, attacker, subject, cid: str, digest: bytes):
    """The attacker's genuine copy of the registry, with a record of its own pointing at someone else's file."""
    registry = personal.deploy(client.chain, attacker)
    deadline = client.chain.timestamp() + 600
    signature = registry.sign_consent(subject, attacker.address, b"\x01" * 32, digest, deadline)
    registry.create(attacker, subject.address, cid, digest, b"\x01" * 32, deadline, signature)
    return registry


# ---------------------------------------------------------------------- attack 1: look-alike contracts


def test_an_erase_in_a_lookalike_registry_cannot_delete_the_victims_file(api, client, storage, server, victim):
    controller, alice, bank, registry, data = victim
    attacker, sock = register(client, "issuer"), new_account()
    record = registry.record(alice.address)
    theirs = lookalike(client, storage, attacker, sock, record.pointer, record.integrity_hash)

    # (a) the attacker's erase of its own record, broadcast through the server
    raw = raw_tx(attacker, lambda signer: theirs.erase(signer, sock.address))
    message = error_of(broadcast(api, client, raw), 403)
    assert "only broadcasts transactions to the contracts of its deployment" in message
    assert storage.has(record.pointer)
    assert "not a personal-data registry this server serves" in error_of(
        api.get(f"/api/personal/{theirs.address}/subjects/{sock.address}"), 404)

    # even a registry the operator does serve cannot reach a file another record stored
    server.app.state.personal.append(theirs.address)
    try:
        receipt = api.ok(broadcast(api, client, raw))
        assert [e["event"] for e in receipt["events"]] == ["PersonalDataErased"]
        assert storage.has(record.pointer)  # the clean-up left the victim's file: her record claims it
        assert storage.ownership.owners(record.pointer)[0].owner == data.owner(alice.address)
        assert api.ok(gateway_read(api, registry, alice, alice.address))["envelope"]
    finally:
        server.app.state.personal.remove(theirs.address)


def test_no_clean_up_removes_a_file_a_served_record_still_names(api, client, storage, server, victim):
    """A file no index entry claims (stored before the index, or by hand) is still safe while a live
    record of a served registry names it: the reference check runs before any removal."""
    controller, alice, bank, registry, data = victim
    other = register(client, "holder")
    sealed = envelope.seal(json.dumps(ALICE).encode(), {other.address: public_key(other),
                                                        controller.address: public_key(controller)})
    cid = storage.add(sealed)  # unclaimed
    digest = envelope.integrity_hash(sealed)
    deadline = client.chain.timestamp() + 600
    registry.create(controller, other.address, cid, digest, b"\x02" * 32, deadline,
                    registry.sign_consent(other, controller.address, b"\x02" * 32, digest, deadline))
    attacker, sock = register(client, "issuer"), new_account()
    theirs = lookalike(client, storage, attacker, sock, cid, digest)
    server.app.state.personal.append(theirs.address)
    try:
        api.ok(broadcast(api, client, raw_tx(attacker, lambda signer: theirs.erase(signer, sock.address))))
        assert storage.get(cid) == sealed  # her record, served here, still names it
    finally:
        server.app.state.personal.remove(theirs.address)


def test_a_revoked_requester_cannot_read_through_its_own_registry(api, client, storage, server, victim):
    controller, alice, bank, registry, data = victim
    request = data.request_consent(bank, alice.address, "mortgage application")
    data.grant(alice, request.request_id)
    data.revoke(alice, bank.address)
    record = registry.record(alice.address)
    sock = new_account()
    theirs = lookalike(client, storage, bank, sock, record.pointer, record.integrity_hash)

    # (b) through the server's gateway, as the page would do it
    assert "not a personal-data registry this server serves" in error_of(
        api.get(f"/api/personal/{theirs.address}/read-request", subject=sock.address), 404)
    signed = theirs.signed_read(bank, sock.address, "*")
    body = {"reader": bank.address, "what": "0x" + signed.what.hex(), "deadline": signed.deadline,
            "nonce": str(signed.nonce), "signature": "0x" + signed.signature.hex()}
    assert "not a personal-data registry this server serves" in error_of(
        api.post(f"/api/personal/{theirs.address}/subjects/{sock.address}/read", body), 404)

    server.app.state.personal.append(theirs.address)
    try:
        message = error_of(api.post(f"/api/personal/{theirs.address}/subjects/{sock.address}/read", body), 403)
        assert f"file {record.pointer} was not stored for {sock.address}'s record" in message
        assert theirs.access_log(sock.address) == []  # refused before any gas was spent
    finally:
        server.app.state.personal.remove(theirs.address)
    # her own log: the bank's only reads are the ones through her registry
    assert all(e.reader != bank.address for e in registry.access_log(alice.address))


def test_an_allowed_reader_cannot_republish_a_paid_file_for_free(api, client, storage, server):
    owner, reader = register(client, "issuer"), register(client, "inspector")
    contract = sharing.deploy(client.chain, owner)
    paid = sharing.share(contract, owner, storage, b"parcel register 2026", "land-register",
                         {reader.address: public_key(reader)}, fee=10**15)
    server.app.state.sharing.append(contract.address)
    try:
        # (c) the reader never pays; it publishes the same CID and hash at no fee in its own contract
        theirs = sharing.deploy(client.chain, reader)
        free = theirs.publish(reader, "land-register", "sha256", paid.integrity_hash, pointer=paid.pointer, fee=0)
        theirs.allow(reader, free.asset_id, [reader.address])
        theirs.request_access(reader, free.asset_id, b"\x00" * 32)
        assert theirs.has_grant(free.asset_id, reader.address, 1)
        base = f"/api/sharing/{theirs.address}/assets/{free.asset_id}"
        assert "not a data-sharing contract this server serves" in error_of(api.get(base), 404)
        body = dict(sharing.sign_read(theirs, reader, free.asset_id))
        body.pop("asset_id")
        assert "not a data-sharing contract this server serves" in error_of(api.post(base + "/read", body), 404)

        server.app.state.sharing.append(theirs.address)
        try:
            body = dict(sharing.sign_read(theirs, reader, free.asset_id))
            body.pop("asset_id")
            message = error_of(api.post(base + "/read", body), 403)
            assert f"file {paid.pointer} was not stored for asset {free.asset_id}" in message
        finally:
            server.app.state.sharing.remove(theirs.address)
        # the owner's own asset still refuses the reader who never paid
        body = dict(sharing.sign_read(contract, reader, paid.asset_id))
        body.pop("asset_id")
        assert "request access on chain first" in error_of(
            api.post(f"/api/sharing/{contract.address}/assets/{paid.asset_id}/read", body), 403)
    finally:
        server.app.state.sharing.remove(contract.address)


def test_unconfigured_contracts_get_a_sentence_on_every_route(api, client):
    stranger = client.identities.address  # a real contract of the deployment, but no registry
    for path in ("", "/records", f"/subjects/{stranger}", f"/subjects/{stranger}/log",
                 f"/read-request?subject={stranger}"):
        assert "this server serves" in error_of(api.get(f"/api/personal/{stranger}{path}"), 404)
    assert "this server serves" in error_of(api.get(f"/api/sharing/{stranger}/assets"), 404)


# ---------------------------------------------------------------------- attack 3: the grant race


def test_a_second_grant_upload_cannot_replace_the_subjects(api, client, storage, victim):
    controller, alice, bank, registry, data = victim
    base = f"/api/personal/{registry.address}"
    request = data.request_consent(bank, alice.address, "mortgage application")
    current = storage.get(registry.record(alice.address).pointer)
    mine = envelope.add_reader(current, alice, bank.address, public_key(bank))
    path = f"{base}/requests/{request.request_id}/grant"

    # Alice uploads (signed) and is given grantConsent to sign
    prepared = api.ok(api.post(path, {"subject": alice.address, "envelope": "0x" + mine.hex(),
                                      "signature": store_signature(api, registry, alice, mine, request.request_id)}))
    assert prepared["then"] == "done"

    # meanwhile the attacker posts its own envelope for her request, unsigned and signed by itself
    attacker = new_account()
    forged = envelope.seal(b'{"name":"Mallory"}', {alice.address: public_key(alice), bank.address: public_key(bank)})
    for signature in ("0x" + "00" * 65, store_signature(api, registry, attacker, forged, request.request_id)):
        message = error_of(api.post(path, {"subject": alice.address, "envelope": "0x" + forged.hex(),
                                           "signature": signature}), 403)
        assert f"the upload (grant {request.request_id}) is not signed by {alice.address}" in message
    assert not storage.has(envelope_cid(forged))
    # a replayed signature of hers covers only the file she signed
    assert "not signed by" in error_of(api.post(path, {"subject": alice.address, "envelope": "0x" + forged.hex(),
                                                       "signature": store_signature(api, registry, alice, mine,
                                                                                    request.request_id)}), 403)
    # and only for the use she signed it for: not another request
    other = data.request_consent(bank, alice.address, "insurance quote")
    assert f"the upload (grant {other.request_id}) is not signed by" in error_of(
        api.post(f"{base}/requests/{other.request_id}/grant", {
            "subject": alice.address, "envelope": "0x" + mine.hex(),
            "signature": store_signature(api, registry, alice, mine, request.request_id)}), 403)

    # even her own second upload leaves the first in place
    again = envelope.add_reader(current, alice, bank.address, public_key(bank))
    api.ok(api.post(path, {"subject": alice.address, "envelope": "0x" + again.hex(),
                           "signature": store_signature(api, registry, alice, again, request.request_id)}))
    assert storage.has(prepared["cid"])

    # she signs the first: the record points at a file that is there, and served
    signed = alice.sign_transaction(prepared["sign"]["tx"])
    api.ok(api.post("/api/transactions", {"chain_id": client.chain.chain_id, "raw": "0x" + signed.raw_transaction.hex()}))
    record = registry.record(alice.address)
    assert record.pointer == prepared["cid"] and storage.get(record.pointer) == mine
    assert data.read(bank, alice.address).data == ALICE


def envelope_cid(sealed: bytes) -> str:
    from elicense.storage import cid_of

    return cid_of(sealed)


# ---------------------------------------------------------------------- attack 6: gas drain


def service_state(client):
    service = Account.from_key(dev_key(SERVICE)).address
    return client.chain.w3.eth.get_balance(service), client.chain.w3.eth.get_transaction_count(service)


def test_garbage_reads_cost_the_service_account_nothing(api, client, victim):
    controller, alice, bank, registry, data = victim
    base = f"/api/personal/{registry.address}/subjects/{alice.address}/read"
    before = service_state(client)
    log_before = len(registry.access_log(alice.address))

    def body_for(reader, signer=None, **changes):
        prepared = api.ok(api.get(f"/api/personal/{registry.address}/read-request", subject=alice.address))
        body = {"reader": reader.address, "what": prepared["what"], "deadline": prepared["deadline"],
                "nonce": prepared["nonce"], "signature": sign_typed(signer or reader, prepared["typed"])}
        return {**body, **changes}

    unregistered = new_account()
    cases = [
        (body_for(alice, signature="0x" + os.urandom(65).hex()), 403, "is not who signed the read request"),
        (body_for(alice, signature="0x1234"), 403, "is not who signed the read request"),
        (body_for(alice, signer=bank), 403, f"{alice.address} is not who signed"),
        (body_for(bank, deadline=1), 403, "is not who signed"),  # a changed deadline breaks the signature
        (body_for(unregistered), 403, "neither a registered identity nor a party"),
    ]
    for _ in range(4):  # N of them, repeated
        for body, status, sentence in cases:
            assert sentence in error_of(api.post(base, body), status)
    # an expired request, genuinely signed, and a replay
    registry_typed = registry.typed_read(alice.address, b"*".ljust(32, b"\0"), 1, 7)
    expired = {"reader": alice.address, "what": "0x" + b"*".ljust(32, b"\0").hex(), "deadline": 1, "nonce": "7",
               "signature": sign_plain(alice, registry_typed)}
    assert "has expired" in error_of(api.post(base, expired), 403)
    assert "no personal-data record" in error_of(
        api.post(f"/api/personal/{registry.address}/subjects/{new_account().address}/read", body_for(alice)), 404)
    assert service_state(client) == before  # not one wei, not one transaction
    assert len(registry.access_log(alice.address)) == log_before

    used = body_for(alice)
    api.ok(api.post(base, used))
    spent = service_state(client)
    assert "a replay" in error_of(api.post(base, used), 409)
    assert service_state(client) == spent


def test_a_genuine_readers_refusals_are_logged_within_a_budget(api, client, server, victim):
    controller, alice, bank, registry, data = victim
    budget = server.app.state.read_budget
    saved = budget.refusals_per_reader, budget.refusals_per_client
    budget.refusals_per_reader = 2
    try:
        for _ in range(2):  # a registered bank with no consent: refused, and in the log (it signed)
            assert "neither the subject" in error_of(gateway_read(api, registry, bank, alice.address), 403)
        assert [e.result for e in registry.access_log(alice.address) if e.reader == bank.address] == [
            "not-authorised", "not-authorised"]
        before = service_state(client)
        message = error_of(gateway_read(api, registry, bank, alice.address), 429)
        assert f"{bank.address} has had 2 refused reads logged at this server's expense" in message
        assert service_state(client) == before
        api.ok(gateway_read(api, registry, alice, alice.address))  # others are not held up

        # fresh registered keys from the same client: the client's own budget ends it
        used = len(budget._recent(("client", "127.0.0.1", True), time.monotonic()))
        budget.refusals_per_client = used + 1
        first, second = register(client, "inspector"), register(client, "inspector")
        assert "neither the subject" in error_of(gateway_read(api, registry, first, alice.address), 403)
        before = service_state(client)
        message = error_of(gateway_read(api, registry, second, alice.address), 429)
        assert "client 127.0.0.1 has had" in message and "refused reads" in message
        assert service_state(client) == before
    finally:
        budget.refusals_per_reader, budget.refusals_per_client = saved


# ---------------------------------------------------------------------- purpose statements


def test_purposes_only_for_the_parties_and_erased_with_the_record(api, client, server, victim, tmp_path):
    controller, alice, bank, registry, data = victim
    base = f"/api/personal/{registry.address}"
    text = "mortgage application of Alice Example, 39001010000"
    prepared, _ = api.perform(bank, base + "/requests", {"requester": bank.address, "subject": alice.address,
                                                        "purpose": text, "public_key": "0x" + public_key(bank).hex()})
    request = registry.requests_for(alice.address)[-1]
    assert "0x" + bytes(request.purpose).hex() == prepared["purpose"]
    assert bytes(request.purpose) != keccak(text=text)  # salted: guessing the text confirms nothing
    assert text not in json.dumps(api.ok(api.get(f"{base}/subjects/{alice.address}")))
    assert purposes_seen_by(api, registry, alice.address, alice) == {request.request_id: text}

    stranger = register(client, "inspector")
    prepared_view = api.ok(api.get(f"{base}/subjects/{alice.address}/purposes-request", viewer=stranger.address))
    body = {"viewer": stranger.address, "deadline": prepared_view["deadline"],
            "signature": sign_plain(stranger, prepared_view["typed"])}
    assert "not a party to any consent request" in error_of(api.post(f"{base}/subjects/{alice.address}/purposes", body),
                                                            403)
    body = {"viewer": alice.address, "deadline": prepared_view["deadline"],
            "signature": sign_plain(stranger, prepared_view["typed"])}
    assert "not signed by" in error_of(api.post(f"{base}/subjects/{alice.address}/purposes", body), 403)

    # the controller erases through the server: the statement leaves the server with the record
    raw = raw_tx(controller, lambda signer: registry.erase(signer, alice.address))
    api.ok(broadcast(api, client, raw))
    assert not server.app.state.purposes.holds(text)
    assert text not in server.app.state.purposes.path.read_text(encoding="utf-8")
    assert oct(server.app.state.purposes.path.stat().st_mode & 0o777) == "0o600"
    assert purposes_seen_by(api, registry, alice.address, alice) == {}


def test_purposes_leave_when_the_record_is_erased_elsewhere(api, client, server, victim):
    controller, alice, bank, registry, data = victim
    base = f"/api/personal/{registry.address}"
    text = "insurance quote for Alice Example"
    api.perform(bank, base + "/requests", {"requester": bank.address, "subject": alice.address, "purpose": text,
                                           "public_key": "0x" + public_key(bank).hex()})
    assert server.app.state.purposes.holds(text)
    data.erase(controller, alice.address)  # the controller's CLI, not through this server
    assert api.ok(api.get(f"{base}/subjects/{alice.address}"))["record"]["erased"]
    assert not server.app.state.purposes.holds(text)


def test_the_new_routes_answer_bad_input_with_a_sentence(api, client, victim):
    controller, alice, bank, registry, data = victim
    base = f"/api/personal/{registry.address}/subjects/{alice.address}"
    assert "integrity hash" in error_of(api.get(base + "/store-request", integrity_hash="xyz"), 400)
    assert "address" in error_of(api.get(base + "/purposes-request", viewer="0x12"), 400)
    assert "no personal-data record" in error_of(
        api.get(f"/api/personal/{registry.address}/subjects/{new_account().address}/readers"), 404)
    assert "not an elicense envelope" in error_of(api.post(base + "/reseal", {"envelope": "0x00ff", "signature": "0x00"}),
                                                  400)
    readers = {r["address"]: bytes.fromhex(r["public_key"][2:]) for r in api.ok(api.get(base + "/readers"))["readers"]}
    assert set(readers) == {alice.address, controller.address}
    document = json.dumps(ALICE).encode()
    for sealed, sentence in ((envelope.seal(document, {alice.address: readers[alice.address]}),
                              f"not sealed for {controller.address}"),
                             (envelope.seal(document, {**readers, bank.address: public_key(bank)}),
                              f"sealed for {bank.address}, who may not read it")):
        body = {"envelope": "0x" + sealed.hex(), "signature": store_signature(api, registry, alice, sealed)}
        assert sentence in error_of(api.post(base + "/reseal", body), 400)
    good = envelope.seal(document, readers)
    assert "not signed by" in error_of(api.post(base + "/reseal", {"envelope": "0x" + good.hex(),
                                                                   "signature": "0x" + "11" * 65}), 403)
    stale = {"viewer": alice.address, "deadline": 1, "signature": "0x00"}
    assert "expired" in error_of(api.post(base + "/purposes", stale), 403)
    assert error_of(api.post(base + "/purposes", {"viewer": alice.address}), 422)
