'use strict';
// Node's per-socket API on the server's sio::socket, against the official
// client: off / once, on_any / prepend_any / off_any, on_any_outgoing,
// volatile_() and compress(), and emit_with_ack through a socket_ref (on this
// node and on another node of a cluster). The server is
// tests/servers/sio_test_server.cpp; clients drive it with events.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { io } = require('socket.io-client');

const { startServer, waitFor, waitForEvent, delay } = require('./lib/harness');
const { startClusterNode, waitForMembers } = require('./lib/cluster-nodes');
const { TRANSPORTS, ClientPool, ack } = require('./lib/sio-helpers');

/// Every `event` `socket` receives, as argument lists.
function collect(socket, event) {
  const got = [];
  socket.on(event, (...args) => got.push(args));
  return got;
}

/// Answers the server's "question" with {who, q}.
function answerQuestions(socket, who) {
  socket.on('question', (q, cb) => cb({ who, q }));
}

for (const transport of TRANSPORTS) {
  describe(`socket API over ${transport.name}`, () => {
    let server;
    before(async () => {
      server = await startServer('sio-test-server');
    });
    after(async () => {
      if (server)
        await server.stop();
    });
    const clientTest = (name, body) => test(name, async () => {
      const p = new ClientPool(server.url, transport);
      try {
        await body(p);
      } finally {
        await p.closeAll();
      }
      server.assertAlive();
    });

    clientTest('once() runs once; off(event, id) removes one handler, off(event) all', async (p) => {
      const a = await p.connect('/', { label: 'A' });
      const heard = collect(a, 'heard');
      const onceId = await ack(a, 'listen', 'ping', 'once', 'first');
      const keepId = await ack(a, 'listen', 'ping', 'on', 'keep');
      const dropId = await ack(a, 'listen', 'ping', 'on', 'drop');
      assert.equal(new Set([onceId, keepId, dropId]).size, 3, 'distinct handler ids');
      a.emit('ping', 1);
      await waitFor(() => heard.length === 3, 5000, { label: 'three handlers of ping 1' });
      assert.deepEqual(heard, [['ping', 'first', 1], ['ping', 'keep', 1], ['ping', 'drop', 1]],
        'in the order they were added');

      await ack(a, 'unlisten', 'ping', dropId);
      a.emit('ping', 2);
      await waitFor(() => heard.length === 4, 5000, { label: 'ping 2' });
      await ack(a, 'whoami'); // anything else of ping 2 would have come before this answer
      assert.deepEqual(heard.slice(3), [['ping', 'keep', 2]], 'once gone, the removed one gone');

      await ack(a, 'unlisten', 'ping', null);
      a.emit('ping', 3);
      await ack(a, 'whoami');
      await delay(100);
      assert.equal(heard.length, 4, 'off(event) removed every handler');
      // Handlers of other events stay: echo still answers.
      assert.deepEqual(await ack(a, 'echo', 'still'), 'still');
    });

    clientTest('prepend_any runs first; off_any(id) and off_any()', async (p) => {
      const a = await p.connect('/', { label: 'A' });
      const heard = collect(a, 'any-heard');
      const first = await ack(a, 'listen-any', 'on', 'on-1');
      await ack(a, 'listen-any', 'on', 'on-2');
      await ack(a, 'listen-any', 'prepend', 'prepended');
      a.emit('probe');
      await waitFor(() => heard.length === 3, 5000, { label: 'three any handlers' });
      assert.deepEqual(heard.map((h) => h[0]), ['prepended', 'on-1', 'on-2']);

      await ack(a, 'unlisten-any', first);
      a.emit('probe');
      await waitFor(() => heard.length === 5, 5000, { label: 'two any handlers' });
      assert.deepEqual(heard.slice(3).map((h) => h[0]), ['prepended', 'on-2']);

      await ack(a, 'unlisten-any', null);
      a.emit('probe');
      await ack(a, 'whoami');
      await delay(100);
      assert.equal(heard.length, 5, 'off_any() removed them all');
    });

    clientTest('on_any_outgoing sees this socket\'s emits, not acks; off_any_outgoing stops it', async (p) => {
      const a = await p.connect('/', { label: 'A' });
      const b = await p.connect('/', { label: 'B' });
      answerQuestions(a, 'A');
      const id = await ack(a, 'listen-outgoing');
      const back = waitForEvent(a, 'back', 5000, { label: 'back' });
      a.emit('emit-back', 'x', { y: 1 }); // emit-back does not ack
      await back;
      const answer = await ack(a, 'server-ack', 1000); // emit_with_ack
      assert.equal(answer.ok, true);
      // Through a socket_ref from another socket's handler: the same actor emits.
      await ack(b, 'emit-to', a.id, 'via-ref', 7);
      await waitFor(async () => (await ack(a, 'outgoing-log')).length === 3, 5000,
        { label: 'three outgoing events logged', intervalMs: 20 });
      assert.deepEqual(await ack(a, 'outgoing-log'), [
        ['back', ['x', { y: 1 }]],
        ['question', ['what is the answer?']],
        ['via-ref', [7]],
      ]);
      await ack(a, 'unlisten-outgoing', id);
      const after = waitForEvent(a, 'back', 5000, { label: 'back after off' });
      a.emit('emit-back', 'after');
      await after;
      assert.equal((await ack(a, 'outgoing-log')).length, 3, 'nothing logged after off');
    });

    clientTest('volatile_() to one socket: at most once each, in order; the flag lasts one emit', async (p) => {
      const a = await p.connect('/', { label: 'A' });
      await delay(100); // polling: let the client's GET wait
      const vols = collect(a, 'vol');
      const end = waitForEvent(a, 'vol-end', 5000, { label: 'vol-end' });
      await ack(a, 'volatile-me', 50);
      await end;
      await delay(100);
      const got = vols.map((args) => args[0]);
      assert.ok(got.length <= 50, `at most all (${got.length})`);
      assert.deepEqual(got, [...got].sort((x, y) => x - y), 'in order');
      assert.equal(new Set(got).size, got.length, 'none twice');
      if (transport.name === 'websocket')
        assert.ok(got.length >= 1, 'an idle WebSocket takes the first one');
      // The plain emit after them always arrives (awaited above); so does a later one.
      assert.deepEqual(await ack(a, 'echo', 'ok'), 'ok');
    });

    clientTest('socket_ref::emit_with_ack: the answer, a timeout, a disconnect', async (p) => {
      const a = await p.connect('/', { label: 'A' });
      const b = await p.connect('/', { label: 'B' });
      answerQuestions(a, 'A');
      assert.deepEqual(await ack(b, 'ref-ack', a.id, 2000),
        { ok: true, error: null, answer: [{ who: 'A', q: 'from a ref' }] });

      // B does not answer: the socket's own timer ends the wait.
      const started = Date.now();
      assert.deepEqual(await ack(a, 'ref-ack', b.id, 300),
        { ok: false, error: 'operation has timed out', answer: null });
      assert.ok(Date.now() - started < 2000, 'within the timeout, not the backstop');

      // B leaves while the server waits for it.
      b.on('question', () => b.disconnect());
      assert.deepEqual(await ack(a, 'ref-ack', b.id, 3000),
        { ok: false, error: 'socket has been disconnected', answer: null });
    });
  });
}

describe('socket_ref::emit_with_ack across a cluster', () => {
  let a;
  let b;
  const sockets = [];

  function startNode(join) {
    return startClusterNode('sio-test-server', { join });
  }

  before(async () => {
    a = await startNode([]);
    b = await startNode([a.clusterAddress]);
    await Promise.all([waitForMembers(a, 2), waitForMembers(b, 2)]);
  });
  after(async () => {
    for (const s of sockets)
      s.disconnect();
    for (const n of [a, b])
      if (n)
        await n.stop();
  });

  async function connected(node, label) {
    const s = io(node.url, { transports: ['websocket'], forceNew: true, reconnection: false });
    s.label = label;
    sockets.push(s);
    await waitForEvent(s, 'connect', 5000, { label: `connect of ${label}`, rejectOn: ['connect_error'] });
    return s;
  }

  test('a socket on node A answers a request from node B; then a timeout and a disconnect', async () => {
    const x = await connected(a, 'X');
    const y = await connected(b, 'Y');
    answerQuestions(x, 'X');
    assert.deepEqual(await ack(y, 'ref-ack', x.id, 3000),
      { ok: true, error: null, answer: [{ who: 'X', q: 'from a ref' }] });

    x.off('question');
    x.on('question', () => {}); // never answers
    assert.deepEqual(await ack(y, 'ref-ack', x.id, 300),
      { ok: false, error: 'operation has timed out', answer: null });

    x.off('question');
    x.on('question', () => x.disconnect());
    assert.deepEqual(await ack(y, 'ref-ack', x.id, 3000),
      { ok: false, error: 'socket has been disconnected', answer: null });
  });
});
