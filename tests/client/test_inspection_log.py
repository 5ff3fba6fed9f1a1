"""The holder's own inspection log (seed 001's Subchain 2): every check of their licences, failed
ones included, over every registry, with each registry's hash chain recomputed from the events.

The checks are real inspections on the session's Anvil: valid, replayed and expired presentations,
by two inspectors, in two registries. The tamper cases drop or alter an entry of the events read
and show the recomputation refusing it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import advance_time, fast_keystore, issue, make_agency, register
from elicense import InvalidInput, types
from elicense.inspections import entry_hash, next_head, registry_entries, verify_chain

ELICENSE = str(Path(sys.executable).with_name("elicense"))
PASSWORD = "inspection log password"


@pytest.fixture(scope="module")
def world(client, authorities, tmp_path_factory):
    """A holder with a degree and a marriage licence, inspected five times by two inspectors:
    degree valid (A), degree replayed (B), degree expired presentation (A), marriage valid (B),
    marriage revoked (A). Inspector B is a named account of the client's wallet."""
    agency = make_agency(client, authorities, ("degree", "marriage"), "LOG")
    holder = register(client, "holder")
    a, b = register(client, "inspector"), register(client, "inspector")
    name_b = f"border-post-{b.address[2:8].lower()}"
    fast_keystore(client.wallet, name_b, b, PASSWORD)
    inspect_a, inspect_b = client.with_sender(a), client.with_sender(b)
    for cert_type in ("degree", "marriage"):  # the agency answers for both inspectors
        for officer in (a, b):
            agency.client.authorise_inspector(cert_type, officer.address)
    degree = issue(client, agency, holder)
    marriage = issue(client, agency, holder, {"spouse": "Bob Example"}, cert_type="marriage")
    code = agency.code

    shown = client.present(holder, degree.queried)
    results = [inspect_a.check(holder.address, code, shown).result,
               inspect_b.check(holder.address, code, shown).result]
    late = client.present(holder, degree.queried, ttl=30)
    advance_time(client, 3600)
    results.append(inspect_a.check(holder.address, code, late).result)
    results.append(inspect_b.check(holder.address, code, client.present(holder, marriage.queried)).result)
    agency.client.revoke("marriage", marriage.licence.licence_id)
    results.append(inspect_a.check(holder.address, code, client.present(holder, marriage.queried)).result)
    assert results == ["valid", "presentation-replayed", "presentation-expired", "valid", "revoked"]
    return {"holder": holder, "a": a, "b": b, "name_b": name_b, "degree": degree, "marriage": marriage,
            "agency": agency, "tmp": tmp_path_factory.mktemp("inspections")}


def test_the_log_lists_every_inspection_newest_first_with_who_when_which_and_outcome(client, world):
    log = client.inspections(world["holder"].address)

    assert (log.total, log.failed, log.verified) == (5, 3, True)
    assert [e.result for e in log.items] == ["revoked", "valid", "presentation-expired", "presentation-replayed",
                                             "valid"]
    assert [e.type for e in log.items] == ["marriage", "marriage", "degree", "degree", "degree"]
    a, b = world["a"].address, world["b"].address
    assert [e.inspector for e in log.items] == [a, b, a, b, a]
    assert [e.failed for e in log.items] == [True, False, True, True, False]
    degree_id, marriage_id = world["degree"].licence.licence_id, world["marriage"].licence.licence_id
    assert [e.licence_id for e in log.items] == [marriage_id, marriage_id, degree_id, degree_id, degree_id]
    times = [e.time for e in log.items]
    assert times == sorted(times, reverse=True) and times[0] - times[-1] >= 3600
    for e in log.items:
        assert e.time == client.chain.timestamp(e.block_number)
        assert e.inspector_role == "inspector"
        assert e.inspector_name == (world["name_b"] if e.inspector == b else None)
    assert log.items[2].sentence == "refused: the presentation's validity window is over (a screenshot replayed later?)"
    assert log.items[3].sentence == "refused: this presentation was already used in an inspection (a replay)"
    assert log.items[4].sentence == "the licence was shown and checked valid"


def test_every_registry_of_the_topology_is_read_and_its_chain_verified(client, world):
    log = client.inspections(world["holder"].address)

    checks = {types.CERT_TYPE_NAMES[c.cert_type]: c for c in log.chains}
    assert set(checks) == set(types.CERT_TYPES)  # the session deploys all five
    assert (checks["degree"].entries, checks["marriage"].entries) == (3, 2)
    assert all(c.verified and c.problem is None for c in log.chains)
    assert checks["degree"].head == client.licences("degree").holder_record(world["holder"].address).access_head
    assert checks["health-licence"].entries == 0 and checks["health-licence"].head == "0x" + "00" * 32


def test_the_chain_is_recomputed_as_the_contract_does_it(client, world):
    registry = client.licences("degree")
    holder = world["holder"].address
    entries = registry_entries(registry, holder, client.from_block(registry))
    head = b"\0" * 32
    for e in entries:
        receipt = client.chain.w3.eth.get_transaction_receipt(e.tx_hash)
        assert receipt["blockNumber"] == e.block_number
        head = next_head(head, entry_hash(e.inspector, types.bytes32(e.licence_id),
                                          ["valid", "bad-signature", "presentation-expired",
                                           "presentation-replayed"].index(e.result), e.block_number))
        assert "0x" + head.hex() == e.access_head
    assert "0x" + head.hex() == registry.holder_record(holder).access_head


def test_the_entry_formula_is_the_contracts(client):
    """inspections.ENTRY_TYPES mirrors LicenseRegistry._record; if the contract's entry changes, this
    names the one place to follow it (the recomputation tests then fail too)."""
    import elicense.inspections as inspections

    source = (Path(__file__).resolve().parents[2] / "contracts" / "LicenseRegistry.sol").read_text()
    record = source[source.index("function _record("):]
    record = record[:record.index("\n    }\n")]
    assert "keccak256(abi.encode(msg.sender, licenceId, result, block.number))" in record, (
        "LicenseRegistry._record hashes another entry now: update elicense.inspections.entry_hash")
    assert "keccak256(abi.encode(record.accessHead, entry))" in record
    assert inspections.ENTRY_TYPES == ["address", "bytes32", "uint8", "uint256"]


def test_a_dropped_entry_is_detected_and_located(client, world):
    registry = client.licences("degree")
    holder = world["holder"].address
    entries = registry_entries(registry, holder, client.from_block(registry))
    head = registry.holder_record(holder).access_head
    assert verify_chain(entries, head) == (True, None)

    ok, problem = verify_chain([entries[0], entries[2]], head)  # the replay attempt left out

    assert not ok
    assert problem.startswith(f"entry 2 (block {entries[2].block_number}, transaction {entries[2].tx_hash}) "
                              "does not follow from the entries before it")


def test_a_dropped_newest_entry_is_detected_against_the_contracts_head(client, world):
    registry = client.licences("degree")
    holder = world["holder"].address
    entries = registry_entries(registry, holder, client.from_block(registry))

    ok, problem = verify_chain(entries[:-1], registry.holder_record(holder).access_head)

    assert not ok
    assert f"entries after block {entries[1].block_number} are missing" in problem


def test_an_altered_entry_is_detected(client, world):
    registry = client.licences("degree")
    holder = world["holder"].address
    entries = registry_entries(registry, holder, client.from_block(registry))
    head = registry.holder_record(holder).access_head

    laundered = [entries[0], replace(entries[1], result="valid"), entries[2]]  # a failed attempt shown as valid
    other_inspector = [replace(entries[0], inspector=world["b"].address), *entries[1:]]

    assert verify_chain(laundered, head)[1].startswith("entry 2 ")
    assert verify_chain(other_inspector, head)[1].startswith("entry 1 ")


def test_pages_of_the_log(client, world):
    everything = client.inspections(world["holder"].address).items

    page = client.inspections(world["holder"].address, offset=1, limit=2)

    assert page.total == 5 and page.items == everything[1:3]
    assert client.inspections(world["holder"].address, offset=5).items == []


def test_a_holder_never_inspected_has_an_empty_verified_log(client, holder):
    log = client.inspections(holder.address)

    assert (log.total, log.failed, log.items, log.verified) == (0, 0, [], True)


def test_a_malformed_holder_or_page_is_refused(client):
    with pytest.raises(InvalidInput, match="malformed holder address"):
        client.inspections("0x1234")
    with pytest.raises(InvalidInput, match="offset is 0 or more"):
        client.inspections("0x" + "11" * 20, limit=0)


# ---------------------------------------------------------------- the CLI


def cli(client, world, *args, account=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ELICENSE_")}
    env["ELICENSE_PASSWORD"] = PASSWORD
    signing = ["--account", account] if account else []
    command = [ELICENSE, "--rpc", client.chain.url, "--deployments", str(client.deployments_dir),
               "--keystore", str(client.wallet.directory), *signing, *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_the_cli_shows_the_log_as_a_table_with_failed_attempts_and_the_verified_chains(client, world):
    done = cli(client, world, "inspections", world["holder"].address)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"Inspections of {world['holder'].address}" in out
    assert out.count("FAILED") == 3
    assert "presentation-replayed" in out and "presentation-expired" in out and "revoked" in out
    assert world["name_b"] in out and world["a"].address in out
    assert "5 inspection(s), 3 failed" in out
    assert out.count("verified") == 2 and "BROKEN" not in out


def test_the_cli_defaults_to_the_accounts_own_log_and_prints_json(client, world):
    name = f"holder-{world['holder'].address[2:8].lower()}"
    fast_keystore(client.wallet, name, world["holder"], PASSWORD)

    done = cli(client, world, "inspections", "--json", "--limit", "2", account=name)

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["holder"], data["total"], data["verified"]) == (world["holder"].address, 5, True)
    assert [i["result"] for i in data["items"]] == ["revoked", "valid"]
    assert data["items"][0]["failed"] is True and data["items"][0]["sentence"] == "refused: the licence was revoked"


def test_the_cli_refuses_a_malformed_holder_in_one_line(client, world):
    done = cli(client, world, "inspections", "0xnot-an-address")

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["error: malformed holder address '0xnot-an-address': "
                                                "expected 0x followed by 40 hex digits"]


# ---------------------------------------------------------------- side chains


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    from test_split_topology import Split

    world = Split(tmp_path_factory.mktemp("split-inspections"))
    yield world
    world.stop()


def test_the_log_spans_registries_on_separate_side_chains(split):
    holder, inspector = split.person("holder"), split.person("inspector")
    checks = []
    for cert_type, fields in (("degree", {"degree": "MSc"}), ("business-licence", {"trade": "bakery"})):
        code, agency = split.agency(cert_type)
        agency.authorise_inspector(cert_type, inspector.address)
        issued = agency.send_certification(holder.address, code, cert_type, fields)
        licence = split.admin.query_licence(holder.address, issued.block_number, issued.tx_hash)
        shown = split.admin.present(holder, licence)
        checks.append(split.admin.with_sender(inspector).check(holder.address, code, shown).result)
        checks.append(split.admin.with_sender(inspector).check(holder.address, code, shown).result)
    assert checks == ["valid", "presentation-replayed"] * 2

    log = split.admin.inspections(holder.address)

    assert (log.total, log.failed, log.verified) == (4, 2, True)
    by_type = {c.cert_type: c for c in log.chains}
    assert by_type[3].chain_id != by_type[4].chain_id != split.admin.chain.chain_id
    assert (by_type[3].entries, by_type[4].entries) == (2, 2)
    for e in log.items:
        registry = split.admin.licences(e.cert_type)
        assert e.chain_id == registry.chain.chain_id and e.time == registry.chain.timestamp(e.block_number)
        assert e.inspector == inspector.address and e.inspector_role == "inspector"
    assert sorted(e.result for e in log.items) == ["presentation-replayed", "presentation-replayed", "valid", "valid"]
