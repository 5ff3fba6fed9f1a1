"""Merkle trees that OpenZeppelin accepts, byte for byte.

Batch issuance and cross-chain anchoring commit many values under one root; each holder later proves
its value with a proof that must pass OpenZeppelin Contracts' ``MerkleProof.verify`` on chain and that
other tools must be able to read. So this module reproduces ``@openzeppelin/merkle-tree``'s
``StandardMerkleTree`` (npm 1.0.8) exactly and speaks its ``standard-v1`` dump format:

* leaf = keccak256(keccak256(abi.encode(types, value))), the double hash keeping a 64-byte internal
  node from ever passing as a leaf (second-preimage attacks);
* leaves are sorted by hash; the tree is a flat array of 2n-1 nodes, leaves at the end in reverse
  order, children of node i at 2i+1 and 2i+2, so the shape is a complete (not perfect) binary tree;
* a parent is keccak256 of its two children in ascending order, so proofs carry no left/right bits;
* a proof is the list of siblings from the leaf up to the root.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable, Iterable, Sequence

from eth_abi.exceptions import ABITypeError, EncodingError, ParseError
from eth_abi.grammar import ABIType, BasicType, TupleType, normalize, parse
from eth_abi.registry import registry as _abi_registry
from eth_utils import keccak

__all__ = ["FORMAT", "StandardMerkleTree", "hash_pair", "leaf_hash", "process_proof"]

FORMAT = "standard-v1"

try:
    # safe-pysha3 comes with eth-brownie; its keccak is ~8x cheaper per call than eth_utils.keccak on the
    # pycryptodome backend, and a 10,000-leaf tree makes ~30,000 calls. Same function, checked in tests.
    from sha3 import keccak_256 as _keccak_256

    def _keccak(data: bytes) -> bytes:
        return _keccak_256(data).digest()

except ImportError:  # pragma: no cover - depends on the environment
    _keccak = keccak


# ---------------------------------------------------------------- hashing


def hash_pair(a: bytes, b: bytes) -> bytes:
    """Parent of two nodes, as OpenZeppelin's ``Hashes.commutativeKeccak256``: the smaller goes first."""
    return _keccak(a + b) if a <= b else _keccak(b + a)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``leaf`` and ``proof`` lead to, as ``MerkleProof.processProof`` computes it."""
    node = _node(leaf, "leaf")
    for sibling in proof:
        node = hash_pair(node, _node(sibling, "proof node"))
    return node


def leaf_hash(leaf_encoding: Sequence[str], value: Sequence[Any]) -> bytes:
    """The leaf of ``value`` under ``leaf_encoding``: keccak256(keccak256(abi.encode(types, value)))."""
    codec = _codec(leaf_encoding)
    return codec.hash(codec.normalize(value))


def _node(node: bytes | str, what: str) -> bytes:
    if isinstance(node, str):
        node = _hex_bytes(node, what)
    node = bytes(node)
    if len(node) != 32:
        raise ValueError(f"a Merkle {what} must be 32 bytes, got {len(node)}")
    return node


def _hex_bytes(text: str, what: str) -> bytes:
    if not isinstance(text, str) or not _HEX.fullmatch(text):
        raise ValueError(f"{what} must be bytes or a 0x-prefixed hex string, got {text!r}")
    return bytes.fromhex(text[2:])


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


# ---------------------------------------------------------------- values of an encoding

_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DECIMAL = re.compile(r"-?[0-9]+")
_HEX_INT = re.compile(r"-?0x[0-9a-fA-F]+")

# A value is normalised once, on the way in, to one Python form per type: address and bytes/bytesN ->
# bytes, (u)intN -> int, arrays and tuples -> tuples. That form is what gets encoded; the dump and
# values() present it OpenZeppelin's way (checksummed addresses, hex strings, decimal strings).
_Normalize = Callable[[Any], Any]
_Present = Callable[[Any], Any]


def _checksummed(address: bytes) -> str:
    """EIP-55 form; eth_utils.to_checksum_address gives the same string at several times the cost."""
    lower = address.hex()
    digest = _keccak(lower.encode()).hex()
    return "0x" + "".join(c.upper() if d in "89abcdef" else c for c, d in zip(lower, digest))


def _address(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        if len(value) != 20:
            raise ValueError(f"an address must be 20 bytes, got {len(value)}")
        return bytes(value)
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise ValueError(f"expected an address (0x and 40 hex digits), got {value!r}")
    address = bytes.fromhex(value[2:])
    # Mixed case claims an EIP-55 checksum: check it, a typo must not send a credential elsewhere.
    digits = value[2:]
    if digits != digits.lower() and digits != digits.upper() and _checksummed(address) != value:
        raise ValueError(f"address {value} has a wrong EIP-55 checksum")
    return address


def _integer(bits: int, signed: bool) -> _Normalize:
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    name = f"{'int' if signed else 'uint'}{bits}"

    def normalize(value: Any) -> int:
        # OpenZeppelin's JS takes decimal or hex strings (JSON has no big integers); so do we.
        if isinstance(value, str):
            if _DECIMAL.fullmatch(value):
                value = int(value, 10)
            elif _HEX_INT.fullmatch(value):
                value = int(value, 16)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer for {name}, got {value!r}")
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range for {name}")
        return value

    return normalize


def _fixed_bytes(size: int) -> _Normalize:
    def normalize(value: Any) -> bytes:
        data = _hex_bytes(value, f"bytes{size}") if isinstance(value, str) else value
        if not isinstance(data, (bytes, bytearray)):
            raise ValueError(f"expected bytes{size} as bytes or a hex string, got {value!r}")
        # abi.encode would right-pad a short value; that is nearly always a mistake, so refuse it.
        if len(data) != size:
            raise ValueError(f"bytes{size} must be exactly {size} bytes, got {len(data)}")
        return bytes(data)

    return normalize


def _dynamic_bytes(value: Any) -> bytes:
    data = _hex_bytes(value, "bytes") if isinstance(value, str) else value
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError(f"expected bytes or a hex string, got {value!r}")
    return bytes(data)


def _bool(value: Any) -> bool:
    if value in ("true", "false"):  # as @metamask/abi-utils accepts them
        return value == "true"
    if not isinstance(value, bool):
        raise ValueError(f"expected a bool, got {value!r}")
    return value


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _sequence(normalize_item: _Normalize, length: int | None, what: str) -> _Normalize:
    def normalize(value: Any) -> tuple:
        if isinstance(value, (str, bytes, bytearray)) or not isinstance(value, (list, tuple)):
            raise ValueError(f"expected a list for {what}, got {value!r}")
        if length is not None and len(value) != length:
            raise ValueError(f"{what} needs {length} items, got {len(value)}")
        return tuple(normalize_item(item) for item in value)

    return normalize


def _fields(normalizers: Sequence[_Normalize], types: Sequence[str]) -> _Normalize:
    """Normalise a tuple field by field, naming the field that fails."""

    def normalize(value: Any) -> tuple:
        if isinstance(value, (str, bytes, bytearray)) or not isinstance(value, (list, tuple)):
            raise ValueError(f"expected a list of {len(types)} fields ({', '.join(types)}), got {value!r}")
        if len(value) != len(types):
            raise ValueError(f"expected {len(types)} fields ({', '.join(types)}), got {len(value)}")
        out = []
        for i, (norm, item) in enumerate(zip(normalizers, value)):
            try:
                out.append(norm(item))
            except ValueError as e:
                raise ValueError(f"field {i} ({types[i]}): {e}") from None
        return tuple(out)

    return normalize


def _tuple_of(presenters: Sequence[_Present]) -> _Present:
    return lambda value: tuple(p(v) for p, v in zip(presenters, value))


def _build(t: ABIType) -> tuple[_Normalize, _Present, _Present]:
    """(normalise, present for Python, present for JSON) of one ABI type."""
    if t.is_array:
        norm, py, js = _build(t.item_type)
        dims = t.arrlist[-1]
        return (_sequence(norm, dims[0] if dims else None, t.to_type_str()),
                lambda v: tuple(py(x) for x in v), lambda v: [js(x) for x in v])
    if isinstance(t, TupleType):
        parts = [_build(c) for c in t.components]
        return (_fields([p[0] for p in parts], [c.to_type_str() for c in t.components]),
                _tuple_of([p[1] for p in parts]), lambda v: [p[2](x) for p, x in zip(parts, v)])
    assert isinstance(t, BasicType)
    identity = lambda v: v  # noqa: E731
    if t.base == "address":
        return _address, _checksummed, _checksummed
    if t.base in ("uint", "int"):
        return _integer(t.sub, t.base == "int"), identity, str
    if t.base == "bytes":
        return (_fixed_bytes(t.sub) if t.sub else _dynamic_bytes), identity, _hex
    if t.base == "bool":
        return _bool, identity, identity
    if t.base == "string":
        return _string, identity, identity
    raise ValueError(f"unsupported type {t.to_type_str()!r} in a leaf encoding")


class _Codec:
    """Everything about one leaf encoding, built once: parsing the types is slow, encoding is hot."""

    def __init__(self, leaf_encoding: tuple[str, ...]):
        if not leaf_encoding:
            raise ValueError("a leaf encoding needs at least one ABI type")
        try:
            tuple_type = parse("(" + ",".join(normalize(t) for t in leaf_encoding) + ")")
            tuple_type.validate()
        except (ParseError, ABITypeError) as e:
            raise ValueError(f"bad leaf encoding {list(leaf_encoding)!r}: {e}") from None
        self.leaf_encoding = list(leaf_encoding)
        parts = [_build(c) for c in tuple_type.components]
        self.normalize = _fields([p[0] for p in parts], self.leaf_encoding)
        self.present = _tuple_of([p[1] for p in parts])
        self._json = [p[2] for p in parts]
        # eth_abi.encode(types, args) is exactly this tuple encoder; building it once per encoding
        # instead of once per value saves a good part of the build time.
        self._encode = _abi_registry.get_encoder(tuple_type.to_type_str())

    def hash(self, normalized: tuple) -> bytes:
        try:
            encoded = self._encode(normalized)
        except EncodingError as e:
            raise ValueError(f"cannot abi.encode {normalized!r} as {self.leaf_encoding}: {e}") from None
        return _keccak(_keccak(encoded))

    def to_json(self, normalized: tuple) -> list:
        return [js(v) for js, v in zip(self._json, normalized)]


def _codec(leaf_encoding: Sequence[str]) -> _Codec:
    if isinstance(leaf_encoding, str) or not all(isinstance(t, str) for t in leaf_encoding):
        raise ValueError(f"a leaf encoding is a list of ABI type strings, got {leaf_encoding!r}")
    return _cached_codec(tuple(leaf_encoding))


@functools.lru_cache(maxsize=64)
def _cached_codec(leaf_encoding: tuple[str, ...]) -> _Codec:
    return _Codec(leaf_encoding)


# ---------------------------------------------------------------- the tree


class StandardMerkleTree:
    """OpenZeppelin's ``StandardMerkleTree``: same root, same proofs, same ``standard-v1`` dump."""

    leaf_encoding: list[str]
    root: bytes

    def __init__(self, values: Iterable[Sequence[Any]], leaf_encoding: Sequence[str]):
        codec = _codec(leaf_encoding)
        normalized = []
        for i, value in enumerate(values):
            try:
                normalized.append(codec.normalize(value))
            except ValueError as e:
                raise ValueError(f"value {i} does not encode as {codec.leaf_encoding}: {e}") from None
        if not normalized:
            raise ValueError("a Merkle tree needs at least one value")
        hashes = []
        for i, value in enumerate(normalized):
            try:
                hashes.append(codec.hash(value))
            except ValueError as e:
                raise ValueError(f"value {i}: {e}") from None
        # Sorted leaves are what makes OZ multiproofs verifiable on chain; sorted() is stable like JS's
        # Array.prototype.sort, so duplicate values keep their relative order as in OZ.
        order = sorted(range(len(hashes)), key=hashes.__getitem__)
        size = 2 * len(hashes) - 1
        tree: list[bytes] = [b""] * size
        tree_index = [0] * len(hashes)
        for leaf_position, value_index in enumerate(order):
            tree_index[value_index] = size - 1 - leaf_position
            tree[size - 1 - leaf_position] = hashes[value_index]
        for i in range(size - 1 - len(hashes), -1, -1):
            tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2])
        self._setup(codec, tree, normalized, tree_index)

    def _setup(self, codec: _Codec, tree: list[bytes], normalized: list[tuple], tree_index: list[int]) -> None:
        self._codec = codec
        self.leaf_encoding = list(codec.leaf_encoding)  # the codec is shared between trees
        self._tree = tree
        self._values = normalized
        self._tree_index = tree_index
        self.root = tree[0]
        # Leaf hash -> value index, as OZ's hashLookup: with duplicate values the last one wins.
        self._lookup = {tree[t]: v for v, t in enumerate(tree_index)}

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"StandardMerkleTree({len(self)} values, root={_hex(self.root)})"

    # ------------------------------------------------------------ proofs

    def proof(self, index: int) -> list[bytes]:
        """Siblings from the leaf of ``values()[index]`` up to the root; empty for a one-value tree."""
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self._values):
            raise IndexError(f"value index {index!r} out of range for a tree of {len(self._values)} values")
        tree = self._tree
        i = self._tree_index[index]
        proof = []
        while i > 0:
            proof.append(tree[i + 1] if i % 2 else tree[i - 1])
            i = (i - 1) // 2
        return proof

    def proof_for(self, value: Sequence[Any]) -> list[bytes]:
        """The proof of a value given by value rather than by index."""
        try:
            key = self._codec.hash(self._codec.normalize(value))
        except ValueError as e:
            raise KeyError(f"value {value!r} is not in the tree: {e}") from None
        index = self._lookup.get(key)
        if index is None:
            raise KeyError(f"value {value!r} is not in the tree")
        return self.proof(index)

    def leaf(self, index: int) -> bytes:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self._values):
            raise IndexError(f"value index {index!r} out of range for a tree of {len(self._values)} values")
        return self._tree[self._tree_index[index]]

    def values(self) -> list[tuple]:
        """The values in the order given, normalised (checksummed addresses, bytes, ints)."""
        return [self._codec.present(v) for v in self._values]

    def value(self, index: int) -> tuple:
        """One value, normalised as :meth:`values` gives it, without presenting all the others."""
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self._values):
            raise IndexError(f"value index {index!r} out of range for a tree of {len(self._values)} values")
        return self._codec.present(self._values[index])

    @staticmethod
    def verify(root: bytes | str, leaf_encoding: Sequence[str], value: Sequence[Any],
               proof: Sequence[bytes | str]) -> bool:
        """Whether ``proof`` proves ``value`` under ``root``: what ``MerkleProof.verify`` says on chain."""
        codec = _codec(leaf_encoding)  # a bad encoding is the caller's bug: let it raise
        try:
            return process_proof(codec.hash(codec.normalize(value)), proof) == _node(root, "root")
        except ValueError:  # a value or proof that is not even well-formed proves nothing
            return False

    # ------------------------------------------------------------ standard-v1

    def dump(self) -> dict:
        return {
            "format": FORMAT,
            "leafEncoding": list(self.leaf_encoding),
            "tree": [_hex(node) for node in self._tree],
            "values": [{"value": self._codec.to_json(v), "treeIndex": t}
                       for v, t in zip(self._values, self._tree_index)],
        }

    @classmethod
    def load(cls, data: dict) -> StandardMerkleTree:
        """Read a ``standard-v1`` dump (ours or OZ's) and check it through, as OZ's ``load`` does.

        The layout is taken from the dump, not rebuilt, so a tree OZ built with ``sortLeaves: false``
        loads too."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else data
            raise ValueError(f"unknown Merkle tree format {found!r}; expected {FORMAT!r}")
        for key in ("leafEncoding", "tree", "values"):
            if not isinstance(data.get(key), list):
                raise ValueError(f"a {FORMAT} dump needs a list {key!r}")
        codec = _codec(data["leafEncoding"])
        tree = [_node(node, f"tree node {i}") for i, node in enumerate(data["tree"])]
        if not tree or len(tree) % 2 == 0:
            raise ValueError(f"a tree has an odd, non-zero number of nodes, got {len(tree)}")
        leaves = (len(tree) + 1) // 2
        if len(data["values"]) != leaves:
            raise ValueError(f"a tree of {len(tree)} nodes holds {leaves} values, the dump lists {len(data['values'])}")
        for i in range(len(tree) - leaves):
            if tree[i] != hash_pair(tree[2 * i + 1], tree[2 * i + 2]):
                raise ValueError(f"tree node {i} is not the hash of its children: the tree is invalid")
        normalized, tree_index = [], []
        for i, entry in enumerate(data["values"]):
            if not isinstance(entry, dict) or "value" not in entry or "treeIndex" not in entry:
                raise ValueError(f"value {i} must be an object with 'value' and 'treeIndex'")
            t = entry["treeIndex"]
            if not isinstance(t, int) or isinstance(t, bool) or not len(tree) - leaves <= t < len(tree):
                raise ValueError(f"value {i} has treeIndex {t!r}, which is not a leaf of the tree")
            try:
                value = codec.normalize(entry["value"])
                hashed = codec.hash(value)
            except ValueError as e:
                raise ValueError(f"value {i} does not encode as {codec.leaf_encoding}: {e}") from None
            if hashed != tree[t]:
                raise ValueError(f"value {i} does not hash to tree node {t}: the dump is inconsistent")
            normalized.append(value)
            tree_index.append(t)
        if len(set(tree_index)) != len(tree_index):
            raise ValueError("two values claim the same tree leaf")
        tree_obj = cls.__new__(cls)
        tree_obj._setup(codec, tree, normalized, tree_index)
        return tree_obj
