"""API 1 (register user) and API 4 (query public key), plus connecting to a chain and a deployment."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from conftest import head, register
from elicense import (
    Client, Conflict, InvalidInput, KeystoreError, NodeUnreachable, NotAllowed, NotDeployed, NotFound,
)
from elicense import crypto
from elicense.client import REGISTRATION_FUNDING
from elicense.deployments import Deployment
from elicense.nodes import free_port
from elicense.wallet import Wallet

PASSWORD = "correct horse battery staple"


# ---------------------------------------------------------------- API 1: register user


def test_register_user_records_role_and_public_key_on_chain(client, stranger):
    count = client.identities.count()

    user = client.register_user("alice", "holder", account=stranger)

    assert (user.address, user.role) == (stranger.address, "holder")
    assert user.public_key == "0x" + crypto.public_key(stranger).hex()
    identity = client.identities.identity(stranger.address)
    assert identity.role == "holder"
    assert identity.public_key == crypto.public_key(stranger)
    assert identity.registered_at > 0
    assert client.identities.count() == count + 1
    receipt = client.chain.w3.eth.get_transaction_receipt(user.tx_hash)
    assert receipt["blockNumber"] == user.block_number
    assert receipt["from"] == stranger.address  # the new key pays for its own registration


def test_register_user_funds_the_new_account_from_the_sender(client, stranger):
    assert client.chain.balance(stranger.address) == 0

    client.register_user("funded", "inspector", account=stranger)

    balance = client.chain.balance(stranger.address)
    assert 0 < balance < REGISTRATION_FUNDING  # funded, minus the registration's gas


def test_register_user_without_a_key_creates_one_and_returns_it_once(client):
    user = client.register_user("generated", "holder")

    assert user.keystore is None
    account = Account.from_key(user.private_key)
    assert account.address == user.address
    assert client.identities.role(user.address) == "holder"


@pytest.mark.parametrize("role", ["holder", "issuer", "inspector", "authority"])
def test_every_role_can_be_registered(client, role):
    account = register(client, role)
    assert client.identities.role(account.address) == role


def test_registering_twice_is_refused_and_changes_nothing(client, holder):
    before = (head(client), client.identities.identity(holder.address), client.identities.count())

    with pytest.raises(Conflict, match=f"{holder.address} is already registered"):
        client.register_user("again", "inspector", account=holder)

    assert (head(client), client.identities.identity(holder.address), client.identities.count()) == before


def test_unknown_role_is_refused_before_anything_is_sent(client, stranger):
    before = head(client)
    with pytest.raises(InvalidInput, match=r"unknown role 'notary'; use one of holder, issuer, inspector, authority"):
        client.register_user("x", "notary", account=stranger)
    assert head(client) == before
    assert client.identities.role(stranger.address) == "none"


def test_an_unfunded_account_cannot_pay_for_its_registration(client, stranger):
    no_sender = Client(client.chain, deployment=client.deployment)
    before = head(client)

    with pytest.raises(NotAllowed, match=f"account {stranger.address} has not enough ether to pay for gas"):
        no_sender.register_user("poor", "holder", account=stranger)

    assert head(client) == before
    assert client.identities.role(stranger.address) == "none"


def test_a_taken_wallet_name_is_refused_before_the_key_is_registered(client, tmp_path, stranger):
    wallet = Wallet(tmp_path)
    (tmp_path / "dup.json").write_text("{}")
    c = Client(client.chain, sender=client.sender, deployment=client.deployment, wallet=wallet)

    with pytest.raises(Conflict, match="an account named 'dup' exists already"):
        c.register_user("dup", "holder", password=PASSWORD, account=stranger)

    assert client.identities.role(stranger.address) == "none"


@pytest.fixture(scope="module")
def registered(client, tmp_path_factory):
    """One registration with a password, shared by the keystore tests (scrypt is slow)."""
    wallet = Wallet(tmp_path_factory.mktemp("keystore"))
    c = Client(client.chain, sender=client.sender, deployment=client.deployment, wallet=wallet)
    return c.register_user("carol", "holder", password=PASSWORD), wallet


class TestRegisterWithKeystore:

    def test_the_private_key_is_stored_encrypted_and_not_returned(self, registered):
        user, wallet = registered
        assert user.private_key is None
        stored = json.loads(open(user.keystore).read())
        assert stored["crypto"]["kdf"] == "scrypt"
        assert user.address[2:].lower() in json.dumps(stored).lower()
        assert wallet.names() == ["carol"]
        assert wallet.address("carol") == user.address

    def test_the_keystore_unlocks_with_its_password_to_the_registered_key(self, registered, client):
        user, wallet = registered
        account = wallet.load("carol", PASSWORD)
        assert account.address == user.address
        assert account.key.hex().removeprefix("0x") not in open(user.keystore).read()  # stored encrypted
        assert client.query_public_key(user.address) == crypto.public_key(account)

    def test_a_wrong_password_is_refused(self, registered):
        _, wallet = registered
        with pytest.raises(KeystoreError, match="wrong password for this keystore"):
            wallet.load("carol", "not the password")

    def test_a_missing_account_is_refused(self, registered):
        _, wallet = registered
        with pytest.raises(KeystoreError, match="no account named 'dave'"):
            wallet.load("dave", PASSWORD)


def test_a_malformed_wallet_name_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match=r"malformed account name '\.\./escape'"):
        Wallet(tmp_path).keystore("../escape")


# ---------------------------------------------------------------- API 4: query public key


def test_query_public_key_returns_the_registered_key(client, holder):
    key = client.query_public_key(holder.address)

    assert key == crypto.public_key(holder)
    assert len(key) == 64
    assert crypto.address_of(key) == holder.address


def test_query_public_key_accepts_a_lowercase_address(client, holder):
    assert client.query_public_key(holder.address.lower()) == crypto.public_key(holder)


def test_query_public_key_of_an_unregistered_address_is_not_found(client, stranger):
    with pytest.raises(NotFound, match=f"{stranger.address} is not a registered identity"):
        client.query_public_key(stranger.address)


@pytest.mark.parametrize("bad", ["0x1234", "not an address", "0x" + "g" * 40, "", "0x" + "ab" * 21])
def test_query_public_key_of_a_malformed_address_is_invalid(client, bad):
    with pytest.raises(InvalidInput, match="malformed address .*expected 0x followed by 40 hex digits"):
        client.query_public_key(bad)


# ---------------------------------------------------------------- reaching the chain and the deployment


def test_connecting_to_a_closed_port_says_no_node_answers():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NodeUnreachable, match=f"no Ethereum node answers at {url}"):
        Client.connect(url)


def test_a_chain_without_a_deployment_file_is_not_deployed(node, tmp_path):
    c = Client.connect(node.url, deployments_dir=tmp_path)
    with pytest.raises(NotDeployed, match=r"no deployment for chain 31337 .*run `elicense deploy` first"):
        c.query_public_key("0x" + "11" * 20)


def test_a_deployment_file_from_an_earlier_chain_is_stale(client, tmp_path):
    stale = Deployment(**{**client.deployment.__dict__, "genesis": "0x" + "00" * 32})
    stale.save(tmp_path)
    c = Client(client.chain, deployments_dir=tmp_path)
    with pytest.raises(NotDeployed, match="belongs to an earlier chain with id 31337"):
        _ = c.deployment


def test_a_damaged_deployment_file_is_not_deployed(client, tmp_path):
    (tmp_path / "31337.json").write_text("{not json")
    with pytest.raises(NotDeployed, match=r"31337\.json is damaged"):
        _ = Client(client.chain, deployments_dir=tmp_path).deployment


def test_the_saved_deployment_loads_back_and_points_at_code(client):
    loaded = Deployment.load(client.chain, client.deployments_dir)
    assert loaded == client.deployment
    assert sorted(loaded.licence_registries) == [1, 2, 3, 4, 5]
    assert client.chain.w3.eth.get_code(loaded.issuer_registry)
