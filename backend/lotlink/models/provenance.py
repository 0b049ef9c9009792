"""Where on chain a row came from: the log that created it."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from lotlink.models.types import Hex32


class ChainProvenance:
    """Block, transaction and log index of the log that put this row on chain.

    All three are NULL while the row is only known off chain (accepted by the API, not yet seen
    by the indexer). Every table that a log creates carries the same three names, so a reorg
    rollback is one ``DELETE … WHERE block_number > :ancestor`` per table, and ``(block_number,
    log_index)`` orders rows the way the chain did.
    """

    block_number: Mapped[int | None] = mapped_column(BigInteger)
    tx_hash: Mapped[str | None] = mapped_column(Hex32)
    log_index: Mapped[int | None] = mapped_column(Integer)
