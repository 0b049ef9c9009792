"""`lotlink bench verify` at a tiny size: the bundle it builds through the API holds every event
written, anchored in batches, and every check of it passes. Times are not asserted."""

from __future__ import annotations

from lotlink.bench.verify import measure_verify


def test_bench_verify_checks_a_bundle_of_every_event_written() -> None:
    figures = measure_verify(events=24, lots=3, repeat=2)
    # 3 transformations, then shipped and received pairs until 24 events at least.
    assert figures.events in (24, 25) and figures.lots == 4  # the milk and its 3 formula lots
    assert figures.batches >= 1 and figures.failures == 0
    # At least a hash, signature, role, anchor and confirmation check per event.
    assert figures.checks > 5 * figures.events
    assert len(figures.verify_seconds) == 2 and figures.median_seconds > 0
    assert figures.bundle_bytes > 1000 * figures.events
