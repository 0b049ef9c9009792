// Checks an anchor against the chain itself, through a public JSON-RPC endpoint, with fetch.
// Nothing here trusts Lotlink's server: the endpoint answers, the contract's state decides.
//
// Batch receipts: anchoredAt(root) at the latest block must be the receipt's block (so the root
// was anchored there, and is still, after any reorg), with enough confirmations.
// Direct receipts: the transaction's receipt must be successful, in the receipt's block, and hold
// the contract's CheckpointRecorded(lotKey, signer, eventHash, kind) log for this very event.
// Both: the endpoint's chain id must be the one named, and the signer must have held a role that
// fits the checkpoint's kind at that block (hasRole, as LotlinkCheckpoints checks it).
import { addressWord, bytesToHex, hexToBytes, keccakText, sameHex } from './bytes.js';
import { kindCode } from './signature.js';

const selector = (signature) => bytesToHex(keccakText(signature).slice(0, 4));
export const SELECTORS = Object.freeze({
  anchoredAt: selector('anchoredAt(bytes32)'),
  hasRole: selector('hasRole(bytes32,address)'),
});
export const CHECKPOINT_RECORDED_TOPIC = bytesToHex(keccakText('CheckpointRecorded(bytes32,address,bytes32,uint8)'));
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
  if (body && body.error) throw new ChainUnreachable(`${method}: ${body.error.message || JSON.stringify(body.error)}`);
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

/**
 * Checks one event's anchor. `anchor` = {chainId, contract, rpcUrl, confirmations}; `record` =
 * {digest, lotKey, signer, kind, leaf, root, receipt: {mode, txHash, blockNumber, logIndex}}, where
 * digest and leaf are the ones the verifier computed itself. Returns a list of problems (empty
 * means anchored as claimed); throws ChainUnreachable when the endpoint cannot answer.
 */
export async function checkAnchor(anchor, record, { fetchImpl, state } = {}) {
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
    let held = false;
    for (const role of roles) {
      const data = SELECTORS.hasRole + ROLE(role).slice(2) + bytesToHex(addressWord(record.signer)).slice(2);
      const result = await call(rpcUrl, contract, data, toBlockTag(block), fetchImpl);
      if (result !== '0x' && quantity(result) === 1n) {
        held = true;
        break;
      }
    }
    if (!held) {
      problems.push(`${record.signer} was not ${roles.map((r) => r.toLowerCase()).join(' or ')} at block ${block}`);
    }
  }
  return problems;
}
