// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {LotlinkLots} from "./LotlinkLots.sol";

/**
 * @title LotlinkRecalls
 * @notice Recalls of one or more lots: issued by a regulator, or by the lots' owner as a voluntary
 * recall; updated and closed by their issuer or any regulator. Class I is the most serious.
 *
 * Recalls reach derived lots through lineage; that inheritance is computed by readers from
 * {lotParents}, not stored here, so a recall costs the same however far its lots travelled.
 */
abstract contract LotlinkRecalls is LotlinkLots {
    struct Recall {
        address issuer;
        uint8 recallClass;
        RecallStatus status;
        bool voluntary;
        uint64 issuedBlock;
        bytes32 reasonHash;
    }

    /// @notice The most lots one recall may name.
    uint256 public constant MAX_RECALL_LOTS = 256;

    bytes32 private constant _ISSUE_RECALL_TYPEHASH =
        keccak256(
            "IssueRecall(bytes32[] lotKeys,uint8 recallClass,bytes32 reasonHash,uint256 nonce,uint256 deadline)"
        );
    bytes32 private constant _UPDATE_RECALL_TYPEHASH =
        keccak256(
            "UpdateRecall(uint256 recallId,uint8 recallClass,bytes32 reasonHash,uint256 nonce,uint256 deadline)"
        );
    bytes32 private constant _CLOSE_RECALL_TYPEHASH =
        keccak256("CloseRecall(uint256 recallId,bytes32 reasonHash,uint256 nonce,uint256 deadline)");

    uint256 private _recallCount;
    mapping(uint256 recallId => Recall) private _recalls;
    mapping(uint256 recallId => bytes32[]) private _recallLots;
    mapping(bytes32 lotKey => uint256) private _activeRecalls;

    /**
     * @notice Recalls `lotKeys`. A regulator may recall any lot; anyone else only lots it owns.
     * @return recallId The new recall's id, counting from 1.
     */
    function issueRecall(
        bytes32[] calldata lotKeys,
        uint8 recallClass,
        bytes32 reasonHash,
        Authorization calldata auth
    ) external returns (uint256 recallId) {
        address issuer = _authorizedActor(
            keccak256(
                abi.encode(
                    _ISSUE_RECALL_TYPEHASH,
                    keccak256(abi.encodePacked(lotKeys)),
                    recallClass,
                    reasonHash,
                    auth.nonce,
                    auth.deadline
                )
            ),
            auth
        );
        _checkRecallClass(recallClass);
        uint256 lotCount = lotKeys.length;
        if (lotCount == 0) revert LotlinkEmptyRecall();
        if (lotCount > MAX_RECALL_LOTS) revert LotlinkTooMany(lotCount, MAX_RECALL_LOTS);
        bool regulator = hasRole(REGULATOR_ROLE, issuer);
        for (uint256 i; i < lotCount; ++i) {
            bytes32 lotKey = lotKeys[i];
            address owner = _requireLot(lotKey);
            if (!regulator && owner != issuer) revert LotlinkNotLotOwner(lotKey, issuer);
            for (uint256 j; j < i; ++j) {
                if (lotKeys[j] == lotKey) revert LotlinkDuplicateEntry(lotKey);
            }
        }

        recallId = ++_recallCount;
        _recalls[recallId] = Recall({
            issuer: issuer,
            recallClass: recallClass,
            status: RecallStatus.Active,
            voluntary: !regulator,
            issuedBlock: uint64(block.number),
            reasonHash: reasonHash
        });
        _recallLots[recallId] = lotKeys;
        emit RecallIssued(recallId, issuer, recallClass, reasonHash, !regulator);
        for (uint256 i; i < lotCount; ++i) {
            ++_activeRecalls[lotKeys[i]];
            emit LotRecalled(lotKeys[i], recallId);
        }
    }

    /// @notice Changes an active recall's class or reason.
    function updateRecall(
        uint256 recallId,
        uint8 recallClass,
        bytes32 reasonHash,
        Authorization calldata auth
    ) external {
        address updater = _authorizedActor(
            keccak256(
                abi.encode(_UPDATE_RECALL_TYPEHASH, recallId, recallClass, reasonHash, auth.nonce, auth.deadline)
            ),
            auth
        );
        Recall storage recall = _activeRecallFor(recallId, updater);
        _checkRecallClass(recallClass);
        recall.recallClass = recallClass;
        recall.reasonHash = reasonHash;
        emit RecallUpdated(recallId, updater, recallClass, reasonHash);
    }

    /// @notice Ends an active recall; its lots are no longer recalled by it.
    function closeRecall(uint256 recallId, bytes32 reasonHash, Authorization calldata auth) external {
        address closer = _authorizedActor(
            keccak256(abi.encode(_CLOSE_RECALL_TYPEHASH, recallId, reasonHash, auth.nonce, auth.deadline)),
            auth
        );
        Recall storage recall = _activeRecallFor(recallId, closer);
        recall.status = RecallStatus.Closed;
        bytes32[] storage lotKeys = _recallLots[recallId];
        for (uint256 i; i < lotKeys.length; ++i) {
            --_activeRecalls[lotKeys[i]];
        }
        emit RecallClosed(recallId, closer, reasonHash);
    }

    /// @notice A recall as it stands.
    function recallOf(uint256 recallId) external view returns (Recall memory) {
        return _recalls[recallId];
    }

    /// @notice The lots a recall names.
    function recallLots(uint256 recallId) external view returns (bytes32[] memory) {
        return _recallLots[recallId];
    }

    /// @notice How many recalls that name `lotKey` itself are active (ancestors' recalls not counted).
    function activeRecallCount(bytes32 lotKey) external view returns (uint256) {
        return _activeRecalls[lotKey];
    }

    /// @notice How many recalls were ever issued; ids run from 1 to this.
    function recallCount() external view returns (uint256) {
        return _recallCount;
    }

    function _activeRecallFor(uint256 recallId, address account) private view returns (Recall storage recall_) {
        recall_ = _recalls[recallId];
        if (recall_.status == RecallStatus.None) revert LotlinkUnknownRecall(recallId);
        if (recall_.status != RecallStatus.Active) revert LotlinkRecallNotActive(recallId);
        if (recall_.issuer != account && !hasRole(REGULATOR_ROLE, account)) {
            revert LotlinkNotRecallAuthority(recallId, account);
        }
    }

    function _checkRecallClass(uint8 recallClass) private pure {
        if (recallClass < 1 || recallClass > 3) revert LotlinkInvalidRecallClass(recallClass);
    }
}
