// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {LotlinkAuthorization} from "./LotlinkAuthorization.sol";

/**
 * @title LotlinkLots
 * @notice Lots and their lineage. A lot made by transformation names the lots it consumed, so a
 * trace can walk upstream to every source and downstream to every product derived from it.
 * Parents must exist before their children, so the lineage graph can never hold a cycle.
 */
abstract contract LotlinkLots is LotlinkAuthorization {
    struct Lot {
        address owner;
        uint64 registeredBlock;
    }

    /// @notice The most parent lots one registration may name.
    uint256 public constant MAX_PARENTS = 256;
    /// @notice The largest quantity, in thousandths: a signed 64-bit integer, exact in any SQL index.
    uint256 public constant MAX_QUANTITY = uint256(uint64(type(int64).max));

    bytes32 private constant _REGISTER_LOT_TYPEHASH =
        keccak256(
            "RegisterLot(string gtin,string lotCode,bytes32[] parents,uint256[] parentQuantities,uint256 quantity,string uom,bytes32 detailsHash,uint256 nonce,uint256 deadline)"
        );

    mapping(bytes32 lotKey => Lot) private _lots;
    mapping(bytes32 lotKey => bytes32[]) private _parents;

    /**
     * @notice Registers a lot owned by its signer, who must hold the supplier role.
     * @return lotKey The key of the new lot, derived from its GTIN and lot code.
     */
    function registerLot(LotRegistration calldata lot, Authorization calldata auth) external returns (bytes32 lotKey) {
        address owner = _authorizedActor(_hashLotRegistration(lot, auth), auth);
        _checkRole(SUPPLIER_ROLE, owner);
        _checkGtin(lot.gtin);
        _checkLotCode(lot.lotCode);
        _checkQuantity(lot.quantity);
        uint256 unitLength = bytes(lot.uom).length;
        if (unitLength == 0 || unitLength > 3) revert LotlinkInvalidUnit(lot.uom);
        lotKey = lotKeyOf(lot.gtin, lot.lotCode);
        if (_lots[lotKey].owner != address(0)) revert LotlinkDuplicateLot(lotKey);

        uint256 parentCount = lot.parents.length;
        if (parentCount > MAX_PARENTS) revert LotlinkTooMany(parentCount, MAX_PARENTS);
        if (lot.parentQuantities.length != parentCount) {
            revert LotlinkLengthMismatch(parentCount, lot.parentQuantities.length);
        }
        for (uint256 i; i < parentCount; ++i) {
            bytes32 parent = lot.parents[i];
            _requireLot(parent);
            _checkQuantity(lot.parentQuantities[i]);
            for (uint256 j; j < i; ++j) {
                if (lot.parents[j] == parent) revert LotlinkDuplicateEntry(parent);
            }
        }

        _lots[lotKey] = Lot(owner, uint64(block.number));
        if (parentCount > 0) _parents[lotKey] = lot.parents;
        emit LotRegistered(lotKey, owner, lot);
    }

    /// @notice A lot's owner and registration block; a zero owner means no such lot.
    function lotOf(bytes32 lotKey) external view returns (address owner, uint256 registeredBlock) {
        Lot storage l = _lots[lotKey];
        return (l.owner, l.registeredBlock);
    }

    /// @notice The lots `lotKey` was made from, in registration order.
    function lotParents(bytes32 lotKey) external view returns (bytes32[] memory) {
        return _parents[lotKey];
    }

    /// @notice The key of the lot with this GTIN-14 and lot code: keccak256("01" ‖ gtin ‖ "10" ‖ lotCode).
    function lotKeyOf(string calldata gtin, string calldata lotCode) public pure returns (bytes32) {
        return keccak256(abi.encodePacked("01", gtin, "10", lotCode));
    }

    /// @dev The owner of a registered lot; reverts for an unknown one.
    function _requireLot(bytes32 lotKey) internal view returns (address owner) {
        owner = _lots[lotKey].owner;
        if (owner == address(0)) revert LotlinkUnknownLot(lotKey);
    }

    function _hashLotRegistration(
        LotRegistration calldata lot,
        Authorization calldata auth
    ) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    _REGISTER_LOT_TYPEHASH,
                    keccak256(bytes(lot.gtin)),
                    keccak256(bytes(lot.lotCode)),
                    keccak256(abi.encodePacked(lot.parents)),
                    keccak256(abi.encodePacked(lot.parentQuantities)),
                    lot.quantity,
                    keccak256(bytes(lot.uom)),
                    lot.detailsHash,
                    auth.nonce,
                    auth.deadline
                )
            );
    }

    function _checkQuantity(uint256 quantity) private pure {
        if (quantity > MAX_QUANTITY) revert LotlinkQuantityTooLarge(quantity, MAX_QUANTITY);
    }

    /// @dev Reverts unless `gtin` is 14 ASCII digits with a valid GS1 mod-10 check digit.
    function _checkGtin(string calldata gtin) private pure {
        bytes calldata digits = bytes(gtin);
        if (digits.length != 14) revert LotlinkInvalidGtin(gtin);
        uint256 sum;
        for (uint256 i; i < 14; ++i) {
            uint8 c = uint8(digits[i]);
            if (c < 0x30 || c > 0x39) revert LotlinkInvalidGtin(gtin);
            // Weights run 3,1,3,… from the digit left of the check digit, i.e. 3 on even i here.
            if (i < 13) sum += (c - 0x30) * (i % 2 == 0 ? 3 : 1);
        }
        if ((10 - (sum % 10)) % 10 != uint8(digits[13]) - 0x30) revert LotlinkInvalidGtin(gtin);
    }

    /// @dev Reverts unless `lotCode` has 1 to 20 characters of GS1 CSET 82.
    function _checkLotCode(string calldata lotCode) private pure {
        bytes calldata chars = bytes(lotCode);
        if (chars.length == 0 || chars.length > 20) revert LotlinkInvalidLotCode(lotCode);
        for (uint256 i; i < chars.length; ++i) {
            uint8 c = uint8(chars[i]);
            // CSET 82 is 0x21..0x7A without # $ @ [ \ ] ^ `.
            if (
                c < 0x21 ||
                c > 0x7A ||
                c == 0x23 ||
                c == 0x24 ||
                c == 0x40 ||
                (c >= 0x5B && c <= 0x5E) ||
                c == 0x60
            ) revert LotlinkInvalidLotCode(lotCode);
        }
    }
}
