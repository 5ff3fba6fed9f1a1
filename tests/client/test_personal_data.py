"""Personal data under the GDPR through the client (elicense.personal): every right and every refusal,
on a real Anvil with the real PersonalDataRegistry, files in the embedded store and in a real IPFS node."""

from __future__ import annotations

import hashlib
import json

import ipfshttpclient
import pytest
from conftest import register
from ipfs_node import JsIpfsNode, js_ipfs_missing

from elicense import personal
from elicense.crypto import new_account, public_key
from elicense.errors import Conflict, DecryptionError, InvalidInput, NotAllowed, NotFound
from elicense.licence import canonical
from elicense.personal import PersonalData, ReadRefused
from elicense.storage import envelope
from elicense.storage.embedded import EmbeddedStore

ALICE = {"name": "Alice Example", "email": "alice@example.org", "birthdate": "1990-04-01", "city": "Tartu"}
BOB = {"name": "Bob Example", "email": "bob@example.org", "birthdate": "1985-11-30", "city": "Narva"}


class World:
    def __init__(self, client, store):
        self.client = client
        self.controller = register(client, "issuer")
        self.processor = register(client, "issuer")
        self.supervisor = register(client, "inspector")
        self.bank = register(client, "inspector")
        self.alice = register(client, "holder")
        self.bob = register(client, "holder")
        self.stranger = register(client, "inspector")
        self.registry = personal.deploy(client.chain, self.controller)
        self.registry.grant_role(self.controller, "processor", self.processor.address)
        self.registry.grant_role(self.controller, "supervisor", self.supervisor.address)
        self.store = store
        self.data = PersonalData(self.registry, store, identities=client.identities)

    def create(self, subject, document=ALICE, purpose="citizen registry"):
        return self.data.create_with_consent(self.controller, subject, document, purpose)


@pytest.fixture
def world(client, tmp_path):
    return World(client, EmbeddedStore(tmp_path / "store"))


def stored_path(store: EmbeddedStore, cid: str):
    return next(store.root.rglob(cid))


# ------------------------------------------------------------------------------- create


def test_create_records_cid_and_hash_of_the_sealed_file_only(world):
    change = world.create(world.alice)
    record = world.registry.record(world.alice.address)
    sealed = world.store.get(record.pointer)
    assert change.kind == "created" and record.pointer == change.pointer and record.version == 1
    assert record.integrity_hash == hashlib.sha256(sealed).digest() == change.integrity_hash
    assert record.controller == world.controller.address and not record.erased
    # sealed for the subject, the controller and the processors; never the supervisor
    assert set(envelope.readers(sealed)) == {world.alice.address, world.controller.address, world.processor.address}
    # nothing personal on chain or in the store: neither values nor the unsalted hash of the document
    tx = world.client.chain.w3.eth.get_transaction(change.tx_hash)
    receipt = world.client.chain.w3.eth.get_transaction_receipt(change.tx_hash)
    on_chain = bytes(tx["input"]) + b"".join(bytes(log["data"]) for log in receipt["logs"])
    for secret in (b"Alice Example", b"alice@example.org", hashlib.sha256(canonical(ALICE)).digest()):
        assert secret not in on_chain and secret not in sealed
    assert json.loads(envelope.open_envelope(sealed, world.alice)) == ALICE


def test_create_needs_the_subjects_own_consent_and_leaves_no_file_when_refused(world):
    draft = world.data.draft(world.controller.address, world.alice.address, ALICE)
    typed = world.data.consent_typed_data(draft, "citizen registry")
    forged = world.data.sign_consent(world.bob, typed)  # someone else signs for Alice
    with pytest.raises(NotAllowed, match="consent"):
        world.data.create(world.controller, draft, typed, forged)
    assert not world.store.has(draft.cid) and world.registry.record(world.alice.address) is None

    other = world.data.draft(world.controller.address, world.alice.address, BOB)
    with pytest.raises(InvalidInput, match="another file"):
        world.data.create(world.controller, other, typed, world.data.sign_consent(world.alice, typed))

    draft = world.data.draft(world.controller.address, world.alice.address, ALICE)
    typed = world.data.consent_typed_data(draft, "citizen registry")
    signature = world.data.sign_consent(world.alice, typed)
    with pytest.raises(NotAllowed):  # a stranger is no controller, even with a valid consent
        world.data.create(world.stranger, draft, typed, signature)
    assert not world.store.has(draft.cid)


def test_create_refuses_bad_documents_and_unknown_keys(world):
    for bad, message in (({}, "at least one field"), ({"a,b": 1}, "no comma"), ({"x": 1.5}, "floating-point"),
                         ([1, 2], "JSON object")):
        with pytest.raises(InvalidInput, match=message):
            world.data.draft(world.controller.address, world.alice.address, bad)
    with pytest.raises(NotFound, match="no public key"):
        world.data.draft(world.controller.address, new_account().address, ALICE)
    with pytest.raises(InvalidInput, match="another address"):
        world.data.draft(world.controller.address, world.alice.address, ALICE, subject_key=public_key(world.bob))
    assert world.store.stat().count == 0


def test_a_second_create_is_refused_while_the_record_lives(world):
    world.create(world.alice)
    with pytest.raises(Conflict):
        world.create(world.alice, BOB)
    assert world.data.read(world.alice, world.alice.address).data == ALICE


# ------------------------------------------------------------------------------- read


def test_reads_are_logged_first_and_refusals_too(world):
    world.create(world.alice)
    own = world.data.read(world.alice, world.alice.address, "email,name")
    assert own.data == {"email": ALICE["email"], "name": ALICE["name"]} and not own.tampered
    assert own.entry.result == "granted" and own.entry.fields == "email,name"
    assert world.data.read(world.controller, world.alice.address).data == ALICE
    by_processor = world.data.read(world.processor, world.alice.address, ["city"])
    assert by_processor.data == {"city": "Tartu"}

    with pytest.raises(ReadRefused, match="neither the subject") as refused:
        world.data.read(world.stranger, world.alice.address, "*")
    assert refused.value.entry.result == "not-authorised"
    with pytest.raises(ReadRefused):
        world.data.read(world.supervisor, world.alice.address, "*")  # supervisors never read personal data

    # the service that made the reads opens their field commitments; the chain alone shows none of the names
    log = world.data.access_log(world.alice.address)
    assert [(e.reader, e.result, e.fields) for e in log] == [
        (world.alice.address, "granted", "email,name"), (world.controller.address, "granted", "*"),
        (world.processor.address, "granted", "city"), (world.stranger.address, "not-authorised", "*"),
        (world.supervisor.address, "not-authorised", "*")]
    on_chain = world.registry.access_log(world.alice.address)
    assert [e.fields for e in on_chain] == ["0x" + e.what.hex() for e in log]
    assert len({e.what for e in on_chain}) == 5  # each read under its own salt: equal field sets look unrelated
    assert world.registry.verify_access_log(world.alice.address)


def test_nobody_can_log_a_read_in_someone_elses_name(world):
    """The attack (issue 12, 9c) through the gateway: a stranger signs a read with its own key but names
    the processor as the reader, and submits it from its own account. Refused before any transaction
    (the gas estimate meets PersonalDataReadSignatureInvalid): the log never names the processor, nothing
    is served, the stranger spent nothing."""
    import dataclasses

    world.create(world.alice)
    head = world.registry.access_head(world.alice.address)
    forged = dataclasses.replace(world.data.sign_read(world.stranger, world.alice.address, "*"),
                                 reader=world.processor.address)
    w3 = world.client.chain.w3
    sent = w3.eth.get_transaction_count(world.stranger.address)
    with pytest.raises(NotAllowed, match="not signed by the reader it names") as refused:
        world.data.serve(world.stranger, forged)
    assert refused.value.contract_error == "PersonalDataReadSignatureInvalid"
    assert w3.eth.get_transaction_count(world.stranger.address) == sent
    assert world.registry.access_head(world.alice.address) == head
    assert world.registry.access_log(world.alice.address) == []
    assert not world.registry.read_nonce_used(world.processor.address, forged.nonce)
    # the processor's own read with the same nonce still goes through, in its name
    genuine = world.registry.signed_read(world.processor, world.alice.address, "*", nonce=forged.nonce)
    assert world.data.serve(world.stranger, genuine).entry.reader == world.processor.address


def test_a_gateway_submits_the_readers_signed_read(world):
    world.create(world.alice)
    read = world.data.read(world.processor, world.alice.address, "name", submitter=world.stranger)
    assert read.data == {"name": ALICE["name"]}
    assert read.entry.reader == world.processor.address and read.entry.submitter == world.stranger.address


def test_read_flags_a_tampered_and_a_missing_file(world):
    world.create(world.alice)
    record = world.registry.record(world.alice.address)
    path = stored_path(world.store, record.pointer)
    original = path.read_bytes()
    path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    tampered = world.data.read(world.alice, world.alice.address)
    assert tampered.tampered and tampered.data is None and not tampered.missing
    path.unlink()
    missing = world.data.read(world.alice, world.alice.address)
    assert missing.tampered and missing.missing and missing.data is None
    assert world.registry.access_log(world.alice.address)[-1].result == "granted"  # the attempt is logged anyway


def test_read_refuses_bad_input(world):
    world.create(world.alice)
    with pytest.raises(InvalidInput, match="not an Ethereum address|address"):
        world.data.read(world.alice, "0x1234")
    with pytest.raises(NotFound, match="no personal-data record"):
        world.data.read(world.alice, world.bob.address)
    with pytest.raises(InvalidInput, match="name the fields"):
        world.data.read(world.alice, world.alice.address, "name,,email")


# ------------------------------------------------------------------------------- rectify and erase


def test_rectify_replaces_the_file_and_removes_the_old_one(world):
    world.create(world.alice)
    first = world.registry.record(world.alice.address)
    change = world.data.rectify(world.controller, world.alice.address, {**ALICE, "city": "Tallinn"})
    assert change.kind == "updated" and change.version == 2 and change.previous_hash == first.integrity_hash
    assert not world.store.has(first.pointer) and world.store.has(change.pointer)
    # the subject corrects one field; None deletes one
    world.data.rectify(world.alice, world.alice.address, changes={"email": "a@example.net", "birthdate": None})
    expected = {"name": ALICE["name"], "email": "a@example.net", "city": "Tallinn"}
    assert world.data.read(world.alice, world.alice.address).data == expected
    assert world.store.stat().count == 1
    assert [c.kind for c in world.registry.history(world.alice.address)] == ["created", "updated", "updated"]
    with pytest.raises(NotAllowed):
        world.data.rectify(world.stranger, world.alice.address, ALICE)
    with pytest.raises(InvalidInput, match="new personal data"):
        world.data.rectify(world.alice, world.alice.address)
    assert world.store.stat().count == 1  # a refused rectification leaves no stray file


def test_erase_removes_every_file_and_keeps_the_hash_for_audit(world):
    world.create(world.alice)
    world.data.rectify(world.controller, world.alice.address, BOB)
    cids = world.data.pointers(world.alice.address)
    assert len(cids) == 2
    erasure = world.data.erase(world.alice, world.alice.address)
    assert erasure.complete and erasure.change.kind == "erased" and erasure.removed == (cids[1],)
    record = world.registry.record(world.alice.address)
    assert record.erased and record.integrity_hash == erasure.change.integrity_hash
    assert not any(world.store.has(c) for c in cids) and world.store.stat().count == 0
    with pytest.raises(ReadRefused, match="erased"):
        world.data.read(world.controller, world.alice.address)
    with pytest.raises(Conflict, match="erased"):
        world.data.erase(world.controller, world.alice.address)
    with pytest.raises(Conflict, match="erased"):
        world.data.rectify(world.controller, world.alice.address, ALICE)
    # a new record needs a new consent; it starts a new generation
    world.create(world.alice, BOB)
    assert world.registry.record(world.alice.address).generation == 2


def test_erase_by_a_stranger_is_refused_and_changes_nothing(world):
    world.create(world.alice)
    pointer = world.registry.record(world.alice.address).pointer
    with pytest.raises(NotAllowed):
        world.data.erase(world.stranger, world.alice.address)
    assert world.store.has(pointer) and not world.registry.record(world.alice.address).erased


def test_collect_finishes_an_erasure_the_store_missed(world):
    world.create(world.alice)
    pointer = world.registry.record(world.alice.address).pointer
    sealed = world.store.get(pointer)
    world.data.erase(world.alice, world.alice.address)
    world.store.add(sealed)  # a copy came back (a restore from backup)
    assert world.data.collect(world.alice.address).removed == (pointer,)
    assert not world.store.has(pointer)


# ------------------------------------------------------------------------------- export and list


def test_export_is_one_json_document_with_everything(world):
    world.create(world.alice)
    world.data.read(world.controller, world.alice.address, "name")
    exported = world.data.export(world.alice)
    text = json.dumps(exported)
    assert json.loads(text)["data"] == ALICE and exported["format"] == personal.EXPORT_FORMAT
    assert exported["subject"] == world.alice.address and exported["access_log_verified"]
    assert [e["fields"] for e in exported["access_log"]] == ["name", "*"]  # the export's own read is logged
    assert exported["record"]["pointer"] == world.registry.record(world.alice.address).pointer
    assert exported["history"][0]["kind"] == "created"
    with pytest.raises(NotFound):
        world.data.export(world.bob)


def test_list_by_field_is_paged_and_logs_one_transaction_per_page(world):
    subjects = [world.alice, world.bob, *(register(world.client, "holder") for _ in range(3))]
    for i, subject in enumerate(subjects):
        world.create(subject, {"name": f"Person {i}", "email": f"p{i}@example.org", "city": "Tartu"})
    world.data.erase(subjects[2], subjects[2].address)

    first = world.data.list_by_field(world.processor, "email", limit=3)
    assert first.total == 5 and first.next_offset == 3 and first.tx_hash
    assert [i.values for i in first.items] == [{"email": "p0@example.org"}, {"email": "p1@example.org"}, None]
    assert first.items[2].erased and first.items[2].result is None
    second = world.data.list_by_field(world.processor, ["email", "name"], offset=first.next_offset)
    assert second.next_offset is None and [i.values["name"] for i in second.items] == ["Person 3", "Person 4"]
    receipt = world.client.chain.w3.eth.get_transaction_receipt(second.tx_hash)
    assert len(receipt["logs"]) == 2  # both reads, one transaction
    assert world.data.access_log(subjects[3].address)[-1].fields == "email,name"

    refused = world.data.list_by_field(world.stranger, "email")
    assert all(i.values is None for i in refused.items)
    assert {i.result for i in refused.items if not i.erased} == {"not-authorised"}
    for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}):
        with pytest.raises(InvalidInput):
            world.data.list_by_field(world.processor, "email", **bad)


# ------------------------------------------------------------------------------- consent


def test_consent_granted_reencrypts_to_the_requester(world):
    world.create(world.alice)
    request = world.data.request_consent(world.bank, world.alice.address, "mortgage application")
    assert [r.request_id for r in world.data.pending(world.alice.address)] == [request.request_id]
    with pytest.raises(ReadRefused):
        world.data.read(world.bank, world.alice.address, "name")
    old = world.registry.record(world.alice.address)
    decision = world.data.grant(world.alice, request.request_id)
    assert decision.granted and decision.version == old.version + 1
    new = world.registry.record(world.alice.address)
    assert not world.store.has(old.pointer)
    sealed_old_ct = world.store.get(new.pointer)
    assert world.bank.address in envelope.readers(sealed_old_ct)
    assert world.data.read(world.bank, world.alice.address, "name").data == {"name": ALICE["name"]}
    assert world.data.pending(world.alice.address) == []
    with pytest.raises(Conflict, match="already answered"):
        world.data.grant(world.alice, request.request_id)
    # a rectification keeps the consented reader
    world.data.rectify(world.controller, world.alice.address, {**ALICE, "city": "Tallinn"})
    assert world.data.read(world.bank, world.alice.address, "city").data == {"city": "Tallinn"}


def test_consent_denied_and_answered_only_by_the_subject(world):
    world.create(world.alice)
    world.create(world.bob, BOB)
    request = world.data.request_consent(world.bank, world.alice.address, "insurance quote")
    with pytest.raises(NotAllowed, match="addressed to"):
        world.data.deny(world.bob, request.request_id)
    with pytest.raises(NotAllowed, match="addressed to"):
        world.data.grant(world.bob, request.request_id)
    decision = world.data.deny(world.alice, request.request_id)
    assert not decision.granted and world.registry.request(request.request_id).status == "denied"
    with pytest.raises(ReadRefused):
        world.data.read(world.bank, world.alice.address, "name")
    with pytest.raises(Conflict):
        world.data.deny(world.alice, request.request_id)
    with pytest.raises(NotFound):
        world.data.grant(world.alice, 10**9)
    world.data.erase(world.bob, world.bob.address)
    with pytest.raises(Conflict, match="erased"):
        world.data.request_consent(world.bank, world.bob.address, "after erasure")


def test_revoke_ends_reads_and_rekeys_the_file(world):
    world.create(world.alice)
    request = world.data.request_consent(world.bank, world.alice.address, "mortgage application")
    world.data.grant(world.alice, request.request_id)
    kept = world.store.get(world.registry.record(world.alice.address).pointer)
    change = world.data.revoke(world.alice, world.bank.address)
    assert change is not None and change.kind == "updated"
    with pytest.raises(ReadRefused):
        world.data.read(world.bank, world.alice.address, "name")
    current = world.store.get(world.registry.record(world.alice.address).pointer)
    assert world.bank.address not in envelope.readers(current)
    assert not world.store.has(world.data.pointers(world.alice.address)[-2])
    assert json.loads(envelope.open_envelope(kept, world.bank)) == ALICE  # what it was given, it keeps
    with pytest.raises(DecryptionError):
        envelope.open_envelope(current, world.bank)  # nothing new opens with the old data key


def test_a_requester_outside_the_identity_registry_is_keyed_from_its_request(world):
    world.create(world.alice)
    outsider = new_account()
    world.client.fund(outsider.address)
    request = world.data.request_consent(outsider, world.alice.address, "research study")
    world.data.grant(world.alice, request.request_id)
    fresh = PersonalData(world.registry, world.store, identities=world.client.identities)  # knows no keys
    fresh.rectify(world.controller, world.alice.address, {**ALICE, "city": "Parnu"})
    assert fresh.read(outsider, world.alice.address, "city").data == {"city": "Parnu"}


def test_a_processor_added_later_reads_after_the_reseal(world):
    world.create(world.alice)
    world.create(world.bob, BOB)
    late = register(world.client, "issuer")
    seen = []
    assert world.data.add_processor(world.controller, late.address, progress=lambda *p: seen.append(p)) == 2
    assert seen == [(1, 2), (2, 2)] and world.registry.has_role("processor", late.address)
    assert world.data.read(late, world.bob.address, "city").data == {"city": "Narva"}
    assert world.store.stat().count == 2  # the resealed files replaced the old ones
    with pytest.raises(NotFound, match="no public key"):
        world.data.add_processor(world.controller, new_account().address)  # refused before any role changes
    with pytest.raises(NotAllowed):
        world.data.add_processor(world.stranger, register(world.client, "issuer").address)


# ------------------------------------------------------------------------------- supervision


def test_audit_findings_without_any_data_key(world):
    world.create(world.alice)
    report = world.data.audit(world.supervisor, world.alice.address)
    assert report.finding == "intact" and report.tx_hash and report.current["matches"]
    events = world.registry.contract.events.AuditRecorded().get_logs(from_block=0)
    assert events[-1]["args"]["evidence"] == bytes.fromhex(report.evidence[2:])

    path = stored_path(world.store, world.registry.record(world.alice.address).pointer)
    original = path.read_bytes()
    path.write_bytes(b"not the envelope")
    assert world.data.audit(world.supervisor, world.alice.address).finding == "tampered"
    path.unlink()
    assert world.data.audit(world.supervisor, world.alice.address).finding == "missing"
    world.store.add(original)

    old = world.registry.record(world.alice.address).pointer
    world.data.rectify(world.controller, world.alice.address, BOB)
    world.store.add(original)  # the old file came back: the rectification is no longer complete
    assert world.data.audit(world.supervisor, world.alice.address, record_finding=False).finding == "erasure-incomplete"
    world.store.remove(old)

    world.data.erase(world.alice, world.alice.address)
    assert world.data.audit(world.supervisor, world.alice.address).finding == "erasure-verified"
    world.store.add(original)
    assert world.data.audit(world.supervisor, world.alice.address).finding == "erasure-incomplete"
    with pytest.raises(NotAllowed):
        world.data.audit(world.stranger, world.alice.address)


def test_audit_all_walks_every_record(world):
    world.create(world.alice)
    world.create(world.bob, BOB)
    seen = []
    reports = world.data.audit_all(world.supervisor, progress=lambda done, total: seen.append((done, total)))
    assert [r.finding for r in reports] == ["intact", "intact"] and seen == [(1, 2), (2, 2)]


# ------------------------------------------------------------------------------- a real IPFS node


@pytest.fixture(scope="module")
def js_ipfs(tmp_path_factory):
    if reason := js_ipfs_missing():
        pytest.fail(reason)
    with JsIpfsNode(tmp_path_factory.mktemp("personal-ipfs")) as node:
        yield node


def test_every_right_on_a_real_ipfs_node(client, js_ipfs):
    from elicense.storage.ipfs import IpfsStore

    with IpfsStore(js_ipfs.api, read_timeout=1) as store:
        world = World(client, store)
        raw = ipfshttpclient.Client(js_ipfs.api)
        world.create(world.alice)
        first = world.registry.record(world.alice.address).pointer
        assert first in raw.pin.ls(type="recursive")["Keys"]
        assert world.data.read(world.processor, world.alice.address, "email").data == {"email": ALICE["email"]}

        world.data.rectify(world.controller, world.alice.address, {**ALICE, "city": "Tallinn"})
        second = world.registry.record(world.alice.address).pointer
        assert first not in raw.pin.ls(type="all")["Keys"]
        with pytest.raises(ipfshttpclient.exceptions.ErrorResponse):
            raw.cat(first, offline=True, opts={"timeout": "1s"}, timeout=10)

        blocks = js_ipfs.blocks_on_disk()
        erasure = world.data.erase(world.alice, world.alice.address)
        assert erasure.complete and erasure.removed == (second,)
        assert second not in raw.pin.ls(type="all")["Keys"]  # unpinned
        assert js_ipfs.blocks_on_disk() < blocks  # garbage-collected
        with pytest.raises(ipfshttpclient.exceptions.ErrorResponse):  # no longer retrievable
            raw.cat(second, offline=True, opts={"timeout": "1s"}, timeout=10)
        assert world.data.audit(world.supervisor, world.alice.address).finding == "erasure-verified"
        raw.close()
