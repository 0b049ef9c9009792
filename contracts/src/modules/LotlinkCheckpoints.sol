// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {LotlinkLots} from "./LotlinkLots.sol";

/**
 * @title LotlinkCheckpoints
 * @notice Anchors of EPCIS events, two ways: one event recorded on its own, signed by its actor
 * and checked here; or the Merkle root of a batch of events signed off-chain, anchored by the
 * relayer and verified against each event's signature and role by whoever reads it.
 *
 * A batch root is kept in storage ({anchoredAt}, {isAnchored}). A direct record is anchored by its
 * {CheckpointRecorded} log alone, which the block's receipts root commits to: a verifier reads it
 * back with `eth_getTransactionReceipt`. Keeping no storage slot per event is what holds a
 * signature-checked direct record under 60,000 gas; its signed nonce is what stops a replay.
 */
abstract contract LotlinkCheckpoints is LotlinkLots {
    /// @dev One storage slot per anchored root.
    struct Anchor {
        uint64 blockNumber;
        uint32 count;
        address anchorer;
    }

    /// @notice The most events one batch may claim to hold.
    uint32 public constant MAX_BATCH_COUNT = 1 << 20;

    bytes32 private constant _RECORD_CHECKPOINT_TYPEHASH =
        keccak256("RecordCheckpoint(bytes32 eventHash,bytes32 lotKey,uint8 kind,uint256 nonce,uint256 deadline)");
    bytes32 private constant _ANCHOR_BATCH_TYPEHASH =
        keccak256(
            "AnchorBatch(bytes32 root,bytes32 manifestHash,uint32 count,string manifestUri,uint256 nonce,uint256 deadline)"
        );

    mapping(bytes32 root => Anchor) private _anchors;

    /**
     * @notice Records one EPCIS event hash for `lotKey`, signed by an actor whose role fits `kind`.
     * @return leaf The event's StandardMerkleTree leaf, as a batch would have anchored it.
     */
    function recordCheckpoint(
        bytes32 eventHash,
        bytes32 lotKey,
        uint8 kind,
        Authorization calldata auth
    ) external returns (bytes32 leaf) {
        address signer = _authorizedActor(
            keccak256(abi.encode(_RECORD_CHECKPOINT_TYPEHASH, eventHash, lotKey, kind, auth.nonce, auth.deadline)),
            auth
        );
        if (kind > uint8(type(CheckpointKind).max)) revert LotlinkUnknownCheckpointKind(kind);
        _checkRoleFitsKind(signer, CheckpointKind(kind));
        _requireLot(lotKey);
        leaf = checkpointLeaf(eventHash, lotKey, signer);
        emit CheckpointRecorded(lotKey, signer, eventHash, CheckpointKind(kind));
    }

    /**
     * @notice Anchors the StandardMerkleTree root of `count` signed events. Anchorer role only.
     * @param manifestHash keccak256 of the batch manifest, which lists every event with its signature.
     * @param manifestUri Where the manifest can be fetched; its hash is what binds it.
     */
    function anchorBatch(
        bytes32 root,
        bytes32 manifestHash,
        uint32 count,
        string calldata manifestUri,
        Authorization calldata auth
    ) external {
        address anchorer = _authorizedActor(
            keccak256(
                abi.encode(
                    _ANCHOR_BATCH_TYPEHASH,
                    root,
                    manifestHash,
                    count,
                    keccak256(bytes(manifestUri)),
                    auth.nonce,
                    auth.deadline
                )
            ),
            auth
        );
        _checkRole(ANCHORER_ROLE, anchorer);
        if (count == 0) revert LotlinkEmptyBatch();
        if (count > MAX_BATCH_COUNT) revert LotlinkTooMany(count, MAX_BATCH_COUNT);
        uint64 anchoredBlock = _anchors[root].blockNumber;
        if (anchoredBlock != 0) revert LotlinkAlreadyAnchored(root, anchoredBlock);
        _anchors[root] = Anchor(uint64(block.number), count, anchorer);
        emit BatchAnchored(root, anchorer, manifestHash, count, manifestUri);
    }

    /// @notice The block at which batch `root` was anchored, or 0 if it never was.
    function anchoredAt(bytes32 root) external view returns (uint256) {
        return _anchors[root].blockNumber;
    }

    /// @notice The anchor of `root`: its block, how many events it holds, and who anchored it.
    function anchorOf(bytes32 root) external view returns (uint256 blockNumber, uint256 count, address anchorer) {
        Anchor storage a = _anchors[root];
        return (a.blockNumber, a.count, a.anchorer);
    }

    /// @notice Whether `leaf` is included, through `proof`, under a batch root anchored here.
    function isAnchored(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        return _anchors[root].blockNumber != 0 && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @notice The leaf of a checkpoint: StandardMerkleTree's leaf over (eventHash, lotKey, signer).
    function checkpointLeaf(bytes32 eventHash, bytes32 lotKey, address signer) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(eventHash, lotKey, signer))));
    }

    /// @dev Producers produce and transform; inspectors or the producer's own QC inspect; custody
    /// changes (shipping, receiving) belong to the trading parties and their carriers.
    function _checkRoleFitsKind(address account, CheckpointKind kind) private view {
        bool fits;
        if (kind == CheckpointKind.Produced || kind == CheckpointKind.Transformed) {
            fits = hasRole(SUPPLIER_ROLE, account);
        } else if (kind == CheckpointKind.Inspected) {
            fits = hasRole(INSPECTOR_ROLE, account) || hasRole(SUPPLIER_ROLE, account);
        } else {
            fits = hasRole(SUPPLIER_ROLE, account) || hasRole(CARRIER_ROLE, account);
        }
        if (!fits) revert LotlinkRoleDoesNotFitKind(account, kind);
    }
}
