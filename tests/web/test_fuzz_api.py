"""Attack 10 over HTTP: malformed input is refused with a 4xx and a sentence, never a 500.

First the inputs that made the server fail, each as the raw request an attacker sends to the real
server on a real Anvil; then Hypothesis sends valid-then-broken QR codes, JSON presentations, licence
fields, batch CSVs and sealed envelopes (a consent grant's upload) (fewer examples than tests/client/test_fuzz_inputs.py, which fuzzes the parsers
themselves) and checks every answer: below 500, and an error is JSON {"error": {"code", "message"}}.
"""

from __future__ import annotations

import json

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import error_of, register
from elicense import personal, qr
from elicense.crypto import public_key
from elicense.personal import PersonalData
from elicense.storage import envelope

FUZZ = settings(max_examples=30, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
FIELDS = {"name": "Alice Example", "degree": "MSc", "programme": "Physics"}


@pytest.fixture(scope="module")
def shown(client, agency):
    """A genuine licence's presentation, as QR text and as JSON, for the attacks to break."""
    holder = register(client, "holder")
    issued = agency.client.send_certification(holder.address, agency.code, "degree", FIELDS)
    queried = client.query_licence(holder.address, issued.block_number, issued.tx_hash)
    return {"qr": client.present_qr(holder, queried, ["degree"], ttl=3600),
            "json": client.present(holder, queried, ["degree"], ttl=3600).to_json(), "holder": holder}


def items(text: str) -> list:
    return cbor2.loads(qr.b45decode(text[len(qr.PREFIX):]))


def reencode(item) -> str:
    return qr.PREFIX + qr.b45encode(cbor2.dumps(item))


def raw_post(api, path: str, body: str):
    """The body exactly as given: JSON escapes such as \\ud800 reach the server unchanged."""
    return api.http.post(api.url + path, data=body.encode(), headers={"content-type": "application/json"}, timeout=120)


def refused_as_malformed(api, payload, fragment: str) -> None:
    """/api/verify answers with a verdict whose format step names the problem; /api/inspections,
    which would record it, refuses with a 400 and the same sentence."""
    body = {"payload": payload if isinstance(payload, str) else json.dumps(payload)}
    verdict = api.ok(api.post("/api/verify", body))
    assert not verdict["valid"] and verdict["failed_step"]["name"] == "format", verdict["failed_step"]
    assert verdict["failed_step"]["code"] == "malformed" and fragment in verdict["failed_step"]["reason"]


# ---------------------------------------------------------------- the reported server errors


def test_a_qr_code_with_a_huge_chain_id_is_malformed(api, shown, inspector):
    item = items(shown["qr"])
    item[1] = 2**70
    refused_as_malformed(api, reencode(item), "bad chain id")
    assert "bad chain id" in error_of(api.post("/api/inspections", {"payload": reencode(item),
                                                                    "inspector": inspector.address}), 400)


def test_a_qr_code_with_a_huge_block_number_is_malformed(api, shown, inspector):
    item = items(shown["qr"])
    item[7] = 2**70
    refused_as_malformed(api, reencode(item), "reference")
    assert "reference" in error_of(api.post("/api/inspections", {"payload": reencode(item),
                                                                 "inspector": inspector.address}), 400)


def test_mixed_type_field_names_are_malformed(api, shown):
    item = items(shown["qr"])
    item[6] = [3, b"\1" * 32, {"degree": "MSc", 7: "x"}]
    refused_as_malformed(api, reencode(item), "field name")
    data = json.loads(json.dumps(shown["json"]))
    data["disclosure"]["fields"].append({"name": 7, "value": "x", "salt": "0x" + "00" * 32})
    refused_as_malformed(api, data, "field name")


def test_a_batch_leaf_with_a_non_numeric_validity_is_malformed(api, shown, inspector):
    data = dict(shown["json"], batch={"root": "0x" + "11" * 32, "proof": [],
                                      "leaf": [shown["holder"].address, "0x" + "22" * 32, "soon", 0, "0x" + "33" * 32]})
    refused_as_malformed(api, data, "valid-from 'soon' is not unix seconds")
    assert "not unix seconds" in error_of(api.post("/api/inspections", {"payload": json.dumps(data),
                                                                        "inspector": inspector.address}), 400)


def test_a_lone_surrogate_in_licence_fields_is_refused(api, agency, shown):
    body = ('{"signer": "%s", "type": "degree", "agency": "%s", "holder": "%s", "fields": {"name": "A\\ud800"}}'
            % (agency.signer.address, agency.code, shown["holder"].address))
    assert "lone UTF-16 surrogate" in error_of(raw_post(api, "/api/licences", body), 422)
    key = body.replace('{"name": "A\\ud800"}', '{"\\udcff": "A"}')
    assert "lone UTF-16 surrogate" in error_of(raw_post(api, "/api/licences", key), 422)
    csv = '{"csv": "holder,name\\n%s,\\ud800\\n"}' % shown["holder"].address
    assert "lone UTF-16 surrogate" in error_of(raw_post(api, "/api/batches/csv", csv), 422)
    assert "lone UTF-16 surrogate" in error_of(raw_post(api, "/api/verify", '{"payload": "EL1:\\ud800"}'), 422)


def test_a_disclosed_value_with_a_lone_surrogate_is_malformed(api, shown):
    data = json.loads(json.dumps(shown["json"]))
    next(e for e in data["disclosure"]["fields"] if "name" in e)["value"] = "\ud800"
    text = json.dumps(data)  # the payload string itself is clean: the surrogate is escaped inside it
    refused_as_malformed(api, text, "surrogate")


def test_deep_nesting_is_refused(api, agency, shown):
    deep = "[" * 9_000 + "]" * 9_000  # past Python's recursion limit, within the payload's 20,000 characters
    refused_as_malformed(api, '{"v": 1, "disclosure": %s}' % deep, "not JSON")
    answer = raw_post(api, "/api/verify", '{"payload": %s}' % ("[" * 50_000 + "]" * 50_000))  # the body itself
    assert answer.status_code in (400, 422) and error_of(answer, answer.status_code)
    body = ('{"signer": "%s", "type": "degree", "agency": "%s", "holder": "%s", "fields": {"name": %s}}'
            % (agency.signer.address, agency.code, shown["holder"].address, "[" * 200 + "]" * 200))
    response = raw_post(api, "/api/licences", body)
    assert response.status_code in (400, 422) and "nested" in error_of(response, response.status_code)


def test_integers_of_thousands_of_digits_are_refused(api, shown):
    item = items(shown["qr"])
    item[0] = 10**5000  # Python will not even print it (4,300 digits at most)
    refused_as_malformed(api, reencode(item), "unsupported presentation version a huge integer")
    refused_as_malformed(api, '{"v": 1, "chain_id": %s}' % ("9" * 5000), "not JSON")
    answer = raw_post(api, "/api/verify", '{"payload": "x", "holder": %s}' % ("9" * 5000))
    assert 400 <= answer.status_code < 500 and error_of(answer, answer.status_code)


def test_a_batch_csv_with_a_spreadsheet_bom_is_read(api, shown):
    parsed = api.ok(api.post("/api/batches/csv", {"csv": f"\ufeffholder,name\n{shown['holder'].address},A\n"}))
    assert parsed["rows"][0]["fields"] == {"name": "A"}


def test_a_batch_csv_with_a_time_beyond_the_format_is_refused(api, shown):
    csv = f"holder,name,valid_until\n{shown['holder'].address},A,{'9' * 40}\n"
    assert "out of range" in error_of(api.post("/api/batches/csv", {"csv": csv}), 400)


# ---------------------------------------------------------------- fuzzing the endpoints

SURROGATES = st.sampled_from(["\ud800", "x\udfff", "\udcff"])
TEXT = st.one_of(st.text(max_size=10), SURROGATES, st.sampled_from(["0x" + "ab" * 32, "never", "9" * 30, ""]))
INTS = st.one_of(st.integers(-2, 300), st.sampled_from([2**53, 2**63, 2**64, 2**256, -(2**70), 10**400]))
BIGNUM = "<a 5,000-digit integer>"  # drawn as this text (Hypothesis prints draws; Python cannot print the
BIGNUMS = st.one_of(INTS, st.just(BIGNUM))  # number), made the number by with_bignums; json.dumps cannot carry it
JSON = st.recursive(st.one_of(st.none(), st.booleans(), INTS, st.floats(allow_nan=False), TEXT),
                    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
                    max_leaves=8)
CBOR = st.recursive(st.one_of(st.none(), st.booleans(), BIGNUMS, st.text(max_size=8),
                              st.sampled_from([b"", b"\1" * 16, b"\2" * 20, b"\3" * 32, b"\4" * 65])),
                    lambda inner: st.one_of(st.lists(inner, max_size=3),
                                            st.dictionaries(st.one_of(st.text(max_size=6), INTS), inner, max_size=3)),
                    max_leaves=8)


def with_bignums(value):
    if value == BIGNUM:
        return 10**5000
    if isinstance(value, list):
        return [with_bignums(v) for v in value]
    if isinstance(value, dict):
        return {with_bignums(k): with_bignums(v) for k, v in value.items()}
    return value


def answered(response) -> dict:
    """Below 500; an error is the API's JSON error with a code and a one-line message."""
    assert response.status_code < 500, (response.status_code, response.text[:500])
    body = response.json()
    if response.status_code >= 400:
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
        assert body["error"]["message"] and "\n" not in body["error"]["message"]
    return body


def post_json(api, path: str, body) -> dict:
    """json.dumps escapes lone surrogates as \\udxxx, as a hostile client would send them."""
    return answered(raw_post(api, path, json.dumps(body)))


@FUZZ
@given(data=st.data())
def test_no_broken_qr_code_fails_the_server(api, shown, inspector, data):
    item = items(shown["qr"])
    for _ in range(data.draw(st.integers(1, 3))):
        target = item[6] if data.draw(st.booleans()) and isinstance(item[6], list) and item[6] else item
        target[data.draw(st.integers(0, len(target) - 1))] = data.draw(CBOR)
    payload = reencode(with_bignums(item))
    verdict = post_json(api, "/api/verify", {"payload": payload})
    assert "steps" in verdict
    post_json(api, "/api/inspections", {"payload": payload, "inspector": inspector.address})


@FUZZ
@given(data=st.data())
def test_no_broken_json_presentation_fails_the_server(api, shown, inspector, data):
    body = json.loads(json.dumps(shown["json"]))
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(["top", "disclosure", "entry", "batch"]))
        if where == "top":
            body[data.draw(st.sampled_from(sorted(body)))] = data.draw(JSON)
        elif where == "disclosure" and isinstance(body.get("disclosure"), dict):
            body["disclosure"][data.draw(st.sampled_from(["type", "fields", "salt"]))] = data.draw(JSON)
        elif where == "entry" and isinstance(body.get("disclosure"), dict) and isinstance(
                body["disclosure"].get("fields"), list) and body["disclosure"]["fields"]:
            entry = body["disclosure"]["fields"][0]
            if isinstance(entry, dict):
                entry[data.draw(st.sampled_from(["name", "value", "salt", "leaf"]))] = data.draw(JSON)
        else:
            leaf = [shown["holder"].address, "0x" + "22" * 32, 0, 2**40 - 1, "0x" + "33" * 32]
            leaf[data.draw(st.integers(0, 4))] = data.draw(JSON)
            body["batch"] = {"root": data.draw(st.one_of(JSON, st.just("0x" + "11" * 32))), "leaf": leaf,
                             "proof": data.draw(st.one_of(JSON, st.just([])))}
    payload = json.dumps(body)
    post_json(api, "/api/verify", {"payload": payload})
    post_json(api, "/api/inspections", {"payload": payload, "inspector": inspector.address})


@FUZZ
@given(fields=st.dictionaries(TEXT, JSON, min_size=1, max_size=4), until=st.one_of(st.none(), INTS))
def test_no_licence_fields_fail_the_server(api, agency, shown, fields, until):
    body = {"signer": agency.signer.address, "type": "degree", "agency": agency.code,
            "holder": shown["holder"].address, "fields": fields}
    if until is not None:
        body["valid_until"] = until
    answered_body = post_json(api, "/api/licences", body)
    assert "sign" in answered_body or "error" in answered_body


@FUZZ
@given(header=st.lists(st.one_of(TEXT, st.sampled_from(["holder", "valid_from", "valid_until", "name"])), max_size=4),
       cells=st.lists(st.lists(st.one_of(TEXT, st.just("{holder}"), st.just("2024-01-01")), max_size=5), max_size=3),
       bom=st.booleans(), quote=st.booleans())
def test_no_batch_csv_fails_the_server(api, shown, header, cells, bom, quote):
    def cell(value: str) -> str:
        value = value.replace("{holder}", shown["holder"].address)
        return '"' + value.replace('"', '""') + '"' if quote else value

    lines = [",".join(map(cell, ["holder", *header]))] + [",".join(map(cell, ["{holder}", *row])) for row in cells]
    post_json(api, "/api/batches/csv", {"csv": ("\ufeff" if bom else "") + "\n".join(lines) + "\n"})


@pytest.fixture(scope="module")
def consent_asked(api, client, storage, server):
    """A personal record, a pending consent request, and the genuine envelope the subject's page would
    upload to grant it: the grant route is where an envelope from the network is parsed."""
    controller, alice, bank = register(client, "issuer"), register(client, "holder"), register(client, "inspector")
    registry = personal.deploy(client.chain, controller)
    data = PersonalData(registry, storage, identities=client.identities)
    data.create_with_consent(controller, alice, {"name": "Alice Example", "city": "Tartu"}, "citizen registry")
    server.app.state.personal.append(registry.address)  # the operator serves it (serve --personal)
    base = f"/api/personal/{registry.address}"
    api.perform(bank, base + "/requests", {"requester": bank.address, "subject": alice.address,
                                           "purpose": "fuzzing", "public_key": "0x" + public_key(bank).hex()})
    [pending] = api.ok(api.get(f"{base}/subjects/{alice.address}/requests", pending="true"))["items"]
    sealed = storage.get(registry.record(alice.address).pointer)
    wrapped = envelope.add_reader(sealed, alice, bank.address, public_key(bank))
    yield f"{base}/requests/{pending['request_id']}/grant", alice.address, wrapped
    server.app.state.personal.remove(registry.address)


def test_an_envelope_whose_version_is_a_bignum_is_refused(api, consent_asked):
    path, subject, wrapped = consent_asked
    fields = cbor2.loads(wrapped) | {"v": [10**5000]}  # found by test_fuzz_inputs: printing it used to fail
    answer = api.post(path, {"subject": subject, "envelope": "0x" + cbor2.dumps(fields, canonical=True).hex(),
                             "signature": "0x" + "11" * 65})
    assert "envelope version ? is not supported" in error_of(answer, 400)


@FUZZ
@given(data=st.data())
def test_no_broken_envelope_fails_the_server(api, consent_asked, data):
    path, subject, wrapped = consent_asked
    fields = cbor2.loads(wrapped)
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from(["t", "v", "nonce", "ct", "keys", "mac", "extra"]))
        if data.draw(st.integers(0, 3)) == 0:
            fields.pop(key, None)
        elif key == "keys" and data.draw(st.booleans()):
            fields["keys"] = {data.draw(st.one_of(st.text(max_size=6), INTS, st.just(subject))): data.draw(CBOR)}
        else:
            fields[key] = data.draw(CBOR)
    raw = cbor2.dumps(with_bignums(fields), canonical=data.draw(st.booleans()))
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + data.draw(st.binary(min_size=1, max_size=2)) + raw[at + 1:]
    post_json(api, path, {"subject": subject, "envelope": "0x" + raw.hex(), "signature": "0x" + "11" * 65})
