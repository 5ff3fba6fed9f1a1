"""Batch issuance on the real single-chain deployment: one transaction under one Merkle root, the
bundle in the content-addressed store, holders finding, decrypting, claiming and presenting their
batched licences, inspectors checking them (checkBatched), refusals, and the resumable CSV issuance
(API and CLI).

Every client here gets a document store of its own under the test's temporary folder, never the
default one in the home folder. Each test makes its own agency, so its batches are told apart by
the agency's (indexed) code in the LicenseBatchIssued logs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from conftest import fast_keystore, head, make_agency, register, suspend_agency
from elicense import Conflict, ElicenseError, InvalidInput, NotAllowed, NotFound, types
from elicense import batch as batch_module
from elicense import crypto
from elicense.batch import BatchRow, Bundle, CsvResult, issue_csv
from elicense.crypto import new_account
from elicense.licence import LicenceDocument
from elicense.presentation import Presentation
from elicense.registries import LicenceRegistry
from elicense.store import DocumentStore
from elicense.wallet import Wallet

ELICENSE = str(Path(sys.executable).with_name("elicense"))
PASSWORD = "batch test password"
Y2030 = 1893456000  # 2030-01-01T00:00:00Z


# ---------------------------------------------------------------- helpers


def own(client, account, store: DocumentStore):
    """A client acting as ``account`` with ``store`` as its document store (with_sender copies the store)."""
    c = client.with_sender(account)
    c.store = store
    return c


def agency_with_store(client, authorities, store: DocumentStore, prefix: str = "BAT"):
    agency = make_agency(client, authorities, ("degree",), prefix)
    agency.client.store = store
    return agency


def batch_events(client, code: str, from_block: int = 0) -> list:
    """The LicenseBatchIssued logs of agency ``code`` in the degree registry."""
    registry = client.licences("degree")
    return registry.contract.events.LicenseBatchIssued().get_logs(
        from_block=from_block, argument_filters={"agency": types.org_code(code)})


def stored_files(store: DocumentStore) -> list[Path]:
    return [p for p in store.root.rglob("*") if p.is_file()] if store.root.exists() else []


def bundle_rows(store: DocumentStore, events, keys: dict) -> list[tuple]:
    """Every licence of the given batches as (holder, fields, valid_until), decrypted with the holders' keys."""
    found = []
    for event in events:
        bundle = Bundle.from_bytes(store.get(bytes(event["args"]["bundleHash"])))
        assert "0x" + bundle.root.hex() == "0x" + bytes(event["args"]["root"]).hex()
        assert len(bundle.tree) == event["args"]["count"]
        for index in range(len(bundle.tree)):
            entry = bundle.entry(index)
            document = LicenceDocument.from_bytes(crypto.decrypt(keys[entry.holder].key, entry.ciphertext))
            assert document.data_hash == entry.data_hash and document.holder == entry.holder
            assert document.valid_until == entry.valid_until
            found.append((entry.holder, json.dumps(document.fields, sort_keys=True), entry.valid_until))
    return found


def step(verdict, name: str):
    return next(s for s in verdict.steps if s.name == name)


@pytest.fixture
def store(tmp_path) -> DocumentStore:
    return DocumentStore(tmp_path / "store")


# ---------------------------------------------------------------- one batch of twelve for three holders


@dataclasses.dataclass
class World:
    store: DocumentStore
    agency: object
    holders: list
    outsider: object
    rows: list
    issued: object
    nonce_before: int
    nonce_after: int
    listed: dict  # holder address -> licences_of(holder) right after issuance (before any test changes one)

    def holder_client(self, client, account):
        return own(client, account, self.store)


@pytest.fixture(scope="module")
def world(client, authorities, tmp_path_factory) -> World:
    store = DocumentStore(tmp_path_factory.mktemp("batch-store"))
    agency = agency_with_store(client, authorities, store)
    holders = [register(client, "holder") for _ in range(3)]
    outsider = register(client, "holder")
    rows = [BatchRow(holders[i % 3].address, {"name": f"Graduate {i}", "degree": "MSc", "row": str(i)})
            for i in range(12)]
    before = client.chain.w3.eth.get_transaction_count(agency.signer.address)
    issued = agency.client.issue_batch("degree", agency.code, rows)
    after = client.chain.w3.eth.get_transaction_count(agency.signer.address)
    listed = {h.address: own(client, h, store).licences_of(h.address) for h in holders}
    return World(store, agency, holders, outsider, rows, issued, before, after, listed)


def test_a_batch_is_one_transaction_under_one_root(client, world):
    issued, agency = world.issued, world.agency
    assert (issued.count, issued.agency) == (12, agency.code)
    assert issued.root.startswith("0x") and len(issued.root) == 66 and int(issued.root, 16) != 0
    assert isinstance(issued.bundle_hash, bytes) and len(issued.bundle_hash) == 32
    assert issued.gas_used > 0
    assert world.nonce_after == world.nonce_before + 1  # one transaction for twelve licences

    receipt = client.chain.w3.eth.get_transaction_receipt(issued.tx_hash)
    assert receipt["status"] == 1 and receipt["blockNumber"] == issued.block_number
    assert receipt["gasUsed"] == issued.gas_used
    [event] = batch_events(client, agency.code)
    args = event["args"]
    assert "0x" + bytes(args["root"]).hex() == issued.root and args["count"] == 12
    assert bytes(args["bundleHash"]) == issued.bundle_hash

    info = client.licences("degree").batch(agency.code, types.bytes32(issued.root))
    assert (info.agency, info.count, info.issued_block) == (agency.code, 12, issued.block_number)


def test_the_bundle_is_in_the_store_and_its_sha256_is_on_chain(client, world):
    [event] = batch_events(client, world.agency.code)
    raw = world.store.get(world.issued.bundle_hash)
    assert hashlib.sha256(raw).digest() == bytes(event["args"]["bundleHash"])
    bundle = Bundle.from_bytes(raw)
    assert "0x" + bundle.root.hex() == world.issued.root
    assert (bundle.agency, bundle.cert_type, len(bundle.tree)) == (world.agency.code, types.CERT_TYPES["degree"], 12)
    assert bundle.registry == client.licences("degree").address
    # nothing but ciphertext in the bundle
    assert b"Graduate" not in raw


def test_each_holder_finds_exactly_their_licences_and_decrypts_them(client, world):
    for holder in world.holders:
        mine = world.listed[holder.address]
        assert len(mine) == 4
        assert all(m.batch is not None and m.batch["root"] == world.issued.root for m in mine)
        assert {(m.status, m.agency, m.holder, m.tx_hash) for m in mine} == {
            ("active", world.agency.code, holder.address, world.issued.tx_hash)}
        assert len({m.licence_id for m in mine}) == 4
        fields = sorted((m.decrypt(holder.key).fields for m in mine), key=lambda f: int(f["row"]))
        assert fields == [r.fields for r in world.rows if r.holder == holder.address]
        for m in mine:
            document = m.decrypt(holder.key)
            assert (document.holder, document.agency, document.valid_until) == (holder.address, world.agency.code,
                                                                                 types.FOREVER)


def test_a_licence_cannot_be_decrypted_by_another_holder(client, world):
    a, b = world.holders[:2]
    mine = world.holder_client(client, a).licences_of(a.address)[0]
    with pytest.raises(Exception):
        mine.decrypt(b.key)


def test_query_licence_of_the_batch_transaction_returns_the_holders_entry(client, world):
    holder = world.holders[1]
    c = world.holder_client(client, holder)
    found = c.query_licence(holder.address, world.issued.block_number, world.issued.tx_hash)
    assert found.holder == holder.address and found.batch["root"] == world.issued.root
    assert found.licence_id in {m.licence_id for m in c.licences_of(holder.address)}
    assert found.decrypt(holder.key).fields in [r.fields for r in world.rows if r.holder == holder.address]


def test_query_licence_for_a_holder_not_in_the_batch_is_not_found(client, world):
    c = world.holder_client(client, world.outsider)
    with pytest.raises(NotFound, match=f"issued no licence to {world.outsider.address}"):
        c.query_licence(world.outsider.address, world.issued.block_number, world.issued.tx_hash)
    assert c.licences_of(world.outsider.address) == []


def test_query_licence_without_the_bundle_says_where_to_get_it(client, world, tmp_path):
    holder = world.holders[0]
    c = own(client, holder, DocumentStore(tmp_path / "empty-store"))
    with pytest.raises(NotFound, match="is not in the store at .*fetch it from the issuing agency"):
        c.query_licence(holder.address, world.issued.block_number, world.issued.tx_hash)


def test_a_damaged_bundle_in_the_store_is_detected(client, world, tmp_path):
    """The store names blobs by their SHA-256, the digest on chain: a changed copy is caught on read."""
    holder = world.holders[0]
    copy = DocumentStore(tmp_path / "copy")
    raw = bytearray(world.store.get(world.issued.bundle_hash))
    copy.put(bytes(raw))
    raw[raw.index(b'"ciphertexts":["') + 20] ^= 0x01  # one bit of a ciphertext
    copy._path(world.issued.bundle_hash).write_bytes(bytes(raw))
    c = own(client, holder, copy)
    with pytest.raises(ElicenseError, match="is damaged"):
        c.query_licence(holder.address, world.issued.block_number, world.issued.tx_hash)


# ---------------------------------------------------------------- presenting and checking batched licences


def present(client, world, holder, index: int = 0, fields=None):
    c = world.holder_client(client, holder)
    licence = sorted(c.licences_of(holder.address), key=lambda m: m.licence_id)[index]
    return licence, c.present(holder, licence, fields)


def test_a_batched_licence_presentation_checks_valid(client, world, inspector):
    inspector_client = own(client, inspector, world.store)
    holder = world.holders[0]
    licence, shown = present(client, world, holder, 0, ["degree", "row"])
    assert shown.batch == licence.batch and shown.batch is not None
    assert "Graduate" not in shown.dumps()

    verdict = inspector_client.check(holder.address, world.agency.code, shown)

    assert verdict.valid and verdict.result == "valid", verdict.steps
    for name in ("format", "holder-signature", "data", "status", "issuer", "recorded"):
        assert step(verdict, name).status == "valid", step(verdict, name)
    assert step(verdict, "anchored").status == "skipped"
    assert set(verdict.fields) == {"degree", "row"}
    # checkBatched wrote it to storage on the way
    info = client.licences("degree").licence(types.bytes32(licence.licence_id))
    assert (info.holder, info.agency, info.status) == (holder.address, world.agency.code, "active")

    _, second = present(client, world, holder, 1)
    again = inspector_client.check(holder.address, world.agency.code, second)
    assert again.valid and again.result == "valid", again.steps


def test_revoking_one_batched_licence_leaves_the_others_valid(client, world, inspector):
    inspector_client = own(client, inspector, world.store)
    holder = world.holders[2]
    c = world.holder_client(client, holder)
    revoked, kept = sorted(c.licences_of(holder.address), key=lambda m: m.licence_id)[:2]
    registry = client.licences("degree")
    assert registry.licence(types.bytes32(revoked.licence_id)) is None  # never claimed yet

    world.agency.client.revoke("degree", revoked.licence_id)  # claims it, then revokes it

    assert registry.licence(types.bytes32(revoked.licence_id)).status == "revoked"
    statuses = {m.licence_id: m.status for m in c.licences_of(holder.address)}
    assert statuses[revoked.licence_id] == "revoked"
    assert Counter(statuses.values()) == Counter({"active": 3, "revoked": 1})

    bad = inspector_client.check(holder.address, world.agency.code, c.present(holder, revoked))
    assert not bad.valid and bad.result == "revoked"
    assert (step(bad, "status").status, step(bad, "status").code) == ("invalid", "revoked")
    good = inspector_client.check(holder.address, world.agency.code, c.present(holder, kept))
    assert good.valid and good.result == "valid", good.steps


def test_a_presentation_keeps_its_batch_through_json(client, world, inspector):
    holder = world.holders[1]
    _, shown = present(client, world, holder, 2)
    parsed = Presentation.parse(shown.dumps())
    assert parsed == shown and parsed.batch == shown.batch
    assert json.loads(shown.dumps())["batch"]["root"] == world.issued.root

    verdict = own(client, inspector, world.store).check(holder.address, world.agency.code, shown.dumps())
    assert verdict.valid and verdict.result == "valid", verdict.steps


# ---------------------------------------------------------------- tampering


@pytest.fixture
def small_batch(client, authorities, store):
    """A fresh batch of four for one holder, none of them claimed."""
    agency = agency_with_store(client, authorities, store, "TMP")
    holder = register(client, "holder")
    rows = [BatchRow(holder.address, {"degree": "BSc", "row": str(i)}) for i in range(4)]
    issued = agency.client.issue_batch("degree", agency.code, rows)
    c = own(client, holder, store)
    licences = sorted(c.licences_of(holder.address), key=lambda m: m.licence_id)
    return agency, holder, c, licences, issued


def test_an_altered_batch_proof_is_an_unknown_licence(client, inspector, small_batch, store):
    agency, holder, c, licences, _ = small_batch
    shown = c.present(holder, licences[0])
    proof = list(shown.batch["proof"])
    assert proof, "a batch of four has proof nodes"
    proof[0] = "0x" + bytes(b ^ 0xFF for b in types.bytes32(proof[0])).hex()
    forged = dataclasses.replace(shown, batch={**shown.batch, "proof": proof})

    verdict = own(client, inspector, store).check(holder.address, agency.code, forged)

    assert not verdict.valid
    assert (step(verdict, "data").status, step(verdict, "data").code) == ("invalid", "unknown-licence")
    assert verdict.result == "unknown-licence"
    assert step(verdict, "holder-signature").status == "valid"  # the signature does not cover the batch
    assert client.licences("degree").licence(types.bytes32(licences[0].licence_id)) is None  # not claimed


def test_a_leaf_whose_data_hash_is_not_the_disclosed_data_is_invalid(client, inspector, small_batch, store):
    agency, holder, c, licences, _ = small_batch
    shown = c.present(holder, licences[0])
    other = licences[1].batch  # a genuine leaf and proof of the same batch, but of another licence
    forged = dataclasses.replace(shown, batch=other)

    verdict = own(client, inspector, store).check(holder.address, agency.code, forged)

    assert not verdict.valid
    assert (step(verdict, "data").status, step(verdict, "data").code) == ("invalid", "unknown-licence")
    # on chain (changed with issue 12) checkBatched checks the licence the holder signed for, which the
    # other leaf's claim did not store: unknown, as off chain
    assert verdict.result == "unknown-licence"
    # the genuine licence, presented honestly, is still valid
    honest = own(client, inspector, store).check(holder.address, agency.code, c.present(holder, licences[0]))
    assert honest.valid and honest.result == "valid", honest.steps


def test_a_leaf_with_a_changed_data_hash_is_invalid(client, inspector, small_batch, store):
    agency, holder, c, licences, _ = small_batch
    shown = c.present(holder, licences[2])
    leaf = list(shown.batch["leaf"])
    leaf[1] = "0x" + os.urandom(32).hex()
    forged = dataclasses.replace(shown, batch={**shown.batch, "leaf": leaf})

    verdict = own(client, inspector, store).check(holder.address, agency.code, forged)

    assert not verdict.valid
    assert (step(verdict, "data").status, step(verdict, "data").code) == ("invalid", "unknown-licence")
    assert verdict.result == "unknown-licence"  # changed with issue 12: the licence signed for is not stored
    assert client.licences("degree").licence(types.bytes32(licences[2].licence_id)) is None  # not claimed


# ---------------------------------------------------------------- refusals


def test_a_batch_with_an_unregistered_holder_is_refused_naming_the_row(client, authorities, store, holder):
    agency = agency_with_store(client, authorities, store)
    stranger = new_account()
    rows = [BatchRow(holder.address, {"degree": "BSc"}), BatchRow(stranger.address, {"degree": "BSc"}),
            BatchRow(holder.address, {"degree": "MSc"})]
    before = head(client)

    with pytest.raises(InvalidInput, match=f"row 2: {stranger.address} is not a registered holder"):
        agency.client.issue_batch("degree", agency.code, rows)

    assert head(client) == before
    assert batch_events(client, agency.code) == []
    assert stored_files(store) == []


def test_an_empty_batch_is_refused(client, authorities, store):
    agency = agency_with_store(client, authorities, store)
    before = head(client)
    with pytest.raises(InvalidInput, match="a batch needs at least one licence"):
        agency.client.issue_batch("degree", agency.code, [])
    assert head(client) == before and stored_files(store) == []


def test_a_row_without_fields_or_with_a_past_validity_is_refused(client, authorities, store, holder):
    agency = agency_with_store(client, authorities, store)
    rows = [BatchRow(holder.address, {}), BatchRow(holder.address, {"degree": "BSc"}, valid_until=1_000_000)]
    before = head(client)
    with pytest.raises(InvalidInput, match=r"row 1: no licence fields; row 2: valid-until must be after"):
        agency.client.issue_batch("degree", agency.code, rows)
    assert head(client) == before and stored_files(store) == []


def test_a_signer_of_another_agency_cannot_issue_a_batch(client, authorities, store, holder):
    agency = agency_with_store(client, authorities, store)
    other = agency_with_store(client, authorities, store, "OTHER")
    before = head(client)
    with pytest.raises(NotAllowed, match=f"is not a signing account of {agency.code} \\(it signs for {other.code}\\)"):
        other.client.issue_batch("degree", agency.code, [BatchRow(holder.address, {"degree": "BSc"})])
    assert head(client) == before
    assert batch_events(client, agency.code) == [] and batch_events(client, other.code) == []
    assert stored_files(store) == []


def test_a_suspended_agency_cannot_issue_a_batch(client, authorities, store, holder):
    agency = agency_with_store(client, authorities, store)
    suspend_agency(client, authorities, agency.code)
    before = head(client)
    with pytest.raises(NotAllowed, match=r"is not accredited for degree \(suspended"):
        agency.client.issue_batch("degree", agency.code, [BatchRow(holder.address, {"degree": "BSc"})])
    assert head(client) == before
    assert batch_events(client, agency.code) == []


def test_a_suspended_agencys_refused_batch_leaves_nothing_in_the_store(client, authorities, store, holder):
    agency = agency_with_store(client, authorities, store)
    suspend_agency(client, authorities, agency.code)
    with pytest.raises(NotAllowed):
        agency.client.issue_batch("degree", agency.code, [BatchRow(holder.address, {"degree": "BSc"})])
    assert stored_files(store) == []


def test_the_same_root_twice_is_a_replay(client, authorities, store):
    agency = agency_with_store(client, authorities, store)
    registry = client.licences("degree")
    root, bundle_hash = os.urandom(32), os.urandom(32)
    first = registry.issue_batch(agency.signer, root, 3, bundle_hash)
    assert first.root == "0x" + root.hex()
    before = head(client)

    with pytest.raises(Conflict, match=f"agency {agency.code} already issued batch 0x{root.hex()} \\(replay\\)"):
        registry.issue_batch(agency.signer, root, 3, bundle_hash)

    assert head(client) == before
    assert len(batch_events(client, agency.code)) == 1


# ---------------------------------------------------------------- claim


def test_a_holder_claims_a_batched_licence_once(client, small_batch):
    agency, holder, c, licences, issued = small_batch
    registry = client.licences("degree")
    licence = licences[3]
    assert registry.licence(types.bytes32(licence.licence_id)) is None

    tx = c.claim(licence)

    assert tx is not None and client.chain.w3.eth.get_transaction_receipt(tx.tx_hash)["status"] == 1
    info = registry.licence(types.bytes32(licence.licence_id))
    assert (info.holder, info.agency, info.status) == (holder.address, agency.code, "active")
    assert (info.valid_from, info.valid_until) == (licence.valid_from, licence.valid_until)
    [claimed] = registry.contract.events.LicenseClaimed().get_logs(
        from_block=tx.block_number, to_block=tx.block_number,
        argument_filters={"licenceId": types.bytes32(licence.licence_id)})
    assert "0x" + bytes(claimed["args"]["root"]).hex() == issued.root
    before = head(client)
    assert c.claim(licence) is None  # already there: nothing to do
    assert head(client) == before
    # the other licences of the batch are still unclaimed
    assert registry.licence(types.bytes32(licences[0].licence_id)) is None


# ---------------------------------------------------------------- CSV issuance


@pytest.fixture(scope="module")
def csv_holders(client):
    return [register(client, "holder") for _ in range(5)]


@pytest.fixture
def csv_world(client, authorities, store, csv_holders):
    agency = agency_with_store(client, authorities, store, "CSV")
    return agency, {h.address: h for h in csv_holders}


def write_csv(path: Path, holders, count: int = 25, tag: str | None = None) -> list[tuple]:
    """A CSV of ``count`` rows over ``holders``; every third row ends on 2030-01-01, the others have an
    empty valid_until and an empty 'note' cell. Returns the expected (holder, fields, valid_until)."""
    tag = tag or uuid.uuid4().hex[:8]
    lines, expected = ["holder,name,degree,valid_until,note"], []
    for i in range(count):
        holder = holders[i % len(holders)].address
        name = f"Person {tag}-{i}"
        if i % 3 == 0:
            lines.append(f"{holder.lower()},{name},MSc,2030-01-01,honours")
            fields = {"name": name, "degree": "MSc", "note": "honours"}
            expected.append((holder, json.dumps(fields, sort_keys=True), Y2030))
        else:
            lines.append(f"{holder},{name},BSc,,")
            expected.append((holder, json.dumps({"name": name, "degree": "BSc"}, sort_keys=True), types.FOREVER))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return expected


def progress_of(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".progress.json").read_text())


def test_a_csv_of_25_rows_in_batches_of_10_issues_every_row_once(client, csv_world, store, tmp_path):
    agency, keys = csv_world
    path = tmp_path / "graduates.csv"
    expected = write_csv(path, list(keys.values()))
    seen = []

    result = issue_csv(agency.client, path, "degree", agency.code, chunk=10, progress=seen.append)

    assert isinstance(result, CsvResult)
    assert (result.rows, result.batches, result.issued_now, result.resumed) == (25, 3, 25, 0)
    assert result.gas_used > 0 and len(result.roots) == 3 and len(set(result.roots)) == 3
    assert sum(seen) == 25
    events = batch_events(client, agency.code)
    assert sorted(e["args"]["count"] for e in events) == [5, 10, 10]
    assert ["0x" + bytes(e["args"]["root"]).hex() for e in events] == result.roots
    assert Counter(bundle_rows(store, events, keys)) == Counter(expected)
    record = progress_of(path)
    assert Path(result.progress_file) == path.with_name("graduates.csv.progress.json")
    assert [record["chunks"][str(i)]["status"] for i in range(3)] == ["issued"] * 3
    assert [record["chunks"][str(i)]["rows"] for i in range(3)] == [[0, 10], [10, 20], [20, 25]]

    # the holders see them, with the 2030 end where the CSV said so
    holder = next(iter(keys.values()))
    mine = own(client, holder, store).licences_of(holder.address)
    assert len(mine) == 5 and {m.status for m in mine} == {"active"}
    assert sorted(m.valid_until for m in mine) == sorted(v for h, _, v in expected if h == holder.address)

    again = issue_csv(agency.client, path, "degree", agency.code, chunk=10)
    assert (again.rows, again.batches, again.issued_now, again.resumed, again.gas_used) == (25, 3, 0, 0, 0)
    assert again.roots == result.roots
    assert len(batch_events(client, agency.code)) == 3


def test_a_stopped_csv_run_resumes_where_it_stopped(client, csv_world, store, tmp_path):
    agency, keys = csv_world
    path = tmp_path / "stopped.csv"
    expected = write_csv(path, list(keys.values()))

    first = issue_csv(agency.client, path, "degree", agency.code, chunk=10, stop_after=1)
    assert (first.issued_now, first.resumed, len(first.roots)) == (10, 0, 1)
    assert len(batch_events(client, agency.code)) == 1

    second = issue_csv(agency.client, path, "degree", agency.code, chunk=10)
    assert (second.rows, second.batches, second.issued_now, second.resumed) == (25, 3, 15, 0)
    assert second.roots[0] == first.roots[0] and len(second.roots) == 3

    events = batch_events(client, agency.code)
    assert len(events) == 3 and sum(e["args"]["count"] for e in events) == 25
    assert Counter(bundle_rows(store, events, keys)) == Counter(expected)


def test_a_crash_between_storing_and_sending_resends_the_recorded_root(client, csv_world, store, tmp_path, monkeypatch):
    agency, keys = csv_world
    path = tmp_path / "crash-before-send.csv"
    expected = write_csv(path, list(keys.values()))
    original = LicenceRegistry.issue_batch
    sent = []

    def crashing(self, account, root, count, bundle_hash):
        if len(sent) == 1:
            raise KeyboardInterrupt  # the power goes out after chunk 1 was built and stored
        sent.append(bytes(root))
        return original(self, account, root, count, bundle_hash)

    monkeypatch.setattr(LicenceRegistry, "issue_batch", crashing)
    with pytest.raises(KeyboardInterrupt):
        issue_csv(agency.client, path, "degree", agency.code, chunk=10)
    monkeypatch.undo()

    record = progress_of(path)["chunks"]
    assert record["0"]["status"] == "issued" and record["1"]["status"] == "built" and "2" not in record
    built_root = record["1"]["root"]
    assert store.has(types.bytes32(record["1"]["bundle"]))
    assert client.licences("degree").batch(agency.code, types.bytes32(built_root)) is None
    assert len(batch_events(client, agency.code)) == 1

    resent = []

    def spying(self, account, root, count, bundle_hash):
        resent.append(("0x" + bytes(root).hex(), count, "0x" + bytes(bundle_hash).hex()))
        return original(self, account, root, count, bundle_hash)

    monkeypatch.setattr(LicenceRegistry, "issue_batch", spying)
    result = issue_csv(agency.client, path, "degree", agency.code, chunk=10)

    assert resent[0] == (built_root, 10, record["1"]["bundle"])  # the same root and bundle, not a rebuilt one
    assert len(resent) == 2
    assert (result.issued_now, result.resumed) == (15, 0)
    assert result.roots[1] == built_root
    events = batch_events(client, agency.code)
    assert len(events) == 3
    assert Counter(bundle_rows(store, events, keys)) == Counter(expected)


def test_a_crash_between_sending_and_recording_does_not_send_twice(client, csv_world, store, tmp_path, monkeypatch):
    agency, keys = csv_world
    path = tmp_path / "crash-after-send.csv"
    expected = write_csv(path, list(keys.values()))
    original = batch_module.Progress.mark
    crashed = []

    def crashing(self, index, **values):
        if values.get("status") == "issued" and not crashed:
            crashed.append(index)
            raise KeyboardInterrupt  # the transaction landed, the record did not
        return original(self, index, **values)

    monkeypatch.setattr(batch_module.Progress, "mark", crashing)
    with pytest.raises(KeyboardInterrupt):
        issue_csv(agency.client, path, "degree", agency.code, chunk=10)
    monkeypatch.undo()

    record = progress_of(path)["chunks"]
    assert crashed == [0] and record["0"]["status"] == "built"
    assert client.licences("degree").batch(agency.code, types.bytes32(record["0"]["root"])) is not None
    assert len(batch_events(client, agency.code)) == 1

    result = issue_csv(agency.client, path, "degree", agency.code, chunk=10)

    assert (result.rows, result.batches, result.issued_now, result.resumed) == (25, 3, 15, 10)
    assert progress_of(path)["chunks"]["0"]["status"] == "issued"
    events = batch_events(client, agency.code)
    assert len(events) == 3
    assert "0x" + bytes(events[0]["args"]["root"]).hex() == record["0"]["root"]
    assert Counter(bundle_rows(store, events, keys)) == Counter(expected)


def test_a_progress_file_of_another_csv_version_is_a_conflict(client, csv_world, tmp_path):
    agency, keys = csv_world
    path = tmp_path / "changed.csv"
    write_csv(path, list(keys.values()), count=6)
    issue_csv(agency.client, path, "degree", agency.code, chunk=3, stop_after=1)
    write_csv(path, list(keys.values()), count=6)  # the same shape, other content
    before = head(client)

    with pytest.raises(Conflict, match="another version of the CSV.*delete changed.csv.progress.json"):
        issue_csv(agency.client, path, "degree", agency.code, chunk=3)
    with pytest.raises(Conflict, match="other settings"):  # also another batch size
        issue_csv(agency.client, path, "degree", agency.code, chunk=2)

    assert head(client) == before
    assert len(batch_events(client, agency.code)) == 1


BAD_CSVS = {  # name: (content as bytes, with {holder}/{stranger}, what the error says)
    "no holder column": (b"name,degree\nAlice,MSc\n", r"needs a header row with a 'holder' column"),
    "malformed address on row 3": (b"holder,degree\n{holder},MSc\n{holder},BSc\n0x1234,PhD\n",
                                   r"row 3: malformed holder address '0x1234'"),
    "unregistered holder": (b"holder,degree\n{holder},MSc\n{stranger},BSc\n",
                            r"row 2: {stranger} is not a registered holder"),
    "extra cells": (b"holder,degree\n{holder},MSc\n{holder},BSc,surplus\n", r"row 2: more cells than header columns"),
    "not UTF-8": (b"holder,name\n{holder},Jos\xe9 \xff\n", r"is not a UTF-8 CSV file"),
    "empty file": (b"", r"needs a header row with a 'holder' column"),
    "header only": (b"holder,degree\n", r"has no licence rows"),
    "malformed date": (b"holder,degree,valid_until\n{holder},MSc,31/12/2030\n", r"row 1: malformed time '31/12/2030'"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSVS))
def test_a_bad_csv_is_refused_naming_the_problem(client, csv_world, store, tmp_path, case):
    agency, keys = csv_world
    content, message = BAD_CSVS[case]
    holder, stranger = next(iter(keys)), new_account().address
    path = tmp_path / "bad.csv"
    path.write_bytes(content.replace(b"{holder}", holder.encode()).replace(b"{stranger}", stranger.encode()))
    before = head(client)

    with pytest.raises(InvalidInput, match=message.format(stranger=stranger)):
        issue_csv(agency.client, path, "degree", agency.code, chunk=10)

    assert head(client) == before
    assert not path.with_name("bad.csv.progress.json").exists()
    assert stored_files(store) == []


def test_a_damaged_progress_file_is_a_clear_error(client, csv_world, tmp_path):
    agency, keys = csv_world
    path = tmp_path / "damaged.csv"
    write_csv(path, list(keys.values()), count=2)
    path.with_name("damaged.csv.progress.json").write_text('{"csv_sha256": "ab')  # cut short (disk full, editor)
    before = head(client)
    try:
        with pytest.raises(ElicenseError, match="damaged.csv.progress.json"):
            issue_csv(agency.client, path, "degree", agency.code, chunk=10)
    finally:
        assert head(client) == before


def test_a_zero_batch_size_or_a_missing_csv_is_invalid_input(csv_world, tmp_path):
    agency, keys = csv_world
    path = tmp_path / "ok.csv"
    write_csv(path, list(keys.values()), count=2)
    with pytest.raises(InvalidInput, match="the batch size must be at least 1"):
        issue_csv(agency.client, path, "degree", agency.code, chunk=0)
    with pytest.raises(InvalidInput, match="cannot read .*missing.csv"):
        issue_csv(agency.client, tmp_path / "missing.csv", "degree", agency.code, chunk=10)


# ---------------------------------------------------------------- CLI: elicense issue-batch


def run_cli(client, tmp_path: Path, *args, account: str = "signer"):
    """`elicense` as the installed script, on the session deployment, with the test's keystore and store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ELICENSE_")}
    env["ELICENSE_PASSWORD"] = PASSWORD
    command = [ELICENSE, "--rpc", client.chain.url, "--deployments", str(client.deployments_dir),
               "--keystore", str(tmp_path / "keystore"), "--store", str(tmp_path / "store"), "--account", account,
               *map(str, args)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_cli_issue_batch_issues_a_csv_and_resumes_to_nothing(client, csv_world, tmp_path):
    agency, keys = csv_world
    fast_keystore(Wallet(tmp_path / "keystore"), "signer", agency.signer, PASSWORD)
    path = tmp_path / "cli.csv"
    expected = write_csv(path, list(keys.values()), count=7)
    args = ("issue-batch", path, "--type", "degree", "--agency", agency.code, "--batch-size", 5)

    done = run_cli(client, tmp_path, *args)

    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    out = json.loads(done.stdout)
    assert (out["rows"], out["batches"], out["issued_now"], out["resumed"]) == (7, 2, 7, 0)
    events = batch_events(client, agency.code)
    assert sorted(e["args"]["count"] for e in events) == [2, 5]
    store = DocumentStore(tmp_path / "store")  # the CLI's --store holds the bundles
    assert Counter(bundle_rows(store, events, keys)) == Counter(expected)

    again = run_cli(client, tmp_path, *args)

    assert again.returncode == 0, (again.stdout, again.stderr)
    assert json.loads(again.stdout)["issued_now"] == 0 and json.loads(again.stdout)["roots"] == out["roots"]
    assert len(batch_events(client, agency.code)) == 2


@pytest.fixture(scope="module")
def cli_refusal(client, authorities, tmp_path_factory):
    """`issue-batch` of a CSV whose row 2 has a malformed address, run once; the chain head around it."""
    root = tmp_path_factory.mktemp("cli-refusal")
    agency = make_agency(client, authorities, ("degree",), "CLI")
    fast_keystore(Wallet(root / "keystore"), "signer", agency.signer, PASSWORD)
    holder = register(client, "holder")
    path = root / "broken.csv"
    path.write_text(f"holder,degree\n{holder.address},MSc\nnot-an-address,BSc\n")
    before = head(client)
    done = run_cli(client, root, "issue-batch", path, "--type", "degree", "--agency", agency.code, "--batch-size", 5)
    return done, path, before, head(client), agency, root


def test_cli_issue_batch_of_a_malformed_csv_is_an_error_line_and_exit_1(client, cli_refusal):
    done, path, before, after, agency, root = cli_refusal
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    assert done.stdout == ""
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: {path} row 2: malformed holder address 'not-an-address': expected 0x followed by "
                      f"40 hex digits"], done.stderr
    assert after == before
    assert batch_events(client, agency.code) == []
    assert not path.with_name("broken.csv.progress.json").exists() and stored_files(DocumentStore(root / "store")) == []


def test_cli_issue_batch_refusal_is_the_only_stderr_line(cli_refusal):
    done = cli_refusal[0]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
