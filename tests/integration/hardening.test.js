'use strict';
// "Trustworthy under attack and failure": requests an attacker (or a buggy
// client) can send, against the real servers. Each block starts its own server.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { Socket } = require('engine.io-client');
const { io } = require('socket.io-client');
const WebSocket = require('ws');

const { startServer, waitFor, waitForEvent, delay } = require('./lib/harness');

const EIO_PATH = '/engine.io/';
const OPEN_TIMEOUT = 10000;

/// An engine.io-client socket to sio-conformance's echo endpoint that records
/// what it receives.
async function openEngineClient(server, opts) {
  const socket = new Socket(server.url, { path: EIO_PATH, ...opts });
  socket.received = [];
  socket.on('message', (m) => socket.received.push(m));
  socket.on('error', () => {});
  await waitForEvent(socket, 'open', OPEN_TIMEOUT, { rejectOn: ['close'] });
  return socket;
}

async function echo(socket, text) {
  const before = socket.received.length;
  socket.send(text);
  await waitFor(() => socket.received.slice(before).includes(text), 5000, { label: `echo of ${text}` });
}

describe('Transport ownership (Node: TRANSPORT_MISMATCH)', () => {
  let server;
  before(async () => {
    server = await startServer('sio-conformance');
  });
  after(async () => {
    if (server)
      await server.stop();
  });

  const BAD_REQUEST = { code: 3, message: 'Bad request' };

  async function expectMismatch(sid, method) {
    const res = await server.request({
      method,
      path: `${EIO_PATH}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`,
      body: method === 'POST' ? '4injected' : undefined,
    });
    assert.equal(res.status, 400, `${method}: ${res.status} ${res.body}`);
    assert.deepEqual(JSON.parse(res.body), BAD_REQUEST);
  }

  it('a session that upgraded to WebSocket refuses polling GET and POST', { timeout: 30000 }, async () => {
    const socket = await openEngineClient(server, { transports: ['polling', 'websocket'] });
    try {
      if (socket.transport.name !== 'websocket')
        await waitForEvent(socket, 'upgrade', OPEN_TIMEOUT, { rejectOn: ['close', 'upgradeError'] });
      assert.equal(socket.transport.name, 'websocket');
      await expectMismatch(socket.id, 'GET');
      await expectMismatch(socket.id, 'POST');
      // The POST's packet did not reach the session, and the session is unharmed.
      await echo(socket, 'still here');
      assert.ok(!socket.received.includes('injected'), 'the refused POST was not delivered');
    } finally {
      socket.close();
    }
  });

  it('a session opened on WebSocket refuses polling GET and POST', { timeout: 30000 }, async () => {
    const socket = await openEngineClient(server, { transports: ['websocket'], upgrade: false });
    try {
      await expectMismatch(socket.id, 'GET');
      await expectMismatch(socket.id, 'POST');
      await echo(socket, 'still here');
      await delay(50);
      assert.ok(!socket.received.includes('injected'), 'the refused POST was not delivered');
    } finally {
      socket.close();
    }
  });

  it('a polling session refuses a websocket request without upgrade', { timeout: 30000 }, async () => {
    const socket = await openEngineClient(server, { transports: ['polling'], upgrade: false });
    try {
      const res = await server.request({
        path: `${EIO_PATH}?EIO=4&transport=websocket&sid=${encodeURIComponent(socket.id)}`,
      });
      assert.equal(res.status, 400, res.body);
      assert.deepEqual(JSON.parse(res.body), BAD_REQUEST);
      await echo(socket, 'polling still works');
    } finally {
      socket.close();
    }
  });
});

// -- a session stops decoding once it closes; repeated log lines are limited --

/// A socket.io-client on '/' (WebSocket), connected.
async function connectSio(server, nsp = '/', opts = {}) {
  const socket = io(server.url + (nsp === '/' ? '' : nsp), {
    transports: ['websocket'], forceNew: true, reconnection: false, timeout: 5000, ...opts,
  });
  await waitForEvent(socket, 'connect', 5000, { label: `connect to ${nsp}`, rejectOn: ['connect_error'] });
  return socket;
}

async function sioEcho(socket, value) {
  // emitWithAck resolves with the ack's first argument: the server acks e.args.
  const answer = await socket.timeout(5000).emitWithAck('echo', value);
  assert.equal(answer, value);
}

/// A raw polling handshake on /socket.io/; resolves with the sid.
async function pollingHandshake(server) {
  const res = await server.request({ path: '/socket.io/?EIO=4&transport=polling' });
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body.slice(1)).sid;
}

function stderrLines(server, pattern) {
  return server.stderr().split('\n').filter((l) => pattern.test(l));
}

describe('A POST full of bad packets', () => {
  let server;
  before(async () => {
    server = await startServer('sio-test-server');
  });
  after(async () => {
    if (server)
      await server.stop();
  });

  it('ends the session at the first bad packet and logs it once', { timeout: 30000 }, async () => {
    const bystander = await connectSio(server);
    try {
      const sid = await pollingHandshake(server);
      // 50,000 Engine.IO messages with an empty (invalid) Socket.IO packet: ~100 KB.
      const body = new Array(50000).fill('4').join('\x1e');
      const res = await server.request({
        method: 'POST',
        path: `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`,
        body,
      });
      assert.equal(res.status, 200, res.body);
      // The session is closing: the next GET carries the close packet (or the sid is gone).
      const get = await server.request({ path: `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}` });
      assert.ok(get.status === 400 || get.body.split('\x1e').includes('1'), `${get.status} ${get.body}`);
      await sioEcho(bystander, 'after the flood');
      await delay(200); // let any straggling log line arrive
      const lines = stderrLines(server, new RegExp(sid.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      // One "malformed packet" line and (SIO_DEBUG) one "closed" line, not 50,000.
      assert.ok(lines.length >= 1 && lines.length <= 3, `lines about the session:\n${lines.join('\n')}`);
    } finally {
      bystander.close();
    }
  });

  it('many bad sessions at once: a few log lines per second and a summary', { timeout: 60000 }, async () => {
    const bystander = await connectSio(server);
    try {
      const malformed = /after a malformed packet/;
      const before = stderrLines(server, malformed).length;
      const started = Date.now();
      await Promise.all(Array.from({ length: 40 }, async () => {
        const sid = await pollingHandshake(server);
        await server.request({
          method: 'POST',
          path: `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`,
          body: '4\x1e4\x1e4',
        });
      }));
      const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
      await delay(100);
      const written = stderrLines(server, malformed).length - before;
      assert.ok(written >= 1 && written <= 5 * seconds,
        `${written} "malformed packet" lines for 40 sessions in ~${seconds} s`);
      // After the second is over, the next line of any kind brings the summary.
      await delay(1100);
      const sid = await pollingHandshake(server);
      await server.request({
        method: 'POST',
        path: `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`,
        body: '4',
      });
      await waitFor(() => stderrLines(server, /more like ".*malformed packet.*" suppressed\)/).length > 0, 5000,
        { label: 'the "(N more like ... suppressed)" summary' });
      await sioEcho(bystander, 'after many floods');
    } finally {
      bystander.close();
    }
  });
});

// -- optional caps ------------------------------------------------------------------

/// Opens a TCP connection to the server; resolves with the socket once connected.
function tcpConnect(server) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: server.host, port: server.port });
    sock.once('connect', () => resolve(sock));
    sock.once('error', reject);
  });
}

/// Resolves 'closed' if the server closes `sock` within ms without sending
/// anything, 'data' if it sends, 'open' if neither happens.
function closedByServer(sock, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('open'), ms);
    sock.once('data', () => { clearTimeout(timer); resolve('data'); });
    sock.once('close', () => { clearTimeout(timer); resolve('closed'); });
    sock.on('error', () => {});
  });
}

describe('Cap: connections per client IP (--max-connections-per-ip)', () => {
  let server;
  before(async () => {
    server = await startServer('sio-test-server', ['--max-connections-per-ip', '3']);
  });
  after(async () => {
    if (server)
      await server.stop();
  });

  it('closes a connection beyond the cap at once; a freed slot is usable again', { timeout: 30000 }, async () => {
    const held = [];
    try {
      for (let i = 0; i < 3; ++i)
        held.push(await tcpConnect(server));
      const extra = await tcpConnect(server);
      assert.equal(await closedByServer(extra, 3000), 'closed', 'the 4th connection is closed, unanswered');
      await waitFor(() => stderrLines(server, /refused: max_connections_per_ip \(3\) reached/).length > 0, 3000,
        { label: 'the refusal in the log' });
      // The held ones are served.
      held[0].write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(await closedByServer(held[0], 3000), 'data');
      held.pop().destroy();
      held.pop().destroy();
      // Once the server has seen them go, a client gets in again.
      await waitFor(async () => (await server.request({ path: '/socket.io/?EIO=4&transport=polling' })
        .catch(() => ({ status: 0 }))).status === 200, 5000, { label: 'a handshake after slots were freed' });
      const client = await connectSio(server);
      await sioEcho(client, 'under the cap');
      client.close();
    } finally {
      for (const s of held)
        s.destroy();
    }
  });
});

describe('Cap: Engine.IO sessions (--max-sessions)', () => {
  let server;
  before(async () => {
    server = await startServer('sio-test-server', ['--max-sessions', '2']);
  });
  after(async () => {
    if (server)
      await server.stop();
  });

  it('refuses a handshake beyond the cap as Node refuses one (403, code 4)', { timeout: 30000 }, async () => {
    const a = await connectSio(server);
    const sid = await pollingHandshake(server);
    const res = await server.request({ path: '/socket.io/?EIO=4&transport=polling' });
    assert.equal(res.status, 403, res.body);
    assert.deepEqual(JSON.parse(res.body), { code: 4, message: 'Too many sessions' });
    // A WebSocket handshake: 400, as Node's abortUpgrade.
    const ws = new WebSocket(`ws://${server.host}:${server.port}/socket.io/?EIO=4&transport=websocket`);
    ws.on('error', () => {}); // terminate() below reports the aborted handshake as one
    const [, response] = await waitForEvent(ws, 'unexpected-response', 5000, { rejectOn: ['open'] });
    assert.equal(response.statusCode, 400);
    ws.terminate();
    // A socket.io-client gets a connect_error and the others are unharmed.
    const refused = io(server.url, { transports: ['polling'], forceNew: true, reconnection: false, timeout: 5000 });
    await waitForEvent(refused, 'connect_error', 5000);
    refused.close();
    await sioEcho(a, 'still served');
    // A session that ends frees its place.
    await server.request({
      method: 'POST', path: `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, body: '1',
    });
    await waitFor(async () => (await server.request({ path: '/socket.io/?EIO=4&transport=polling' })).status === 200,
      5000, { label: 'a handshake after a session closed' });
    a.close();
  });
});

describe('Cap: rooms per socket (--max-rooms-per-socket)', () => {
  let server;
  before(async () => {
    server = await startServer('sio-test-server', ['--max-rooms-per-socket', '3']);
  });
  after(async () => {
    if (server)
      await server.stop();
  });

  it('refuses joins beyond the cap; the socket keeps working', { timeout: 30000 }, async () => {
    const s = await connectSio(server);
    try {
      const rooms = await s.timeout(5000).emitWithAck('join', ['a', 'b', 'c', 'd', 'e']);
      assert.deepEqual([...rooms].sort(), ['a', 'b', 'c', s.id].sort());
      await waitFor(() => stderrLines(server, /join of 2 room\(s\) refused, max_rooms_per_socket \(3\)/).length > 0,
        3000, { label: 'the refusal in the log' });
      await sioEcho(s, 'still connected');
      assert.ok(s.connected);
      // Leaving one makes room for another.
      await s.timeout(5000).emitWithAck('leave', 'a');
      const after = await s.timeout(5000).emitWithAck('join', 'd');
      assert.deepEqual([...after].sort(), ['b', 'c', 'd', s.id].sort());
    } finally {
      s.close();
    }
  });
});

describe('Cap: dynamic namespaces (--max-dynamic-namespaces)', () => {
  let server;
  before(async () => {
    server = await startServer('sio-test-server', ['--max-dynamic-namespaces', '2']);
  });
  after(async () => {
    if (server)
      await server.stop();
  });

  it('answers "Invalid namespace" once the cap is reached; existing ones still work', { timeout: 30000 }, async () => {
    const one = await connectSio(server, '/dyn-1');
    const two = await connectSio(server, '/dyn-2');
    const third = io(`${server.url}/dyn-3`, { transports: ['websocket'], forceNew: true, reconnection: false });
    const [err] = await waitForEvent(third, 'connect_error', 5000, { rejectOn: ['connect'] });
    assert.equal(err.message, 'Invalid namespace');
    third.close();
    // A namespace created before, and static ones, still accept clients.
    const again = await connectSio(server, '/dyn-1');
    const root = await connectSio(server, '/');
    await sioEcho(root, 'root');
    const answer = await again.timeout(5000).emitWithAck('echo', 'x');
    assert.deepEqual(answer, { nsp: '/dyn-1', args: ['x'] });
    for (const s of [one, two, again, root])
      s.close();
  });
});
