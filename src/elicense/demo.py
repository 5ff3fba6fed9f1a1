"""The demo: local chains, every contract, five agencies, holders and an inspector, one licence of
each type and a batch, a passing and a failing check; prints what happened and stops every chain it
started.

``split`` (the default) runs seed 002's shape: a main chain for identities and issuers, one side
chain per certificate type and an EU-level chain above the main chain, each its own Anvil, with a
relayer carrying checkpoints both ways. ``single`` puts every contract on one chain."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .batch import BatchRow
from .chain import account_from_key
from .client import Client
from .deploy import deploy_topology
from .files import write_private
from .nodes import LocalChain, LocalNetwork, dev_key, free_port
from .relay import Relayer
from .store import DocumentStore
from .wallet import Wallet

PASSWORD = "demo"  # the sample keystores' password, printed in the summary

AGENCIES = [
    # code, display name, certificate type, holder, licence fields
    ("REG-HEL", "Helsinki Registry Office", "marriage", "alice",
     {"spouse_a": "Alice Example", "spouse_b": "Bob Example", "date": "2025-06-14", "place": "Helsinki"}),
    ("LAND-FI", "National Land Survey", "real-estate", "bob",
     {"property": "091-004-0012-0003", "owner": "Bob Example", "share": "1/1"}),
    ("EDU-UH", "University of Helsinki", "degree", "alice",
     {"name": "Alice Example", "degree": "MSc", "programme": "Physics", "conferred": "2024-05-31"}),
    ("BIZ-FI", "Business Licence Bureau", "business-licence", "bob",
     {"company": "Example Bakery Oy", "business_id": "3141592-6", "activity": "food retail"}),
    ("HEALTH-FI", "National Health Authority", "health-licence", "alice",
     {"name": "Alice Example", "profession": "registered nurse", "licence_no": "RN-20931"}),
]


def run(out: Path, node: str = "anvil", console: Console | None = None, topology: str = "split",
        serve: bool = False, port: int = 8000) -> dict:
    console = console or Console()
    started = time.monotonic()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    wallet = Wallet(out / "keystore")
    rows: list[tuple[str, str, str, str]] = []

    def note(action: str, tx, extra: str = "") -> None:
        rows.append((action, tx.tx_hash, str(tx.block_number), extra or f"{tx.gas_used:,} gas"))

    authorities = [account_from_key(dev_key(i)) for i in range(3)]
    relayers = [account_from_key(dev_key(i)) for i in (7, 8, 9)]
    with contextlib.ExitStack() as stack:
        if topology == "split":
            network = stack.enter_context(LocalNetwork(kind=node, upper=True, log_dir=out))
            topo = network.topology()
            deploy_topology(topo, authorities[0], [a.address for a in authorities], [r.address for r in relayers])
            topo.save(out / "topology.json")
            admin = Client(topology=topo, sender=authorities[0], wallet=wallet, store=DocumentStore(out / "store"))
            console.print(f"[bold]elicense demo[/]: split topology, {len(topo.chains)} {node} chains "
                          f"({', '.join(f'{n} {e.chain_id}' for n, e in topo.chains.items())}); topology in "
                          f"{out / 'topology.json'}")
            relayer = Relayer(topo, relayers, console=None)
            stop = threading.Event()
            thread = threading.Thread(target=relayer.run, kwargs={"interval": 0.5, "stop": stop}, daemon=True)
            thread.start()
            stack.callback(thread.join)
            stack.callback(stop.set)
        else:
            port = 8545 if _free(8545) else free_port()
            chain_node = stack.enter_context(LocalChain(kind=node, port=port, log_path=out / f"{node}.log"))
            console.print(f"[bold]elicense demo[/]: single chain, {node} on {chain_node.url} (chain id {chain_node.chain_id})")
            admin = Client.connect(chain_node.url, sender=authorities[0], deployments_dir=out / "deployments",
                                   wallet=wallet, store=DocumentStore(out / "store"))
            deployment = admin.deploy_all(authorities=[a.address for a in authorities])
            console.print(f"deployed IdentityRegistry {deployment.identity_registry}, IssuerRegistry "
                          f"{deployment.issuer_registry} and {len(deployment.licence_registries)} licence registries")
            relayer = None

        users = {}
        students = [f"student{i}" for i in range(1, 9)]
        for name, role in [("gov-fi", "issuer")] + [(a[0].lower(), "issuer") for a in AGENCIES] + [
            ("alice", "holder"), ("bob", "holder"), ("police", "inspector")
        ] + [(s, "holder") for s in students]:
            users[name] = admin.register_user(name, role, password=PASSWORD)
            rows.append((f"register {name} ({role})", users[name].tx_hash, str(users[name].block_number), users[name].address))

        # Governance: three authorities, two approvals pass a proposal.
        second = admin.with_sender(authorities[1])
        proposal = admin.issuers.propose_add_agency(
            authorities[0], "FI-GOV", "Government of Finland", [users["gov-fi"].address],
            [a[2] for a in AGENCIES],
        )
        note("propose FI-GOV (root authority)", proposal.tx)
        note("approve FI-GOV (2 of 3)", second.issuers.approve(authorities[1], proposal.proposal_id).tx)
        for code, display, cert, _, _ in AGENCIES:
            p = admin.issuers.propose_add_agency(authorities[0], code, display, [users[code.lower()].address], [cert], "FI-GOV")
            note(f"accredit {code} for {cert}", second.issuers.approve(authorities[1], p.proposal_id).tx)

        # The police inspect every type: in each type's registry its agency authorises them and answers for them.
        for code, _, cert, _, _ in AGENCIES:
            agency = admin.with_sender(wallet.load(code.lower(), PASSWORD))
            note(f"authorise the police inspector ({code})", agency.authorise_inspector(cert, users["police"].address))

        issued = {}
        for code, display, cert, holder, fields in AGENCIES:
            agency = admin.with_sender(wallet.load(code.lower(), PASSWORD))
            licence = agency.send_certification(users[holder].address, code, cert, fields)
            issued[code] = licence
            note(f"issue {cert} to {holder} ({code})", licence, f"{licence.gas_used:,} gas, licence {licence.licence_id[:10]}…")

        # A batch: the university issues this year's degrees in one transaction under one Merkle root.
        university = admin.with_sender(wallet.load("edu-uh", PASSWORD))
        batch = university.issue_batch("degree", "EDU-UH", [
            BatchRow(users[name].address, {"name": name.title(), "degree": "BSc", "programme": "Chemistry"})
            for name in students + ["alice"]
        ])
        note(f"batch of {batch.count} degrees (EDU-UH)", batch,
             f"{batch.gas_used:,} gas, {batch.gas_used // batch.count:,} gas per licence")

        alice = wallet.load("alice", PASSWORD)
        bob = wallet.load("bob", PASSWORD)
        inspector = admin.with_sender(wallet.load("police", PASSWORD))

        # A passing check: Alice shows her degree, disclosing only the degree and programme.
        degree = admin.query_licence(alice.address, issued["EDU-UH"].block_number, issued["EDU-UH"].tx_hash)
        shown = admin.present(alice, degree, fields=["degree", "programme"])
        write_private(out / "alice-degree.presentation.json", shown.dumps())
        passing = inspector.check(alice.address, "EDU-UH", shown)

        # A failing check: the bureau revokes Bob's business licence, then Bob shows it anyway.
        bureau = admin.with_sender(wallet.load("biz-fi", PASSWORD))
        note("revoke Bob's business licence", bureau.revoke("business-licence", issued["BIZ-FI"].licence_id, 1))
        business = admin.query_licence(bob.address, issued["BIZ-FI"].block_number, issued["BIZ-FI"].tx_hash)
        failing = inspector.check(bob.address, "BIZ-FI", admin.present(bob, business))

        # Alice shows the degree from the batch: checked through its Merkle proof, claimed on first check.
        batched = next(q for q in admin.licences_of(alice.address) if q.batch is not None)
        if relayer is not None:
            _wait_anchored(admin, batched)
        from_batch = inspector.check(alice.address, "EDU-UH", admin.present(alice, batched, fields=["degree"]))
        data_sets = _personal_and_shared(admin, wallet, users, out, note)
        if relayer is not None:
            anchored = sorted({(s.source, s.destination) for s in relayer.submitted})
            console.print(f"relayer: {len(relayer.submitted)} checkpoints accepted on {len(anchored)} routes")
        _summary(console, rows, passing, failing, from_batch)
        console.print(f"keystores in {out / 'keystore'} (password '{PASSWORD}'), batch bundles in {out / 'store'}; "
                      f"{time.monotonic() - started:.1f} s")
        console.print(f"personal data: PersonalDataRegistry {data_sets['personal']} (Alice has a pending consent "
                      f"request; files in {out / 'storage'}); shared data: DataSharing {data_sets['sharing']}")
        if serve:
            _serve(console, admin, out, port, data_sets)
        console.print("chains stopped")

    return {"passing": passing, "failing": failing, "issued": issued, "batch": from_batch}


def _personal_and_shared(admin: Client, wallet: Wallet, users: dict, out: Path, note) -> dict:
    """The health authority keeps personal records under the GDPR; the business bureau shares a data set."""
    from . import sharing
    from .crypto import public_key
    from .personal import PersonalData, ReadRefused, deploy
    from .storage.embedded import EmbeddedStore

    storage = EmbeddedStore(out / "storage")
    health, land, bureau = (wallet.load(n, PASSWORD) for n in ("health-fi", "land-fi", "biz-fi"))
    alice, bob, police, gov = (wallet.load(n, PASSWORD) for n in ("alice", "bob", "police", "gov-fi"))
    registry = deploy(admin.chain, health)
    data = PersonalData(registry, storage, identities=admin.identities)
    note("health authority: record Alice's data (her consent)", data.create_with_consent(
        health, alice, {"name": "Alice Example", "email": "alice@example.org", "blood_type": "0+"}, "patient record"))
    note("health authority: record Bob's data (his consent)", data.create_with_consent(
        health, bob, {"name": "Bob Example", "email": "bob@example.org", "blood_type": "A-"}, "patient record"))
    note("Alice reads her own record (logged)", data.read(alice, alice.address, "*").entry)
    try:
        data.read(police, alice.address, "blood_type")
    except ReadRefused as refused:
        note("police reads Alice's record: refused, logged", refused.entry)
    asked = data.request_consent(land, alice.address, "mortgage valuation")
    note("land survey asks Alice for her record (pending in her wallet)", asked)
    registry.grant_role(health, "supervisor", gov.address)
    audit = data.audit(gov, bob.address, record_finding=False)
    note("supervisor audits Bob's record", registry.record_audit(gov, bob.address, audit.finding,
                                                                 bytes.fromhex(audit.evidence[2:])),
         f"finding {audit.finding}")

    shared = sharing.deploy(admin.chain, bureau)
    published = sharing.share(shared, bureau, storage, b"business_id,company,activity\n3141592-6,Example Bakery Oy,"
                              b"food retail\n", "business-register", {police.address: public_key(police)})
    note("business bureau shares the register extract", published)
    return {"personal": registry.address, "sharing": shared.address, "storage": storage}


def _summary(console, rows, passing, failing, from_batch) -> None:
    table = Table("action", "transaction", "block", "detail", title="What the demo did")
    for row in rows:
        table.add_row(row[0], row[1][:18] + "…", row[2], row[3])
    console.print(table)
    for title, verdict in (("Alice shows her degree (degree, programme)", passing),
                           ("Bob shows his revoked business licence", failing),
                           ("Alice shows her degree from the batch (degree)", from_batch)):
        steps = Table("step", "status", "reason", title=title)
        for s in verdict.steps:
            colour = {"valid": "green", "invalid": "red", "error": "red"}.get(s.status, "dim")
            steps.add_row(s.name, f"[{colour}]{s.status}[/]", s.reason)
        console.print(steps)
        console.print(f"  verdict [bold]{'VALID' if verdict.valid else 'INVALID'}[/], inspection recorded in tx "
                      f"{verdict.tx_hash} (block {verdict.block_number}); fields shown: {verdict.fields}")


def _serve(console, admin: Client, out: Path, port: int, data_sets: dict) -> None:
    """The pages and the REST API on the demo's chains, until Ctrl-C; the sample keystores can be
    downloaded from the server and imported into the wallet and console pages."""
    from .server import Server

    service = account_from_key(dev_key(5))
    port = port if _free(port) else 0
    with Server(admin, service, port=port, faucet=True, static={"/demo/keystore": out / "keystore"},
                storage=data_sets["storage"], gateway_log=out / "gateway", personal=[data_sets["personal"]],
                sharing=[data_sets["sharing"]]) as server:
        people = ", ".join(f"[link={server.url}/demo/keystore/{n}.json]{n}[/link]" for n in ("alice", "bob", "police", "edu-uh"))
        console.print(f"\n[bold green]elicense is serving[/] at [bold]{server.url}/[/]  (API docs {server.url}/docs)")
        console.print(f"  holder wallet   {server.url}/wallet.html   import alice.json or bob.json")
        console.print(f"  inspector       {server.url}/inspect.html  import police.json")
        console.print(f"  agency console  {server.url}/agency.html   import edu-uh.json (or reg-hel, land-fi, biz-fi, health-fi)")
        console.print(f"  shared data     {server.url}/sharing.html  import police.json (on the allow-list)")
        console.print("  Alice's wallet also shows her personal record, the land survey's consent request and her access log")
        console.print(f"  sample keystores (password '{PASSWORD}'): {out / 'keystore'}, also at {server.url}/demo/keystore/: {people}")
        console.print("Ctrl-C stops the server and the chains.")
        server.wait(console)


def _wait_anchored(client: Client, licence, timeout: float = 30.0) -> None:
    """Waits until the relayer has carried the batch up to the highest level (for a full verdict)."""
    from .anchoring import KIND_BATCH, anchor_path
    from .registries.licences import batch_key
    from .types import bytes32

    registry = client.licences(licence.cert_type)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hops = anchor_path(client.topology, client.chain_name(registry.chain), KIND_BATCH, registry.address,
                           batch_key(licence.agency, bytes32(licence.batch["root"])), licence.block_number)
        if hops and all(h.valid for h in hops):  # a level not reached yet shows as an invalid hop
            return
        time.sleep(0.3)


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
