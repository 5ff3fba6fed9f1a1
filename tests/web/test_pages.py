"""The pages in a real browser (Debian's Chromium driven by Playwright) against the real server and
chain: a holder creates a wallet, registers, receives a licence and shows its QR code; an
independent decoder (zxing-cpp) reads the code from a screenshot; the inspector page verifies and
records it; each kind of bad QR code is refused with its reason; the agency console issues, batches
and revokes. Screenshots of each page go to reports/screenshots/."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import cbor2
import pytest
import zxingcpp
from eth_account import Account
from PIL import Image
from playwright.sync_api import expect

from conftest import CHROMIUM_ARGS, PROJECT, make_agency, register
from elicense import presentation as presentations, qr

SHOTS = PROJECT / "reports" / "screenshots"
FIELDS = {"name": "Alice Example", "degree": "MSc", "programme": "Physics", "conferred": "2024-05-31"}
PASSWORD = "a long wallet password"


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def tid(page, testid: str):
    return page.get_by_test_id(testid)


def fast_keystore(account) -> str:
    """A keystore as `elicense register` writes it, with a small scrypt cost so tests unlock fast."""
    return json.dumps(Account.encrypt(account.key, PASSWORD, kdf="scrypt", iterations=2**10))


def open_section(page, testid: str) -> None:
    tid(page, testid).evaluate("details => { details.open = true; }")


def import_key(page, name: str, account) -> None:
    open_section(page, "import-section")
    tid(page, "import-text").fill(fast_keystore(account))
    tid(page, "import-name").fill(name)
    tid(page, "import-button").click()
    unlock(page, name)


def unlock(page, name: str, password: str = PASSWORD) -> None:
    tid(page, "unlock-select").select_option(name)
    tid(page, "unlock-password").fill(password)
    tid(page, "unlock-button").click()
    expect(tid(page, "unlocked")).to_be_visible()


def decode_png(png: bytes) -> str:
    """The independent decoder: zxing-cpp on the screenshot of the page's QR image."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, "zxing-cpp found no single QR code in the screenshot"
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text


def verify_text(page, text: str, record: bool = False):
    checkbox = tid(page, "record-checkbox")
    if checkbox.count():
        checkbox.set_checked(record)
    tid(page, "payload-input").fill(text)
    if tid(page, "verdict-banner").count():  # so that the previous verdict is not read as this one
        tid(page, "verdict-banner").evaluate("banner => { banner.textContent = ''; }")
    tid(page, "verify-button").click()
    expect(tid(page, "verdict-banner")).to_have_text(__import__("re").compile("VALID|INVALID"))
    return tid(page, "verdict-banner").inner_text().strip()


def step(page, name: str):
    return page.locator(f"[data-testid=step][data-step='{name}']")


def reencode(text: str, change) -> str:
    item = cbor2.loads(qr.b45decode(text[len(qr.PREFIX):]))
    change(item)
    return qr.PREFIX + qr.b45encode(cbor2.dumps(item))


# ---------------------------------------------------------------------- the holder's journey


def test_holder_wallet_qr_is_read_by_zxing_and_verified_and_recorded(open_page, client, agency, inspector, tmp_path):
    wallet = open_page("wallet.html", 430, 1000)  # a phone-sized window
    open_section(wallet, "create-section")
    tid(wallet, "create-name").fill("alice")
    tid(wallet, "create-password").fill(PASSWORD)
    tid(wallet, "create-password2").fill(PASSWORD)
    tid(wallet, "create-button").click()
    if not tid(wallet, "unlocked").is_visible():
        unlock(wallet, "alice")
    expect(tid(wallet, "unlocked")).to_be_visible(timeout=60_000)
    address = tid(wallet, "address").inner_text().strip()
    # the key stays in the page: localStorage holds only the encrypted keystore
    keystore = json.loads(json.loads(wallet.evaluate("localStorage.getItem('elicense.keystores')"))["alice"])
    assert keystore["version"] == 3 and keystore["address"] == address[2:].lower()
    assert set(keystore["crypto"]) >= {"ciphertext", "kdf", "mac"}

    tid(wallet, "register-button").click()
    expect(tid(wallet, "register-box")).to_be_hidden(timeout=60_000)
    assert client.identities.role(address) == "holder"

    agency.client.send_certification(address, agency.code, "degree", FIELDS)
    tid(wallet, "refresh-button").click()
    card = tid(wallet, "licence-card").first
    expect(card).to_have_attribute("data-status", "active")
    for value in FIELDS.values():
        expect(card).to_contain_text(value)

    card.get_by_test_id("show-qr-button").click()
    image = tid(wallet, "qr-image")
    expect(image).to_be_visible()
    payload = tid(wallet, "qr-payload").input_value()
    assert payload.startswith("EL1:")
    assert int(tid(wallet, "qr-version").inner_text().split()[-1]) <= 15
    shot(wallet, "wallet")
    png = image.screenshot()
    assert decode_png(png) == payload
    (tmp_path / "qr.png").write_bytes(png)

    inspect = open_page("inspect.html")
    import_key(inspect, "police", inspector)
    tid(inspect, "record-checkbox").set_checked(True)
    tid(inspect, "upload-input").set_input_files(str(tmp_path / "qr.png"))  # the page decodes the picture itself
    expect(tid(inspect, "verdict-banner")).to_have_text("VALID")
    for name in ("format", "holder-signature", "data", "status", "issuer"):
        expect(step(inspect, name)).to_have_attribute("data-status", "valid")
    expect(tid(inspect, "verdict-agency")).to_contain_text(agency.code)
    expect(tid(inspect, "verdict-agency")).to_contain_text(f"Agency {agency.code}")
    expect(tid(inspect, "recorded-result")).to_contain_text("valid", timeout=60_000)
    tx = tid(inspect, "recorded-tx").inner_text().strip()
    block = int(tid(inspect, "recorded-block").inner_text().strip())
    receipt = client.chain.w3.eth.get_transaction_receipt(tx)
    assert receipt["blockNumber"] == block and receipt["from"] == inspector.address
    shot(inspect, "inspect")

    # the same code shown again: a replay
    assert verify_text(inspect, payload) == "INVALID"
    expect(step(inspect, "holder-signature")).to_have_attribute("data-code", "presentation-replayed")

    # selective disclosure: only the degree
    tid(wallet, "qr-close-button").click() if tid(wallet, "qr-close-button").is_visible() else None
    card.get_by_test_id("show-qr-button").click()
    for box in tid(wallet, "field-checkbox").all():
        box.set_checked(box.get_attribute("value") == "degree")
    tid(wallet, "qr-new-button").click()
    expect(tid(wallet, "qr-payload")).not_to_have_value(payload)
    selective = tid(wallet, "qr-payload").input_value()
    assert decode_png(tid(wallet, "qr-image").screenshot()) == selective
    assert verify_text(inspect, selective) == "VALID"
    table = tid(inspect, "fields-table")
    expect(table).to_contain_text("MSc")
    expect(table).not_to_contain_text("Alice Example")


# ---------------------------------------------------------------------- refusals


@pytest.fixture
def shown(client, agency):
    """A holder (key known to the test) with a licence, and a function presenting it as QR text."""
    holder = register(client, "holder")
    issued = agency.client.send_certification(holder.address, agency.code, "degree", FIELDS)
    queried = client.query_licence(holder.address, issued.block_number, issued.tx_hash)
    return holder, queried, lambda **kw: client.present_qr(holder, queried, **kw)


def _expired(client, holder, queried):
    registry = client.licences("degree")
    now = int(time.time())  # the verifier's clock judges freshness, not the chain's
    document = queried.decrypt(holder.key)
    p = presentations.create(registry, holder, queried.licence_id, queried.agency, document, None, ttl=60, now=now - 600)
    return qr.encode(p, issued_block=queried.block_number)


CASES = {
    "tampered": ("holder-signature", "bad-signature",
                 lambda c, h, q, make: reencode(make(), lambda item: item[6][2].__setitem__("degree", "PhD"))),
    "expired": ("holder-signature", "presentation-expired", lambda c, h, q, make: _expired(c, h, q)),
    "foreign-chain": ("format", "foreign-chain", lambda c, h, q, make: reencode(make(), lambda item: item.__setitem__(1, 1))),
    "garbage": ("format", "malformed", lambda c, h, q, make: "EL1:NOT A PRESENTATION"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_qr_code_is_refused_with_its_reason(open_page, client, shown, case):
    name, code, make_text = CASES[case]
    holder, queried, make = shown
    page = open_page("inspect.html")
    assert verify_text(page, make_text(client, holder, queried, make)) == "INVALID"
    failed = step(page, name)
    expect(failed).to_have_attribute("data-status", "invalid")
    expect(failed).to_have_attribute("data-code", code)
    assert failed.inner_text().strip()  # a plain reason, not just a code
    if case == "tampered":
        shot(page, "inspect-refused")


def test_the_inspector_page_judges_freshness_by_its_own_clock_too(open_page, shown):
    holder, queried, make = shown
    page = open_page("inspect.html")
    page.clock.set_fixed_time(time.time() + 600)  # this device's clock: ten minutes after the server's
    assert verify_text(page, make()) == "INVALID"  # fresh for the server, expired here: not accepted, not recorded
    failed = step(page, "holder-signature")
    expect(failed).to_have_attribute("data-code", "presentation-expired")
    expect(failed).to_contain_text("by this device's clock")


def test_a_revoked_licence_is_refused(open_page, client, agency, shown):
    holder, queried, make = shown
    agency.client.revoke("degree", queried.licence_id, 1)
    page = open_page("inspect.html")
    assert verify_text(page, make()) == "INVALID"
    expect(step(page, "status")).to_have_attribute("data-code", "revoked")
    expect(step(page, "status")).to_contain_text("revoked")


# ---------------------------------------------------------------------- agency console


def test_agency_console_issues_batches_and_revokes(open_page, client, authorities, tmp_path):
    agency = make_agency(client, authorities, ("degree",))
    holders = [register(client, "holder") for _ in range(3)]
    page = open_page("agency.html", 1280, 1000)
    import_key(page, "agency", agency.signer)
    expect(tid(page, "agency-code")).to_have_text(agency.code)

    tid(page, "issue-type").select_option("degree")
    tid(page, "issue-holder").fill(holders[0].address)
    names, values = tid(page, "field-name"), tid(page, "field-value")
    for i, (name, value) in enumerate({"name": "Carol Example", "degree": "BSc"}.items()):
        if i >= names.count():
            tid(page, "add-field").click()
        names.nth(i).fill(name)
        values.nth(i).fill(value)
    tid(page, "issue-button").click()
    expect(tid(page, "issued-licence-id")).to_have_text(__import__("re").compile("^0x[0-9a-f]{64}$"), timeout=60_000)
    licence_id = tid(page, "issued-licence-id").inner_text().strip()
    assert client.licences("degree").licence(bytes.fromhex(licence_id[2:])).status == "active"

    csv = tmp_path / "graduates.csv"
    csv.write_text("holder,name,degree\n" + "".join(f"{h.address},Graduate {i},BSc\n" for i, h in enumerate(holders)))
    tid(page, "batch-type").select_option("degree") if tid(page, "batch-type").count() else None
    tid(page, "csv-input").set_input_files(str(csv))
    tid(page, "batch-button").click()
    expect(tid(page, "batch-status")).to_contain_text("3 of 3", timeout=60_000)
    assert any(q.batch for q in client.licences_of(holders[2].address))

    tid(page, "issued-refresh").click()
    row = page.locator(f"[data-testid=issued-row][data-licence-id='{licence_id}']")
    expect(row).to_be_visible()
    row.get_by_test_id("revoke").click()
    tid(page, "confirm-yes").click()
    expect(row.locator("[data-status]").first).to_have_attribute("data-status", "revoked", timeout=60_000)
    assert client.licences("degree").licence(bytes.fromhex(licence_id[2:])).status == "revoked"
    shot(page, "agency")


def test_a_wrong_password_and_a_bad_holder_show_clear_errors(open_page, client, authorities):
    agency = make_agency(client, authorities, ("degree",))
    page = open_page("agency.html")
    open_section(page, "import-section")
    tid(page, "import-text").fill(fast_keystore(agency.signer))
    tid(page, "import-name").fill("agency")
    tid(page, "import-button").click()
    tid(page, "unlock-select").select_option("agency")
    tid(page, "unlock-password").fill("not the password")
    tid(page, "unlock-button").click()
    expect(tid(page, "error-banner")).to_contain_text("wrong password")
    unlock(page, "agency")
    tid(page, "issue-holder").fill("0x1234")
    tid(page, "field-name").first.fill("degree")
    tid(page, "field-value").first.fill("BSc")
    tid(page, "issue-button").click()
    expect(tid(page, "error-banner")).to_contain_text("address")
    expect(tid(page, "issue-holder")).to_have_value("0x1234")  # nothing typed is lost


def test_the_landing_page_links_every_page(open_page):
    page = open_page("")
    for name in ("wallet", "inspect", "agency"):
        expect(tid(page, f"link-{name}")).to_have_attribute("href", __import__("re").compile(name))
    shot(page, "index")


# ---------------------------------------------------------------------- camera


def _y4m(png: Path, out: Path, frames: int = 20) -> Path:
    """A video file of the QR image for Chromium's fake camera (YUV4MPEG2, 4:2:0)."""
    image = Image.open(png).convert("RGB")
    size = 640
    canvas = Image.new("RGB", (size, size), "white")
    image.thumbnail((size - 80, size - 80))
    canvas.paste(image, ((size - image.width) // 2, (size - image.height) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    half = (size // 2, size // 2)
    frame = b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    out.write_bytes(f"YUV4MPEG2 W{size} H{size} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * frames)
    return out


def test_the_inspector_scans_with_the_camera(playwright, server, shown, tmp_path):
    import segno

    holder, queried, make = shown
    text = make(fields=["degree"])
    segno.make(text, error="m").save(str(tmp_path / "code.png"), scale=6, border=4)
    video = _y4m(tmp_path / "code.png", tmp_path / "camera.y4m")
    chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS + [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])  # a camera that films the QR code
    try:
        context = chromium.new_context(base_url=server.url)
        context.grant_permissions(["camera"])
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto("/inspect.html")
        tid(page, "record-checkbox").set_checked(False)
        tid(page, "camera-button").click()
        expect(tid(page, "verdict-banner")).to_have_text("VALID", timeout=30_000)
        expect(tid(page, "payload-input")).to_have_value(text)
        expect(tid(page, "fields-table")).to_contain_text("MSc")
        assert not errors, errors
    finally:
        chromium.close()
