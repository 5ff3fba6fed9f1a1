"""Property tests: the licence commitment and canonical JSON over random data, and random sequences
that drive issue/renew/suspend/reinstate/revoke/close through the client against a Python model."""

from __future__ import annotations

import itertools
import json

import pytest
from eth_abi import encode
from eth_utils import keccak
from hypothesis import HealthCheck, example, given, settings, strategies as st

from conftest import make_agency, register
from elicense import Conflict, InvalidInput, types
from elicense.licence import LicenceDocument, canonical, disclosure_hash

SETTINGS = settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))

# JSON values a licence may hold: no floats and no integers beyond ±(2^53 - 1) (neither round-trips
# between languages; canonical() refuses both, as the pages do).
scalars = st.none() | st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1) | st.text(max_size=12)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
names = st.text(min_size=1, max_size=16)
field_dicts = st.dictionaries(names, values, min_size=1, max_size=5)
cert_types = st.sampled_from(sorted(types.CERT_TYPE_NAMES))


def document(cert_type: int, fields: dict) -> LicenceDocument:
    return LicenceDocument.new(cert_type, "AGENCY", "0x" + "11" * 20, fields, 0, types.FOREVER)


@SETTINGS
@given(cert_types, field_dicts)
def test_every_subset_of_disclosed_fields_recomputes_the_commitment(cert_type, fields):
    doc = document(cert_type, fields)
    for size in range(len(fields) + 1):
        for shown in itertools.combinations(sorted(fields), size):
            data_hash, disclosed = disclosure_hash(doc.disclose(list(shown)))
            assert data_hash == doc.data_hash
            assert disclosed == {n: fields[n] for n in shown}


@SETTINGS
@given(cert_types, field_dicts, st.data())
def test_changing_any_disclosed_value_changes_the_hash(cert_type, fields, data):
    doc = document(cert_type, fields)
    disclosure = doc.disclose()
    for entry in disclosure["fields"]:
        original = entry["value"]
        entry["value"] = data.draw(values.filter(lambda v: canonical(v) != canonical(original)), label=entry["name"])
        assert disclosure_hash(disclosure)[0] != doc.data_hash
        entry["value"] = original
    assert disclosure_hash(disclosure)[0] == doc.data_hash  # and only that changed it


@SETTINGS
@given(cert_types, field_dicts)
def test_the_commitment_binds_names_salts_and_type(cert_type, fields):
    doc = document(cert_type, fields)
    entry = doc.disclose()["fields"][0]
    for changed in ({**entry, "name": entry["name"] + "x"}, {**entry, "salt": "0x" + "00" * 32}):
        disclosure = doc.disclose()
        disclosure["fields"][0] = changed
        assert disclosure_hash(disclosure)[0] != doc.data_hash
    other_type = doc.disclose() | {"type": cert_type % 5 + 1}
    assert disclosure_hash(other_type)[0] != doc.data_hash


@SETTINGS
@given(field_dicts, st.randoms())
def test_canonical_json_is_stable_under_key_order(fields, rnd):
    def shuffled(value):
        if isinstance(value, dict):
            items = list(value.items())
            rnd.shuffle(items)
            return {k: shuffled(v) for k, v in items}
        if isinstance(value, list):
            return [shuffled(v) for v in value]
        return value

    reordered = shuffled(fields)
    assert canonical(reordered) == canonical(fields)
    assert json.loads(canonical(fields)) == fields
    fresh = document(3, fields)
    same = LicenceDocument(3, fresh.agency, fresh.holder, reordered, fresh.salt, 0, types.FOREVER)
    assert same.data_hash == fresh.data_hash


@SETTINGS
@given(st.floats(allow_nan=False), field_dicts)
def test_a_float_anywhere_is_refused(number, fields):
    with pytest.raises(InvalidInput, match="floating-point"):
        canonical({**fields, "nested": [{"x": number}]})


# ---------------------------------------------------------------- sequences: licence lifecycle vs a model


def record_head(previous: bytes, kind: int, subject: bytes, block: int) -> bytes:
    """LicenseRegistry._appendRecord: head = keccak(abi.encode(head, keccak(abi.encode(kind, subject, block))))."""
    entry = keccak(encode(["uint8", "bytes32", "uint256"], [kind, subject, block]))
    return keccak(encode(["bytes32", "bytes32"], [previous, entry]))


ISSUED, SUSPENDED, REINSTATED, REVOKED, CLOSED = range(5)  # ILicenseRegistry.RecordKind
OPS = ["issue", "renew", "suspend", "reinstate", "revoke", "close"]


class LicenceModel:
    """The licences of two holders as the contract should see them. Each step calls the client;
    the model says whether it must succeed (and what changes) or be refused with Conflict."""

    def __init__(self, client, agency, holders, civil):
        self.client, self.agency, self.civil = client, agency, civil.client  # the civil registry closes records
        self.registry = client.licences("degree")
        self.holders = holders
        self.licences: list[str] = []  # in issue order; steps pick one by index
        self.mark = {}  # licence id -> active | suspended | revoked | renewed (the contract's own marks)
        self.owner = {}  # licence id -> holder address
        self.closed = {h: False for h in holders}
        self.head = {h: b"\0" * 32 for h in holders}  # each holder's record head, recomputed here
        self.done: set[str] = set()  # "op" or "op-refused", for the coverage check

    def status(self, licence_id: str) -> str:
        mark = self.mark[licence_id]
        if mark in ("revoked", "renewed"):
            return mark
        return "record-closed" if self.closed[self.owner[licence_id]] else mark

    def append(self, holder: str, kind: int, subject: str, block: int) -> None:
        self.head[holder] = record_head(self.head[holder], kind, types.bytes32(subject), block)

    def refused(self, op: str, call, match: str) -> None:
        with pytest.raises(Conflict, match=match):
            call()
        self.done.add(f"{op}-refused")

    def step(self, op: str, index: int) -> None:
        agency, code = self.agency.client, self.agency.code
        if op in ("issue", "close") or not self.licences:
            holder = self.holders[index % len(self.holders)]
            closed = f"the record of holder {holder} is closed"
            if op == "close":
                if self.closed[holder]:
                    return self.refused(op, lambda: self.civil.close_record("degree", holder, "other"), closed)
                tx = self.civil.close_record("degree", holder, "other")
                self.closed[holder] = True
                self.append(holder, CLOSED, "0x" + "00" * 32, tx.block_number)
                op = "close"
            else:
                fields = {"degree": f"step {len(self.licences)}"}
                if self.closed[holder]:
                    return self.refused(
                        "issue", lambda: agency.send_certification(holder, code, "degree", fields), closed)
                issued = agency.send_certification(holder, code, "degree", fields)
                self._new(issued, holder)
                op = "issue"
            self.done.add(op)
            return None
        licence = self.licences[index % len(self.licences)]
        holder, mark = self.owner[licence], self.mark[licence]
        closed = f"the record of holder {holder} is closed"
        wrong = f"licence {licence} is "
        if op == "renew":
            if mark in ("revoked", "renewed") or self.closed[holder]:
                return self.refused(
                    op, lambda: agency.renew("degree", licence, {"degree": "renewed"}), f"{wrong}|{closed}")
            renewed = agency.renew("degree", licence, {"degree": "renewed"})
            assert renewed.previous == licence
            self.mark[licence] = "renewed"
            self._new(renewed, holder)
        elif op == "suspend":
            if self.status(licence) != "active":
                return self.refused(op, lambda: agency.suspend("degree", licence, 1), wrong)
            self.mark[licence] = "suspended"
            self.append(holder, SUSPENDED, licence, agency.suspend("degree", licence, 1).block_number)
        elif op == "reinstate":
            if mark != "suspended" or self.closed[holder]:
                return self.refused(op, lambda: agency.reinstate("degree", licence), f"{wrong}|{closed}")
            self.mark[licence] = "active"
            self.append(holder, REINSTATED, licence, agency.reinstate("degree", licence).block_number)
        elif op == "revoke":
            if mark == "revoked" or self.closed[holder]:  # the closing entry is final
                return self.refused(op, lambda: agency.revoke("degree", licence, 1), f"{wrong}revoked|{closed}")
            self.mark[licence] = "revoked"
            self.append(holder, REVOKED, licence, agency.revoke("degree", licence, 1).block_number)
        self.done.add(op)
        return None

    def _new(self, issued, holder) -> None:
        self.licences.append(issued.licence_id)
        self.mark[issued.licence_id], self.owner[issued.licence_id] = "active", holder
        self.append(holder, ISSUED, issued.licence_id, issued.block_number)

    def check(self) -> None:
        """Every status, each holder's record head and closed flag agree with the chain."""
        for licence_id in self.licences:
            assert self.registry.licence(types.bytes32(licence_id)).status == self.status(licence_id), licence_id
        for holder in self.holders:
            record = self.registry.holder_record(holder)
            assert record.record_head == "0x" + self.head[holder].hex(), holder
            assert (record.closed_at > 0) == self.closed[holder]
        listed = {q.licence_id: q.status for q in self.client.licences_of(self.holders[0])}
        assert listed == {i: self.status(i) for i in self.licences if self.owner[i] == self.holders[0]}


steps = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 7)), min_size=6, max_size=14)

# Every transition and every refusal at least once, whatever hypothesis draws.
FULL_LIFECYCLE = [
    ("issue", 0), ("issue", 1), ("suspend", 0), ("suspend", 0), ("reinstate", 0), ("reinstate", 0), ("renew", 0),
    ("renew", 0), ("suspend", 2), ("revoke", 2), ("revoke", 2), ("suspend", 2), ("close", 0), ("close", 0),
    ("issue", 0), ("renew", 1), ("reinstate", 1), ("suspend", 1), ("revoke", 0), ("issue", 1),
]


def test_licence_lifecycle_matches_the_model(client, authorities, civil):
    """Random sequences (and one covering every transition) on fresh holders; after each step every
    status and record head must match the model. Then: every transition and refusal was exercised."""
    agency = make_agency(client, authorities, ("degree",), "STATE")
    exercised: set[str] = set()

    @settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(steps)
    @example(FULL_LIFECYCLE)
    def run(sequence):
        model = LicenceModel(client, agency, [register(client, "holder").address for _ in range(2)], civil)
        for op, index in sequence:
            model.step(op, index)
            model.check()
        exercised.update(model.done)

    run()

    assert {op for op in exercised if not op.endswith("-refused")} == set(OPS)
    assert {op.removesuffix("-refused") for op in exercised if op.endswith("-refused")} == set(OPS)
