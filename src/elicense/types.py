"""Small shared vocabulary: certificate types, roles, organisation codes, addresses."""

from __future__ import annotations

from eth_utils import is_address, to_checksum_address

from .errors import InvalidInput

# Certificate types of seed 002, one side chain (LicenseRegistry) each.
CERT_TYPES = {"marriage": 1, "real-estate": 2, "degree": 3, "business-licence": 4, "health-licence": 5}
CERT_TYPE_NAMES = {v: k for k, v in CERT_TYPES.items()}

ROLES = {"holder": 1, "issuer": 2, "inspector": 3, "authority": 4}
ROLE_NAMES = {v: k for k, v in ROLES.items()}

CLOSE_REASONS = {"death": 1, "citizenship": 2, "other": 3}

LICENCE_STATUS = ["none", "active", "suspended", "revoked", "renewed", "expired", "not-yet-valid", "record-closed"]

ZERO_ADDRESS = "0x" + "00" * 20
FOREVER = 2**40 - 1  # validUntil for a licence with no end (uint40 max)


def cert_type(value: str | int) -> int:
    if isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit()):
        number = int(value)
        if number in CERT_TYPE_NAMES:
            return number
    elif value in CERT_TYPES:
        return CERT_TYPES[value]
    raise InvalidInput(f"unknown certificate type {value!r}; use one of {', '.join(CERT_TYPES)}")


def role(value: str) -> int:
    try:
        return ROLES[value.lower()]
    except (KeyError, AttributeError):
        raise InvalidInput(f"unknown role {value!r}; use one of {', '.join(ROLES)}") from None


def address(value: str, what: str = "address") -> str:
    if not isinstance(value, str) or not is_address(value):
        raise InvalidInput(f"malformed {what} {value!r}: expected 0x followed by 40 hex digits")
    return to_checksum_address(value)


def org_code(value: str) -> bytes:
    """Organisation code as bytes32: ASCII, left-aligned, at most 32 characters."""
    if not isinstance(value, str) or not value or len(value) > 32 or not value.isascii() or not value.isprintable():
        raise InvalidInput(f"malformed organisation code {value!r}: 1 to 32 printable ASCII characters")
    return value.encode().ljust(32, b"\0")


def code_text(raw: bytes) -> str:
    return bytes(raw).rstrip(b"\0").decode("ascii", "replace")


def hex_bytes(value: str, what: str) -> bytes:
    """0x-prefixed (or bare) hex as bytes; InvalidInput naming ``what`` otherwise."""
    try:
        return bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise InvalidInput(f"malformed {what}: expected 0x-prefixed hex") from None


def bytes32(value: str | bytes, what: str = "value") -> bytes:
    if isinstance(value, (bytes, bytearray)) and len(value) == 32:
        return bytes(value)
    if isinstance(value, str):
        text = value[2:] if value.startswith("0x") else value
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = b""
        if len(raw) == 32:
            return raw
    raise InvalidInput(f"malformed {what} {value!r}: expected 32 bytes as 0x + 64 hex digits")


def parse_time(value: str) -> int:
    """Unix seconds from YYYY-MM-DD, an ISO date-time (UTC unless it says), unix seconds, or 'never'."""
    import datetime as dt

    value = value.strip()
    if value in ("never", "forever"):
        return FOREVER
    try:
        if value.isascii() and value.isdigit():
            seconds = int(value)
        else:
            moment = dt.datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.timezone.utc)
            seconds = int(moment.timestamp())
    except (ValueError, OverflowError):
        raise InvalidInput(f"malformed time {value[:40]!r}: use YYYY-MM-DD, an ISO date-time, unix seconds or 'never'") \
            from None
    if not 0 <= seconds <= FOREVER:
        raise InvalidInput(f"the time {value[:40]!r} is out of range (1970 to the licence format's end of time)")
    return seconds


def is_uint(value, bound: int) -> bool:
    """An integer in [0, bound); booleans (JSON's and CBOR's true) are not numbers here."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < bound


def encodes_utf8(text: str) -> bool:
    """Whether UTF-8 can encode ``text``: not when it holds a lone UTF-16 surrogate (JSON's "\\ud800"
    escape allows one; UTF-8, keccak and every store refuse it)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def utf8_text(value, depth: int = 0):
    """``value`` (parsed JSON) unchanged, or ValueError if a text in it, key or value, holds a lone
    UTF-16 surrogate (JSON's "\\ud800" escape allows one; UTF-8, keccak and every store refuse it)."""
    if depth > 64:
        raise ValueError("the request is nested more than 64 levels deep")
    if isinstance(value, str):
        if not encodes_utf8(value):
            raise ValueError("a text holds a lone UTF-16 surrogate, which is not Unicode text")
    elif isinstance(value, dict):
        for k, v in value.items():
            utf8_text(k, depth + 1)
            utf8_text(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            utf8_text(v, depth + 1)
    return value


def jsonable(value):
    """``value`` with bytes as 0x-hex, tuples as lists, recursively: ready for json.dumps."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value
