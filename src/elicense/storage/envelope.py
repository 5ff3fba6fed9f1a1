"""Sealed envelopes: documents are encrypted on the client, before any store or node sees them.

A document is encrypted once with a fresh random data key; the data key is then wrapped (ECIES over
secp256k1, :func:`elicense.crypto.encrypt`) for each reader's Ethereum public key. Granting another
reader (consent) wraps the same data key once more: the ciphertext, and so most of what is stored,
stays as it was, and whoever relays the envelope never sees the plaintext or the data key.

Format, version 1: the canonical (deterministic, RFC 8949 §4.2) CBOR encoding of the map

=========  ===============================================================================
``t``      text ``"elicense-envelope"``
``v``      unsigned integer ``1``
``nonce``  12 random bytes, the AES-GCM nonce
``ct``     AES-256-GCM ciphertext of the document followed by its 16-byte tag, associated data
           ``b"elicense-envelope/v1"``
``keys``   map: reader's checksummed address (text ``0x...``) → the 32-byte data key ECIES-wrapped
           to that reader's public key (eciespy format: ephemeral public key ‖ nonce ‖ tag ‖ ciphertext)
``mac``    HMAC-SHA256 over the canonical CBOR of the map without ``mac``, keyed with
           HKDF-SHA256(data key, info ``b"elicense-envelope/v1/mac"``)
=========  ===============================================================================

The MAC binds the reader list to the ciphertext: a reader notices if anyone without the data key
altered, added or removed a wrapped key, and since the encoding must be canonical (re-encoding must
give the same bytes), any changed byte of an envelope is refused. ``integrity_hash`` (SHA-256 of the
envelope's bytes) goes on chain next to the CID, so a verifier can check the very bytes it fetched.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import cbor2
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_utils import is_address, to_checksum_address

from ..crypto import address_of, decrypt, encrypt, public_key
from ..errors import DecryptionError, InvalidInput

VERSION = 1
_TYPE = "elicense-envelope"
_AAD = b"elicense-envelope/v1"
_MAC_INFO = b"elicense-envelope/v1/mac"
_FIELDS = {"t", "v", "nonce", "ct", "keys", "mac"}


def _mac(data_key: bytes, body: dict) -> bytes:
    mac_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_MAC_INFO).derive(data_key)
    return hmac.new(mac_key, cbor2.dumps(body, canonical=True), hashlib.sha256).digest()


def _encode(body: dict, data_key: bytes) -> bytes:
    return cbor2.dumps({**body, "mac": _mac(data_key, body)}, canonical=True)


def _decode(envelope: bytes, error: type[Exception] = InvalidInput) -> dict:
    """The envelope's map, checked for shape and canonical encoding (not yet authenticated)."""
    try:
        fields = cbor2.loads(bytes(envelope))
        canonical = isinstance(fields, dict) and cbor2.dumps(fields, canonical=True) == bytes(envelope)
    except Exception:  # cbor2 raises many kinds on malformed input; all mean the same here
        raise error("this is not an elicense envelope (it does not decode)") from None
    if not canonical or set(fields) != _FIELDS or fields["t"] != _TYPE:
        raise error("this is not an elicense envelope, or it was altered")
    if fields["v"] != VERSION:
        shown = repr(fields["v"])[:40] if isinstance(fields["v"], int) and fields["v"].bit_length() < 64 else "?"
        raise error(f"envelope version {shown} is not supported (this client reads version {VERSION})")
    keys = fields["keys"]
    if not (isinstance(fields["nonce"], bytes) and len(fields["nonce"]) == 12 and isinstance(fields["ct"], bytes)
            and isinstance(keys, dict) and keys and isinstance(fields["mac"], bytes)
            and all(isinstance(a, str) and isinstance(k, bytes) for a, k in keys.items())):
        raise error("this is not an elicense envelope, or it was altered")
    return fields


def _checked_readers(readers: dict) -> dict[str, bytes]:
    """{checksummed address: 64-byte public key}, refusing keys that do not belong to their address."""
    if not readers:
        raise InvalidInput("an envelope needs at least one reader")
    out = {}
    for address, key in readers.items():
        key = bytes.fromhex(key.removeprefix("0x")) if isinstance(key, str) else bytes(key)
        if len(key) == 65 and key[0] == 4:
            key = key[1:]
        if not is_address(address):
            raise InvalidInput(f"{address!r} is not an Ethereum address")
        if address_of(key) != to_checksum_address(address):
            raise InvalidInput(f"the public key given for {address} belongs to another address")
        out[to_checksum_address(address)] = key
    return out


def _private_bytes(private_key) -> bytes:
    key = getattr(private_key, "key", private_key)  # a LocalAccount, or the key itself
    if isinstance(key, str):
        key = bytes.fromhex(key.removeprefix("0x"))
    if len(key) != 32:
        raise InvalidInput("a private key is 32 bytes")
    return bytes(key)


def _unwrap(fields: dict, private_key) -> tuple[bytes, str]:
    """The data key, unwrapped with ``private_key`` and authenticated against the whole envelope."""
    key = _private_bytes(private_key)
    address = address_of(public_key(key))
    wrapped = fields["keys"].get(address)
    if wrapped is None:
        raise DecryptionError(f"{address} is not a reader of this envelope")
    try:
        data_key = decrypt(key, wrapped)
    except DecryptionError:
        raise DecryptionError(f"the data key wrapped for {address} does not decrypt: the envelope was altered") \
            from None
    body = {k: v for k, v in fields.items() if k != "mac"}
    if len(data_key) != 32 or not hmac.compare_digest(_mac(data_key, body), fields["mac"]):
        raise DecryptionError("the envelope was altered: its MAC does not match its content")
    return data_key, address


def seal(plaintext: bytes, readers: dict[str, bytes]) -> bytes:
    """Encrypts ``plaintext`` for ``readers``.

    @param plaintext the document
    @param readers {address: 64-byte uncompressed public key (x ‖ y)}; each key must belong to its address
    @return the envelope (format in the module docstring), ready for a store
    """
    if not isinstance(plaintext, (bytes, bytearray, memoryview)):
        raise InvalidInput(f"a document must be bytes, not {type(plaintext).__name__}")
    readers = _checked_readers(readers)
    data_key, nonce = os.urandom(32), os.urandom(12)
    body = {
        "t": _TYPE,
        "v": VERSION,
        "nonce": nonce,
        "ct": AESGCM(data_key).encrypt(nonce, bytes(plaintext), _AAD),
        "keys": {address: encrypt(key, data_key) for address, key in readers.items()},
    }
    return _encode(body, data_key)


def open_envelope(envelope: bytes, private_key) -> bytes:
    """Decrypts an envelope with a reader's key.

    @param envelope the envelope's bytes
    @param private_key the reader's private key (32 bytes, hex, or an eth-account LocalAccount)
    @return the plaintext
    @throws DecryptionError when this key is not a reader, or any byte of the envelope was altered
    """
    fields = _decode(envelope, DecryptionError)
    data_key, _ = _unwrap(fields, private_key)
    try:
        return AESGCM(data_key).decrypt(fields["nonce"], fields["ct"], _AAD)
    except InvalidTag:
        raise DecryptionError("the envelope's ciphertext was altered") from None


def add_reader(envelope: bytes, private_key, new_address: str, new_public_key: bytes) -> bytes:
    """Grants one more reader: the same data key, wrapped for ``new_public_key``; the ciphertext is unchanged.

    @param envelope the envelope
    @param private_key the key of a current reader (who alone can unwrap the data key)
    @param new_address the new reader's address
    @param new_public_key the new reader's 64-byte public key
    @return the new envelope (a new CID and integrity hash; the old one stays valid for the old readers)
    """
    fields = _decode(envelope, DecryptionError)
    data_key, _ = _unwrap(fields, private_key)
    (address, key), = _checked_readers({new_address: new_public_key}).items()
    body = {k: v for k, v in fields.items() if k != "mac"}
    body["keys"] = {**body["keys"], address: encrypt(key, data_key)}
    return _encode(body, data_key)


def readers(envelope: bytes) -> list[str]:
    """The addresses the envelope is wrapped for (as written; only a reader can authenticate the list)."""
    return list(_decode(envelope)["keys"])


def integrity_hash(envelope: bytes) -> bytes:
    """SHA-256 of the envelope's bytes (32 bytes): recorded on chain with the CID."""
    return hashlib.sha256(bytes(envelope)).digest()
