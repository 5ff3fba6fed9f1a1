"""Licence attachments: large files (scans, PDFs) kept off chain, sealed, and bound to the licence.

An attachment is sealed (:mod:`elicense.storage.envelope`: AES-256-GCM under a fresh key, wrapped
with ECIES for each reader, normally the holder and the issuing signer) and stored in a
:class:`~elicense.storage.Storage` (the embedded folder or an IPFS node). What the licence gets is a
small *reference*, the value of one licence field::

    "attachment:<name>": {"name": "<name>", "media_type": "type/subtype", "size": <plaintext bytes>,
                          "cid": "Qm...", "sha256": "0x<SHA-256 of the sealed envelope>"}

Field convention: every field whose name starts with :data:`FIELD_PREFIX` (``attachment:``) is an
attachment reference, and the rest of its name is the attachment's file name. A licence field name
has at most 64 characters, so a file name has at most :data:`MAX_NAME_LENGTH` (53).

Since the reference is a licence field, its CID and envelope hash are committed in the licence's
on-chain data hash (as a salted leaf) and travel only inside the ciphertext encrypted to the holder:
neither the file, nor its plaintext hash, nor even its CID can be read from the chain. Reading the
file back checks the stored bytes against the committed SHA-256, opens the envelope with a reader's
key and checks the size, so a store can neither swap nor alter a file unnoticed.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import unicodedata
from pathlib import Path

from .errors import InvalidInput, NotFound
from .storage import Storage, StorageCorrupted, check_cid
from .storage import envelope

#: licence fields named ``attachment:<file name>`` hold attachment references
FIELD_PREFIX = "attachment:"
#: the largest attachment accepted, in bytes of plaintext (64 MiB)
MAX_SIZE = 64 * 1024 * 1024
#: a licence field name has at most 64 characters (licence.py), the prefix takes 11 of them
MAX_NAME_LENGTH = 64 - len(FIELD_PREFIX)
#: the keys of a reference, no more and no fewer
REFERENCE_KEYS = frozenset({"name", "media_type", "size", "cid", "sha256"})

# RFC 6838 restricted names: type "/" subtype, no parameters
_TOKEN = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}")
_SHA256 = re.compile(r"0x[0-9a-f]{64}")


def _human(size: int) -> str:
    """``size`` bytes for a message: "70.5 MiB (73924608 bytes)", "64 MiB", "1000 bytes"."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            text = f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
            return text if size % scale == 0 else f"{text} ({size} bytes)"
    return f"{size} bytes" if size != 1 else "1 byte"


def check_name(name) -> str:
    """The attachment's file name, or InvalidInput: 1 to 53 characters, no path separators or controls."""
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"an attachment needs a file name of 1 to {MAX_NAME_LENGTH} characters")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"the attachment name {name[:20]!r}… is {len(name)} characters long; "
                           f"the limit is {MAX_NAME_LENGTH}")
    if "/" in name or "\\" in name:
        raise InvalidInput(f"the attachment name {name!r} contains a path separator; give a file name only")
    if name in (".", "..") or name != name.strip() or any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise InvalidInput(f"the attachment name {name!r} is not a usable file name")
    return name


def check_media_type(media_type) -> str:
    """The media type in lower case, or InvalidInput unless it has the form type/subtype."""
    if not isinstance(media_type, str) or not _MEDIA_TYPE.fullmatch(media_type):
        raise InvalidInput(f"{media_type!r} is not a media type of the form type/subtype (e.g. application/pdf)")
    return media_type.lower()


def check_size(name: str, size: int) -> int:
    """``size`` bytes of attachment ``name``, or InvalidInput when empty or above :data:`MAX_SIZE`."""
    if size == 0:
        raise InvalidInput(f"the attachment {name!r} is empty")
    if size > MAX_SIZE:
        raise InvalidInput(f"the attachment {name!r} is {_human(size)}, more than the limit of {_human(MAX_SIZE)}")
    return size


def field_name(name: str) -> str:
    """The licence field that holds attachment ``name``'s reference."""
    return FIELD_PREFIX + check_name(name)


def check_reference(ref) -> dict:
    """A well-formed reference (a copy), or InvalidInput saying what is wrong with it."""
    def bad(why: str):
        return InvalidInput(f"malformed attachment reference: {why}")

    if not isinstance(ref, dict):
        raise bad(f"expected an object with {', '.join(sorted(REFERENCE_KEYS))}, got {type(ref).__name__}")
    if set(ref) != REFERENCE_KEYS:
        missing, extra = sorted(REFERENCE_KEYS - set(ref)), sorted(set(ref) - REFERENCE_KEYS)
        raise bad("; ".join(filter(None, [missing and f"it lacks {', '.join(missing)}",
                                          extra and f"unknown {', '.join(map(str, extra))}"])))
    try:
        name = check_name(ref["name"])
        media_type = check_media_type(ref["media_type"])
    except InvalidInput as exc:
        raise bad(exc.user_message) from None
    size = ref["size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise bad(f"size must be a positive number of bytes, not {size!r}")
    if not isinstance(ref["cid"], str):
        raise bad(f"cid must be text, not {ref['cid']!r}")
    try:
        cid = check_cid(ref["cid"])
    except InvalidInput as exc:
        raise bad(exc.user_message) from None
    digest = ref["sha256"]
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest.lower()):
        raise bad(f"sha256 must be 0x and 64 hex digits, not {digest!r}")
    return {"name": name, "media_type": media_type, "size": size, "cid": cid, "sha256": digest.lower()}


def attach(storage: Storage, data: bytes, name: str, media_type: str, readers: dict[str, bytes]) -> dict:
    """Seals a file for ``readers``, stores it, and returns its reference (a licence field value).

    @param storage where the sealed file goes
    @param data the file's bytes (1 byte to :data:`MAX_SIZE`)
    @param name its file name (no folders; 1 to :data:`MAX_NAME_LENGTH` characters)
    @param media_type e.g. ``application/pdf``
    @param readers {address: 64-byte public key}: the holder, and the issuing signer so the agency keeps access
    @return {"name", "media_type", "size", "cid", "sha256"}; ``sha256`` is of the sealed envelope
    """
    name, media_type = check_name(name), check_media_type(media_type)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidInput(f"the attachment {name!r} must be bytes, not {type(data).__name__}")
    size = check_size(name, len(data))
    sealed = envelope.seal(data, readers)
    cid = storage.add(sealed)
    from .storage.owners import Owner

    storage.ownership.claim(cid, Owner.attachment(), "attachment")  # not personal data: audits leave it be
    return {"name": name, "media_type": media_type, "size": size, "cid": cid,
            "sha256": "0x" + envelope.integrity_hash(sealed).hex()}


def fetch(storage: Storage, ref: dict, private_key) -> bytes:
    """The file a reference points to, checked and decrypted with a reader's key.

    @param storage the store holding the sealed file
    @param ref the reference (a licence field value)
    @param private_key a reader's key (32 bytes, hex, or an eth-account LocalAccount)
    @return the plaintext, exactly as attached
    @throws InvalidInput for a malformed reference
    @throws NotFound when the store does not hold the CID
    @throws StorageCorrupted when the stored bytes do not match the reference
    @throws DecryptionError when the key is not a reader's
    """
    ref = check_reference(ref)
    cid, name = ref["cid"], ref["name"]
    sealed = storage.get(cid)
    if "0x" + hashlib.sha256(sealed).hexdigest() != ref["sha256"]:
        raise StorageCorrupted(f"the file stored under {cid} is not the attachment {name!r} the licence "
                               f"committed to: its SHA-256 differs")
    data = envelope.open_envelope(sealed, private_key)
    if len(data) != ref["size"]:
        raise StorageCorrupted(f"the attachment {name!r} ({cid}) decrypts to {len(data)} bytes, "
                               f"not the {ref['size']} the licence committed to")
    return data


def references(fields: dict) -> dict[str, dict]:
    """The attachment references among a licence's fields, {file name: reference}, checked."""
    found = {}
    for key in sorted(k for k in fields if isinstance(k, str)):
        if key.startswith(FIELD_PREFIX):
            ref = check_reference(fields[key])
            if ref["name"] != key[len(FIELD_PREFIX):]:
                raise InvalidInput(f"malformed attachment reference: field {key!r} names {ref['name']!r}")
            found[ref["name"]] = ref
    return found


def pick(refs: dict[str, dict], name: str) -> dict:
    """Attachment ``name``'s reference from :func:`references`' result, or NotFound listing what there is."""
    if name not in refs:
        has = f"it has {', '.join(map(repr, refs))}" if refs else "it has none"
        raise NotFound(f"the licence has no attachment {name!r} ({has})")
    return refs[name]


def find(fields: dict, name: str) -> dict:
    """Attachment ``name``'s reference among a licence's fields (a dict, or a document with ``fields``)."""
    return pick(references(getattr(fields, "fields", fields)), name)


def check_fields(fields: dict, names=()) -> None:
    """Refuses licence fields with malformed attachment references, and ``names`` (new attachments)
    that repeat each other or a reference already among ``fields``."""
    existing = references(fields)
    seen = set()
    for name in names:
        check_name(name)
        if name in seen or name in existing:
            raise InvalidInput(f"the licence would have two attachments named {name!r}")
        seen.add(name)


def read_file(path: str | os.PathLike, media_type: str | None = None) -> tuple[str, bytes, str]:
    """A file from disk as (name, bytes, media type), the media type guessed from its name when not
    given (``application/octet-stream`` when unknown); refused before reading when too large."""
    path = Path(path)
    name = check_name(path.name)
    try:
        if path.is_dir():
            raise InvalidInput(f"the attachment {str(path)!r} is a folder, not a file")
        check_size(name, path.stat().st_size)
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the attachment {str(path)!r}: {exc.strerror or exc}") from None
    check_size(name, len(data))
    if media_type is None:
        media_type = mimetypes.guess_type(path.name, strict=False)[0] or "application/octet-stream"
    return name, data, check_media_type(media_type)


__all__ = ["FIELD_PREFIX", "MAX_SIZE", "MAX_NAME_LENGTH", "attach", "fetch", "references", "find", "pick", "field_name",
           "check_reference", "check_fields", "check_name", "check_media_type", "read_file"]
