// OpenZeppelin StandardMerkleTree checks, as lotlink.chain.merkle and the contract's
// checkpointLeaf do them: leaf = keccak256(keccak256(abi.encode(bytes32 digest, bytes32 lotKey,
// address signer))), pairs hashed sorted (keccak256(min ‖ max)), the proof folded from the leaf up.
import { addressWord, bytesToHex, concat, hexToBytes, keccak } from './bytes.js';

/** The checkpoint leaf of (digest, lotKey, signer), all 0x-hex; returns 0x-hex. */
export function checkpointLeaf(digest, lotKey, signer) {
  const encoded = concat(hexToBytes(digest, 32), hexToBytes(lotKey, 32), addressWord(signer));
  return bytesToHex(keccak(keccak(encoded)));
}

function compareBytes(a, b) {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

export function hashPair(a, b) {
  return compareBytes(a, b) <= 0 ? keccak(concat(a, b)) : keccak(concat(b, a));
}

/** The root a proof leads to from a leaf (both 0x-hex, proof a list of 0x-hex nodes). */
export function processProof(leaf, proof) {
  if (!Array.isArray(proof)) throw new TypeError('the proof is not a list');
  let node = hexToBytes(leaf, 32);
  for (const sibling of proof) node = hashPair(node, hexToBytes(sibling, 32));
  return bytesToHex(node);
}
