'use strict';
// Engine.IO v4 conformance of the bare echo endpoint (/engine.io/) of
// sio-conformance, driven by the official engine.io-client and by raw HTTP.
// Server settings (apps/conformance): pingInterval 300 ms, pingTimeout 200 ms,
// maxHttpBufferSize 1e6, CORS "*".

const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { Socket } = require('engine.io-client');
const WebSocket = require('ws');

const { startServer, binaryHasOptions, waitFor, waitForEvent, withTimeout, delay } = require('./lib/harness');

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const MAX_PAYLOAD = 1000000;
const EIO_PATH = '/engine.io/';

const OPEN_TIMEOUT = 10000;
const ECHO_TIMEOUT = 15000;

let server;
const openSockets = new Set();

before(async () => {
  server = await startServer('sio-conformance');
});

after(async () => {
  closeAll();
  if (server)
    await server.stop(); // fails the run if the server crashed or exits non-zero
});

afterEach(() => {
  closeAll();
  if (server)
    server.assertAlive('after test');
});

function closeAll() {
  for (const s of openSockets) {
    try {
      s.close();
    } catch {
      // ignore
    }
  }
  openSockets.clear();
}

/// Creates an engine.io-client socket to the echo endpoint; every received
/// message lands in `socket.received`, close events in `socket.closes`.
function createClient(opts = {}, srv = server) {
  const socket = new Socket(srv.url, { path: EIO_PATH, ...opts });
  openSockets.add(socket);
  socket.received = [];
  socket.closes = [];
  socket.errors = [];
  socket.on('message', (m) => socket.received.push(m));
  socket.on('close', (reason, description) => {
    // Keep it printable: a TransportError's context is the whole XHR object.
    const detail = description && typeof description === 'object'
      ? description.description ?? description.message ?? description.type
      : description;
    socket.closes.push(detail === undefined ? { reason } : { reason, detail: String(detail) });
    openSockets.delete(socket);
  });
  socket.on('error', (err) => socket.errors.push(err));
  return socket;
}

async function connect(opts = {}, label = 'open') {
  const socket = createClient(opts);
  await waitForEvent(socket, 'open', OPEN_TIMEOUT, { label: `${label} (${JSON.stringify(opts.transports || 'default')})`, rejectOn: ['close'] });
  return socket;
}

const POLLING_ONLY = { transports: ['polling'], upgrade: false };
const WEBSOCKET_ONLY = { transports: ['websocket'], upgrade: false };

/// engine.io-client delivers a text packet "4" (empty string) as `undefined`
/// (engine.io-parser only sets `data` when there is any), binary data as a
/// Buffer in Node.
function normalize(m) {
  if (m === undefined)
    return { text: '' };
  if (typeof m === 'string')
    return { text: m };
  if (Buffer.isBuffer(m))
    return { binary: Buffer.from(m).toString('hex') };
  if (m instanceof ArrayBuffer)
    return { binary: Buffer.from(m).toString('hex') };
  if (ArrayBuffer.isView(m))
    return { binary: Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('hex') };
  return { unexpected: String(m) };
}

async function waitForMessages(socket, count, timeoutMs = ECHO_TIMEOUT, who = 'client') {
  try {
    await waitFor(() => socket.received.length >= count || socket.closes.length > 0, timeoutMs,
      { label: `${who}: ${count} messages` });
  } catch (err) {
    err.message += ` (got ${socket.received.length})`;
    throw err;
  }
  if (socket.received.length < count)
    throw new Error(`${who} closed (${JSON.stringify(socket.closes)}) after ${socket.received.length}/${count} messages`);
}

function sampleMessages() {
  const allBytes = Buffer.alloc(256);
  for (let i = 0; i < 256; ++i)
    allBytes[i] = i;
  const big = Buffer.alloc(100 * 1024);
  for (let i = 0; i < big.length; ++i)
    big[i] = (i * 7919) & 0xff;
  return [
    'hello',
    '',
    'UTF-8: héllo wörld — 日本語 😀🚀👍🏽',
    Buffer.from([1, 2, 3]),
    '4 looks like a packet type',
    allBytes,
    '{"json":true,"n":[1,2,3]}',
    new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
    'x'.repeat(50000),
    big,
    'b64 look-alike: bAQID',
    Buffer.alloc(0),
    'last',
  ];
}

async function roundTrip(socket, messages) {
  const start = socket.received.length;
  for (const m of messages)
    socket.send(m);
  await waitForMessages(socket, start + messages.length);
  // Give a stray duplicate a moment to show up.
  await delay(50);
  const got = socket.received.slice(start).map(normalize);
  assert.deepEqual(got, messages.map(normalize));
  for (let i = 0; i < messages.length; ++i) {
    const sentBinary = typeof messages[i] !== 'string';
    const gotBinary = typeof socket.received[start + i] !== 'string' && socket.received[start + i] !== undefined;
    assert.equal(gotBinary, sentBinary, `message ${i}: binary-ness preserved`);
  }
}

async function closeClient(socket) {
  if (socket.closes.length)
    return;
  const closed = waitForEvent(socket, 'close', 5000, { label: 'client close' });
  socket.close();
  await closed;
}

describe('Engine.IO echo over HTTP long-polling', () => {
  it('round-trips text and binary messages in order', { timeout: 60000 }, async () => {
    const socket = await connect(POLLING_ONLY);
    assert.equal(socket.transport.name, 'polling');
    await roundTrip(socket, sampleMessages());
    // Messages sent one at a time (one POST each) as well as batched.
    for (let i = 0; i < 5; ++i)
      await roundTrip(socket, [`single ${i}`]);
    assert.equal(socket.transport.name, 'polling');
    assert.deepEqual(socket.closes, []);
    await closeClient(socket);
  });
});

describe('Engine.IO echo over WebSocket', () => {
  it('round-trips text and binary messages in order', { timeout: 60000 }, async () => {
    const socket = await connect(WEBSOCKET_ONLY);
    assert.equal(socket.transport.name, 'websocket');
    await roundTrip(socket, sampleMessages());
    for (let i = 0; i < 5; ++i)
      await roundTrip(socket, [`single ${i}`]);
    assert.deepEqual(socket.closes, []);
    await closeClient(socket);
  });

  it('sends text as text frames and binary as binary frames (raw ws)', { timeout: 30000 }, async () => {
    const ws = new WebSocket(`ws://${server.host}:${server.port}${EIO_PATH}?EIO=4&transport=websocket`);
    const frames = [];
    ws.on('message', (data, isBinary) => frames.push({ data: Buffer.from(data), isBinary }));
    try {
      await waitForEvent(ws, 'open', OPEN_TIMEOUT, { rejectOn: ['error', 'close'] });
      await waitFor(() => frames.length >= 1, OPEN_TIMEOUT, 'open packet');
      assert.equal(frames[0].isBinary, false);
      const open = frames[0].data.toString();
      assert.equal(open[0], '0', `open packet: ${open}`);
      const hs = JSON.parse(open.slice(1));
      assert.equal(typeof hs.sid, 'string');
      assert.deepEqual(hs.upgrades, []);
      assert.equal(hs.pingInterval, PING_INTERVAL);
      assert.equal(hs.pingTimeout, PING_TIMEOUT);
      assert.equal(hs.maxPayload, MAX_PAYLOAD);
      ws.send('4text');
      ws.send('4');
      ws.send(Buffer.from([0, 1, 2, 255]));
      await waitFor(() => frames.filter((f) => f.isBinary || f.data.toString()[0] === '4').length >= 3,
        ECHO_TIMEOUT, 'echoed frames');
      const echoes = frames.slice(1).filter((f) => f.isBinary || f.data.toString()[0] === '4');
      assert.deepEqual(echoes.map((f) => f.isBinary ? { bin: f.data.toString('hex') } : { text: f.data.toString() }),
        [{ text: '4text' }, { text: '4' }, { bin: '000102ff' }]);
    } finally {
      ws.terminate();
    }
  });
});

describe('WebSocket framing (RFC 6455, raw ws client)', () => {
  const url = () => `ws://${server.host}:${server.port}${EIO_PATH}?EIO=4&transport=websocket`;

  async function open() {
    const ws = new WebSocket(url());
    ws.on('error', () => {}); // a reset after our close is expected in the error cases
    const frames = [];
    ws.on('message', (data, isBinary) => frames.push({ text: Buffer.from(data).toString(), isBinary }));
    await waitForEvent(ws, 'open', OPEN_TIMEOUT, { rejectOn: ['error', 'close'] });
    await waitFor(() => frames.length >= 1, OPEN_TIMEOUT, 'open packet');
    return { ws, frames };
  }

  function closeCode(ws) {
    return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }

  it('answers a ping with a pong carrying the same payload', { timeout: 30000 }, async () => {
    const { ws } = await open();
    try {
      const pong = waitForEvent(ws, 'pong', ECHO_TIMEOUT);
      ws.ping(Buffer.from('are you there'));
      const [payload] = await pong;
      assert.equal(Buffer.from(payload).toString(), 'are you there');
    } finally {
      ws.terminate();
    }
  });

  it('joins a fragmented message', { timeout: 30000 }, async () => {
    const { ws, frames } = await open();
    try {
      ws.send('4hel', { fin: false });
      ws.send('lo wo', { fin: false });
      ws.send('rld', { fin: true });
      await waitFor(() => frames.some((f) => f.text === '4hello world'), ECHO_TIMEOUT, 'echo of the joined message');
    } finally {
      ws.terminate();
    }
  });

  it('closes with 1007 on text that is not UTF-8, 1009 on an oversized message', { timeout: 30000 }, async () => {
    const a = await open();
    const codeA = closeCode(a.ws);
    // ws refuses to send invalid UTF-8 as text, so write the frame ourselves:
    // FIN + text, masked, 3 bytes "4\xc3\x28" with an all-zero mask.
    a.ws._socket.write(Buffer.from([0x81, 0x83, 0, 0, 0, 0, 0x34, 0xc3, 0x28]));
    assert.equal(await withTimeout(codeA, ECHO_TIMEOUT, 'close after invalid UTF-8'), 1007);

    const b = await open();
    const codeB = closeCode(b.ws);
    b.ws.send('4' + 'x'.repeat(MAX_PAYLOAD + 10));
    assert.equal(await withTimeout(codeB, ECHO_TIMEOUT, 'close after an oversized message'), 1009);
    server.assertAlive('after bad WebSocket frames');
  });

  it('completes a client-initiated close handshake with the same code', { timeout: 30000 }, async () => {
    const { ws } = await open();
    const code = closeCode(ws);
    ws.close(4000, 'bye');
    assert.equal(await withTimeout(code, ECHO_TIMEOUT, 'close handshake'), 4000);
  });
});

describe('Engine.IO slow consumer', () => {
  // A client that stops reading while the server has more for it: once more than
  // max_buffered_bytes wait for it (beyond what the kernel's buffers hold), the
  // server cuts it off; nobody else notices.
  const MAX_BUFFERED = 1000000;
  let slowServer = null;
  before(async () => {
    slowServer = await startServer('sio-conformance',
      ['--ping-interval=2000', '--ping-timeout=5000', `--max-buffered=${MAX_BUFFERED}`]);
  });
  after(async () => {
    if (slowServer)
      await slowServer.stop();
  });

  it('closes a WebSocket client that stops reading, others keep going', { timeout: 60000 }, async () => {
    const url = `ws://${slowServer.host}:${slowServer.port}${EIO_PATH}?EIO=4&transport=websocket`;
    const bystander = new WebSocket(url);
    const slow = new WebSocket(url);
    slow.on('error', () => {});
    const seen = { bystander: [], slow: 0 };
    bystander.on('message', (d) => seen.bystander.push(Buffer.from(d).toString()));
    slow.on('message', () => { seen.slow += 1; });
    // Both waits start now: the second socket may open while the first is awaited.
    await Promise.all([bystander, slow].map((ws) =>
      waitForEvent(ws, 'open', OPEN_TIMEOUT, { rejectOn: ['error', 'close'] })));
    await waitFor(() => seen.slow >= 1, OPEN_TIMEOUT, 'open packet of the slow client');
    const closed = new Promise((resolve) => slow.once('close', () => resolve(true)));

    slow._socket.pause(); // stop reading: the kernel's buffers fill, then the server's queue
    const chunk = '4' + 'x'.repeat(200000);
    const sent = 60; // 12 MB echoed back: far more than loopback buffers take
    for (let i = 0; i < sent; ++i)
      slow.send(chunk);

    // The server must not wait for a reader that never comes.
    await delay(3000);
    bystander.send('4still here');
    await waitFor(() => seen.bystander.includes('4still here'), ECHO_TIMEOUT, 'bystander echo');
    slow._socket.resume();
    await withTimeout(closed, 20000, 'slow client cut off');
    assert.ok(seen.slow - 1 < sent, `the slow client got all ${sent} echoes: it was never cut off`);
    assert.match(slowServer.stderr(), /slow consumer/);
    slowServer.assertAlive('after a slow consumer');
    bystander.terminate();
  });
});

describe('Engine.IO upgrade from polling to WebSocket', () => {
  it('fires "upgrade" and loses or duplicates no message across it', { timeout: 60000 }, async () => {
    const socket = createClient({ transports: ['polling', 'websocket'] });
    const upgrading = waitForEvent(socket, 'upgrading', OPEN_TIMEOUT, { rejectOn: ['close'] });
    const upgraded = waitForEvent(socket, 'upgrade', OPEN_TIMEOUT, { rejectOn: ['close', 'upgradeError'] });
    upgrading.catch(() => {});
    upgraded.catch(() => {});
    await waitForEvent(socket, 'open', OPEN_TIMEOUT, { rejectOn: ['close'] });
    assert.equal(socket.transport.name, 'polling');

    // A numbered series sent every few ms from before the upgrade starts until
    // well after it completed, plus a burst right when each event fires.
    const sent = [];
    let n = 0;
    const sendOne = (tag) => {
      const msg = n % 5 === 4 ? Buffer.from(`bin#${n}`) : `msg#${n} ${tag}`;
      ++n;
      sent.push(msg);
      socket.send(msg);
    };
    const burst = (tag) => {
      for (let i = 0; i < 10; ++i)
        sendOne(tag);
    };
    socket.on('upgrading', () => burst('upgrading'));
    socket.on('upgrade', () => burst('upgrade'));
    burst('open');
    let upgradedAt = null;
    let timer;
    const ticking = new Promise((resolve) => {
      timer = setInterval(() => {
        if (socket.closes.length) {
          resolve();
          return;
        }
        sendOne(socket.transport.name);
        if (upgradedAt === null && socket.transport.name === 'websocket')
          upgradedAt = n;
        if (upgradedAt !== null && n >= upgradedAt + 40)
          resolve();
      }, 3);
    });
    try {
      await upgrading;
      await upgraded;
      assert.equal(socket.transport.name, 'websocket');
      await withTimeout(ticking, ECHO_TIMEOUT, 'sending after the upgrade');
    } finally {
      clearInterval(timer);
    }
    await waitForMessages(socket, sent.length);
    await delay(100); // catch duplicates arriving late
    const got = socket.received.map(normalize);
    const want = sent.map(normalize);
    assert.equal(got.length, want.length, 'no duplicates');
    assert.deepEqual(got, want);
    assert.deepEqual(socket.closes, []);
    // Still flowing over the new transport.
    await roundTrip(socket, ['after upgrade', Buffer.from([9, 8, 7])]);
    await closeClient(socket);
  });
});

describe('Engine.IO heartbeat', () => {
  // Pings every 300 ms as the conformance app, but with a pingTimeout that a
  // loaded CI machine (other suites run alongside) cannot miss: these tests are
  // about ping cycles keeping a client alive, the precise deadline is tested below.
  const LENIENT = ['--ping-interval=300', '--ping-timeout=3000'];
  let lenient = null;
  before(async () => {
    lenient = await startServer('sio-conformance', LENIENT);
  });
  after(async () => {
    if (lenient)
      await lenient.stop();
  });
  for (const [name, opts] of [['polling', POLLING_ONLY], ['websocket', WEBSOCKET_ONLY]]) {
    it(`keeps an idle ${name} client that answers pings open`, { timeout: 30000 }, async () => {
      const socket = createClient(opts, lenient);
      await waitForEvent(socket, 'open', OPEN_TIMEOUT, { label: `open (${name})`, rejectOn: ['close'] });
      let pings = 0;
      socket.on('ping', () => ++pings);
      await delay(5 * PING_INTERVAL); // ~5 ping cycles
      assert.deepEqual(socket.closes, [], 'no close while idle');
      assert.equal(socket.readyState, 'open');
      assert.ok(pings >= 2, `saw ${pings} pings in ${5 * PING_INTERVAL} ms`);
      await roundTrip(socket, ['still there']);
      await closeClient(socket);
    });
  }

  it('pings a silent polling client after pingInterval and drops it after pingTimeout', { timeout: 30000 }, async () => {
    const t0 = Date.now();
    const hs = await server.request({ path: `${EIO_PATH}?EIO=4&transport=polling` });
    assert.equal(hs.status, 200, hs.body);
    assert.equal(hs.body[0], '0', hs.body);
    const { sid, pingInterval, pingTimeout } = JSON.parse(hs.body.slice(1));
    assert.equal(pingInterval, PING_INTERVAL);
    assert.equal(pingTimeout, PING_TIMEOUT);
    const pollPath = `${EIO_PATH}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;

    // First poll: held until the server pings (~pingInterval after the handshake).
    const ping = await server.request({ path: pollPath, timeoutMs: 5000 });
    const pingAt = Date.now() - t0;
    assert.equal(ping.status, 200, ping.body);
    assert.equal(ping.body, '2', 'ping packet');
    assert.ok(pingAt >= PING_INTERVAL - 50, `ping came ${pingAt} ms after the handshake (pingInterval ${PING_INTERVAL})`);

    // Never answer with a pong. The next poll either is answered with a close
    // packet when the ping times out, or (if it arrives later) finds the
    // session gone.
    const second = await server.request({ path: pollPath, timeoutMs: 5000 });
    const secondAt = Date.now() - t0;
    if (second.status === 200) {
      assert.equal(second.body, '1', 'close packet on ping timeout');
      // t0 precedes the handshake and secondAt follows the close, so load can
      // only make this larger.
      assert.ok(secondAt >= PING_INTERVAL + PING_TIMEOUT - 50,
        `closed ${secondAt} ms after the handshake, before pingInterval+pingTimeout`);
    } else {
      assert.equal(second.status, 400, second.body);
      assert.deepEqual(JSON.parse(second.body), { code: 1, message: 'Session ID unknown' });
    }
    const gone = await server.request({ path: pollPath });
    assert.equal(gone.status, 400);
    assert.deepEqual(JSON.parse(gone.body), { code: 1, message: 'Session ID unknown' });
  });

  it('forgets a polling session that never polls after pingInterval+pingTimeout', { timeout: 30000 }, async () => {
    const hs = await server.request({ path: `${EIO_PATH}?EIO=4&transport=polling` });
    assert.equal(hs.status, 200, hs.body);
    const { sid } = JSON.parse(hs.body.slice(1));
    const pollPath = `${EIO_PATH}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
    await delay(PING_INTERVAL + PING_TIMEOUT + 400);
    const res = await server.request({ path: pollPath });
    // 200 would mean the session still exists (it would return the pending
    // ping "2" at once).
    assert.equal(res.status, 400, `session still alive: ${res.status} ${JSON.stringify(res.body)}`);
    assert.match(res.headers['content-type'] || '', /application\/json/);
    assert.deepEqual(JSON.parse(res.body), { code: 1, message: 'Session ID unknown' });
  });

  it('drops a silent WebSocket client after pingInterval+pingTimeout', { timeout: 30000 }, async () => {
    // t0 precedes the server's handshake and the close is timed on receipt,
    // so load can only make the measured time longer.
    const t0 = Date.now();
    const ws = new WebSocket(`ws://${server.host}:${server.port}${EIO_PATH}?EIO=4&transport=websocket`);
    const frames = [];
    ws.on('message', (data) => frames.push({ text: data.toString(), at: Date.now() }));
    try {
      await waitForEvent(ws, 'open', OPEN_TIMEOUT, { rejectOn: ['error', 'close'] });
      const [code] = await waitForEvent(ws, 'close', 5000, { label: 'server closing the unresponsive socket' });
      const closedAfter = Date.now() - t0;
      assert.ok(frames.some((f) => f.text === '2'), `got a ping before the close: ${JSON.stringify(frames.map((f) => f.text))}`);
      assert.ok(closedAfter >= PING_INTERVAL + PING_TIMEOUT - 50,
        `closed ${closedAfter} ms after opening (close code ${code})`);
    } finally {
      ws.terminate();
    }
  });
});

describe('Engine.IO HTTP errors (as Node engine.io)', () => {
  const cases = [
    ['unknown transport', 'GET', '?EIO=4&transport=carrier-pigeon', 0, 'Transport unknown'],
    ['missing transport', 'GET', '?EIO=4', 0, 'Transport unknown'],
    ['unknown sid', 'GET', '?EIO=4&transport=polling&sid=no-such-session', 1, 'Session ID unknown'],
    ['unknown sid (POST)', 'POST', '?EIO=4&transport=polling&sid=no-such-session', 1, 'Session ID unknown'],
    ['POST handshake', 'POST', '?EIO=4&transport=polling', 2, 'Bad handshake method'],
    ['websocket handshake without upgrade', 'GET', '?EIO=4&transport=websocket', 3, 'Bad request'],
    ['EIO=3', 'GET', '?EIO=3&transport=polling', 5, 'Unsupported protocol version'],
    ['missing EIO', 'GET', '?transport=polling', 5, 'Unsupported protocol version'],
  ];
  for (const [name, method, query, code, message] of cases) {
    it(`${name} → 400 {"code":${code}}`, async () => {
      const res = await server.request({
        method,
        path: `${EIO_PATH}${query}`,
        body: method === 'POST' ? '4hello' : undefined,
        headers: { Origin: 'http://client.example' },
      });
      assert.equal(res.status, 400, `${method} ${query}: ${res.status} ${res.body}`);
      assert.match(res.headers['content-type'] || '', /^application\/json/);
      assert.deepEqual(JSON.parse(res.body), { code, message });
      assert.ok(res.headers['access-control-allow-origin'], 'CORS header on the error response');
    });
  }

  it('handshake response carries CORS and the configured parameters', async () => {
    const res = await server.request({
      path: `${EIO_PATH}?EIO=4&transport=polling`,
      headers: { Origin: 'http://client.example' },
    });
    assert.equal(res.status, 200, res.body);
    assert.ok(['*', 'http://client.example'].includes(res.headers['access-control-allow-origin']),
      `Access-Control-Allow-Origin: ${res.headers['access-control-allow-origin']}`);
    assert.equal(res.body[0], '0');
    const hs = JSON.parse(res.body.slice(1));
    assert.match(hs.sid, /^[\w-]+$/);
    assert.deepEqual(hs.upgrades, ['websocket']);
    assert.equal(hs.pingInterval, PING_INTERVAL);
    assert.equal(hs.pingTimeout, PING_TIMEOUT);
    assert.equal(hs.maxPayload, MAX_PAYLOAD);
  });

  it('answers a CORS preflight', async () => {
    const res = await server.request({
      method: 'OPTIONS',
      path: `${EIO_PATH}?EIO=4&transport=polling`,
      headers: { Origin: 'http://client.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.ok(res.status === 204 || res.status === 200, `preflight status ${res.status}`);
    assert.ok(res.headers['access-control-allow-origin'], 'Access-Control-Allow-Origin on preflight');
    assert.match(res.headers['access-control-allow-methods'] || '', /POST/);
  });
});

/// A raw HTTP long-polling session: handshake, then a background loop that
/// keeps one GET pending, answers pings with pongs and collects every other
/// packet (as its text encoding) in `packets`. close() sends a close packet
/// and waits for the loop to end.
async function openRawPolling() {
  const hs = await server.request({ path: `${EIO_PATH}?EIO=4&transport=polling` });
  assert.equal(hs.status, 200, hs.body);
  assert.equal(hs.body[0], '0', hs.body);
  const { sid } = JSON.parse(hs.body.slice(1));
  const session = {
    sid,
    path: `${EIO_PATH}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`,
    packets: [],
    error: null,
    closing: false,
  };
  const loop = (async () => {
    while (!session.closing) {
      let res;
      try {
        res = await server.request({ path: session.path, timeoutMs: 10000 });
      } catch (err) {
        session.error = err;
        return;
      }
      if (res.status !== 200) {
        if (!session.closing)
          session.error = new Error(`poll: ${res.status} ${res.body}`);
        return;
      }
      for (const packet of res.body.split('\x1e')) {
        if (packet === '2') {
          await server.request({ method: 'POST', path: session.path, body: '3' }).catch((err) => {
            session.error = err;
          });
        } else if (packet === '1') {
          return;
        } else if (packet !== '6') {
          session.packets.push(packet);
        }
      }
    }
  })();
  session.close = async () => {
    session.closing = true;
    await server.request({ method: 'POST', path: session.path, body: '1' }).catch(() => {});
    await withTimeout(loop, 10000, 'raw polling loop end');
  };
  return session;
}

/// POSTs a body of `size` bytes and expects the answer 413. A failure to
/// read any answer at all (EPIPE/ECONNRESET while the body is still being
/// written) means the server closed the connection without draining the
/// request body, which makes clients lose the 413.
async function expect413(postPath, size) {
  let res;
  try {
    res = await server.request({ method: 'POST', path: postPath, body: '4' + 'a'.repeat(size - 1), timeoutMs: 15000 });
  } catch (err) {
    assert.fail(`POST of ${size} bytes: no HTTP response (${err.message}); the server must let the client ` +
      'read its 413 (read and discard the rest of the body, or half-close and drain before closing)');
  }
  assert.equal(res.status, 413, `POST of ${size} bytes: ${res.status} ${res.body}`);
}

describe('Engine.IO maxHttpBufferSize', () => {
  it('disconnects a WebSocket client sending 2,000,000 bytes, others keep going', { timeout: 60000 }, async () => {
    const bystander = await connect(WEBSOCKET_ONLY, 'bystander');
    const pollingBystander = await connect(POLLING_ONLY, 'polling bystander');
    const offender = await connect(WEBSOCKET_ONLY, 'offender');
    await roundTrip(offender, ['small is fine']);

    const closed = waitForEvent(offender, 'close', 10000, { label: 'offender disconnected' });
    offender.send('y'.repeat(2000000));
    await closed;
    assert.equal(offender.readyState, 'closed');
    // It must not have been echoed.
    assert.equal(offender.received.filter((m) => typeof m === 'string' && m.length > MAX_PAYLOAD).length, 0);

    await roundTrip(bystander, ['bystander ok', Buffer.from('still binary'), 'z'.repeat(1000)]);
    await roundTrip(pollingBystander, ['polling bystander ok', Buffer.from([42])]);
    assert.deepEqual(bystander.closes, []);
    assert.deepEqual(pollingBystander.closes, []);
    server.assertAlive('after oversized WebSocket message');
    await closeClient(bystander);
    await closeClient(pollingBystander);
  });

  it('accepts a polling POST of exactly maxHttpBufferSize bytes', { timeout: 60000 }, async () => {
    const session = await openRawPolling();
    try {
      const atLimit = await server.request({ method: 'POST', path: session.path, body: '4' + 'a'.repeat(MAX_PAYLOAD - 1), timeoutMs: 15000 });
      assert.equal(atLimit.status, 200, `POST of ${MAX_PAYLOAD} bytes: ${atLimit.status} ${atLimit.body}`);
      assert.equal(atLimit.body, 'ok');
      await waitFor(() => session.packets.length >= 1 || session.error, ECHO_TIMEOUT, 'echo of the big message');
      assert.equal(session.error, null);
      assert.equal(session.packets[0].length, MAX_PAYLOAD);
      assert.equal(session.packets[0], '4' + 'a'.repeat(MAX_PAYLOAD - 1));
    } finally {
      await session.close();
    }
  });

  it('answers a polling POST body over 1e6 bytes with 413', { timeout: 60000 }, async () => {
    const session = await openRawPolling();
    try {
      await expect413(session.path, MAX_PAYLOAD + 1);
      await expect413(session.path, 2 * MAX_PAYLOAD + 1);
    } finally {
      await session.close();
    }
    server.assertAlive('after oversized POST');
    const again = await server.request({ path: `${EIO_PATH}?EIO=4&transport=polling` });
    assert.equal(again.status, 200, again.body);
    assert.equal(again.body[0], '0');
  });

  it('closes a polling client sending 2,000,000 bytes, others keep going', { timeout: 60000 }, async () => {
    const bystander = await connect(WEBSOCKET_ONLY, 'bystander');
    const pollingBystander = await connect(POLLING_ONLY, 'polling bystander');
    const offender = await connect(POLLING_ONLY, 'polling offender');
    await roundTrip(offender, ['small is fine']);
    const closed = waitForEvent(offender, 'close', 10000, { label: 'polling offender closed' });
    offender.send('y'.repeat(2 * MAX_PAYLOAD));
    await closed;

    await roundTrip(bystander, ['bystander ok']);
    await roundTrip(pollingBystander, ['polling bystander ok', Buffer.from([1])]);
    server.assertAlive('after oversized POST');
    const again = await server.request({ path: `${EIO_PATH}?EIO=4&transport=polling` });
    assert.equal(again.status, 200, again.body);
    assert.equal(again.body[0], '0');
    await closeClient(bystander);
    await closeClient(pollingBystander);
  });
});

describe('Engine.IO many clients', () => {
  // 100 clients in this one Node process answering 300/200 ms heartbeats is
  // more than a loaded 2-core machine reliably sustains, whatever the server
  // (Node's own engine.io drops some too). When the binary lets us, this test
  // runs its own server with a relaxed heartbeat; the heartbeat itself is
  // covered above.
  const RELAXED = ['--ping-interval=2000', '--ping-timeout=5000'];
  let manyServer = null;
  before(async () => {
    if (await binaryHasOptions('sio-conformance', ['--ping-interval', '--ping-timeout']))
      manyServer = await startServer('sio-conformance', RELAXED);
  });
  after(async () => {
    if (manyServer)
      await manyServer.stop();
  });

  it('serves 100 concurrent clients (mixed transports) exchanging 10 messages each', { timeout: 120000 }, async () => {
    const srv = manyServer || server;
    const kinds = [
      ['polling', POLLING_ONLY],
      ['websocket', WEBSOCKET_ONLY],
      ['upgrade', { transports: ['polling', 'websocket'] }],
    ];
    // All 100 are connected at the same time; they connect in waves of 10 so
    // that their heartbeats (300/200 ms) are not all in phase.
    const clients = [];
    for (let wave = 0; wave < 100; wave += 10) {
      const group = [];
      for (let i = wave; i < wave + 10; ++i) {
        const [kind, opts] = kinds[i % kinds.length];
        const client = { id: i, kind, socket: createClient(opts, srv) };
        clients.push(client);
        group.push(client);
      }
      await withTimeout(
        Promise.all(group.map(({ id, kind, socket }) =>
          waitForEvent(socket, 'open', 20000, { label: `client ${id} (${kind}) open`, rejectOn: ['close'] }))),
        25000, `clients ${wave}..${wave + 9} open`);
    }
    for (const { id, kind, socket } of clients)
      assert.deepEqual(socket.closes, [], `client ${id} (${kind}) closed while the others connected: ${JSON.stringify(socket.closes)}`);

    const expected = new Map();
    for (const { id } of clients) {
      const msgs = [];
      for (let k = 0; k < 10; ++k)
        msgs.push(k % 3 === 2 ? Buffer.from(`client ${id} binary ${k}`) : `client ${id} message ${k}`);
      expected.set(id, msgs);
    }
    for (let wave = 0; wave < 100; wave += 10) {
      for (const { id, socket } of clients.slice(wave, wave + 10)) {
        for (const m of expected.get(id))
          socket.send(m);
      }
      await delay(5);
    }
    await withTimeout(
      Promise.all(clients.map(({ id, kind, socket }) => waitForMessages(socket, 10, 60000, `client ${id} (${kind})`))),
      70000, 'all echoes');
    await delay(100);
    for (const { id, kind, socket } of clients) {
      assert.deepEqual(socket.received.map(normalize), expected.get(id).map(normalize),
        `client ${id} (${kind}) got exactly its own messages in order`);
      assert.deepEqual(socket.closes, [], `client ${id} (${kind}) closed: ${JSON.stringify(socket.closes)}`);
    }
    await withTimeout(Promise.all(clients.map(({ socket }) => closeClient(socket))), 20000, 'closing all clients');
    srv.assertAlive('after 100 clients');
  });
});
