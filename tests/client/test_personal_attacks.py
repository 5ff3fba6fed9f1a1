"""Issue 12, the store's side: erasure leaves nothing (abandoned drafts and unsigned uploads included,
the audit judging by the store's own inventory), and a look-alike registry, a second genuine
deployment by the attacker, can neither delete nor be served another record's file. On the embedded
store and on a real js-ipfs node."""

from __future__ import annotations

import ipfshttpclient
import pytest
from conftest import register
from ipfs_node import JsIpfsNode, js_ipfs_missing

from elicense import personal, sharing
from elicense.crypto import new_account, public_key
from elicense.errors import DecryptionError, ElicenseError, NotAllowed
from elicense.personal import PersonalData
from elicense.storage import envelope
from elicense.storage.embedded import EmbeddedStore

ALICE = {"name": "Alice Example", "email": "alice@example.org", "national_id": "39001010000"}


@pytest.fixture(scope="module")
def js_ipfs(tmp_path_factory):
    if reason := js_ipfs_missing():
        pytest.fail(reason)
    with JsIpfsNode(tmp_path_factory.mktemp("attacks-ipfs")) as node:
        yield node


@pytest.fixture(params=["embedded", "ipfs"])
def store(request, tmp_path):
    if request.param == "embedded":
        yield EmbeddedStore(tmp_path / "store")
        return
    from elicense.storage.ipfs import IpfsStore

    node = request.getfixturevalue("js_ipfs")
    with IpfsStore(node.api, read_timeout=1, index=tmp_path / "ownership.sqlite3") as ipfs:
        yield ipfs


@pytest.fixture
def parties(client):
    return {name: register(client, role) for name, role in
            (("controller", "issuer"), ("alice", "holder"), ("bank", "inspector"), ("supervisor", "inspector"))}


def opens(store, account) -> list[str]:
    """Every file in the store (its own inventory, not what anyone names) that ``account``'s key opens."""
    found = []
    for cid in list(store.pins()):
        try:
            envelope.open_envelope(store.get(cid), account)
        except (ElicenseError, DecryptionError):
            continue
        found.append(cid)
    return found


def test_erasure_removes_drafts_and_unsigned_uploads_and_the_audit_checks_the_store(client, store, parties):
    controller, alice, bank, supervisor = (parties[n] for n in ("controller", "alice", "bank", "supervisor"))
    registry = personal.deploy(client.chain, controller)
    registry.grant_role(controller, "supervisor", supervisor.address)
    data = PersonalData(registry, store, identities=client.identities)

    abandoned = data.draft(controller.address, alice.address, ALICE)  # stored before any consent, never signed
    data.create_with_consent(controller, alice, ALICE, "citizen registry")
    request = data.request_consent(bank, alice.address, "mortgage application")
    current = registry.record(alice.address)
    upload = data.store_file(alice.address, envelope.add_reader(store.get(current.pointer), alice, bank.address,
                                                                public_key(bank)))  # a grant never signed
    files = {abandoned.cid, current.pointer, upload}
    assert {c.cid for c in store.ownership.claims(data.owner(alice.address))} == files
    assert set(opens(store, alice)) >= files
    live = data.audit(supervisor, alice.address, record_finding=False)
    assert live.finding == "intact"  # a draft or upload waiting for a signature is not a leftover
    assert {e["cid"] for e in live.earlier if e["pending"]} == {abandoned.cid, upload}
    assert request.status == "pending"

    erasure = data.erase(controller, alice.address)
    assert erasure.complete and set(erasure.removed) == files
    assert data.collect(alice.address).still_stored == ()
    for key in (alice, bank, controller):
        assert opens(store, key) == []  # nothing left in the store opens for anyone
    assert store.ownership.claims(data.owner(alice.address)) == []
    assert data.audit(supervisor, alice.address).finding == "erasure-verified"

    # a copy back in the store that no chain event names (the draft was never on chain): the audit sees it
    store.add(store_bytes := envelope.seal(b'{"name":"Alice Example"}', {alice.address: public_key(alice)}))
    report = data.audit(supervisor, alice.address, record_finding=False)
    assert report.finding == "erasure-incomplete" and any(e["held"] for e in report.earlier)
    store.remove(personal_cid(store_bytes))
    assert data.audit(supervisor, alice.address, record_finding=False).finding == "erasure-verified"


def personal_cid(sealed: bytes) -> str:
    from elicense.storage import cid_of

    return cid_of(sealed)


def test_an_abandoned_draft_leaves_after_its_time_even_without_a_record(client, store, parties, monkeypatch):
    controller, alice = parties["controller"], parties["alice"]
    data = PersonalData(personal.deploy(client.chain, controller), store, identities=client.identities)
    draft = data.draft(controller.address, alice.address, ALICE)
    assert data.collect(alice.address).removed == () and store.has(draft.cid)  # still waiting for her consent
    monkeypatch.setattr(personal, "PENDING_TTL", 0)
    assert data.collect(alice.address).removed == (draft.cid,)
    assert not store.has(draft.cid) and opens(store, alice) == []


def test_a_lookalike_registry_can_neither_delete_nor_be_served_anothers_file(client, store, parties):
    controller, alice, bank = parties["controller"], parties["alice"], parties["bank"]
    registry = personal.deploy(client.chain, controller)
    data = PersonalData(registry, store, identities=client.identities)
    data.create_with_consent(controller, alice, ALICE, "citizen registry")
    victim = registry.record(alice.address)

    # the bank's genuine copy of the contract, its own record naming Alice's CID and hash
    sock = new_account()
    theirs = personal.deploy(client.chain, bank)
    deadline = client.chain.timestamp() + 600
    signature = theirs.sign_consent(sock, bank.address, b"\x01" * 32, victim.integrity_hash, deadline)
    theirs.create(bank, sock.address, victim.pointer, victim.integrity_hash, b"\x01" * 32, deadline, signature)
    lookalike = PersonalData(theirs, store, identities=client.identities)

    with pytest.raises(NotAllowed, match=f"file {victim.pointer} was not stored for {sock.address}'s record"):
        lookalike.read(sock, sock.address)
    assert theirs.access_log(sock.address) == []  # refused before the chain was asked

    erasure = lookalike.erase(bank, sock.address)
    assert erasure.removed == () and erasure.complete
    assert store.get(victim.pointer)  # still there: her record stored it and still points at it
    assert data.read(alice, alice.address).data == ALICE


def test_a_lookalike_asset_is_not_served_anothers_file(client, store, parties, tmp_path):
    owner, reader = parties["controller"], parties["bank"]
    contract = sharing.deploy(client.chain, owner)
    paid = sharing.share(contract, owner, store, b"parcel register", "land-register",
                         {reader.address: public_key(reader)}, fee=10**15)
    theirs = sharing.deploy(client.chain, reader)
    free = theirs.publish(reader, "land-register", "sha256", paid.integrity_hash, pointer=paid.pointer, fee=0)
    theirs.allow(reader, free.asset_id, [reader.address])
    theirs.request_access(reader, free.asset_id, b"\x00" * 32)
    gateway = sharing.Gateway(theirs, store, tmp_path / "gateway.log")
    with pytest.raises(NotAllowed, match=f"file {paid.pointer} was not stored for asset {free.asset_id}"):
        gateway.read(sharing.sign_read(theirs, reader, free.asset_id))
    assert not gateway.entries()[-1].served


def test_erasure_on_ipfs_unpins_and_collects_every_file(client, js_ipfs, tmp_path, parties):
    """The node's own view: no pin and no retrievable block of any of the record's files."""
    from elicense.storage.ipfs import IpfsStore

    controller, alice, bank = parties["controller"], parties["alice"], parties["bank"]
    with IpfsStore(js_ipfs.api, read_timeout=1, index=tmp_path / "ownership.sqlite3") as store:
        data = PersonalData(personal.deploy(client.chain, controller), store, identities=client.identities)
        draft = data.draft(controller.address, alice.address, ALICE)
        data.create_with_consent(controller, alice, ALICE, "citizen registry")
        current = data.registry.record(alice.address).pointer
        upload = data.store_file(alice.address, envelope.add_reader(store.get(current), alice, bank.address,
                                                                    public_key(bank)))
        data.erase(controller, alice.address)
        raw = ipfshttpclient.Client(js_ipfs.api)
        pins = raw.pin.ls(type="all")["Keys"]
        for cid in (draft.cid, current, upload):
            assert cid not in pins
            with pytest.raises(ipfshttpclient.exceptions.ErrorResponse):
                raw.cat(cid, offline=True, opts={"timeout": "1s"}, timeout=10)
        raw.close()


def test_the_cli_erase_and_collect_leave_no_copy_and_the_audit_agrees(node, tmp_path_factory, tmp_path):
    """The issue's audit as it was run: `personal draft` abandoned, a second draft created, a grant upload
    never signed, then `personal erase`, `collect` and `audit`, each a separate process on one store."""
    from test_cli import CLI_AUTHORITIES, Cli

    from elicense.chain import account_from_key
    from elicense.nodes import dev_key

    cli = Cli(node.url, tmp_path_factory.mktemp("attacks-cli"))
    cli.json("deploy", *[x for i in CLI_AUTHORITIES for x in ("--authority", account_from_key(dev_key(i)).address)],
             dev=CLI_AUTHORITIES[0])
    people = {n: cli.person(n, r) for n, r in (("controller", "issuer"), ("alice", "holder"), ("bank", "inspector"),
                                               ("supervisor", "inspector"))}
    registry = cli.json("personal", "deploy", account="controller")["registry"]
    storage = cli.root / "storage"
    alice = people["alice"].address

    def run(*args, account):
        return cli.json("personal", "--registry", registry, "--storage", str(storage), *args, account=account)

    fields = ("-f", "name=Alice Example", "-f", "national_id=39001010000")
    run("draft", alice, *fields, "--purpose", "citizen registry", "--out", tmp_path / "abandoned.json",
        account="controller")
    run("draft", alice, *fields, "--purpose", "citizen registry", "--out", tmp_path / "request.json",
        account="controller")
    run("consent", tmp_path / "request.json", "--out", tmp_path / "signed.json", "--yes", account="alice")
    run("create", tmp_path / "signed.json", account="controller")
    asked = run("request", alice, "--purpose", "mortgage application", account="bank")
    # the server's grant route stores her upload before she signs; she never does
    store = EmbeddedStore(storage)
    data = PersonalData(personal.PersonalDataRegistry(cli.client().chain, registry), store)
    current = data.registry.record(alice).pointer
    data.store_file(alice, envelope.add_reader(store.get(current), people["alice"], people["bank"].address,
                                               public_key(people["bank"])))
    assert len(opens(store, people["alice"])) == 3 and asked["status"] == "pending"

    run("grant-role", "supervisor", people["supervisor"].address, account="controller")
    erased = run("erase", alice, account="controller")
    assert erased["still_stored"] == [] and len(erased["removed"]) == 3
    assert run("collect", alice, account="controller") == {"removed": [], "still_stored": []}
    for who in ("alice", "bank", "controller"):
        assert opens(store, people[who]) == []
    assert run("audit", alice, account="supervisor")["finding"] == "erasure-verified"
