"""Keys, keystores and ECIES: the holder's key pair decrypts what was issued to it, nobody else's."""

from __future__ import annotations

import ecies
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

from .errors import DecryptionError, InvalidInput, KeystoreError


def new_account() -> LocalAccount:
    return Account.create()


def public_key(account_or_key: LocalAccount | bytes | str) -> bytes:
    """The 64-byte uncompressed public key (x ‖ y, no 0x04 prefix) of a private key."""
    key = account_or_key.key if isinstance(account_or_key, LocalAccount) else account_or_key
    if isinstance(key, str):
        key = bytes.fromhex(key.removeprefix("0x"))
    return keys.PrivateKey(bytes(key)).public_key.to_bytes()


def address_of(public: bytes) -> str:
    if len(public) != 64:
        raise InvalidInput(f"public key must be 64 bytes, got {len(public)}")
    return to_checksum_address(keccak(public)[-20:])


def encrypt(public: bytes, plaintext: bytes) -> bytes:
    """ECIES over secp256k1 (eciespy: ephemeral key, HKDF-SHA256, AES-256-GCM) to ``public``."""
    if len(public) != 64:
        raise InvalidInput(f"public key must be 64 bytes, got {len(public)}")
    return ecies.encrypt(b"\x04" + public, plaintext)


def decrypt(private_key: bytes | str, ciphertext: bytes) -> bytes:
    if isinstance(private_key, str):
        private_key = bytes.fromhex(private_key.removeprefix("0x"))
    try:
        return ecies.decrypt(bytes(private_key), bytes(ciphertext))
    except Exception:  # eciespy raises ValueError or crypto errors alike
        raise DecryptionError("this key cannot decrypt the licence: it was encrypted to another holder, or altered") from None


def encrypt_keystore(account: LocalAccount, password: str) -> dict:
    """Web3 Secret Storage v3 (scrypt), the format geth and eth-account use."""
    if not password:
        raise InvalidInput("a keystore needs a non-empty password")
    return Account.encrypt(account.key, password)


def decrypt_keystore(keystore: dict, password: str) -> LocalAccount:
    try:
        return Account.from_key(Account.decrypt(keystore, password))
    except ValueError:
        raise KeystoreError("wrong password for this keystore, or the keystore is damaged") from None
