// Three sio-chat nodes joined into one cluster (CAF middleman, full mesh),
// socket.io-client clients on each: broadcasts and rooms span the nodes, a
// node killed with SIGKILL is noticed by the others, and a restarted node
// rejoins and receives broadcasts again.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { io } = require('socket.io-client');
const { startServer, waitFor, withTimeout, delay } = require('./lib/harness');

const WAIT = 10000;
const clients = new Set();

async function startNode(join = []) {
  const args = ['--cluster-listen', '127.0.0.1:0', ...join.flatMap((a) => ['--join', a])];
  const node = await startServer('sio-chat', args);
  await waitFor(() => /cluster endpoint (\S+)/.test(node.stdout()), WAIT, 'cluster endpoint line');
  node.clusterAddress = /cluster endpoint (\S+)/.exec(node.stdout())[1];
  return node;
}

/// Resolves when the node's log says the cluster has `n` nodes (it logs each change).
function waitForMembers(node, n) {
  return waitFor(() => {
    const all = [...node.stderr().matchAll(/\((\d+) nodes\)|left/g)];
    if (all.length === 0)
      return n === 1;
    // The last "(k nodes)" after the last "left" line tells the current size.
    const lines = node.stderr().split('\n').filter((l) => /joined \(\d+ nodes\)| left /.test(l));
    let size = 1;
    for (const line of lines) {
      const m = /joined \((\d+) nodes\)/.exec(line);
      size = m ? Number(m[1]) : size - 1;
    }
    return size === n;
  }, WAIT, `${node.clusterAddress} sees ${n} nodes`);
}

function connect(node) {
  return withTimeout(new Promise((resolve, reject) => {
    const s = io(node.url, { transports: ['websocket'], reconnection: false });
    s.got = [];
    s.on('chat message', (m) => s.got.push(m.replace(/^port:\d+ user:\S+ msg:/, '')));
    s.on('connect', () => resolve(s));
    s.on('connect_error', reject);
    clients.add(s);
  }), WAIT, `connect to ${node.url}`);
}

function received(s, text) {
  return s.got.filter((m) => m === text).length;
}

describe('cluster of three sio-chat nodes', () => {
  let a, b, c;
  before(async () => {
    a = await startNode();
    [b, c] = await Promise.all([startNode([a.clusterAddress]), startNode([a.clusterAddress])]);
    await Promise.all([a, b, c].map((n) => waitForMembers(n, 3)));
  });
  after(async () => {
    for (const s of clients)
      s.close();
    for (const n of [a, b, c])
      if (n && n.alive())
        await n.stop();
  });

  it('delivers a broadcast from any node to every client on every node exactly once', async () => {
    const all = [];
    for (const n of [a, b, c])
      all.push(await connect(n), await connect(n));
    all[0].emit('chat message', 'from a');
    all[5].emit('chat message', 'from c');
    await waitFor(() => all.every((s) => received(s, 'from a') >= 1 && received(s, 'from c') >= 1),
                  WAIT, 'every client got both');
    await delay(300); // duplicates would arrive by now
    for (const s of all) {
      assert.equal(received(s, 'from a'), 1);
      assert.equal(received(s, 'from c'), 1);
    }
  });

  it('lets rooms span nodes', async () => {
    const [inA, inC, outA, outB, sender] = [await connect(a), await connect(c), await connect(a),
                                            await connect(b), await connect(b)];
    for (const s of [inA, inC])
      assert.equal(await s.timeout(WAIT).emitWithAck('join', 'span'), true);
    assert.equal(await sender.timeout(WAIT).emitWithAck('to-room', ['span', 'room only']), true);
    await waitFor(() => received(inA, 'room only') === 1 && received(inC, 'room only') === 1,
                  WAIT, 'both room members got it');
    await delay(300);
    assert.equal(received(outA, 'room only'), 0);
    assert.equal(received(outB, 'room only'), 0);
    assert.equal(received(sender, 'room only'), 0);
  });

  it('survives a node killed with SIGKILL, and takes it back after a restart', async () => {
    const onA = await connect(a);
    const onB = await connect(b);
    c.proc.kill('SIGKILL');
    const t0 = Date.now();
    await Promise.all([waitForMembers(a, 2), waitForMembers(b, 2)]);
    const detectMs = Date.now() - t0;
    assert.ok(detectMs < WAIT, `noticed after ${detectMs} ms`);

    // A and B lose nothing between them.
    const N = 30;
    for (let i = 0; i < N; i++)
      onA.emit('chat message', `after-kill ${i}`);
    await waitFor(() => onB.got.filter((m) => m.startsWith('after-kill')).length === N, WAIT,
                  'B got every message A sent');
    assert.deepEqual(onB.got.filter((m) => m.startsWith('after-kill')),
                     Array.from({ length: N }, (_, i) => `after-kill ${i}`));

    c = await startNode([b.clusterAddress]);
    await Promise.all([a, b, c].map((n) => waitForMembers(n, 3)));
    const onC = await connect(c);
    onA.emit('chat message', 'welcome back');
    await waitFor(() => received(onC, 'welcome back') === 1, WAIT, 'the restarted node gets broadcasts');
  });
});
