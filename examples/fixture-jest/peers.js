// The same app module as fixture-node-test/peers.mjs, in CommonJS.
const { promises: dns } = require('node:dns');

async function findPeers(service, resolver = dns) {
  try {
    const records = await resolver.resolveSrv(service);
    return records.map(({ name, port }) => ({ name, port })).sort((a, b) => a.name.localeCompare(b.name));
  } catch (error) {
    if (error.code === 'ENOTFOUND') return [];
    throw error;
  }
}

module.exports = { findPeers };
