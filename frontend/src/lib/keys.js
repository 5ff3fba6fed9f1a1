// Keys, keystores (Web3 Secret Storage v3, the format eth-account and geth use) and ECIES
// (eciesjs with its defaults = eciespy 0.4.7: uncompressed ephemeral key, HKDF-SHA256, AES-256-GCM, 16-byte nonce).

import { decrypt as eciesDecrypt, encrypt as eciesEncrypt } from "eciesjs";
import { Wallet, decryptKeystoreJson, encryptKeystoreJson, hexlify, randomBytes } from "ethers";

import { concatBytes, fromHex, utf8 } from "./bytes.js";

const WRONG_PASSWORD = "wrong password for this keystore, or the keystore is damaged";

/** A new random key (a plain Wallet: no mnemonic, so its keystore carries nothing but the key). */
export function createWallet() {
  return new Wallet(hexlify(randomBytes(32)));
}

/** The 64-byte public key (x ‖ y, no 04 prefix) as 0x + 128 hex digits, as the IdentityRegistry stores it. */
export function publicKeyOf(wallet) {
  return "0x" + wallet.signingKey.publicKey.slice(4);
}

/** A keystore JSON string; eth-account's Account.decrypt opens it. */
export async function encryptKeystore(wallet, password, { scryptN = 2 ** 17, onProgress } = {}) {
  if (!password) throw new Error("a keystore needs a non-empty password");
  // The password goes in as its UTF-8 bytes: ethers would NFKC-normalise a string, eth-account does not.
  const json = await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, utf8(password), {
    scrypt: { N: scryptN },
    progressCallback: onProgress,
  });
  // ethers writes "Crypto"; eth-account reads only "crypto" (geth reads both).
  const { Crypto, ...rest } = JSON.parse(json);
  return JSON.stringify({ ...rest, crypto: Crypto });
}

/** Opens a keystore (scrypt or pbkdf2) with its password; resolves to an ethers Wallet. */
export async function decryptKeystore(json, password, onProgress) {
  const data = parseKeystore(typeof json === "string" ? json : JSON.stringify(json));
  // eth-account writes the AES-CTR counter as an integer, so one keystore in 256 carries a 15-byte (or
  // shorter) "iv"; the counter is the same number: pad it back to its 16 bytes.
  const params = (data.crypto ?? data.Crypto)?.cipherparams;
  if (typeof params?.iv === "string" && /^[0-9a-fA-F]{0,31}$/.test(params.iv)) params.iv = params.iv.padStart(32, "0");
  const text = JSON.stringify(data);
  let account;
  try {
    account = await decryptKeystoreJson(text, utf8(password ?? ""), onProgress);
  } catch {
    throw new Error(WRONG_PASSWORD);
  }
  return new Wallet(account.privateKey);
}

/** The parsed keystore, or an Error saying it is not one. */
export function parseKeystore(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    data = null;
  }
  const crypto = data?.crypto ?? data?.Crypto;
  if (data === null || typeof data !== "object" || Number(data.version) !== 3 || typeof crypto?.kdf !== "string") {
    throw new Error("this is not a keystore file (Web3 Secret Storage version 3 JSON)");
  }
  return data;
}

/** Encrypts bytes to a 64-byte public key (0x + 128 hex digits), as Python's crypto.encrypt does. */
export function encryptTo(publicKeyHex, bytes) {
  const key = fromHex(publicKeyHex, "public key");
  if (key.length !== 64) throw new Error(`a public key is 64 bytes (x ‖ y), got ${key.length}`);
  return eciesEncrypt(concatBytes(Uint8Array.of(4), key), bytes);
}

/** Decrypts a licence ciphertext (0x hex or bytes) with the holder's private key; returns the document object. */
export function decryptLicence(privateKeyHex, ciphertextHex) {
  let plain;
  try {
    plain = eciesDecrypt(fromHex(privateKeyHex, "private key", 32), fromHex(ciphertextHex, "ciphertext"));
  } catch {
    throw new Error("this key cannot decrypt the licence: it was encrypted to another holder, or altered");
  }
  let doc;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plain));
  } catch {
    throw new Error("the decrypted licence is not a licence document (not UTF-8 JSON)");
  }
  if (doc?.v !== 1 || typeof doc.fields !== "object" || typeof doc.salt !== "string") {
    throw new Error("the decrypted licence is not an elicense licence document (version 1)");
  }
  return doc;
}
