"""The `elicense` command line, run as the real entry point in subprocesses against the test Anvil.

The CLI gets a deployment of its own (temp --deployments and --keystore folders) and signs with
development accounts 3..5 only, so it never races the session client's accounts 0..2. Python-side
set-up on the CLI's deployment uses a fresh client each time (fresh nonces after CLI transactions).
People the CLI signs for get keystores with a small scrypt work factor (fast to unlock); one
`register` goes through the full, slow default. Error cases run concurrently to keep the wall time low.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cbor2
import pytest

from conftest import FIELDS, fast_keystore, unique_code
from elicense import Client, qr, types
from elicense.chain import account_from_key
from elicense.crypto import new_account, public_key
from elicense.nodes import dev_key, free_port
from elicense.wallet import Wallet

ELICENSE = str(Path(sys.executable).with_name("elicense"))
PASSWORD = "cli test password"
CLI_AUTHORITIES = [3, 4, 5]  # development accounts; the session client uses 0..2


class Cli:
    """Runs `elicense` with the test's node, folders and password."""

    def __init__(self, url: str, root: Path):
        self.url, self.root = url, root
        self.deployments, self.keystore = root / "deployments", root / "keystore"
        self.wallet = Wallet(self.keystore)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ELICENSE_")}
        self.env["ELICENSE_PASSWORD"] = PASSWORD

    def args(self, *args, rpc=None, deployments=None, account=None, dev=None) -> list[str]:
        signing = ["--account", account] if account else ["--dev-account", str(dev)] if dev is not None else []
        return [ELICENSE, "--rpc", rpc or self.url, "--deployments", str(deployments or self.deployments),
                "--keystore", str(self.keystore), *signing, *map(str, args)]

    def run(self, *args, rpc=None, deployments=None, account=None, dev=None, password=PASSWORD,
            expect: int | None = 0):
        """``account`` signs with a keystore, ``dev`` with a development account (global options)."""
        env = dict(self.env, ELICENSE_PASSWORD=password)
        done = subprocess.run(self.args(*args, rpc=rpc, deployments=deployments, account=account, dev=dev), env=env,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if expect is not None:
            assert done.returncode == expect, (args, done.returncode, done.stdout, done.stderr)
        return done

    def json(self, *args, **kwargs) -> dict:
        return json.loads(self.run(*args, **kwargs).stdout)

    def client(self, dev: int | None = None) -> Client:
        """A Python client on the CLI's deployment, with fresh nonces."""
        sender = account_from_key(dev_key(dev)) if dev is not None else None
        return Client.connect(self.url, sender=sender, deployments_dir=self.deployments, wallet=self.wallet)

    def person(self, name: str, role: str):
        """A registered account whose keystore the CLI can unlock with --account NAME."""
        account = new_account()
        self.client(5).register_user(name, role, account=account)
        fast_keystore(self.wallet, name, account, PASSWORD)
        return account


def one_line_error(done, fragment: str) -> str:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), lines
    assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# ---------------------------------------------------------------- the CLI's world, built step by step


@pytest.fixture(scope="module")
def cli(node, tmp_path_factory) -> Cli:
    return Cli(node.url, tmp_path_factory.mktemp("cli"))


@pytest.fixture(scope="module")
def deployed(cli):
    authorities = [account_from_key(dev_key(i)).address for i in CLI_AUTHORITIES]
    args = ["deploy"]
    for a in authorities:
        args += ["--authority", a]
    return cli.json(*args, dev=CLI_AUTHORITIES[0]), authorities


@pytest.fixture(scope="module")
def people(cli, deployed):
    return {name: cli.person(name, role) for name, role in [
        ("signer", "issuer"), ("holder", "holder"), ("inspector", "inspector"), ("loner", "issuer"),
        ("suspended-signer", "issuer"), ("closing", "holder"), ("registrar", "issuer"),
    ]}


@pytest.fixture(scope="module")
def agency(cli, people):
    """EDU accredited through the CLI: authority 3 proposes, authority 4 approves."""
    code = unique_code("EDU")
    proposed = cli.json("issuer", "propose-add", code, "--name", "University of Tests", "--signer",
                        people["signer"].address, "--type", "degree", dev=CLI_AUTHORITIES[0])
    approved = cli.json("issuer", "approve", proposed["proposal"], dev=CLI_AUTHORITIES[1])
    # The agency answers for the inspector: without this, its checks would not be recorded.
    authorised = cli.json("inspector", "authorise", people["inspector"].address, "--type", "degree", account="signer")
    assert authorised["inspector"] == people["inspector"].address
    return code, proposed, approved


@pytest.fixture(scope="module")
def civil(cli, people):
    """A civil registry (may close records, issues nothing), accredited through the CLI."""
    code = unique_code("CIV")
    proposed = cli.json("issuer", "propose-add", code, "--name", "Civil Registry", "--signer",
                        people["registrar"].address, "--type", "civil-registry", dev=CLI_AUTHORITIES[0])
    cli.json("issuer", "approve", proposed["proposal"], dev=CLI_AUTHORITIES[1])
    return code


@pytest.fixture(scope="module")
def issued(cli, people, agency):
    code = agency[0]
    return cli.json("issue", people["holder"].address, "--org", code, "--type", "degree",
                    *[x for k, v in FIELDS.items() for x in ("-f", f"{k}={v}")], account="signer")


@pytest.fixture(scope="module")
def suspended(cli, people):
    """A second agency, accredited then suspended (set up in Python: the CLI side is the refusal)."""
    code = unique_code("SUSP")
    a3, a4 = (account_from_key(dev_key(i)) for i in CLI_AUTHORITIES[:2])
    c = cli.client()
    proposal = c.issuers.propose_add_agency(a3, code, "Suspended", [people["suspended-signer"].address], ["degree"])
    c.issuers.approve(a4, proposal.proposal_id)
    proposal = c.issuers.propose_suspend(a3, code)
    assert c.issuers.approve(a4, proposal.proposal_id).executed
    return code


# ---------------------------------------------------------------- the happy path


def test_deploy_writes_the_deployment_file_for_the_chain(cli, deployed):
    output, authorities = deployed
    saved = json.loads((cli.deployments / "31337.json").read_text())
    assert saved["identity_registry"] == output["identity_registry"]
    assert sorted(saved["licence_registries"]) == ["1", "2", "3", "4", "5"]
    assert cli.client().issuers.authorities() == authorities


def test_register_creates_an_encrypted_keystore_and_registers_the_key(cli, deployed):
    user = cli.json("register", "newcomer", "--role", "holder", dev=CLI_AUTHORITIES[2])

    assert user["private_key"] is None
    assert Path(user["keystore"]) == cli.keystore / "newcomer.json"
    assert cli.wallet.address("newcomer") == user["address"]
    c = cli.client()
    assert c.identities.role(user["address"]) == "holder"
    assert "0x" + c.query_public_key(user["address"]).hex() == user["public_key"]


def test_pubkey_prints_the_registered_key(cli, people):
    out = cli.run("pubkey", people["holder"].address).stdout.strip()
    assert out == "0x" + public_key(people["holder"]).hex()


def test_issuer_propose_add_waits_and_approve_executes(cli, agency, people):
    code, proposed, approved = agency
    assert proposed["state"] == "waiting (1/2 approvals)"
    assert (approved["proposal"], approved["state"]) == (proposed["proposal"], "executed")
    found = cli.client().issuers.agency(code)
    assert (found.status, found.signers, found.cert_types) == ("active", (people["signer"].address,), ("degree",))


def test_issue_prints_the_licence_and_its_transaction(cli, issued, people, agency):
    info = cli.client().licences("degree").licence(types.bytes32(issued["licence_id"]))
    assert (info.holder, info.agency, info.status) == (people["holder"].address, agency[0], "active")
    receipt = cli.client().chain.w3.eth.get_transaction_receipt(issued["tx_hash"])
    assert receipt["blockNumber"] == issued["block_number"]


def test_licences_lists_the_holders_licence_and_status(cli, issued, people):
    out = cli.run("licences", people["holder"].address).stdout
    assert "degree" in out and "active" in out
    assert issued["licence_id"][:20] in out.replace("\n", "").replace("│", "").replace(" ", "")


def test_query_decrypt_gives_back_the_issued_fields(cli, issued, people, agency):
    found = cli.json("query", people["holder"].address, "--block", issued["block_number"], "--tx", issued["tx_hash"],
                     "--decrypt", account="holder")
    assert (found["agency"], found["licence_id"], found["status"]) == (agency[0], issued["licence_id"], "active")
    assert found["data"]["fields"] == FIELDS
    assert found["data"]["holder"] == people["holder"].address


def test_present_then_check_is_valid_and_a_replay_is_not(cli, issued, people, agency, tmp_path):
    out = tmp_path / "p.json"
    cli.run("present", issued["licence_id"], "--fields", "degree,programme", "--out", out, account="holder")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # a presentation is the holder's, like a keystore
    shown = json.loads(out.read_text())
    assert shown["licence_id"] == issued["licence_id"]
    assert "Alice Example" not in out.read_text()

    valid = cli.run("check", people["holder"].address, "--org", agency[0], "--presentation", out,
                    account="inspector", expect=0)
    replay = cli.run("check", people["holder"].address, "--org", agency[0], "--presentation", out,
                     account="inspector", expect=3)

    assert "verdict: VALID" in valid.stdout
    assert "verdict: INVALID" in replay.stdout and "already used" in replay.stdout


def test_malformed_input_is_a_one_line_error_not_a_crash(cli, people, agency, tmp_path):
    code, holder = agency[0], people["holder"].address
    # a byte that is not UTF-8 in an argument reaches Python as a lone surrogate
    args = [a.encode() for a in cli.args("issue", holder, "--org", code, "--type", "degree", "-f", "x", account="signer")]
    args[-1] = b"name=\xff"
    done = subprocess.run(args, env=cli.env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    one_line_error(done, "lone UTF-16 surrogate")

    csv = tmp_path / "batch.csv"
    csv.write_text(f"\ufeffholder,name,valid_until\n{holder},A,soon\n", encoding="utf-8")  # a spreadsheet's BOM
    done = cli.run("issue-batch", csv, "--type", "degree", "--agency", code, account="signer", expect=None)
    one_line_error(done, "row 1: malformed time 'soon'")

    huge = tmp_path / "huge.txt"
    huge.write_text(qr.PREFIX + qr.b45encode(cbor2.dumps([1, 2**70, b"\1" * 20, 1, b"\0" * 16, b"\2" * 65,
                                                           [3, [b"\3" * 32]], 5])))
    done = cli.run("check", holder, "--org", code, "--presentation", huge, "--no-record", expect=3)
    assert "bad chain id" in done.stdout and "Traceback" not in done.stderr + done.stdout


def test_present_as_a_qr_code_is_read_back_and_checked(cli, issued, people, agency, tmp_path):
    import zxingcpp
    from PIL import Image

    text, image = tmp_path / "code.txt", tmp_path / "code.png"
    for old in (text, image):  # files left world-readable by an older version are narrowed when rewritten
        old.write_text("old")
        old.chmod(0o644)
    cli.run("present", issued["licence_id"], "--fields", "degree", "--compact", "--out", text, "--qr", image,
            account="holder")
    assert {stat.S_IMODE(p.stat().st_mode) for p in (text, image)} == {0o600}
    assert text.read_text().startswith("EL1:")
    [found] = zxingcpp.read_barcodes(Image.open(image))
    assert found.text == text.read_text()
    (tmp_path / "scanned.txt").write_text(found.text)
    valid = cli.run("check", people["holder"].address, "--org", agency[0], "--presentation", tmp_path / "scanned.txt",
                    account="inspector", expect=0)
    assert "verdict: VALID" in valid.stdout


def test_revoke_makes_the_next_check_invalid(cli, people, agency, tmp_path):
    holder = people["holder"]
    c = Client.connect(cli.url, sender=people["signer"], deployments_dir=cli.deployments)
    licence = c.send_certification(holder.address, agency[0], "degree", {"degree": "BSc"})

    done = cli.json("revoke", licence.licence_id, "--type", "degree", "--reason", 2, account="signer")

    assert cli.client().licences("degree").licence(types.bytes32(licence.licence_id)).status == "revoked"
    assert cli.client().chain.w3.eth.get_transaction_receipt(done["tx_hash"])["status"] == 1
    queried = c.query_licence(holder.address, licence.block_number, licence.tx_hash)
    (tmp_path / "p.json").write_text(c.present(holder, queried).dumps())
    check = cli.run("check", holder.address, "--org", agency[0], "--presentation", tmp_path / "p.json",
                    account="inspector", expect=3)
    assert "the licence was revoked" in check.stdout


def test_close_closes_the_holders_record(cli, people, agency, civil):
    closing = people["closing"].address
    one_line_error(cli.run("close", closing, "--type", "degree", "--reason", "death", account="signer", expect=1),
                   "does not sign for a civil registry")
    cli.json("close", closing, "--type", "degree", "--reason", "death", account="registrar")
    record = cli.client().licences("degree").holder_record(closing)
    assert record.closed_at > 0 and record.close_reason == types.CLOSE_REASONS["death"]


# ---------------------------------------------------------------- refusals: one line, exit 1


@pytest.fixture(scope="module")
def refusals(cli, people, agency, issued, suspended, tmp_path_factory):
    """Every refusal case, run concurrently; also the chain head before and after them all."""
    code, holder = agency[0], people["holder"].address
    issue_args = ("issue", holder, "--org", code, "--type", "degree", "-f", "degree=PhD")
    empty = tmp_path_factory.mktemp("no-deployments")
    signer = {"account": "signer"}
    cases = {  # name: (arguments, global options, what the error line must say)
        "unknown holder": (("issue", new_account().address, *issue_args[2:]), signer, "is not a registered identity"),
        "unregistered issuer": (("issue", holder, "--org", "NO-SUCH-AGENCY", "--type", "degree", "-f", "a=b"), signer,
                                "no agency has organisation code 'NO-SUCH-AGENCY'"),
        "issuer not of the agency": (issue_args, {"account": "loner"},
                                     f"{people['loner'].address} is not a signing account of {code}"),
        "suspended issuer": (("issue", holder, "--org", suspended, "--type", "degree", "-f", "a=b"),
                             {"account": "suspended-signer"}, "(unregistered or suspended issuer)"),
        "wrong type": (("issue", holder, "--org", code, "--type", "marriage", "-f", "a=b"), signer,
                       "does not sign for an agency accredited for marriage"),
        "malformed address": (("pubkey", "0x1234"), {}, "malformed address '0x1234'"),
        "malformed holder": (("issue", "0xnothex", *issue_args[2:]), signer, "malformed holder address '0xnothex'"),
        "unreachable node": (("pubkey", holder), {"rpc": f"http://127.0.0.1:{free_port()}"},
                             "no Ethereum node answers"),
        "holder revokes": (("revoke", issued["licence_id"], "--type", "degree"), {"account": "holder"},
                           f"{people['holder'].address} does not sign for the agency that issued licence"),
        "non-authority proposes": (("issuer", "propose-suspend", code), signer,
                                   f"{people['signer'].address} is not a governing authority"),
        "missing deployment": (("pubkey", holder), {"deployments": empty}, "no deployment for chain 31337"),
        "wrong keystore password": (issue_args, {"account": "signer", "password": "wrong"},
                                    "wrong password for this keystore"),
        "unknown account": (issue_args, {"account": "nobody"}, "no account named 'nobody'"),
        "unknown certificate type": (("issue", holder, "--org", code, "--type", "passport", "-f", "a=b"), signer,
                                     "unknown certificate type 'passport'"),
        "malformed field": ((*issue_args[:-2], "-f", "no-equals-sign"), signer,
                            "malformed field 'no-equals-sign': use NAME=VALUE"),
        "no signing account": (issue_args, {}, "this action needs a signing account"),
        "unknown licence query": (("query", holder, "--block", 1, "--tx", "0x" + "ab" * 32), {},
                                  "no transaction 0x" + "ab" * 32),
    }
    before = cli.client().chain.w3.eth.block_number
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(cli.run, *args, expect=None, **kw) for name, (args, kw, _) in cases.items()}
        done = {name: (f.result(), cases[name][2]) for name, f in futures.items()}
    after = cli.client().chain.w3.eth.block_number
    return done, before, after


REFUSALS = [
    "unknown holder", "unregistered issuer", "issuer not of the agency", "suspended issuer", "wrong type",
    "malformed address", "malformed holder", "unreachable node", "holder revokes", "non-authority proposes",
    "missing deployment", "wrong keystore password", "unknown account", "unknown certificate type",
    "malformed field", "no signing account", "unknown licence query",
]


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refusal_is_one_error_line_with_exit_code_1(refusals, case):
    done, fragment = refusals[0][case]
    one_line_error(done, fragment)


def test_the_refused_commands_changed_nothing_on_chain(refusals, cli, issued):
    _, before, after = refusals
    assert after == before
    assert cli.client().licences("degree").licence(types.bytes32(issued["licence_id"])).status == "active"


def test_every_refusal_case_is_checked(refusals):
    assert sorted(refusals[0]) == sorted(REFUSALS)


def test_a_usage_error_is_clicks_message_with_exit_code_2(cli):
    done = cli.run("issue", expect=2)
    assert "Missing argument 'HOLDER'" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------- help


def _commands():
    from elicense.cli import cli as group

    found = [()]
    for name, command in group.commands.items():
        found.append((name,))
        for sub in getattr(command, "commands", {}):
            found.append((name, sub))
    return found


# Calls the entry point's own function (`elicense.cli:main`, what the `elicense` script runs) once per
# command in one interpreter, as the script would, and reports each exit code: 26 separate process
# starts would cost half a minute of CPU on a 2-core machine.
HELP_RUNNER = """
import contextlib, io, json, sys
from elicense.cli import main
results = []
for command in json.loads(sys.argv[1]):
    sys.argv = ["elicense", *command, "--help"]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exc:
            code = exc.code or 0
    results.append([command, code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def test_help_of_every_command_exits_0(cli):
    commands = _commands()
    assert ("issue",) in commands and ("issuer", "approve") in commands and ("check",) in commands
    assert len(commands) > 20
    done = subprocess.run([sys.executable, "-c", HELP_RUNNER, json.dumps(commands)], capture_output=True, text=True,
                          timeout=120, env=cli.env)
    assert done.returncode == 0, done.stderr
    for command, code, out, err in json.loads(done.stdout):
        assert code == 0, (command, err)
        assert out.startswith("Usage: elicense"), (command, out)
        assert "Traceback" not in err


@pytest.mark.parametrize("command", [(), ("issuer", "propose-add")])
def test_help_through_the_installed_script_exits_0(cli, command):
    done = subprocess.run([ELICENSE, *command, "--help"], capture_output=True, text=True, timeout=60, env=cli.env)
    assert done.returncode == 0, done.stderr
    assert f"Usage: elicense {' '.join(command)}".rstrip() in done.stdout
