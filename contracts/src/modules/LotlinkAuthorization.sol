// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {NoncesKeyed} from "@openzeppelin/contracts/utils/NoncesKeyed.sol";
import {ILotlink} from "../interfaces/ILotlink.sol";

/**
 * @title LotlinkAuthorization
 * @notice Roles, and the one rule every write follows: it is made by its actor, either sent by the
 * actor itself or relayed by anyone holding the actor's EIP-712 signature. A relayer (the service
 * paying gas) can therefore carry an actor's record but never forge or alter it.
 *
 * Relayed signatures carry a keyed nonce (OpenZeppelin NoncesKeyed: independent sequences per
 * 192-bit key, so concurrent clients need not coordinate) and a deadline.
 */
abstract contract LotlinkAuthorization is ILotlink, AccessControl, EIP712, NoncesKeyed {
    /// @notice Registers lots, records production, shipping, receiving and transformation.
    bytes32 public constant SUPPLIER_ROLE = keccak256("SUPPLIER_ROLE");
    /// @notice Records inspections and issues inspection reports.
    bytes32 public constant INSPECTOR_ROLE = keccak256("INSPECTOR_ROLE");
    /// @notice Records custody in transit: shipping and receiving.
    bytes32 public constant CARRIER_ROLE = keccak256("CARRIER_ROLE");
    /// @notice Issues and revokes certificates about actors and lots.
    bytes32 public constant CERTIFIER_ROLE = keccak256("CERTIFIER_ROLE");
    /// @notice Issues, updates and closes recalls of any lot.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");
    /// @notice Anchors Merkle roots of batches of signed events; the relayer that pays gas.
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");

    constructor() EIP712("Lotlink", "1") {}

    /**
     * @dev Returns the actor of a write: the sender when `auth.signature` is empty, otherwise
     * `auth.signer` once its signature over `structHash` is checked and its nonce consumed.
     * `structHash` must already include `auth.nonce` and `auth.deadline`.
     */
    function _authorizedActor(bytes32 structHash, Authorization calldata auth) internal returns (address) {
        if (auth.signature.length == 0) {
            return _msgSender();
        }
        if (block.timestamp > auth.deadline) {
            revert LotlinkExpiredSignature(auth.deadline, block.timestamp);
        }
        (address recovered, ECDSA.RecoverError error, ) = ECDSA.tryRecoverCalldata(
            _hashTypedDataV4(structHash),
            auth.signature
        );
        if (error != ECDSA.RecoverError.NoError) {
            revert LotlinkMalformedSignature();
        }
        if (recovered != auth.signer) {
            revert LotlinkInvalidSigner(recovered, auth.signer);
        }
        _useCheckedNonce(auth.signer, auth.nonce);
        return recovered;
    }

    /// @dev True for the six actor roles and the admin role.
    function _isLotlinkRole(bytes32 role) internal pure returns (bool) {
        return
            role == DEFAULT_ADMIN_ROLE ||
            role == SUPPLIER_ROLE ||
            role == INSPECTOR_ROLE ||
            role == CARRIER_ROLE ||
            role == CERTIFIER_ROLE ||
            role == REGULATOR_ROLE ||
            role == ANCHORER_ROLE;
    }
}
