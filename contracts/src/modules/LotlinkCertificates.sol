// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {LotlinkActors} from "./LotlinkActors.sol";
import {LotlinkLots} from "./LotlinkLots.sol";

/**
 * @title LotlinkCertificates
 * @notice Qualification documents and reports (ISO 9001, production licences, inspection reports,
 * certificates of analysis), bound by the hash of the document itself.
 *
 * Certifiers and inspectors may certify any actor or lot; a supplier may only self-declare,
 * about itself or a lot it owns, and pages show the difference by the issuer's role.
 */
abstract contract LotlinkCertificates is LotlinkActors, LotlinkLots {
    struct Certificate {
        address issuer;
        uint64 validFrom;
        SubjectKind subjectKind;
        CertificateKind kind;
        bool revoked;
        uint64 validUntil;
        bytes32 subject;
        bytes32 documentHash;
    }

    bytes32 private constant _ISSUE_CERTIFICATE_TYPEHASH =
        keccak256(
            "IssueCertificate(uint8 subjectKind,bytes32 subject,uint8 kind,bytes32 documentHash,uint64 validFrom,uint64 validUntil,uint256 nonce,uint256 deadline)"
        );
    bytes32 private constant _REVOKE_CERTIFICATE_TYPEHASH =
        keccak256("RevokeCertificate(bytes32 certificateId,bytes32 reasonHash,uint256 nonce,uint256 deadline)");

    mapping(bytes32 certificateId => Certificate) private _certificates;

    /**
     * @notice Issues a certificate or report about an actor or a lot.
     * @return certificateId keccak256(abi.encode(issuer, subjectKind, subject, kind, documentHash)).
     */
    function issueCertificate(
        CertificateIssue calldata issue,
        Authorization calldata auth
    ) external returns (bytes32 certificateId) {
        address issuer = _authorizedActor(_hashCertificateIssue(issue, auth), auth);
        _checkMayCertify(issuer, issue.subjectKind, issue.subject);
        if (issue.validUntil <= issue.validFrom) revert LotlinkInvalidValidity(issue.validFrom, issue.validUntil);
        certificateId = keccak256(abi.encode(issuer, issue.subjectKind, issue.subject, issue.kind, issue.documentHash));
        if (_certificates[certificateId].issuer != address(0)) revert LotlinkDuplicateCertificate(certificateId);
        _certificates[certificateId] = Certificate({
            issuer: issuer,
            validFrom: issue.validFrom,
            subjectKind: issue.subjectKind,
            kind: issue.kind,
            revoked: false,
            validUntil: issue.validUntil,
            subject: issue.subject,
            documentHash: issue.documentHash
        });
        emit CertificateIssued(
            certificateId,
            issuer,
            issue.subject,
            issue.subjectKind,
            issue.kind,
            issue.documentHash,
            issue.validFrom,
            issue.validUntil
        );
    }

    /// @notice Revokes a certificate before the end of its validity; by its issuer only.
    function revokeCertificate(bytes32 certificateId, bytes32 reasonHash, Authorization calldata auth) external {
        address revoker = _authorizedActor(
            keccak256(abi.encode(_REVOKE_CERTIFICATE_TYPEHASH, certificateId, reasonHash, auth.nonce, auth.deadline)),
            auth
        );
        Certificate storage certificate = _certificates[certificateId];
        if (certificate.issuer == address(0)) revert LotlinkUnknownCertificate(certificateId);
        if (certificate.issuer != revoker) revert LotlinkNotCertificateIssuer(certificateId, revoker);
        if (certificate.revoked) revert LotlinkCertificateAlreadyRevoked(certificateId);
        certificate.revoked = true;
        emit CertificateRevoked(certificateId, revoker, reasonHash);
    }

    /// @notice A certificate as issued, and whether it was revoked.
    function certificateOf(bytes32 certificateId) external view returns (Certificate memory) {
        return _certificates[certificateId];
    }

    /// @notice True while the certificate exists, is not revoked, and the block time lies in its window.
    function isCertificateValid(bytes32 certificateId) external view returns (bool) {
        Certificate storage c = _certificates[certificateId];
        return
            c.issuer != address(0) &&
            !c.revoked &&
            c.validFrom <= block.timestamp &&
            block.timestamp < c.validUntil;
    }

    function _checkMayCertify(address issuer, SubjectKind subjectKind, bytes32 subject) private view {
        if (subjectKind == SubjectKind.Lot) {
            address owner = _requireLot(subject);
            if (hasRole(CERTIFIER_ROLE, issuer) || hasRole(INSPECTOR_ROLE, issuer)) return;
            if (owner == issuer && hasRole(SUPPLIER_ROLE, issuer)) return;
        } else {
            address account = address(uint160(uint256(subject)));
            if (uint256(subject) >> 160 != 0 || !_isRegisteredActor(account)) revert LotlinkUnknownActor(account);
            if (hasRole(CERTIFIER_ROLE, issuer) || hasRole(INSPECTOR_ROLE, issuer)) return;
            if (account == issuer && hasRole(SUPPLIER_ROLE, issuer)) return;
        }
        revert LotlinkNotAllowedToCertify(issuer, subjectKind, subject);
    }

    function _hashCertificateIssue(
        CertificateIssue calldata issue,
        Authorization calldata auth
    ) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    _ISSUE_CERTIFICATE_TYPEHASH,
                    issue.subjectKind,
                    issue.subject,
                    issue.kind,
                    issue.documentHash,
                    issue.validFrom,
                    issue.validUntil,
                    auth.nonce,
                    auth.deadline
                )
            );
    }
}
