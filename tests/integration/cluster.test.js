// Three sio-chat nodes joined into one cluster (CAF middleman, full mesh),
// socket.io-client clients on each: broadcasts and rooms span the nodes, a
// node killed with SIGKILL is noticed by the others, and a restarted node
// rejoins and receives broadcasts again.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { io } = require('socket.io-client');
const { waitFor, withTimeout, delay } = require('./lib/harness');
const { startClusterNode, waitForMembers } = require('./lib/cluster-nodes');

const WAIT = 10000;
const clients = new Set();

function startNode(join = [], binary = 'sio-chat') {
  return startClusterNode(binary, { join });
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
    // "online" counts the clients of every node (fetch_sockets across the cluster).
    assert.equal(await all[2].timeout(WAIT).emitWithAck('online'), 6);
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

  it('keeps each chat room\'s history in its room actor on every node', async () => {
    const room = `#hist-${process.pid}`;
    const join = async (s) => {
      const history = new Promise((resolve) => s.once('room history', (name, lines) => resolve(lines)));
      assert.equal(await s.timeout(WAIT).emitWithAck('room join', room), true);
      return withTimeout(history, WAIT, 'room history');
    };
    const roomGot = (s) => {
      s.roomLines = [];
      s.on('room message', (name, line) => s.roomLines.push(line.replace(/^port:\d+ user:\S+ msg:/, '')));
      return s;
    };
    const x = roomGot(await connect(a));
    const members = [x, roomGot(await connect(b)), roomGot(await connect(c))];
    for (const s of members)
      await join(s); // each node now has the room's actor
    for (const text of ['h1', 'h2', 'h3'])
      x.emit('room message', room, text);
    await waitFor(() => members.every((s) => s.roomLines.length === 3), WAIT, 'three lines at every member');
    // Newcomers on each node get that node's room actor's history.
    for (const node of [a, b, c]) {
      const lines = await join(await connect(node));
      assert.deepEqual(lines.map((l) => l.replace(/^port:\d+ user:\S+ msg:/, '')), ['h1', 'h2', 'h3'],
        `history on ${node.url}`);
    }
  });

  it("lists each node's own users in 'users', and tells every node of joins", async () => {
    const onA = await connect(a);
    const onB = await connect(b);
    const seen = (s) => {
      s.userLists = [];
      s.joined = [];
      s.on('users', (u) => s.userLists.push(u.users));
      s.on('notice', (n) => { if (n.kind === 'join') s.joined.push(...n.ids); });
    };
    seen(onA);
    seen(onB);
    const late = await connect(b); // its arrival makes both rosters flush
    await waitFor(() => onA.joined.includes(late.id), WAIT, 'a client on A hears of the join on B');
    await waitFor(() => onB.userLists.some((l) => l.includes(late.id)), WAIT, "B's roster lists the newcomer");
    await delay(600); // more than two roster periods: a stray list from B would have reached A
    for (const list of onA.userLists)
      assert.ok(!list.includes(onB.id) && !list.includes(late.id), `A got a roster with B's users: ${list}`);
    for (const list of onB.userLists)
      assert.ok(!list.includes(onA.id), `B got a roster with A's users: ${list}`);
    for (const s of [onA, onB, late])
      s.close();
  });

  it('survives a node killed with SIGKILL, and takes it back after a restart', async () => {
    const onA = await connect(a);
    const onB = await connect(b);
    await c.kill('SIGKILL'); // a deliberate crash (harness: not a failure)
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

describe('fetch_sockets and bulk operations across nodes (sio-test-server)', () => {
  let a, b, c;
  const sockets = new Set();
  before(async () => {
    a = await startNode([], 'sio-test-server');
    [b, c] = await Promise.all([startNode([a.clusterAddress], 'sio-test-server'),
                                startNode([a.clusterAddress], 'sio-test-server')]);
    await Promise.all([a, b, c].map((n) => waitForMembers(n, 3)));
  });
  after(async () => {
    for (const s of sockets)
      s.close();
    for (const n of [a, b, c])
      if (n && n.alive())
        await n.stop();
  });

  function connectTo(node, name) {
    return withTimeout(new Promise((resolve, reject) => {
      const s = io(node.url, { transports: ['websocket'], reconnection: false, auth: { name } });
      s.events = [];
      s.onAny((event, ...args) => s.events.push([event, ...args]));
      s.on('connect', () => resolve(s));
      s.on('connect_error', reject);
      sockets.add(s);
    }), WAIT, `connect to ${node.url}`);
  }

  it('server_count and the member list, on every node', async () => {
    for (const n of [a, b, c]) {
      const s = await connectTo(n, 'counter');
      const { count, members } = await s.timeout(WAIT).emitWithAck('server-count');
      assert.equal(count, 3);
      const others = [a, b, c].filter((x) => x !== n).map((x) => x.clusterAddress).sort();
      assert.deepEqual(members.sort(), others);
    }
  });

  it("sees every node's sockets, with their data, and emits to one on another node", async () => {
    const [onA, onB, onC] = [await connectTo(a, 'alice'), await connectTo(b, 'bob'),
                             await connectTo(c, 'carol')];
    const list = await onA.timeout(WAIT).emitWithAck('fetch', null);
    const byId = Object.fromEntries(list.map((s) => [s.id, s]));
    for (const [s, name] of [[onA, 'alice'], [onB, 'bob'], [onC, 'carol']]) {
      assert.ok(byId[s.id], `${name}'s socket is in the list`);
      assert.equal(byId[s.id].data.name, name);
      assert.ok(byId[s.id].rooms.includes(s.id));
    }
    assert.equal(await onA.timeout(WAIT).emitWithAck('emit-to', onC.id, 'direct', { hi: 'carol' }),
                 true);
    await waitFor(() => onC.events.some(([ev, p]) => ev === 'direct' && p.hi === 'carol'), WAIT,
                  'carol got the emit made on node a');
  });

  it('makes sockets on every node join a room, then reaches them there', async () => {
    const [x, y] = [await connectTo(b, 'x'), await connectTo(c, 'y')];
    const sender = await connectTo(a, 'sender');
    await sender.timeout(WAIT).emitWithAck('sockets-join', x.id, 'bulk-room');
    await sender.timeout(WAIT).emitWithAck('sockets-join', y.id, 'bulk-room');
    await waitFor(async () => {
      const list = await sender.timeout(WAIT).emitWithAck('fetch', 'bulk-room');
      return list.length === 2;
    }, WAIT, { label: 'both joined', intervalMs: 100 });
    await sender.timeout(WAIT).emitWithAck('in-room-all', 'bulk-room', 'room-news', 'hello room');
    await waitFor(() => [x, y].every((s) => s.events.some(([ev]) => ev === 'room-news')), WAIT,
                  'both room members got it');
    assert.ok(!sender.events.some(([ev]) => ev === 'room-news'));
  });

  it('runs server_side_emit on the other nodes only, and gathers one ack per node', async () => {
    const [onA, onB, onC] = [await connectTo(a, 'a1'), await connectTo(b, 'b1'), await connectTo(c, 'c1')];
    await onA.timeout(WAIT).emitWithAck('server-emit', 'news for the others');
    await waitFor(() => [onB, onC].every((s) => s.events.some(([ev, p]) => ev === 'relayed' && p === 'news for the others')),
                  WAIT, 'the other nodes ran their handler');
    await delay(300);
    assert.ok(!onA.events.some(([ev]) => ev === 'relayed'), 'not on the sending node');

    const result = await onA.timeout(WAIT).emitWithAck('server-emit-ack', 3000);
    assert.equal(result.error, '');
    const ports = [b, c].map((n) => Number(n.clusterAddress.split(':')[1])).sort();
    assert.deepEqual(result.responses.map(Number).sort(), ports);
  });

  it('gathers a broadcast ack from clients on every node', async () => {
    const answering = [await connectTo(b, 'bee'), await connectTo(c, 'cee'), await connectTo(a, 'ay')];
    for (const s of answering) {
      s.on('question', (q, cb) => cb(`answer from ${s.auth.name}`));
      assert.ok((await s.timeout(WAIT).emitWithAck('join', 'ask')).includes('ask'));
    }
    const asker = await connectTo(a, 'asker');
    const ok = await asker.timeout(WAIT).emitWithAck('broadcast-ack', 'ask', 3000);
    assert.equal(ok.error, null);
    assert.deepEqual(ok.responses.slice().sort(), ['answer from ay', 'answer from bee', 'answer from cee']);

    // A silent client on another node: a timeout error, with the answers that came.
    const silent = await connectTo(c, 'silent');
    assert.ok((await silent.timeout(WAIT).emitWithAck('join', 'ask')).includes('ask'));
    const t0 = Date.now();
    const partial = await asker.timeout(WAIT).emitWithAck('broadcast-ack', 'ask', 1000);
    assert.equal(partial.error, 'operation has timed out');
    assert.equal(partial.responses.length, 3);
    assert.ok(Date.now() - t0 < 4000, 'bounded by the ack timeout');
  });

  it('answers fetch_sockets at once when a node dies, not at the timeout', async () => {
    const onA = await connectTo(a, 'watcher');
    await c.kill('SIGKILL'); // a deliberate crash (harness: not a failure)
    const t0 = Date.now();
    const list = await onA.timeout(WAIT).emitWithAck('fetch', null);
    const took = Date.now() - t0;
    // The request timeout is 5 s; a dead member must not hold the answer that long.
    assert.ok(took < 4500, `fetch took ${took} ms`);
    assert.ok(list.some((s) => s.id === onA.id));
  });
});
