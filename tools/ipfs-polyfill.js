// js-ipfs 0.66 (via its libp2p dependencies) calls Promise.withResolvers, which Node only ships
// from version 22; Node 20 runs the daemon with `NODE_OPTIONS=--require tools/ipfs-polyfill.js`.
'use strict'
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve
    let reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
