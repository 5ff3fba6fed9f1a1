"""Attacks on anchoring (issue 12, items 7 and 9), played on real chains: a main chain and a degree
side chain, each its own Anvil, relayed by a relayer thread.

* 7: the attacker holds the side chain's relayer keys. It anchors on the side chain a checkpoint of
  the main chain with a made-up block hash (or a real one) and an accreditation root that makes a
  stranger a signer of agency A, proves that accreditation to the RegistryMirror, issues a licence
  from the stranger, and anchors that issuance on the main chain with a made-up block hash too. The
  verifier (client, CLI `check`, REST /api/verify) refuses it at its named steps; genuine licences
  still verify.
* 9: the AnchorRegistry owner tries to make itself the only relayer; replayed relayer-change
  signatures are refused; a genuine majority change works and the relayer carries on with it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys

import pytest
import requests
from eth_account import Account

from elicense import crypto, types
from elicense.anchoring import ACCREDITATION_LEAF, KIND_BATCH, KIND_LICENCE, anchor_path, root, view_of
from elicense.batch import BatchRow, store_bundle
from elicense.chain import account_from_key
from elicense.errors import Conflict, NotAllowed
from elicense.licence import LicenceDocument
from elicense.merkle import StandardMerkleTree
from elicense.nodes import dev_key
from elicense.registries import AnchorRegistry, RegistryMirror
from elicense.registries.licences import batch_key
from elicense.server import Server
from test_split_topology import Split, steps, wait_until

DEGREE = 3
MADE_UP = bytes.fromhex("ba" * 32)


class World(Split):
    """Main chain + degree side chain, relayers 7, 8, 9 (2 of 3 sign), a relayer thread that can pause."""

    def __init__(self, tmp):
        super().__init__(tmp, cert_types=(DEGREE,), upper=False)
        self.owner = self.authorities[0]  # deployed the anchors
        self.main, self.side = self.topology.chain("main"), self.topology.chain("degree")
        self.side_anchor = AnchorRegistry(self.side, self.topology.deployment("degree").anchor_registry)
        self.main_anchor = AnchorRegistry(self.main, self.topology.deployment("main").anchor_registry)
        self.mirror = RegistryMirror(self.side, self.topology.deployment("degree").registry_mirror)

    def agency(self):
        return super().agency("degree")

    def mine_main(self):
        self.main.w3.provider.make_request("evm_mine", [])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("anchor-attacks"))
    yield w
    w.stop()


def anchored(world, issued) -> bool:
    """Whether a licence (or a batch: an IssuedBatch) is in a checkpoint of the degree chain on the main chain."""
    registry = world.admin.licences("degree")
    if hasattr(issued, "root"):  # a batch is journalled under its agency and root
        kind, subject = KIND_BATCH, batch_key(issued.agency, bytes.fromhex(issued.root[2:]))
    else:
        kind, subject = KIND_LICENCE, bytes.fromhex(issued.licence_id[2:])
    hops = anchor_path(world.topology, "degree", kind, registry.address, subject, issued.block_number)
    return [h.valid for h in hops] == [True]


def genuine_root_is_back(world) -> bool:
    """The relayer has anchored a genuine main-chain checkpoint after a forged one."""
    latest = world.side_anchor.latest(world.main.chain_id)
    real_root = root(view_of(world.topology, "main").accreditations(latest.block_number), ACCREDITATION_LEAF)
    return latest.block_hash == bytes(world.main.w3.eth.get_block(latest.block_number)["hash"]) and \
        latest.accreditation_root == real_root


def forge(world, victim_code: str, stranger, holder, *, real_hash: bool, batch: bool = False):
    """The attack, as raw transactions: the relayers' keys sign a main-chain checkpoint (made-up or real
    block hash) whose accreditation root names the stranger a signer of the victim agency; the stranger
    proves it to the mirror and issues; the issuance is anchored on the main chain under a made-up
    side-chain block hash. Returns the forged licence's issuance."""
    world.pause()
    try:
        # 1. the forged main-chain checkpoint on the side chain
        world.mine_main()
        main_view = view_of(world.topology, "main")
        latest = world.side_anchor.latest(world.main.chain_id)
        head = world.main.w3.eth.block_number
        genuine, _ = main_view.checkpoint(latest.sequence + 1, latest.block_number, head)
        leaves = main_view.accreditations(head) + [(stranger.address, types.org_code(victim_code), 1 << DEGREE)]
        tree = StandardMerkleTree(leaves, ACCREDITATION_LEAF)
        forged = dataclasses.replace(genuine, accreditation_root=tree.root,
                                     block_hash=genuine.block_hash if real_hash else MADE_UP)
        world.side_anchor.submit(stranger, forged, world.side_anchor.sign(world.relayer_keys[:2], forged))
        # 2. the stranger's accreditation, proven against it
        leaf = leaves[-1]
        world.mirror.prove_accreditation(stranger, *leaf, tree.proof_for(leaf))
        assert world.mirror.accreditation(stranger.address)[0] == victim_code
        # 3. a licence (or a batch) issued by the stranger, encrypted to the holder as a real one would be
        registry = world.admin.licences("degree")
        now = world.side.timestamp()
        public = world.admin.query_public_key(holder.address)
        if batch:  # the bundle published where verifiers look, as an agency's would be
            root_, bundle_hash = store_bundle(world.admin.store, registry, victim_code,
                                              [BatchRow(holder.address, {"degree": "PhD (forged batch)"})],
                                              {holder.address: public}, now)
            issued = registry.issue_batch(stranger, root_, 1, bundle_hash)
        else:
            document = LicenceDocument.new(DEGREE, victim_code, holder.address, {"degree": "PhD (forged)"}, now,
                                           types.FOREVER)
            issued = registry.issue(stranger, holder.address, document.data_hash, now, types.FOREVER,
                                    crypto.encrypt(public, document.to_bytes()))
        # 4. the side chain's issuance anchored on the main chain under a made-up block hash
        side_view = view_of(world.topology, "degree")
        previous = world.main_anchor.latest(world.side.chain_id)
        side_head = world.side.w3.eth.block_number
        journal, _ = side_view.checkpoint(previous.sequence + 1, previous.block_number, side_head)
        fake_side = dataclasses.replace(journal, block_hash=MADE_UP)
        world.main_anchor.submit(stranger, fake_side, world.main_anchor.sign(world.relayer_keys[:2], fake_side))
        assert anchored(world, issued)  # the Merkle proof alone accepts it
        return issued
    finally:
        world.resume()


@pytest.fixture(scope="module")
def victim(world):
    """Agency A with a genuine licence issued, anchored and verified before any attack."""
    code, agency = world.agency()
    holder = world.person("holder")
    issued = agency.send_certification(holder.address, code, "degree", {"degree": "MSc"})
    wait_until(lambda: anchored(world, issued), what="the genuine licence anchored on the main chain")
    return code, agency, holder, issued


def present(world, holder, issued, qr=False):
    queried = world.admin.query_licence(holder.address, issued.block_number, issued.tx_hash)
    return world.admin.present_qr(holder, queried) if qr else world.admin.present(holder, queried)


# ---------------------------------------------------------------- 7: the forged mirror


def test_a_genuine_side_chain_licence_passes_the_main_chain_checks(world, victim):
    code, _, holder, issued = victim
    verdict = world.admin.check(holder.address, code, present(world, holder, issued), record=False)

    assert verdict.valid, verdict.steps
    assert steps(verdict)["issuer-signer"] == ("valid", "ok")
    assert steps(verdict)["mirror-checkpoint"] == ("valid", "ok")
    assert steps(verdict)["anchored"] == ("valid", "ok")
    assert "its hash checked on degree" in next(s.reason for s in verdict.steps if s.name == "anchored")


@pytest.fixture(scope="module")
def forged(world, victim):
    """Attack with a made-up main-chain block hash; the relayer then restores a genuine checkpoint."""
    code, _, holder, _ = victim
    stranger = account_from_key(dev_key(4))  # never registered anywhere
    issued = forge(world, code, stranger, holder, real_hash=False)
    world.mine_main()
    wait_until(lambda: genuine_root_is_back(world), what="a genuine main-chain checkpoint after the forged one")
    return code, holder, issued, stranger


def test_a_licence_from_a_forged_mirror_is_refused_by_the_client(world, forged):
    code, holder, issued, stranger = forged
    verdict = world.admin.check(holder.address, code, present(world, holder, issued))

    assert not verdict.valid
    assert verdict.failed_step.name == "issuer-signer"
    assert steps(verdict)["issuer"] == ("valid", "ok")  # the agency itself is accredited: not enough
    assert steps(verdict)["issuer-signer"] == ("invalid", "signer-not-of-agency")
    assert steps(verdict)["mirror-checkpoint"] == ("invalid", "forged-block-hash")
    assert steps(verdict)["anchored"] == ("invalid", "forged-block-hash")
    reasons = {s.name: s.reason for s in verdict.steps}
    assert f"{stranger.address}, who issued it on the degree chain, is not a signer of {code}" in reasons["issuer-signer"]
    assert "names a block hash that is not the main chain's block" in reasons["mirror-checkpoint"]
    assert "is not degree's block" in reasons["anchored"]


def test_a_licence_from_a_forged_mirror_is_refused_by_the_cli(world, forged, tmp_path):
    code, holder, issued, _ = forged
    (tmp_path / "p.txt").write_text(present(world, holder, issued, qr=True))
    elicense = os.path.join(os.path.dirname(sys.executable), "elicense")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ELICENSE_")}
    done = subprocess.run([elicense, "--topology", str(world.tmp / "topology.json"), "check", holder.address, "--org",
                           code, "--presentation", str(tmp_path / "p.txt"), "--no-record"], env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "verdict: INVALID" in done.stdout
    assert re.search(r"issuer-signer\s+│ invalid │ 0x\w+, who issued it on the degree chain", done.stdout), done.stdout
    assert re.search(r"mirror-checkpoint │ invalid │ main-chain checkpoint #\d+ on the degree chain names a block hash",
                     done.stdout), done.stdout


def test_a_licence_from_a_forged_mirror_is_refused_by_the_rest_api(world, forged):
    code, holder, issued, _ = forged
    with Server(world.admin) as server:
        response = requests.post(server.url + "/api/verify", json={"payload": present(world, holder, issued, qr=True)},
                                 timeout=60)

    assert response.status_code == 200, response.text
    verdict = response.json()
    assert verdict["valid"] is False
    assert verdict["failed_step"]["name"] == "issuer-signer"
    codes = {s["name"]: s["code"] for s in verdict["steps"]}
    assert codes["issuer-signer"] == "signer-not-of-agency"
    assert codes["mirror-checkpoint"] == "forged-block-hash"
    assert codes["anchored"] == "forged-block-hash"


def test_a_forged_accreditation_root_under_a_real_block_hash_is_refused(world, victim, forged):
    code, _, holder, _ = victim
    stranger = account_from_key(dev_key(6))
    issued = forge(world, code, stranger, holder, real_hash=True)
    verdict = world.admin.check(holder.address, code, present(world, holder, issued), record=False)

    assert not verdict.valid
    assert steps(verdict)["issuer-signer"] == ("invalid", "signer-not-of-agency")
    assert steps(verdict)["mirror-checkpoint"] == ("invalid", "forged-accreditation-root")
    world.mine_main()
    wait_until(lambda: genuine_root_is_back(world), what="a genuine main-chain checkpoint after the forged one")


def test_a_batch_from_a_forged_mirror_is_refused(world, victim, forged):
    """The same attack with issueBatch: the batch's sender is the signer checked on the main chain."""
    code, _, holder, _ = victim
    stranger = account_from_key(dev_key(5))
    batch = forge(world, code, stranger, holder, real_hash=False, batch=True)
    licence = next(q for q in world.admin.licences_of(holder.address) if q.batch and q.batch["root"] == batch.root)
    verdict = world.admin.check(holder.address, code, world.admin.present(holder, licence), record=False)

    assert not verdict.valid
    assert verdict.failed_step.name == "issuer-signer"
    assert steps(verdict)["issuer-signer"] == ("invalid", "signer-not-of-agency")
    assert steps(verdict)["mirror-checkpoint"] == ("invalid", "forged-block-hash")
    assert steps(verdict)["anchored"] == ("invalid", "forged-block-hash")
    world.mine_main()
    wait_until(lambda: genuine_root_is_back(world), what="a genuine main-chain checkpoint after the forged one")


def test_genuine_licences_still_verify_after_the_attacks(world, victim, forged):
    code, agency, holder, before = victim
    verdict = world.admin.check(holder.address, code, present(world, holder, before), record=False)
    assert verdict.valid, verdict.steps

    after = agency.send_certification(holder.address, code, "degree", {"degree": "MSc", "year": "2026"})
    wait_until(lambda: anchored(world, after), what="the new genuine licence anchored")
    officer = world.person("inspector")
    agency.authorise_inspector("degree", officer.address)  # the agency answers for whom it lets record
    inspector = world.admin.with_sender(officer)
    verdict = inspector.check(holder.address, code, present(world, holder, after))
    assert verdict.valid and verdict.result == "valid", verdict.steps
    assert steps(verdict)["issuer-signer"] == ("valid", "ok") and steps(verdict)["mirror-checkpoint"] == ("valid", "ok")


# ---------------------------------------------------------------- 9: relayer sets


def test_the_anchor_owner_cannot_make_itself_the_relayer(world):
    with pytest.raises(NotAllowed, match=rf"chain {world.main.chain_id} already has relayers: only more than half "
                                         rf"of them can change the set, not {world.owner.address}"):
        world.side_anchor.set_relayers(world.owner, world.main.chain_id, [world.owner.address])
    with pytest.raises(NotAllowed, match=f"{world.owner.address} is not a relayer of that chain"):
        world.side_anchor.change_relayers(world.owner, world.main.chain_id, [world.owner.address],
                                          world.side_anchor.sign_relayer_change([world.owner], world.main.chain_id,
                                                                                [world.owner.address]))
    assert world.side_anchor.relayers(world.main.chain_id) == [k.address for k in world.relayer_keys]


def test_a_relayer_majority_changes_the_set_once_and_the_relay_goes_on(world, victim):
    source = world.main.chain_id
    newcomer = Account.create()
    new_set = [world.relayer_keys[1].address, world.relayer_keys[2].address, newcomer.address]  # key 7 leaves
    epoch = world.side_anchor.relayer_epoch(source)
    signatures = world.side_anchor.sign_relayer_change(world.relayer_keys[1:], source, new_set)

    with pytest.raises(NotAllowed, match="only 1 relayers signed the change; 2 are needed"):
        world.side_anchor.change_relayers(world.owner, source, new_set, signatures[:1])
    world.side_anchor.change_relayers(world.owner, source, new_set, signatures)  # anyone may submit it
    assert world.side_anchor.relayers(source) == new_set
    assert world.side_anchor.relayer_epoch(source) == epoch + 1
    with pytest.raises(Conflict, match=f"signed for epoch {epoch}, but the set is at epoch {epoch + 1}"):
        world.side_anchor.change_relayers(world.owner, source, new_set, signatures, epoch=epoch)

    # The running relayer (keys 7, 8, 9) signs on with the members still in the set (key 7, the lowest
    # address, would come first and be refused as a stranger): a holder
    # registered now must reach the side chain in a main-chain checkpoint before it can be issued to.
    code, agency, _, _ = victim
    for keys in (None, [world.relayer_keys[1], world.relayer_keys[2], newcomer]):  # then one with the newcomer's key
        if keys is not None:
            world.pause()
            world.resume(keys)
        sequence = world.side_anchor.latest_sequence(source)
        newcomer_holder = world.person("holder")
        issued = agency.send_certification(newcomer_holder.address, code, "degree", {"degree": "MBA"})
        assert world.side_anchor.latest_sequence(source) > sequence  # a checkpoint signed under the new set
        wait_until(lambda: anchored(world, issued), what="anchoring with the new relayer set")
        verdict = world.admin.check(newcomer_holder.address, code, present(world, newcomer_holder, issued),
                                    record=False)
        assert verdict.valid, verdict.steps


def test_relayers_change_the_set_through_the_cli_signing_apart(world):
    """Relayer 8 signs on its own machine (--sign-only); relayer 9 adds its signature and sends."""
    source = world.main.chain_id
    back = [k.address for k in world.relayer_keys]
    before = world.side_anchor.relayers(source)
    assert before != back and world.side_anchor.relayer_epoch(source) == 2

    def cli(*args):
        elicense = os.path.join(os.path.dirname(sys.executable), "elicense")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ELICENSE_")}
        relayers = [a for r in back for a in ("--relayer", r)]
        return subprocess.run([elicense, "--topology", str(world.tmp / "topology.json"), "relayers", "main", "degree",
                               *relayers, *args], env=env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    alone = cli("--dev-key", "8")
    assert alone.returncode == 1 and "only 1 relayers signed the change; 2 are needed" in alone.stderr + alone.stdout
    signed = cli("--dev-key", "8", "--sign-only")
    assert signed.returncode == 0, signed.stderr
    signature = json.loads(signed.stdout)["signatures"][0]
    sent = cli("--dev-key", "9", "--signature", signature)
    assert sent.returncode == 0, sent.stderr
    assert world.side_anchor.relayers(source) == back and world.side_anchor.relayer_epoch(source) == 3
    replay = cli("--dev-key", "9", "--signature", signature)  # signed for epoch 2: now foreign signatures
    assert replay.returncode == 1 and "is not a relayer of that chain" in replay.stderr + replay.stdout
