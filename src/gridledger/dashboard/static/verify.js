// Checking a transaction's inclusion in the browser, without taking the node's word:
//
//   1. the transaction id is SHA-256 of the raw transaction bytes;
//   2. its Merkle proof (RFC 6962/9162: leaf = SHA-256(0x00 || id),
//      node = SHA-256(0x01 || left || right)) leads to a root ...
//   3. ... equal to the transactions_root decoded from the block header's canonical bytes
//      (a MessagePack array, read here by a small decoder), whose height and chain agree;
//   4. SHA-256 of those header bytes is the block hash.
//
// SHA-256 is Web Crypto's (crypto.subtle); a page served over plain http from another
// machine is not a secure context and has no crypto.subtle, so a small pure-JS SHA-256
// stands in there.

export function hexToBytes(hex) {
  if (typeof hex !== "string" || hex.length % 2 || /[^0-9a-f]/i.test(hex)) {
    throw new Error(`not hexadecimal: ${String(hex).slice(0, 20)}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export const bytesToHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 in plain JavaScript (FIPS 180-4), for pages without crypto.subtle. */
export function sha256Fallback(data) {
  const length = data.length;
  const padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
  padded.set(data);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
  view.setUint32(padded.length - 4, (length << 3) >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  h.forEach((word, i) => outView.setUint32(i * 4, word));
  return out;
}

export const usingWebCrypto = () => Boolean(globalThis.crypto && crypto.subtle);

export async function sha256(data) {
  if (usingWebCrypto()) return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return sha256Fallback(data);
}

export const hashLeaf = (data) => sha256(concat(Uint8Array.of(0), data));
export const hashNode = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

/** The root recomputed from a leaf and its inclusion proof (RFC 9162 §2.1.3.2). */
export async function rootFromProof(leaf, index, size, path) {
  if (!(Number.isInteger(index) && Number.isInteger(size) && index >= 0 && index < size)) {
    throw new Error(`index ${index} outside a tree of ${size} leaves`);
  }
  let fn = index;
  let sn = size - 1;
  let result = await hashLeaf(leaf);
  for (const sibling of path) {
    if (sibling.length !== 32) throw new Error("a path element is not 32 bytes");
    if (sn === 0) throw new Error("the path is longer than the tree is deep");
    if (fn % 2 === 1 || fn === sn) {
      result = await hashNode(sibling, result);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      result = await hashNode(result, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error("the path is shorter than the tree is deep");
  return result;
}

/** A MessagePack decoder for what a block header holds (ints, strings, bytes, arrays, maps). */
export function decodeMsgpack(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n) => {
    if (at + n > bytes.length) throw new Error("MessagePack: truncated");
  };
  const take = (n) => {
    need(n);
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  const u8 = () => (need(1), bytes[at++]);
  const u16 = () => (need(2), (at += 2), view.getUint16(at - 2));
  const u32 = () => (need(4), (at += 4), view.getUint32(at - 4));
  const big = (signed) => {
    need(8);
    at += 8;
    const value = signed ? view.getBigInt64(at - 8) : view.getBigUint64(at - 8);
    return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  };
  const text = (n) => new TextDecoder("utf-8", { fatal: true }).decode(take(n));
  const array = (n) => Array.from({ length: n }, () => item());
  const map = (n) => {
    const out = {};
    for (let i = 0; i < n; i++) out[item()] = item();
    return out;
  };
  function item() {
    const b = u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xe0) === 0xa0) return text(b & 0x1f);
    if ((b & 0xf0) === 0x90) return array(b & 0x0f);
    if ((b & 0xf0) === 0x80) return map(b & 0x0f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return take(u8()).slice();
      case 0xc5: return take(u16()).slice();
      case 0xc6: return take(u32()).slice();
      case 0xcc: return u8();
      case 0xcd: return u16();
      case 0xce: return u32();
      case 0xcf: return big(false);
      case 0xd0: return (need(1), view.getInt8(at++));
      case 0xd1: return (need(2), (at += 2), view.getInt16(at - 2));
      case 0xd2: return (need(4), (at += 4), view.getInt32(at - 4));
      case 0xd3: return big(true);
      case 0xd9: return text(u8());
      case 0xda: return text(u16());
      case 0xdb: return text(u32());
      case 0xdc: return array(u16());
      case 0xdd: return array(u32());
      case 0xde: return map(u16());
      case 0xdf: return map(u32());
      default: throw new Error(`MessagePack: unsupported type byte 0x${b.toString(16)}`);
    }
  }
  const value = item();
  if (at !== bytes.length) throw new Error("MessagePack: trailing bytes after the value");
  return value;
}

const HEADER_FIELDS = ["version", "chain_id", "height", "previous_hash", "timestamp_ms", "transaction_count", "transactions_root", "results_root", "state_hash"];

export function decodeHeader(bytes) {
  const value = decodeMsgpack(bytes);
  if (!Array.isArray(value) || value.length !== HEADER_FIELDS.length) {
    throw new Error(`a block header is an array of ${HEADER_FIELDS.length} fields`);
  }
  return Object.fromEntries(HEADER_FIELDS.map((name, i) => [name, value[i]]));
}

const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Check that transaction `id` is in the block whose header bytes are `headerHex`, from the
 * transaction view of GET /v1/transactions/{id} (raw bytes, proof) and the header view of
 * GET /v1/dashboard/blocks/{height}/header. Every check is listed, passed or not.
 */
export async function verifyInclusion(id, transaction, header) {
  const checks = [];
  const check = (name, ok, detail) => checks.push({ name, ok, detail });
  try {
    const raw = hexToBytes(transaction.raw);
    const txId = await sha256(raw);
    check("transaction id = SHA-256(raw transaction)", bytesToHex(txId) === id.toLowerCase(), bytesToHex(txId));
    const headerBytes = hexToBytes(header.header_hex);
    const decoded = decodeHeader(headerBytes);
    const blockHash = bytesToHex(await sha256(headerBytes));
    check("SHA-256(header bytes) = the block hash", blockHash === header.hash && blockHash === transaction.block.hash, blockHash);
    check("the header is block " + transaction.height, Number(decoded.height) === transaction.height, `height ${decoded.height}, chain ${decoded.chain_id}`);
    const proof = transaction.proof;
    check("proof size = the header's transaction count", proof.size === Number(decoded.transaction_count), `${proof.size} leaves, header says ${decoded.transaction_count}`);
    let root = null;
    let problem = "";
    try {
      root = await rootFromProof(txId, proof.index, proof.size, proof.path.map(hexToBytes));
    } catch (error) {
      problem = error.message;
    }
    check(
      "Merkle proof leads to the header's transactions root",
      root !== null && equal(root, decoded.transactions_root),
      root === null ? `proof refused: ${problem}` : `recomputed ${bytesToHex(root)}, header ${bytesToHex(decoded.transactions_root)}`,
    );
  } catch (error) {
    check("the data can be read", false, error.message);
  }
  return { ok: checks.every((c) => c.ok), checks, webCrypto: usingWebCrypto() };
}
