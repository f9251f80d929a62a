'use strict';
// Helpers for the hostile-input suites (tests/integration/hostile*.test.js), on
// top of harness.js. Each attack runs under `underAttack()`: the server's RSS
// is read before and after, a bystander socket.io-client (connected before
// the attack) keeps echoing with acks during it, and afterwards the process
// must be alive, its RSS growth bounded and the bystander still connected
// and answered quickly. Every wait has a deadline.
//
//   const by = await Bystander.connect(server.url);
//   await underAttack(server, by, async () => { ...attack... }, { label: 'garbage' });
//   const target = hostileTarget('sio-test-server', []);  // the same, per describe()
//   it('...', () => target.attack('garbage', async () => { ... }));
//   const r = await rawExchange(server.port, 'GARBAGE\r\n\r\n');  // { data, end, ms }

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const { before, after } = require('node:test');
const { io } = require('socket.io-client');
const { startServer, waitFor, waitForEvent, withTimeout, delay } = require('./harness');

const HOST = '127.0.0.1';

/// startServer() options for the hostile suites: SIO_DEBUG off, so that the
/// log lines counted are those a production server writes.
const QUIET = { env: { SIO_DEBUG: '0' } };

// -- the process ----------------------------------------------------------------

/// VmRSS of `pid` in KiB (throws if the process is gone).
function rssKb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (!m)
    throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

/// The command line of `pid` as an array.
function cmdline(pid) {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s.length > 0);
}

/// The pids of the direct children of `pid`.
function childPids(pid) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name))
      continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may contain spaces and parentheses
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === pid)
        out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/// Whether `pid` runs with a sanitizer (ASan/TSan/UBSan runtime mapped):
/// scripts/test runs every suite in an ASan build too, where everything is
/// several times slower and ASan's quarantine keeps up to 256 MB of freed
/// memory. underAttack() widens its bounds for such a process.
function sanitized(pid) {
  try {
    return /lib(asan|tsan|ubsan)/.test(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
  } catch {
    return false;
  }
}

/// The echo latency bound `ms` for `server`: 5x under a sanitizer.
function echoBound(server, ms = 2000) {
  return sanitized(server.pid) ? ms * 5 : ms;
}

// -- the bystander ----------------------------------------------------------------

/// A socket.io-client connected before an attack; echo() round-trips an
/// 'echo' event with an ack (both sio-test-server and sio-chat have one).
class Bystander {
  static async connect(url, { transport = 'websocket', timeoutMs = 5000, label = 'bystander' } = {}) {
    const socket = io(url, {
      transports: [transport],
      forceNew: true,
      reconnection: false,
      timeout: timeoutMs,
    });
    const by = new Bystander(socket, label);
    await waitForEvent(socket, 'connect', timeoutMs, { label: `${label} connect`, rejectOn: ['connect_error'] });
    by.sid = socket.id;
    by.engineId = socket.io.engine.id;
    return by;
  }

  constructor(socket, label) {
    this.socket = socket;
    this.label = label;
    this.disconnects = [];
    this.counter = 0;
    socket.on('disconnect', (reason, detail) =>
      this.disconnects.push(`${reason}${detail ? ` (${detail.message || detail.description || detail})` : ''}`));
  }

  /// One echo with ack; resolves with its latency in ms, rejects after timeoutMs.
  async echo(timeoutMs = 2000) {
    const token = `${this.label}-${++this.counter}`;
    const started = Date.now();
    let answer;
    try {
      answer = await this.socket.timeout(timeoutMs).emitWithAck('echo', token);
    } catch (err) {
      throw new Error(`${this.label}: echo ${token} not answered within ${timeoutMs} ms ` +
        `(connected=${this.socket.connected}, disconnects=${JSON.stringify(this.disconnects)})`);
    }
    assert.equal(answer, token, `${this.label}: echo answered with the wrong value`);
    return Date.now() - started;
  }

  /// Echoes back to back until stop(); stop() resolves with
  /// { count, maxMs, errors } (errors: messages of failed echoes).
  startLoop(timeoutMs = 2000, pauseMs = 20) {
    let running = true;
    const stats = { count: 0, maxMs: 0, errors: [] };
    const done = (async () => {
      while (running) {
        try {
          const ms = await this.echo(timeoutMs);
          stats.count += 1;
          stats.maxMs = Math.max(stats.maxMs, ms);
        } catch (err) {
          stats.errors.push(err.message);
          if (!this.socket.connected)
            break;
        }
        if (running)
          await delay(pauseMs);
      }
    })();
    return {
      stats,
      async stop() {
        running = false;
        await withTimeout(done, timeoutMs + 1000, 'bystander echo loop end');
        return stats;
      },
    };
  }

  /// Throws unless the bystander is still on its original connection.
  assertIntact(context) {
    assert.ok(this.socket.connected && this.disconnects.length === 0,
      `${this.label} lost its connection ${context}: ${JSON.stringify(this.disconnects)}`);
    assert.equal(this.socket.io.engine.id, this.engineId, `${this.label}: same Engine.IO session ${context}`);
  }

  close() {
    this.socket.disconnect();
  }
}

/// Counts the lines `server` (a harness handle) writes to stderr, from the
/// first call on: returns a function that tells how many so far.
function logLines(server) {
  if (!server.hostileLog) {
    const log = { lines: 0 };
    server.proc.stderr.on('data', (chunk) => {
      for (const c of String(chunk))
        if (c === '\n')
          log.lines += 1;
    });
    server.hostileLog = log;
  }
  return () => server.hostileLog.lines;
}

/// Runs `attack()` against `server` (a harness handle) while `bystander`
/// echoes; then asserts: the process is alive, every echo during the attack
/// was answered within maxEchoMs, the bystander is still connected and an
/// echo after the attack works, RSS grew by less than rssGrowthKb, and the
/// server wrote at most maxLogLines lines to stderr (an attacker must not be
/// able to flood the log; start servers with SIO_DEBUG=0 to count what a
/// production server writes). Resolves with attack()'s result; `stats` goes
/// to opts.onStats.
async function underAttack(server, bystander, attack, opts = {}) {
  // A watchdog: memory growing far past the bound (a node allocating a 4 GiB
  // payload) gets the server SIGKILLed before it takes the shared machine down.
  const pid = opts.pid || server.pid;
  server.assertAlive(`before ${opts.label || 'attack'}`);
  if (sanitized(pid)) {
    opts = { ...opts, maxEchoMs: (opts.maxEchoMs || 2000) * 5, rssGrowthKb: (opts.rssGrowthKb || 64 * 1024) + 384 * 1024 };
  }
  const bound = opts.rssGrowthKb || 64 * 1024;
  const start = rssKb(pid);
  let runaway = null;
  const watchdog = setInterval(() => {
    try {
      const now = rssKb(pid);
      if (now - start > Math.max(2 * bound, 256 * 1024) && !runaway) {
        runaway = new Error(`${opts.label || 'attack'}: RSS of pid ${pid} ran away (${start} -> ${now} kB, ` +
          `bound ${bound} kB): killed with SIGKILL to protect the machine`);
        process.kill(pid, 'SIGKILL');
      }
    } catch {
      // gone
    }
  }, 100);
  try {
    return await underAttackChecks(server, bystander, attack, opts);
  } catch (err) {
    if (runaway)
      throw runaway;
    // A check that failed because the process died a moment ago: say so.
    if (server.alive())
      await waitFor(() => !server.alive(), 1000, 'exit').catch(() => {});
    if (!server.alive()) {
      try {
        server.assertAlive(`${opts.label || 'attack'} (first symptom: ${err.message.split('\n')[0]})`);
      } catch (died) {
        throw died;
      }
    }
    throw err;
  } finally {
    clearInterval(watchdog);
  }
}

async function underAttackChecks(server, bystander, attack, {
  label = 'attack',
  rssGrowthKb = 64 * 1024,
  maxEchoMs = 2000,
  maxLogLines = 100,
  pid = server.pid,
  onStats,
} = {}) {
  server.assertAlive(`before ${label}`);
  const lines = logLines(server);
  await bystander.echo(maxEchoMs);
  const before = rssKb(pid);
  const linesBefore = lines();
  const loop = bystander.startLoop(maxEchoMs);
  let result;
  let attackError;
  try {
    result = await attack();
  } catch (err) {
    attackError = err;
  }
  const stats = await loop.stop();
  server.assertAlive(`during ${label}`);
  if (attackError)
    throw attackError;
  assert.deepEqual(stats.errors, [], `${label}: the bystander's echoes during the attack`);
  bystander.assertIntact(`during ${label}`);
  await bystander.echo(maxEchoMs);
  server.assertAlive(`after ${label}`);
  const after = rssKb(pid);
  const growth = after - before;
  if (onStats)
    onStats({ ...stats, rssBeforeKb: before, rssAfterKb: after });
  if (process.env.SIO_HOSTILE_VERBOSE)
    console.log(`# ${label}: rss ${before} -> ${after} kB, ${stats.count} echoes, max ${stats.maxMs} ms`);
  assert.ok(growth < rssGrowthKb,
    `${label}: RSS grew by ${growth} kB (${before} -> ${after} kB), bound ${rssGrowthKb} kB`);
  const logged = lines() - linesBefore;
  assert.ok(logged <= maxLogLines, `${label}: the server wrote ${logged} log lines (bound ${maxLogLines})`);
  return result;
}

// -- a describe()'s target ----------------------------------------------------------

/// Called in a describe(): its before() starts `binary` with `args` (QUIET)
/// and connects a bystander, its after() closes both. target.server and
/// target.by are set from then on; target.attack(label, fn, opts) runs `fn`
/// under underAttack() against them.
function hostileTarget(binary, args = []) {
  const target = {
    server: null,
    by: null,
    attack: (label, fn, opts) => underAttack(target.server, target.by, fn, { label, ...opts }),
  };
  before(async () => {
    target.server = await startServer(binary, args, QUIET);
    target.by = await Bystander.connect(target.server.url);
  });
  after(async () => {
    if (target.by)
      target.by.close();
    if (target.server)
      await target.server.stop();
  });
  return target;
}

// -- raw TCP ----------------------------------------------------------------------

/// Connects to HOST:port, writes `chunks` (a string, a Buffer or an array of
/// them, written one after another), and collects what comes back until the
/// server closes the connection, `until(data)` is true, or timeoutMs passes.
/// Resolves with { data (Buffer), end: 'fin' | 'reset' | 'until' | 'timeout'
/// | 'error: ...', ms }. It never rejects: the test judges.
function rawExchange(port, chunks, { timeoutMs = 5000, until, halfClose = false, host = HOST } = {}) {
  const list = Array.isArray(chunks) ? chunks : [chunks];
  return new Promise((resolve) => {
    const started = Date.now();
    const parts = [];
    let settled = false;
    const sock = net.connect({ host, port });
    const finish = (end) => {
      if (settled)
        return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(parts), end, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    sock.on('connect', () => {
      (async () => {
        for (const c of list) {
          if (settled || sock.destroyed)
            return;
          if (!sock.write(c))
            await Promise.race([waitForEvent(sock, 'drain', timeoutMs).catch(() => {}), sockClosed(sock)]);
        }
        if (halfClose && !settled && !sock.destroyed)
          sock.end();
      })().catch(() => {});
    });
    sock.on('data', (d) => {
      parts.push(d);
      if (until && until(Buffer.concat(parts)))
        finish('until');
    });
    sock.on('end', () => finish('fin'));
    sock.on('error', (err) => finish(err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : `error: ${err.message}`));
    sock.on('close', () => finish('fin'));
  });
}

function sockClosed(sock) {
  return new Promise((resolve) => sock.once('close', resolve));
}

/// Parses the HTTP/1.x responses in `buf` (Content-Length bodies only, as the
/// server writes them). Returns [{ status, version, headers, body }]; an
/// incomplete last response is left out.
function parseResponses(buf) {
  const out = [];
  let offset = 0;
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n', offset);
    if (headEnd < 0)
      break;
    const head = buf.slice(offset, headEnd).toString('latin1');
    const lines = head.split('\r\n');
    const m = /^HTTP\/(\d\.\d) (\d{3})/.exec(lines[0]);
    if (!m)
      break;
    const headers = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0)
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] || 0);
    const bodyStart = headEnd + 4;
    if (buf.length < bodyStart + length)
      break;
    out.push({ version: m[1], status: Number(m[2]), headers, body: buf.slice(bodyStart, bodyStart + length).toString('utf8') });
    offset = bodyStart + length;
  }
  return out;
}

/// `until` for rawExchange: `n` complete responses arrived.
function responses(n) {
  return (buf) => parseResponses(buf).length >= n;
}

// -- WebSocket, raw frames ----------------------------------------------------------

/// A client frame. opcode: 0 continuation, 1 text, 2 binary, 8 close, 9 ping,
/// 10 pong. `length` overrides the length field (the payload sent stays
/// `payload`); `mask: false` sends it unmasked; rsv: 0..7 into bits 4-6.
function wsFrame({ fin = true, rsv = 0, opcode = 1, payload = Buffer.alloc(0), mask = true, length } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(String(payload));
  const len = length === undefined ? BigInt(data.length) : BigInt(length);
  const head = [((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f))];
  const maskBit = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126n) {
    head.push(maskBit | Number(len));
  } else if (len <= 0xffffn) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(len));
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(len);
  }
  if (!mask)
    return Buffer.concat([Buffer.from(head), ext, data]);
  const key = crypto.randomBytes(4);
  const masked = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; ++i)
    masked[i] = data[i] ^ key[i & 3];
  return Buffer.concat([Buffer.from(head), ext, key, masked]);
}

/// A close frame with `code` (and `reason`); code null: an empty payload;
/// `raw`: the payload bytes as given.
function wsClose(code, reason = '', raw) {
  if (raw)
    return wsFrame({ opcode: 8, payload: raw });
  if (code === null)
    return wsFrame({ opcode: 8 });
  const p = Buffer.alloc(2);
  p.writeUInt16BE(code);
  return wsFrame({ opcode: 8, payload: Buffer.concat([p, Buffer.from(reason)]) });
}

/// Parses server frames (unmasked) from `buf`: [{ fin, opcode, payload }] and
/// the bytes left over.
function parseServerFrames(buf) {
  const frames = [];
  let o = 0;
  while (buf.length - o >= 2) {
    const b0 = buf[o];
    const b1 = buf[o + 1];
    let len = b1 & 0x7f;
    let h = 2;
    if (len === 126) {
      if (buf.length - o < 4)
        break;
      len = buf.readUInt16BE(o + 2);
      h = 4;
    } else if (len === 127) {
      if (buf.length - o < 10)
        break;
      len = Number(buf.readBigUInt64BE(o + 2));
      h = 10;
    }
    if (b1 & 0x80)
      h += 4; // a masked server frame would be a server bug; skip the key
    if (buf.length - o < h + len)
      break;
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked: (b1 & 0x80) !== 0,
      payload: buf.slice(o + h, o + h + len) });
    o += h + len;
  }
  return { frames, rest: buf.slice(o) };
}

/// A raw WebSocket to the Engine.IO endpoint: upgrade, then raw frames.
///   const ws = await RawWebSocket.open(port);         // got the 101 and EIO's open packet
///   ws.send(wsFrame({ payload: '40' }));
///   await ws.waitText((t) => t.startsWith('40'), 2000);
///   const { code } = await ws.closed(2000);            // the server's close frame, if any
class RawWebSocket {
  static async open(port, { path = '/socket.io/?EIO=4&transport=websocket', timeoutMs = 5000, host = HOST } = {}) {
    const sock = net.connect({ host, port });
    sock.setNoDelay(true);
    await waitForEvent(sock, 'connect', timeoutMs, { label: 'raw ws connect', rejectOn: ['error'] });
    const ws = new RawWebSocket(sock);
    const key = crypto.randomBytes(16).toString('base64');
    sock.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await waitFor(() => ws.head !== null || ws.ended, timeoutMs, 'the 101 answer');
    if (!/^HTTP\/1\.1 101/.test(ws.head || ''))
      throw new Error(`no upgrade: ${JSON.stringify((ws.head || ws.buf.toString('latin1')).slice(0, 200))}`);
    // Engine.IO's open packet comes first.
    await ws.waitText((t) => t.startsWith('0{'), timeoutMs, 'Engine.IO open packet');
    ws.sid = JSON.parse(ws.texts.find((t) => t.startsWith('0{')).slice(1)).sid;
    return ws;
  }

  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.head = null;
    this.frames = [];
    this.texts = [];
    this.closeCode = undefined; // the server's close frame: code, or null if it had none
    this.ended = false;         // TCP closed by the server (or reset)
    this.autoPong = true;       // answer Engine.IO pings ("2" -> "3")
    sock.on('data', (d) => this.onData(d));
    const onEnd = () => { this.ended = true; };
    sock.on('end', onEnd);
    sock.on('close', onEnd);
    sock.on('error', onEnd);
  }

  onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    if (this.head === null) {
      const i = this.buf.indexOf('\r\n\r\n');
      if (i < 0)
        return;
      this.head = this.buf.slice(0, i).toString('latin1');
      this.buf = this.buf.slice(i + 4);
    }
    const { frames, rest } = parseServerFrames(this.buf);
    this.buf = rest;
    for (const f of frames) {
      this.frames.push(f);
      if (f.opcode === 1) {
        const t = f.payload.toString('utf8');
        this.texts.push(t);
        if (t === '2' && this.autoPong && !this.sock.destroyed)
          this.sock.write(wsFrame({ payload: '3' }));
      } else if (f.opcode === 8) {
        this.closeCode = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
      }
    }
  }

  send(bytes) {
    if (!this.sock.destroyed)
      this.sock.write(bytes);
  }

  /// Sends a text message (one masked frame).
  sendText(text) {
    this.send(wsFrame({ payload: Buffer.from(text) }));
  }

  /// Resolves with the first text message (from now on, or since `from`) that
  /// matches; rejects on timeout or when the connection ends first.
  async waitText(pred, timeoutMs, label = 'text message', from = 0) {
    let found;
    await waitFor(() => {
      found = this.texts.slice(from).find(pred);
      return found !== undefined || this.ended;
    }, timeoutMs, { label, intervalMs: 5 });
    if (found === undefined)
      throw new Error(`${label}: the server closed the connection first (close code ${this.closeCode})`);
    return found;
  }

  /// Resolves with { code, ended } once the server closed the TCP connection
  /// (code: its close frame's code, null without one, undefined if it sent no
  /// close frame); rejects if it stays open for timeoutMs.
  async closed(timeoutMs, label = 'server closes the WebSocket') {
    await waitFor(() => this.ended, timeoutMs, { label, intervalMs: 5 });
    return { code: this.closeCode };
  }

  destroy() {
    this.sock.destroy();
  }
}

/// Connects a raw WebSocket to namespace '/' of a Socket.IO server (sends
/// "40", waits for the CONNECT answer).
async function rawSocketIo(port, { timeoutMs = 5000, auth } = {}) {
  const ws = await RawWebSocket.open(port, { timeoutMs });
  const from = ws.texts.length;
  ws.sendText(auth ? `40${JSON.stringify(auth)}` : '40');
  await ws.waitText((t) => t.startsWith('40') || t.startsWith('44'), timeoutMs, 'CONNECT answer', from);
  return ws;
}

/// Sends `42<id>["echo", token]` on a raw Socket.IO connection and waits for
/// its ack `43<id>["token"]`; resolves true if answered, false if the server
/// closed the connection instead; rejects if neither happens within timeoutMs.
async function rawEcho(ws, id, timeoutMs = 3000) {
  const token = `raw-${id}`;
  const from = ws.texts.length;
  ws.sendText(`42${id}["echo","${token}"]`);
  try {
    await ws.waitText((t) => t === `43${id}["${token}"]`, timeoutMs, `ack ${id}`, from);
    return true;
  } catch (err) {
    if (ws.ended)
      return false;
    throw err;
  }
}

// -- Engine.IO long-polling, raw ------------------------------------------------------

/// One Engine.IO long-polling session driven with plain HTTP requests.
///   const s = await PollingSession.open(server);   // s.sid, s.open (the handshake)
///   await s.post('40'); const packets = await s.get();   // ['40{"sid":...}']
/// get() answers the server's pings ("2" -> POST "3") when autoPong is set.
class PollingSession {
  static async open(server, { path = '/socket.io/', timeoutMs = 5000 } = {}) {
    const res = await server.request({ path: `${path}?EIO=4&transport=polling`, timeoutMs });
    if (res.status !== 200 || !res.body.startsWith('0{'))
      throw new Error(`handshake: ${res.status} ${res.body.slice(0, 200)}`);
    const s = new PollingSession(server, path, JSON.parse(res.body.slice(1)));
    return s;
  }

  constructor(server, path, open) {
    this.server = server;
    this.open = open;
    this.sid = open.sid;
    this.url = `${path}?EIO=4&transport=polling&sid=${encodeURIComponent(open.sid)}`;
    this.autoPong = true;
  }

  /// POSTs `body` (string or Buffer); resolves with { status, body }.
  post(body, { timeoutMs = 5000, headers = { 'Content-Type': 'text/plain;charset=UTF-8' } } = {}) {
    return this.server.request({ method: 'POST', path: this.url, body, headers, timeoutMs });
  }

  /// GETs once; resolves with the raw response.
  getRaw({ timeoutMs = 5000 } = {}) {
    return this.server.request({ path: this.url, timeoutMs });
  }

  /// GETs once; resolves with the packets (split at \x1e), or throws on a non-200.
  async get(opts) {
    const res = await this.getRaw(opts);
    if (res.status !== 200)
      throw Object.assign(new Error(`GET ${res.status} ${res.body.slice(0, 100)}`), { status: res.status });
    const packets = res.body.split('\x1e');
    if (this.autoPong && packets.includes('2'))
      await this.post('3');
    return packets;
  }
}

// -- TLS clients ----------------------------------------------------------------------

const tls = require('node:tls');
const TLS_CLOSE_MS = 5000;

/// A TLS client with `cert`/`key` (or none): resolves with
/// { secure: did the handshake complete, end: how it ended, ms }.
/// end is 'timeout' if the server kept the connection open for 5 s.
function tlsProbe(port, { cert, key } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    let secure = false;
    let done = false;
    const opts = { host: HOST, port, rejectUnauthorized: false, servername: undefined };
    if (cert) {
      opts.cert = fs.readFileSync(cert);
      opts.key = fs.readFileSync(key);
    }
    const sock = tls.connect(opts);
    const finish = (end) => {
      if (done)
        return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ secure, end, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish('timeout'), TLS_CLOSE_MS);
    sock.on('secureConnect', () => {
      secure = true;
      // A server that accepted us would now wait for BASP; one that refuses
      // our certificate (TLS 1.3 checks it after the client's Finished)
      // sends an alert and closes.
      const h = Buffer.alloc(64);
      h[0] = 1;
      h[32] = 2;
      sock.write(h); // the 64-byte BASP crash, inside TLS
    });
    sock.on('data', () => {});
    sock.on('error', (err) => finish(`error: ${err.code || err.message}`));
    sock.on('end', () => finish('fin'));
    sock.on('close', () => finish('fin'));
  });
}

/// A TLS client with a certificate the cluster trusts: 'open' if the session
/// is up and still open after 500 ms (the node waits for BASP), else how it ended.
function tlsProbeKeepOpen(port, { cert, key }) {
  return new Promise((resolve) => {
    let done = false;
    const sock = tls.connect({ host: HOST, port, cert: fs.readFileSync(cert), key: fs.readFileSync(key), rejectUnauthorized: false });
    const finish = (v) => {
      if (!done) {
        done = true;
        sock.destroy();
        resolve(v);
      }
    };
    sock.on('secureConnect', () => setTimeout(() => finish('open'), 500));
    sock.on('error', (err) => finish(`error: ${err.code || err.message}`));
    sock.on('close', () => finish('closed'));
    setTimeout(() => finish('timeout'), TLS_CLOSE_MS);
  });
}

// -- TLS material -------------------------------------------------------------------

const { execFileSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

/// A temporary directory, removed at process exit.
function tempDir(prefix = 'sio-hostile-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/// A CA and certificates it signed for `names` (scripts/cluster-certs when
/// it exists, else the openssl CLI), plus a self-signed "stranger" and a
/// "rogue" signed by another CA. Returns { dir, ca, NAME: { cert, key }, ... }.
function makeCerts(dir, names) {
  const script = path.join(__dirname, '..', '..', '..', 'scripts', 'cluster-certs');
  let files = null;
  if (fs.existsSync(script)) {
    execFileSync(script, [dir, ...names], { stdio: ['ignore', 'pipe', 'pipe'] });
    files = findCerts(dir, names);
    if (!files)
      throw new Error(`scripts/cluster-certs made files this test does not recognise: ${fs.readdirSync(dir).join(' ')}`);
  } else {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
      '-days', '2', '-subj', '/CN=sio-hostile-test-ca'], dir);
    for (const n of names)
      signedCert(dir, dir, 'ca', n);
    files = findCerts(dir, names);
  }
  // The strangers live in a directory of their own.
  const other = path.join(dir, 'strangers');
  fs.mkdirSync(other);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  openssl(['req', '-x509', ...ec, '-nodes', '-keyout', 'stranger.key', '-out', 'stranger.pem',
    '-days', '2', '-subj', '/CN=stranger'], other);
  openssl(['req', '-x509', ...ec, '-nodes', '-keyout', 'rogue-ca.key', '-out', 'rogue-ca.pem',
    '-days', '2', '-subj', '/CN=rogue-ca'], other);
  signedCert(other, other, 'rogue-ca', 'rogue', ec);
  for (const n of ['stranger', 'rogue'])
    files[n] = { cert: path.join(other, `${n}.pem`), key: path.join(other, `${n}.key`) };
  return files;
}

/// Finds the CA and each node's certificate and key in `dir`, whatever the
/// usual naming (NAME.pem/NAME.key, NAME.crt, NAME-cert.pem/NAME-key.pem, ...).
function findCerts(dir, names) {
  const pick = (cands) => cands.map((c) => path.join(dir, c)).find((f) => fs.existsSync(f));
  const ca = pick(['ca.pem', 'ca.crt', 'ca-cert.pem', 'ca.cert.pem', 'cluster-ca.pem', 'ca/ca.pem']);
  if (!ca)
    return null;
  const files = { dir, ca };
  for (const n of names) {
    const cert = pick([`${n}.pem`, `${n}.crt`, `${n}-cert.pem`, `${n}.cert.pem`, `${n}/cert.pem`, `${n}/${n}.pem`]);
    const key = pick([`${n}.key`, `${n}-key.pem`, `${n}.key.pem`, `${n}/key.pem`, `${n}/${n}.key`]);
    if (!cert || !key)
      return null;
    files[n] = { cert, key };
  }
  return files;
}

function signedCert(dir, caDir, ca, name, keyType = ['-newkey', 'rsa:2048']) {
  fs.writeFileSync(path.join(dir, `${name}.ext`),
    'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' +
    'extendedKeyUsage=serverAuth,clientAuth\n');
  openssl(['req', ...keyType, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`,
    '-subj', `/CN=${name}`], dir);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', path.join(caDir, `${ca}.pem`),
    '-CAkey', path.join(caDir, `${ca}.key`), '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

module.exports = {
  HOST,
  QUIET,
  rssKb,
  sanitized,
  echoBound,
  cmdline,
  childPids,
  Bystander,
  underAttack,
  hostileTarget,
  logLines,
  rawExchange,
  parseResponses,
  responses,
  wsFrame,
  wsClose,
  parseServerFrames,
  RawWebSocket,
  PollingSession,
  rawSocketIo,
  rawEcho,
  tempDir,
  makeCerts,
  tlsProbe,
  tlsProbeKeepOpen,
};
