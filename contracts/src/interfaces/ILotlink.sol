// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title ILotlink
 * @notice Everything an indexer, a verifier or a client needs to speak to Lotlink: the shapes of
 * its writes, the events that are its indexing API, and its custom errors.
 *
 * Conventions:
 * - A lot key is `keccak256("01" ‖ GTIN-14 ‖ "10" ‖ lot code)`, the hash of the lot's GS1 element
 *   string, so anyone holding a pack can derive it.
 * - Quantities are unsigned integers in thousandths of their unit (1.5 KGM is 1500); units are
 *   UN/ECE Recommendation 20 codes.
 * - A checkpoint leaf is OpenZeppelin's StandardMerkleTree leaf over
 *   `(bytes32 eventHash, bytes32 lotKey, address signer)`. A batch anchors the root of such
 *   leaves in storage; a directly recorded checkpoint is anchored by its {CheckpointRecorded} log.
 */
interface ILotlink {
    /// @notice Who authorised a write: the sender itself (empty signature) or a relayed signer.
    /// @dev With a signature, `signer` must have signed the write's EIP-712 struct with this
    /// `nonce` (OpenZeppelin NoncesKeyed: key in the high 192 bits) before `deadline`.
    struct Authorization {
        address signer;
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice A lot as registered by its owner. Parents are the lots it was made from.
    struct LotRegistration {
        string gtin;
        string lotCode;
        bytes32[] parents;
        uint256[] parentQuantities;
        uint256 quantity;
        string uom;
        bytes32 detailsHash;
    }

    /// @notice What a certificate or report says, about whom, and for how long.
    /// @dev `subject` is a lot key, or an actor's address left-padded to 32 bytes.
    struct CertificateIssue {
        SubjectKind subjectKind;
        bytes32 subject;
        CertificateKind kind;
        bytes32 documentHash;
        uint64 validFrom;
        uint64 validUntil;
    }

    /// @notice What a checkpoint records; fixes which roles may sign it.
    enum CheckpointKind {
        Produced,
        Inspected,
        Shipped,
        Received,
        Transformed
    }

    /// @notice Whether a certificate is about an actor or a lot.
    enum SubjectKind {
        Actor,
        Lot
    }

    /// @notice The documents Lotlink certifies.
    enum CertificateKind {
        Iso9001,
        ProductionLicence,
        InspectionReport,
        CertificateOfAnalysis,
        Other
    }

    /// @notice A recall's life cycle.
    enum RecallStatus {
        None,
        Active,
        Closed
    }

    // ----------------------------------------------------------------------------------- events

    /// @notice `account` was given `role`, with its GS1 location number and profile hash.
    event ActorRegistered(address indexed account, bytes32 indexed role, uint64 gln, bytes32 profileHash);

    /// @notice `account`'s GLN or profile changed.
    event ActorProfileUpdated(address indexed account, uint64 gln, bytes32 profileHash);

    /// @notice A lot was registered by `owner`, made from `parents` (empty for a raw lot).
    event LotRegistered(bytes32 indexed lotKey, address indexed owner, LotRegistration lot);

    /// @notice One EPCIS event was recorded on its own, signed by `signer`; this log is its anchor.
    /// @dev The leaf is not logged: anyone derives it as {checkpointLeaf}(eventHash, lotKey, signer).
    event CheckpointRecorded(
        bytes32 indexed lotKey,
        address indexed signer,
        bytes32 indexed eventHash,
        CheckpointKind kind
    );

    /// @notice The Merkle root of `count` signed events was anchored; the manifest lists them.
    event BatchAnchored(
        bytes32 indexed root,
        address indexed anchorer,
        bytes32 manifestHash,
        uint32 count,
        string manifestUri
    );

    /// @notice A certificate or report was issued about `subject`.
    event CertificateIssued(
        bytes32 indexed certificateId,
        address indexed issuer,
        bytes32 indexed subject,
        SubjectKind subjectKind,
        CertificateKind kind,
        bytes32 documentHash,
        uint64 validFrom,
        uint64 validUntil
    );

    /// @notice A certificate was revoked before its end of validity.
    event CertificateRevoked(bytes32 indexed certificateId, address indexed revoker, bytes32 reasonHash);

    /// @notice A recall was issued; one {LotRecalled} follows for each lot it covers.
    event RecallIssued(
        uint256 indexed recallId,
        address indexed issuer,
        uint8 recallClass,
        bytes32 reasonHash,
        bool voluntary
    );

    /// @notice `lotKey` is covered by recall `recallId`.
    event LotRecalled(bytes32 indexed lotKey, uint256 indexed recallId);

    /// @notice A recall's class or reason changed.
    event RecallUpdated(uint256 indexed recallId, address indexed updater, uint8 recallClass, bytes32 reasonHash);

    /// @notice A recall ended.
    event RecallClosed(uint256 indexed recallId, address indexed closer, bytes32 reasonHash);

    // ----------------------------------------------------------------------------------- errors

    /// @notice A relayed signature was made after its deadline.
    error LotlinkExpiredSignature(uint256 deadline, uint256 timestamp);

    /// @notice A relayed signature recovers to `recovered`, not to the claimed `signer`.
    error LotlinkInvalidSigner(address recovered, address signer);

    /// @notice A relayed signature is not a well-formed ECDSA signature.
    error LotlinkMalformedSignature();

    /// @notice `role` is not one of Lotlink's actor roles.
    error LotlinkUnknownRole(bytes32 role);

    /// @notice `account` already holds `role`.
    error LotlinkActorAlreadyRegistered(address account, bytes32 role);

    /// @notice `account` has never been registered as an actor.
    error LotlinkUnknownActor(address account);

    /// @notice `gln` is not a 13-digit GLN with a valid check digit.
    error LotlinkInvalidGln(uint64 gln);

    /// @notice `gtin` is not 14 digits with a valid check digit.
    error LotlinkInvalidGtin(string gtin);

    /// @notice `lotCode` is empty, longer than 20 characters, or outside GS1 CSET 82.
    error LotlinkInvalidLotCode(string lotCode);

    /// @notice A lot with this key is already registered.
    error LotlinkDuplicateLot(bytes32 lotKey);

    /// @notice A quantity exceeds what an index can hold exactly (2^63 - 1 thousandths).
    error LotlinkQuantityTooLarge(uint256 quantity, uint256 limit);

    /// @notice A unit must be a UN/ECE Recommendation 20 code of 1 to 3 characters.
    error LotlinkInvalidUnit(string uom);

    /// @notice No lot with this key is registered.
    error LotlinkUnknownLot(bytes32 lotKey);

    /// @notice A lot key appears twice in one list (parents of a lot, lots of a recall).
    error LotlinkDuplicateEntry(bytes32 lotKey);

    /// @notice Two lists that must pair up differ in length.
    error LotlinkLengthMismatch(uint256 expected, uint256 actual);

    /// @notice A list is longer than Lotlink accepts in one call.
    error LotlinkTooMany(uint256 count, uint256 limit);

    /// @notice `kind` is not a checkpoint kind.
    error LotlinkUnknownCheckpointKind(uint8 kind);

    /// @notice `account` holds no role that may sign a checkpoint of `kind`.
    error LotlinkRoleDoesNotFitKind(address account, CheckpointKind kind);

    /// @notice Batch `root` was anchored already, at `blockNumber`.
    error LotlinkAlreadyAnchored(bytes32 root, uint256 blockNumber);

    /// @notice A batch must hold at least one event.
    error LotlinkEmptyBatch();

    /// @notice `account` may not issue a certificate about `subject`.
    error LotlinkNotAllowedToCertify(address account, SubjectKind subjectKind, bytes32 subject);

    /// @notice A certificate's validity window is empty.
    error LotlinkInvalidValidity(uint64 validFrom, uint64 validUntil);

    /// @notice A certificate with this id exists already.
    error LotlinkDuplicateCertificate(bytes32 certificateId);

    /// @notice No certificate with this id exists.
    error LotlinkUnknownCertificate(bytes32 certificateId);

    /// @notice Only the issuer may revoke its certificate.
    error LotlinkNotCertificateIssuer(bytes32 certificateId, address account);

    /// @notice The certificate was revoked already.
    error LotlinkCertificateAlreadyRevoked(bytes32 certificateId);

    /// @notice A recall class must be 1 (most serious), 2 or 3.
    error LotlinkInvalidRecallClass(uint8 recallClass);

    /// @notice A recall must cover at least one lot.
    error LotlinkEmptyRecall();

    /// @notice Without the regulator role, `account` may recall only lots it owns.
    error LotlinkNotLotOwner(bytes32 lotKey, address account);

    /// @notice No recall with this id exists.
    error LotlinkUnknownRecall(uint256 recallId);

    /// @notice The recall is closed.
    error LotlinkRecallNotActive(uint256 recallId);

    /// @notice Only the recall's issuer or a regulator may change it.
    error LotlinkNotRecallAuthority(uint256 recallId, address account);
}
