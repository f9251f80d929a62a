'use strict';
// Cluster nodes for tests: a node started with a cluster endpoint on
// 127.0.0.1 (mutual TLS with this test process's certificates), and a wait
// for the cluster size its log reports.
//   const a = await startClusterNode('sio-test-server');
//   const b = await startClusterNode('sio-test-server', { join: [a.clusterAddress] });
//   await Promise.all([waitForMembers(a, 2), waitForMembers(b, 2)]);

const { startServer, waitFor } = require('./harness');
const { tlsArgs } = require('./cluster-certs');

const WAIT_MS = 10000;

/// Starts `binary` with `--cluster-listen 127.0.0.1:0`, `--join` each of
/// `join`, then `args`; resolves with the server handle plus `clusterAddress`.
async function startClusterNode(binary, { join = [], args = [] } = {}) {
  const node = await startServer(binary, ['--cluster-listen', '127.0.0.1:0',
    ...join.flatMap((j) => ['--join', j]), ...tlsArgs(), ...args]);
  await waitFor(() => /cluster endpoint (\S+)/.test(node.stdout()), WAIT_MS, 'cluster endpoint line');
  node.clusterAddress = /cluster endpoint (\S+)/.exec(node.stdout())[1];
  return node;
}

/// Resolves when the node's log says the cluster has `n` nodes: it logs
/// "member X joined (k nodes)" and "member X left (...)" at each change.
function waitForMembers(node, n, timeoutMs = WAIT_MS) {
  return waitFor(() => {
    const lines = node.stderr().split('\n').filter((l) => /joined \(\d+ nodes\)| left /.test(l));
    let size = 1;
    for (const line of lines) {
      const m = /joined \((\d+) nodes\)/.exec(line);
      size = m ? Number(m[1]) : size - 1;
    }
    return size === n;
  }, timeoutMs, `${node.clusterAddress} sees ${n} nodes`);
}

module.exports = { startClusterNode, waitForMembers };
