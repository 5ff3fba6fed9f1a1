// A presentation signed by the holder (mirror of src/elicense/presentation.py's create):
// EIP-712 Presentation(licenceId, disclosure, notAfter, nonce) in the LicenseRegistry's domain.

import { concat, getAddress, hexlify, keccak256, randomBytes } from "ethers";

import { concatBytes, fromHex, utf8 } from "./bytes.js";
import { disclose, fieldLeaf } from "./licence.js";

/** Seconds a code stays acceptable after its notAfter, for a verifier's clock ahead of the holder's (presentation.py). */
export const CLOCK_SKEW = 30;
const DISCLOSURE_DOMAIN = utf8("elicense.disclosure.v2");

/**
 * What the holder signs as `disclosure` (presentation.py's disclosure_commitment): keccak256 of the domain,
 * the 32-byte nonce, then per field in order 0x01 ‖ leaf (shown) or 0x00 ‖ leaf (hidden). It goes on chain
 * with the inspection; without the leaves nobody can tell from it which fields were shown.
 */
export function disclosureCommitment(disclosure, nonce) {
  const parts = [DISCLOSURE_DOMAIN, fromHex(nonce, "nonce", 32)];
  for (const entry of disclosure.fields) {
    if ("leaf" in entry) parts.push(Uint8Array.of(0), fromHex(entry.leaf, "leaf", 32));
    else parts.push(Uint8Array.of(1), fieldLeaf(entry.name, entry.value, fromHex(entry.salt, "field salt", 32)));
  }
  return keccak256(concatBytes(...parts));
}

export const PRESENTATION_TYPES = {
  Presentation: [
    { name: "licenceId", type: "bytes32" },
    { name: "disclosure", type: "bytes32" },
    { name: "notAfter", type: "uint64" },
    { name: "nonce", type: "bytes32" },
  ],
};

export const presentationDomain = (chainId, registry) => ({
  name: "elicense LicenseRegistry",
  version: "1",
  chainId,
  verifyingContract: getAddress(registry),
});

/**
 * Signs a presentation of `document` (issued as `licenceId` in `registry`); resolves to the JSON shape of
 * Python's Presentation.to_json(). `fields` null shows every field; `ttl` seconds from `now` it expires.
 */
export async function createPresentation(
  wallet,
  { chainId, registry, licenceId, agency, document, fields = null, ttl = 120, now = Date.now() / 1000, batch = null },
) {
  if (getAddress(document.holder) !== wallet.address) {
    throw new Error(`the licence belongs to ${document.holder}, not to ${wallet.address}`);
  }
  const disclosure = disclose(document, fields);
  const notAfter = Math.floor(now) + ttl;
  const nonce = hexlify(concat([new Uint8Array(16), randomBytes(16)])); // the QR code carries the 16 random bytes
  const signature = await wallet.signTypedData(presentationDomain(Number(chainId), registry), PRESENTATION_TYPES, {
    licenceId, disclosure: disclosureCommitment(disclosure, nonce), notAfter, nonce,
  });
  const presentation = {
    v: 1, chain_id: Number(chainId), registry: getAddress(registry), holder: wallet.address, agency,
    licence_id: licenceId, disclosure, not_after: notAfter, nonce, signature,
  };
  if (batch) presentation.batch = batch;
  return presentation;
}
