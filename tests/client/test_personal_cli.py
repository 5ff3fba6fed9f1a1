"""`elicense personal ...` run as the real entry point against the test Anvil: the whole GDPR life of
one record, each step signed by whoever holds that right, and the refusals as one-line errors."""

from __future__ import annotations

import json
import stat

import pytest
from test_cli import CLI_AUTHORITIES, Cli, one_line_error

from elicense.chain import account_from_key
from elicense.commitments import purpose_commitment
from elicense.nodes import dev_key


def private(path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.fixture(scope="module")
def world(node, tmp_path_factory):
    cli = Cli(node.url, tmp_path_factory.mktemp("personal-cli"))
    authorities = [account_from_key(dev_key(i)).address for i in CLI_AUTHORITIES]
    cli.json("deploy", *[x for a in authorities for x in ("--authority", a)], dev=CLI_AUTHORITIES[0])
    people = {name: cli.person(name, role) for name, role in [
        ("controller", "issuer"), ("alice", "holder"), ("bank", "inspector"), ("stranger", "inspector"),
        ("supervisor", "inspector")]}
    registry = cli.json("personal", "deploy", account="controller")["registry"]
    storage = str(cli.root / "storage")
    return cli, people, registry, storage


def test_the_life_of_a_record(world, tmp_path):
    cli, people, registry, storage = world
    alice = people["alice"].address

    def run(*args, account, **kwargs):
        return cli.json("personal", "--registry", registry, "--storage", storage, *args, account=account, **kwargs)

    def fail(*args, account, fragment):
        done = cli.run("personal", "--registry", registry, "--storage", storage, *args, account=account, expect=None)
        return one_line_error(done, fragment)

    # create: the controller drafts, the subject sees the data and consents, the controller records it
    request, signed = tmp_path / "request.json", tmp_path / "signed.json"
    run("draft", alice, "-f", "name=Alice Example", "-f", "email=alice@example.org", "--purpose", "citizen registry",
        "--out", request, account="controller")
    fail("consent", request, "--out", signed, "--yes", account="bank", fragment="this consent request is for")
    # the chain gets only the purpose's salted commitment; a request file whose statement was swapped is refused
    drafted = json.loads(request.read_text())
    assert drafted["purpose"] == "citizen registry" and len(bytes.fromhex(drafted["purpose_salt"][2:])) == 32
    committed = purpose_commitment(drafted["purpose"], drafted["purpose_salt"])
    assert "0x" + committed.hex() == drafted["typed"]["message"]["purpose"]
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps(dict(drafted, purpose="tax audit")))
    fail("consent", swapped, "--out", signed, "--yes", account="alice", fragment="do not match the purpose")
    run("consent", request, "--out", signed, "--yes", account="alice")
    assert private(request) and private(signed)  # like keystores: the owner's eyes only
    created = run("create", signed, account="controller")
    assert created["kind"] == "created" and created["version"] == 1

    read = run("read", alice, "--fields", "name", account="alice")
    assert read["data"] == {"name": "Alice Example"} and not read["tampered"]
    fail("read", alice, account="stranger", fragment="read refused")

    # consent: the bank asks, Alice grants, the bank reads
    asked = run("request", alice, "--purpose", "mortgage application", account="bank")
    opening = asked["opening"]  # what the bank hands Alice off chain: the statement and its salt
    assert opening["text"] == "mortgage application"
    assert "0x" + purpose_commitment(opening["text"], opening["salt"]).hex() == asked["purpose"]
    listing = cli.run("personal", "--registry", registry, "--storage", storage, "requests", "--pending",
                      account="alice").stdout
    assert people["bank"].address[:10] in listing
    run("grant", asked["request_id"], account="alice")
    assert run("read", alice, "--fields", "email", account="bank")["data"] == {"email": "alice@example.org"}

    log = cli.run("personal", "--registry", registry, "--storage", storage, "log", alice, account="alice").stdout
    assert "not-authorised" in log and "verified" in log

    run("rectify", alice, "-f", "city=Tartu", "--remove", "email", account="controller")
    exported = tmp_path / "export.json"
    exported.write_text("{}")
    exported.chmod(0o644)  # an older, world-readable file of the same name is narrowed too
    run("export", "--out", exported, account="alice")
    assert private(exported)
    document = json.loads(exported.read_text())
    assert document["data"] == {"name": "Alice Example", "city": "Tartu"} and document["access_log_verified"]

    run("grant-role", "supervisor", people["supervisor"].address, account="controller")
    assert run("audit", alice, account="supervisor")["finding"] == "intact"
    fail("audit", alice, account="stranger", fragment="supervisor")
    erased = run("erase", alice, account="alice")
    assert erased["still_stored"] == [] and len(erased["removed"]) == 1
    assert run("audit", account="supervisor")["findings"] == {"erasure-verified": 1}
    fail("erase", alice, account="controller", fragment="erased")


def test_refusals_are_one_line(world):
    cli, people, registry, storage = world
    done = cli.run("personal", "read", people["alice"].address, account="alice", expect=None)
    one_line_error(done, "--registry")
    done = cli.run("personal", "--registry", people["alice"].address, "read", people["alice"].address,
                   account="alice", expect=None)
    one_line_error(done, "is not a PersonalDataRegistry")
    done = cli.run("personal", "--registry", registry, "--storage", storage, "rectify", people["alice"].address,
                   account="controller", expect=None)
    one_line_error(done, "give --data FILE")
    done = cli.run("personal", "--registry", registry, "--storage", storage, "read", "0x1234", account="alice",
                   expect=None)
    one_line_error(done, "address")
