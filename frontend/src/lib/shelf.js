// The browser's keystore shelf: localStorage["elicense.keystores"] = {name: keystore JSON string}.
// Only encrypted keystores are kept; the key itself lives in memory while a page uses it.

import { getAddress } from "ethers";

import { compareCodePoints } from "./bytes.js";
import { parseKeystore } from "./keys.js";

const STORAGE_KEY = "elicense.keystores";
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function storage() {
  const store = globalThis.localStorage;
  if (!store) throw new Error("this browser offers no local storage to keep keystores in");
  return store;
}

function readShelf() {
  const raw = storage().getItem(STORAGE_KEY);
  if (raw === null) return {};
  try {
    const shelf = JSON.parse(raw);
    if (shelf !== null && typeof shelf === "object" && !Array.isArray(shelf)) return shelf;
  } catch {
    // reported below
  }
  throw new Error(`the keystore list in this browser's storage ("${STORAGE_KEY}") is damaged`);
}

const writeShelf = (shelf) => storage().setItem(STORAGE_KEY, JSON.stringify(shelf));

function addressOf(json) {
  try {
    const address = parseKeystore(json).address;
    return getAddress(address.startsWith("0x") ? address : "0x" + address);
  } catch {
    return null; // a keystore need not name its address
  }
}

/** [{name, address}] of the keystores kept in this browser, by name. */
export function listKeystores() {
  const shelf = readShelf();
  return Object.keys(shelf).sort(compareCodePoints).map((name) => ({ name, address: addressOf(shelf[name]) }));
}

export function getKeystore(name) {
  const shelf = readShelf();
  if (!Object.hasOwn(shelf, name)) throw new Error(`no keystore named "${name}" is kept in this browser`);
  return shelf[name];
}

export function saveKeystore(name, json) {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new Error('a keystore name is 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit');
  }
  const text = typeof json === "string" ? json : JSON.stringify(json);
  parseKeystore(text);
  const shelf = readShelf();
  if (Object.hasOwn(shelf, name)) throw new Error(`a keystore named "${name}" is already kept in this browser`);
  shelf[name] = text;
  writeShelf(shelf);
}

/** Forgets a keystore; true if there was one of that name. */
export function removeKeystore(name) {
  const shelf = readShelf();
  if (!Object.hasOwn(shelf, name)) return false;
  delete shelf[name];
  writeShelf(shelf);
  return true;
}
