'use strict';
// Stickiness is an optimisation, not a requirement: nginx in plain
// round-robin (no ip_hash) in front of two clustered nodes sends every other
// long-polling request of a session to the node that does not own it; that
// node forwards it to the owner through the cluster (CAF actors), so
// polling-only clients work without a single "Session ID unknown".
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor } = require('./lib/harness');
const { startClusterNode, waitForMembers } = require('./lib/cluster-nodes');
const { startNginx } = require('./lib/nginx');
const { ClientPool, ack, recorder } = require('./lib/sio-helpers');

const polling = { name: 'polling', options: { transports: ['polling'] } };
const upgrade = { name: 'polling+upgrade', options: { transports: ['polling', 'websocket'], upgrade: true }, upgrade: true };

function startNode(join = []) {
  return startClusterNode('sio-test-server', { join });
}

describe('nginx round-robin (no ip_hash) in front of two nodes', () => {
  let a, b, nginx;
  before(async () => {
    a = await startNode();
    b = await startNode([a.clusterAddress]);
    await Promise.all([waitForMembers(a, 2), waitForMembers(b, 2)]);
    nginx = await startNginx([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], { method: 'round-robin' });
  });
  after(async () => {
    if (nginx)
      await nginx.stop();
    for (const n of [a, b])
      if (n)
        await n.stop();
  });

  test('20 polling-only clients exchange 50 acks each without an error', async () => {
    const pool = new ClientPool(nginx.url, polling);
    try {
      const clients = await pool.connectMany(20);
      const errors = [];
      clients.forEach((c) => c.on('connect_error', (e) => errors.push(e.message)));
      clients.forEach((c) => c.on('disconnect', (r) => errors.push(`disconnect: ${r}`)));
      await Promise.all(clients.map(async (c, k) => {
        for (let i = 0; i < 50; i += 1)
          assert.deepEqual(await ack(c, 'echo', `${k}:${i}`), `${k}:${i}`);
      }));
      assert.deepEqual(errors, []);
      // Every request answered 200, and sessions were served by both nodes:
      // the one that owns them and, forwarding, the other one.
      const lines = nginx.accessLog().trim().split('\n');
      const bad = lines.filter((l) => !l.startsWith('200 '));
      assert.deepEqual(bad, [], 'non-200 answers through nginx');
      const upstreamsBySid = new Map();
      for (const l of lines) {
        const m = /^200 (\S+) ".*[?&]sid=([^& ]+)/.exec(l);
        if (m)
          upstreamsBySid.set(m[2], (upstreamsBySid.get(m[2]) || new Set()).add(m[1]));
      }
      const spread = [...upstreamsBySid.values()].filter((s) => s.size === 2).length;
      assert.ok(spread >= 15, `${spread} of ${upstreamsBySid.size} sessions used both nodes`);
    } finally {
      await pool.closeAll();
    }
  });

  test('a broadcast reaches every polling client, whichever node owns it', async () => {
    const pool = new ClientPool(nginx.url, polling);
    try {
      const clients = await pool.connectMany(10);
      const rec = recorder(clients, 'all-news');
      await ack(clients[0], 'in-room-all', null, 'all-news', 'hello');
      const { actual, expected } = await rec.expectExactly(clients);
      assert.deepEqual(actual, expected);
    } finally {
      await pool.closeAll();
    }
  });

  test('WebSocket upgrades reach the owner, whichever node accepts them', async () => {
    // Round-robin sends about half of the upgrade requests to the node that
    // does not own the session: it relays the WebSocket to the owner. Without
    // that, those clients would stay on long-polling.
    const pool = new ClientPool(nginx.url, upgrade);
    try {
      const clients = await pool.connectMany(16); // waits for each upgrade
      assert.ok(clients.every((c) => c.io.engine.transport.name === 'websocket'));
      const relayed = (a.stderr() + b.stderr()).match(/relaying the WebSocket of session/g) || [];
      assert.ok(relayed.length >= 1, 'some upgrades landed on the other node and were relayed');
      console.log(`${relayed.length} of 16 upgrades relayed to the owning node`);
      const answers = await Promise.all(clients.map((c, k) => ack(c, 'echo', k)));
      assert.deepEqual(answers, clients.map((_, k) => k));
      const rec = recorder(clients, 'ws-news');
      await ack(clients[3], 'in-room-all', null, 'ws-news', 'over relayed sockets');
      const { actual, expected } = await rec.expectExactly(clients);
      assert.deepEqual(actual, expected);
    } finally {
      await pool.closeAll();
    }
    // nginx logs a WebSocket (101) when it closes.
    await waitFor(() => nginx.accessLog().split('\n').filter((l) => l.startsWith('101 ')).length >= 16,
      5000, '16 WebSocket sessions in the nginx log');
  });
});
