"""The pages' JavaScript library (frontend/src/lib) against the Python package, byte for byte.

Both sides run for real: Python computes with elicense, Node runs the esbuild bundle the pages use
(frontend/dist/elicense.node.mjs, rebuilt here when older than its sources) through the scripts in
tests/client/js, one process per test, each answering a list of calls. No chain is needed.
"""

from __future__ import annotations

import base64
import json
import random
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import cbor2
import pytest
import rlp
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.typed_transactions import TypedTransaction
from eth_utils import big_endian_to_int, to_checksum_address
from hexbytes import HexBytes

from elicense import crypto, qr
from elicense.errors import DecryptionError, InvalidInput
from elicense.licence import LicenceDocument, canonical, disclosed_names_hash, disclosure_hash, field_leaf, field_salt
from elicense.presentation import Presentation
from elicense.presentation import create as create_presentation
from elicense.registries.licences import LicenceRegistry
from elicense.storage import envelope

PROJECT = Path(__file__).resolve().parents[2]
FRONTEND = PROJECT / "frontend"
BUNDLE = FRONTEND / "dist" / "elicense.node.mjs"
SCRIPTS = Path(__file__).resolve().parent / "js"
CHAIN_ID = 31337
NOW = 1_750_000_000
FIELDS = {
    "name": "Zoë Ünal 😀", "degree": "MSc", "conferred": "2024-05-31", "10": 10, "2": [2, {"b": 1, "a": None}],
    "honours": True, "notes": {"z": "\"quoted\"\n", "1": "one", "é": -(2**53 - 1)},
}


@pytest.fixture(scope="module", autouse=True)
def bundle():
    sources = [FRONTEND / "build.mjs", *(FRONTEND / "src" / "lib").glob("*.js")]
    outputs = [BUNDLE, FRONTEND / "dist" / "elicense.js"]
    if not all(p.exists() for p in outputs) or min(p.stat().st_mtime for p in outputs) < max(
            p.stat().st_mtime for p in sources):
        subprocess.run(["node", str(FRONTEND / "build.mjs")], cwd=PROJECT, check=True, timeout=120)


def node(script: str, calls: list[dict]) -> list:
    """Runs tests/client/js/<script> on the calls; each answer is ("ok", result) or ("error", message)."""
    done = subprocess.run(["node", str(SCRIPTS / script)], input=json.dumps(calls), capture_output=True, text=True,
                          cwd=PROJECT, timeout=60)
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout, object_hook=lambda o: bytes.fromhex(o["$bytes"][2:]) if "$bytes" in o else o)
    return [("ok", a["result"]) if "result" in a else ("error", a["error"]) for a in answers]


def call(fn: str, *args) -> dict:
    return {"op": "call", "fn": fn, "args": list(args)}


def js_bytes(data: bytes) -> dict:
    return {"$bytes": "0x" + data.hex()}


def registry(cert_type: int = 3) -> LicenceRegistry:
    """A LicenceRegistry as far as presentations need one (chain id and address), without a chain."""
    reg = object.__new__(LicenceRegistry)
    reg.chain = SimpleNamespace(chain_id=CHAIN_ID)
    reg.address = to_checksum_address("0x" + random.randbytes(20).hex())
    reg.cert_type = cert_type
    return reg


def document(holder: str, fields: dict = FIELDS, cert_type: int = 3) -> LicenceDocument:
    return LicenceDocument.new(cert_type, "UNI-EXAMPLE", holder, fields, NOW - 86400, NOW + 365 * 86400)


def random_text(rng: random.Random) -> str:
    """Strings from every range that matters to JSON and to sorting: controls, ASCII, Latin, CJK,
    U+E000-U+FFFF (above the surrogates in code points, below them in UTF-16) and astral planes."""
    ranges = [(0, 0x1F), (0x20, 0x7F), (0xA0, 0x17F), (0x2028, 0x2029), (0x4E00, 0x4E50), (0xE000, 0xE010),
              (0xFFF0, 0xFFFF), (0x1F600, 0x1F64F), (0x10FFF0, 0x10FFFF)]
    return "".join(chr(rng.randint(*rng.choice(ranges))) for _ in range(rng.randint(0, 8)))


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return rng.choice([0, -1, 2**53 - 1, -(2**53 - 1), rng.randint(-(2**40), 2**40)])
    if kind == 1:
        return random_text(rng)
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return random_text(rng) + "/\\\"\b\f\n\r\t\x00\x1f\x7f\u2028"
    if kind == 4:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {random_text(rng): random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


# ------------------------------------------------------------------ licence data


def test_canonical_json_equals_python():
    rng = random.Random(7)
    values = [
        {}, [], "", 0, None, True, {"b": 1, "a": [1, 2, {"d": "x", "c": "y"}]},
        {"\U0001F600": 1, "\uffff": 2, "\ue000": 3, "a": 4, "é": 5, "": 6, "10": 7, "9": 8},
        "".join(map(chr, range(0x20))) + "\x7f\"\\/\u2028\u2029",
        [2**53 - 1, -(2**53 - 1), 1, -1], {"nested": {"deeper": {"deepest": ["Zoë", "日本", "😀"]}}},
        *[random_value(rng) for _ in range(300)],
    ]
    answers = node("call.mjs", [call("canonical", v) for v in values])
    for value, answer in zip(values, answers):
        assert answer == ("ok", canonical(value)), value

    refused = [1.5, {"a": [0.25]}, [-1e-300], {"x": {"y": 2.5}}]
    for value, (status, message) in zip(refused, node("call.mjs", [call("canonical", v) for v in refused])):
        with pytest.raises(InvalidInput, match="floating-point"):
            canonical(value)
        assert status == "error" and "floating-point" in message

    # a lone surrogate: UTF-8 cannot encode it, so neither side makes bytes of it (both say why)
    with pytest.raises(InvalidInput, match="surrogate"):
        canonical({"a": "\ud800"})
    [(status, message)] = node("call.mjs", [call("canonical", {"a": "\ud800"})])
    assert status == "error" and "surrogate" in message


def test_licence_hashes_equal_python():
    rng = random.Random(11)
    registry_address = to_checksum_address("0x" + rng.randbytes(20).hex())
    docs = [document(Account.create().address)]
    for _ in range(5):
        fields = {random_text(rng) or "x": random_value(rng) for _ in range(rng.randint(1, 10))}
        docs.append(document(Account.create().address, fields, cert_type=rng.randint(1, 5)))

    calls, expected = [], []
    for doc in docs:
        names = sorted(doc.fields)
        subset = rng.sample(names, rng.randint(0, len(names) - 1))  # some fields hidden (maybe all)
        some = doc.disclose(subset)
        calls += [call("dataHash", doc.to_json()), call("disclose", doc.to_json(), None),
                  call("disclose", doc.to_json(), subset), call("disclosureHash", some),
                  call("disclosedNamesHash", subset),
                  call("licenceIdOf", CHAIN_ID, registry_address, "UNI-EXAMPLE", "0x" + doc.data_hash.hex()),
                  call("fieldSalt", js_bytes(doc.salt), names[0]),
                  call("fieldLeaf", names[0], doc.fields[names[0]], js_bytes(field_salt(doc.salt, names[0])))]
        reg = registry(doc.cert_type)
        reg.address = registry_address
        expected += ["0x" + doc.data_hash.hex(), doc.disclose(None), some,
                     {"dataHash": "0x" + disclosure_hash(some)[0].hex(), "shown": disclosure_hash(some)[1]},
                     "0x" + disclosed_names_hash(subset).hex(), "0x" + reg.licence_id_of("UNI-EXAMPLE", doc.data_hash).hex(),
                     field_salt(doc.salt, names[0]),
                     field_leaf(names[0], doc.fields[names[0]], field_salt(doc.salt, names[0]))]
    answers = node("call.mjs", calls + [call("disclose", docs[0].to_json(), ["name", "no-such-field"])])
    assert answers[:-1] == [("ok", e) for e in expected]
    assert answers[-1] == ("error", "the licence has no field 'no-such-field'")
    assert "salt" in docs[0].disclose(None) and "salt" not in docs[0].disclose(["name"])


# ------------------------------------------------------------------ presentations and QR codes


def test_presentation_signed_in_javascript_verifies_in_python():
    holder = Account.create()
    doc = document(holder.address)
    reg = registry()
    licence_id = "0x" + reg.licence_id_of("UNI-EXAMPLE", doc.data_hash).hex()
    batch = {"agency": "UNI-EXAMPLE", "root": "0x" + "ab" * 32,
             "leaf": [holder.address, "0x" + "cd" * 32, NOW, NOW + 9, "0x" + "ce" * 32],
             "proof": ["0x" + "ef" * 32]}
    shown = [None, ["name", "degree", "10"], [], None]
    options = [{"chainId": CHAIN_ID, "registry": reg.address.lower(), "licenceId": licence_id, "agency": "UNI-EXAMPLE",
                "document": doc.to_json(), "fields": f, "now": NOW, "ttl": 300} for f in shown]
    options[-1]["batch"] = batch
    stranger = {**options[0], "document": document(Account.create().address).to_json()}
    answers = node("wallet.mjs", [{"op": "present", "key": holder.key.hex(), "options": o}
                                  for o in [*options, stranger]])

    for fields, opts, (status, data) in zip(shown, options, answers):
        assert status == "ok", data
        p = Presentation.parse(data)
        assert p.to_json() == data  # exactly the Python shape, key for key
        assert list(data) == ["v", "chain_id", "registry", "holder", "agency", "licence_id", "disclosure",
                              "not_after", "nonce", "signature", *(["batch"] if "batch" in opts else [])]
        assert (p.holder, p.registry, p.not_after) == (holder.address, reg.address, NOW + 300)
        assert p.batch == opts.get("batch")
        assert data["nonce"].startswith("0x" + "00" * 16) and len(data["nonce"]) == 66
        message = reg.typed_presentation(*p.signed_tuple())
        assert Account.recover_message(encode_typed_data(full_message=message), signature=p.signature) == holder.address
        names = sorted(doc.fields if fields is None else fields)
        assert disclosure_hash(p.disclosure) == (doc.data_hash, {n: doc.fields[n] for n in names})
        assert p.disclosure == doc.disclose(fields)
    assert answers[-1] == ("error", f"the licence belongs to {stranger['document']['holder']}, not to {holder.address}")


def test_qr_text_equals_python_both_ways():
    holder = Account.create()
    doc = document(holder.address)
    reg = registry()
    licence_id = "0x" + reg.licence_id_of("UNI-EXAMPLE", doc.data_hash).hex()
    base = {"chainId": CHAIN_ID, "registry": reg.address, "licenceId": licence_id, "agency": "UNI-EXAMPLE",
            "document": doc.to_json(), "now": NOW}
    options = [{**base, "fields": None}, {**base, "fields": ["notes", "2"]},
               {**base, "fields": ["name"], "batch": {"agency": "UNI-EXAMPLE", "root": "0x" + "12" * 32,
                                           "leaf": [holder.address, "0x" + "02" * 32, 3, 4, "0x" + "05" * 32], "proof": []}}]
    presentations = [data for _, data in node("wallet.mjs", [{"op": "present", "key": holder.key.hex(), "options": o}
                                                             for o in options])]
    block = 123_456
    # Python's own presentations too, with nested values in Python's key order
    python_made = [create_presentation(reg, holder, licence_id, "UNI-EXAMPLE", doc, f, now=NOW) for f in (None, ["2"])]
    python_texts = [qr.encode(p, issued_block=block) for p in python_made]
    damaged = ["EL1:" + python_texts[0][4:-1], "EL1:GGW", "EL2:" + python_texts[0][4:], "EL1:" + qr.b45encode(b"\xa0")]

    answers = node("call.mjs", [call("encodeQr", p, block) for p in presentations]
                   + [call("decodeQr", t) for t in python_texts]
                   + [call("decodeQr", "  " + python_texts[1].lower() + "\n")]
                   + [call("decodeQr", t) for t in damaged]
                   + [call("encodeQr", presentations[0])])
    encoded, decoded = answers[:3], answers[3:6]
    for p, (status, text) in zip(presentations, encoded):
        assert status == "ok" and text == qr.encode(Presentation.parse(p), issued_block=block)
        assert qr.decode(text, lambda *_: (reg.address, None))[0].signature == p["signature"]
    for text, (status, parts) in zip(python_texts + python_texts[1:], decoded):
        p, ref = qr.decode(text, lambda *_: (reg.address, None))
        assert status == "ok", parts
        assert parts == {"version": 1, "chainId": p.chain_id, "holder": p.holder, "notAfter": p.not_after,
                         "nonce": p.nonce, "signature": p.signature, "disclosure": p.disclosure, "reference": ref}
    for text, (status, message) in zip(damaged, answers[6:10]):
        with pytest.raises(InvalidInput) as refused:
            qr.decode(text, lambda *_: (reg.address, None))
        assert status == "error" and message.split(" (")[0] == str(refused.value).split(" (")[0]
    assert answers[10] == ("error", "the block that issued the licence is needed for its QR code")


def test_qr_code_size_rendering_and_scanning():
    holder = Account.create()
    doc = document(holder.address)
    p = create_presentation(registry(), holder, "0x" + "11" * 32, "UNI-EXAMPLE", doc, now=NOW)
    text = qr.encode(p, issued_block=9_999_999)
    hidden = qr.encode(create_presentation(registry(), holder, "0x" + "11" * 32, "UNI", doc, ["name"], now=NOW),
                       issued_block=1)
    answers = node("scan.mjs", [{"op": "scan", "text": text}, {"op": "scan", "text": hidden, "invert": True},
                                {"op": "blank"}, {"op": "dataUrl", "text": text}])
    (_, full), (_, partial), blank, (_, url) = answers
    assert full["scanned"] == text and partial["scanned"] == hidden  # the inverted one too (light on dark)
    assert full["version"] <= 15 and partial["version"] <= 15
    assert full["size"] == 17 + 4 * full["version"]
    assert blank == ("ok", None)
    png = base64.b64decode(url.removeprefix("data:image/png;base64,"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert width % (full["size"] + 8) == 0 and width // (full["size"] + 8) >= 6  # 4-module margin, scale >= 6


def test_base45_rfc9285():
    vectors = {b"AB": "BB8", b"Hello!!": "%69 VD92EX0", b"base-45": "UJCLQE7W581", b"ietf!": "QED8WEX0", b"": ""}
    blobs = [random.randbytes(n) for n in range(1, 40)]
    bad = ["GGW", "A", "ABCD", "bb8", "BB8\n", "ÄB8"]
    answers = node("call.mjs", [call("b45encode", js_bytes(b)) for b in [*vectors, *blobs]]
                   + [call("b45decode", t) for t in [*vectors.values(), *map(qr.b45encode, blobs)]]
                   + [call("b45decode", t) for t in bad])
    n = len(vectors) + len(blobs)
    assert [a for _, a in answers[:n]] == [*vectors.values(), *map(qr.b45encode, blobs)]
    assert [a for _, a in answers[n:2 * n]] == [*vectors, *blobs]
    for text, (status, message) in zip(bad, answers[2 * n:]):
        with pytest.raises(InvalidInput) as refused:
            qr.b45decode(text)
        assert status == "error" and message.split(": ")[0] == str(refused.value).split(": ")[0]  # quoting differs


# ------------------------------------------------------------------ keys, ECIES and keystores


def test_ecies_both_ways():
    holder, other = Account.create(), Account.create()
    doc = document(holder.address)
    public = crypto.public_key(holder)
    from_python = crypto.encrypt(public, doc.to_bytes())
    not_json = crypto.encrypt(public, b"\xff not a licence")
    plain = "Zoë's licence 😀".encode()
    answers = node("call.mjs", [
        call("decryptLicence", holder.key.hex(), "0x" + from_python.hex()),
        call("decryptLicence", other.key.hex(), "0x" + from_python.hex()),
        call("decryptLicence", holder.key.hex(), "0x" + from_python[:-1].hex()),
        call("decryptLicence", holder.key.hex(), "0x" + not_json.hex()),
        call("encryptTo", "0x" + public.hex(), js_bytes(plain)),
        call("encryptTo", "0x" + public[:-1].hex(), js_bytes(plain)),
    ]) + node("wallet.mjs", [{"op": "publicKeyOf", "key": holder.key.hex()}])
    assert answers[0] == ("ok", doc.to_json())
    cannot = "this key cannot decrypt the licence: it was encrypted to another holder, or altered"
    assert answers[1] == answers[2] == ("error", cannot)
    assert answers[3] == ("error", "the decrypted licence is not a licence document (not UTF-8 JSON)")
    status, ciphertext = answers[4]
    assert status == "ok" and ciphertext[0] == 4 and len(ciphertext) == 65 + 16 + 16 + len(plain)
    assert crypto.decrypt(holder.key, ciphertext) == plain
    assert answers[5] == ("error", "a public key is 64 bytes (x ‖ y), got 63")
    assert answers[6] == ("ok", "0x" + public.hex())


def test_keystores_both_ways():
    account = Account.create()
    password = "ﬁne pässwörd"  # "ﬁ" is a ligature NFKC would change: both sides must use the raw UTF-8
    from_python = [Account.encrypt(account.key, password, kdf="scrypt", iterations=2**4),
                   Account.encrypt(account.key, password, kdf="pbkdf2", iterations=1000)]
    answers = node("wallet.mjs", [
        {"op": "encryptKeystore", "key": account.key.hex(), "password": password, "scryptN": 2**10},
        *[{"op": "decryptKeystore", "json": json.dumps(k), "password": password} for k in from_python],
        {"op": "decryptKeystore", "json": from_python[0], "password": "fine pässwörd"},
        {"op": "decryptKeystore", "json": "{\"not\": \"a keystore\"}", "password": password},
        {"op": "encryptKeystore", "key": account.key.hex(), "password": "", "scryptN": 2**10},
    ])
    status, made = answers[0]
    assert status == "ok"
    assert json.loads(made)["crypto"]["kdfparams"]["n"] == 2**10
    assert crypto.decrypt_keystore(json.loads(made), password).key == account.key
    expected = {"address": account.address, "privateKey": "0x" + account.key.hex()}
    assert answers[1:3] == [("ok", expected)] * 2
    assert answers[3] == ("error", "wrong password for this keystore, or the keystore is damaged")
    assert answers[4] == ("error", "this is not a keystore file (Web3 Secret Storage version 3 JSON)")
    assert answers[5] == ("error", "a keystore needs a non-empty password")


def test_a_python_keystore_whose_counter_lost_its_leading_zero_opens_in_javascript():
    """eth-account writes the AES-CTR counter as an integer: one keystore in 256 has a short "iv"."""
    account = Account.create()
    short = next(k for k in (Account.encrypt(account.key, "pw", kdf="pbkdf2", iterations=1) for _ in range(5000))
                 if len(k["crypto"]["cipherparams"]["iv"]) < 32)
    [answer] = node("wallet.mjs", [{"op": "decryptKeystore", "json": json.dumps(short), "password": "pw"}])
    assert answer == ("ok", {"address": account.address, "privateKey": "0x" + account.key.hex()})


def test_keystore_shelf():
    first, second = Account.create(), Account.create()
    stores = [json.dumps(Account.encrypt(a.key, "pw", kdf="scrypt", iterations=2**4)) for a in (first, second)]

    def shelf(fn, *args):
        return {"op": "shelf", "fn": fn, "args": list(args)}

    answers = node("wallet.mjs", [
        shelf("listKeystores"), shelf("saveKeystore", "work.key-2", stores[0]),
        shelf("saveKeystore", "Home", stores[1]),
        shelf("saveKeystore", "Home", stores[0]), shelf("saveKeystore", "-bad", stores[0]),
        shelf("saveKeystore", "x" * 65, stores[0]), shelf("saveKeystore", "notes", "{}"), shelf("listKeystores"),
        shelf("getKeystore", "Home"), shelf("removeKeystore", "Home"), shelf("removeKeystore", "Home"),
        shelf("getKeystore", "Home"), shelf("listKeystores"),
    ])
    bad_name = 'a keystore name is 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit'
    assert answers == [
        ("ok", []), ("ok", None), ("ok", None), ("error", 'a keystore named "Home" is already kept in this browser'),
        ("error", bad_name), ("error", bad_name),
        ("error", "this is not a keystore file (Web3 Secret Storage version 3 JSON)"),
        ("ok", [{"name": "Home", "address": second.address}, {"name": "work.key-2", "address": first.address}]),
        ("ok", stores[1]), ("ok", True), ("ok", False), ("error", 'no keystore named "Home" is kept in this browser'),
        ("ok", [{"name": "work.key-2", "address": first.address}]),
    ]


def test_signed_transaction_decodes_in_python():
    account = Account.create()
    tx = {"type": 2, "chainId": CHAIN_ID, "nonce": 7, "to": "0x" + "42" * 20, "data": "0xdeadbeef", "value": 0,
          "gas": 210_000, "maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**9}
    as_hex = {k: hex(v) if isinstance(v, int) and k != "type" else v for k, v in tx.items()}
    legacy = {k: v for k, v in tx.items() if not k.startswith("max")} | {"type": 0, "gasPrice": 3 * 10**9}
    pendings = [{"chain_id": CHAIN_ID, "tx": t, "from": account.address, "what": "a test"}
                for t in (tx, as_hex, legacy)]
    pendings += [{**pendings[0], "tx": {**tx, "chainId": 1}}, {**pendings[0], "from": "0x" + "99" * 20}]
    answers = node("wallet.mjs", [{"op": "signPending", "key": account.key.hex(), "pending": p} for p in pendings])
    assert answers[0][0] == "ok" and answers[0] == answers[1]  # numbers and hex strings sign the same
    for (status, raw), sent in zip(answers[::2], (tx, legacy)):
        assert status == "ok" and Account.recover_transaction(raw) == account.address
        decoded = TypedTransaction.from_bytes(HexBytes(raw)).as_dict() if sent["type"] == 2 else None
        if decoded is not None:
            assert {k: decoded[k] for k in sent if k not in ("to", "data")} == {k: v for k, v in sent.items()
                                                                             if k not in ("to", "data")}
            assert decoded["to"].hex().removeprefix("0x") == "42" * 20
            assert decoded["data"].hex().removeprefix("0x") == "deadbeef"
        else:  # legacy: plain RLP, replay-protected by EIP-155
            nonce, gas_price, gas, to, value, data, v, _, _ = rlp.decode(bytes.fromhex(raw[2:]))
            assert [big_endian_to_int(x) for x in (nonce, gas_price, gas, value)] == [7, 3 * 10**9, 210_000, 0]
            assert big_endian_to_int(v) in (CHAIN_ID * 2 + 35, CHAIN_ID * 2 + 36)
            assert (to.hex(), data.hex()) == ("42" * 20, "deadbeef")
    assert answers[3] == ("error", f"the transaction is for chain 1, not chain {CHAIN_ID} as announced")
    assert answers[4] == ("error", f"this transaction is for {to_checksum_address('0x' + '99' * 20)} to sign, "
                                   f"but the unlocked key is {account.address}")


# ------------------------------------------------------------------ sealed envelopes (storage/envelope.py)


def random_cbor(rng: random.Random, depth: int = 0):
    """Values a canonical CBOR map may hold here: ints, text, bytes, true/false/null, lists, text-keyed maps."""
    kind = rng.randrange(7 if depth < 3 else 5)
    if kind == 0:
        return rng.choice([0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**53 - 1, -1, -24, -25, -257,
                           -(2**53 - 1), rng.randint(-(2**40), 2**40)])
    if kind == 1:
        return random_text(rng) * rng.choice([1, 1, 5, 40])  # lengths across the 23 / 255 / 65535 boundaries
    if kind == 2:
        return rng.randbytes(rng.choice([0, 1, 12, 23, 24, 32, 255, 256, 300]))
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return "0x" + rng.randbytes(20).hex()
    if kind == 5:
        return [random_cbor(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = [random_text(rng) * rng.choice([1, 1, 4, 30]) for _ in range(rng.randint(0, 8))]
    return {k: random_cbor(rng, depth + 1) for k in keys}


def test_canonical_cbor_equals_cbor2():
    """cbor2.dumps(..., canonical=True) orders map keys by the length of their encoding, then bytewise."""
    rng = random.Random(5)
    values = [
        {"t": "elicense-envelope", "v": 1, "nonce": b"n" * 12, "ct": b"c", "keys": {"0xB": b"b", "0xA": b"a"}, "mac": b""},
        {"bb": 1, "a": 2, "c": 3, "": 0, "aaa": [], "é": {}, "\U0001F600": None, "z" * 23: 1, "y" * 24: 2},
        *[random_cbor(rng, 2) if i % 3 else {random_text(rng): random_cbor(rng) for _ in range(6)} for i in range(300)],
    ]
    values = [v for v in values if not isinstance(v, str) or "\ud800" not in v]
    as_js = [js_bytes(v) if isinstance(v, bytes) else v for v in values]

    def wrap(value):  # bytes inside the structure travel as {"$bytes": ...} too
        if isinstance(value, bytes):
            return js_bytes(value)
        if isinstance(value, list):
            return [wrap(v) for v in value]
        if isinstance(value, dict):
            return {k: wrap(v) for k, v in value.items()}
        return value

    answers = node("call.mjs", [call("cborCanonical", wrap(v)) for v in as_js])
    for value, (status, encoded) in zip(values, answers):
        assert status == "ok", encoded
        assert encoded == cbor2.dumps(value, canonical=True), value


@pytest.fixture(scope="module")
def people():
    return SimpleNamespace(alice=Account.create(), bank=Account.create(), carol=Account.create(),
                           stranger=Account.create())


def sealed_for(plaintext: bytes, *accounts) -> bytes:
    return envelope.seal(plaintext, {a.address: crypto.public_key(a) for a in accounts})


def test_python_sealed_envelope_opens_in_javascript(people):
    documents = [b"", b"\x00\xff binary", json.dumps({"name": "Zoë Ünal 😀", "city": "Tartu"}).encode(),
                 random.randbytes(5000)]
    sealed = [sealed_for(d, people.alice, people.bank) for d in documents]
    calls = []
    for s in sealed:
        calls += [call("openEnvelope", js_bytes(s), "0x" + people.alice.key.hex()),
                  call("openEnvelope", js_bytes(s), people.bank.key.hex()),  # without 0x too
                  call("openEnvelope", "0x" + s.hex(), people.stranger.key.hex()),  # hex in, refused
                  call("envelopeReaders", js_bytes(s))]
    answers = node("call.mjs", calls)
    for i, (document, s) in enumerate(zip(documents, sealed)):
        alice, bank, stranger, readers = answers[4 * i:4 * i + 4]
        assert alice == bank == ("ok", document)
        with pytest.raises(DecryptionError) as refused:
            envelope.open_envelope(s, people.stranger)
        assert stranger == ("error", str(refused.value)) == (
            "error", f"{people.stranger.address} is not a reader of this envelope")
        assert readers == ("ok", envelope.readers(s))


def test_reader_added_in_javascript_opens_in_python(people):
    document = json.dumps({"email": "alice@example.org", "name": "Alice"}).encode()
    sealed = sealed_for(document, people.alice, people.carol)
    bank_key = "0x" + crypto.public_key(people.bank).hex()
    answers = node("call.mjs", [
        call("addReader", js_bytes(sealed), people.alice.key.hex(), people.bank.address, bank_key),
        call("addReader", js_bytes(sealed), people.alice.key.hex(), people.bank.address.lower(),
             js_bytes(b"\x04" + crypto.public_key(people.bank))),  # 65-byte key, lower-case address
        call("addReader", js_bytes(sealed), people.alice.key.hex(), people.stranger.address, bank_key),
        call("addReader", js_bytes(sealed), people.alice.key.hex(), "0x1234", bank_key),
        call("addReader", js_bytes(sealed), people.stranger.key.hex(), people.bank.address, bank_key),
        call("addReader", js_bytes(sealed), people.alice.key.hex(), people.bank.address, "0x" + "11" * 64),
    ])
    for status, added in answers[:2]:
        assert status == "ok", added
        # Python opens it with the new reader's key and with the old ones
        assert envelope.open_envelope(added, people.bank) == document
        assert envelope.open_envelope(added, people.alice) == envelope.open_envelope(added, people.carol) == document
        assert envelope.readers(added) == sorted([people.alice.address, people.carol.address, people.bank.address],
                                                 key=lambda a: a.encode())
        # exactly what Python's add_reader makes of it: same ciphertext and old wrappings, canonical, and
        # Python's encoder gives the very same bytes for the same map and data key
        before, after = cbor2.loads(sealed), cbor2.loads(added)
        assert cbor2.dumps(after, canonical=True) == added
        assert (after["t"], after["v"], after["nonce"], after["ct"]) == (before["t"], before["v"], before["nonce"],
                                                                        before["ct"])
        assert {a: k for a, k in after["keys"].items() if a != people.bank.address} == before["keys"]
        data_key, _ = envelope._unwrap(envelope._decode(added), people.bank)
        assert envelope._encode({k: v for k, v in after.items() if k != "mac"}, data_key) == added
        python_added = envelope.add_reader(sealed, people.alice, people.bank.address, crypto.public_key(people.bank))
        assert set(cbor2.loads(python_added)) == set(after) and list(cbor2.loads(python_added)["keys"]) == list(
            after["keys"])
    # JS on JS: the added reader opens what JS made, in JS
    [(status, opened)] = node("call.mjs", [call("openEnvelope", js_bytes(answers[0][1]), people.bank.key.hex())])
    assert (status, opened) == ("ok", document)
    assert answers[2] == ("error", f"the public key given for {people.stranger.address} belongs to another address")
    assert answers[3] == ("error", '"0x1234" is not an Ethereum address')
    assert answers[4] == ("error", f"{people.stranger.address} is not a reader of this envelope")
    assert answers[5] == ("error", f"the public key given for {people.bank.address} belongs to another address")


def test_sealed_in_javascript_opens_in_python(people):
    """The wallet's reseal after a revocation: a fresh data key, exactly Python's format."""
    document = json.dumps({"email": "alice@example.org", "name": "Zoë"}).encode()
    readers = {people.alice.address: "0x" + crypto.public_key(people.alice).hex(),
               people.bank.address.lower(): js_bytes(b"\x04" + crypto.public_key(people.bank))}
    answers = node("call.mjs", [
        call("sealEnvelope", js_bytes(document), readers),
        call("sealEnvelope", js_bytes(document), readers),
        call("sealEnvelope", js_bytes(document), {}),
        call("sealEnvelope", js_bytes(document), {people.stranger.address: "0x" + crypto.public_key(people.bank).hex()}),
    ])
    (ok1, first), (ok2, second) = answers[:2]
    assert ok1 == ok2 == "ok"
    for sealed in (first, second):
        assert envelope.open_envelope(sealed, people.alice) == envelope.open_envelope(sealed, people.bank) == document
        assert cbor2.dumps(cbor2.loads(sealed), canonical=True) == sealed
        assert envelope.readers(sealed) == sorted([people.alice.address, people.bank.address], key=lambda a: a.encode())
        with pytest.raises(DecryptionError, match="is not a reader"):
            envelope.open_envelope(sealed, people.stranger)
    # a fresh data key and nonce each time: the old data key opens nothing of the new file
    key1, _ = envelope._unwrap(envelope._decode(first), people.bank)
    key2, _ = envelope._unwrap(envelope._decode(second), people.bank)
    assert key1 != key2 and cbor2.loads(first)["nonce"] != cbor2.loads(second)["nonce"]
    assert answers[2] == ("error", "an envelope needs at least one reader")
    assert answers[3] == ("error", f"the public key given for {people.stranger.address} belongs to another address")


def test_altered_envelopes_are_refused(people):
    sealed = sealed_for(b'{"name": "Alice"}', people.alice, people.bank)
    flipped = [sealed[:i] + bytes([sealed[i] ^ 0x01]) + sealed[i + 1:] for i in range(len(sealed))]
    fields = cbor2.loads(sealed)
    reordered = cbor2.dumps(dict(reversed(list(fields.items()))))  # valid CBOR, same map, not canonical
    long_head = sealed.replace(b"\x61v\x01", b"\x61v\x18\x01", 1)  # v = 1 in a two-byte head
    intruder = cbor2.dumps({**fields, "keys": {**fields["keys"], people.stranger.address: b"\x04" * 97}},
                           canonical=True)  # a wrapped key slipped in by someone without the data key
    version_2 = cbor2.dumps({**fields, "v": 2}, canonical=True)
    cases = [reordered, long_head, intruder, version_2, b"\xa0", b"not cbor \xff", sealed + b"\x00"]
    answers = node("call.mjs", [call("openEnvelope", js_bytes(b), people.alice.key.hex()) for b in flipped + cases])
    for i, (status, message) in enumerate(answers[:len(flipped)]):
        assert status == "error", f"a flipped byte {i} was not noticed"
        with pytest.raises((DecryptionError, InvalidInput)):
            envelope.open_envelope(flipped[i], people.alice)
    for altered, (status, message) in zip(cases, answers[len(flipped):]):
        with pytest.raises(DecryptionError) as refused:
            envelope.open_envelope(altered, people.alice)
        assert (status, message) == ("error", str(refused.value)), altered[:16]
    assert answers[len(flipped)][1] == "this is not an elicense envelope, or it was altered"
    assert answers[len(flipped) + 1][1] == "this is not an elicense envelope, or it was altered"
    assert answers[len(flipped) + 2][1] == "the envelope was altered: its MAC does not match its content"
    assert answers[len(flipped) + 3][1] == "envelope version 2 is not supported (this client reads version 1)"
    assert answers[-2][1] == "this is not an elicense envelope (it does not decode)"
    assert answers[-1][1] == "this is not an elicense envelope, or it was altered"  # a byte after the map
    # adding a reader to an altered envelope is refused the same way: nothing is re-wrapped
    [(status, message)] = node("call.mjs", [call("addReader", js_bytes(intruder), people.alice.key.hex(),
                                                 people.carol.address, js_bytes(crypto.public_key(people.carol)))])
    assert (status, message) == ("error", "the envelope was altered: its MAC does not match its content")


def test_typed_data_signed_in_javascript_recovers_in_python():
    """The read requests of the personal-data gateway and of the sharing gateway, as the server hands them
    out (EIP712Domain in types; uint256 nonce in decimal, bytes32 as 0x hex), signed by the page."""
    from elicense.registries.personal import PersonalDataRegistry
    from elicense.registries.sharing import DataSharing
    from elicense.sharing import typed_read

    reader = Account.create()
    personal_registry, sharing_contract = object.__new__(PersonalDataRegistry), object.__new__(DataSharing)
    for contract in (personal_registry, sharing_contract):
        contract.chain = SimpleNamespace(chain_id=CHAIN_ID)
        contract.address = to_checksum_address("0x" + random.randbytes(20).hex())
    what, nonce = b"email,name".ljust(32, b"\0"), random.getrandbits(256)
    personal_typed = personal_registry.typed_read(reader.address, what, NOW, nonce)
    sharing_nonce = random.randbytes(32)
    sharing_typed = typed_read(sharing_contract, 7, 2, NOW, sharing_nonce)
    as_sent = [
        {**personal_typed, "message": {**personal_typed["message"], "what": "0x" + what.hex(), "nonce": str(nonce)}},
        {**sharing_typed, "message": {**sharing_typed["message"], "nonce": "0x" + sharing_nonce.hex()}},
    ]
    answers = node("wallet.mjs", [{"op": "signTyped", "key": reader.key.hex(), "typed": t} for t in as_sent]
                   + [{"op": "signTyped", "key": reader.key.hex(), "typed": {"message": {}}}])
    for typed, (status, signature) in zip((personal_typed, sharing_typed), answers):
        assert status == "ok", signature
        assert Account.recover_message(encode_typed_data(full_message=typed), signature=signature) == reader.address
    assert answers[2] == ("error", "the server sent no typed data to sign")


# ------------------------------------------------------------------ the browser build


def test_browser_bundle_runs_in_chromium():
    """dist/elicense.js (what the pages bundle) in a real browser: no Node globals (Buffer, process)
    are missing, localStorage and canvas work, and its signatures verify in Python."""
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        pytest.skip("no Chromium on this machine")
    holder = Account.create()
    doc = document(holder.address)
    reg = registry()
    options = {"chainId": CHAIN_ID, "registry": reg.address, "licenceId": "0x" + "11" * 32, "agency": "UNI",
               "document": doc.to_json(), "fields": ["name"], "now": NOW}
    ciphertext = "0x" + crypto.encrypt(crypto.public_key(holder), doc.to_bytes()).hex()
    keystore = json.dumps(Account.encrypt(holder.key, "pw", kdf="scrypt", iterations=2**4))
    other = Account.create()
    sealed = "0x" + envelope.seal(b"sealed for the holder", {holder.address: crypto.public_key(holder)}).hex()
    files = {"/dist/elicense.js": ((FRONTEND / "dist" / "elicense.js").read_text(), "text/javascript"),
             "/": ("<!doctype html><title>elicense</title>", "text/html")}

    def serve(route):  # an origin of its own (localStorage needs one) without a port
        body, content_type = files[route.request.url.removeprefix("http://elicense.test")]
        route.fulfill(body=body, content_type=content_type)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.route("http://elicense.test/**", serve)
            page.goto("http://elicense.test/")
            result = page.evaluate("""async ([keystore, ciphertext, options, sealed, other, otherKey]) => {
              const L = await import("/dist/elicense.js");
              L.saveKeystore("holder", keystore);
              const wallet = await L.decryptKeystore(L.getKeystore("holder"), "pw");
              const doc = L.decryptLicence(wallet.privateKey, ciphertext);
              const presentation = await L.createPresentation(wallet, { ...options, document: doc });
              const text = L.encodeQr(presentation, 42);
              const canvas = document.createElement("canvas");
              await L.qrToCanvas(canvas, text);
              const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
              const opened = new TextDecoder().decode(L.openEnvelope(L.fromHex(sealed), wallet.privateKey));
              const added = L.toHex(L.addReader(L.fromHex(sealed), wallet.privateKey, other, otherKey));
              return { list: L.listKeystores(), dataHash: L.dataHash(doc), presentation, text,
                       scanned: L.scanImageData(pixels), buffer: typeof Buffer, process: typeof process, opened, added };
            }""", [keystore, ciphertext, options, sealed, other.address, "0x" + crypto.public_key(other).hex()])
        finally:
            browser.close()
    assert result["list"] == [{"name": "holder", "address": holder.address}]
    assert result["dataHash"] == "0x" + doc.data_hash.hex()
    p = Presentation.parse(result["presentation"])
    message = reg.typed_presentation(*p.signed_tuple())
    assert Account.recover_message(encode_typed_data(full_message=message), signature=p.signature) == holder.address
    assert result["scanned"] == result["text"] == qr.encode(p, issued_block=42)
    assert (result["buffer"], result["process"]) == ("undefined", "undefined")
    assert result["opened"] == "sealed for the holder"  # envelopes open in the browser build too
    assert envelope.open_envelope(bytes.fromhex(result["added"][2:]), other) == b"sealed for the holder"


def test_salted_commitments_equal_python():
    """Purpose and field-list commitments (elicense.commitments) are the same bytes in the page, and the
    page's check accepts a statement only with the salt that opens it."""
    from elicense.commitments import field_commitment, fields_text, purpose_commitment

    rng = random.Random(12)
    purposes = ["mortgage application of Zoë Ünal, 39004012345", "x", "😀 quote \" and \n newline",
                *("p" + random_text(rng) for _ in range(5))]
    field_lists = ["*", ["name"], ["email", "name"], ["name", "email", "é", "Z", "😀"], "email,name"]
    salts = ["0x" + rng.randbytes(32).hex() for _ in range(len(purposes))]
    calls = [call("purposeCommitment", p, s) for p, s in zip(purposes, salts)]
    calls += [call("fieldCommitment", f, salts[0]) for f in field_lists]
    calls += [call("fieldsText", f) for f in field_lists]
    answers = node("call.mjs", calls)
    expected = [purpose_commitment(p, s) for p, s in zip(purposes, salts)]
    expected += [field_commitment(f, salts[0]) for f in field_lists]
    assert answers[:len(expected)] == [("ok", "0x" + e.hex()) for e in expected]
    assert answers[len(expected):] == [("ok", fields_text(f)) for f in field_lists]

    commitment = "0x" + purpose_commitment(purposes[0], salts[0]).hex()
    checks = node("call.mjs", [call("opensPurpose", commitment, purposes[0], salts[0]),
                               call("opensPurpose", commitment, purposes[0], salts[1]),
                               call("opensPurpose", commitment, purposes[0] + " ", salts[0]),
                               call("opensPurpose", commitment, purposes[0], "0x12")])
    assert checks == [("ok", True), ("ok", False), ("ok", False), ("ok", False)]
    refused = node("call.mjs", [call("purposeCommitment", " ", salts[0]), call("fieldCommitment", ["a,b"], salts[0]),
                                call("purposeCommitment", "x", "0x1234")])
    assert [status for status, _ in refused] == ["error"] * 3
