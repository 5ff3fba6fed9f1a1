"""Batch issuance and anchoring, measured on real Anvils through the client the CLI uses.

* gas per licence for batches of 1, 10, 100, 1,000 and 10,000 (target: <= 1,000 at 1,000);
* licences per second end to end (documents, ECIES encryption, Merkle tree, bundle to the store,
  transaction, receipt) for 10,000 licences (target: >= 1,000/s);
* checkpoint latency: a licence issued on a side chain until a main-chain anchor covers it, with
  the relayer's interval stated.

Writes bench/results/batch.json and bench/results/batch.png. Run: `make bench` (or
`.venv/bin/python bench/batch.py`).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.progress import track
from rich.table import Table

from elicense.batch import BatchRow, build
from elicense.chain import account_from_key
from elicense.client import Client
from elicense.crypto import new_account
from elicense.deploy import deploy_topology
from elicense.nodes import LocalChain, LocalNetwork, dev_key
from elicense.registries import AnchorRegistry
from elicense.relay import Relayer
from elicense.store import DocumentStore
from elicense.wallet import Wallet

RESULTS = Path(__file__).parent / "results"
SIZES = [1, 10, 100, 1_000, 10_000]
FIELDS = {"name": "Student Example", "degree": "BSc", "programme": "Chemistry", "conferred": "2026-06-01"}
console = Console()


def _world(client: Client, authorities, holders: int):
    signer = new_account()
    client.register_user("signer", "issuer", account=signer)
    outcome = client.issuers.propose_add_agency(authorities[0], "EDU-BENCH", "Bench University", [signer.address],
                                                ["degree"])
    client.issuers.approve(authorities[1], outcome.proposal_id)
    people = [new_account() for _ in range(holders)]
    for i, person in enumerate(track(people, description="registering holders", console=console)):
        client.register_user(f"h{i}", "holder", account=person)
    return client.with_sender(signer), people


def batches(store_dir: Path) -> dict:
    authorities = [account_from_key(dev_key(i)) for i in range(3)]
    with LocalChain() as node, tempfile.TemporaryDirectory() as tmp:
        client = Client.connect(node.url, sender=authorities[0], deployments_dir=Path(tmp), wallet=Wallet(tmp),
                                store=DocumentStore(store_dir))
        client.deploy_all(authorities=[a.address for a in authorities])
        agency, people = _world(client, authorities, 100)
        registry = agency.licences("degree")
        keys = agency.holder_keys()

        def rows(n):
            return [BatchRow(people[i % len(people)].address, dict(FIELDS, number=str(i))) for i in range(n)]

        agency.send_certification(people[0].address, "EDU-BENCH", "degree", FIELDS)  # the one-time agency/holder slots
        single = agency.send_certification(people[0].address, "EDU-BENCH", "degree", FIELDS)  # the usual case
        gas = []
        for n in SIZES:
            now = registry.chain.w3.eth.get_block("latest")["timestamp"]
            bundle = build(registry, "EDU-BENCH", rows(n), keys, now)
            raw = bundle.to_bytes()
            digest = agency.store.put(raw)
            tx = registry.issue_batch(agency.sender, bundle.root, n, digest)
            gas.append({"size": n, "gas": tx.gas_used, "gas_per_licence": tx.gas_used / n,
                        "bundle_bytes_per_licence": len(raw) / n, "proof_nodes": len(bundle.tree.proof(0))})
            console.print(f"batch of {n:>6,}: {tx.gas_used:>7,} gas, {tx.gas_used / n:>10,.1f} gas per licence")

        # What a holder or inspector pays later, once per licence: a claim, or a first check that claims.
        inspector = new_account()
        client.register_user("inspector", "inspector", account=inspector)
        agency.authorise_inspector("degree", inspector.address)
        mine = [q for q in agency.licences_of(people[5].address) if q.batch]
        claim = agency.claim(mine[0])
        checker = client.with_sender(inspector)
        verdict = checker.check(people[5].address, "EDU-BENCH", client.present(people[5], mine[1]))
        first_check = verdict.tx_hash and client.chain.w3.eth.get_transaction_receipt(verdict.tx_hash)["gasUsed"]

        # Throughput: 10,000 licences end to end, in batches of 1,000 and as one batch.
        throughput = []
        for chunk in (1_000, 10_000):
            started = time.perf_counter()
            for start in range(0, 10_000, chunk):
                agency.issue_batch("degree", "EDU-BENCH", rows(chunk))
            seconds = time.perf_counter() - started
            throughput.append({"licences": 10_000, "batch_size": chunk, "seconds": seconds,
                               "licences_per_second": 10_000 / seconds})
            console.print(f"10,000 licences in batches of {chunk:,}: {seconds:.2f} s, {10_000 / seconds:,.0f} licences/s")
        return {"gas": gas, "single_issue_gas": single.gas_used, "claim_gas": claim.gas_used,
                "first_check_gas": first_check, "throughput": throughput}


def latency(interval: float, samples: int = 20) -> dict:
    authorities = [account_from_key(dev_key(i)) for i in range(3)]
    relayer_keys = [account_from_key(dev_key(i)) for i in (7, 8, 9)]
    with LocalNetwork(cert_types=(3,)) as network, tempfile.TemporaryDirectory() as tmp:
        topology = network.topology()
        deploy_topology(topology, authorities[0], [a.address for a in authorities], [k.address for k in relayer_keys])
        relayer = Relayer(topology, relayer_keys)
        stop = threading.Event()
        thread = threading.Thread(target=relayer.run, kwargs={"interval": interval, "stop": stop}, daemon=True)
        thread.start()
        try:
            client = Client(topology=topology, sender=authorities[0], store=DocumentStore(tmp), wallet=Wallet(tmp))
            agency, people = _world(client, authorities, 3)
            anchor = AnchorRegistry(topology.chain("main"), topology.deployment("main").anchor_registry)
            side = topology.entry("degree").chain_id
            times = []
            for i in track(range(samples), description=f"latency, relayer every {interval:g} s", console=console):
                issued = agency.send_certification(people[i % 3].address, "EDU-BENCH", "degree", FIELDS)
                mined = time.perf_counter()
                while anchor.covering(side, issued.block_number)[0] is None:
                    time.sleep(0.01)
                times.append(time.perf_counter() - mined)
                time.sleep((i % 5) * interval / 5)  # issue at different phases of the relayer's round
        finally:
            stop.set()
            thread.join()
        up = [s.gas_used for s in relayer.submitted if s.destination == "main"]
        down = [s.gas_used for s in relayer.submitted if s.source == "main"]
        times.sort()
        return {"relayer_interval_s": interval, "samples": samples, "median_s": statistics.median(times),
                "p95_s": times[int(0.95 * (len(times) - 1))], "max_s": times[-1], "all_s": times,
                "checkpoint_gas_side_to_main": statistics.median(up), "checkpoint_gas_main_to_side": statistics.median(down)}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    sizes = [g["size"] for g in result["gas"]]
    left.loglog(sizes, [g["gas_per_licence"] for g in result["gas"]], "o-", label="batch (issueBatch)")
    left.axhline(result["single_issue_gas"], color="grey", ls="--", label="one licence (issue)")
    left.axhline(1_000, color="red", ls=":", label="target at 1,000: 1,000 gas")
    left.set_xlabel("licences per batch")
    left.set_ylabel("gas per licence")
    left.set_title("Gas per licence")
    left.legend()
    for run in result["latency"]:
        xs = sorted(run["all_s"])
        right.plot(xs, [(i + 1) / len(xs) for i in range(len(xs))], "o-", label=f"relayer every {run['relayer_interval_s']:g} s")
    right.set_xlabel("seconds from issuance to a main-chain anchor")
    right.set_ylabel("share of licences")
    right.set_title("Checkpoint latency (side → main)")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as store:
        result = batches(Path(store))
    result["latency"] = [latency(1.0), latency(0.2)]
    result["machine"] = {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()}
    (RESULTS / "batch.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, RESULTS / "batch.png")
    table = Table("batch size", "gas", "gas per licence", title="issueBatch")
    for g in result["gas"]:
        table.add_row(f"{g['size']:,}", f"{g['gas']:,}", f"{g['gas_per_licence']:,.1f}")
    console.print(table)
    for run in result["latency"]:
        console.print(f"relayer every {run['relayer_interval_s']:g} s: median {run['median_s']:.2f} s, "
                      f"p95 {run['p95_s']:.2f} s, max {run['max_s']:.2f} s")
    console.print(f"wrote {RESULTS / 'batch.json'} and {RESULTS / 'batch.png'}")


if __name__ == "__main__":
    main()
