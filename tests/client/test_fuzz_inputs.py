"""Attack 10: malformed structured input never escapes the parsers as anything but an ElicenseError
(a 4xx and a sentence at the API, a one-line error at the CLI).

Hypothesis builds each input valid first and then breaks it where parsers are tempted to trust it:
QR codes (EL1: + base45 of the CBOR array) with items of the wrong type or size, huge integers and
nested junk; JSON presentations with the right keys holding wrong types, huge numbers, lone
surrogates and deep nesting; batch CSVs with odd headers, holders, validity columns, BOMs and
quotes; sealed envelopes with wrong keys and lengths. Each goes through the parser and through what
the verifier does next with it. No chain is needed: thousands of examples in well under a minute,
derandomized so a run is repeatable. The same inputs over HTTP: tests/web/test_fuzz_api.py.
"""

from __future__ import annotations

import csv
import io
import json

import cbor2
from eth_account import Account
from hypothesis import HealthCheck, example, given, settings, strategies as st

from elicense import qr, types
from elicense.batch import batch_args, parse_csv
from elicense.crypto import public_key
from elicense.errors import ElicenseError
from elicense.licence import LicenceDocument, disclosure_hash
from elicense.presentation import Presentation
from elicense.storage import envelope

FUZZ = settings(max_examples=500, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

HOLDER = Account.from_key(b"\x11" * 32)
READER = Account.from_key(b"\x22" * 32)
FIELDS = {"name": "Alice Example", "degree": "MSc", "10": 7, "notes": {"a": [1, "b"]}}
DOCUMENT = LicenceDocument(3, "EDU-UH", HOLDER.address, FIELDS, b"\x33" * 32, 0, types.FOREVER)
REGISTRY = "0x" + "22" * 20


def presentation(names, batch=None) -> Presentation:
    """A well-formed presentation (its signature is not checked by the parsers, only its shape)."""
    return Presentation(31337, Account.from_key(b"\x44" * 32).address, HOLDER.address, "EDU-UH", "0x" + "55" * 32,
                        DOCUMENT.disclose(names), 1_900_000_000, "0x" + "00" * 16 + "66" * 16, "0x" + "77" * 65, batch)


BATCH = {"root": "0x" + "88" * 32, "leaf": [HOLDER.address, "0x" + "99" * 32, 0, types.FOREVER, "0x" + "aa" * 32],
         "proof": ["0x" + "bb" * 32]}
BASES = [presentation(None), presentation(["degree"]), presentation([]), presentation(["notes", "10"], BATCH)]

# ---------------------------------------------------------------- junk

SURROGATES = st.sampled_from(["\ud800", "\udfff", "a\udcff", "\ud83d"])
TEXT = st.one_of(st.text(max_size=12), SURROGATES, st.sampled_from(["", "0x", "0x" + "ab" * 32, "0x" + "cd" * 20,
                                                                     "never", "2024-02-30", "9" * 40, "١٢٣"]))
INTS = st.one_of(st.integers(-3, 300), st.sampled_from([2**53, 2**63, 2**64, 2**64 - 1, 2**256, -(2**70), 10**400]))
BIGNUMS = st.one_of(INTS, st.just(5000).map(lambda n: 10**n))  # more digits than Python prints; CBOR carries it, json.dumps cannot
SCALARS = st.one_of(st.none(), st.booleans(), BIGNUMS, st.floats(allow_nan=True), TEXT,
                    st.binary(max_size=3), st.sampled_from([b"\0" * 16, b"\1" * 20, b"\2" * 32, b"\3" * 65]))
JUNK = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(TEXT, INTS), inner, max_size=3)), max_leaves=12)


def deep(depth: int):
    value = []
    for _ in range(depth):
        value = [value]
    return value


# fresh objects each draw (a shared one could end up inside itself); deeper: see the @example texts
DEEP = st.one_of(st.sampled_from([40, 400]).map(deep), st.just(100).map(lambda n: {"a": deep(n)}))


def json_junk():
    """What a JSON document can hold (no bytes; floats and surrogates included: JSON allows both)."""
    return st.one_of(st.recursive(st.one_of(st.none(), st.booleans(), INTS, st.floats(allow_nan=False), TEXT),
                                  lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(TEXT, inner, max_size=3)), max_leaves=10),
                     DEEP)


def only_elicense_errors(call, *args):
    """Runs the parser: a result or an ElicenseError with a sentence; anything else fails the test."""
    try:
        return call(*args)
    except ElicenseError as exc:
        assert exc.user_message and "\n" not in exc.user_message and len(exc.user_message) < 2_000, exc.user_message
        return None


# ---------------------------------------------------------------- QR codes

def _resolve(chain_id, cert_type, ref, data_hash, holder):
    """The registry and the (agency, batch) candidates a deployment would offer."""
    return REGISTRY, [("UNI-FUZZ", {**BATCH, "agency": "UNI-FUZZ"} if "root" in ref else None)]


def decode_all_the_way(text: str) -> None:
    """What the verifier does with QR text before it asks the chain anything."""
    decoded = only_elicense_errors(qr.decode, text, _resolve)
    if decoded is not None:
        p, ref = decoded
        only_elicense_errors(p.signed_tuple)
        only_elicense_errors(disclosure_hash, p.disclosure)
        assert isinstance(p.chain_id, int) and 0 < p.chain_id < 2**53
        assert ("block" in ref and 0 <= ref["block"] < 2**63) or len(ref["root"]) == 66


def _items(base: Presentation, reference) -> list:
    return cbor2.loads(qr.b45decode(qr.encode(base, issued_block=reference)[len(qr.PREFIX):]))


@st.composite
def qr_texts(draw):
    base = draw(st.sampled_from(BASES))
    item = _items(base, draw(st.sampled_from([5, 0, 2**62])))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["item", "disclosure", "field", "length"]))
        whole = len(item) == 8
        if where == "item" and item:
            item[draw(st.integers(0, len(item) - 1))] = draw(JUNK)
        elif where == "disclosure" and whole and isinstance(item[6], list) and item[6]:
            item[6][draw(st.integers(0, len(item[6]) - 1))] = draw(JUNK)
        elif where == "field" and whole and isinstance(item[6], list) and len(item[6]) >= 2:
            shown = item[6][-1]
            if isinstance(shown, dict) and shown:  # every field shown: {name: value}
                name = draw(st.sampled_from(list(shown)))
                shown[draw(st.one_of(TEXT, INTS, st.just(name)))] = draw(JUNK)
            elif isinstance(shown, list) and shown:  # some hidden: [[name, value, salt] | leaf]
                i = draw(st.integers(0, len(shown) - 1))
                if isinstance(shown[i], list) and shown[i]:
                    shown[i][draw(st.integers(0, len(shown[i]) - 1))] = draw(JUNK)
                else:
                    shown[i] = draw(JUNK)
        elif where == "length":
            item = item + [draw(JUNK)] if draw(st.booleans()) else item[:draw(st.integers(0, 7))]
    if draw(st.integers(0, 9)) == 0:
        item = cbor2.CBORTag(draw(st.integers(0, 2**20)), item)
    try:
        raw = cbor2.dumps(item)
    except (UnicodeEncodeError, ValueError, TypeError):  # CBOR text cannot hold a lone surrogate: damage bytes instead
        raw = cbor2.dumps(_items(base, 5))
    if draw(st.integers(0, 9)) == 0:  # now and then, the bytes themselves
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=3)) + raw[at + 1:]
    return qr.PREFIX + qr.b45encode(raw)


@FUZZ
@given(qr_texts())
@example(qr.PREFIX + qr.b45encode(cbor2.dumps([1, 2**70, b"\1" * 20, 1, b"\0" * 16, b"\2" * 65,
                                                [3, [b"\3" * 32]], 5])))  # the reported huge chain id
@example(qr.PREFIX + qr.b45encode(cbor2.dumps([1, 31337, b"\1" * 20, 1, b"\0" * 16, b"\2" * 65,
                                                [3, [b"\3" * 32]], 2**70])))  # the reported huge block number
@example(qr.PREFIX + qr.b45encode(cbor2.dumps([1, 31337, b"\1" * 20, 1, b"\0" * 16, b"\2" * 65,
                                                [3, b"\4" * 32, {"a": 1, 2: "b"}], 5])))  # mixed-type field names
def test_no_qr_code_breaks_the_decoder(text):
    decode_all_the_way(text)


@FUZZ
@given(st.one_of(st.text(max_size=60), st.text(alphabet=qr.ALPHABET, max_size=200).map(lambda t: qr.PREFIX + t),
                 st.binary(max_size=120).map(lambda b: "el1:" + qr.b45encode(b).lower() + " ")))
def test_no_text_breaks_the_qr_decoder(text):
    decode_all_the_way(text)


# ---------------------------------------------------------------- JSON presentations

@st.composite
def json_presentations(draw):
    data = draw(st.sampled_from(BASES)).to_json()
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["top", "drop", "disclosure", "entry", "batch"]))
        if where == "top":
            data[draw(st.sampled_from(sorted(data)))] = draw(json_junk())
        elif where == "drop":
            data.pop(draw(st.sampled_from(sorted(data))), None)
        elif where == "disclosure" and isinstance(data.get("disclosure"), dict):
            data["disclosure"][draw(st.sampled_from(["type", "fields", "salt", "extra"]))] = draw(json_junk())
        elif where == "entry" and isinstance(data.get("disclosure"), dict) and isinstance(
                data["disclosure"].get("fields"), list) and data["disclosure"]["fields"]:
            entries = data["disclosure"]["fields"]
            entry = entries[draw(st.integers(0, len(entries) - 1))]
            if isinstance(entry, dict):
                entry[draw(st.sampled_from(["name", "value", "salt", "leaf"]))] = draw(json_junk())
        elif where == "batch":
            batch = dict(BATCH, leaf=list(BATCH["leaf"]), proof=list(BATCH["proof"]))
            part = draw(st.sampled_from(["root", "leaf", "proof", "leaf-item"]))
            if part == "leaf-item":
                batch["leaf"][draw(st.integers(0, 4))] = draw(json_junk())
            else:
                batch[part] = draw(json_junk())
            data["batch"] = batch
    return json.dumps(data)  # surrogates travel as \ud800 escapes, as they would over HTTP


@FUZZ
@given(json_presentations())
@example(json.dumps(presentation(None).to_json() | {"disclosure": {"type": 3, "fields": [
    {"name": 1, "value": "x", "salt": "0x" + "00" * 32}, {"name": "a", "value": "y", "salt": "0x" + "00" * 32}]}}))
@example(json.dumps(presentation(["degree"], dict(BATCH, leaf=[HOLDER.address, "0x" + "99" * 32, "soon", 0,
                                                                "0x" + "aa" * 32])).to_json()))  # non-numeric validity
@example(json.dumps(presentation(None).to_json() | {"disclosure": {"type": 3, "fields": [
    {"name": "name", "value": "\ud800", "salt": "0x" + "00" * 32}]}}))  # a lone surrogate
@example('{"v": 1, "disclosure": ' + "[" * 100_000 + "]" * 100_000 + "}")  # nested past the recursion limit
@example('{"v": 1, "chain_id": %s}' % ("9" * 5_000))
def test_no_json_presentation_breaks_the_parser(text):
    p = only_elicense_errors(Presentation.parse, text)
    if p is not None:
        only_elicense_errors(p.signed_tuple)
        only_elicense_errors(disclosure_hash, p.disclosure)
        assert all(isinstance(n, str) for n in p.disclosed_names)
        if p.batch is not None:
            batch_args(p.batch)  # parse checked it: no error here


# ---------------------------------------------------------------- licence documents and fields

@FUZZ
@given(st.one_of(st.dictionaries(TEXT, json_junk(), max_size=4), json_junk()))
@example({"name": "\ud800"})
@example({"\udcff": 1})
@example({"n": 2**64})
def test_no_licence_fields_break_the_canonical_encoding(fields):
    document = only_elicense_errors(LicenceDocument.new, 3, "EDU", HOLDER.address, fields, 0, 1)
    if document is not None:
        assert LicenceDocument.from_bytes(document.to_bytes()).data_hash == document.data_hash


@FUZZ
@given(st.one_of(json_junk().map(json.dumps), st.binary(max_size=40),
                 st.dictionaries(st.sampled_from(["v", "type", "agency", "holder", "validFrom", "validUntil", "fields",
                                                  "salt"]), json_junk(), max_size=8).map(json.dumps)))
@example(b'{"fields": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
def test_no_bytes_break_the_licence_document_reader(raw):
    only_elicense_errors(LicenceDocument.from_bytes, raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass"))


# ---------------------------------------------------------------- batch CSVs

CELL = st.one_of(TEXT, st.sampled_from([HOLDER.address, HOLDER.address.lower(), " " + READER.address + " ", "2024-01-01",
                                        "2024-01-01T10:00:00+02:00", "1700000000", "0", "-5", "1e9", "\"quoted\"",
                                        "a,b", "line\nbreak", "\ufeff", "never"]))


@st.composite
def csv_texts(draw):
    extra = draw(st.lists(st.one_of(TEXT, st.sampled_from(["name", "degree", "x" * 70, "holder", ""])), max_size=3))
    header = draw(st.permutations(["holder", *draw(st.sets(st.sampled_from(["valid_from", "valid_until"]))), *extra]))
    out = io.StringIO()
    writer = csv.writer(out, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
                        lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
    writer.writerow(header)
    for _ in range(draw(st.integers(0, 4))):
        writer.writerow([draw(CELL) for _ in range(len(header) + draw(st.sampled_from([0, 0, 0, 1, -1])))])
    text = out.getvalue()
    return ("\ufeff" if draw(st.booleans()) else "") + text


@FUZZ
@given(csv_texts())
@example(f"holder,name,valid_until\n{HOLDER.address},A,soon\n")  # a non-numeric validity
@example(f"\ufeffholder,name\n{HOLDER.address},\ud800\n")
@example(f"holder,name,valid_from\n{HOLDER.address},A,{'9' * 40}\n")
def test_no_csv_breaks_the_batch_reader(text):
    try:
        text.encode()
    except UnicodeEncodeError:
        files = []  # a file cannot hold a lone surrogate; the API's JSON string can
    else:
        files = [io.StringIO(text, newline="")]
    for lines in [text.splitlines(), *files]:  # the API splits lines; the CLI reads a file
        rows = only_elicense_errors(parse_csv, lines, types.parse_time)
        for row in rows or []:
            assert row.holder == types.address(row.holder) and 0 <= row.valid_until <= types.FOREVER
            assert all(0 < len(name) <= 64 for name in row.fields)


def test_a_spreadsheet_bom_before_the_header_is_not_a_column_name():
    [row] = parse_csv(io.StringIO(f"\ufeffholder,name\n{HOLDER.address},A\n", newline=""), types.parse_time)
    assert row.fields == {"name": "A"}


# ---------------------------------------------------------------- sealed envelopes

SEALED = envelope.seal(b"a document", {READER.address: public_key(READER)})
ENVELOPE_KEYS = ["t", "v", "nonce", "ct", "keys", "mac", "extra"]


@st.composite
def envelopes(draw):
    fields = cbor2.loads(SEALED)
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(ENVELOPE_KEYS))
        if draw(st.integers(0, 4)) == 0:
            fields.pop(key, None)
        elif key == "keys" and draw(st.booleans()):
            fields["keys"] = {draw(st.one_of(TEXT, INTS, st.just(READER.address))): draw(SCALARS)}
        else:
            fields[key] = draw(JUNK)
    try:
        raw = cbor2.dumps(fields, canonical=draw(st.booleans()))
    except (UnicodeEncodeError, ValueError, TypeError):
        raw = SEALED
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=2)) + raw[at + 1:]
    return raw


@FUZZ
@given(st.one_of(envelopes(), st.binary(max_size=80)))
@example(SEALED)
def test_no_envelope_breaks_the_reader(raw):
    only_elicense_errors(envelope.readers, raw)
    opened = only_elicense_errors(envelope.open_envelope, raw, READER)
    assert opened in (None, b"a document")
    only_elicense_errors(envelope.add_reader, raw, READER, HOLDER.address, public_key(HOLDER))
