"""`lotlink bench anchor` at a tiny size: every event POSTed ends with a stored receipt, the
steady run posts what it promises, and the figures are consistent. Times are not asserted."""

from __future__ import annotations

from lotlink.bench.anchor import measure_anchor


def test_bench_anchor_posts_every_event_until_its_receipt_is_stored() -> None:
    lines: list[str] = []
    f = measure_anchor(
        30,
        3,
        per_request=4,
        rate=12,
        seconds=1,
        raw_transactions=40,
        workers=2,
        progress=lines.append,
    )
    # The service ran as `lotlink serve --workers 2`: two web workers, anchoring beside them.
    assert f.events == 30 and f.clients == 3 and f.steady_events == 12 and f.workers == 2
    assert 0 < f.burst_p50_s <= f.burst_p95_s
    assert 0 < f.steady_p50_s <= f.steady_p95_s <= f.steady_max_s
    # Receipts come after acceptance, so anchoring cannot outpace accepting.
    assert 0 < f.burst_anchored_per_s <= f.burst_accepted_per_s
    assert f.raw_chain_tx_per_s > 0
    # Every part of the stack is accounted for; at this size only the workers' share is sure to
    # exceed the kernel's 10 ms accounting tick.
    cpu = f.burst_cpu_us_per_event
    assert set(cpu) == {"clients", "web workers", "serving process", "anvil"}
    assert cpu["web workers"] > 0 and all(us >= 0 for us in cpu.values()), cpu
    assert len(f.burst_worker_shares) == 2 and abs(sum(f.burst_worker_shares) - 1) < 1e-9
    assert any("all anchored" in line for line in lines)
