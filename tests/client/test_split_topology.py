"""The split topology on real chains: a main chain, two side chains (degree, business licence) and an
EU-level chain, each its own Anvil; relayers carry checkpoints both ways; licences verify up to the
EU level; the relayer survives being killed at any point."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest
from eth_account import Account

from elicense.anchoring import KIND_LICENCE, anchor_path, view_of
from elicense.batch import BatchRow
from elicense.chain import account_from_key
from elicense.client import Client
from elicense.deploy import deploy_topology
from elicense.errors import InvalidInput, NotAllowed, NotFound
from elicense.nodes import LocalNetwork, dev_key
from elicense.registries import AnchorRegistry, Checkpoint, RegistryMirror
from elicense.relay import Relayer
from elicense.store import DocumentStore
from elicense.topology import Topology

PASSWORD = "pw"


class Split:
    """The running network, its topology, a relayer thread that can be paused, and the people."""

    def __init__(self, tmp, cert_types=(3, 4), upper: bool = True):
        self.tmp = tmp
        self.network = LocalNetwork(cert_types=cert_types, upper=upper).start()
        self.authorities = [account_from_key(dev_key(i)) for i in range(3)]
        self.relayer_keys = [account_from_key(dev_key(i)) for i in (7, 8, 9)]
        self.topology = self.network.topology()
        deploy_topology(self.topology, self.authorities[0], [a.address for a in self.authorities],
                        [k.address for k in self.relayer_keys])
        self.topology.save(tmp / "topology.json")
        self.admin = Client(topology=self.topology, sender=self.authorities[0], store=DocumentStore(tmp / "store"),
                            anchor_timeout=30)
        self._stop = None
        self.resume()

    def resume(self, keys=None):
        """Starts the relayer thread (with ``keys``, by default every relayer's)."""
        if self._stop is None:
            self.relayer = Relayer(self.topology, keys or self.relayer_keys)
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self.relayer.run, kwargs={"interval": 0.2, "stop": self._stop},
                                            daemon=True)
            self._thread.start()

    def pause(self):
        if self._stop is not None:
            self._stop.set()
            self._thread.join()
            self._stop = None

    def person(self, role: str) -> Account:
        account = Account.create()
        self.admin.register_user(f"{role}-{account.address[:8]}", role, account=account)
        return account

    def agency(self, cert_type: str, parent: str | None = None):
        signer = self.person("issuer")
        code = f"AG-{signer.address[2:8]}"
        outcome = self.admin.issuers.propose_add_agency(self.authorities[0], code, code, [signer.address], [cert_type],
                                                        parent)
        self.admin.issuers.approve(self.authorities[1], outcome.proposal_id)
        return code, self.admin.with_sender(signer)

    def stop(self):
        self.pause()
        self.network.stop()


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    world = Split(tmp_path_factory.mktemp("split"))
    yield world
    world.stop()


def wait_until(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def steps(verdict) -> dict:
    return {s.name: (s.status, s.code) for s in verdict.steps}


# ---------------------------------------------------------------- topology file


def test_the_topology_file_names_chains_contracts_and_relays(split, tmp_path):
    data = json.loads((split.tmp / "topology.json").read_text())
    assert data["kind"] == "split" and data["main"] == "main"
    assert {n: c["chain_id"] for n, c in data["chains"].items()} == {
        "main": 7100, "degree": 7103, "business-licence": 7104, "eu": 7000}
    assert data["chains"]["degree"]["parent"] == "main" and data["chains"]["main"]["parent"] == "eu"
    assert data["chains"]["degree"]["deployment"]["registry_mirror"]
    assert data["chains"]["main"]["deployment"]["identity_registry"]
    assert ["degree", "main"] in data["relays"] and ["main", "degree"] in data["relays"] and ["main", "eu"] in data["relays"]
    loaded = Topology.load(split.tmp / "topology.json")
    loaded.check()  # every record matches its live chain
    assert loaded.to_json() == split.topology.to_json()


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format="other"), "not an elicense topology"),
    (lambda d: d["chains"]["degree"].update(chain_id=7100), "share chain id 7100"),
    (lambda d: d["chains"]["degree"].update(parent="nowhere"), "unknown chain 'nowhere'"),
    (lambda d: d.update(main="mars"), "main chain 'mars'"),
    (lambda d: d["chains"]["business-licence"].update(cert_types=["degree"]), "degree registries on both"),
    (lambda d: d["relays"].append(["degree", "degree"]), "bad relay"),
])
def test_a_malformed_topology_file_is_refused_with_the_reason(split, tmp_path, change, message):
    data = json.loads((split.tmp / "topology.json").read_text())
    change(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInput, match=message):
        Topology.load(path)


# ---------------------------------------------------------------- main → side


def test_issuing_on_a_side_chain_proves_holder_and_agency_to_its_mirror(split):
    code, agency = split.agency("degree")
    holder = split.person("holder")
    registry = split.admin.licences("degree")
    mirror = RegistryMirror(registry.chain, split.topology.deployment("degree").registry_mirror)
    assert mirror.role(holder.address) == "none"
    issued = agency.send_certification(holder.address, code, "degree", {"degree": "MSc"})
    assert mirror.role(holder.address) == "holder"
    assert mirror.accreditation(agency.sender.address)[0] == code
    assert mirror.accreditation(agency.sender.address)[3] is True  # proven against the latest root
    assert registry.chain.chain_id == 7103 and registry.licence(bytes.fromhex(issued.licence_id[2:])).status == "active"


def test_without_proofs_the_side_chain_refuses_to_issue(split):
    code, agency = split.agency("degree")
    holder = split.person("holder")
    registry = agency.licences("degree")
    with pytest.raises(NotAllowed, match="does not sign for an agency accredited for degree"):
        registry.issue(agency.sender, holder.address, b"\1" * 32, 0, 2**40 - 1, b"ciphertext")


def test_a_suspension_on_the_main_chain_reaches_the_side_chain_with_the_next_checkpoint(split):
    code, agency = split.agency("degree")
    holder = split.person("holder")
    agency.send_certification(holder.address, code, "degree", {"degree": "BSc"})
    registry = agency.licences("degree")
    mirror = RegistryMirror(registry.chain, split.topology.deployment("degree").registry_mirror)
    outcome = split.admin.issuers.propose_suspend(split.authorities[0], code)
    split.admin.issuers.approve(split.authorities[1], outcome.proposal_id)
    wait_until(lambda: not mirror.accreditation(agency.sender.address)[3], what="the new accreditation root")
    with pytest.raises(NotAllowed):  # the contract itself refuses: the proven root is no longer the latest
        registry.issue(agency.sender, holder.address, b"\2" * 32, 0, 2**40 - 1, b"ciphertext")
    with pytest.raises(NotAllowed, match="accredited for degree on the main chain"):
        agency.send_certification(holder.address, code, "degree", {"degree": "PhD"})


def test_a_holder_registered_after_the_last_checkpoint_waits_for_the_relayer(split):
    code, agency = split.agency("business-licence")
    split.pause()
    try:
        holder = split.person("holder")
        agency.anchor_timeout = 1.0
        with pytest.raises(NotFound, match="is `elicense relay` running"):
            agency.send_certification(holder.address, code, "business-licence", {"company": "Oy"})
    finally:
        agency.anchor_timeout = 30
        split.resume()
    issued = agency.send_certification(holder.address, code, "business-licence", {"company": "Oy"})
    assert issued.holder == holder.address


# ---------------------------------------------------------------- side → main → EU


def test_a_licence_verifies_up_to_the_eu_level(split):
    code, agency = split.agency("degree")
    holder = split.person("holder")
    inspector = split.admin.with_sender(split.person("inspector"))
    agency.authorise_inspector("degree", inspector.sender.address)  # proves the inspector to the mirror first
    issued = agency.send_certification(holder.address, code, "degree", {"degree": "MSc", "field": "Physics"})
    registry = agency.licences("degree")
    wait_until(lambda: [h.valid for h in anchor_path(split.topology, "degree", KIND_LICENCE, registry.address,
                                                     bytes.fromhex(issued.licence_id[2:]), issued.block_number)]
               == [True, True], what="anchoring up to the EU chain")
    queried = split.admin.query_licence(holder.address, issued.block_number, issued.tx_hash)
    verdict = inspector.check(holder.address, code, split.admin.present(holder, queried, fields=["degree"]))
    assert verdict.valid, verdict.steps
    assert steps(verdict)["anchored"] == ("valid", "ok") and steps(verdict)["anchored-eu"] == ("valid", "ok")
    assert "anchored on main" in next(s.reason for s in verdict.steps if s.name == "anchored")
    assert "anchored on eu" in next(s.reason for s in verdict.steps if s.name == "anchored-eu")


def test_a_licence_not_yet_checkpointed_shows_the_anchoring_as_pending(split):
    code, agency = split.agency("degree")
    holder = split.person("holder")
    agency.ensure_mirrored(agency.licences("degree"), [(holder.address, "holder")], agency.sender.address)
    split.pause()
    try:
        issued = agency.send_certification(holder.address, code, "degree", {"degree": "MA"})
        queried = split.admin.query_licence(holder.address, issued.block_number, issued.tx_hash)
        verdict = split.admin.check(holder.address, code, split.admin.present(holder, queried), record=False)
        assert steps(verdict)["anchored"] == ("skipped", "pending")
        assert verdict.valid  # pending anchoring is shown, not fatal
    finally:
        split.resume()
    wait_until(lambda: steps(split.admin.check(holder.address, code, split.admin.present(holder, queried),
                                               record=False)).get("anchored") == ("valid", "ok"), what="anchoring")


def test_a_batch_on_a_side_chain_verifies_and_one_licence_is_revoked_alone(split):
    code, agency = split.agency("degree")
    holders = [split.person("holder") for _ in range(3)]
    inspector = split.admin.with_sender(split.person("inspector"))
    agency.authorise_inspector("degree", inspector.sender.address)
    batch = agency.issue_batch("degree", code, [BatchRow(h.address, {"degree": "BSc", "n": str(i)})
                                                for i, h in enumerate(holders)])
    assert batch.count == 3
    first, second = (split.admin.licences_of(h.address)[0] for h in holders[:2])
    assert first.batch is not None and first.status == "active"
    agency.revoke("degree", first.licence_id, 1)
    assert inspector.check(holders[0].address, code, split.admin.present(holders[0], first)).result == "revoked"
    verdict = inspector.check(holders[1].address, code, split.admin.present(holders[1], second))
    assert verdict.result == "valid" and verdict.valid, verdict.steps


# ---------------------------------------------------------------- refusals at the anchor, through the client


def test_forged_and_under_signed_checkpoints_are_refused_with_their_own_message(split):
    anchor = AnchorRegistry(split.topology.chain("main"), split.topology.deployment("main").anchor_registry)
    source = 7103
    latest = anchor.latest(source)
    good = Checkpoint(source, latest.sequence + 1, latest.block_number + 10_000, b"\1" * 32)
    forger = Account.create()
    with pytest.raises(NotAllowed, match="not a relayer of that chain"):
        anchor.submit(split.authorities[0], good, anchor.sign([forger, *split.relayer_keys[:1]], good))
    with pytest.raises(NotAllowed, match="only 1 relayer signatures; 2 are needed"):
        anchor.submit(split.authorities[0], good, anchor.sign(split.relayer_keys[:1], good))
    replay = Checkpoint(source, latest.sequence, latest.block_number + 10_000, b"\1" * 32)
    with pytest.raises(Exception, match="already anchored"):
        anchor.submit(split.authorities[0], replay, anchor.sign(split.relayer_keys, replay))
    stale = Checkpoint(source, latest.sequence + 1, latest.block_number, b"\1" * 32)
    with pytest.raises(Exception, match="is stale"):
        anchor.submit(split.authorities[0], stale, anchor.sign(split.relayer_keys, stale))
    assert anchor.latest_sequence(source) >= latest.sequence  # nothing forged got in


def test_the_relayer_refuses_to_start_without_enough_keys(split):
    with pytest.raises(NotAllowed, match="2 signatures are needed"):
        Relayer(split.topology, split.relayer_keys[:1])


# ---------------------------------------------------------------- relayer crash safety


def _relay_process(split, log):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [os.path.join(os.path.dirname(sys.executable), "elicense"), "--topology", str(split.tmp / "topology.json"), "relay",
               "--interval", "0.1", "--dev-key", "7", "--dev-key", "8", "--dev-key", "9"]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def test_the_relayer_killed_at_random_points_resumes_without_duplicates_or_gaps(split):
    """Licences are issued while `elicense relay` (a real process) is killed with SIGKILL at random
    moments and restarted; afterwards every licence is anchored up to the EU, every checkpoint
    sequence was accepted exactly once, and no relayer transaction reverted."""
    split.pause()
    code, agency = split.agency("business-licence")
    holder = split.person("holder")
    random.seed(20261122)
    issued = []
    log = open(split.tmp / "relay.log", "ab")
    try:
        for _ in range(6):
            process = _relay_process(split, log)
            try:
                for _ in range(3):
                    issued.append(agency.send_certification(holder.address, code, "business-licence",
                                                            {"company": f"Firma {len(issued)}"}))
                time.sleep(random.uniform(0.3, 2.5))
            finally:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        process = _relay_process(split, log)
        try:
            registry = agency.licences("business-licence")

            def all_anchored():
                return all([h.valid for h in anchor_path(split.topology, "business-licence", KIND_LICENCE,
                                                         registry.address, bytes.fromhex(i.licence_id[2:]),
                                                         i.block_number)] == [True, True] for i in issued[-3:])

            wait_until(all_anchored, timeout=60, what="the restarted relayer")
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
    finally:
        log.close()
        split.resume()

    registry = agency.licences("business-licence")
    for licence in issued:
        hops = anchor_path(split.topology, "business-licence", KIND_LICENCE, registry.address,
                           bytes.fromhex(licence.licence_id[2:]), licence.block_number)
        assert [h.valid for h in hops] == [True, True], licence
    submitter = split.relayer_keys[0].address
    for source, destination in split.topology.relays:
        chain = split.topology.chain(destination)
        anchor = AnchorRegistry(chain, split.topology.deployment(destination).anchor_registry)
        source_id = split.topology.entry(source).chain_id
        events = anchor.contract.events.CheckpointAnchored().get_logs(
            from_block=0, argument_filters={"sourceChainId": source_id})
        sequences = [e["args"]["sequence"] for e in events]
        assert sequences == list(range(1, anchor.latest_sequence(source_id) + 1)), (source, destination)
        blocks = [e["args"]["blockNumber"] for e in events]
        assert blocks == sorted(set(blocks))  # contiguous, increasing ranges: nothing covered twice
    for name in split.topology.chains:
        chain = split.topology.chain(name)
        for number in range(chain.w3.eth.block_number + 1):
            for tx in chain.w3.eth.get_block(number, full_transactions=True)["transactions"]:
                if tx["from"] == submitter:
                    assert chain.w3.eth.get_transaction_receipt(tx["hash"])["status"] == 1, (name, number)


def test_every_side_chain_record_lies_in_exactly_one_checkpoint(split):
    """Nothing lost: the journals of all degree → main checkpoints together hold every licence and
    batch the degree chain recorded, each once."""
    view = view_of(split.topology, "degree")
    anchor = AnchorRegistry(split.topology.chain("main"), split.topology.deployment("main").anchor_registry)
    latest = anchor.latest(7103)
    covered, after = [], 0
    for sequence in range(1, latest.sequence + 1):
        checkpoint = anchor.checkpoint(7103, sequence)
        covered += view.journal(after, checkpoint.block_number)
        after = checkpoint.block_number
    everything = view.journal(0, latest.block_number)
    assert len(covered) == len(set(covered)) == len(everything) and set(covered) == set(everything)
    assert any(kind == 2 for kind, _, _ in everything) and any(kind == 1 for kind, _, _ in everything)


# ---------------------------------------------------------------- the REST API on a split topology


def test_the_api_on_side_chains_issues_and_records_with_browser_signed_transactions(split):
    """Through `elicense serve`: the agency and the inspector sign their own side-chain transactions
    (as the pages do); the server's service account pays for the mirror proofs; the QR code verifies
    with its anchoring on the main and EU chains."""
    import requests

    from elicense.server import Server

    code, agency = split.agency("degree")
    holder, inspector = split.person("holder"), split.person("inspector")
    agency.authorise_inspector("degree", inspector.address)
    service = account_from_key(dev_key(5))

    def perform(account, path, body):
        for _ in range(4):
            prepared = requests.post(url + path, json=body, timeout=120)
            assert prepared.status_code == 200, prepared.text
            pending = prepared.json()["sign"]
            raw = "0x" + account.sign_transaction(pending["tx"]).raw_transaction.hex()
            receipt = requests.post(url + "/api/transactions", json={"chain_id": pending["chain_id"], "raw": raw},
                                    timeout=120)
            assert receipt.status_code == 200, receipt.text
            if prepared.json()["then"] == "done":
                return prepared.json(), receipt.json()
        raise AssertionError("too many signatures asked")

    with Server(split.admin, service) as server:
        url = server.url
        config = requests.get(url + "/api/config", timeout=30).json()
        degree = next(r for r in config["registries"] if r["type"] == "degree")
        assert degree["chain"] == "degree" and degree["chain_id"] != split.topology.entry("main").chain_id
        prepared, receipt = perform(agency.sender, "/api/licences", {
            "signer": agency.sender.address, "type": "degree", "agency": code, "holder": holder.address,
            "fields": {"degree": "MSc", "field": "Physics"}})
        assert prepared["sign"]["chain_id"] == degree["chain_id"] and receipt["summary"]["licence_id"]
        licence = next(q for q in split.admin.licences_of(holder.address) if q.licence_id == prepared["licence_id"])
        registry = split.admin.licences("degree")
        wait_until(lambda: [h.valid for h in anchor_path(split.topology, "degree", KIND_LICENCE, registry.address,
                                                         bytes.fromhex(licence.licence_id[2:]), licence.block_number)]
                   == [True, True], what="anchoring up to the EU chain")
        text = split.admin.present_qr(holder, licence)
        verdict = requests.post(url + "/api/verify", json={"payload": text}, timeout=60).json()
        assert verdict["valid"], verdict["steps"]
        assert {s["name"]: s["status"] for s in verdict["steps"]}["anchored-eu"] == "valid"
        _, recorded = perform(inspector, "/api/inspections", {"payload": text, "inspector": inspector.address})
        assert recorded["summary"]["result"] == "valid"
        assert RegistryMirror(registry.chain, split.topology.deployment("degree").registry_mirror).role(
            inspector.address) == "inspector"  # proven by the service account, not by the inspector
