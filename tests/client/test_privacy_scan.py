"""The privacy check: a run full of known personal values through the CLI and the REST API, then a scan
of everything the chain holds (every transaction's input, every log, every storage slot) for each value
in plaintext and as the common unsalted hashes, and after erasure a scan of the store (embedded folder
or every block of a real IPFS node) for any envelope that still opens to the erased values.

The values are distinctive on purpose: a hit is a leak, never a coincidence."""

from __future__ import annotations

import gzip
import hashlib
import json

import ipfshttpclient
import pytest
import requests
from conftest import unique_code
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from ipfs_node import JsIpfsNode, js_ipfs_missing
from test_cli import CLI_AUTHORITIES, Cli

from elicense.chain import account_from_key
from elicense.crypto import public_key
from elicense.nodes import dev_key
from elicense.server import Server
from elicense.storage import envelope
from elicense.storage.embedded import EmbeddedStore
from elicense.storage.unixfs import encode_cid, multihash

NAME = "Maarja Privaatsus-Testija"
NATIONAL_ID = "49001017391"
EMAIL = "maarja.privaatsus@example.ee"
STREET = "Pikk tn 77-13, Tallinn"
LICENCE_FIELDS = {"name": NAME, "national_id": NATIONAL_ID, "degree": "MSc Hydrology", "conferred": "2021-06-18"}
RECORD = {"name": NAME, "national_id": NATIONAL_ID, "email": EMAIL, "street": STREET}
PURPOSE = f"mortgage application of {NAME}, {NATIONAL_ID}"
INSURER_PURPOSE = f"life insurance quote for {NAME} ({EMAIL})"
SECRETS = [NAME, NATIONAL_ID, EMAIL, STREET, PURPOSE, INSURER_PURPOSE, "MSc Hydrology"]
# Names of the fields a reader asks for: on chain only behind a salted commitment (a field list is
# short and guessable, so its unsalted hash would reveal what was read).
FIELD_SETS = ["national_id", "street", "name,national_id", "national_id,name"]


def forms(value: str) -> dict[str, bytes]:
    """The value as it would appear if stored carelessly: plaintext and its common unsalted hashes."""
    raw = value.encode()
    out = {"utf-8": raw, "utf-16": value.encode("utf-16-le")}
    for label, data in (("", raw), ("lower ", value.lower().encode()), ("json ", json.dumps(value).encode())):
        out[f"keccak256({label}value)"] = keccak(data)
        out[f"sha256({label}value)"] = hashlib.sha256(data).digest()
    return out


def scan(haystack: bytes, where: str) -> list[str]:
    hits = []
    for value in SECRETS:
        for form, needle in forms(value).items():
            if needle in haystack or needle.hex().encode() in haystack:
                hits.append(f"{form} of {value!r} in {where}")
    for fields in FIELD_SETS:
        for form, needle in (("plaintext", fields.encode()), ("keccak256", keccak(text=fields)),
                             ("sha256", hashlib.sha256(fields.encode()).digest())):
            if needle in haystack:
                hits.append(f"{form} of the field list {fields!r} in {where}")
    return hits


def chain_bytes(w3) -> dict[str, bytes]:
    """Everything the chain holds, by kind: transaction inputs, logs, and every account's storage."""
    inputs, logs = [], []
    for number in range(w3.eth.block_number + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            inputs.append(bytes(tx["input"]))
            for log in w3.eth.get_transaction_receipt(tx["hash"])["logs"]:
                logs.append(b"".join(bytes(t) for t in log["topics"]) + bytes(log["data"]))
    dumped = w3.provider.make_request("anvil_dumpState", [])["result"]
    state = json.loads(gzip.decompress(bytes.fromhex(dumped[2:])))
    storage = b"".join(bytes.fromhex(value[2:].rjust(64, "0")) for account in state["accounts"].values()
                       for value in account.get("storage", {}).values())
    return {"transaction inputs": b"".join(inputs), "logs": b"".join(logs), "contract storage": storage}


class Rest:
    """Raw HTTP against the server, signing here what the page would sign."""

    def __init__(self, url: str):
        self.url, self.http = url, requests.Session()

    def call(self, method: str, path: str, **kwargs) -> dict:
        response = self.http.request(method, self.url + path, timeout=120, **kwargs)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def perform(self, account, path: str, body: dict) -> dict:
        prepared = self.call("POST", path, json=body)
        pending = prepared["sign"]
        signed = account.sign_transaction(pending["tx"])
        self.call("POST", "/api/transactions", json={"chain_id": pending["chain_id"],
                                                      "raw": "0x" + signed.raw_transaction.hex()})
        return prepared


def sign_typed(account, typed: dict) -> str:
    message = dict(typed["message"])
    message["nonce"] = int(message["nonce"])
    message["what"] = bytes.fromhex(message["what"][2:])
    return "0x" + bytes(account.sign_message(encode_typed_data(full_message={**typed, "message": message})).signature).hex()


def stored_blobs(kind: str, location) -> dict[str, bytes]:
    """Every file the store holds, read behind its interface's back (its own inventory)."""
    if kind == "embedded":
        return {str(p): p.read_bytes() for p in location.rglob("*") if p.is_file()}
    raw = ipfshttpclient.Client(location)
    blobs = {}
    for ref in raw.unstable.refs.local():  # every block the repository holds, pinned or not
        # js-ipfs names blocks by multihash (CIDv1, raw codec); read each as a dag-pb file node (CIDv0) for
        # its content, else as the raw block
        cid = encode_cid(multihash(ref["Ref"]))  # a bare sha2-256 multihash is a CIDv0
        try:
            blobs[cid] = raw.cat(cid, timeout=5)
        except ipfshttpclient.exceptions.Error:
            blobs[cid] = raw.block.get(ref["Ref"], timeout=5)
    return blobs


def opened(blob: bytes, keys) -> list[bytes]:
    out = []
    for key in keys:
        try:
            out.append(envelope.open_envelope(blob, key))
        except Exception:  # noqa: BLE001 - not an envelope, or not for this key: nothing opens
            continue
    return out


@pytest.fixture(scope="module")
def js_ipfs(tmp_path_factory):
    if reason := js_ipfs_missing():
        pytest.fail(reason)
    with JsIpfsNode(tmp_path_factory.mktemp("privacy-ipfs")) as node:
        yield node


@pytest.mark.parametrize("backend", ["embedded", "ipfs"])
def test_no_personal_value_on_chain_and_nothing_decryptable_after_erasure(node, tmp_path, backend, request):
    cli = Cli(node.url, tmp_path)
    authorities = [account_from_key(dev_key(i)).address for i in CLI_AUTHORITIES]
    cli.json("deploy", *[x for a in authorities for x in ("--authority", a)], dev=CLI_AUTHORITIES[0])
    people = {name: cli.person(name, role) for name, role in [
        ("signer", "issuer"), ("maarja", "holder"), ("inspector", "inspector"), ("controller", "issuer"),
        ("bank", "inspector"), ("insurer", "inspector"), ("supervisor", "inspector")]}
    maarja = people["maarja"]
    if backend == "ipfs":
        store_location = request.getfixturevalue("js_ipfs").api
    else:
        store_location = str(tmp_path / "storage")

    # ---- licences through the CLI: issue with the values, present, inspect
    code = unique_code("EDU")
    proposal = cli.json("issuer", "propose-add", code, "--name", "University of Privacy", "--signer",
                        people["signer"].address, "--type", "degree", dev=CLI_AUTHORITIES[0])["proposal"]
    cli.json("issuer", "approve", proposal, dev=CLI_AUTHORITIES[1])
    issued = cli.json("issue", maarja.address, "--org", code, "--type", "degree",
                      *[x for k, v in LICENCE_FIELDS.items() for x in ("-f", f"{k}={v}")], account="signer")
    cli.run("inspector", "authorise", people["inspector"].address, "--type", "degree", account="signer")
    for shown in ("name,national_id", "degree"):
        presentation = tmp_path / f"presentation-{shown}.json"
        cli.run("present", issued["licence_id"], "--fields", shown, "--out", presentation, account="maarja")
        cli.run("check", maarja.address, "--org", code, "--presentation", presentation, account="inspector")

    # ---- personal data through the CLI: draft → consent → create; a second draft is abandoned
    def personal(*args, account):
        return cli.json("personal", "--registry", registry, "--storage", store_location, *args, account=account)

    registry = cli.json("personal", "deploy", account="controller")["registry"]
    personal("grant-role", "supervisor", people["supervisor"].address, account="controller")
    draft, signed = tmp_path / "draft.json", tmp_path / "signed.json"
    personal("draft", maarja.address, *[x for k, v in RECORD.items() for x in ("-f", f"{k}={v}")],
             "--purpose", f"population register entry of {NAME}", "--out", draft, account="controller")
    personal("consent", draft, "--out", signed, "--yes", account="maarja")
    personal("create", signed, account="controller")
    personal("draft", maarja.address, "-f", f"name={NAME}", "-f", f"street={STREET}", "--purpose", "never consented",
             "--out", tmp_path / "abandoned.json", account="controller")

    # ---- the REST API: a consent request with a personal purpose, granted, then a gateway read;
    # an insurer's request whose grant upload the subject never signs
    storage = EmbeddedStore(tmp_path / "storage") if backend == "embedded" else None
    if storage is None:
        from elicense.storage.ipfs import IpfsStore
        storage = IpfsStore(store_location)
    with Server(cli.client(), account_from_key(dev_key(6)), storage=storage, personal=[registry],
                gateway_log=tmp_path / "gateway") as server:
        rest = Rest(server.url)
        base = f"/api/personal/{registry}"
        for who, purpose in (("bank", PURPOSE), ("insurer", INSURER_PURPOSE)):
            rest.perform(people[who], base + "/requests", {
                "requester": people[who].address, "subject": maarja.address, "purpose": purpose,
                "public_key": "0x" + public_key(people[who]).hex()})
        pending = rest.call("GET", f"{base}/subjects/{maarja.address}/requests", params={"pending": "true"})["items"]
        by_requester = {item["requester"]: item["request_id"] for item in pending}
        personal("grant", by_requester[people["bank"].address], account="maarja")
        for fields in ("national_id", "email"):
            prepared = rest.call("GET", base + "/read-request", params={"subject": maarja.address, "fields": fields})
            served = rest.call("POST", f"{base}/subjects/{maarja.address}/read", json={
                "reader": people["bank"].address, "what": prepared["what"], "deadline": prepared["deadline"],
                "nonce": prepared["nonce"], "signature": sign_typed(people["bank"], prepared["typed"])})
            assert served["envelope"]
        current = storage.get(rest.call("GET", f"{base}/subjects/{maarja.address}")["record"]["pointer"])
        rewrapped = envelope.add_reader(current, maarja, people["insurer"].address, public_key(people["insurer"]))
        insurer_request = by_requester[people["insurer"].address]
        typed = rest.call("GET", f"{base}/subjects/{maarja.address}/store-request", params={
            "integrity_hash": "0x" + envelope.integrity_hash(rewrapped).hex(), "request_id": insurer_request})["typed"]
        rest.call("POST", f"{base}/requests/{insurer_request}/grant", json={
            "subject": maarja.address, "envelope": "0x" + rewrapped.hex(),
            "signature": "0x" + bytes(maarja.sign_message(encode_typed_data(full_message=typed)).signature).hex()})
        # ... and she never signs grantConsent: the upload is stored, no record points at it

        # the scan sees what the store holds: before the erasure her files open to her values
        where = tmp_path / "storage" if backend == "embedded" else store_location
        assert any(NAME.encode() in plain for blob in stored_blobs(backend, where).values()
                   for plain in opened(blob, [maarja]))

        # ---- rectify, then erase and collect
        personal("rectify", maarja.address, "-f", "street=Lai tn 1, Tartu", account="controller")
        personal("erase", maarja.address, account="maarja")
        personal("collect", maarja.address, account="controller")
        finding = personal("audit", maarja.address, account="supervisor")["finding"]
        # the server serves the purpose texts of an erased subject to nobody
        after = rest.http.get(f"{server.url}{base}/subjects/{maarja.address}/requests", timeout=60)
        hits = scan(after.content, "the server's answer about the erased subject's requests")

    # ---- the scans
    hits += [hit for where, data in chain_bytes(cli.client().chain.w3).items() for hit in scan(data, where)]
    blobs = stored_blobs(backend, tmp_path / "storage" if backend == "embedded" else store_location)
    keys = [people[name] for name in ("maarja", "controller", "bank", "insurer", "supervisor")]
    for name, blob in blobs.items():
        hits += scan(blob, f"the stored file {name}")
        for plaintext in opened(blob, keys):
            hits += [f"the stored file {name} still opens to {value!r}" for value in (NAME, NATIONAL_ID, EMAIL)
                     if value.encode() in plaintext]
    assert not hits, "\n".join(dict.fromkeys(hits))
    assert finding == "erasure-verified"  # and the supervisor's audit says so only now that it is true


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    from test_split_topology import Split

    world = Split(tmp_path_factory.mktemp("privacy-split"))
    yield world
    world.stop()


def test_no_personal_value_on_any_chain_of_a_split_topology(split):
    """The licence's path across chains: issued on its side chain (alone and in a batch), proven to the
    mirror, shown, inspected, anchored on the main chain and the EU chain; then every chain is scanned."""
    from test_split_topology import wait_until

    from elicense.anchoring import KIND_LICENCE, anchor_path
    from elicense.batch import BatchRow

    code, agency = split.agency("degree")
    holder, others = split.person("holder"), [split.person("holder") for _ in range(2)]
    inspector = split.admin.with_sender(split.person("inspector"))
    agency.authorise_inspector("degree", inspector.sender.address)
    issued = agency.send_certification(holder.address, code, "degree", LICENCE_FIELDS)
    agency.issue_batch("degree", code, [BatchRow(h.address, {"name": NAME, "national_id": NATIONAL_ID, "street": STREET})
                                        for h in others])
    registry = agency.licences("degree")
    wait_until(lambda: [h.valid for h in anchor_path(split.topology, "degree", KIND_LICENCE, registry.address,
                                                     bytes.fromhex(issued.licence_id[2:]), issued.block_number)]
               == [True, True], what="anchoring up to the EU chain")
    queried = split.admin.query_licence(holder.address, issued.block_number, issued.tx_hash)
    for fields in (["name", "national_id"], ["degree"]):
        verdict = inspector.check(holder.address, code, split.admin.present(holder, queried, fields=fields))
        assert verdict.valid, verdict.steps
    batched = split.admin.licences_of(others[0].address)[0]
    assert inspector.check(others[0].address, code, split.admin.present(others[0], batched)).valid

    names = list(split.topology.chains)
    assert len(names) == 4  # main, two side chains, the EU chain
    seen = {name: chain_bytes(split.topology.chain(name).w3) for name in names}
    # the scan reads the right bytes: the licence's (salted) commitment and ciphertext are there
    assert bytes.fromhex(issued.data_hash[2:]) in seen["degree"]["logs"] and issued.ciphertext in seen["degree"]["logs"]
    hits = [hit for name in names for where, data in seen[name].items() for hit in scan(data, f"the {name} chain's {where}")]
    assert not hits, "\n".join(dict.fromkeys(hits))
