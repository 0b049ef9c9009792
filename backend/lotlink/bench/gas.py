"""`lotlink bench gas`: the gas of every contract write on a fresh local chain.

Writes are measured as a relayer sends them with the actor's EIP-712 signature (the service's
path: signature check and nonce included) and, where it matters, as sent by the actor itself.
Checkpoint costs are also given per event for direct records and for batches of 1, 64 and 1,024.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from lotlink.bench.harness import BenchChain, bench_chain, bench_gln
from lotlink.chain.merkle import StandardMerkleTree
from lotlink.config import Settings
from lotlink.gs1.keys import check_digit, lot_key
from lotlink.vocabulary import CertificateKind, CheckpointKind, Role, SubjectKind

BATCH_SIZES = (1, 64, 1024)
LEAF_ENCODING = ["bytes32", "bytes32", "address"]


@dataclass(frozen=True, slots=True)
class GasRow:
    """One measured write."""

    write: str
    how: str
    gas: int
    events: int = 1

    @property
    def per_event(self) -> float:
        return self.gas / self.events


def _gtin(base: str) -> str:
    return base + str(check_digit(base))


def measure_gas(settings: Settings | None = None) -> list[GasRow]:
    """Deploys Lotlink on a throwaway anvil and measures each write once."""
    with bench_chain(settings) as chain:
        return _measure(chain)


def _measure(chain: BenchChain) -> list[GasRow]:
    admin, supplier, inspector, certifier, regulator, anchorer, relayer = chain.accounts[:7]
    rows: list[GasRow] = []
    gln = bench_gln

    rows.append(
        GasRow(
            "registerActor",
            "sent by admin",
            chain.send(
                "registerActor", supplier.address, Role.SUPPLIER.id, gln(1), bytes(32), by=admin
            ),
        )
    )
    rows.append(
        GasRow(
            "registerActor",
            "relayed",
            chain.relay(
                "registerActor",
                inspector.address,
                Role.INSPECTOR.id,
                gln(2),
                bytes(32),
                signer=admin,
                relayer=relayer,
            ),
        )
    )
    for account, role, index in (
        (certifier, Role.CERTIFIER, 3),
        (regulator, Role.REGULATOR, 4),
        (anchorer, Role.ANCHORER, 5),
    ):
        chain.send("registerActor", account.address, role.id, gln(index), bytes(32), by=admin)
    rows.append(
        GasRow(
            "updateActorProfile",
            "relayed",
            chain.relay(
                "updateActorProfile",
                supplier.address,
                gln(1),
                b"\x01" * 32,
                signer=supplier,
                relayer=relayer,
            ),
        )
    )

    milk, formula = _gtin("0952123400001"), _gtin("0952123400002")
    no_parents: list[bytes] = []
    raw = (milk, "FARM-A-0601", no_parents, no_parents, 1_200_000, "LTR", os.urandom(32))
    rows.append(
        GasRow(
            "registerLot",
            "raw lot, relayed",
            chain.relay("registerLot", raw, signer=supplier, relayer=relayer),
        )
    )
    chain.relay(
        "registerLot",
        (milk, "FARM-B-0601", [], [], 800_000, "LTR", os.urandom(32)),
        signer=supplier,
        relayer=relayer,
    )
    parents = [lot_key(milk, "FARM-A-0601"), lot_key(milk, "FARM-B-0601")]
    derived = (
        formula,
        "IF-2026-11-A",
        parents,
        [1_200_000, 800_000],
        400_000,
        "H87",
        os.urandom(32),
    )
    rows.append(
        GasRow(
            "registerLot",
            "2 parents, relayed",
            chain.relay("registerLot", derived, signer=supplier, relayer=relayer),
        )
    )
    lot = lot_key(formula, "IF-2026-11-A")

    produced = CheckpointKind.PRODUCED.code
    inspected = CheckpointKind.INSPECTED.code
    rows.append(
        GasRow(
            "recordCheckpoint",
            "direct, sent by the actor",
            chain.send("recordCheckpoint", os.urandom(32), lot, produced, by=supplier),
        )
    )
    rows.append(
        GasRow(
            "recordCheckpoint",
            "direct, relayed, signer's first",
            chain.relay(
                "recordCheckpoint",
                os.urandom(32),
                lot,
                inspected,
                signer=inspector,
                relayer=relayer,
            ),
        )
    )
    rows.append(
        GasRow(
            "recordCheckpoint",
            "direct, relayed (signature checked)",
            chain.relay(
                "recordCheckpoint",
                os.urandom(32),
                lot,
                inspected,
                signer=inspector,
                relayer=relayer,
            ),
        )
    )

    for size in BATCH_SIZES:
        values = [[os.urandom(32), lot, supplier.address] for _ in range(size)]
        root = bytes.fromhex(StandardMerkleTree.of(values, LEAF_ENCODING).root[2:])
        uri = f"https://lotlink.example/api/v1/batches/0x{root.hex()}/manifest"
        rows.append(
            GasRow(
                "anchorBatch",
                f"batch of {size:,}, sent by anchorer",
                chain.send("anchorBatch", root, os.urandom(32), size, uri, by=anchorer),
                events=size,
            )
        )

    now = chain.now()
    issue = (
        SubjectKind.LOT.code,
        lot,
        CertificateKind.CERTIFICATE_OF_ANALYSIS.code,
        os.urandom(32),
        now,
        now + 365 * 86_400,
    )
    rows.append(
        GasRow(
            "issueCertificate",
            "relayed",
            chain.relay("issueCertificate", issue, signer=certifier, relayer=relayer),
        )
    )
    certificate_id = chain.lotlink.contract.events.CertificateIssued().get_logs(
        from_block=chain.w3.eth.block_number
    )[0]["args"]["certificateId"]
    rows.append(
        GasRow(
            "revokeCertificate",
            "relayed",
            chain.relay(
                "revokeCertificate",
                certificate_id,
                os.urandom(32),
                signer=certifier,
                relayer=relayer,
            ),
        )
    )

    rows.append(
        GasRow(
            "issueRecall",
            "1 lot, relayed",
            chain.relay("issueRecall", [lot], 1, os.urandom(32), signer=regulator, relayer=relayer),
        )
    )
    rows.append(
        GasRow(
            "updateRecall",
            "relayed",
            chain.relay("updateRecall", 1, 2, os.urandom(32), signer=regulator, relayer=relayer),
        )
    )
    rows.append(
        GasRow(
            "closeRecall",
            "1 lot, relayed",
            chain.relay("closeRecall", 1, os.urandom(32), signer=regulator, relayer=relayer),
        )
    )
    return rows


def format_table(rows: list[GasRow]) -> str:
    """A Markdown table, as pasted into the README."""
    lines = ["| write | how | gas | gas per event |", "|---|---|---:|---:|"]
    for row in rows:
        per_event = f"{row.per_event:,.1f}" if row.events > 1 else ""
        lines.append(f"| `{row.write}` | {row.how} | {row.gas:,} | {per_event} |")
    return "\n".join(lines)
