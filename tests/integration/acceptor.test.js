'use strict';
// The acceptor actor and I/O shards (--io-threads, --balance): every new
// connection goes to one shard, chosen by the balance method; the server's
// "shard-loads" event reports live connections per shard.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, waitFor } = require('./lib/harness');
const { ClientPool, TRANSPORTS, ack } = require('./lib/sio-helpers');

const SERVER = 'sio-test-server';
const websocket = TRANSPORTS.find((t) => t.name === 'websocket');

/// Waits until the loads add up to `total` (closed connections are counted
/// down when their socket is gone, a moment after the client's disconnect).
async function loadsSummingTo(client, total) {
  let loads;
  await waitFor(async () => {
    loads = await ack(client, 'shard-loads');
    return loads.reduce((a, b) => a + b, 0) === total;
  }, 5000, `shard loads summing to ${total}`);
  return loads;
}

for (const balance of ['least-connection', 'round-robin', 'random']) {
  describe(`--io-threads 3 --balance ${balance}`, () => {
    let server;
    before(async () => {
      server = await startServer(SERVER, ['--io-threads', '3', '--balance', balance]);
    });
    after(async () => {
      if (server)
        await server.stop();
    });

    test('90 clients spread over the three shards; each one works', async () => {
      const pool = new ClientPool(server.url, websocket);
      try {
        const clients = [];
        for (let i = 0; i < 90; i += 1) // one at a time: the order is the test
          clients.push(await pool.connect('/', { label: `C${i}` }));
        const loads = await loadsSummingTo(clients[0], 90);
        assert.equal(loads.length, 3);
        if (balance === 'random')
          assert.ok(loads.every((n) => n >= 10), `every shard used: ${loads}`);
        else
          assert.deepEqual(loads, [30, 30, 30]);
        const answers = await Promise.all(clients.map((c, i) => ack(c, 'echo', i)));
        assert.deepEqual(answers, clients.map((_, i) => i));
      } finally {
        await pool.closeAll();
      }
    });

    if (balance === 'least-connection') {
      test('new connections fill the shards that lost clients', async () => {
        const pool = new ClientPool(server.url, websocket);
        try {
          const clients = [];
          for (let i = 0; i < 60; i += 1)
            clients.push(await pool.connect('/', { label: `C${i}` }));
          await loadsSummingTo(clients[59], 60);
          // Drop clients 0, 3, 6, ... (all on shard 0 when they came in turns) and 1.
          const dropped = clients.filter((_, i) => i % 3 === 0 || i === 1);
          dropped.forEach((c) => c.disconnect());
          const kept = clients.filter((c) => !dropped.includes(c));
          const before = await loadsSummingTo(kept[0], kept.length);
          assert.ok(Math.max(...before) - Math.min(...before) >= 10, `uneven now: ${before}`);
          for (let i = 0; i < dropped.length; i += 1)
            await pool.connect('/', { label: `N${i}` });
          const afterLoads = await loadsSummingTo(kept[0], 60);
          assert.deepEqual(afterLoads, [20, 20, 20]);
        } finally {
          await pool.closeAll();
        }
      });
    }
  });
}
