// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {LotlinkAuthorization} from "./LotlinkAuthorization.sol";

/**
 * @title LotlinkActors
 * @notice Suppliers, inspectors, carriers, certifiers, regulators and anchorers: each an account
 * with roles, a GS1 Global Location Number and the hash of its off-chain profile.
 */
abstract contract LotlinkActors is LotlinkAuthorization {
    struct Actor {
        uint64 gln;
        bytes32 profileHash;
    }

    bytes32 private constant _REGISTER_ACTOR_TYPEHASH =
        keccak256(
            "RegisterActor(address account,bytes32 role,uint64 gln,bytes32 profileHash,uint256 nonce,uint256 deadline)"
        );
    bytes32 private constant _UPDATE_ACTOR_TYPEHASH =
        keccak256("UpdateActorProfile(address account,uint64 gln,bytes32 profileHash,uint256 nonce,uint256 deadline)");

    mapping(address account => Actor) private _actors;

    /**
     * @notice Gives `account` a role and records its GLN and profile hash. Admin only.
     * @dev An account may hold several roles; registering it again for a new role updates its profile.
     */
    function registerActor(
        address account,
        bytes32 role,
        uint64 gln,
        bytes32 profileHash,
        Authorization calldata auth
    ) external {
        address admin = _authorizedActor(
            keccak256(
                abi.encode(_REGISTER_ACTOR_TYPEHASH, account, role, gln, profileHash, auth.nonce, auth.deadline)
            ),
            auth
        );
        _checkRole(DEFAULT_ADMIN_ROLE, admin);
        if (!_isLotlinkRole(role)) revert LotlinkUnknownRole(role);
        if (hasRole(role, account)) revert LotlinkActorAlreadyRegistered(account, role);
        _checkGln(gln);
        _actors[account] = Actor(gln, profileHash);
        _grantRole(role, account);
        emit ActorRegistered(account, role, gln, profileHash);
    }

    /// @notice Changes an actor's GLN or profile hash; by the actor itself or an admin.
    function updateActorProfile(
        address account,
        uint64 gln,
        bytes32 profileHash,
        Authorization calldata auth
    ) external {
        address actor = _authorizedActor(
            keccak256(abi.encode(_UPDATE_ACTOR_TYPEHASH, account, gln, profileHash, auth.nonce, auth.deadline)),
            auth
        );
        if (actor != account) _checkRole(DEFAULT_ADMIN_ROLE, actor);
        if (_actors[account].gln == 0) revert LotlinkUnknownActor(account);
        _checkGln(gln);
        _actors[account] = Actor(gln, profileHash);
        emit ActorProfileUpdated(account, gln, profileHash);
    }

    /// @notice An actor's GLN and profile hash; a zero GLN means the account was never registered.
    function actorOf(address account) external view returns (uint64 gln, bytes32 profileHash) {
        Actor storage a = _actors[account];
        return (a.gln, a.profileHash);
    }

    /// @dev True once `account` has been registered, whatever roles it holds now.
    function _isRegisteredActor(address account) internal view returns (bool) {
        return _actors[account].gln != 0;
    }

    /// @dev Reverts unless `gln` has 13 digits (leading zeros allowed) and a valid mod-10 check digit.
    function _checkGln(uint64 gln) private pure {
        if (gln == 0 || gln >= 1e13) revert LotlinkInvalidGln(gln);
        uint256 rest = gln / 10;
        uint256 sum;
        for (uint256 i; i < 12; ++i) {
            sum += (rest % 10) * (i % 2 == 0 ? 3 : 1);
            rest /= 10;
        }
        if ((10 - (sum % 10)) % 10 != gln % 10) revert LotlinkInvalidGln(gln);
    }
}
