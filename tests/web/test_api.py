"""The REST API against a real Anvil and the real contracts: every e-licence API through the
prepare → sign (here, as the browser does) → submit loop, and a clear JSON error for each refusal."""

from __future__ import annotations

import pytest
from eth_account import Account

from conftest import error_of, fresh_account, make_agency, register
from elicense import crypto
from elicense.licence import LicenceDocument

FIELDS = {"name": "Alice Example", "degree": "MSc", "programme": "Physics", "conferred": "2024-05-31"}


def issue(api, agency, holder, fields=None, cert_type="degree"):
    prepared, receipt = api.perform(agency.signer, "/api/licences", {
        "signer": agency.signer.address, "type": cert_type, "agency": agency.code, "holder": holder.address,
        "fields": fields or FIELDS})
    assert receipt["summary"]["licence_id"] == prepared["licence_id"]
    return prepared["licence_id"], receipt


def licence_of(api, holder, licence_id) -> dict:
    return next(item for item in api.ok(api.get(f"/api/holders/{holder.address}/licences"))
                if item["licence_id"] == licence_id)


def test_config_names_the_chains_and_registries(api, client):
    config = api.ok(api.get("/api/config"))
    assert config["faucet"] is True
    assert {r["type"] for r in config["registries"]} == {"marriage", "real-estate", "degree", "business-licence",
                                                         "health-licence"}
    assert all(r["chain_id"] == client.chain.chain_id for r in config["registries"])


def test_a_new_account_registers_itself_through_the_server(api, client):
    account = fresh_account()
    public = "0x" + crypto.public_key(account).hex()
    assert error_of(api.get(f"/api/identities/{account.address}"), 404) == f"{account.address} is not registered"
    assert api.ok(api.post("/api/faucet", {"address": account.address}))["amount"] > 0
    prepared, receipt = api.perform(account, "/api/identities",
                                    {"address": account.address, "role": "holder", "public_key": public})
    assert prepared["sign"]["function"] == "register"
    assert receipt["summary"] == {"address": account.address, "role": "holder"}
    assert api.ok(api.get(f"/api/identities/{account.address}")) == {
        "address": account.address, "role": "holder", "public_key": public}
    again = api.post("/api/identities", {"address": account.address, "role": "holder", "public_key": public})
    assert error_of(again, 409) == f"{account.address} is already registered"
    assert "funded already" in error_of(api.post("/api/faucet", {"address": account.address}), 409)


@pytest.mark.parametrize("change, status, fragment", [
    ({"public_key": "0x" + "11" * 64}, 400, "the public key belongs to"),
    ({"public_key": "zz"}, 400, "malformed public key"),
    ({"role": "authority"}, 403, "authorities are added by governance"),
    ({"role": "pope"}, 400, "unknown role 'pope'"),
    ({"address": "0x1234"}, 400, "address"),
])
def test_a_bad_registration_is_refused_with_a_sentence(api, change, status, fragment):
    account = fresh_account()
    body = {"address": account.address, "role": "holder", "public_key": "0x" + crypto.public_key(account).hex()}
    assert fragment in error_of(api.post("/api/identities", body | change), status)


def test_an_agency_issues_and_the_holder_reads_and_decrypts(api, agency, holder):
    licence_id, receipt = issue(api, agency, holder)
    assert receipt["gas_used"] > 0 and receipt["from"] == agency.signer.address
    item = licence_of(api, holder, licence_id)
    assert item["status"] == "active" and item["agency"] == agency.code and item["agency_name"] == f"Agency {agency.code}"
    document = LicenceDocument.from_bytes(crypto.decrypt(holder.key, bytes.fromhex(item["ciphertext"][2:])))
    assert document.fields == FIELDS and "0x" + document.data_hash.hex() == item["data_hash"]
    by_tx = api.ok(api.get(f"/api/licences/{item['tx_hash']}", holder=holder.address, block=item["block_number"]))
    assert by_tx["licence_id"] == licence_id
    listed = api.ok(api.get(f"/api/agencies/{agency.code}/licences"))
    assert licence_id in [x["licence_id"] for x in listed["items"]] and "ciphertext" not in listed["items"][0]


def test_issuing_is_refused_for_a_non_signer_and_for_bad_input(api, client, authorities, agency, holder):
    other = make_agency(client, authorities)
    body = {"signer": other.signer.address, "type": "degree", "agency": agency.code, "holder": holder.address,
            "fields": FIELDS}
    assert "is not a signing account of" in error_of(api.post("/api/licences", body), 403)
    body["signer"] = agency.signer.address
    assert "unknown certificate type" in error_of(api.post("/api/licences", body | {"type": "dog"}), 400)
    assert "holder address" in error_of(api.post("/api/licences", body | {"holder": "nobody"}), 400)
    assert "fields" in error_of(api.post("/api/licences", body | {"fields": {}}), 422)
    assert "floating-point" in error_of(api.post("/api/licences", body | {"fields": {"x": 1.5}}), 400)
    assert "valid_until" in error_of(api.post("/api/licences", body | {"valid_until": -1}), 422)
    assert "extra" in error_of(api.post("/api/licences", body | {"surprise": 1}), 422).lower()
    stranger = fresh_account()
    assert "not a registered" in error_of(api.post("/api/licences", body | {"holder": stranger.address}), 404)


def test_a_qr_code_is_verified_then_recorded_by_the_inspector(api, client, agency, holder, inspector):
    licence_id, _ = issue(api, agency, holder)
    queried = next(q for q in client.licences_of(holder.address) if q.licence_id == licence_id)
    text = client.present_qr(holder, queried, ["degree"])
    verdict = api.ok(api.post("/api/verify", {"payload": text}))
    assert verdict["valid"] and verdict["fields"] == {"degree": "MSc"}
    assert verdict["agency"] == {"code": agency.code, "name": f"Agency {agency.code}"}
    assert [s["name"] for s in verdict["steps"]][-1] == "recorded"
    prepared, receipt = api.perform(inspector, "/api/inspections", {"payload": text, "inspector": inspector.address})
    assert prepared["sign"]["function"] == "check"
    assert receipt["summary"]["result"] == "valid" and receipt["summary"]["licence_id"] == licence_id
    replayed = api.ok(api.post("/api/verify", {"payload": text}))
    assert replayed["failed_step"]["code"] == "presentation-replayed"


def test_only_an_inspector_records_and_only_a_presentation_is_read(api, holder):
    assert "is not a registered inspector" in error_of(
        api.post("/api/inspections", {"payload": "EL1:AA", "inspector": holder.address}), 403)
    verdict = api.ok(api.post("/api/verify", {"payload": "not a presentation"}))
    assert verdict["failed_step"]["code"] == "malformed" and not verdict["valid"]


def test_suspend_reinstate_revoke_through_the_api(api, agency, holder):
    licence_id, _ = issue(api, agency, holder)
    body = {"signer": agency.signer.address, "type": "degree", "reason": 1}
    for action, status in (("suspend", "suspended"), ("reinstate", "active"), ("revoke", "revoked")):
        _, receipt = api.perform(agency.signer, f"/api/licences/{licence_id}/{action}", body)
        assert licence_of(api, holder, licence_id)["status"] == status
    assert "revoked" in error_of(api.post(f"/api/licences/{licence_id}/suspend", body), 409)
    assert "no action" in error_of(api.post(f"/api/licences/{licence_id}/frobnicate", body), 404)


def test_renewal_marks_the_old_licence_renewed(api, agency, holder):
    licence_id, _ = issue(api, agency, holder)
    prepared, receipt = api.perform(agency.signer, f"/api/licences/{licence_id}/renew", {
        "signer": agency.signer.address, "type": "degree", "fields": FIELDS | {"degree": "PhD"}})
    assert receipt["summary"]["renewal_of"] == licence_id
    assert licence_of(api, holder, licence_id)["status"] == "renewed"
    assert licence_of(api, holder, prepared["licence_id"])["status"] == "active"


def test_a_batch_from_csv(api, client, agency):
    holders = [register(client, "holder") for _ in range(3)]
    csv = "holder,name,degree\n" + "".join(f"{h.address},Graduate {i},BSc\n" for i, h in enumerate(holders))
    parsed = api.ok(api.post("/api/batches/csv", {"csv": csv}))
    assert parsed["count"] == 3 and parsed["rows"][1]["fields"] == {"name": "Graduate 1", "degree": "BSc"}
    prepared, receipt = api.perform(agency.signer, "/api/batches", {
        "signer": agency.signer.address, "type": "degree", "agency": agency.code, "rows": parsed["rows"]})
    assert receipt["summary"] == {"root": prepared["root"], "count": 3}
    mine = api.ok(api.get(f"/api/holders/{holders[2].address}/licences"))
    assert len(mine) == 1 and mine[0]["batch"]["root"] == prepared["root"] and mine[0]["status"] == "active"
    bad = "holder,name\n" + f"{holders[0].address},A\nnot-an-address,B\n"
    assert error_of(api.post("/api/batches/csv", {"csv": bad}), 400).startswith("the CSV row 2: ")
    assert "'holder' column" in error_of(api.post("/api/batches/csv", {"csv": "name\nA\n"}), 400)


def test_revoking_a_batched_licence_asks_for_the_claim_first(api, client, agency):
    owner = register(client, "holder")
    rows = [{"holder": owner.address, "fields": {"degree": "BSc", "row": str(i)}} for i in range(2)]
    api.perform(agency.signer, "/api/batches", {"signer": agency.signer.address, "type": "degree",
                                                "agency": agency.code, "rows": rows})
    target = api.ok(api.get(f"/api/holders/{owner.address}/licences"))[0]
    body = {"signer": agency.signer.address, "type": "degree"}
    first = api.ok(api.post(f"/api/licences/{target['licence_id']}/revoke", body))
    assert (first["sign"]["function"], first["then"]) == ("claim", "retry")
    api.perform(agency.signer, f"/api/licences/{target['licence_id']}/revoke", body)
    statuses = sorted(x["status"] for x in api.ok(api.get(f"/api/holders/{owner.address}/licences")))
    assert statuses == ["active", "revoked"]


def test_the_server_broadcasts_only_to_its_own_contracts(api, client, holder):
    foreign = Account.create()
    tx = {"type": 2, "chainId": client.chain.chain_id, "nonce": 0, "to": foreign.address, "value": 0, "gas": 21000,
          "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 1, "data": "0x"}
    raw = "0x" + holder.sign_transaction(tx).raw_transaction.hex()
    assert "only broadcasts transactions to the contracts" in error_of(
        api.post("/api/transactions", {"chain_id": client.chain.chain_id, "raw": raw}), 403)
    assert "not part of this deployment" in error_of(api.post("/api/transactions", {"chain_id": 1, "raw": raw}), 400)
    assert "cannot be decoded" in error_of(api.post("/api/transactions", {"chain_id": 1, "raw": "0x02abcd"}), 400)
    assert "hex" in error_of(api.post("/api/transactions", {"chain_id": 1, "raw": "0xzzzz"}), 400)


def test_unknown_things_are_json_404s(api):
    assert "no agency" in error_of(api.get("/api/agencies/NOPE-123"), 404)
    assert error_of(api.get("/api/no-such-route"), 404)
    assert "holder address" in error_of(api.get("/api/holders/0x12/licences"), 400)
    assert "organisation code" in error_of(api.get("/api/agencies/" + "X" * 40), 400)


def test_a_batched_licence_is_recorded_against_its_agency_and_renewed_after_its_claim(api, client, agency, inspector):
    owner = register(client, "holder")
    rows = [{"holder": owner.address, "fields": {"degree": "BSc", "row": str(i)}} for i in range(2)]
    api.perform(agency.signer, "/api/batches", {"signer": agency.signer.address, "type": "degree",
                                                "agency": agency.code, "rows": rows})
    first, second = sorted(client.licences_of(owner.address), key=lambda q: q.licence_id)
    text = client.present_qr(owner, first)
    _, receipt = api.perform(inspector, "/api/inspections", {"payload": text, "inspector": inspector.address})
    assert receipt["summary"]["result"] == "valid"  # the batch's agency, not an empty code
    body = {"signer": agency.signer.address, "type": "degree", "fields": {"degree": "MSc"}}
    assert api.ok(api.post(f"/api/licences/{second.licence_id}/renew", body))["then"] == "retry"  # claim first
    prepared, receipt = api.perform(agency.signer, f"/api/licences/{second.licence_id}/renew", body)
    assert receipt["summary"]["renewal_of"] == second.licence_id
    assert licence_of(api, owner, second.licence_id)["status"] == "renewed"


def test_the_gateway_serves_a_shared_file_only_to_an_admitted_reader(api, client, storage, server):
    from elicense import sharing
    from elicense.storage import envelope

    owner, reader, stranger = register(client, "issuer"), register(client, "inspector"), register(client, "inspector")
    contract = sharing.deploy(client.chain, owner)
    published = sharing.share(contract, owner, storage, b"land parcels 2026" * 100, "land-register",
                              {reader.address: crypto.public_key(reader)})
    base = f"/api/sharing/{contract.address}/assets"
    assert "not a data-sharing contract this server serves" in error_of(api.get(base), 404)
    server.app.state.sharing.append(contract.address)  # the operator serves it (serve --sharing)
    directory = api.ok(api.get(base))
    assert directory["owner"] == owner.address and directory["total"] == 1
    assert directory["items"][0]["data_type"] == "land-register"
    assert api.ok(api.get(f"{base}/{published.asset_id}"))["pointer"] == published.pointer

    contract.request_access(reader, published.asset_id, b"\x00" * 32)
    request = sharing.sign_read(contract, reader, published.asset_id)
    body = {k: v for k, v in request.items() if k != "asset_id"}
    served = api.post(f"{base}/{published.asset_id}/read", body)
    assert served.status_code == 200 and served.headers["content-type"] == "application/octet-stream"
    assert envelope.open_envelope(served.content, reader.key) == b"land parcels 2026" * 100
    assert "used already" in error_of(api.post(f"{base}/{published.asset_id}/read", body), 403)
    other = {k: v for k, v in sharing.sign_read(contract, stranger, published.asset_id).items() if k != "asset_id"}
    assert "is not on the allow-list" in error_of(api.post(f"{base}/{published.asset_id}/read", other), 403)
    assert "not a data-sharing contract this server serves" in error_of(api.get(f"/api/sharing/{owner.address}/assets"),
                                                                          404)
    assert "no shared data asset 99" in error_of(api.get(f"{base}/99"), 404)
    # a configured address that is no DataSharing (an operator's typo) is refused as such
    server.app.state.sharing.append(owner.address)
    assert "is not a DataSharing contract" in error_of(api.get(f"/api/sharing/{owner.address}/assets"), 404)
    server.app.state.sharing.remove(owner.address)
    server.app.state.sharing.remove(contract.address)
