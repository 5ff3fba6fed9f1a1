"""The CID `ipfs add` gives for some bytes, computed locally in pure Python.

Kubo's defaults, reproduced exactly: the bytes are cut into fixed 256 KiB chunks, each chunk is a
leaf, and leaves hang off a balanced tree of dag-pb nodes with at most 174 links each (a second
level appears at 175 chunks, about 43.5 MiB). Every node is a UnixFS ``File``; an inner node records
the total file size and each child's file size (``blocksizes``), and each link carries the child's
cumulative serialised size (``Tsize``). A file of a single chunk is that leaf alone.

- CIDv0 (the default): leaves are dag-pb UnixFS nodes holding the chunk; the CID is the
  base58btc sha2-256 multihash (``Qm...``).
- CIDv1 (``ipfs add --cid-version=1``): leaves are raw blocks (codec ``raw``) and inner nodes
  dag-pb; the CID is multibase base32 lower-case (``bafy...`` for dag-pb, ``bafk...`` for raw).

Only the small pieces of multiformats this needs are written out here (varint, protobuf fields,
base58btc, base32), so a CID can be checked without any IPFS software installed.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174

_SHA2_256 = 0x12
_DAG_PB = 0x70
_RAW = 0x55
_UNIXFS_FILE = 2
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def _b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        n = n * 58 + _B58.index(ch)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


@dataclass(frozen=True)
class _Node:
    """A block already serialised: its CID bytes, the file bytes under it and its cumulative size."""

    cid: bytes
    file_size: int
    tsize: int


def _cid_bytes(version: int, codec: int, block: bytes) -> bytes:
    multihash = bytes([_SHA2_256, 32]) + hashlib.sha256(block).digest()
    return multihash if version == 0 else _varint(1) + _varint(codec) + multihash


def _leaf(chunk: bytes, version: int) -> _Node:
    if version == 1:  # raw leaves: the block is the chunk itself
        return _Node(_cid_bytes(1, _RAW, chunk), len(chunk), len(chunk))
    # Kubo leaves out an empty Data field, which is what makes the empty file QmbFMke1...
    unixfs = _field_varint(1, _UNIXFS_FILE) + (_field_bytes(2, chunk) if chunk else b"") + _field_varint(3, len(chunk))
    block = _field_bytes(1, unixfs)
    return _Node(_cid_bytes(0, _DAG_PB, block), len(chunk), len(block))


def _inner(children: list[_Node], version: int) -> _Node:
    file_size = sum(c.file_size for c in children)
    unixfs = _field_varint(1, _UNIXFS_FILE) + _field_varint(3, file_size)
    unixfs += b"".join(_field_varint(4, c.file_size) for c in children)
    # dag-pb puts the links (field 2) before the data (field 1); each link has an empty name
    links = b"".join(
        _field_bytes(2, _field_bytes(1, c.cid) + _field_bytes(2, b"") + _field_varint(3, c.tsize)) for c in children
    )
    block = links + _field_bytes(1, unixfs)
    return _Node(_cid_bytes(version, _DAG_PB, block), file_size, len(block) + sum(c.tsize for c in children))


def _chunks(data: bytes | memoryview) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), CHUNK_SIZE):
        yield bytes(view[start : start + CHUNK_SIZE])


def _root(data: bytes | memoryview, version: int) -> _Node:
    leaves = [_leaf(chunk, version) for chunk in _chunks(data)]
    if not leaves:
        return _leaf(b"", version)
    # Kubo's balanced layout grows a full tree one level deeper (the old root becomes the first
    # child), which amounts to the shallowest tree that fits, filled left to right
    depth = 0
    while MAX_LINKS**depth < len(leaves):
        depth += 1
    position = 0

    def fill(level: int) -> _Node:
        nonlocal position
        if level == 0:
            position += 1
            return leaves[position - 1]
        children = []
        while len(children) < MAX_LINKS and position < len(leaves):
            children.append(fill(level - 1))
        return _inner(children, version)

    return fill(depth)


def encode_cid(cid: bytes) -> str:
    """The text form of a binary CID: base58btc for CIDv0, multibase base32 (``b...``) for CIDv1."""
    if cid[0] == _SHA2_256:
        return _b58encode(cid)
    return "b" + base64.b32encode(cid).decode().lower().rstrip("=")


def decode_cid(text: str) -> bytes:
    """The binary form of a CID in text; raises ValueError when it is not a CIDv0 or base32 CIDv1."""
    text = text.strip()
    if len(text) == 46 and text.startswith("Qm") and set(text) <= set(_B58):
        raw = _b58decode(text)
        if len(raw) == 34 and raw[:2] == bytes([_SHA2_256, 32]):
            return raw
    elif text[:1] in ("b", "z") and len(text) > 8:
        try:
            if text[0] == "z":  # base58btc CIDv1, what js-ipfs answers unless asked for base32
                raw = _b58decode(text[1:])
            else:
                body = text[1:].upper()
                raw = base64.b32decode(body + "=" * (-len(body) % 8))
        except ValueError:
            raw = b""
        if len(raw) == 36 and raw[0] == 1 and raw[1] in (_DAG_PB, _RAW) and raw[2:4] == bytes([_SHA2_256, 32]):
            return raw
    raise ValueError(f"not a CID this store understands: {text!r}")


def normalize_cid(text: str) -> str:
    """The canonical text of a CID (CIDv0 base58btc, CIDv1 base32); raises ValueError if it is not one."""
    return encode_cid(decode_cid(text))


def multihash(cid: str) -> bytes:
    """The sha2-256 multihash inside a CID, so a CIDv0 and the CIDv1 of the same dag-pb block compare equal."""
    raw = decode_cid(cid)
    return raw if raw[0] == _SHA2_256 else raw[2:]


def cid_of(data: bytes | memoryview, cid_version: int = 0) -> str:
    """The CID `ipfs add` (Kubo defaults) gives for ``data``.

    @param data the file's bytes
    @param cid_version 0 (``Qm...``, dag-pb leaves) or 1 (``bafy``/``bafk...``, raw leaves, as
           ``ipfs add --cid-version=1``)
    @return the CID as text
    """
    if cid_version not in (0, 1):
        raise ValueError("cid_version must be 0 or 1")
    return encode_cid(_root(data, cid_version).cid)
