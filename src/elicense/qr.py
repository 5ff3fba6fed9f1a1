"""The compact presentation a wallet shows as a QR code (format in docs/presentation-format.md).

``EL1:`` followed by base45 (RFC 9285) of a CBOR array. Base45 keeps the QR code in alphanumeric
mode (5.5 bits a character), which every phone camera reads; the fields the verifier can work out
for itself are left out: the licence registry (from the chain id and the certificate type), the
licence id (from the disclosed data and the issuing agency, which the reference names: the issuing
block's event or the batch, and the holder's signature picks among candidates) and, for a batched
licence, the leaf and its Merkle proof (from the batch's bundle, whose hash the chain holds).

    [1, chainId, holder(20 B), notAfter, nonce(16 B), signature(65 B), disclosure, reference]

    disclosure  every field shown:  [certType, masterSalt(32 B), {name: value, ...}]
                some fields hidden: [certType, [[name, value, salt(32 B)] | leaf(32 B), ...]]  (by name)
    reference   a single licence: the number of the block that issued it (finds its event at once)
                a batched licence: the batch's Merkle root (32 B)
"""

from __future__ import annotations

import cbor2
from eth_utils import to_checksum_address

from . import types
from .errors import InvalidInput
from .licence import disclosure_hash, field_salt
from .presentation import Presentation
from .registries.licences import licence_id as licence_id_of

PREFIX = "EL1:"
VERSION = 1
NONCE_BYTES = 16  # the signed nonce is these bytes, left-padded to 32
MAX_CHAIN_ID = 2**53  # EIP-2294's bound, which JavaScript numbers still hold exactly
MAX_BLOCK = 2**63  # a block number any node accepts in a query
MAX_NAME = 64  # licence.LicenceDocument.new's bound on a field name
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


# ------------------------------------------------------------------ base45 (RFC 9285)

def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [ALPHABET[n % 45], ALPHABET[n // 45 % 45], ALPHABET[n // 2025]]
    if len(data) % 2:
        out += [ALPHABET[data[-1] % 45], ALPHABET[data[-1] // 45]]
    return "".join(out)


def b45decode(text: str) -> bytes:
    try:
        values = [_INDEX[c] for c in text]
    except KeyError as exc:
        raise InvalidInput(f"the QR payload has a character base45 does not use: {exc.args[0]!r}") from None
    if len(values) % 3 == 1:
        raise InvalidInput("the QR payload is cut short (base45 length)")
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i:i + 3]
        n = sum(v * 45**k for k, v in enumerate(chunk))
        if len(chunk) == 3:
            if n > 0xFFFF:
                raise InvalidInput("the QR payload is not valid base45")
            out += bytes([n >> 8, n & 0xFF])
        else:
            if n > 0xFF:
                raise InvalidInput("the QR payload is not valid base45")
            out.append(n)
    return bytes(out)


# ------------------------------------------------------------------ encode

def encode(p: Presentation, issued_block: int | None = None) -> str:
    """The QR text of a presentation; ``issued_block`` is needed for a licence not from a batch."""
    nonce = types.bytes32(p.nonce, "nonce")
    if any(nonce[:32 - NONCE_BYTES]):
        raise InvalidInput(f"a compact presentation needs a {NONCE_BYTES}-byte nonce")
    if p.batch is not None:
        reference = types.bytes32(p.batch["root"], "batch root")
    elif issued_block is None:
        raise InvalidInput("the block that issued the licence is needed for its QR code")
    else:
        reference = int(issued_block)
    item = [VERSION, p.chain_id, bytes.fromhex(p.holder[2:]), p.not_after, nonce[32 - NONCE_BYTES:],
            bytes.fromhex(p.signature.removeprefix("0x")), _compact_disclosure(p.disclosure), reference]
    return PREFIX + b45encode(cbor2.dumps(item))


def _compact_disclosure(disclosure: dict) -> list:
    cert_type = int(disclosure["type"])
    if "salt" in disclosure:  # every field shown, salts derived from the master salt
        return [cert_type, _hex(disclosure["salt"]), {e["name"]: e["value"] for e in disclosure["fields"]}]
    entries = []
    for e in disclosure["fields"]:
        entries.append(_hex(e["leaf"]) if "leaf" in e else [e["name"], e["value"], _hex(e["salt"])])
    return [cert_type, entries]


def _hex(value: str) -> bytes:
    return bytes.fromhex(str(value).removeprefix("0x"))


# ------------------------------------------------------------------ decode

def is_compact(text) -> bool:
    return isinstance(text, str) and text.strip().upper().startswith(PREFIX)


def decode(text: str, resolve) -> tuple[Presentation, dict]:
    """Parses QR text into a Presentation. ``resolve(chain_id, cert_type, reference, data_hash, holder)``
    returns (registry address or None, candidates) for this deployment: (agency code, batch dict or
    None) pairs the code may mean, those its reference names first. The licence id binds the agency,
    so the candidate whose id the holder signed is the one; with none, the first (whose signature
    then fails). Also returns the reference: {"block": n} or {"root": hex}."""
    item = _cbor(text)
    try:
        version, chain_id, holder, not_after, nonce, signature, disclosure, reference = item
    except (TypeError, ValueError):
        raise InvalidInput("the QR payload is not an elicense presentation (8 items expected)") from None
    if not types.is_uint(version, 2**8) or version != VERSION:
        raise InvalidInput(f"unsupported presentation version {_shown(version)} (this verifier reads version {VERSION})")
    _require(types.is_uint(chain_id, MAX_CHAIN_ID) and chain_id > 0, "chain id")
    _require(isinstance(holder, bytes) and len(holder) == 20, "holder address")
    _require(types.is_uint(not_after, 2**64), "validity window")
    _require(isinstance(nonce, bytes) and len(nonce) == NONCE_BYTES, "nonce")
    _require(isinstance(signature, bytes) and len(signature) == 65, "signature")
    full = _full_disclosure(disclosure)
    if isinstance(reference, bytes) and len(reference) == 32:
        ref = {"root": "0x" + reference.hex()}
    elif types.is_uint(reference, MAX_BLOCK):
        ref = {"block": reference}
    else:
        raise InvalidInput("malformed presentation: the reference is neither a block number nor a batch root")
    data_hash, _ = disclosure_hash(full)
    holder = to_checksum_address(holder)
    registry, candidates = resolve(chain_id, full["type"], ref, data_hash, holder)
    registry = to_checksum_address(registry or "0x" + "00" * 20)

    def meaning(agency: str, batch: dict | None) -> Presentation:
        licence_id = licence_id_of(chain_id, registry, agency or bytes(32), data_hash)
        return Presentation(chain_id, registry, holder, agency, "0x" + licence_id.hex(), full, not_after,
                            "0x" + (bytes(32 - NONCE_BYTES) + nonce).hex(), "0x" + signature.hex(), batch)

    first = None
    for agency, batch in candidates or ():
        p = meaning(agency, batch)
        if p.signer() == holder:
            return p, ref
        first = first or p
    return first or meaning("", None), ref


def _cbor(text: str):
    text = text.strip()
    if not is_compact(text):
        raise InvalidInput(f"the QR payload does not start with {PREFIX} (not an elicense presentation)")
    raw = b45decode(text[len(PREFIX):].upper())
    try:
        return cbor2.loads(raw)
    except Exception as exc:  # cbor2 raises its own decode errors, and ValueError/TypeError/EOFError
        raise InvalidInput(f"the QR payload is damaged (CBOR: {exc})") from None


def _shown(value) -> str:
    """A bad value as a short text for an error sentence (CBOR can carry anything, of any size)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return "a huge integer"
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # Python will not print an int of over 4,300 digits
        return "a value too large to show"
    return text if len(text) <= 40 else text[:37] + "..."


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise InvalidInput(f"malformed presentation: bad {what}")


def _full_disclosure(item) -> dict:
    """The disclosure in the long form that licence.disclosure_hash reads."""
    if not isinstance(item, list) or len(item) not in (2, 3) or not types.is_uint(item[0], 256):
        raise InvalidInput("malformed presentation: bad disclosure")
    cert_type = item[0]
    if len(item) == 3:
        salt, values = item[1], item[2]
        _require(isinstance(salt, bytes) and len(salt) == 32 and isinstance(values, dict) and values, "disclosure")
        _require(all(_name(n) for n in values), "field name")
        fields = []
        for name in sorted(values):
            fields.append({"name": name, "value": values[name], "salt": "0x" + field_salt(salt, name).hex()})
        return {"type": cert_type, "salt": "0x" + salt.hex(), "fields": fields}
    entries = item[1]
    _require(isinstance(entries, list) and entries, "disclosure")
    fields = []
    for e in entries:
        if isinstance(e, bytes) and len(e) == 32:
            fields.append({"leaf": "0x" + e.hex()})
        elif isinstance(e, list) and len(e) == 3 and _name(e[0]) and isinstance(e[2], bytes) and len(e[2]) == 32:
            fields.append({"name": e[0], "value": e[1], "salt": "0x" + e[2].hex()})
        else:
            raise InvalidInput("malformed presentation: bad disclosed field")
    return {"type": cert_type, "fields": fields}


def _name(name) -> bool:
    """A field name as licences have them: text that UTF-8 can encode (no lone surrogate)."""
    return isinstance(name, str) and 0 < len(name) <= MAX_NAME and types.encodes_utf8(name)
