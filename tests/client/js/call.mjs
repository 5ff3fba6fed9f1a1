// Calls the library's pure functions by name: {op: "call", fn, args}.
import { L, serve } from "./_serve.mjs";

await serve({ call: ({ fn, args }) => L[fn](...args) });
