"""Fixtures for the REST API and browser tests: a real Anvil, the real contracts, `elicense serve`'s
server in a thread, and (for the pages) Debian's Chromium driven by Playwright.

Users' keys stay in the tests, as they stay in the browser: every state change is prepared by the
server, signed here (or in the page) and submitted as raw bytes. Never port 8545."""

from __future__ import annotations

import os
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"websockets\.legacy is deprecated", DeprecationWarning)
    import web3  # noqa: F401

from elicense import Client, types
from elicense.chain import account_from_key
from elicense.crypto import new_account
from elicense.nodes import LocalChain, dev_key
from elicense.server import Server
from elicense.store import DocumentStore
from elicense.wallet import Wallet

PROJECT = Path(__file__).resolve().parents[2]
os.environ["PATH"] = f"{PROJECT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"
SERVICE = 5  # development account that pays for proofs and the faucet
PASSWORD = "correct horse battery staple"


class Api:
    """requests against the server, with the browser's prepare → sign → submit loop."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()

    def get(self, path: str, **params):
        return self.http.get(self.url + path, params=params, timeout=60)

    def post(self, path: str, body):
        return self.http.post(self.url + path, json=body, timeout=120)

    def ok(self, response) -> dict:
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    def perform(self, account: LocalAccount, path: str, body: dict) -> tuple[dict, dict]:
        """What the pages do: prepare on the server, sign here, submit; again while the server says retry."""
        for _ in range(4):
            prepared = self.ok(self.post(path, body))
            pending = prepared["sign"]
            assert pending["from"] == account.address
            signed = account.sign_transaction(pending["tx"])
            receipt = self.ok(self.post("/api/transactions", {"chain_id": pending["chain_id"],
                                                                "raw": "0x" + signed.raw_transaction.hex()}))
            if prepared["then"] == "done":
                return prepared, receipt
        raise AssertionError("the server kept asking for more signatures")


def error_of(response, status: int) -> str:
    """The error sentence of a refused request, after checking its status and JSON shape."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body["error"]["message"]


@dataclass(frozen=True)
class Agency:
    code: str
    signer: LocalAccount
    client: Client  # acting as the signer, for set-up done without the pages


@pytest.fixture(scope="session")
def node():
    chain = LocalChain(kind="anvil", port=0).start()
    yield chain
    chain.stop()


@pytest.fixture(scope="session")
def authorities():
    return [account_from_key(dev_key(i)) for i in range(3)]


@pytest.fixture(scope="session")
def client(node, authorities, tmp_path_factory) -> Client:
    root = tmp_path_factory.mktemp("web")
    c = Client.connect(node.url, sender=authorities[0], deployments_dir=root / "deployments",
                       wallet=Wallet(root / "keystore"), store=DocumentStore(root / "store"))
    c.deploy_all(authorities=[a.address for a in authorities])
    return c


@pytest.fixture(scope="session")
def storage(tmp_path_factory):
    from elicense.storage.embedded import EmbeddedStore

    return EmbeddedStore(tmp_path_factory.mktemp("storage"))


@pytest.fixture(scope="session")
def server(client, storage, tmp_path_factory):
    with Server(client, account_from_key(dev_key(SERVICE)), faucet=True, storage=storage,
                gateway_log=tmp_path_factory.mktemp("gateway")) as running:
        yield running


@pytest.fixture(scope="session")
def api(server) -> Api:
    return Api(server.url)


def register(client: Client, role: str, account: LocalAccount | None = None) -> LocalAccount:
    account = account or new_account()
    client.register_user(f"{role}-{account.address[2:10]}", role, account=account)
    return account


def make_agency(client: Client, authorities, cert_types=("degree",)) -> Agency:
    signer = register(client, "issuer")
    code = f"AG-{uuid.uuid4().hex[:10]}".upper()
    proposal = client.issuers.propose_add_agency(authorities[0], code, f"Agency {code}", [signer.address], list(cert_types))
    assert client.issuers.approve(authorities[1], proposal.proposal_id).executed
    return Agency(code, signer, client.with_sender(signer))


@pytest.fixture(scope="session")
def agency(client, authorities) -> Agency:
    return make_agency(client, authorities, ("degree", "health-licence"))


@pytest.fixture
def holder(client) -> LocalAccount:
    return register(client, "holder")


@pytest.fixture(scope="session")
def inspector(client, authorities) -> LocalAccount:
    """A registered inspector, authorised in every licence registry by an inspectorate agency that answers for it."""
    account = register(client, "inspector")
    inspectorate = make_agency(client, authorities, tuple(types.CERT_TYPES))
    for cert_type in types.CERT_TYPES:
        inspectorate.client.authorise_inspector(cert_type, account.address)
    return account


def fresh_account() -> LocalAccount:
    return Account.create()


# ---------------------------------------------------------------------- the browser (test_pages.py, test_personal_pages.py)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-quic", "--disable-sync"]


@pytest.fixture(scope="session")
def playwright():
    """One Playwright for the session (here, so that every page test module shares it: a second
    sync_playwright() while the first runs is refused)."""
    from playwright.sync_api import sync_playwright

    if not Path("/usr/bin/chromium").exists():
        pytest.fail("Debian's chromium is missing: `make setup` installs it (apt-get install chromium)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright):
    chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
    yield chromium
    chromium.close()


@pytest.fixture
def open_page(browser, server):
    """Factory: a fresh browser context (its own localStorage) on one of the pages; fails the test
    on any uncaught script error in the page."""
    contexts, errors = [], []

    def make(name: str, width: int = 1100, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=server.url)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{name}: {exc}"))
        page.set_default_timeout(30_000)
        page.goto(f"/{name}")
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, errors
