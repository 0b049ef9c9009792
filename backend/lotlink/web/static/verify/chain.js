// Checks an anchor against the chain itself, through a public JSON-RPC endpoint, with fetch.
// Nothing here trusts Lotlink's server: the endpoint answers, the contract's state decides.
//
// Batch receipts: anchoredAt(root) at the latest block must be the receipt's block (so the root
// was anchored there, and is still, after any reorg), with enough confirmations.
// Direct receipts: the transaction's receipt must be successful, in the receipt's block, and hold
// the contract's CheckpointRecorded(lotKey, signer, eventHash, kind) log for this very event.
// Both: the endpoint's chain id must be the one named, and the signer must have held a role that
// fits the checkpoint's kind at that block (hasRole, as LotlinkCheckpoints checks it).
//
// hasRole at a past block needs the node's state of that block: a full node keeps about the last
// 128 blocks, anvil none from before its last restart. The contract changes roles only through
// OpenZeppelin's _grantRole/_revokeRole, which log RoleGranted/RoleRevoked, so when the node has no
// state for the block the role is read from those logs instead, checked against hasRole now (as
// lotlink/chain/roles.py does). When the node can answer neither, the check is not made
// (RoleUnchecked), and says why.
import { addressWord, bytesToHex, hexToBytes, keccakText, sameHex } from './bytes.js';
import { kindCode } from './signature.js';

const selector = (signature) => bytesToHex(keccakText(signature).slice(0, 4));
export const SELECTORS = Object.freeze({
  anchoredAt: selector('anchoredAt(bytes32)'),
  hasRole: selector('hasRole(bytes32,address)'),
});
export const CHECKPOINT_RECORDED_TOPIC = bytesToHex(keccakText('CheckpointRecorded(bytes32,address,bytes32,uint8)'));
const ROLE_GRANTED_TOPIC = bytesToHex(keccakText('RoleGranted(bytes32,address,address)'));
const ROLE_REVOKED_TOPIC = bytesToHex(keccakText('RoleRevoked(bytes32,address,address)'));
const ROLE = (name) => bytesToHex(keccakText(`${name}_ROLE`));
// LotlinkCheckpoints._checkRoleFitsKind, by kind code.
export const ROLES_FOR_KIND = [
  ['SUPPLIER'], // produced
  ['INSPECTOR', 'SUPPLIER'], // inspected
  ['SUPPLIER', 'CARRIER'], // shipped
  ['SUPPLIER', 'CARRIER'], // received
  ['SUPPLIER'], // transformed
];

/** The endpoint could not be reached, or answered something that is not JSON-RPC. */
export class ChainUnreachable extends Error {}

/** The endpoint answered with a JSON-RPC error: it is there, but would not answer this call. */
export class RpcRefused extends ChainUnreachable {
  constructor(method, reason) {
    super(`${method}: ${reason}`);
    this.reason = reason;
  }
}

/** Whether the signer held a fitting role at the block could not be checked (see the top). */
export class RoleUnchecked extends Error {}

let nextId = 1;

export async function rpc(url, method, params, fetchImpl = globalThis.fetch) {
  let response;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (error) {
    throw new ChainUnreachable(`${error.message || error}`);
  }
  if (!response.ok) throw new ChainUnreachable(`HTTP ${response.status}`);
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ChainUnreachable('the answer is not JSON');
  }
  if (body && body.error) throw new RpcRefused(method, body.error.message || JSON.stringify(body.error));
  if (!body || !('result' in body)) throw new ChainUnreachable(`${method}: no result`);
  return body.result;
}

const quantity = (hex) => {
  if (typeof hex !== 'string' || !/^0x[0-9a-fA-F]+$/.test(hex)) throw new ChainUnreachable(`bad quantity ${hex}`);
  return BigInt(hex);
};
const toBlockTag = (n) => '0x' + BigInt(n).toString(16);

/** The endpoint's chain id and head block, read once per check run. */
export async function chainState(rpcUrl, fetchImpl) {
  const [chainId, head] = await Promise.all([
    rpc(rpcUrl, 'eth_chainId', [], fetchImpl),
    rpc(rpcUrl, 'eth_blockNumber', [], fetchImpl),
  ]);
  return { chainId: quantity(chainId), head: quantity(head) };
}

async function call(rpcUrl, to, data, block, fetchImpl) {
  return rpc(rpcUrl, 'eth_call', [{ to, data }, block], fetchImpl);
}

const isTrue = (result) => result !== '0x' && quantity(result) === 1n;

// The (block, granted) changes of `role` for `account`, in chain order, up to `head`; or why
// they cannot be had. One read per role and account for a whole check run (`cache`).
async function roleHistory(rpcUrl, contract, role, account, head, fetchImpl, cache) {
  const key = `${role}:${account.toLowerCase()}`;
  if (!cache.has(key)) {
    cache.set(
      key,
      (async () => {
        const roleId = ROLE(role);
        const accountTopic = bytesToHex(addressWord(account));
        let logs;
        let now;
        try {
          logs = await rpc(rpcUrl, 'eth_getLogs', [
            { address: contract, fromBlock: '0x0', toBlock: toBlockTag(head), topics: [[ROLE_GRANTED_TOPIC, ROLE_REVOKED_TOPIC], roleId, accountTopic] },
          ], fetchImpl);
          now = isTrue(await call(rpcUrl, contract, SELECTORS.hasRole + roleId.slice(2) + accountTopic.slice(2), toBlockTag(head), fetchImpl));
        } catch (error) {
          if (!(error instanceof RpcRefused)) throw error;
          return `refuses its RoleGranted/RoleRevoked logs (${error.reason})`;
        }
        const position = (log) => [quantity(log.blockNumber), quantity(log.transactionIndex), quantity(log.logIndex)];
        const before = (a, b) => {
          const [x, y] = [position(a), position(b)];
          for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
          return 0;
        };
        const history = [...(logs || [])].sort(before).map((log) => [quantity(log.blockNumber), sameHex(log.topics[0], ROLE_GRANTED_TOPIC)]);
        const last = history.length ? history[history.length - 1][1] : false;
        if (last !== now) return "its RoleGranted/RoleRevoked logs do not lead to the role held now (the node's log history is incomplete)";
        return history;
      })(),
    );
  }
  return cache.get(key);
}

// Whether `account` held `role` at the end of `block`; throws RoleUnchecked with the reason when
// the node can say neither from its state nor from the role's logs.
async function roleHeldAt(rpcUrl, contract, role, account, block, { head, fetchImpl, cache }) {
  const data = SELECTORS.hasRole + ROLE(role).slice(2) + bytesToHex(addressWord(account)).slice(2);
  let stateError;
  try {
    return isTrue(await call(rpcUrl, contract, data, toBlockTag(block), fetchImpl));
  } catch (error) {
    if (!(error instanceof RpcRefused)) throw error;
    stateError = error.reason;
  }
  const history = await roleHistory(rpcUrl, contract, role, account, head, fetchImpl, cache);
  if (typeof history === 'string') {
    throw new RoleUnchecked(`the node keeps no state for block ${block} (${stateError}) and ${history}`);
  }
  const upTo = history.filter(([at]) => at <= block);
  return upTo.length > 0 && upTo[upTo.length - 1][1];
}

/**
 * Checks one event's anchor. `anchor` = {chainId, contract, rpcUrl, confirmations}; `record` =
 * {digest, lotKey, signer, kind, leaf, root, receipt: {mode, txHash, blockNumber, logIndex}}, where
 * digest and leaf are the ones the verifier computed itself. Returns a list of problems (empty
 * means anchored as claimed); throws ChainUnreachable when the endpoint cannot answer, and
 * RoleUnchecked when it cannot say whether the signer held a fitting role at the block.
 */
export async function checkAnchor(anchor, record, { fetchImpl, state, roles: cache = new Map() } = {}) {
  const { rpcUrl, contract } = anchor;
  const problems = [];
  const { chainId, head } = state || (await chainState(rpcUrl, fetchImpl));
  if (chainId !== BigInt(anchor.chainId)) {
    return [`the endpoint is chain ${chainId}, but the record names chain ${anchor.chainId}`];
  }
  const receipt = record.receipt;
  const block = BigInt(receipt.blockNumber);
  if (receipt.mode === 'batch') {
    const data = SELECTORS.anchoredAt + bytesToHex(hexToBytes(record.root, 32)).slice(2);
    const result = await call(rpcUrl, contract, data, 'latest', fetchImpl);
    const anchoredAt = result === '0x' ? 0n : quantity(result);
    if (anchoredAt === 0n) problems.push(`the root ${record.root} was never anchored by contract ${contract}`);
    else if (anchoredAt !== block) problems.push(`the root was anchored at block ${anchoredAt}, not block ${block}`);
  } else if (receipt.mode === 'direct') {
    const tx = await rpc(rpcUrl, 'eth_getTransactionReceipt', [receipt.txHash], fetchImpl);
    if (!tx) {
      problems.push(`transaction ${receipt.txHash} is not on chain`);
    } else {
      if (quantity(tx.blockNumber) !== block || quantity(tx.status) !== 1n) {
        problems.push(`transaction ${receipt.txHash} is not a successful one in block ${block}`);
      }
      const wanted = [
        CHECKPOINT_RECORDED_TOPIC,
        bytesToHex(hexToBytes(record.lotKey, 32)),
        bytesToHex(addressWord(record.signer)),
        bytesToHex(hexToBytes(record.digest, 32)),
      ];
      const found = (tx.logs || []).find(
        (log) =>
          sameHex(log.address, contract) &&
          Array.isArray(log.topics) &&
          log.topics.length === 4 &&
          log.topics.every((t, i) => sameHex(t, wanted[i])),
      );
      if (!found) {
        problems.push(`transaction ${receipt.txHash} records no CheckpointRecorded log of this event from ${contract}`);
      } else {
        if (quantity(found.data) !== BigInt(kindCode(record.kind))) problems.push('the log records another kind');
        if (receipt.logIndex !== undefined && receipt.logIndex !== null && quantity(found.logIndex) !== BigInt(receipt.logIndex)) {
          problems.push(`the log is at index ${quantity(found.logIndex)}, not ${receipt.logIndex}`);
        }
      }
    }
  } else {
    problems.push(`unknown anchoring mode ${receipt.mode}`);
  }
  if (head - block < BigInt(anchor.confirmations || 0)) {
    const have = head >= block ? head - block : 0n;
    problems.push(`block ${block} has ${have} confirmations, ${anchor.confirmations} needed`);
  }
  if (!problems.length) {
    const roles = ROLES_FOR_KIND[kindCode(record.kind)];
    const wanted = roles.map((r) => r.toLowerCase()).join(' or ');
    let held = false;
    let unchecked = null;
    for (const role of roles) {
      try {
        held = await roleHeldAt(rpcUrl, contract, role, record.signer, block, { head, fetchImpl, cache });
      } catch (error) {
        if (!(error instanceof RoleUnchecked)) throw error;
        unchecked = unchecked || error;
      }
      if (held) break;
    }
    if (!held && unchecked) {
      throw new RoleUnchecked(`Whether ${record.signer} was ${wanted} at block ${block} could not be checked: ${unchecked.message}`);
    }
    if (!held) problems.push(`${record.signer} was not ${wanted} at block ${block}`);
  }
  return problems;
}
