"""The relayer sends many actors' writes from one account without ever reusing a nonce."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fixtures.world import World, gtin, reverts
from lotlink.chain.relayer import Relayer
from lotlink.errors import ChainRpcError
from lotlink.gs1.keys import lot_key
from lotlink.vocabulary import Role

GTIN = gtin("0952123400041")


def test_concurrent_writers_share_one_relayer_without_nonce_clashes(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    relayer = Relayer(world.lotlink, world.stranger)

    def register(i: int) -> int:
        lot = (GTIN, f"PAR-{i}", [], [], 1000, "KGM", bytes(32))
        # Each writer signs in its own nonce sequence (key i), as independent clients would.
        auth = world.lotlink.sign_write(
            "registerLot", lot, signer=supplier, deadline=world.now() + 600, nonce=(i + 1) << 64
        )
        return int(relayer.send("registerLot", lot, auth=auth)["blockNumber"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        blocks = list(pool.map(register, range(16)))
    assert len(blocks) == 16
    for i in range(16):
        assert world.lotlink.call("lotOf", lot_key(GTIN, f"PAR-{i}"))[0] == supplier.address


def test_a_rejected_call_spends_no_nonce(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    relayer = Relayer(world.lotlink, world.stranger)
    before = world.w3.eth.get_transaction_count(world.stranger.address)
    bad = (GTIN, "BAD#LOT", [], [], 1000, "KGM", bytes(32))
    auth = world.lotlink.sign_write("registerLot", bad, signer=supplier, deadline=world.now() + 600)
    with reverts("LotlinkInvalidLotCode"):
        relayer.send("registerLot", bad, auth=auth)
    good = (GTIN, "GOOD-LOT", [], [], 1000, "KGM", bytes(32))
    auth = world.lotlink.sign_write(
        "registerLot", good, signer=supplier, deadline=world.now() + 600
    )
    relayer.send("registerLot", good, auth=auth)
    assert world.w3.eth.get_transaction_count(world.stranger.address) == before + 1


def test_relayers_of_one_account_in_several_processes_take_turns(
    world: World, tmp_path: Path
) -> None:
    """Two relayers of one account stand for two processes (the service's web worker and its
    background worker, or `lotlink anchorer` beside it): each remembers its own next nonce, so
    without the shared lock file the second one offers a nonce the first already spent."""
    supplier = world.actors[Role.SUPPLIER]
    web, background = (Relayer(world.lotlink, world.stranger, lock_dir=tmp_path) for _ in "ab")

    def register(relayer: Relayer, i: int) -> int:
        lot = (GTIN, f"PROC-{i}", [], [], 1000, "KGM", bytes(32))
        auth = world.lotlink.sign_write(
            "registerLot", lot, signer=supplier, deadline=world.now() + 600, nonce=(i + 1) << 80
        )
        return int(relayer.send("registerLot", lot, auth=auth)["blockNumber"])

    register(web, 0)
    register(background, 1)
    register(web, 2)  # its remembered nonce was taken by the other process meanwhile
    with background.nonce_slot() as slot:
        assert slot.nonce == world.w3.eth.get_transaction_count(world.stranger.address, "pending")
    with ThreadPoolExecutor(max_workers=8) as pool:
        blocks = list(pool.map(lambda i: register((web, background)[i % 2], i), range(3, 19)))
    assert len(blocks) == 16
    for i in range(19):
        assert world.lotlink.call("lotOf", lot_key(GTIN, f"PROC-{i}"))[0] == supplier.address
    assert (tmp_path / f"relayer-{world.stranger.address.lower()}.lock").is_file()


def test_a_slot_answers_its_holders_calls_whether_it_reads_the_nonce_or_not(world: World) -> None:
    """The anchorer asks for fees and a gas estimate under the slot, in the request that reads
    the nonce; an answer the endpoint refuses stands in its place, the others still usable."""
    relayer = Relayer(world.lotlink, world.stranger)  # no lock file: the nonce is remembered
    pending = world.w3.eth.get_transaction_count(world.stranger.address, "pending")
    calls = (("eth_chainId", []), ("eth_getBalance", ["not an address", "latest"]))
    with relayer.nonce_slot(*calls) as read:
        assert read.nonce == pending
        slot_answers = [read.answers]
        read.spent()
    with relayer.nonce_slot(*calls) as remembered:
        assert remembered.nonce == pending + 1
        slot_answers.append(remembered.answers)
    for chain_id, refused in slot_answers:
        assert int(chain_id, 16) == world.w3.eth.chain_id
        assert isinstance(refused, ChainRpcError) and refused.method == "eth_getBalance"
