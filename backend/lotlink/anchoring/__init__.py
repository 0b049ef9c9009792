"""Anchoring: from the outbox of accepted events to a receipt per event on chain.

``batcher`` closes Merkle batches, ``manifest`` writes the content-addressed document each root
anchors, ``sender`` gets a root on chain exactly once, ``receipts`` stores and shapes each
event's receipt, ``verify`` checks a receipt against any RPC endpoint, ``direct`` records events
one transaction each, and ``anchorer`` runs the loop (with ``lock`` keeping it single).
"""
