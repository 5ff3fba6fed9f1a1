// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Issuer registry (main chain)
/// @notice Issuing agencies by organisation code, governed by a set of authorities: adding, suspending
/// or reinstating an agency, and changing the authority set, pass when more than half approve.
/// Certificate types are small integers (1 marriage, 2 real estate, 3 degree, 4 business licence,
/// 5 health licence, ...); an agency's types are a bit set (bit `t` = type `t`). Bit 0, which is no
/// certificate type, is the civil-registry capability (CIVIL_REGISTRY): governance names the agencies
/// that may close a holder's record (death, change of citizenship) in every licence registry. Like a
/// type, it is delegated down the agency tree and mirrored to side chains in the accreditation leaves.
interface IIssuerRegistry {
    enum ProposalKind {
        AddAgency,
        SuspendAgency,
        ReinstateAgency,
        AddAuthority,
        RemoveAuthority
    }

    enum AgencyStatus {
        None,
        Active,
        Suspended
    }

    struct Agency {
        bytes32 code;
        bytes32 parent;
        string name;
        AgencyStatus status;
        uint256 certTypes;
        uint64 createdAt;
        address[] signers;
    }

    struct Proposal {
        ProposalKind kind;
        bool executed;
        uint32 approvals;
        uint64 createdAt;
        uint64 epoch;
        address proposer;
        bytes32 code;
        address account;
        bytes payload;
    }

    /// @notice One signing account with the types its agency is accredited for now (zero when the
    /// agency or an ancestor is suspended): the leaves of the accreditation root that relayers anchor.
    struct SignerAccreditation {
        address signer;
        bytes32 agency;
        uint256 certTypes;
    }

    /// @dev One entry per status change of an agency, for "was it accredited at block / time X?".
    struct StatusCheckpoint {
        uint64 blockNumber;
        uint64 timestamp;
        bool active;
    }

    /// @notice A proposal was made; the proposer's approval is counted at once.
    event ProposalCreated(uint256 indexed id, ProposalKind indexed kind, address indexed proposer, bytes32 code, address account);
    /// @notice An authority approved a proposal.
    event ProposalApproved(uint256 indexed id, address indexed authority, uint32 approvals, uint32 needed);
    /// @notice A proposal reached its quorum and took effect.
    event ProposalExecuted(uint256 indexed id, ProposalKind indexed kind);
    /// @notice An agency was accredited.
    event AgencyAdded(bytes32 indexed code, bytes32 indexed parent, string name, uint256 certTypes, address[] signers);
    /// @notice An agency's accreditation was suspended or reinstated.
    event AgencyStatusChanged(bytes32 indexed code, AgencyStatus status);
    /// @notice An authority joined the governing set.
    event AuthorityAdded(address indexed account, uint64 epoch);
    /// @notice An authority left the governing set.
    event AuthorityRemoved(address indexed account, uint64 epoch);

    /// @notice `caller` is not a governing authority.
    error IssuerNotAuthority(address caller);
    /// @notice No proposal has this id.
    error IssuerProposalUnknown(uint256 id);
    /// @notice The proposal already took effect (approving it again would be a replay).
    error IssuerProposalExecuted(uint256 id);
    /// @notice The authority set changed after the proposal was made; propose again.
    error IssuerProposalStale(uint256 id, uint64 proposalEpoch, uint64 currentEpoch);
    /// @notice `authority` already approved proposal `id`.
    error IssuerAlreadyApproved(uint256 id, address authority);
    /// @notice The organisation code is empty.
    error IssuerCodeEmpty();
    /// @notice An agency with this code exists already.
    error IssuerAgencyExists(bytes32 code);
    /// @notice No agency has this code.
    error IssuerAgencyUnknown(bytes32 code);
    /// @notice The agency is not in the status this change needs.
    error IssuerAgencyStatus(bytes32 code, AgencyStatus status);
    /// @notice The agency would have no signing account, or neither a certificate type nor the
    /// civil-registry capability.
    error IssuerAgencyIncomplete(bytes32 code);
    /// @notice `signer` signs for agency `code` already (one account signs for one agency).
    error IssuerSignerTaken(address signer, bytes32 code);
    /// @notice `signer` is not registered as an Issuer in the IdentityRegistry.
    error IssuerSignerNotRegistered(address signer);
    /// @notice The parent does not hold every certificate type the agency asks for.
    error IssuerTypesNotDelegated(bytes32 code, bytes32 parent, uint256 missing);
    /// @notice The authority chain above `code` is deeper than MAX_DEPTH.
    error IssuerChainTooDeep(bytes32 code);
    /// @notice `account` is already an authority.
    error IssuerAuthorityExists(address account);
    /// @notice `account` is not an authority.
    error IssuerAuthorityUnknown(address account);
    /// @notice The change would leave no authority.
    error IssuerLastAuthority(address account);
    /// @notice The constructor got no authorities or a duplicate.
    error IssuerAuthoritiesInvalid();

    /// @notice Proposes to accredit a new agency.
    /// @param code Organisation code (ASCII, left-aligned in bytes32), unique.
    /// @param name Display name shown to inspectors.
    /// @param signers Accounts that sign for the agency; each must be a registered Issuer identity.
    /// @param certTypes Bit set of certificate types the agency may issue (bit 0: civil registry).
    /// @param parent Code of the parent agency (0 for a root), which must hold every type asked for.
    /// @return id The proposal id.
    function proposeAddAgency(bytes32 code, string calldata name, address[] calldata signers, uint256 certTypes, bytes32 parent)
        external
        returns (uint256 id);

    /// @notice Proposes to suspend an active agency; its signers can no longer issue.
    /// @param code The agency's organisation code.
    /// @return id The proposal id.
    function proposeSuspendAgency(bytes32 code) external returns (uint256 id);

    /// @notice Proposes to reinstate a suspended agency.
    /// @param code The agency's organisation code.
    /// @return id The proposal id.
    function proposeReinstateAgency(bytes32 code) external returns (uint256 id);

    /// @notice Proposes to add a governing authority.
    /// @param account The new authority.
    /// @return id The proposal id.
    function proposeAddAuthority(address account) external returns (uint256 id);

    /// @notice Proposes to remove a governing authority.
    /// @param account The authority to remove.
    /// @return id The proposal id.
    function proposeRemoveAuthority(address account) external returns (uint256 id);

    /// @notice Approves a proposal; executes it once more than half of the authorities approved.
    /// @param id The proposal id.
    /// @return executed Whether this approval made the proposal take effect.
    function approve(uint256 id) external returns (bool executed);

    /// @notice The agency of a signing account and whether it may issue `certType` now.
    /// @param signer Any address.
    /// @param certType The certificate type (0: whether it is a civil registry, may close records).
    /// @return code The agency code (0 if `signer` signs for none).
    /// @return accredited True when the agency and every parent are active and hold `certType`.
    function signerAccreditation(address signer, uint8 certType) external view returns (bytes32 code, bool accredited);

    /// @notice Whether `code` is accredited for `certType` now, up its authority chain.
    function isAccredited(bytes32 code, uint8 certType) external view returns (bool);

    /// @notice Whether `code` was accredited for `certType` at the end of block `blockNumber`.
    function wasAccreditedAtBlock(bytes32 code, uint8 certType, uint256 blockNumber) external view returns (bool);

    /// @notice Whether `code` was accredited for `certType` at unix time `timestamp`.
    function wasAccreditedAtTime(bytes32 code, uint8 certType, uint256 timestamp) external view returns (bool);

    /// @notice The agency record for `code` (status None when unknown).
    function agency(bytes32 code) external view returns (Agency memory);

    /// @notice The status history of `code`.
    function agencyHistory(bytes32 code) external view returns (StatusCheckpoint[] memory);

    /// @notice Number of agencies ever added.
    function agencyCount() external view returns (uint256);

    /// @notice The code of the `index`-th agency added.
    function agencyCodeAt(uint256 index) external view returns (bytes32);

    /// @notice The agency a signer signs for (0 if none).
    function agencyOfSigner(address signer) external view returns (bytes32);

    /// @notice Every signing account of every agency with its effective certificate types, in agency
    /// order: relayers read it at a block and anchor its standard Merkle root on the side chains.
    function accreditationLeaves() external view returns (SignerAccreditation[] memory leaves);

    /// @notice The proposal with id `id`.
    function proposal(uint256 id) external view returns (Proposal memory);

    /// @notice Number of proposals ever made (ids are 1..count).
    function proposalCount() external view returns (uint256);

    /// @notice Whether `authority` approved proposal `id`.
    function hasApproved(uint256 id, address authority) external view returns (bool);

    /// @notice The current governing authorities.
    function authorities() external view returns (address[] memory);

    /// @notice Whether `account` is a governing authority.
    function isAuthority(address account) external view returns (bool);

    /// @notice Approvals a proposal needs now: more than half of the authorities.
    function quorum() external view returns (uint32);

    /// @notice Increases whenever the authority set changes; older proposals become stale.
    function epoch() external view returns (uint64);
}
