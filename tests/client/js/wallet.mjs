// What needs a key: presentations, transactions, keystores and the browser's keystore shelf
// (on an in-memory localStorage, the one browser API Node lacks).
import { Wallet } from "ethers";

import { L, serve } from "./_serve.mjs";

const items = new Map();
globalThis.localStorage = {
  getItem: (k) => (items.has(k) ? items.get(k) : null),
  setItem: (k, v) => items.set(k, String(v)),
  removeItem: (k) => items.delete(k),
};

await serve({
  publicKeyOf: ({ key }) => L.publicKeyOf(new Wallet(key)),
  present: ({ key, options }) => L.createPresentation(new Wallet(key), options),
  signPending: ({ key, pending }) => L.signPending(new Wallet(key), pending),
  signTyped: ({ key, typed }) => L.signTyped(new Wallet(key), typed),
  encryptKeystore: ({ key, password, scryptN }) => L.encryptKeystore(new Wallet(key), password, { scryptN }),
  decryptKeystore: async ({ json, password }) => {
    const wallet = await L.decryptKeystore(json, password);
    return { address: wallet.address, privateKey: wallet.privateKey };
  },
  shelf: ({ fn, args }) => L[fn](...args),
});
