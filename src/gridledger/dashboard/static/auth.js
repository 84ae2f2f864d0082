// Signing in and out (POST/DELETE /v1/auth/session).
//
// With a key file: the file (keys/NAME.key: hex seed, public key, address) is read into
// this page's memory only; the node's challenge is signed with Ed25519 over the UTF-8 bytes
// of "gridledger-login:" + chain id + ":" + challenge, and the seed and the secret key are
// overwritten with zeros as soon as the signature is made (the file's text, a JavaScript
// string, cannot be overwritten: the page drops every reference to it and to the File).
// Nothing of the key is stored or sent: only the public key and the signature go to the
// node.
//
// Ed25519 is TweetNaCl's (vendor/tweetnacl-fast.min.js, loaded as window.nacl): browsers
// withhold Web Crypto from pages served over plain http to another machine, which is how
// a community network usually reaches its node.
//
// With a login link: `gridledger dashboard login -k NAME --url URL` prints
// URL/dashboard/#login=CODE; the code works once, for a short time.
import { ApiError, getJson, postJson } from "./api.js";
import { bytesToHex, hexToBytes } from "./verify.js";
import { begin, bearer, end } from "./session.js";

export const LOGIN_PREFIX = "gridledger-login:";
const HEX64 = /^[0-9a-f]{64}$/i;

export const LOGIN_LINK_HELP =
  "gridledger dashboard login -k NAME --url " + `${location.origin}`;

/** A key file that cannot sign in here, with the reason in words. */
export class KeyFileError extends Error {}

/** Parse a key file's text; refuse what this page cannot use, saying why. */
export function readKeyFile(text, fileName = "the key file") {
  let content;
  try {
    content = JSON.parse(text);
  } catch {
    throw new KeyFileError(`${fileName} is not a gridledger key file (it is not JSON): choose keys/NAME.key`);
  }
  if (!content || typeof content !== "object") {
    throw new KeyFileError(`${fileName} is not a gridledger key file: choose keys/NAME.key`);
  }
  if (content.encrypted) {
    throw new KeyFileError(
      `${fileName} is encrypted with a passphrase: encrypted key files cannot be used in the browser; use a login link (${LOGIN_LINK_HELP}).`,
    );
  }
  if (typeof content.seed !== "string" || !HEX64.test(content.seed)) {
    throw new KeyFileError(`${fileName} is not a gridledger key file: it has no 64-digit hex "seed"`);
  }
  return {
    name: typeof content.name === "string" ? content.name : null,
    seedHex: content.seed.toLowerCase(),
    publicKeyHex: typeof content.public_key === "string" ? content.public_key.toLowerCase() : null,
  };
}

/** The chain id the login message names: from the head, else the genesis, else the challenge. */
async function chainIdOf(challenge) {
  if (challenge.chain_id) return challenge.chain_id;
  for (const path of ["/v1/head", "/v1/genesis"]) {
    try {
      const body = await getJson(path);
      if (body && body.chain_id) return body.chain_id;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status === 0) throw error;
    }
  }
  throw new ApiError(0, "no_chain_id", "The node does not say which chain it serves, so the challenge cannot be signed.");
}

/** Sign `message` with the seed in `key` and wipe the seed and the secret key right after. */
function signOnce(key, message) {
  const nacl = window.nacl;
  if (!nacl || !nacl.sign) throw new Error("the Ed25519 library (vendor/tweetnacl-fast.min.js) did not load");
  const seed = hexToBytes(key.seedHex);
  key.seedHex = null;
  const pair = nacl.sign.keyPair.fromSeed(seed);
  seed.fill(0);
  try {
    const publicKeyHex = bytesToHex(pair.publicKey);
    if (key.publicKeyHex && key.publicKeyHex !== publicKeyHex) {
      throw new KeyFileError("the key file's public key does not match its seed: the file is damaged");
    }
    return { publicKeyHex, signatureHex: bytesToHex(nacl.sign.detached(message, pair.secretKey)) };
  } finally {
    pair.secretKey.fill(0);
  }
}

/** Sign in with a key file (a File from <input type=file>); the session's reply. */
export async function signInWithKeyFile(file) {
  const key = readKeyFile(await file.text(), file.name || "the key file");
  try {
    const challenge = await postJson("/v1/auth/challenge", {});
    const chainId = await chainIdOf(challenge);
    const message = new TextEncoder().encode(`${LOGIN_PREFIX}${chainId}:${challenge.challenge}`);
    const { publicKeyHex, signatureHex } = signOnce(key, message);
    const reply = await postJson("/v1/auth/session", {
      public_key: publicKeyHex,
      challenge: challenge.challenge,
      signature: signatureHex,
    });
    return begin(reply, key.name);
  } finally {
    key.seedHex = null;
  }
}

/** Sign in with the code of a one-time login link. */
export async function signInWithCode(code) {
  const reply = await postJson("/v1/auth/session", { login_code: code });
  return begin(reply);
}

/** The code in a login link ("…/dashboard/#login=CODE") or a bare code; null if none. */
export function loginCodeIn(text) {
  const trimmed = (text || "").trim();
  const match = /(?:^|[#&?])login=([^&#\s]+)/.exec(trimmed);
  if (match) return decodeURIComponent(match[1]);
  return trimmed && !/[\s/#]/.test(trimmed) ? trimmed : null;
}

/** End the session at the node (its token is refused from then on), then in this page. */
export async function signOut() {
  const token = bearer();
  try {
    if (token) {
      await fetch("/v1/auth/session", {
        method: "DELETE",
        cache: "no-store",
        headers: { Authorization: `Bearer ${token}` },
      });
    }
  } catch {
    // the node is unreachable: the page forgets the token anyway, and it expires there
  } finally {
    end("signed_out", "You have signed out.");
  }
}
