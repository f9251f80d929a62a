'use strict';
// allow_eio3 (Node's allowEIO3): the real old clients from npm, socket.io-client
// 1.3.5, 2.0.x and 2.5.x (Engine.IO v3, Socket.IO protocol v4), over
// long-polling only, WebSocket only, and polling upgraded to WebSocket; next to
// a v4 client in the same rooms. Then the v3 wire details the clients hide
// (framing, heartbeat, XHR2 binary payloads), and the refusal when the option
// is off. The server is tests/servers/sio_test_server.cpp.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer, waitFor, waitForEvent, delay } = require('./lib/harness');
const { TRANSPORTS, ClientPool, ack, unique, waitUpgraded } = require('./lib/sio-helpers');

const SERVER = 'sio-test-server';
// Short heartbeat: the old clients must ping (v3), or they are dropped.
const HEARTBEAT = ['--ping-interval', '300', '--ping-timeout', '300'];
const WAIT_MS = 5000;

const OLD_CLIENTS = ['socket.io-client-v1', 'socket.io-client-v2-0', 'socket.io-client-v2-5'].map((pkg) => ({
  pkg,
  version: require(`${pkg}/package.json`).version,
  io: require(pkg),
}));

/// Old clients of one test; closeAll() disconnects them.
class OldClientPool {
  constructor(client, url, transport) {
    Object.assign(this, { client, url, transport, sockets: [] });
  }

  create(nsp = '/', opts = {}) {
    const socket = this.client.io(this.url + (nsp === '/' ? '' : nsp), {
      ...this.transport.options,
      forceNew: true,
      reconnection: false,
      timeout: WAIT_MS,
      ...opts,
    });
    socket.label = `${this.client.version} ${nsp}#${this.sockets.length}`;
    this.sockets.push(socket);
    return socket;
  }

  async connect(nsp = '/', opts = {}) {
    const socket = this.create(nsp, opts);
    await waitForEvent(socket, 'connect', WAIT_MS, {
      label: `connect of ${socket.label}`,
      rejectOn: ['connect_error', 'error'],
    });
    if (this.transport.upgrade)
      await waitUpgraded(socket, WAIT_MS);
    return socket;
  }

  closeAll() {
    for (const s of this.sockets)
      s.disconnect();
    this.sockets = [];
  }
}

/// Emits with an ack the old way (no timeout() before 3.x): resolves with every ack argument.
function oldAck(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${socket.label}: no ack for '${event}'`)), WAIT_MS);
    socket.emit(event, ...args, (...answer) => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

const bytes = (data) => Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
/// Binary data to send, as a Buffer looked when socket.io-client 1.3.5 was new
/// (Node 0.12): without `.buffer`. That client's parser prefers `buf.buffer`
/// and then sends today's 8 KB Buffer pool, or zeros (it reads an ArrayBuffer
/// by index); its bytes are wrong before they leave the client. 2.x ignores it.
const bin = (...values) => Object.defineProperty(Buffer.from(values), 'buffer', { value: undefined });

for (const client of OLD_CLIENTS) {
  for (const transport of TRANSPORTS) {
    describe(`socket.io-client ${client.version} over ${transport.name}`, () => {
      let server;
      before(async () => {
        server = await startServer(SERVER, ['--allow-eio3', ...HEARTBEAT]);
      });
      after(async () => {
        if (server)
          await server.stop();
      });
      const clientTest = (name, body) => test(name, async () => {
        const old = new OldClientPool(client, server.url, transport);
        const modern = new ClientPool(server.url, transport);
        try {
          await body(old, modern);
        } finally {
          old.closeAll();
          await modern.closeAll();
        }
        server.assertAlive();
      });

      clientTest('connects to "/" without a CONNECT; its id is the engine id', async (old) => {
        const s = await old.connect();
        assert.equal(s.io.engine.transport.name, transport.upgrade ? 'websocket' : transport.options.transports[0]);
        const [me] = await oldAck(s, 'whoami');
        assert.equal(me.id, s.io.engine.id);
        assert.equal(me.nsp, '/');
      });

      clientTest('events with acks both ways, binary included', async (old) => {
        const s = await old.connect();
        assert.deepEqual(await oldAck(s, 'echo', 1, 'two', { three: [3] }), [1, 'two', { three: [3] }]);
        const [echoed] = await oldAck(s, 'echo', bin(0, 1, 2, 255));
        assert.deepEqual([...bytes(echoed)], [0, 1, 2, 255]);
        s.on('question', (q, reply) => reply(42, bin(7)));
        const [answer] = await oldAck(s, 'server-ack', 2000);
        assert.equal(answer.ok, true, JSON.stringify(answer));
        assert.equal(answer.answer[0], 42);
        const back = waitForEvent(s, 'back', WAIT_MS);
        s.emit('emit-back', 'x', bin(9, 8));
        const [x, backBin] = await back;
        assert.equal(x, 'x');
        assert.deepEqual([...bytes(backBin)], [9, 8]);
      });

      clientTest('stays connected across heartbeats (the client pings)', async (old) => {
        const s = await old.connect();
        let closed = null;
        s.on('disconnect', (reason) => { closed = reason; });
        await delay(1500); // more than 2 x (pingInterval + pingTimeout)
        assert.equal(closed, null);
        assert.deepEqual(await oldAck(s, 'echo', 'still here'), ['still here']);
      });

      clientTest('rooms: an old client and a v4 client see each other\'s broadcasts', async (old, modern) => {
        const room = unique();
        const a = await old.connect();
        const b = await modern.connect('/', { label: 'v4' });
        await oldAck(a, 'join', room);
        await ack(b, 'join', room);
        const atOld = waitForEvent(a, 'news', WAIT_MS, { label: 'news at the old client' });
        await ack(b, 'to-room', room, 'news', { from: 'v4', bin: Buffer.from([1]) });
        const [fromV4] = await atOld;
        assert.equal(fromV4.from, 'v4');
        assert.deepEqual([...bytes(fromV4.bin)], [1]);
        const atV4 = waitForEvent(b, 'news', WAIT_MS, { label: 'news at the v4 client' });
        await oldAck(a, 'to-room', room, 'news', { from: 'old' });
        assert.deepEqual((await atV4)[0], { from: 'old' });
        // and a broadcast to the whole room reaches both
        const both = [waitForEvent(a, 'all', WAIT_MS), waitForEvent(b, 'all', WAIT_MS)];
        await ack(b, 'in-room-all', room, 'all', 'everyone');
        assert.deepEqual((await Promise.all(both)).map(([v]) => v), ['everyone', 'everyone']);
      });

      if (client.version.startsWith('2.')) {
        clientTest('a namespace\'s query is its auth; a refusal is an ERROR with the message', async (old) => {
          const s = await old.connect('/admin', { query: { token: 'admin-secret' } });
          const [answer] = await oldAck(s, 'echo', 1);
          assert.deepEqual(answer, ['admin', 1]);
          const refused = old.create('/admin', { query: { token: 'wrong' } });
          const [err] = await waitForEvent(refused, 'error', WAIT_MS, { rejectOn: ['connect'] });
          assert.equal(err, 'admins only');
        });
      }
    });
  }
}

describe('Engine.IO v3 on the wire', () => {
  let server;
  before(async () => {
    // a raw client is closed after pingInterval + pingTimeout without a ping: leave it time
    server = await startServer(SERVER, ['--allow-eio3', '--ping-interval', '1000', '--ping-timeout', '1000']);
  });
  after(async () => {
    if (server)
      await server.stop();
  });

  const PATH = '/socket.io/';
  /// Splits a v3 text payload ("<length>:<packet>"...); lengths are JS string lengths.
  function packets(body) {
    const out = [];
    for (let i = 0; i < body.length;) {
      const colon = body.indexOf(':', i);
      const n = Number(body.slice(i, colon));
      out.push(body.slice(colon + 1, colon + 1 + n));
      i = colon + 1 + n;
    }
    return out;
  }
  async function handshake(query = 'b64=1') {
    const hs = await server.request({ path: `${PATH}?EIO=3&transport=polling&${query}` });
    assert.equal(hs.status, 200, hs.body);
    const [open, ...rest] = packets(hs.body);
    assert.equal(open[0], '0');
    const info = JSON.parse(open.slice(1));
    return { info, rest, path: `${PATH}?EIO=3&transport=polling&${query}&sid=${info.sid}` };
  }
  /// GETs until `want` (a packet) arrived; returns everything seen.
  async function pollUntil(path, want) {
    const seen = [];
    await waitFor(async () => {
      const res = await server.request({ path });
      assert.equal(res.status, 200, res.body);
      seen.push(...packets(res.body));
      return seen.includes(want);
    }, WAIT_MS, { label: `${want} in ${JSON.stringify(seen)}` });
    return seen;
  }

  test('handshake: v3 fields, no maxPayload; "/" connects without a CONNECT', async () => {
    const { info, rest, path } = await handshake();
    assert.deepEqual(Object.keys(info).sort(), ['pingInterval', 'pingTimeout', 'sid', 'upgrades']);
    assert.deepEqual(info.upgrades, ['websocket']);
    assert.equal(info.pingInterval, 1000);
    if (!rest.includes('40'))
      await pollUntil(path, '40'); // CONNECT with no payload
  });

  test('the client pings, the server answers pong; a silent client is closed', async () => {
    const { path } = await handshake();
    const post = await server.request({ method: 'POST', path, body: '1:2', headers: { 'Content-Type': 'text/plain;charset=UTF-8' } });
    assert.equal(post.status, 200);
    await pollUntil(path, '3');
    // no more pings: closed after pingInterval + pingTimeout (the GET gets the close packet)
    const seen = await pollUntil(path, '1');
    assert.ok(seen.includes('1'));
  });

  test('lengths count UTF-16 units, binary in text payloads is b4 + base64', async () => {
    const { path } = await handshake();
    await pollUntil(path, '40');
    const text = '420["echo","€😀"]'; // JS length 16: the emoji is two units
    const bin = '451-1["echo",{"_placeholder":true,"num":0}]';
    const attach = 'b4' + Buffer.from([1, 2, 3]).toString('base64');
    const body = [text, bin, attach].map((p) => `${p.length}:${p}`).join('');
    const post = await server.request({ method: 'POST', path, body });
    assert.equal(post.status, 200);
    const seen = await pollUntil(path, attach); // the acks come back the same way
    assert.ok(seen.includes('430["€😀"]'), JSON.stringify(seen));
    assert.ok(seen.includes('461-1[{"_placeholder":true,"num":0}]'), JSON.stringify(seen));
  });

  test('XHR2 binary payloads when the client did not ask for base64', async () => {
    const { path } = await handshake('');
    await pollUntil(path, '40');
    // an ack-asking binary echo, itself sent in the XHR2 framing
    const text = Buffer.from('451-1["echo",{"_placeholder":true,"num":0}]');
    const attach = Buffer.from([4, 0xca, 0xfe]);
    const frame = (kind, data) => Buffer.concat([Buffer.from([kind, ...String(data.length).split('').map(Number), 255]), data]);
    const body = Buffer.concat([frame(0, text), frame(1, attach)]);
    const post = await server.request({ method: 'POST', path, body, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(post.status, 200);
    const res = await waitFor(async () => {
      const r = await server.request({ path });
      return r.headers['content-type'] === 'application/octet-stream' ? r : null;
    }, WAIT_MS, { label: 'a binary payload' });
    // 0 <len> 255 "461-1[...]" 1 <len> 255 04 ca fe
    const raw = res.raw;
    assert.equal(raw[0], 0);
    const end = raw.indexOf(255);
    const n = Number([...raw.subarray(1, end)].join(''));
    assert.match(raw.subarray(end + 1, end + 1 + n).toString(), /^461-1\[\{"_placeholder":true,"num":0\}\]$/);
    assert.deepEqual([...raw.subarray(end + 1 + n)], [1, 3, 255, 4, 0xca, 0xfe]);
  });
});

describe('allow_eio3 off (the default)', () => {
  let server;
  before(async () => {
    server = await startServer(SERVER);
  });
  after(async () => {
    if (server)
      await server.stop();
  });

  test('EIO=3 is refused with code 5, as Node', async () => {
    for (const transport of ['polling', 'websocket']) {
      const res = await server.request({ path: `/socket.io/?EIO=3&transport=${transport}` });
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.body), { code: 5, message: 'Unsupported protocol version' });
    }
    const s = OLD_CLIENTS[2].io(server.url, { transports: ['polling'], forceNew: true, reconnection: false });
    try {
      await waitForEvent(s, 'connect_error', WAIT_MS, { rejectOn: ['connect'] });
    } finally {
      s.close();
    }
  });
});
