// EIP-712 signer recovery of a Lotlink Checkpoint(bytes32 eventHash, bytes32 lotKey, uint8 kind)
// in the deployment's domain (name "Lotlink", version "1", chainId, verifyingContract), with the
// vendored @noble/curves secp256k1 (audited, MIT). High-s signatures are refused, as OpenZeppelin's
// ECDSA.recover refuses them.
import { secp256k1 } from './vendor/noble-curves/secp256k1.js';
import { BadInput, bytesToHex, concat, hexToBytes, keccak, keccakText, uint256 } from './bytes.js';

export const CHECKPOINT_KINDS = ['produced', 'inspected', 'shipped', 'received', 'transformed'];

const DOMAIN_TYPEHASH = keccakText(
  'EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)',
);
const CHECKPOINT_TYPEHASH = keccakText('Checkpoint(bytes32 eventHash,bytes32 lotKey,uint8 kind)');

/** A kind as its uint8 code, from a code or a name ("produced", …). */
export function kindCode(kind) {
  const value = typeof kind === 'string' && /^\d+$/.test(kind) ? Number(kind) : kind;
  if (Number.isInteger(value) && value >= 0 && value < CHECKPOINT_KINDS.length) return value;
  const index = CHECKPOINT_KINDS.indexOf(String(kind).toLowerCase());
  if (index < 0) throw new BadInput(`unknown checkpoint kind ${kind}`);
  return index;
}

export function domainSeparator(chainId, contract) {
  return keccak(
    concat(
      DOMAIN_TYPEHASH,
      keccakText('Lotlink'),
      keccakText('1'),
      uint256(chainId),
      concat(new Uint8Array(12), hexToBytes(contract, 20)),
    ),
  );
}

/** The EIP-712 digest a Checkpoint signature signs. */
export function checkpointDigest({ chainId, contract, eventHash, lotKey, kind }) {
  const structHash = keccak(
    concat(CHECKPOINT_TYPEHASH, hexToBytes(eventHash, 32), hexToBytes(lotKey, 32), uint256(kindCode(kind))),
  );
  return keccak(concat(new Uint8Array([0x19, 0x01]), domainSeparator(chainId, contract), structHash));
}

/** The checksum-less 0x address that made a 65-byte r ‖ s ‖ v signature over a 32-byte digest. */
export function recoverAddress(digest, signatureHex) {
  const sig = hexToBytes(signatureHex, 65);
  let v = sig[64];
  if (v >= 27) v -= 27;
  if (v !== 0 && v !== 1) throw new BadInput(`signature v ${sig[64]} is invalid`);
  const signature = secp256k1.Signature.fromCompact(sig.slice(0, 64)).addRecoveryBit(v);
  if (signature.hasHighS()) throw new BadInput('the signature has a high s value');
  const publicKey = signature.recoverPublicKey(digest).toRawBytes(false);
  return bytesToHex(keccak(publicKey.slice(1)).slice(12));
}

export function recoverCheckpointSigner(params, signatureHex) {
  return recoverAddress(checkpointDigest(params), signatureHex);
}
