"""The holder's inspection log over raw HTTP and in the wallet page (real Chromium): who checked
which licence, when, with which outcome, failed attempts highlighted, the hash chains verified."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import error_of, make_agency, register
from test_pages import FIELDS, import_key, shot, tid


@pytest.fixture(scope="module")
def inspected(client, authorities, inspector):
    """A holder's degree, checked valid by one inspector, then replayed to another (refused)."""
    agency = make_agency(client, authorities, ("degree",))
    holder = register(client, "holder")
    second = register(client, "inspector")
    agency.client.authorise_inspector("degree", second.address)  # the agency answers for it
    issued = agency.client.send_certification(holder.address, agency.code, "degree", FIELDS)
    queried = client.query_licence(holder.address, issued.block_number, issued.tx_hash)
    shown = client.present(holder, queried)
    first = client.with_sender(inspector).check(holder.address, agency.code, shown)
    again = client.with_sender(second).check(holder.address, agency.code, shown)
    assert (first.result, again.result) == ("valid", "presentation-replayed")
    return {"holder": holder, "inspectors": (inspector, second), "licence_id": issued.licence_id}


def test_the_log_over_raw_http_is_newest_first_with_outcomes_and_a_verified_chain(api, inspected):
    holder = inspected["holder"].address
    first, second = inspected["inspectors"]

    data = api.ok(api.get(f"/api/holders/{holder.lower()}/inspections"))

    assert (data["holder"], data["total"], data["failed"], data["verified"]) == (holder, 2, 1, True)
    replay, valid = data["items"]
    assert (replay["inspector"], replay["result"], replay["failed"]) == (second.address, "presentation-replayed", True)
    assert replay["sentence"] == "refused: this presentation was already used in an inspection (a replay)"
    assert (valid["inspector"], valid["result"], valid["failed"]) == (first.address, "valid", False)
    for item in (replay, valid):
        assert item["licence_id"] == inspected["licence_id"] and item["type"] == "degree"
        assert item["time"] > 0 and item["block_number"] > 0 and item["inspector_role"] == "inspector"
    [degree] = [c for c in data["chains"] if c["type"] == "degree"]
    assert (degree["entries"], degree["verified"], degree["head"]) == (2, True, replay["access_head"])


def test_the_log_is_paged(api, inspected):
    holder = inspected["holder"].address

    page = api.ok(api.get(f"/api/holders/{holder}/inspections", offset=1, limit=1))

    assert page["total"] == 2 and [i["result"] for i in page["items"]] == ["valid"]


@pytest.mark.parametrize("path, status, fragment", [
    ("/api/holders/0x1234/inspections", 400, "malformed holder address '0x1234'"),
    ("/api/holders/0x" + "ab" * 20 + "/inspections?limit=0", 422, "limit"),
    ("/api/holders/0x" + "ab" * 20 + "/inspections?offset=-1", 422, "offset"),
    ("/api/holders/0x" + "ab" * 20 + "/inspections?limit=99999999999999999999", 422, "limit"),
])
def test_bad_requests_get_a_sentence_not_a_crash(api, path, status, fragment):
    assert fragment in error_of(api.http.get(api.url + path, timeout=60), status)


def test_the_wallet_page_shows_the_log_with_the_failed_attempt_highlighted(open_page, inspected):
    holder = inspected["holder"]
    first, second = inspected["inspectors"]
    page = open_page("wallet.html")

    import_key(page, "checked", holder)

    rows = page.get_by_test_id("inspection-row")
    expect(rows).to_have_count(2, timeout=60_000)
    replay, valid = rows.nth(0), rows.nth(1)
    expect(replay).to_have_attribute("data-result", "presentation-replayed")
    expect(replay).to_have_class("failed")
    expect(replay.get_by_test_id("inspection-outcome")).to_have_text("failed: presentation-replayed")
    expect(replay.get_by_test_id("inspection-sentence")).to_contain_text("already used in an inspection")
    expect(replay).to_have_attribute("data-inspector", second.address)
    expect(valid).to_have_attribute("data-result", "valid")
    expect(valid).not_to_have_class("failed")
    expect(valid).to_have_attribute("data-inspector", first.address)
    expect(valid.get_by_test_id("inspection-time")).to_have_attribute("datetime", __import__("re").compile(r"^\d{4}-"))
    # the failed attempt stands out: its cells are painted, the valid one's are not
    background = "el => getComputedStyle(el.querySelector('td')).backgroundColor"
    assert replay.evaluate(background) != valid.evaluate(background)
    verified = tid(page, "inspections-verified")
    expect(verified).to_have_attribute("data-verified", "true")
    expect(verified).to_contain_text("Verified: the 2 entries recompute")
    expect(tid(page, "inspections-count")).to_have_text("2 inspections, 1 failed.")
    shot(page, "wallet-inspections")
