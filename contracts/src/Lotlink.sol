// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {LotlinkActors} from "./modules/LotlinkActors.sol";
import {LotlinkCertificates} from "./modules/LotlinkCertificates.sol";
import {LotlinkCheckpoints} from "./modules/LotlinkCheckpoints.sol";
import {LotlinkLots} from "./modules/LotlinkLots.sol";
import {LotlinkRecalls} from "./modules/LotlinkRecalls.sol";

/**
 * @title Lotlink
 * @notice The on-chain half of Lotlink's trust model: actor roles, lots and their lineage,
 * checkpoint anchors, certificates and recalls. Every write is made by its actor, sent directly
 * or relayed with the actor's EIP-712 signature (domain "Lotlink", version "1").
 * @dev One deployment holds every module so lineage, roles and anchors are read in one place.
 */
contract Lotlink is LotlinkActors, LotlinkLots, LotlinkCheckpoints, LotlinkCertificates, LotlinkRecalls {
    /// @param admin The account that registers actors and grants roles.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }
}
