// A presentation signed by the holder (mirror of src/elicense/presentation.py's create):
// EIP-712 Presentation(licenceId, disclosure, notAfter, nonce) in the LicenseRegistry's domain.

import { concat, getAddress, hexlify, randomBytes } from "ethers";

import { disclose, disclosedNamesHash } from "./licence.js";

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
  const names = disclosure.fields.filter((e) => "name" in e).map((e) => e.name);
  const notAfter = Math.floor(now) + ttl;
  const nonce = hexlify(concat([new Uint8Array(16), randomBytes(16)])); // the QR code carries the 16 random bytes
  const signature = await wallet.signTypedData(presentationDomain(Number(chainId), registry), PRESENTATION_TYPES, {
    licenceId, disclosure: disclosedNamesHash(names), notAfter, nonce,
  });
  const presentation = {
    v: 1, chain_id: Number(chainId), registry: getAddress(registry), holder: wallet.address, agency,
    licence_id: licenceId, disclosure, not_after: notAfter, nonce, signature,
  };
  if (batch) presentation.batch = batch;
  return presentation;
}
