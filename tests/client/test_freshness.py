"""Attack 11: freshness judged by the verifier's own clock, not by the latest block's timestamp.

On a quiet chain the latest block is old, so a code that expired minutes ago was "usable for 258 s
more" by the chain's clock. Here a chain of its own lags the wall clock by an hour (Anvil's
evm_setTime: its blocks carry the time we give it, no sleeps), then runs an hour ahead; the Python
verifier, the CLI's `check` and the REST API all judge by the wall clock with presentation.CLOCK_SKEW.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import issue, make_agency, register, rpc
from elicense import Client, qr
from elicense.chain import account_from_key
from elicense.nodes import LocalChain, dev_key
from elicense.presentation import CLOCK_SKEW, DEFAULT_TTL, create
from elicense.server import Server
from elicense.storage.embedded import EmbeddedStore
from elicense.wallet import Wallet

ELICENSE = str(Path(sys.executable).with_name("elicense"))
LAG = 3600  # seconds the quiet chain's clock is behind the wall clock


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A chain of its own whose clock lags the wall clock by LAG, a deployment, a degree licence, an
    inspector, and `elicense serve`'s server on it."""
    root = tmp_path_factory.mktemp("freshness")
    chain = LocalChain(kind="anvil", port=0).start()
    try:
        authorities = [account_from_key(dev_key(i)) for i in range(3)]
        client = Client.connect(chain.url, sender=authorities[0], deployments_dir=root / "deployments",
                                wallet=Wallet(root / "keystore"))
        set_chain_clock(client, int(time.time()) - LAG)
        client.deploy_all(authorities=[a.address for a in authorities])
        agency = make_agency(client, authorities, ("degree",), "EDU")
        issued = issue(client, agency, register(client, "holder"))
        inspector = register(client, "inspector")
        agency.client.authorise_inspector("degree", inspector.address)  # the agency answers for it
        with Server(client, account_from_key(dev_key(5)), storage=EmbeddedStore(root / "store"),
                    gateway_log=root / "gateway") as server:
            yield {"client": client, "issued": issued, "inspector": client.with_sender(inspector),
                   "server": server, "root": root, "url": chain.url}
    finally:
        chain.stop()


def set_chain_clock(client: Client, timestamp: int) -> None:
    """The chain's next blocks carry ``timestamp`` onwards; one is mined at once, so it is the latest."""
    rpc(client, "evm_setTime", [timestamp])
    rpc(client, "evm_mine")


def chain_lag(client: Client) -> int:
    return int(time.time()) - client.chain.w3.eth.get_block("latest")["timestamp"]


def signed_at(world, moment: int, ttl: int = DEFAULT_TTL) -> str:
    """The QR text the holder's wallet signs when its own clock reads ``moment``."""
    issued, client = world["issued"], world["client"]
    registry = client.licences("degree")
    p = create(registry, issued.holder, issued.queried.licence_id, issued.agency.code,
               issued.queried.decrypt(issued.holder.key), ttl=ttl, now=moment)
    return qr.encode(p, issued_block=issued.queried.block_number)


def holder_step(verdict: dict) -> dict:
    return next(s for s in verdict["steps"] if s["name"] == "holder-signature")


def rest_verify(world, text: str) -> dict:
    response = requests.post(world["server"].url + "/api/verify", json={"payload": text}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def cli_check(world, text: str) -> subprocess.CompletedProcess:
    path = world["root"] / f"code-{time.monotonic_ns()}.txt"
    path.write_text(text)
    issued = world["issued"]
    return subprocess.run([ELICENSE, "--rpc", world["url"], "--deployments", str(world["root"] / "deployments"),
                           "check", issued.holder.address, "--org", issued.agency.code, "--presentation", str(path),
                           "--no-record"], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("ELICENSE_")}, "COLUMNS": "250"})


# ---------------------------------------------------------------- a quiet chain, its clock behind


def test_an_expired_code_is_refused_though_the_quiet_chain_still_finds_it_fresh(world):
    client = world["client"]
    assert chain_lag(client) >= LAG - 60  # the latest block is an hour old
    expired = int(time.time()) - DEFAULT_TTL - CLOCK_SKEW - 60  # signed, and expired by the wall clock
    text = signed_at(world, expired)
    not_after = expired + DEFAULT_TTL
    assert not_after > client.chain.w3.eth.get_block("latest")["timestamp"]  # the chain alone would say: fresh

    verdict = rest_verify(world, text)
    assert not verdict["valid"] and verdict["failed_step"]["name"] == "holder-signature"
    assert verdict["failed_step"]["code"] == "presentation-expired"
    assert "expired" in verdict["failed_step"]["reason"] and "by this verifier's clock" in verdict["failed_step"]["reason"]

    done = cli_check(world, text)
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "validity window is over" in done.stdout and "INVALID" in done.stdout

    python = world["inspector"].check(None, None, text, record=False)
    assert (python.failed_step.name, python.failed_step.code) == ("holder-signature", "presentation-expired")

    # recording it would have the lagging chain log it as a valid inspection: refused, with a reason
    recorded = world["inspector"].check(None, None, text)
    step = next(s for s in recorded.steps if s.name == "recorded")
    assert step.status == "error" and "expired" in step.reason and recorded.tx_hash is None
    inspector = world["inspector"].sender.address
    answer = requests.post(world["server"].url + "/api/inspections", json={"payload": text, "inspector": inspector},
                           timeout=60)
    assert answer.status_code == 409 and "expired" in answer.json()["error"]["message"], answer.text


def test_a_fresh_code_verifies_on_the_quiet_chain_for_its_own_lifetime(world):
    text = signed_at(world, int(time.time()))

    verdict = rest_verify(world, text)
    assert verdict["valid"], verdict["steps"]
    left = int(holder_step(verdict)["reason"].split("usable for ")[1].split(" s")[0])
    assert DEFAULT_TTL - 30 <= left <= DEFAULT_TTL  # not the chain's "258 s more"

    done = cli_check(world, text)
    assert done.returncode == 0 and "VALID" in done.stdout, (done.stdout, done.stderr)


def test_the_skew_allowance_is_clock_skew_seconds_no_more(world):
    inspector = world["inspector"]
    now = int(time.time())
    within = signed_at(world, now - DEFAULT_TTL - CLOCK_SKEW + 15)  # expired 15 s short of the allowance
    beyond = signed_at(world, now - DEFAULT_TTL - CLOCK_SKEW - 15)

    assert inspector.check(None, None, within, record=False).valid
    verdict = inspector.check(None, None, beyond, record=False)
    assert (verdict.failed_step.name, verdict.failed_step.code) == ("holder-signature", "presentation-expired")


# ---------------------------------------------------------------- the chain's clock ahead


def test_a_chain_clock_ahead_neither_shortens_a_fresh_code_nor_revives_an_expired_one(world):
    client = world["client"]
    set_chain_clock(client, int(time.time()) + LAG)
    try:
        fresh = signed_at(world, int(time.time()))
        verdict = rest_verify(world, fresh)
        assert verdict["valid"], verdict["steps"]
        assert "usable for 1" in holder_step(verdict)["reason"]  # about two minutes, not "expired an hour ago"

        expired = signed_at(world, int(time.time()) - DEFAULT_TTL - CLOCK_SKEW - 60)
        assert rest_verify(world, expired)["failed_step"]["code"] == "presentation-expired"

        # recorded, the chain judges by its own clock and says so: the verdict shows both
        recorded = world["inspector"].check(None, None, fresh)
        assert holder_step({"steps": [s.__dict__ for s in recorded.steps]})["status"] == "valid"
        assert (recorded.failed_step.name, recorded.failed_step.code) == ("recorded", "presentation-expired")
    finally:
        set_chain_clock(client, int(time.time()) - LAG)
