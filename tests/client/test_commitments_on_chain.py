"""No purpose statement and no field name reaches the chain, neither in plaintext nor as an unsalted
hash (issue 12, privacy): a run of consent, reads, a listing by field and a paid access request with
known texts, then a scan of every transaction's calldata, every log and the contracts' storage of
that run. The same scan finds the salted commitments, so it is looking at the right bytes."""

from __future__ import annotations

import gzip
import hashlib
import json

from conftest import register
from eth_utils import keccak

from elicense import crypto, personal, sharing
from elicense.commitments import Purpose, field_commitment
from elicense.personal import PersonalData
from elicense.storage.embedded import EmbeddedStore

DOCUMENT = {"full_name": "Alice Example", "national_id": "39004012345", "income_bracket": "bracket C3 of 2026",
            "employer_name": "Tartu Shipyard"}
CONSENT = "payroll records of Alice Example, national id 39004012345"
MORTGAGE = "mortgage application of Alice Example, 39004012345"
CREDIT = "creditworthiness check of Alice Example, 39004012345"
FIELD_LISTS = [["income_bracket", "national_id"], ["national_id"], ["employer_name"]]


def needles() -> dict[str, bytes]:
    """Each secret as the chain must never hold it: plaintext, and its common unsalted hashes."""
    texts = {"consent purpose": CONSENT, "request purpose": MORTGAGE, "access purpose": CREDIT}
    for fields in FIELD_LISTS:
        texts[f"fields {fields}"] = ",".join(sorted(fields))
    for name, value in DOCUMENT.items():
        texts[f"field name {name}"] = name
        texts[f"value of {name}"] = value
    found = {}
    for label, text in texts.items():
        raw = text.encode()
        found[f"{label} (plaintext)"] = raw
        found[f"{label} (keccak256)"] = keccak(raw)
        found[f"{label} (sha256)"] = hashlib.sha256(raw).digest()
    return found


def chain_bytes(w3, first_block: int, contracts: list[str]) -> bytes:
    """Every byte the chain holds of blocks first_block.. : calldata, log topics and data, and the
    storage (slots and values) of `contracts`."""
    parts = []
    for number in range(first_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            parts.append(bytes(tx["input"]))
            for log in w3.eth.get_transaction_receipt(tx["hash"])["logs"]:
                parts.extend(bytes(t) for t in log["topics"])
                parts.append(bytes(log["data"]))
    state = json.loads(gzip.decompress(bytes.fromhex(w3.provider.make_request("anvil_dumpState", [])["result"][2:])))
    accounts = {a.lower(): v for a, v in state["accounts"].items()}
    for contract in contracts:
        for slot, value in accounts[contract.lower()]["storage"].items():
            parts += [int(slot, 16).to_bytes(32, "big"), int(value, 16).to_bytes(32, "big")]
    return b"\x00".join(parts)


def test_no_purpose_text_or_field_name_is_on_chain(client, tmp_path):
    w3 = client.chain.w3
    first = w3.eth.block_number + 1
    controller, processor = register(client, "issuer"), register(client, "issuer")
    alice, bank, reader = register(client, "holder"), register(client, "inspector"), register(client, "inspector")
    registry = personal.deploy(client.chain, controller)
    registry.grant_role(controller, "processor", processor.address)
    data = PersonalData(registry, EmbeddedStore(tmp_path / "store"), identities=client.identities)

    # consent to creation, a third party's request and grant, reads of named fields, a listing by field
    consent = Purpose.new(CONSENT)
    created = data.create_with_consent(controller, alice, DOCUMENT, consent)
    asked = data.request_consent(bank, alice.address, MORTGAGE)
    data.grant(alice, asked.request_id)
    reads = [data.read(bank, alice.address, FIELD_LISTS[0]), data.read(alice, alice.address, "*")]
    listed = data.list_by_field(processor, FIELD_LISTS[1])
    reads.append(data.read(processor, alice.address, FIELD_LISTS[2]))

    # a shared data set, requested with a paid, stated purpose
    contract = sharing.deploy(client.chain, controller)
    asset = sharing.share(contract, controller, EmbeddedStore(tmp_path / "shared"), b"register extract", "register",
                          {reader.address: crypto.public_key(reader)}, fee=10**12)
    access = Purpose.new(CREDIT)
    outcome = contract.request_access(reader, asset.asset_id, access)
    assert outcome.granted and listed.items[0].values == {"national_id": DOCUMENT["national_id"]}

    held = chain_bytes(w3, first, [registry.address, contract.address])
    leaked = [label for label, needle in needles().items() if needle in held]
    assert leaked == []

    # what is there instead: salted commitments, which the parties holding the salt open
    record = registry.record(alice.address)
    assert created.purpose == record.consent_purpose == consent.commitment and consent.commitment in held
    assert asked.opening.text == MORTGAGE and asked.opening.opens(registry.request(asked.request_id).purpose)
    assert asked.opening.commitment in held and access.commitment in held and access.opens(outcome.purpose)
    for read, fields in zip(reads, [FIELD_LISTS[0], "*", FIELD_LISTS[2]]):
        assert read.entry.what in held and read.entry.fields == ",".join(sorted(fields))
    entries = data.access_log(alice.address)
    assert sorted(e.fields for e in entries) == sorted(["income_bracket,national_id", "*", "national_id",
                                                        "employer_name"])
    # equal field lists under different salts look unrelated on chain
    assert len({e.what for e in entries}) == len(entries)
    assert field_commitment(FIELD_LISTS[1], b"\x00" * 32) not in held
