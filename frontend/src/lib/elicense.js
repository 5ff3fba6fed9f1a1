// The browser-side library of the elicense pages: licence data byte-compatible with the Python
// package, keys and keystores, presentations and their QR codes, and the server's API.

export { canonical } from "./canonical.js";
export { compareCodePoints, fromHex, toHex } from "./bytes.js";
export {
  commitment, dataHash, disclose, disclosedNamesHash, disclosureHash, fieldLeaf, fieldSalt, licenceIdOf,
} from "./licence.js";
export {
  createWallet, decryptKeystore, decryptLicence, encryptKeystore, encryptTo, parseKeystore, publicKeyOf,
} from "./keys.js";
export { getKeystore, listKeystores, removeKeystore, saveKeystore } from "./shelf.js";
export {
  CLOCK_SKEW, PRESENTATION_TYPES, createPresentation, disclosureCommitment, presentationDomain,
} from "./presentation.js";
export { b45decode, b45encode } from "./base45.js";
export { decodeQr, encodeQr, isCompactQr, qrDataUrl, qrToCanvas, qrVersion, scanImageData } from "./qr.js";
export { api, apiBytes, perform, signAndSubmit, signPending, signTyped } from "./api.js";
export { cborCanonical } from "./cbor.js";
export { ENVELOPE_VERSION, addReader, envelopeReaders, openEnvelope, sealEnvelope } from "./envelope.js";
export { fieldCommitment, fieldsText, opensPurpose, purposeCommitment } from "./commitments.js";
