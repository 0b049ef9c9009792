// Hex and byte helpers shared by the verifier's modules, and keccak-256 (vendored @noble/hashes).
import { keccak_256 } from './vendor/noble-hashes/sha3.js';

export class BadInput extends Error {}

/** Bytes of a 0x-hex string of exactly `size` bytes (any size if omitted). */
export function hexToBytes(hex, size) {
  if (typeof hex !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new BadInput(`${String(hex)} is not 0x-hex`);
  const bytes = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  if (size !== undefined && bytes.length !== size) throw new BadInput(`${hex} is not ${size} bytes`);
  return bytes;
}

export function bytesToHex(bytes) {
  return '0x' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function keccak(bytes) {
  return keccak_256(bytes);
}

export function keccakText(text) {
  return keccak(new TextEncoder().encode(text));
}

/** A 32-byte big-endian ABI word of a non-negative integer (Number or BigInt). */
export function uint256(value) {
  let n = BigInt(value);
  if (n < 0n || n >= 1n << 256n) throw new BadInput(`${value} is not a uint256`);
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** An address as a 32-byte ABI word (left-padded). */
export function addressWord(address) {
  return concat(new Uint8Array(12), hexToBytes(address, 20));
}

export const sameHex = (a, b) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
