"""Shared data sets end to end on a real Anvil: the owner seals a file for its readers, stores it off
chain (the embedded store, and a real js-ipfs node), publishes CID + SHA-256, and the gateway serves
the sealed file only to a reader whose fresh signed request the contract's grant admits; every
served and every refused read is logged."""

from __future__ import annotations

import pytest

from conftest import register
from elicense import crypto, sharing
from elicense.commitments import Purpose
from elicense.errors import InvalidInput, NotAllowed
from elicense.storage import envelope
from elicense.storage.embedded import EmbeddedStore
from ipfs_node import JsIpfsNode, js_ipfs_missing

DATA = b"business register extract 2026: 1,204 companies, columns id,name,status,address" * 50


@pytest.fixture
def world(client, tmp_path):
    owner = register(client, "issuer")
    readers = [register(client, "inspector") for _ in range(3)]
    contract = sharing.deploy(client.chain, owner)
    store = EmbeddedStore(tmp_path / "storage")
    return owner, readers, contract, store, sharing.Gateway(contract, store, tmp_path / "gateway.log")


def keys(*accounts) -> dict:
    return {a.address: crypto.public_key(a) for a in accounts}


def test_an_allowed_reader_with_a_recorded_grant_gets_the_file(world):
    owner, (alice, bob, _), contract, store, gateway = world
    published = sharing.share(contract, owner, store, DATA, "business-register", keys(alice, bob), fee=10**12)
    asset = contract.asset(published.asset_id)
    assert asset.pointer == published.pointer and asset.pointer.startswith("Qm")
    assert DATA not in store.get(asset.pointer)  # sealed before it left the owner

    outcome = contract.request_access(alice, published.asset_id, b"\x01" * 32)
    assert outcome.granted and outcome.fee == 10**12
    sealed = gateway.read(sharing.sign_read(contract, alice, published.asset_id))
    assert envelope.open_envelope(sealed, alice.key) == DATA
    assert [(e.reader, e.served, e.reason) for e in gateway.entries()] == [(alice.address, True, "served")]


@pytest.mark.parametrize("case, message", [
    ("not-allowed", "is not on the allow-list"),
    ("no-grant", "has no recorded access grant"),
    ("replay", "used already"),
    ("forged", "not signed by the reader it names"),
    ("expired", "has expired"),
    ("too-long", "valid for more than 300 s"),
    ("old-version", "is at version 2, not 1"),
    ("withdrawn", "was withdrawn"),
    ("malformed", "lacks 'signature'"),
])
def test_every_refused_read_is_named_and_logged(world, case, message):
    owner, (alice, bob, carol), contract, store, gateway = world
    published = sharing.share(contract, owner, store, DATA, "business-register", keys(alice, bob))
    asset_id = published.asset_id
    contract.request_access(alice, asset_id, b"\x00" * 32)
    request = sharing.sign_read(contract, alice, asset_id)
    if case == "not-allowed":
        contract.request_access(carol, asset_id, b"\x00" * 32)  # recorded as denied on chain
        request = sharing.sign_read(contract, carol, asset_id)
    elif case == "no-grant":
        request = sharing.sign_read(contract, bob, asset_id)
    elif case == "replay":
        gateway.read(request)
    elif case == "forged":
        request = dict(request, reader=bob.address)
    elif case == "expired":
        request = sharing.sign_read(contract, alice, asset_id, now=contract.chain.timestamp() - 600)
    elif case == "too-long":
        request = sharing.sign_read(contract, alice, asset_id, ttl=3600)
    elif case == "old-version":
        sharing.add_reader(contract, owner, store, asset_id, carol.address, crypto.public_key(carol))
    elif case == "withdrawn":
        contract.withdraw(owner, asset_id)
    elif case == "malformed":
        request = {k: v for k, v in request.items() if k != "signature"}
    with pytest.raises((NotAllowed, InvalidInput), match=message):
        gateway.read(request)
    refused = [e for e in gateway.entries() if not e.served]
    assert len(refused) == 1 and message in refused[0].reason
    # a restarted gateway still knows what it logged, and a served nonce stays spent
    again = sharing.Gateway(contract, store, gateway.log_path)
    assert len(again.entries()) == len(gateway.entries())
    if case == "replay":
        with pytest.raises(NotAllowed, match="used already"):
            again.read(request)


def test_a_reader_put_back_on_the_list_needs_a_new_paid_request(world):
    """The attack (issue 12, 9b) at the gateway: alice pays once, the owner takes her off the allow-list
    and later puts her back; she asks the gateway for the file on her old grant. Refused until she pays
    again; bob, who was never taken off, keeps his grant throughout."""
    owner, (alice, bob, _), contract, store, gateway = world
    fee = 10**12
    asset_id = sharing.share(contract, owner, store, DATA, "business-register", keys(alice, bob), fee=fee).asset_id
    purpose = Purpose.new("creditworthiness check for loan 2026-118")
    assert contract.request_access(alice, asset_id, purpose).granted
    assert contract.request_access(bob, asset_id, Purpose.new("audit")).granted
    assert envelope.open_envelope(gateway.read(sharing.sign_read(contract, alice, asset_id)), alice.key) == DATA

    assert contract.disallow(owner, asset_id, [alice.address]) == [alice.address]
    assert contract.allow(owner, asset_id, [alice.address]) == [alice.address]
    assert contract.is_allowed(asset_id, alice.address) and not contract.last_grant(asset_id, alice.address).current
    with pytest.raises(NotAllowed, match="has no recorded access grant for version 1"):
        gateway.read(sharing.sign_read(contract, alice, asset_id))
    unpaid = contract.request_access(alice, asset_id, purpose, value=0)  # asking again without the fee
    assert (unpaid.granted, unpaid.reason) == (False, "wrong-fee")
    with pytest.raises(NotAllowed, match="has no recorded access grant for version 1"):
        gateway.read(sharing.sign_read(contract, alice, asset_id))
    assert envelope.open_envelope(gateway.read(sharing.sign_read(contract, bob, asset_id)), bob.key) == DATA

    again = contract.request_access(alice, asset_id, purpose)  # a new request, a new fee
    assert (again.granted, again.grant_number, again.fee) == (True, 3, fee)
    assert envelope.open_envelope(gateway.read(sharing.sign_read(contract, alice, asset_id)), alice.key) == DATA
    assert contract.payments_of(owner.address) == 3 * fee
    assert [(e.reader, e.served) for e in gateway.entries()] == [
        (alice.address, True), (alice.address, False), (alice.address, False), (bob.address, True),
        (alice.address, True)]


def test_a_new_reader_gets_the_same_data_key_and_a_new_version(world):
    owner, (alice, _, carol), contract, store, gateway = world
    published = sharing.share(contract, owner, store, DATA, "business-register", keys(alice))
    before = contract.asset(published.asset_id)
    assert sharing.add_reader(contract, owner, store, published.asset_id, carol.address, crypto.public_key(carol)) == 2
    after = contract.asset(published.asset_id)
    assert after.pointer != before.pointer and after.integrity_hash != before.integrity_hash
    contract.request_access(carol, published.asset_id, b"\x02" * 32)
    assert envelope.open_envelope(gateway.read(sharing.sign_read(contract, carol, published.asset_id)), carol.key) == DATA


def test_a_tampered_stored_file_is_not_served(world):
    owner, (alice, _, _), contract, store, gateway = world
    published = sharing.share(contract, owner, store, DATA, "business-register", keys(alice))
    contract.request_access(alice, published.asset_id, b"\x00" * 32)
    path = next(store.root.rglob(published.pointer))
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    with pytest.raises(Exception, match=published.pointer):
        gateway.read(sharing.sign_read(contract, alice, published.asset_id))
    assert not gateway.entries()[-1].served


def test_the_gateway_serves_from_a_real_ipfs_node(client, tmp_path_factory, tmp_path):
    from elicense.storage.ipfs import IpfsStore

    if reason := js_ipfs_missing():
        pytest.fail(reason)
    owner, alice = register(client, "issuer"), register(client, "inspector")
    contract = sharing.deploy(client.chain, owner)
    with JsIpfsNode(tmp_path_factory.mktemp("gateway-ipfs")) as node, IpfsStore(node.api, read_timeout=1) as store:
        published = sharing.share(contract, owner, store, DATA, "business-register", keys(alice))
        assert published.pointer == EmbeddedStore(tmp_path / "same").add(store.get(published.pointer))
        contract.request_access(alice, published.asset_id, b"\x00" * 32)
        gateway = sharing.Gateway(contract, store, tmp_path / "gateway.log")
        assert envelope.open_envelope(gateway.read(sharing.sign_read(contract, alice, published.asset_id)),
                                      alice.key) == DATA
