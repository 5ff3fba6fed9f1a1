"""elicense.merkle against the real @openzeppelin/merkle-tree (run through node): same roots, proofs and
standard-v1 dumps, loading of OZ's dumps, verification, refusals, and the time a 10,000-leaf batch takes.
No chain is needed."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from elicense import merkle
from elicense.merkle import StandardMerkleTree, hash_pair, leaf_hash, process_proof

REPO = Path(__file__).resolve().parents[2]
OZ_SCRIPT = Path(__file__).with_name("oz_merkle.js")

ENCODINGS = {
    "address-uint256": ["address", "uint256"],
    "batch": ["address", "bytes32", "uint64", "uint64", "bytes32"],
    "uint8-address-bytes32": ["uint8", "address", "bytes32"],
}
SIZES = [1, 2, 3, 7, 100]
CASES = [(name, size) for name in ENCODINGS for size in SIZES]
BATCH = ENCODINGS["batch"]
# Types beyond what issuance uses today: tuples, arrays, dynamic and signed types, OZ's lenient JSON forms.
NESTED = ["(address,uint256)[]", "bytes", "string", "bool", "int64", "bytes4[2]", "uint"]
NESTED_VALUES = [
    [[["0x" + "11" * 20, "7"], ["0x" + "22" * 20, 8]], "0xdeadbeef", "héllo", True, "-5", ["0x01020304", "0x05060708"],
     "0x10"],
    [[], "0x", "", "false", "-9223372036854775808", ["0x00000000", "0xffffffff"], "1"],
    [[["0x" + "33" * 20, "0"]], "0x00", "x" * 100, False, 9, ["0x0a0b0c0d", "0x00000001"], "0x" + "ff" * 32],
]


def hexs(nodes: list[bytes]) -> list[str]:
    return ["0x" + n.hex() for n in nodes]


def random_field(rng: random.Random, type_: str):
    """(a Python input in one of the accepted forms, the same value as OZ's JSON shows it)."""
    if type_ == "address":
        raw = rng.randbytes(20)
        form = rng.choice([to_checksum_address(raw), "0x" + raw.hex(), raw])
        return form, to_checksum_address(raw)
    if type_ == "bytes32":
        raw = rng.randbytes(32)
        return rng.choice([raw, "0x" + raw.hex()]), "0x" + raw.hex()
    bits = int(type_.removeprefix("uint"))
    n = rng.choice([0, (1 << bits) - 1, rng.getrandbits(bits), rng.getrandbits(min(bits, 16))])
    return n, str(n)


def random_values(encoding: list[str], size: int, seed: int) -> tuple[list[tuple], list[list]]:
    rng = random.Random(seed)
    py, js = [], []
    for _ in range(size):
        pairs = [random_field(rng, t) for t in encoding]
        py.append(tuple(p for p, _ in pairs))
        js.append([j for _, j in pairs])
    return py, js


def run_oz(requests: list[dict]) -> list[dict]:
    node = shutil.which("node")
    assert node, "node is needed to compare with @openzeppelin/merkle-tree"
    assert (REPO / "node_modules/@openzeppelin/merkle-tree").is_dir(), "npm install: @openzeppelin/merkle-tree missing"
    done = subprocess.run([node, str(OZ_SCRIPT)], input=json.dumps(requests), capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def oz() -> dict:
    """Every comparison case built by OZ's JS in a single node run (node starts slowly)."""
    cases = {}
    for seed, (name, size) in enumerate(CASES):
        py, js = random_values(ENCODINGS[name], size, seed)
        cases[(name, size)] = (ENCODINGS[name], py, js)
    dup_py, dup_js = random_values(BATCH, 4, 999)
    cases["duplicates"] = (BATCH, dup_py + [dup_py[1]], dup_js + [dup_js[1]])
    cases["nested"] = (NESTED, NESTED_VALUES, NESTED_VALUES)
    answers = run_oz([{"encoding": enc, "values": js} for enc, _, js in cases.values()])
    return {key: (enc, py, answer) for (key, (enc, py, _)), answer in zip(cases.items(), answers)}


# ---------------------------------------------------------------- same bytes as OpenZeppelin's JS


@pytest.mark.parametrize("case", CASES + ["duplicates"], ids=lambda c: c if isinstance(c, str) else f"{c[0]}-{c[1]}")
def test_same_root_proofs_and_dump_as_openzeppelin(oz, case):
    encoding, values, js = oz[case]
    tree = StandardMerkleTree(values, encoding)

    assert len(tree) == len(values)
    assert "0x" + tree.root.hex() == js["root"]
    assert [hexs(tree.proof(i)) for i in range(len(values))] == js["proofs"]
    assert tree.dump()["tree"] == js["dump"]["tree"]
    # Values go in OZ's JSON forms too (checksummed addresses, lower-case hex, decimal strings), so the
    # whole dump, treeIndex included, is the same document.
    assert tree.dump() == js["dump"]


@pytest.mark.parametrize("case", CASES + ["duplicates"], ids=lambda c: c if isinstance(c, str) else f"{c[0]}-{c[1]}")
def test_loads_openzeppelin_dump(oz, case):
    encoding, values, js = oz[case]
    ours = StandardMerkleTree(values, encoding)
    loaded = StandardMerkleTree.load(js["dump"])

    assert loaded.root == ours.root
    assert loaded.leaf_encoding == encoding
    assert [hexs(loaded.proof(i)) for i in range(len(values))] == js["proofs"]
    assert loaded.values() == ours.values()
    assert loaded.dump() == js["dump"]
    again = StandardMerkleTree.load(json.loads(json.dumps(ours.dump())))
    assert again.root == ours.root


def test_nested_and_dynamic_types_match_openzeppelin(oz):
    encoding, values, js = oz["nested"]
    tree = StandardMerkleTree(values, encoding)
    assert "0x" + tree.root.hex() == js["root"]
    assert [hexs(tree.proof(i)) for i in range(len(values))] == js["proofs"]
    assert tree.dump()["tree"] == js["dump"]["tree"]
    loaded = StandardMerkleTree.load(js["dump"])
    assert loaded.root == tree.root and loaded.values() == tree.values()


def test_duplicate_values_resolve_to_the_last_index_as_in_openzeppelin(oz):
    _, values, js = oz["duplicates"]
    tree = StandardMerkleTree(values, BATCH)
    assert values[1] == values[4]
    # OZ's hashLookup keeps the last index of a repeated leaf; both proofs still verify.
    assert tree.proof_for(values[1]) == tree.proof(4)
    assert hexs(tree.proof_for(values[1])) == js["proofs"][4]
    assert StandardMerkleTree.verify(tree.root, BATCH, values[1], tree.proof(1))


def test_readme_example_root():
    """The example in @openzeppelin/merkle-tree's README, whose root is printed there."""
    tree = StandardMerkleTree(
        [["0x1111111111111111111111111111111111111111", "5000000000000000000"],
         ["0x2222222222222222222222222222222222222222", "2500000000000000000"]],
        ["address", "uint256"],
    )
    assert tree.root.hex() == "d4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77"


# ---------------------------------------------------------------- primitives


def test_primitives_match_their_definitions():
    rng = random.Random(7)
    a, b = rng.randbytes(32), rng.randbytes(32)
    assert hash_pair(a, b) == hash_pair(b, a) == keccak(min(a, b) + max(a, b))
    assert merkle._keccak(a + b) == keccak(a + b)

    value = ("0x" + "ab" * 20, b"\x01" * 32, 5, 2**64 - 1, "0x" + "cd" * 32)
    encoded = encode(BATCH, [bytes.fromhex("ab" * 20), b"\x01" * 32, 5, 2**64 - 1, bytes.fromhex("cd" * 32)])
    assert leaf_hash(BATCH, value) == keccak(keccak(encoded))

    assert process_proof(a, []) == a
    assert process_proof(a, [b]) == hash_pair(a, b)
    with pytest.raises(ValueError, match="32 bytes"):
        process_proof(a, [b[:31]])


def test_eth_utils_keccak_fallback_gives_the_same_tree(monkeypatch):
    values, _ = random_values(BATCH, 7, 13)
    fast = StandardMerkleTree(values, BATCH)
    monkeypatch.setattr(merkle, "_keccak", keccak)  # what runs where safe-pysha3 is not installed
    slow = StandardMerkleTree(values, BATCH)
    assert slow.dump() == fast.dump()


def test_checksum_matches_eth_utils():
    rng = random.Random(3)
    for _ in range(200):
        raw = rng.randbytes(20)
        assert merkle._checksummed(raw) == to_checksum_address(raw)


def test_every_input_form_gives_the_same_tree():
    rng = random.Random(11)
    raws = [(rng.randbytes(20), rng.randbytes(32), rng.getrandbits(64), rng.getrandbits(64), rng.randbytes(32))
            for _ in range(5)]
    as_bytes = list(raws)
    as_text = [(to_checksum_address(a), "0x" + b.hex(), str(c), hex(d), "0x" + e.hex().upper())
               for a, b, c, d, e in raws]
    lower = [("0x" + a.hex(), b, c, d, e) for a, b, c, d, e in raws]
    roots = {StandardMerkleTree(vs, BATCH).root for vs in (as_bytes, as_text, lower)}
    assert len(roots) == 1
    tree = StandardMerkleTree(as_bytes, BATCH)
    assert tree.values() == [(to_checksum_address(a), b, c, d, e) for a, b, c, d, e in raws]
    assert all(tree.proof_for(v) == tree.proof(i) for i, v in enumerate(as_text))


def test_single_value_tree():
    value = ("0x" + "11" * 20, b"\x22" * 32, 1, 2, b"\x33" * 32)
    tree = StandardMerkleTree([value], BATCH)
    assert tree.root == leaf_hash(BATCH, value) == tree.leaf(0)
    assert tree.proof(0) == [] == tree.proof_for(value)
    assert StandardMerkleTree.verify(tree.root, BATCH, value, [])
    assert StandardMerkleTree.load(tree.dump()).root == tree.root


# ---------------------------------------------------------------- verify


def test_verify_accepts_every_proof_and_refuses_any_change():
    values, _ = random_values(BATCH, 7, 42)
    tree = StandardMerkleTree(values, BATCH)
    other_root = StandardMerkleTree(values[:6], BATCH).root
    for i, value in enumerate(values):
        proof = tree.proof(i)
        assert tree.leaf(i) == leaf_hash(BATCH, value)
        assert StandardMerkleTree.verify(tree.root, BATCH, value, proof)
        assert StandardMerkleTree.verify("0x" + tree.root.hex(), BATCH, value, hexs(proof))
        assert not StandardMerkleTree.verify(other_root, BATCH, value, proof)
        for k in range(len(proof)):
            altered = list(proof)
            altered[k] = bytes([altered[k][0] ^ 1]) + altered[k][1:]
            assert not StandardMerkleTree.verify(tree.root, BATCH, value, altered)
        assert not StandardMerkleTree.verify(tree.root, BATCH, value, proof[:-1])
        assert not StandardMerkleTree.verify(tree.root, BATCH, value, proof + [tree.root])
        changed = list(value)
        changed[2] = (int(value[2]) + 1) % 2**64
        assert not StandardMerkleTree.verify(tree.root, BATCH, changed, proof)
        assert not StandardMerkleTree.verify(tree.root, BATCH, value, [p[:31] for p in proof] or [b"\0"])
    # Another leaf's proof does not prove this value.
    assert not StandardMerkleTree.verify(tree.root, BATCH, values[0], tree.proof(1))


# ---------------------------------------------------------------- refusals


def test_empty_list_is_refused():
    with pytest.raises(ValueError, match="at least one value"):
        StandardMerkleTree([], BATCH)


@pytest.mark.parametrize(("value", "message"), [
    (("0x" + "11" * 20, b"\0" * 32, 1, 1), r"value 1 .*expected 5 fields"),
    (("0x1234", b"\0" * 32, 1, 1, b"\0" * 32), r"value 1 .*field 0 \(address\).*40 hex digits"),
    (("0x" + "aB" * 20, b"\0" * 32, 1, 1, b"\0" * 32), r"value 1 .*checksum"),
    (("0x" + "11" * 20, b"\0" * 31, 1, 1, b"\0" * 32), r"value 1 .*field 1 \(bytes32\).*exactly 32 bytes"),
    (("0x" + "11" * 20, "0xzz", 1, 1, b"\0" * 32), r"value 1 .*field 1 \(bytes32\).*hex"),
    (("0x" + "11" * 20, b"\0" * 32, 2**64, 1, b"\0" * 32), r"value 1 .*field 2 \(uint64\).*out of range"),
    (("0x" + "11" * 20, b"\0" * 32, 1, -1, b"\0" * 32), r"value 1 .*field 3 \(uint64\).*out of range"),
    (("0x" + "11" * 20, b"\0" * 32, 1.5, 1, b"\0" * 32), r"value 1 .*field 2 \(uint64\).*integer"),
    (("0x" + "11" * 20, b"\0" * 32, True, 1, b"\0" * 32), r"value 1 .*field 2 \(uint64\).*integer"),
    ("not a tuple", r"value 1 .*list of 5 fields"),
])
def test_bad_value_is_refused_with_its_index_and_field(value, message):
    good = ("0x" + "11" * 20, b"\0" * 32, 1, 1, b"\0" * 32)
    with pytest.raises(ValueError, match=message):
        StandardMerkleTree([good, value], BATCH)


@pytest.mark.parametrize("encoding", [[], ["uint7"], ["address", "x"], ["fixed128x18"], "address", [["address"]]])
def test_bad_leaf_encoding_is_refused(encoding):
    with pytest.raises(ValueError, match="encoding|unsupported"):
        StandardMerkleTree([(1,)], encoding)


def test_lookups_of_what_is_not_there():
    values, _ = random_values(BATCH, 3, 5)
    tree = StandardMerkleTree(values, BATCH)
    with pytest.raises(KeyError, match="not in the tree"):
        tree.proof_for(("0x" + "99" * 20, b"\0" * 32, 0, 0, b"\0" * 32))
    with pytest.raises(KeyError, match="not in the tree"):
        tree.proof_for(("0x12",))
    with pytest.raises(IndexError):
        tree.proof(3)
    with pytest.raises(IndexError):
        tree.leaf(-1)


def test_load_refuses_inconsistent_dumps():
    values, _ = random_values(BATCH, 7, 8)
    dump = StandardMerkleTree(values, BATCH).dump()

    with pytest.raises(ValueError, match="format"):
        StandardMerkleTree.load({**dump, "format": "simple-v1"})
    bad_node = json.loads(json.dumps(dump))
    bad_node["tree"][2] = "0x" + "00" * 32
    with pytest.raises(ValueError, match="not the hash of its children"):
        StandardMerkleTree.load(bad_node)
    bad_value = json.loads(json.dumps(dump))
    bad_value["values"][0]["value"][2] = str(int(bad_value["values"][0]["value"][2]) ^ 1)
    with pytest.raises(ValueError, match="does not hash"):
        StandardMerkleTree.load(bad_value)
    bad_index = json.loads(json.dumps(dump))
    bad_index["values"][0]["treeIndex"] = 0
    with pytest.raises(ValueError, match="not a leaf"):
        StandardMerkleTree.load(bad_index)


# ---------------------------------------------------------------- speed


def test_ten_thousand_leaves_and_all_proofs_are_fast():
    rng = random.Random(10_000)
    values = [(to_checksum_address(rng.randbytes(20)), rng.randbytes(32), rng.getrandbits(64), rng.getrandbits(64),
               "0x" + rng.randbytes(32).hex()) for _ in range(10_000)]
    start = time.perf_counter()
    tree = StandardMerkleTree(values, BATCH)
    built = time.perf_counter()
    proofs = [tree.proof(i) for i in range(len(values))]
    done = time.perf_counter()
    print(f"\n10,000 leaves: build {built - start:.3f} s, 10,000 proofs {done - built:.3f} s, "
          f"total {done - start:.3f} s")
    assert len(proofs) == 10_000 and all(len(p) in (13, 14) for p in proofs)
    assert StandardMerkleTree.verify(tree.root, BATCH, values[1234], proofs[1234])
    assert done - start < 2.0, f"10,000 leaves and their proofs took {done - start:.2f} s"
