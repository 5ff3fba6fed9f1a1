"""The agency page builds each licence in the browser: the server never sees a field value.

A server of its own wraps the real application in an ASGI middleware that records every request
(method, path, query, body) the page makes. The page issues and renews licences through real
Chromium; then no recorded request holds any field value (raw, JSON-escaped or URL-encoded) nor the
licence's master salt, and the holder decrypts each licence with their own key and it verifies."""

from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_plus

import pytest
from playwright.sync_api import expect

from conftest import SERVICE, error_of, make_agency, register
from elicense.chain import account_from_key
from elicense.nodes import dev_key
from elicense.server import Server
from test_pages import import_key, shot, tid

# Distinctive values, one with characters JSON would escape: none of these may reach the server.
FIELDS = {"name": "Åsa Öberg-Quintero", "national-id": "19790412-Q8Z3", "degree": "MSc Zymurgy 7731"}
RENEWED = {"name": "Åsa Öberg-Quintero", "national-id": "19790412-Q8Z3", "degree": "PhD Zymurgy 9182"}


class RecordBodies:
    """Pure ASGI middleware: keeps (method, path, query, body) of every HTTP request, then passes it on."""

    def __init__(self, app, requests: list):
        self.app, self.requests = app, requests

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        self.requests.append((scope["method"], scope["path"], scope.get("query_string", b"").decode(), body))
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


@pytest.fixture(scope="module")
def recorded(client):
    requests: list = []
    server = Server(client, account_from_key(dev_key(SERVICE)), faucet=True)
    server.app.add_middleware(RecordBodies, requests=requests)
    with server:
        yield server, requests


@pytest.fixture
def page_on(browser, recorded):
    server, _ = recorded
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, base_url=server.url)
    errors = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(30_000)
    page.goto("/agency.html")
    yield page
    context.close()
    assert not errors, errors


def forms(value: str) -> set[bytes]:
    """Every way a value could travel in a request: UTF-8, JSON-escaped, URL-encoded."""
    return {value.encode(), json.dumps(value).strip('"').encode(), quote(value).encode(), quote_plus(value).encode()}


def leaks(requests, values) -> list:
    found = []
    for method, path, query, body in requests:
        text = path.encode() + b"?" + query.encode() + b"\n" + body
        found += [(method, path, v) for v in values for form in forms(v) if form in text]
    return found


def fill_fields(page, fields: dict, prefix: str = "") -> None:
    names, values = tid(page, f"{prefix}field-name"), tid(page, f"{prefix}field-value")
    for i, (name, value) in enumerate(fields.items()):
        if i >= names.count():
            tid(page, f"{prefix}add-field" if prefix else "add-field").click()
        names.nth(i).fill(name)
        values.nth(i).fill(value)


def test_the_agency_page_issues_and_renews_without_sending_any_field_value(page_on, recorded, client, authorities):
    _, requests = recorded
    agency = make_agency(client, authorities, ("degree",))
    holder = register(client, "holder")
    page = page_on
    import_key(page, "agency", agency.signer)
    expect(tid(page, "agency-code")).to_have_text(agency.code)
    requests.clear()  # what follows is the issuance and the renewal

    tid(page, "issue-type").select_option("degree")
    tid(page, "issue-holder").fill(holder.address)
    fill_fields(page, FIELDS)
    tid(page, "issue-button").click()
    expect(tid(page, "issued-licence-id")).to_have_text(re.compile("^0x[0-9a-f]{64}$"), timeout=60_000)
    licence_id = tid(page, "issued-licence-id").inner_text().strip()

    row = page.locator(f"[data-testid=issued-row][data-licence-id='{licence_id}']")
    row.get_by_test_id("renew").click()
    fill_fields(page, RENEWED, "renew-")
    tid(page, "renew-submit").click()
    expect(tid(page, "renewed-licence-id")).to_have_text(re.compile("^0x[0-9a-f]{64}$"), timeout=60_000)
    renewed_id = tid(page, "renewed-licence-id").inner_text().strip()
    shot(page, "agency-sealed")

    # the page went through the sealed routes, and nothing it sent carries a value
    paths = [(m, p) for m, p, _, _ in requests if m == "POST"]
    assert ("POST", "/api/licences/sealed") in paths
    assert ("POST", f"/api/licences/{licence_id}/renew/sealed") in paths
    assert not [p for m, p in paths if p in ("/api/licences", f"/api/licences/{licence_id}/renew")]
    values = [*FIELDS.values(), *RENEWED.values()]
    assert leaks(requests, values) == []
    assert leaks(requests, ["Åsa", "Zymurgy", "Q8Z3"]) == []  # not even a part of one

    # the holder opens both with their own key; each matches its commitment on chain and verifies
    mine = {q.licence_id: q for q in client.licences_of(holder.address)}
    assert (mine[licence_id].status, mine[renewed_id].status) == ("renewed", "active")
    first, second = (mine[i].decrypt(holder.key) for i in (licence_id, renewed_id))
    assert (first.fields, second.fields) == (FIELDS, RENEWED)
    assert (first.agency, first.holder, first.cert_type) == (agency.code, holder.address, 3)
    assert second.valid_from == mine[renewed_id].valid_from and second.valid_until == mine[renewed_id].valid_until
    assert leaks(requests, [first.salt.hex(), second.salt.hex()]) == []  # the master salts stayed in the page
    assert first.salt != second.salt and len(first.salt) == 32
    verdict = client.check(holder.address, agency.code, client.present(holder, mine[renewed_id]), record=False)
    assert verdict.valid, verdict.steps


def test_the_sealed_routes_refuse_what_is_not_a_sealed_licence(recorded, client, authorities):
    import requests as http

    server, _ = recorded
    agency = make_agency(client, authorities, ("degree",))
    holder = register(client, "holder")
    body = {"signer": agency.signer.address, "type": "degree", "agency": agency.code, "holder": holder.address,
            "data_hash": "0x" + "11" * 32, "ciphertext": "0x" + "22" * 200, "valid_from": 0}

    def post(path, change):
        return http.post(server.url + path, json=body | change, timeout=60)

    assert "zero" in error_of(post("/api/licences/sealed", {"data_hash": "0x" + "00" * 32}), 400)
    assert "ECIES ciphertext" in error_of(post("/api/licences/sealed", {"ciphertext": "0x" + "22" * 40}), 400)
    assert "malformed ciphertext" in error_of(post("/api/licences/sealed", {"ciphertext": "0xzz" * 60}), 400)
    assert "data hash" in error_of(post("/api/licences/sealed", {"data_hash": "0x" + "zz" * 32}), 400)
    assert "extra" in error_of(post("/api/licences/sealed", {"fields": {"name": "x"}}), 422).lower()
    assert "valid_from" in error_of(post("/api/licences/sealed", {"valid_from": None}), 422)
    assert "is not a signing account of" in error_of(post("/api/licences/sealed", {"signer": holder.address}), 403)
    assert "no licence" in error_of(http.post(server.url + f"/api/licences/0x{'33' * 32}/renew/sealed", json={
        k: v for k, v in body.items() if k not in ("agency", "holder")}, timeout=60), 404)
    prepared = http.post(server.url + "/api/licences/sealed", json=body, timeout=60).json()
    assert prepared["sign"]["function"] == "issue" and prepared["sign"]["args"]["dataHash"] == "0x" + "11" * 32
    assert http.get(server.url + "/api/time", params={"type": "degree"}, timeout=60).json()["now"] > 0
    assert "unknown certificate type" in error_of(http.get(server.url + "/api/time", params={"type": "dog"}, timeout=60), 400)


def test_the_agency_page_issues_a_csv_batch_without_sending_any_field_value(page_on, recorded, client, authorities,
                                                                            tmp_path):
    _, requests = recorded
    agency = make_agency(client, authorities, ("degree",))
    holders = [register(client, "holder") for _ in range(3)]
    rows = [{"name": f"Graduate Ñandú {i}", "degree": f"BSc Xylology {4410 + i}", "note": f'says "hi, {i}"'}
            for i in range(3)]
    csv = tmp_path / "graduates.csv"
    csv.write_text("holder,name,degree,note,valid_until\r\n" + "".join(
        f'{h.address},{r["name"]},{r["degree"]},"says ""hi, {i}""",2099-12-31\r\n'
        for i, (h, r) in enumerate(zip(holders, rows))), encoding="utf-8")
    page = page_on
    import_key(page, "agency", agency.signer)
    expect(tid(page, "agency-code")).to_have_text(agency.code)
    requests.clear()

    tid(page, "batch-type").select_option("degree")
    tid(page, "csv-input").set_input_files(str(csv))
    expect(tid(page, "batch-summary")).to_contain_text("3 licences read from graduates.csv")
    tid(page, "batch-button").click()
    expect(tid(page, "batch-status")).to_contain_text("3 of 3 issued", timeout=60_000)

    posted = [p for m, p, _, _ in requests if m == "POST"]
    assert "/api/batches/sealed" in posted and "/api/batches" not in posted and "/api/batches/csv" not in posted
    assert leaks(requests, [v for r in rows for v in r.values()] + ["Xylology", "Ñandú"]) == []
    assert leaks(requests, [holders[0].address + ",Graduate"]) == []  # not the CSV itself either
    for holder, expected in zip(holders, rows):
        [mine] = client.licences_of(holder.address)
        document = mine.decrypt(holder.key)
        assert mine.batch is not None and document.fields == expected
        assert document.valid_until == mine.valid_until == 4102358400  # 2099-12-31T00:00:00Z
        assert leaks(requests, [document.salt.hex()]) == []
        verdict = client.check(holder.address, agency.code, client.present(holder, mine), record=False)
        assert verdict.valid, verdict.steps


def test_a_bad_csv_is_refused_in_the_page_before_anything_is_sent(page_on, recorded, client, authorities, tmp_path):
    _, requests = recorded
    agency = make_agency(client, authorities, ("degree",))
    page = page_on
    import_key(page, "agency", agency.signer)
    expect(tid(page, "agency-code")).to_have_text(agency.code)
    bad = tmp_path / "bad.csv"
    bad.write_text("holder,name,valid_until\n0x1234,Secret Name 5521,2030-01-01\n")
    requests.clear()

    tid(page, "csv-input").set_input_files(str(bad))

    expect(tid(page, "error-banner")).to_contain_text("bad.csv row 1: malformed holder address '0x1234'")
    expect(tid(page, "batch-button")).to_be_disabled()
    assert leaks(requests, ["Secret Name 5521"]) == []


def test_the_sealed_batch_route_names_every_bad_row(recorded, client, authorities):
    import requests as http

    server, _ = recorded
    agency = make_agency(client, authorities, ("degree",))
    holder = register(client, "holder")
    stranger = "0x" + "44" * 20
    row = {"holder": holder.address, "data_hash": "0x" + "11" * 32, "ciphertext": "0x" + "22" * 200, "valid_from": 0}
    body = {"signer": agency.signer.address, "type": "degree", "agency": agency.code,
            "rows": [row, row | {"holder": stranger, "data_hash": "0x" + "12" * 32}, row,
                     row | {"data_hash": "0x" + "13" * 32, "ciphertext": "0x22"},
                     row | {"data_hash": "0x" + "14" * 32, "valid_until": 1}]}

    message = error_of(http.post(server.url + "/api/batches/sealed", json=body, timeout=60), 400)

    assert message == (f"row 2: {types_address(stranger)} is not a registered holder; "
                       "row 3: the same data hash as an earlier row; "
                       "row 4: the ciphertext must be an ECIES ciphertext to the holder's key (more than 97 bytes), "
                       "got 1; row 5: valid-until must be after valid-from and in the future")
    assert "fields" in error_of(http.post(server.url + "/api/batches/sealed", json=body | {
        "rows": [row | {"fields": {"name": "x"}}]}, timeout=60), 422)
    prepared = http.post(server.url + "/api/batches/sealed", json=body | {"rows": [row]}, timeout=60).json()
    assert prepared["sign"]["function"] == "issueBatch" and prepared["count"] == 1


def types_address(value: str) -> str:
    from elicense import types

    return types.address(value)


def test_the_page_refuses_to_sign_a_transaction_with_other_data_than_it_built(page_on, client, authorities):
    """A dishonest server (here: the real one, handed another commitment by an interceptor) prepares
    an issuance of other data: the page checks the transaction before signing and signs nothing."""
    agency = make_agency(client, authorities, ("degree",))
    holder = register(client, "holder")
    page = page_on
    import_key(page, "agency", agency.signer)
    expect(tid(page, "agency-code")).to_have_text(agency.code)

    def swap(route):
        body = json.loads(route.request.post_data)
        body["data_hash"] = "0x" + "5a" * 32
        route.fulfill(response=route.fetch(post_data=json.dumps(body)))

    page.route("**/api/licences/sealed", swap)
    tid(page, "issue-type").select_option("degree")
    tid(page, "issue-holder").fill(holder.address)
    fill_fields(page, {"degree": "MSc"})
    tid(page, "issue-button").click()

    expect(tid(page, "error-banner")).to_contain_text("does not carry the licence built in this page; nothing was signed")
    assert client.licences_of(holder.address) == []


def test_the_page_refuses_to_sign_a_batch_with_other_leaves_than_it_sealed(page_on, client, authorities, tmp_path):
    """The server is handed one row's commitment changed on the way: the tree it returns holds another
    leaf, and the page signs nothing."""
    agency = make_agency(client, authorities, ("degree",))
    holders = [register(client, "holder") for _ in range(2)]
    csv = tmp_path / "two.csv"
    csv.write_text("holder,degree\n" + "".join(f"{h.address},BSc\n" for h in holders))
    page = page_on
    import_key(page, "agency", agency.signer)
    expect(tid(page, "agency-code")).to_have_text(agency.code)

    def swap(route):
        body = json.loads(route.request.post_data)
        body["rows"][1]["data_hash"] = "0x" + "5b" * 32
        route.fulfill(response=route.fetch(post_data=json.dumps(body)))

    page.route("**/api/batches/sealed", swap)
    tid(page, "batch-type").select_option("degree")
    tid(page, "csv-input").set_input_files(str(csv))
    tid(page, "batch-button").click()

    expect(tid(page, "error-banner")).to_contain_text("is not the licences sealed in this page; nothing was signed")
    expect(tid(page, "batch-status")).to_contain_text("0 of 2 issued")
    assert client.licences_of(holders[0].address) == [] and client.licences_of(holders[1].address) == []


@pytest.mark.parametrize("path, change, status, fragment", [
    ("/api/licences/sealed", {"type": "²"}, 400, "unknown certificate type"),
    ("/api/licences/sealed", {"ciphertext": "0x123"}, 400, "malformed ciphertext"),
    ("/api/licences/sealed", {"ciphertext": "0xé1" * 60}, 400, "malformed ciphertext"),
    ("/api/licences/sealed", {"data_hash": "0x" + "gg" * 32}, 400, "data hash"),
    ("/api/licences/sealed", {"holder": "²"}, 400, "holder address"),
    ("/api/licences/sealed", {"valid_from": 2**41}, 422, "valid_from"),
    ("/api/licences/sealed", {"valid_until": -1}, 422, "valid_until"),
    ("/api/licences/sealed", {"ciphertext": "0x" + "22" * 16_385}, 422, "ciphertext"),
    ("/api/batches/sealed", {"rows": []}, 422, "rows"),
])
def test_malformed_sealed_requests_get_a_sentence_not_a_crash(recorded, path, change, status, fragment):
    import requests as http

    server, _ = recorded
    body = {"signer": "0x" + "11" * 20, "type": "degree", "agency": "EDU", "holder": "0x" + "22" * 20,
            "data_hash": "0x" + "11" * 32, "ciphertext": "0x" + "22" * 200, "valid_from": 0}
    if path == "/api/batches/sealed":
        body = {k: body[k] for k in ("signer", "type", "agency")}
    assert fragment in error_of(http.post(server.url + path, json=body | change, timeout=60), status)


@pytest.mark.parametrize("query, status, fragment", [({"type": "²"}, 422, "type"), ({}, 422, "type"),
                                                     ({"type": "9"}, 400, "unknown certificate type")])
def test_the_chain_clock_refuses_a_bad_type(recorded, query, status, fragment):
    import requests as http

    server, _ = recorded
    assert fragment in error_of(http.get(server.url + "/api/time", params=query, timeout=60), status)
