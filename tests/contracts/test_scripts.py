"""The Brownie scripts deploy and accredit through the shared client, on Brownie's own Anvil."""

import json

from brownie import web3

from elicense import Client
from elicense.chain import Chain, account_from_key
from elicense.crypto import new_account
from elicense.nodes import dev_key


def test_deploy_script_deploys_every_contract_and_writes_the_deployment_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ELICENSE_DEPLOYMENTS", str(tmp_path))
    from scripts import deploy

    deployment = deploy.main()
    saved = json.loads((tmp_path / f"{web3.eth.chain_id}.json").read_text())
    assert saved["identity_registry"] == deployment.identity_registry
    assert sorted(saved["licence_registries"]) == ["1", "2", "3", "4", "5"]
    for address in [deployment.identity_registry, deployment.issuer_registry, *deployment.licence_registries.values()]:
        assert len(web3.eth.get_code(address)) > 0


def test_accredit_script_accredits_an_agency(tmp_path, monkeypatch):
    monkeypatch.setenv("ELICENSE_DEPLOYMENTS", str(tmp_path))
    from scripts import accredit, deploy

    deploy.main()
    client = Client(Chain(web3.provider.endpoint_uri), sender=account_from_key(dev_key(0)))
    signer = new_account()
    client.register_user("signer", "issuer", account=signer)
    monkeypatch.setenv("ELICENSE_AGENCY", "EDU-SCRIPT")
    monkeypatch.setenv("ELICENSE_AGENCY_NAME", "Script University")
    monkeypatch.setenv("ELICENSE_SIGNER", signer.address)
    monkeypatch.setenv("ELICENSE_TYPES", "degree")
    outcome = accredit.main()
    assert outcome.executed
    agency = client.issuers.agency("EDU-SCRIPT")
    assert agency.status == "active" and agency.cert_types == ("degree",) and agency.signers == (signer.address,)
