// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IIssuerRegistry} from "./interfaces/IIssuerRegistry.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";

/// @title IssuerRegistry
/// @notice See {IIssuerRegistry}.
contract IssuerRegistry is IIssuerRegistry {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice How many levels of parent agencies are followed (EU → state → ministry → agency fits).
    uint256 public constant MAX_DEPTH = 8;

    IIdentityRegistry public immutable identities;

    EnumerableSet.AddressSet private _authorities;
    uint64 private _epoch;

    mapping(bytes32 code => Agency) private _agencies;
    mapping(bytes32 code => StatusCheckpoint[]) private _history;
    mapping(address signer => bytes32 code) private _signerAgency;
    bytes32[] private _codes;

    mapping(uint256 id => Proposal) private _proposals;
    mapping(uint256 id => mapping(address authority => bool)) private _approved;
    uint256 private _proposalCount;

    modifier onlyAuthority() {
        if (!_authorities.contains(msg.sender)) revert IssuerNotAuthority(msg.sender);
        _;
    }

    /// @param initialAuthorities The founding governing authorities (at least one, no duplicates).
    /// @param identityRegistry Where signing accounts must be registered as Issuers.
    constructor(address[] memory initialAuthorities, IIdentityRegistry identityRegistry) {
        if (initialAuthorities.length == 0) revert IssuerAuthoritiesInvalid();
        for (uint256 i = 0; i < initialAuthorities.length; ++i) {
            if (initialAuthorities[i] == address(0) || !_authorities.add(initialAuthorities[i])) {
                revert IssuerAuthoritiesInvalid();
            }
            emit AuthorityAdded(initialAuthorities[i], 0);
        }
        identities = identityRegistry;
    }

    // ---------------------------------------------------------------- proposals

    /// @inheritdoc IIssuerRegistry
    function proposeAddAgency(bytes32 code, string calldata name, address[] calldata signers, uint256 certTypes, bytes32 parent)
        external
        onlyAuthority
        returns (uint256 id)
    {
        _checkNewAgency(code, signers, certTypes, parent);
        id = _propose(ProposalKind.AddAgency, code, address(0), abi.encode(name, signers, certTypes, parent));
    }

    /// @inheritdoc IIssuerRegistry
    function proposeSuspendAgency(bytes32 code) external onlyAuthority returns (uint256 id) {
        _requireStatus(code, AgencyStatus.Active);
        id = _propose(ProposalKind.SuspendAgency, code, address(0), "");
    }

    /// @inheritdoc IIssuerRegistry
    function proposeReinstateAgency(bytes32 code) external onlyAuthority returns (uint256 id) {
        _requireStatus(code, AgencyStatus.Suspended);
        id = _propose(ProposalKind.ReinstateAgency, code, address(0), "");
    }

    /// @inheritdoc IIssuerRegistry
    function proposeAddAuthority(address account) external onlyAuthority returns (uint256 id) {
        if (account == address(0) || _authorities.contains(account)) revert IssuerAuthorityExists(account);
        id = _propose(ProposalKind.AddAuthority, bytes32(0), account, "");
    }

    /// @inheritdoc IIssuerRegistry
    function proposeRemoveAuthority(address account) external onlyAuthority returns (uint256 id) {
        if (!_authorities.contains(account)) revert IssuerAuthorityUnknown(account);
        if (_authorities.length() == 1) revert IssuerLastAuthority(account);
        id = _propose(ProposalKind.RemoveAuthority, bytes32(0), account, "");
    }

    /// @inheritdoc IIssuerRegistry
    function approve(uint256 id) external onlyAuthority returns (bool executed) {
        Proposal storage p = _proposals[id];
        if (p.createdAt == 0) revert IssuerProposalUnknown(id);
        if (p.executed) revert IssuerProposalExecuted(id);
        if (p.epoch != _epoch) revert IssuerProposalStale(id, p.epoch, _epoch);
        if (_approved[id][msg.sender]) revert IssuerAlreadyApproved(id, msg.sender);
        executed = _approveAndMaybeExecute(id, p);
    }

    function _propose(ProposalKind kind, bytes32 code, address account, bytes memory payload) private returns (uint256 id) {
        id = ++_proposalCount;
        Proposal storage p = _proposals[id];
        p.kind = kind;
        p.createdAt = uint64(block.timestamp);
        p.epoch = _epoch;
        p.proposer = msg.sender;
        p.code = code;
        p.account = account;
        p.payload = payload;
        emit ProposalCreated(id, kind, msg.sender, code, account);
        _approveAndMaybeExecute(id, p);
    }

    function _approveAndMaybeExecute(uint256 id, Proposal storage p) private returns (bool) {
        _approved[id][msg.sender] = true;
        uint32 approvals = ++p.approvals;
        uint32 needed = quorum();
        emit ProposalApproved(id, msg.sender, approvals, needed);
        if (approvals < needed) return false;
        p.executed = true;
        _execute(p);
        emit ProposalExecuted(id, p.kind);
        return true;
    }

    function _execute(Proposal storage p) private {
        ProposalKind kind = p.kind;
        if (kind == ProposalKind.AddAgency) {
            (string memory name, address[] memory signers, uint256 certTypes, bytes32 parent) =
                abi.decode(p.payload, (string, address[], uint256, bytes32));
            _addAgency(p.code, name, signers, certTypes, parent);
        } else if (kind == ProposalKind.SuspendAgency) {
            _setStatus(p.code, AgencyStatus.Active, AgencyStatus.Suspended);
        } else if (kind == ProposalKind.ReinstateAgency) {
            _setStatus(p.code, AgencyStatus.Suspended, AgencyStatus.Active);
        } else if (kind == ProposalKind.AddAuthority) {
            if (!_authorities.add(p.account)) revert IssuerAuthorityExists(p.account);
            emit AuthorityAdded(p.account, ++_epoch);
        } else {
            if (_authorities.length() == 1) revert IssuerLastAuthority(p.account);
            if (!_authorities.remove(p.account)) revert IssuerAuthorityUnknown(p.account);
            emit AuthorityRemoved(p.account, ++_epoch);
        }
    }

    // ---------------------------------------------------------------- agencies

    function _checkNewAgency(bytes32 code, address[] memory signers, uint256 certTypes, bytes32 parent) private view {
        if (code == bytes32(0)) revert IssuerCodeEmpty();
        if (_agencies[code].status != AgencyStatus.None) revert IssuerAgencyExists(code);
        // Bit 0 is the civil-registry capability, bits 1..255 the certificate types: at least one.
        if (signers.length == 0 || certTypes == 0) revert IssuerAgencyIncomplete(code);
        for (uint256 i = 0; i < signers.length; ++i) {
            bytes32 taken = _signerAgency[signers[i]];
            if (taken != bytes32(0)) revert IssuerSignerTaken(signers[i], taken);
            for (uint256 j = 0; j < i; ++j) {
                if (signers[j] == signers[i]) revert IssuerSignerTaken(signers[i], code);
            }
            if (identities.roleOf(signers[i]) != IIdentityRegistry.Role.Issuer) revert IssuerSignerNotRegistered(signers[i]);
        }
        if (parent != bytes32(0)) {
            Agency storage up = _agencies[parent];
            if (up.status == AgencyStatus.None) revert IssuerAgencyUnknown(parent);
            uint256 missing = certTypes & ~up.certTypes;
            if (missing != 0) revert IssuerTypesNotDelegated(code, parent, missing);
            if (_depth(parent) >= MAX_DEPTH) revert IssuerChainTooDeep(code);
        }
    }

    function _addAgency(bytes32 code, string memory name, address[] memory signers, uint256 certTypes, bytes32 parent) private {
        // Re-checked: another proposal may have taken the code or a signer since this one was made.
        _checkNewAgency(code, signers, certTypes, parent);
        Agency storage a = _agencies[code];
        a.code = code;
        a.parent = parent;
        a.name = name;
        a.status = AgencyStatus.Active;
        a.certTypes = certTypes;
        a.createdAt = uint64(block.timestamp);
        for (uint256 i = 0; i < signers.length; ++i) {
            _signerAgency[signers[i]] = code;
            a.signers.push(signers[i]);
        }
        _codes.push(code);
        _history[code].push(StatusCheckpoint(uint64(block.number), uint64(block.timestamp), true));
        emit AgencyAdded(code, parent, name, certTypes, signers);
        emit AgencyStatusChanged(code, AgencyStatus.Active);
    }

    function _setStatus(bytes32 code, AgencyStatus from, AgencyStatus to) private {
        _requireStatus(code, from);
        _agencies[code].status = to;
        _history[code].push(StatusCheckpoint(uint64(block.number), uint64(block.timestamp), to == AgencyStatus.Active));
        emit AgencyStatusChanged(code, to);
    }

    function _requireStatus(bytes32 code, AgencyStatus expected) private view {
        AgencyStatus status = _agencies[code].status;
        if (status == AgencyStatus.None) revert IssuerAgencyUnknown(code);
        if (status != expected) revert IssuerAgencyStatus(code, status);
    }

    function _depth(bytes32 code) private view returns (uint256 depth) {
        while (code != bytes32(0)) {
            ++depth;
            code = _agencies[code].parent;
        }
    }

    // ---------------------------------------------------------------- accreditation

    /// @inheritdoc IIssuerRegistry
    function signerAccreditation(address signer, uint8 certType) external view returns (bytes32 code, bool accredited) {
        code = _signerAgency[signer];
        accredited = code != bytes32(0) && _accreditedNow(code, certType);
    }

    /// @inheritdoc IIssuerRegistry
    function isAccredited(bytes32 code, uint8 certType) external view returns (bool) {
        return _accreditedNow(code, certType);
    }

    /// @inheritdoc IIssuerRegistry
    function wasAccreditedAtBlock(bytes32 code, uint8 certType, uint256 blockNumber) external view returns (bool) {
        return _accreditedAt(code, certType, blockNumber, true);
    }

    /// @inheritdoc IIssuerRegistry
    function wasAccreditedAtTime(bytes32 code, uint8 certType, uint256 timestamp) external view returns (bool) {
        return _accreditedAt(code, certType, timestamp, false);
    }

    function _accreditedNow(bytes32 code, uint8 certType) private view returns (bool) {
        uint256 bit = uint256(1) << certType;
        for (uint256 level = 0; level < MAX_DEPTH && code != bytes32(0); ++level) {
            Agency storage a = _agencies[code];
            if (a.status != AgencyStatus.Active || a.certTypes & bit == 0) return false;
            code = a.parent;
        }
        return code == bytes32(0);
    }

    function _accreditedAt(bytes32 code, uint8 certType, uint256 point, bool byBlock) private view returns (bool) {
        uint256 bit = uint256(1) << certType;
        for (uint256 level = 0; level < MAX_DEPTH && code != bytes32(0); ++level) {
            Agency storage a = _agencies[code];
            if (a.certTypes & bit == 0 || !_activeAt(_history[code], point, byBlock)) return false;
            code = a.parent;
        }
        return code == bytes32(0);
    }

    /// @dev Binary search for the last checkpoint at or before `point`; the history only grows by
    /// governance votes, so it stays short, and the search is logarithmic anyway.
    function _activeAt(StatusCheckpoint[] storage history, uint256 point, bool byBlock) private view returns (bool) {
        uint256 low = 0;
        uint256 high = history.length;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            uint256 at = byBlock ? history[mid].blockNumber : history[mid].timestamp;
            if (at > point) high = mid;
            else low = mid + 1;
        }
        return low != 0 && history[low - 1].active;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IIssuerRegistry
    function agency(bytes32 code) external view returns (Agency memory) {
        return _agencies[code];
    }

    /// @inheritdoc IIssuerRegistry
    function agencyHistory(bytes32 code) external view returns (StatusCheckpoint[] memory) {
        return _history[code];
    }

    /// @inheritdoc IIssuerRegistry
    function agencyCount() external view returns (uint256) {
        return _codes.length;
    }

    /// @inheritdoc IIssuerRegistry
    function agencyCodeAt(uint256 index) external view returns (bytes32) {
        return _codes[index];
    }

    /// @inheritdoc IIssuerRegistry
    function agencyOfSigner(address signer) external view returns (bytes32) {
        return _signerAgency[signer];
    }

    /// @inheritdoc IIssuerRegistry
    function accreditationLeaves() external view returns (SignerAccreditation[] memory leaves) {
        uint256 total = 0;
        for (uint256 i = 0; i < _codes.length; ++i) {
            total += _agencies[_codes[i]].signers.length;
        }
        leaves = new SignerAccreditation[](total);
        uint256 n = 0;
        for (uint256 i = 0; i < _codes.length; ++i) {
            bytes32 code = _codes[i];
            uint256 types = _effectiveTypes(code);
            address[] storage signers = _agencies[code].signers;
            for (uint256 j = 0; j < signers.length; ++j) {
                leaves[n++] = SignerAccreditation(signers[j], code, types);
            }
        }
    }

    /// @dev The types `code` may issue now: its own, narrowed by every ancestor's, none if any is not active.
    function _effectiveTypes(bytes32 code) private view returns (uint256 types) {
        types = type(uint256).max;
        for (uint256 level = 0; level < MAX_DEPTH && code != bytes32(0); ++level) {
            Agency storage a = _agencies[code];
            if (a.status != AgencyStatus.Active) return 0;
            types &= a.certTypes;
            code = a.parent;
        }
        if (code != bytes32(0)) return 0;
    }

    /// @inheritdoc IIssuerRegistry
    function proposal(uint256 id) external view returns (Proposal memory) {
        return _proposals[id];
    }

    /// @inheritdoc IIssuerRegistry
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IIssuerRegistry
    function hasApproved(uint256 id, address authority) external view returns (bool) {
        return _approved[id][authority];
    }

    /// @inheritdoc IIssuerRegistry
    function authorities() external view returns (address[] memory) {
        return _authorities.values();
    }

    /// @inheritdoc IIssuerRegistry
    function isAuthority(address account) external view returns (bool) {
        return _authorities.contains(account);
    }

    /// @inheritdoc IIssuerRegistry
    function quorum() public view returns (uint32) {
        return uint32(_authorities.length() / 2 + 1);
    }

    /// @inheritdoc IIssuerRegistry
    function epoch() external view returns (uint64) {
        return _epoch;
    }
}
