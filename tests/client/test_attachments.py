"""Licence attachments: files sealed off chain, only their reference (CID + envelope SHA-256) in the licence.

Against the session's real Anvil and both storage backends: the embedded store in a temporary folder
and a real js-ipfs daemon (started once for this module on 127.0.0.1, offline, stopped by its process
group, as in test_storage.py). The CLI round trip runs the installed `elicense` script on the
session's deployment, with people of its own (fast keystores).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ipfs_node import JsIpfsNode, js_ipfs_missing

from conftest import FIELDS, fast_keystore, head, make_agency, register
from elicense import Client, DecryptionError, InvalidInput, NotFound
from elicense import attachments as att
from elicense import types
from elicense.client import AttachedLicence
from elicense.crypto import new_account, public_key
from elicense.storage import StorageCorrupted
from elicense.storage import envelope
from elicense.storage.embedded import EmbeddedStore
from elicense.storage.ipfs import IpfsStore
from elicense.storage.unixfs import CHUNK_SIZE, cid_of

# urllib3 2 warns about a keyword ipfshttpclient 0.7 passes (raw_client); harmless
pytestmark = pytest.mark.filterwarnings("ignore:The 'strict' parameter:FutureWarning")

PDF_NAME, PNG_NAME = "diploma-scan.pdf", "photo.png"
PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def pdf_bytes(size: int = 1536 * 1024, seed: int = 1) -> bytes:
    """A PDF-like file: the header, then random bytes (no two chunks alike)."""
    return b"%PDF-1.7\n" + random.Random(seed).randbytes(size - 9)


def png_bytes(seed: int = 2) -> bytes:
    return PNG_HEADER + random.Random(seed).randbytes(3000)


PDF, PNG = pdf_bytes(), png_bytes()
assert len(PDF) > 1024 * 1024 and len(PDF) > CHUNK_SIZE  # chunked into a DAG by both backends
FILES = [(PDF_NAME, PDF, "application/pdf"), (PNG_NAME, PNG, "image/png")]


# ---------------------------------------------------------------- the two backends


@pytest.fixture(scope="module")
def js_ipfs(tmp_path_factory):
    """One real js-ipfs daemon for the module; stopped by its process group even if a test fails."""
    if reason := js_ipfs_missing():
        pytest.fail(reason)  # the real node is part of the suite: never silently skipped
    with JsIpfsNode(tmp_path_factory.mktemp("js-ipfs")) as node:
        yield node


@pytest.fixture(params=["embedded", "ipfs"])
def storage(request, tmp_path):
    if request.param == "embedded":
        yield EmbeddedStore(tmp_path / "storage")
        return
    with IpfsStore(request.getfixturevalue("js_ipfs").api, read_timeout=1) as store:
        yield store


def acting(client: Client, sender, storage) -> Client:
    """A client on the session's chain and deployment, signing as ``sender``, with ``storage``."""
    return Client(client.chain, sender=sender, deployment=client.deployment, deployments_dir=client.deployments_dir,
                  wallet=client.wallet, storage=storage)


class Attached:
    def __init__(self, client, agency, holder, storage, issued):
        self.agency, self.holder, self.storage, self.issued = agency, holder, storage, issued
        self.desk = acting(client, agency.signer, storage)  # the agency's side
        self.wallet = acting(client, None, storage)  # the holder's side (reads only)
        self.queried = client.query_licence(holder.address, issued.block_number, issued.tx_hash)


@pytest.fixture
def attached(client, agency, holder, storage) -> Attached:
    """A degree licence with a 1.5 MiB PDF scan and a small PNG attached, issued into ``storage``."""
    desk = acting(client, agency.signer, storage)
    issued = desk.send_certification(holder.address, agency.code, "degree", FIELDS, attachments=FILES)
    return Attached(client, agency, holder, storage, issued)


# ---------------------------------------------------------------- the round trip


def test_the_holder_gets_each_attachment_back_byte_identical(attached):
    for name, data, _ in FILES:
        assert attached.wallet.attachment(attached.queried, name, attached.holder) == data
        assert attached.wallet.attachment(attached.queried, name, attached.holder.key.hex()) == data


def test_the_licence_holds_the_references_under_attachment_fields(attached):
    document = attached.queried.decrypt(attached.holder.key)
    assert set(document.fields) == set(FIELDS) | {f"attachment:{PDF_NAME}", f"attachment:{PNG_NAME}"}
    assert {k: document.fields[k] for k in FIELDS} == FIELDS
    refs = attached.wallet.attachments_of(attached.queried, attached.holder)
    assert isinstance(attached.issued, AttachedLicence) and attached.issued.attachments == refs
    for name, data, media_type in FILES:
        ref = refs[name]
        assert document.fields[f"attachment:{name}"] == ref
        assert (ref["name"], ref["media_type"], ref["size"]) == (name, media_type, len(data))


def test_the_cid_is_that_of_the_sealed_bytes_and_the_sha256_too(attached):
    for ref in attached.issued.attachments.values():
        sealed = attached.storage.get(ref["cid"])
        assert ref["cid"] == cid_of(sealed)
        assert ref["sha256"] == "0x" + hashlib.sha256(sealed).hexdigest() == "0x" + envelope.integrity_hash(sealed).hex()


def test_the_stored_file_is_sealed_for_the_holder_and_the_signer_not_plaintext(attached):
    for name, data, _ in FILES:
        ref = attached.issued.attachments[name]
        sealed = attached.storage.get(ref["cid"])
        assert sealed != data and data[64:128] not in sealed and data[-64:] not in sealed
        assert sorted(envelope.readers(sealed)) == sorted([attached.holder.address, attached.agency.signer.address])
    if isinstance(attached.storage, EmbeddedStore):
        on_disk = {p.read_bytes() for p in Path(attached.storage.root).rglob("Qm*")}
        assert len(on_disk) == 2 and not on_disk & {PDF, PNG}


def test_the_licence_verifies_as_before(attached, inspector_client):
    registry = attached.wallet.licences("degree")
    document = attached.queried.decrypt(attached.holder.key)  # checks the hash issued on chain
    assert attached.issued.data_hash == "0x" + document.data_hash.hex()
    info = registry.licence(types.bytes32(attached.issued.licence_id))
    assert (info.holder, info.status) == (attached.holder.address, "active")
    for shown in (None, ["degree"], ["degree", f"attachment:{PDF_NAME}"]):
        presentation = attached.wallet.present(attached.holder, attached.queried, shown)
        verdict = inspector_client.check(attached.holder.address, attached.agency.code, presentation, record=False)
        assert verdict.valid, verdict.steps


def test_nothing_about_the_files_is_on_chain(client, attached):
    tx = client.chain.w3.eth.get_transaction(attached.issued.tx_hash)
    receipt = client.chain.w3.eth.get_transaction_receipt(attached.issued.tx_hash)
    on_chain = bytes(tx["input"]) + b"".join(bytes(log["data"]) + b"".join(log["topics"]) for log in receipt["logs"])
    assert attached.queried.ciphertext in on_chain and len(attached.queried.ciphertext) < 2048
    for name, data, _ in FILES:
        ref = attached.issued.attachments[name]
        sealed = attached.storage.get(ref["cid"])
        secrets = [data[9:73], data[-64:], hashlib.sha256(data).digest(), hashlib.sha256(sealed).digest(),
                   sealed[-64:], name.encode(), ref["cid"].encode()]
        secrets += [s.hex().encode() for s in secrets[2:4]]
        for secret in secrets:
            assert secret not in on_chain


def test_the_agency_reads_its_files_back_with_its_own_key(attached):
    for name, data, _ in FILES:
        assert att.fetch(attached.storage, attached.issued.attachments[name], attached.agency.signer) == data


def test_a_non_readers_key_is_refused(attached, other_holder):
    ref = attached.issued.attachments[PDF_NAME]
    with pytest.raises(DecryptionError, match=f"{other_holder.address} is not a reader of this envelope"):
        att.fetch(attached.storage, ref, other_holder)
    with pytest.raises(DecryptionError, match="cannot decrypt the licence"):  # nor can it open the licence
        attached.wallet.attachment(attached.queried, PDF_NAME, other_holder)


def test_a_file_swapped_for_another_stored_one_is_refused(attached):
    pdf, png = attached.issued.attachments[PDF_NAME], attached.issued.attachments[PNG_NAME]
    swapped = dict(pdf, cid=png["cid"])
    with pytest.raises(StorageCorrupted, match=f"the file stored under {png['cid']} is not the attachment "
                                               f"'{PDF_NAME}' the licence committed to"):
        att.fetch(attached.storage, swapped, attached.holder)


def test_a_file_missing_from_the_store_is_not_found(attached):
    ref = attached.issued.attachments[PNG_NAME]
    attached.storage.remove(ref["cid"])
    with pytest.raises(NotFound, match=ref["cid"]):
        attached.wallet.attachment(attached.queried, PNG_NAME, attached.holder)


def test_an_unknown_attachment_name_is_not_found(attached):
    with pytest.raises(NotFound, match=f"the licence has no attachment 'cv.pdf' \\(it has '{PDF_NAME}', '{PNG_NAME}'\\)"):
        attached.wallet.attachment(attached.queried, "cv.pdf", attached.holder)


def test_a_renewal_keeps_the_old_references_and_adds_new_files(attached):
    old = {f"attachment:{name}": ref for name, ref in attached.issued.attachments.items() if name == PDF_NAME}
    extra = b"%PDF-1.4\nrenewal letter"
    renewed = attached.desk.renew("degree", attached.issued.licence_id, {**FIELDS, **old},
                                  attachments=[("renewal.pdf", extra, "application/pdf")])
    queried = attached.wallet.query_licence(attached.holder.address, renewed.block_number, renewed.tx_hash)
    assert renewed.previous == attached.issued.licence_id
    assert sorted(attached.wallet.attachments_of(queried, attached.holder)) == [PDF_NAME, "renewal.pdf"]
    assert attached.wallet.attachment(queried, PDF_NAME, attached.holder) == PDF
    assert attached.wallet.attachment(queried, "renewal.pdf", attached.holder) == extra


def test_a_file_altered_on_disk_is_refused(client, agency, holder, tmp_path):
    store = EmbeddedStore(tmp_path / "storage")
    issued = acting(client, agency.signer, store).send_certification(holder.address, agency.code, "degree", FIELDS,
                                                                     attachments=FILES[:1])
    cid = issued.attachments[PDF_NAME]["cid"]
    (path,) = [p for p in (tmp_path / "storage").rglob(cid)]
    sealed = bytearray(path.read_bytes())
    sealed[len(sealed) // 2] ^= 1
    path.write_bytes(bytes(sealed))
    queried = client.query_licence(holder.address, issued.block_number, issued.tx_hash)
    with pytest.raises(StorageCorrupted, match=f"document {cid} .* was altered on disk"):
        acting(client, None, store).attachment(queried, PDF_NAME, holder)


# ---------------------------------------------------------------- refusals


@pytest.fixture
def empty_store(tmp_path) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / "storage")


def some_reader():
    account = new_account()
    return {account.address: public_key(account)}


@pytest.mark.parametrize("data, name, media_type, message", [
    (b"", "empty.pdf", "application/pdf", "the attachment 'empty.pdf' is empty"),
    (b"x", "", "application/pdf", "an attachment needs a file name of 1 to 53 characters"),
    (b"x", "scans/passport.pdf", "application/pdf", "the attachment name 'scans/passport.pdf' contains a path separator"),
    (b"x", "..\\passport.pdf", "application/pdf", "contains a path separator"),
    (b"x", "..", "application/pdf", "the attachment name '..' is not a usable file name"),
    (b"x", "bad\nname.pdf", "application/pdf", "is not a usable file name"),
    (b"x", " padded.pdf", "application/pdf", "is not a usable file name"),
    (b"x", "a" * 54 + ".pdf", "application/pdf", "is 58 characters long; the limit is 53"),
    (b"x", "scan.pdf", "pdf", "'pdf' is not a media type of the form type/subtype"),
    (b"x", "scan.pdf", "application/", "is not a media type of the form type/subtype"),
    (b"x", "scan.pdf", "/pdf", "is not a media type of the form type/subtype"),
    (b"x", "scan.pdf", "text/plain; charset=utf-8", "is not a media type of the form type/subtype"),
    (b"x", "scan.pdf", None, "None is not a media type"),
    ("text", "scan.txt", "text/plain", "the attachment 'scan.txt' must be bytes, not str"),
], ids=["empty file", "no name", "folder/name", "windows path", "dot-dot", "control character", "padded name",
        "name too long", "no subtype", "empty subtype", "empty type", "parameters", "no media type", "not bytes"])
def test_each_bad_input_is_refused_with_its_sentence(empty_store, data, name, media_type, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        att.attach(empty_store, data, name, media_type, some_reader())
    assert empty_store.stat().count == 0


def test_a_file_above_the_limit_is_refused_naming_its_size(empty_store, monkeypatch):
    monkeypatch.setattr(att, "MAX_SIZE", 1000)
    assert att.attach(empty_store, b"x" * 1000, "ok.bin", "application/octet-stream", some_reader())["size"] == 1000
    with pytest.raises(InvalidInput, match="the attachment 'big.pdf' is 1001 bytes, more than the limit of 1000 bytes"):
        att.attach(empty_store, b"x" * 1001, "big.pdf", "application/pdf", some_reader())
    monkeypatch.setattr(att, "MAX_SIZE", 1 << 20)
    with pytest.raises(InvalidInput, match=r"is 1\.5 MiB \(1572864 bytes\), more than the limit of 1 MiB"):
        att.attach(empty_store, PDF, "big.pdf", "application/pdf", some_reader())
    assert empty_store.stat().count == 1


def test_the_default_limit_is_64_mib():
    assert att.MAX_SIZE == 64 * 1024 * 1024


GOOD_REF = {"name": "a.pdf", "media_type": "application/pdf", "size": 10,
            "cid": "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", "sha256": "0x" + "ab" * 32}


@pytest.mark.parametrize("ref, message", [
    ("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", "expected an object with cid, media_type, name, sha256, size, got str"),
    ({k: v for k, v in GOOD_REF.items() if k != "sha256"}, "it lacks sha256"),
    (dict(GOOD_REF, url="https://example.org"), "unknown url"),
    (dict(GOOD_REF, cid="Qm-not-a-cid"), "'Qm-not-a-cid' is not a CID"),
    (dict(GOOD_REF, cid=12), "cid must be text, not 12"),
    (dict(GOOD_REF, sha256="ab" * 32), "sha256 must be 0x and 64 hex digits"),
    (dict(GOOD_REF, sha256="0x1234"), "sha256 must be 0x and 64 hex digits"),
    (dict(GOOD_REF, size=0), "size must be a positive number of bytes, not 0"),
    (dict(GOOD_REF, size=True), "size must be a positive number of bytes, not True"),
    (dict(GOOD_REF, size="10"), "size must be a positive number of bytes, not '10'"),
    (dict(GOOD_REF, name="../a.pdf"), "contains a path separator"),
    (dict(GOOD_REF, media_type="pdf"), "'pdf' is not a media type"),
], ids=["not an object", "missing key", "extra key", "bad cid", "cid not text", "sha256 without 0x", "short sha256",
        "size 0", "size bool", "size text", "path in name", "bad media type"])
def test_a_malformed_reference_is_refused(empty_store, ref, message):
    with pytest.raises(InvalidInput, match="^malformed attachment reference: .*" + re.escape(message)):
        att.fetch(empty_store, ref, new_account())


def test_a_reference_under_another_name_is_refused():
    assert att.check_reference(GOOD_REF) == GOOD_REF
    with pytest.raises(InvalidInput, match="malformed attachment reference: field 'attachment:b.pdf' names 'a.pdf'"):
        att.references({"attachment:b.pdf": GOOD_REF})
    with pytest.raises(InvalidInput, match="malformed attachment reference"):
        att.references({"attachment:a.pdf": "see the paper file"})


def test_a_refused_attachment_leaves_the_chain_and_the_store_untouched(client, agency, holder, empty_store,
                                                                        monkeypatch):
    desk = acting(client, agency.signer, empty_store)
    monkeypatch.setattr(att, "MAX_SIZE", 2 * 1024 * 1024)
    before = head(client)
    cases = [
        ([*FILES, ("big.pdf", pdf_bytes(3 * 1024 * 1024), "application/pdf")], "more than the limit of 2 MiB"),
        ([*FILES, (PDF_NAME, b"again", "application/pdf")], f"two attachments named '{PDF_NAME}'"),
        ([(PNG_NAME, PNG, "image/png"), ("empty.png", b"", "image/png")], "the attachment 'empty.png' is empty"),
        ([("a/b.png", PNG, "image/png")], "contains a path separator"),
        ([(PNG_NAME, PNG, "png")], "'png' is not a media type"),
    ]
    for files, message in cases:
        with pytest.raises(InvalidInput, match=message):
            desk.send_certification(holder.address, agency.code, "degree", FIELDS, attachments=files)
    with pytest.raises(InvalidInput, match=f"two attachments named '{PNG_NAME}'"):
        desk.send_certification(holder.address, agency.code, "degree",
                                {**FIELDS, f"attachment:{PNG_NAME}": dict(GOOD_REF, name=PNG_NAME)},
                                attachments=FILES)
    with pytest.raises(InvalidInput, match="malformed attachment reference"):
        desk.send_certification(holder.address, agency.code, "degree", {**FIELDS, "attachment:x.pdf": "x"})
    assert head(client) == before and empty_store.stat().count == 0


def test_a_licence_refused_after_sealing_leaves_no_file_behind(client, agency, holder, empty_store):
    desk = acting(client, agency.signer, empty_store)
    before = head(client)
    with pytest.raises(InvalidInput, match="valid-until must be a unix time"):
        desk.send_certification(holder.address, agency.code, "degree", FIELDS, valid_until=-1, attachments=FILES)
    now = client.chain.timestamp()
    with pytest.raises(InvalidInput, match="is empty or already over"):  # the contract's refusal
        desk.send_certification(holder.address, agency.code, "degree", FIELDS, valid_from=now - 100,
                                valid_until=now - 50, attachments=FILES)
    assert head(client) == before and empty_store.stat().count == 0


def test_files_are_kept_when_the_outcome_on_chain_is_unknown(client, agency, holder, empty_store, monkeypatch):
    """The node stopped answering after the transaction may have been sent: it may still be mined, and
    its licence would then point at the files."""
    from elicense.errors import NodeUnreachable
    from elicense.registries import LicenceRegistry

    def lost(*args, **kwargs):
        raise NodeUnreachable("transaction 0x… was not mined within 120s")

    monkeypatch.setattr(LicenceRegistry, "issue", lost)
    with pytest.raises(NodeUnreachable):
        acting(client, agency.signer, empty_store).send_certification(holder.address, agency.code, "degree", FIELDS,
                                                                      attachments=FILES)
    assert empty_store.stat().count == 2


def test_read_file_guesses_the_media_type_and_refuses_what_it_cannot_read(tmp_path, monkeypatch):
    for name, data in [("scan.pdf", PDF[:100]), ("photo.png", PNG), ("notes.unknownext", b"x")]:
        (tmp_path / name).write_bytes(data)
    assert att.read_file(tmp_path / "scan.pdf") == ("scan.pdf", PDF[:100], "application/pdf")
    assert att.read_file(tmp_path / "photo.png") == ("photo.png", PNG, "image/png")
    assert att.read_file(tmp_path / "notes.unknownext")[2] == "application/octet-stream"
    assert att.read_file(tmp_path / "scan.pdf", "Application/X-Scan")[2] == "application/x-scan"
    with pytest.raises(InvalidInput, match="cannot read the attachment '.*missing.pdf': No such file or directory"):
        att.read_file(tmp_path / "missing.pdf")
    (tmp_path / "folder").mkdir()
    with pytest.raises(InvalidInput, match="is a folder, not a file"):
        att.read_file(tmp_path / "folder")
    monkeypatch.setattr(att, "MAX_SIZE", 50)
    with pytest.raises(InvalidInput, match="the attachment 'scan.pdf' is 100 bytes, more than the limit of 50 bytes"):
        att.read_file(tmp_path / "scan.pdf")


# ---------------------------------------------------------------- the command line

ELICENSE = str(Path(sys.executable).with_name("elicense"))
PASSWORD = "attachments cli password"


class Cli:
    def __init__(self, client: Client, root: Path):
        self.url, self.deployments = client.chain.url, client.deployments_dir
        self.root, self.keystore, self.storage = root, root / "keystore", root / "storage"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ELICENSE_")}
        self.env["ELICENSE_PASSWORD"] = PASSWORD

    def run(self, *args, account: str | None = None, cwd: Path | None = None):
        signing = ["--account", account] if account else []
        return subprocess.run(
            [ELICENSE, "--rpc", self.url, "--deployments", str(self.deployments), "--keystore", str(self.keystore),
             "--storage", str(self.storage), *signing, *map(str, args)],
            env=self.env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=cwd or self.root)


def one_line_error(done, fragment: str) -> None:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], done.stderr


@pytest.fixture
def cli(client, authorities, tmp_path):
    """The CLI on the session's deployment; an agency signer and a holder with keystores it unlocks."""
    tool = Cli(client, tmp_path)
    from elicense.wallet import Wallet

    agency = make_agency(client, authorities, ("degree",), "EDU")
    holder = register(client, "holder")
    wallet = Wallet(tool.keystore)
    fast_keystore(wallet, "signer", agency.signer, PASSWORD)
    fast_keystore(wallet, "holder", holder, PASSWORD)
    (tmp_path / PDF_NAME).write_bytes(PDF)
    (tmp_path / PNG_NAME).write_bytes(PNG)
    return tool, agency, holder


def test_cli_issue_attach_then_fetch_round_trip(cli, client, tmp_path):
    tool, agency, holder = cli
    done = tool.run("issue", holder.address, "--org", agency.code, "--type", "degree", "-f", "degree=MSc",
                    "--attach", tmp_path / PDF_NAME, "--attach", PNG_NAME, account="signer")
    assert done.returncode == 0, done.stderr
    issued = json.loads(done.stdout)
    refs = issued["attachments"]
    assert sorted(refs) == [PDF_NAME, PNG_NAME]
    assert (refs[PDF_NAME]["media_type"], refs[PNG_NAME]["media_type"]) == ("application/pdf", "image/png")
    assert client.licences("degree").licence(types.bytes32(issued["licence_id"])).status == "active"

    listed = tool.run("attachment", issued["licence_id"], account="holder")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == refs

    out = tmp_path / "fetched" / "scan-copy.pdf"
    out.parent.mkdir()
    fetched = tool.run("attachment", issued["licence_id"], PDF_NAME, "--out", out, account="holder")
    assert fetched.returncode == 0, fetched.stderr
    assert out.read_bytes() == PDF and (out.stat().st_mode & 0o777) == 0o600
    assert json.loads(fetched.stdout) == {"name": PDF_NAME, "media_type": "application/pdf", "size": len(PDF),
                                          "path": str(out)}
    default = tool.run("attachment", issued["licence_id"], PNG_NAME, account="holder", cwd=out.parent)
    assert default.returncode == 0, default.stderr
    assert (out.parent / PNG_NAME).read_bytes() == PNG

    one_line_error(tool.run("attachment", issued["licence_id"], PDF_NAME, "--out", out, account="holder"),
                   f"{out} already exists; pass --force to overwrite it")
    assert tool.run("attachment", issued["licence_id"], PDF_NAME, "--out", out, "--force",
                    account="holder").returncode == 0
    one_line_error(tool.run("attachment", issued["licence_id"], "cv.pdf", account="holder"),
                   "the licence has no attachment 'cv.pdf'")
    one_line_error(tool.run("attachment", issued["licence_id"], PDF_NAME, account="signer"),
                   f"{agency.signer.address} holds no licence {issued['licence_id']}")
    # the agency keeps access with its own key and the references the CLI printed
    assert att.fetch(EmbeddedStore(tool.storage), refs[PNG_NAME], agency.signer) == PNG

    renewed = tool.run("renew", issued["licence_id"], "--type", "degree", "-f", "degree=PhD", "--attach", PNG_NAME,
                       account="signer")
    assert renewed.returncode == 0, renewed.stderr
    renewed = json.loads(renewed.stdout)
    assert renewed["previous"] == issued["licence_id"] and list(renewed["attachments"]) == [PNG_NAME]
    again = tmp_path / "fetched" / "renewed.png"
    assert tool.run("attachment", renewed["licence_id"], PNG_NAME, "--out", again, account="holder").returncode == 0
    assert again.read_bytes() == PNG


def test_cli_issue_with_a_missing_file_is_one_error_line_and_changes_nothing(cli, client, tmp_path):
    tool, agency, holder = cli
    before = head(client)
    done = tool.run("issue", holder.address, "--org", agency.code, "--type", "degree", "-f", "degree=MSc",
                    "--attach", PDF_NAME, "--attach", "no-such-scan.pdf", account="signer")
    one_line_error(done, "cannot read the attachment 'no-such-scan.pdf': No such file or directory")
    (tmp_path / "empty.pdf").write_bytes(b"")
    one_line_error(tool.run("issue", holder.address, "--org", agency.code, "--type", "degree", "-f", "degree=MSc",
                            "--attach", tmp_path / "empty.pdf", account="signer"),
                   "the attachment 'empty.pdf' is empty")
    assert head(client) == before
    assert not tool.storage.exists() or not any(tool.storage.rglob("Qm*"))
