"""Fixtures for the client and CLI tests: one real Anvil for the session, real contracts, no mocks.

The chain is shared by every test of the session, so each test makes its own people and agencies
(fresh keys, uuid-based organisation codes) instead of reverting the chain; a test that changes the
authority set works on a deployment of its own (``fresh_deployment``), since the quorum is global.
Never port 8545: another suite owns it. Every node started here is stopped by its own process id.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

with warnings.catch_warnings():  # web3 imports websockets' deprecated legacy module; nothing here uses it
    warnings.filterwarnings("ignore", r"websockets\.legacy is deprecated", DeprecationWarning)
    import web3  # noqa: F401

from elicense import Client, types
from elicense.chain import account_from_key
from elicense.client import QueriedLicence
from elicense.crypto import new_account
from elicense.nodes import LocalChain, dev_key
from elicense.registries import IssuedLicence
from elicense.wallet import Wallet

PROJECT = Path(__file__).resolve().parents[2]
os.environ["PATH"] = f"{PROJECT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"

FIELDS = {"name": "Alice Example", "degree": "MSc", "programme": "Physics", "conferred": "2024-05-31"}


# ---------------------------------------------------------------- helpers (plain functions)


def unique_code(prefix: str = "AG") -> str:
    """An organisation code no other test of the session uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}".upper()


def rpc(client: Client, method: str, params: list | None = None):
    """A raw JSON-RPC call (evm_increaseTime, evm_mine, ...) against the client's node."""
    response = client.chain.w3.provider.make_request(method, params or [])
    assert "error" not in response, response
    return response["result"]


def advance_time(client: Client, seconds: int) -> int:
    """Moves the chain clock forward and mines a block at the new time; returns its timestamp."""
    rpc(client, "evm_increaseTime", [seconds])
    rpc(client, "evm_mine")
    return client.chain.w3.eth.get_block("latest")["timestamp"]


def head(client: Client) -> int:
    return client.chain.w3.eth.block_number


def fast_keystore(wallet: Wallet, name: str, account: LocalAccount, password: str) -> Path:
    """A keystore in the wallet's format (Web3 Secret Storage v3, scrypt) with a small work factor,
    so the CLI can unlock it in milliseconds; `Wallet.save` uses the full (slow) default."""
    wallet.directory.mkdir(parents=True, exist_ok=True)
    path = wallet.directory / f"{name}.json"
    path.write_text(json.dumps(Account.encrypt(account.key, password, kdf="scrypt", iterations=2**4)))
    return path


@dataclass(frozen=True)
class Agency:
    """An accredited agency: its code, its signing account and a client acting as that signer."""

    code: str
    signer: LocalAccount
    client: Client
    cert_types: tuple[str, ...]


@dataclass(frozen=True)
class Issued:
    """A licence issued by ``agency`` to ``holder``: what issuing returned and what query returns."""

    agency: Agency
    holder: LocalAccount
    licence: IssuedLicence
    queried: QueriedLicence
    fields: dict


def register(client: Client, role: str, account: LocalAccount | None = None) -> LocalAccount:
    account = account or new_account()
    client.register_user(f"{role}-{account.address[2:10]}", role, account=account)
    return account


def accredit(client: Client, authorities, code: str, signers, cert_types, parent: str | None = None):
    """Two of the three authorities accredit an agency; returns the executed outcome."""
    proposal = client.issuers.propose_add_agency(authorities[0], code, f"Agency {code}", signers, cert_types, parent)
    outcome = client.issuers.approve(authorities[1], proposal.proposal_id)
    assert outcome.executed
    return outcome


def make_agency(client: Client, authorities, cert_types=("degree",), prefix: str = "AG") -> Agency:
    signer = register(client, "issuer")
    code = unique_code(prefix)
    accredit(client, authorities, code, [signer.address], list(cert_types))
    return Agency(code, signer, client.with_sender(signer), tuple(cert_types))


def issue(client: Client, agency: Agency, holder: LocalAccount, fields: dict | None = None, cert_type: str = "degree",
          **validity) -> Issued:
    fields = dict(FIELDS if fields is None else fields)
    licence = agency.client.send_certification(holder.address, agency.code, cert_type, fields, **validity)
    queried = client.query_licence(holder.address, licence.block_number, licence.tx_hash)
    return Issued(agency, holder, licence, queried, fields)


def suspend_agency(client: Client, authorities, code: str) -> None:
    proposal = client.issuers.propose_suspend(authorities[0], code)
    assert client.issuers.approve(authorities[1], proposal.proposal_id).executed


# ---------------------------------------------------------------- the session's chain


@pytest.fixture(scope="session")
def node():
    chain = LocalChain(kind="anvil", port=0).start()  # port 0: a free port, never 8545
    yield chain
    chain.stop()


@pytest.fixture(scope="session")
def authorities() -> list[LocalAccount]:
    """The three founding governing authorities: development accounts 0..2 (quorum 2)."""
    return [account_from_key(dev_key(i)) for i in range(3)]


@pytest.fixture(scope="session")
def client(node, authorities, tmp_path_factory) -> Client:
    """A client acting as authority 0, on a deployment of every contract (all five types)."""
    root = tmp_path_factory.mktemp("session")
    c = Client.connect(node.url, sender=authorities[0], deployments_dir=root / "deployments",
                       wallet=Wallet(root / "keystore"))
    c.deploy_all(authorities=[a.address for a in authorities])
    return c


@pytest.fixture
def fresh_deployment(client, authorities, tmp_path):
    """Factory: a client on a deployment of its own (same node), for tests that change global state
    such as the authority set."""

    def make(founders=None, cert_types=("degree",)) -> Client:
        c = Client(client.chain, sender=authorities[0], deployments_dir=tmp_path / "deployments",
                   wallet=Wallet(tmp_path / "keystore"))
        c.deploy_all(list(cert_types), [a.address for a in (founders or authorities)], save=False)
        return c

    return make


# ---------------------------------------------------------------- people


@pytest.fixture
def holder(client) -> LocalAccount:
    """A registered holder whose private key the test knows."""
    return register(client, "holder")


@pytest.fixture
def other_holder(client) -> LocalAccount:
    return register(client, "holder")


@pytest.fixture(scope="session")
def inspector(client, authorities) -> LocalAccount:
    """A registered inspector, authorised in every licence registry by an inspectorate agency (accredited
    for all five types) that answers for it: self-registration alone records nothing."""
    account = register(client, "inspector")
    inspectorate = make_agency(client, authorities, tuple(types.CERT_TYPES), "INSP")
    for cert_type in types.CERT_TYPES:
        inspectorate.client.authorise_inspector(cert_type, account.address)
    return account


@pytest.fixture(scope="session")
def civil(client, authorities) -> Agency:
    """The civil registry: an agency governance named for closing holders' records (no licence type)."""
    return make_agency(client, authorities, ("civil-registry",), "CIV")


@pytest.fixture(scope="session")
def inspector_client(client, inspector) -> Client:
    return client.with_sender(inspector)


@pytest.fixture
def stranger() -> LocalAccount:
    """A key registered nowhere."""
    return new_account()


@pytest.fixture
def agency(client, authorities) -> Agency:
    """A freshly accredited degree agency with one registered signer."""
    return make_agency(client, authorities, ("degree",), "EDU")


@pytest.fixture
def issued(client, agency, holder) -> Issued:
    """A degree licence, with four fields, issued to ``holder`` by ``agency``."""
    return issue(client, agency, holder)
