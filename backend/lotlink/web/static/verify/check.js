// "Check it yourself": every check of the evidence a scan page embeds, without the DOM, so that
// node can run it too. The server's evidence is only data to check: the digest, leaf and root are
// re-computed here from the event itself, and only the chain (through the public RPC endpoint)
// says whether they were anchored.
import { parseExact, toPlain, JsonObject } from './jsonexact.js';
import { storedDigest, hashId, Unsupported } from './eventhash.js';
import { checkpointLeaf, processProof } from './merkle.js';
import { recoverCheckpointSigner } from './signature.js';
import { chainState, checkAnchor, ChainUnreachable, RoleUnchecked } from './chain.js';
import { sameHex } from './bytes.js';

export const TEXT = Object.freeze({
  verified: 'Checked against the chain: this record is unchanged',
  failed: 'This record does not match what was anchored on the chain',
  unreachable: (url) => `Could not reach the chain at ${url}`,
  pending: 'Not anchored on the chain yet, so not checked',
  unchecked: 'Not checked',
});

const step = (status, text) => ({ status, text });

/** Parse the page's evidence JSON text; epcisDocument values keep Python's int/float and key order. */
export function parseEvidence(text) {
  const exact = parseExact(text);
  const plain = toPlain(exact);
  const documents = (exact.get('events') || []).map((e) => (e instanceof JsonObject ? e.get('epcisDocument') : null));
  plain.events = (plain.events || []).map((event, i) => ({ ...event, epcisDocument: documents[i] ?? null }));
  return plain;
}

async function checkEvent(evidence, event, chain) {
  const steps = {};
  const receipt = event.receipt || null;
  let digest = null;
  // 1. the event hash, re-computed from the event itself
  try {
    if (!event.epcisDocument) throw new Unsupported('the page gives no event to hash');
    const computed = await storedDigest(event.epcisDocument);
    if (!sameHex(computed.digest, event.digest)) {
      steps.hash = step('fail', `The event hashes to ${computed.digest}, not to its recorded digest ${event.digest}`);
    } else if (event.eventId && event.eventId !== hashId(computed.digest)) {
      steps.hash = step('fail', `The event ID ${event.eventId} is not the event's hash ${hashId(computed.digest)}`);
    } else {
      steps.hash = step('pass', `The event hashes to its digest ${computed.digest} (CBV 2.0 event hash)`);
    }
    digest = computed.digest;
  } catch (error) {
    const why = error instanceof Unsupported ? error.message : `${error.name}: ${error.message}`;
    steps.hash = step('unchecked', `The event hash could not be re-computed here (${why})`);
  }
  // 2. the actor's signature over Checkpoint(eventHash, lotKey, kind)
  if (digest && event.signature) {
    try {
      const recovered = recoverCheckpointSigner(
        { chainId: evidence.chainId, contract: evidence.contract, eventHash: digest, lotKey: event.lotKey, kind: event.kind },
        event.signature,
      );
      steps.signature = sameHex(recovered, event.signer)
        ? step('pass', `Signed by ${event.signer}`)
        : step('fail', `The signature was made by ${recovered}, not by the named signer ${event.signer}`);
    } catch (error) {
      steps.signature = step('fail', `The signature cannot be read: ${error.message}`);
    }
  } else {
    steps.signature = step('unchecked', digest ? 'The page gives no signature' : 'Not checked without the event hash');
  }
  // 3. the leaf and its Merkle proof
  let leaf = null;
  let root = null;
  if (!receipt) {
    steps.proof = step('pending', TEXT.pending);
  } else if (digest) {
    try {
      leaf = checkpointLeaf(digest, event.lotKey, event.signer);
      root = processProof(leaf, receipt.proof || []);
      if (receipt.leaf && !sameHex(receipt.leaf, leaf)) {
        steps.proof = step('fail', `The leaf of this event is ${leaf}, not ${receipt.leaf}`);
      } else if (!sameHex(root, receipt.root)) {
        steps.proof = step('fail', `The Merkle proof leads to ${root}, not to the root ${receipt.root}`);
      } else if (receipt.mode === 'direct' && !sameHex(root, leaf)) {
        steps.proof = step('fail', 'A direct record has no Merkle path');
      } else {
        steps.proof = step('pass', receipt.mode === 'direct' ? 'Recorded on its own (no Merkle path)' : `The Merkle proof leads to the root ${root}`);
      }
    } catch (error) {
      steps.proof = step('fail', `The proof is malformed: ${error.message}`);
    }
  } else {
    steps.proof = step('unchecked', 'Not checked without the event hash');
  }
  // 4. the anchor, on chain
  if (!receipt) {
    steps.chain = step('pending', TEXT.pending);
  } else if (!digest || steps.proof.status !== 'pass') {
    steps.chain = step('unchecked', 'Not asked: the checks above did not pass');
  } else if (chain.unreachable) {
    steps.chain = step('unreachable', `${TEXT.unreachable(evidence.rpcUrl)} (${chain.unreachable})`);
  } else {
    try {
      const problems = await checkAnchor(
        evidence,
        { digest, lotKey: event.lotKey, signer: event.signer, kind: event.kind, leaf, root, receipt },
        { state: chain.state, fetchImpl: chain.fetchImpl, roles: chain.roles },
      );
      steps.chain = problems.length
        ? step('fail', problems.join('; '))
        : step(
            'pass',
            `Anchored in block ${receipt.blockNumber} of chain ${evidence.chainId}, ` +
              `${chain.state.head - BigInt(receipt.blockNumber)} blocks deep`,
          );
    } catch (error) {
      if (error instanceof RoleUnchecked) {
        // Anchored as claimed, but the node cannot say whether the signer held the role then.
        steps.chain = step('unchecked', error.message);
      } else if (error instanceof ChainUnreachable) {
        steps.chain = step('unreachable', `${TEXT.unreachable(evidence.rpcUrl)} (${error.message})`);
      } else {
        throw error;
      }
    }
  }
  const statuses = Object.values(steps).map((s) => s.status);
  let status;
  let text;
  if (statuses.includes('fail')) [status, text] = ['failed', TEXT.failed];
  else if (steps.hash.status !== 'pass') [status, text] = ['unchecked', `${TEXT.unchecked}: ${steps.hash.text}`];
  else if (!receipt) [status, text] = ['pending', TEXT.pending];
  else if (steps.chain.status === 'unreachable') [status, text] = ['unreachable', TEXT.unreachable(evidence.rpcUrl)];
  else if (steps.chain.status === 'unchecked') [status, text] = ['unchecked', `${TEXT.unchecked}: ${steps.chain.text}`];
  else if (statuses.every((s) => s === 'pass')) [status, text] = ['verified', TEXT.verified];
  else [status, text] = ['unchecked', TEXT.unchecked];
  return { digest: event.digest, eventId: event.eventId, status, text, steps };
}

/** Check every event of the evidence (from parseEvidence). `fetchImpl` defaults to fetch. */
export async function checkEvidence(evidence, { fetchImpl } = {}) {
  const chain = { fetchImpl, state: null, unreachable: null, roles: new Map() };
  try {
    chain.state = await chainState(evidence.rpcUrl, fetchImpl);
  } catch (error) {
    if (!(error instanceof ChainUnreachable)) throw error;
    chain.unreachable = error.message;
  }
  const events = [];
  for (const event of evidence.events || []) events.push(await checkEvent(evidence, event, chain));
  const count = (s) => events.filter((e) => e.status === s).length;
  const n = events.length;
  let status;
  let text;
  if (count('failed')) {
    status = 'failed';
    text = `${count('failed')} of ${n} records on this page do not match what was anchored on the chain`;
  } else if (count('unreachable')) {
    status = 'unreachable';
    text = TEXT.unreachable(evidence.rpcUrl);
  } else if (n && count('verified') === n) {
    status = 'verified';
    text = n === 1 ? TEXT.verified : `Checked against the chain: all ${n} records are unchanged`;
  } else {
    status = 'partial';
    text =
      `Checked against the chain: ${count('verified')} of ${n} records unchanged; ` +
      `${count('pending')} not anchored yet, ${count('unchecked')} not checked`;
  }
  return { status, text, events };
}
