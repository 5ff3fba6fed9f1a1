"""Pure units: licence commitment and disclosure, canonical JSON, ECIES and keystores, parsing of
types, revert decoding, and (the one test that needs the chain) EIP-712 digest equality with the
contract's own ``presentationDigest``."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

import elicense
from elicense import (
    Conflict, DecryptionError, ElicenseError, InvalidInput, KeystoreError, NodeUnreachable, NotAllowed, NotDeployed,
    NotFound, crypto, revert, types,
)
from elicense.cli import parse_fields, parse_time
from elicense.licence import (
    FIELD_DOMAIN, LICENCE_DOMAIN, LicenceDocument, canonical, commitment, disclosed_names_hash, disclosure_hash,
    field_leaf, field_salt,
)
from elicense.presentation import Presentation, create
from elicense.verify import Step, Verdict
from elicense.wallet import Wallet

HOLDER = "0x" + "11" * 20
FIELDS = {"name": "Alice Example", "degree": "MSc", "year": 2024}


@pytest.fixture
def document() -> LicenceDocument:
    return LicenceDocument.new(3, "EDU-UH", to_checksum_address(HOLDER), FIELDS, 100, 200)


# ---------------------------------------------------------------- canonical JSON


def test_canonical_json_sorts_keys_and_drops_whitespace():
    assert canonical({"b": [1, {"d": None, "c": True}], "a": "x"}) == b'{"a":"x","b":[1,{"c":true,"d":null}]}'


def test_canonical_json_keeps_unicode_as_utf8():
    assert canonical({"nimi": "Äänekoski"}) == '{"nimi":"Äänekoski"}'.encode()


@pytest.mark.parametrize("value", [1.5, {"a": [0.0]}, [{"b": {"c": -2.5}}]])
def test_canonical_json_refuses_floats_anywhere(value):
    with pytest.raises(InvalidInput, match="may not be floating-point numbers"):
        canonical(value)


# ---------------------------------------------------------------- licence commitment and disclosure


def test_the_commitment_is_the_documented_formula(document):
    salt = {n: keccak(document.salt + n.encode()) for n in FIELDS}
    leaves = [keccak(FIELD_DOMAIN + salt[n] + keccak(n.encode()) + keccak(canonical(FIELDS[n])))
              for n in sorted(FIELDS)]

    assert document.leaves() == leaves
    assert document.data_hash == keccak(LICENCE_DOMAIN + bytes([3]) + b"".join(leaves))
    assert field_salt(document.salt, "name") == salt["name"]
    assert commitment(3, leaves) == document.data_hash


def test_each_new_document_gets_a_fresh_salt_so_equal_data_hashes_differently():
    a = LicenceDocument.new(3, "EDU", HOLDER, FIELDS, 0, 1)
    b = LicenceDocument.new(3, "EDU", HOLDER, FIELDS, 0, 1)
    assert a.salt != b.salt and a.data_hash != b.data_hash


def test_a_full_disclosure_recomputes_the_hash_and_shows_every_field(document):
    data_hash, shown = disclosure_hash(document.disclose())
    assert (data_hash, shown) == (document.data_hash, FIELDS)


def test_a_selective_disclosure_hides_the_other_fields_behind_their_leaves(document):
    disclosure = document.disclose(["degree"])
    data_hash, shown = disclosure_hash(disclosure)

    assert (data_hash, shown) == (document.data_hash, {"degree": "MSc"})
    assert "Alice Example" not in json.dumps(disclosure)
    # sorted by name: degree (shown), name and year (hidden)
    assert [sorted(e) for e in disclosure["fields"]] == [["name", "salt", "value"], ["leaf"], ["leaf"]]


def test_disclosing_an_unknown_field_is_invalid(document):
    with pytest.raises(InvalidInput, match="the licence has no field 'grade'"):
        document.disclose(["degree", "grade"])


def test_a_changed_value_no_longer_matches(document):
    disclosure = document.disclose()
    disclosure["fields"][0]["value"] = "PhD"
    assert disclosure_hash(disclosure)[0] != document.data_hash


@pytest.mark.parametrize("disclosure, fragment", [
    ({"type": 3}, "'fields'"),
    ({"type": 0, "fields": []}, "bad type or leaf length"),
    ({"type": 3, "fields": [{"leaf": "0x1234"}]}, "bad type or leaf length"),
    ({"type": 3, "fields": [{"name": "a", "value": 1, "salt": "zz"}]}, "non-hexadecimal"),
    ({"type": 3, "fields": [{"name": "a", "value": 1}]}, "'salt'"),
])
def test_a_malformed_disclosure_is_invalid(disclosure, fragment):
    with pytest.raises(InvalidInput, match=f"malformed disclosure: .*{fragment}"):
        disclosure_hash(disclosure)


def test_the_disclosed_names_hash_ignores_order():
    assert disclosed_names_hash(["b", "a"]) == disclosed_names_hash(["a", "b"]) == keccak(b'["a","b"]')
    assert disclosed_names_hash([]) != disclosed_names_hash(["a"])


def test_a_document_round_trips_through_its_bytes(document):
    again = LicenceDocument.from_bytes(document.to_bytes())
    assert again == document
    assert again.data_hash == document.data_hash


@pytest.mark.parametrize("raw, fragment", [
    (b"not json", "licence document is not JSON"),
    (b'{"v": 2}', "unsupported licence document version 2"),
    (b'{"v": 1, "type": 3}', "malformed licence document"),
])
def test_a_malformed_document_is_invalid(raw, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        LicenceDocument.from_bytes(raw)


def test_field_leaves_differ_by_name_value_and_salt():
    salt = b"\1" * 32
    base = field_leaf("a", 1, salt)
    assert len({base, field_leaf("b", 1, salt), field_leaf("a", "1", salt), field_leaf("a", 1, b"\2" * 32)}) == 4


# ---------------------------------------------------------------- crypto


def test_ecies_round_trip_to_the_holders_public_key():
    holder = crypto.new_account()
    ciphertext = crypto.encrypt(crypto.public_key(holder), b"licence data")
    assert b"licence data" not in ciphertext
    assert crypto.decrypt(holder.key, ciphertext) == b"licence data"
    assert crypto.decrypt("0x" + holder.key.hex().removeprefix("0x"), ciphertext) == b"licence data"


def test_another_key_cannot_decrypt():
    ciphertext = crypto.encrypt(crypto.public_key(crypto.new_account()), b"secret")
    with pytest.raises(DecryptionError, match="this key cannot decrypt the licence"):
        crypto.decrypt(crypto.new_account().key, ciphertext)


def test_an_altered_ciphertext_cannot_be_decrypted():
    holder = crypto.new_account()
    ciphertext = bytearray(crypto.encrypt(crypto.public_key(holder), b"secret"))
    ciphertext[-1] ^= 1
    with pytest.raises(DecryptionError):
        crypto.decrypt(holder.key, bytes(ciphertext))


def test_the_public_key_is_64_bytes_and_derives_the_address():
    account = crypto.new_account()
    key = crypto.public_key(account)
    assert len(key) == 64
    assert crypto.public_key(account.key) == crypto.public_key(account.key.hex()) == key
    assert crypto.address_of(key) == account.address


@pytest.mark.parametrize("call", [lambda: crypto.address_of(b"\0" * 65), lambda: crypto.encrypt(b"\0" * 33, b"x")])
def test_a_public_key_of_the_wrong_length_is_invalid(call):
    with pytest.raises(InvalidInput, match="public key must be 64 bytes"):
        call()


# ---------------------------------------------------------------- keystores


def quick_keystore(account, password: str) -> dict:
    return Account.encrypt(account.key, password, kdf="scrypt", iterations=2**4)


def test_a_keystore_unlocks_with_its_password_only():
    account = crypto.new_account()
    keystore = quick_keystore(account, "pw")
    assert crypto.decrypt_keystore(keystore, "pw").address == account.address
    with pytest.raises(KeystoreError, match="wrong password for this keystore"):
        crypto.decrypt_keystore(keystore, "PW")


def test_a_keystore_needs_a_password():
    with pytest.raises(InvalidInput, match="a keystore needs a non-empty password"):
        crypto.encrypt_keystore(crypto.new_account(), "")


def test_the_wallet_saves_a_private_v3_scrypt_keystore_once(tmp_path):
    wallet = Wallet(tmp_path / "keys")
    account = crypto.new_account()

    path = wallet.save("alice", account, "pw")  # the full scrypt work factor: ~1 s

    stored = json.loads(path.read_text())
    assert (stored["version"], stored["crypto"]["kdf"]) == (3, "scrypt")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert wallet.address("alice") == account.address
    assert wallet.names() == ["alice"]
    with pytest.raises(Conflict, match="an account named 'alice' exists already"):
        wallet.save("alice", crypto.new_account(), "pw")


def test_the_wallet_loads_by_name_and_refuses_bad_files(tmp_path):
    wallet = Wallet(tmp_path)
    account = crypto.new_account()
    (tmp_path / "bob.json").write_text(json.dumps(quick_keystore(account, "pw")))
    (tmp_path / "junk.json").write_text("not a keystore")

    assert wallet.load("bob", "pw").address == account.address
    with pytest.raises(KeystoreError, match="wrong password"):
        wallet.load("bob", "nope")
    with pytest.raises(KeystoreError, match="junk.json is not a keystore file"):
        wallet.load("junk", "pw")
    with pytest.raises(KeystoreError, match="no account named 'carol'"):
        wallet.load("carol", "pw")
    assert Wallet(tmp_path / "missing").names() == []


# ---------------------------------------------------------------- types and input parsing


@pytest.mark.parametrize("value, number", [("degree", 3), (3, 3), ("3", 3), ("marriage", 1), ("health-licence", 5)])
def test_certificate_types_parse_by_name_or_number(value, number):
    assert types.cert_type(value) == number


@pytest.mark.parametrize("value", ["passport", 0, 6, "0", "", "Degree"])
def test_unknown_certificate_types_are_invalid(value):
    with pytest.raises(InvalidInput, match="unknown certificate type"):
        types.cert_type(value)


def test_roles_parse_case_insensitively():
    assert [types.role(r) for r in ("holder", "ISSUER", "Inspector", "authority")] == [1, 2, 3, 4]
    with pytest.raises(InvalidInput, match="unknown role 'admin'"):
        types.role("admin")


def test_addresses_are_checksummed():
    lower = "0x" + "ab" * 20
    assert types.address(lower) == to_checksum_address(lower)


@pytest.mark.parametrize("value", ["0x" + "ab" * 19, "ab" * 20 + "zz", None, 42, "0X"])
def test_malformed_addresses_are_invalid_and_say_what_was_expected(value):
    with pytest.raises(InvalidInput, match="malformed holder address .*expected 0x followed by 40 hex digits"):
        types.address(value, "holder address")


def test_organisation_codes_are_left_aligned_bytes32():
    raw = types.org_code("EDU-UH")
    assert raw == b"EDU-UH" + b"\0" * 26
    assert types.code_text(raw) == "EDU-UH"
    assert types.org_code("X" * 32) == b"X" * 32


@pytest.mark.parametrize("value", ["", "X" * 33, "Ääne", "tab\there", None])
def test_malformed_organisation_codes_are_invalid(value):
    with pytest.raises(InvalidInput, match="malformed organisation code"):
        types.org_code(value)


def test_bytes32_accepts_hex_with_or_without_prefix_and_raw_bytes():
    raw = bytes(range(32))
    assert types.bytes32(raw) == types.bytes32(raw.hex()) == types.bytes32("0x" + raw.hex()) == raw
    for bad in ("0x1234", "zz" * 32, b"short"):
        with pytest.raises(InvalidInput, match="malformed licence id"):
            types.bytes32(bad, "licence id")


def test_cli_times_parse_dates_unix_seconds_and_never():
    assert parse_time("2024-05-31") == int(dt.datetime(2024, 5, 31, tzinfo=dt.timezone.utc).timestamp())
    nine_utc = dt.datetime(2024, 5, 31, 9, tzinfo=dt.timezone.utc)
    assert parse_time("2024-05-31T12:00:00+03:00") == int(nine_utc.timestamp())
    assert parse_time("1700000000") == 1700000000
    assert parse_time("never") == parse_time("forever") == types.FOREVER
    assert parse_time(None, 7) == 7
    with pytest.raises(InvalidInput, match="malformed time 'tomorrow'"):
        parse_time("tomorrow")


def test_cli_fields_come_from_pairs_and_a_json_file(tmp_path):
    data = tmp_path / "fields.json"
    data.write_text('{"degree": "MSc", "year": 2024}')
    assert parse_fields(("name=Alice", "note=a=b"), str(data)) == {"degree": "MSc", "year": 2024, "name": "Alice",
                                                                   "note": "a=b"}
    with pytest.raises(InvalidInput, match="malformed field 'x': use NAME=VALUE"):
        parse_fields(("x",), None)
    data.write_text("[1, 2]")
    with pytest.raises(InvalidInput, match="must hold a JSON object"):
        parse_fields((), str(data))


# ---------------------------------------------------------------- errors and revert decoding


def test_every_error_is_an_elicense_error_with_its_own_code_and_is_exported():
    classes = [
        InvalidInput, NotFound, NotAllowed, Conflict, NodeUnreachable, NotDeployed, KeystoreError, DecryptionError,
    ]
    assert all(issubclass(c, ElicenseError) for c in classes)
    assert len({c.code for c in classes + [ElicenseError]}) == len(classes) + 1
    assert {c.__name__ for c in classes} <= set(elicense.__all__)
    assert NotFound("gone").user_message == "gone"


def revert_data(signature: str, types_: list[str], args: list) -> bytes:
    return keccak(text=signature)[:4] + encode(types_, args)


def test_a_custom_error_decodes_to_its_name_and_arguments():
    licence_id, caller = b"\xab" * 32, "0x" + "12" * 20
    data = revert_data("LicenseNotIssuer(bytes32,address)", ["bytes32", "address"], [licence_id, caller])

    assert revert.decode_error(data) == ("LicenseNotIssuer", [licence_id, to_checksum_address(caller)])
    assert revert.decode_error("0x" + data.hex()) == revert.decode_error(data)


@pytest.mark.parametrize("signature, types_, args, cls, message", [
    ("LicenseNotIssuer(bytes32,address)", ["bytes32", "address"], [b"\xab" * 32, "0x" + "12" * 20], NotAllowed,
     f"{to_checksum_address('0x' + '12' * 20)} does not sign for the agency that issued licence 0x{'ab' * 32}"),
    ("LicenseStatusInvalid(bytes32,uint8)", ["bytes32", "uint8"], [b"\1" * 32, 3], Conflict,
     f"licence 0x{'01' * 32} is revoked"),
    ("IssuerAgencyUnknown(bytes32)", ["bytes32"], [b"EDU".ljust(32, b"\0")], NotFound,
     "no agency has organisation code EDU"),
    ("IssuerProposalStale(uint256,uint64,uint64)", ["uint256", "uint64", "uint64"], [7, 0, 1], Conflict,
     "proposal 7 is stale: the authority set changed since; propose again"),
    ("LicenseNotAccredited(address,uint8)", ["address", "uint8"], ["0x" + "12" * 20, 1], NotAllowed,
     "does not sign for an agency accredited for marriage (unregistered or suspended issuer)"),
    ("IdentityKeyMalformed(uint256)", ["uint256"], [65], InvalidInput, "public key must be 64 bytes (x‖y), got 65"),
])
def test_a_custom_error_becomes_the_right_class_and_sentence(signature, types_, args, cls, message):
    error = revert.explain(revert_data(signature, types_, args))
    assert type(error) is cls
    assert message in error.user_message
    assert error.contract_error == signature.split("(")[0]


def test_revert_data_that_is_not_ours_is_a_plain_refusal():
    error = revert.explain(revert_data("Unheard(uint256)", ["uint256"], [1]))
    assert type(error) is ElicenseError
    assert "the contract refused the call (revert data" in error.user_message
    assert revert.decode_error(b"\0\0\0\0") is None


def test_every_error_our_contracts_declare_has_a_sentence():
    from elicense import artifacts

    declared = {item["name"] for abi in artifacts.all_abis() for item in abi if item.get("type") == "error"
                and item["name"].startswith(("Identity", "Issuer", "License", "Asset", "Payment", "PersonalData",
                                             "AccessControl"))}
    assert len(declared) > 30
    assert declared <= set(revert._MESSAGES)


# ---------------------------------------------------------------- presentations and verdicts


def test_a_presentation_round_trips_through_json(document):
    p = Presentation(31337, "0x" + "22" * 20, to_checksum_address(HOLDER), "EDU-UH", "0x" + "33" * 32,
                     document.disclose(["degree"]), 1_700_000_000, "0x" + "44" * 32, "0x" + "55" * 65)
    again = Presentation.parse(p.dumps())
    assert again == Presentation.parse(p.to_json()) == p
    assert again.disclosed_names == ["degree"]
    flagged = b"".join((b"\1" if n == "degree" else b"\0") + leaf for n, leaf in zip(sorted(document.fields),
                                                                                      document.leaves()))
    salted = keccak(b"elicense.disclosure.v2" + b"\x44" * 32 + flagged)  # not the bare names' hash any more
    assert again.signed_tuple() == (b"\x33" * 32, salted, 1_700_000_000, b"\x44" * 32)
    assert salted != disclosed_names_hash(["degree"])


@pytest.mark.parametrize("change, fragment", [
    ({"nonce": "0x12"}, "malformed nonce"),
    ({"licence_id": "xyz"}, "malformed licence id"),
    ({"holder": "bob"}, "malformed holder address"),
    ({"disclosure": {"type": 3}}, "disclosure has no field list"),
    ({"not_after": "soon"}, "malformed presentation"),
])
def test_a_malformed_presentation_is_invalid(document, change, fragment):
    base = {"v": 1, "chain_id": 1, "registry": "0x" + "22" * 20, "holder": HOLDER, "agency": "EDU",
            "licence_id": "0x" + "33" * 32, "disclosure": document.disclose(), "not_after": 1,
            "nonce": "0x" + "44" * 32, "signature": "0x"}
    with pytest.raises(InvalidInput, match=fragment):
        Presentation.parse(base | change)


def test_only_the_holder_can_create_a_presentation(document):
    with pytest.raises(InvalidInput, match=f"the licence belongs to {document.holder}, not to"):
        create(None, crypto.new_account(), "0x" + "33" * 32, "EDU-UH", document)


def test_a_verdicts_failed_step_is_the_first_invalid_or_error_step():
    verdict = Verdict(steps=[Step("format", "valid", "ok", ""), Step("anchored", "skipped", "x", ""),
                             Step("status", "invalid", "revoked", "r"), Step("recorded", "error", "e", "")])
    assert verdict.failed_step == Step("status", "invalid", "revoked", "r")
    assert verdict.to_json()["failed_step"]["code"] == "revoked"
    assert Verdict(steps=[Step("format", "valid", "ok", "")]).failed_step is None


# ---------------------------------------------------------------- EIP-712: Python digest == contract digest


def test_the_presentation_type_hash_is_the_documented_string(client):
    registry = client.licences("degree")
    on_chain = registry.contract.functions.PRESENTATION_TYPEHASH().call()
    assert on_chain == keccak(text="Presentation(bytes32 licenceId,bytes32 disclosure,uint64 notAfter,bytes32 nonce)")


def test_the_eip712_domain_matches_the_contracts(client):
    registry = client.licences("degree")
    _, name, version, chain_id, contract, _, _ = registry.contract.functions.eip712Domain().call()
    domain = registry.typed_presentation(b"\0" * 32, b"\0" * 32, 0, b"\0" * 32)["domain"]
    assert domain == {"name": name, "version": version, "chainId": chain_id, "verifyingContract": contract}


@pytest.mark.parametrize("seed", range(3))
def test_eth_account_typed_data_digest_equals_the_contracts_presentation_digest(client, seed):
    registry = client.licences(["marriage", "degree", "health-licence"][seed])
    licence_id, disclosure, nonce = keccak(text=f"id{seed}"), disclosed_names_hash(["a", str(seed)]), os.urandom(32)
    not_after = 1_700_000_000 + seed * 2**40

    python = registry.presentation_digest(licence_id, disclosure, not_after, nonce)
    contract = registry.contract.functions.presentationDigest((licence_id, disclosure, not_after, nonce)).call()

    assert python == bytes(contract)
    other_registry = client.licences("business-licence")
    # bound to the registry: the same message for another registry has another digest
    assert other_registry.presentation_digest(licence_id, disclosure, not_after, nonce) != python
