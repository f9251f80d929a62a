'use strict';
// The msgpack parser (server_options::parser = wire_format::msgpack, `--parser
// msgpack`): the official socket.io-client 4.x with socket.io-msgpack-parser
// from npm, over WebSocket and over polling, against sio-test-server; then
// hostile MessagePack sent by hand, which must close only its own session.
// See docs/api.md ("The msgpack parser").

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { io } = require('socket.io-client');
const msgpackParser = require('socket.io-msgpack-parser');
const notepack = require('notepack.io');

const { startServer, waitFor, withTimeout } = require('./lib/harness');

const WAIT = 10000;
let server;
const open = new Set();

before(async () => {
  server = await startServer('sio-test-server', ['--parser', 'msgpack']);
});

after(async () => {
  for (const c of open)
    c.disconnect();
  if (server)
    await server.stop();
});

function client(transports, opts = {}) {
  const c = io(server.url, { parser: msgpackParser, transports, forceNew: true, reconnection: false, ...opts });
  open.add(c);
  return c;
}

async function connected(c) {
  await withTimeout(new Promise((resolve, reject) => {
    if (c.connected) return resolve();
    c.once('connect', resolve);
    c.once('connect_error', reject);
  }), WAIT, 'connect');
}

for (const transports of [['websocket'], ['polling']]) {
  describe(`socket.io-msgpack-parser over ${transports[0]}`, () => {
    it('connects with auth, and events with acks keep every JSON type and binary', async () => {
      const c = client(transports, { auth: { name: 'ann' } });
      await connected(c);
      const me = await c.timeout(WAIT).emitWithAck('whoami');
      assert.equal(me.id, c.id);
      assert.deepEqual(me.data, { name: 'ann' });
      const bytes = Buffer.from([0, 1, 2, 250, 255]);
      const args = ['héllo ✓', 42, -7, 3.25, 2 ** 40, true, null, { a: [1, { b: 'c' }], e: {} }, [], bytes];
      const back = await withTimeout(new Promise((resolve) => c.emit('echo', ...args, (...r) => resolve(r))),
        WAIT, 'echo ack');
      assert.deepEqual(back.slice(0, -1), args.slice(0, -1));
      assert.ok(Buffer.isBuffer(back[back.length - 1]) || back[back.length - 1] instanceof ArrayBuffer,
        'binary comes back as bytes');
      assert.deepEqual(Buffer.from(back[back.length - 1]), bytes);
    });

    it('the server asks with an ack, rooms and broadcasts reach the right clients', async () => {
      const a = client(transports);
      const b = client(transports);
      await Promise.all([connected(a), connected(b)]);
      a.on('question', (q, answer) => answer(`42 to ${q}`));
      const r = await a.timeout(WAIT).emitWithAck('server-ack', 2000);
      assert.deepEqual(r, { ok: true, error: null, answer: ['42 to what is the answer?'] });

      const room = `mp-${transports[0]}-${Date.now()}`;
      await a.timeout(WAIT).emitWithAck('join', room);
      const got = [];
      a.on('news', (m) => got.push(m));
      b.on('news', (m) => got.push(['b got it', m]));
      await b.timeout(WAIT).emitWithAck('to-room', room, 'news', { n: 1, bin: Buffer.from('xy') });
      await waitFor(() => got.length === 1, WAIT, 'the room member gets the event');
      assert.equal(got[0].n, 1);
      assert.deepEqual(Buffer.from(got[0].bin), Buffer.from('xy'));
    });

    it('a refused connect gets connect_error with its data', async () => {
      const c = client(transports, { auth: { token: 'bad' } });
      const err = await withTimeout(new Promise((resolve) => c.once('connect_error', resolve)), WAIT, 'connect_error');
      assert.equal(err.message, 'not authorized');
      assert.deepEqual(err.data, { code: 401 });
    });
  });
}

describe('hostile MessagePack closes only its own session', () => {
  /// A raw Engine.IO WebSocket session: resolves once the open packet came.
  function rawSession() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${server.host}:${server.port}/socket.io/?EIO=4&transport=websocket`);
      ws.closed = new Promise((r) => ws.once('close', (code) => r(code)));
      ws.once('message', () => resolve(ws)); // the "0{...}" open packet
      ws.once('error', reject);
    });
  }

  const deep = Buffer.concat([Buffer.alloc(5000, 0x91), Buffer.from([0xc0])]); // [[[[...nil]]]]
  const cases = {
    'a text packet (the default parser\'s "40")': '40',
    'nesting 5,000 deep': deep,
    'a 4 GiB string header in 6 bytes': Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x41]),
    'an array claiming 4 billion items': Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]),
    'the reserved byte 0xc1': Buffer.from([0xc1]),
    'not a map': notepack.encode([0, '/']),
    'a packet type out of range': notepack.encode({ type: 5, nsp: '/', data: ['x'] }),
    'a namespace that is not a string': notepack.encode({ type: 0, nsp: 7 }),
    'an EVENT without data': notepack.encode({ type: 2, nsp: '/' }),
    'bytes after the packet': Buffer.concat([notepack.encode({ type: 0, nsp: '/' }), Buffer.from([0xc0])]),
  };

  it('each kind is refused, the server stays up and a bystander keeps chatting', async () => {
    const bystander = client(['websocket']);
    await connected(bystander);
    for (const [what, bytes] of Object.entries(cases)) {
      const ws = await rawSession();
      ws.send(bytes);
      const code = await withTimeout(ws.closed, WAIT, `${what}: the session is closed`);
      assert.ok(code >= 1000, `${what}: closed (${code})`);
      server.assertAlive(`after ${what}`);
      assert.deepEqual(await bystander.timeout(WAIT).emitWithAck('echo', what), what, `bystander after ${what}`);
    }
    // A well-formed packet on a raw session works: the checks are not just refusing everything.
    const ws = await rawSession();
    const replies = [];
    ws.on('message', (m, isBinary) => replies.push(isBinary ? notepack.decode(m) : m.toString()));
    ws.send(notepack.encode({ type: 0, nsp: '/', data: { name: 'raw' } }));
    await waitFor(() => replies.some((r) => r.type === 0 && r.data && r.data.sid), WAIT, 'CONNECT answered');
    ws.send(notepack.encode({ type: 2, nsp: '/', data: ['echo', 'raw hello'], id: 9 }));
    await waitFor(() => replies.some((r) => r.type === 3 && r.id === 9), WAIT, 'ACK 9');
    assert.deepEqual(replies.find((r) => r.type === 3).data, ['raw hello']);
    ws.close();
  });
});
