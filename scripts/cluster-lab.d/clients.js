'use strict';
// Clients (socket.io-client, in this process), the message ledger, and the
// traffic generator.
//
// Every lab message carries its id and its send time in its text:
//   lab:<id>:<send time, ms since the epoch, 3 decimals>
// (a broadcast comes back as "port:P user:U msg:lab:..."). The ledger records,
// per message, who had to get it (decided when it was sent) and every
// delivery, so that a scenario can say: delivered / expected, duplicates,
// deliveries to clients that should not have had it, and latencies.

const http = require('node:http');
const { now, delay, withTimeout, waitUntil, percentile, round } = require('./util');

const BROADCAST_RE = /^port:(\d+) user:(\S+) msg:([\s\S]*)$/;
const LAB_RE = /^lab:(\d+):(\d+(?:\.\d+)?)$/;
const PROBE_RE = /^probe:(\d+)$/;

class Ledger {
  constructor() {
    this.messages = new Map(); // id -> message
    this.nextId = 1;
    this.unknown = 0;
  }

  /// A message about to be sent. expected: client ids that must get it.
  create({ kind, phase, sender, expected }) {
    const id = this.nextId++;
    const sentAt = now();
    const m = { id, kind, phase, sender, sentAt, expected: new Set(expected), recv: new Map(), firstAt: new Map() };
    this.messages.set(id, m);
    return m;
  }

  receive(client, id, ts, at) {
    const m = this.messages.get(id);
    if (!m) {
      this.unknown += 1;
      return;
    }
    const n = (m.recv.get(client.id) || 0) + 1;
    m.recv.set(client.id, n);
    if (n === 1)
      m.firstAt.set(client.id, at - ts); // latency from the timestamp in the text
  }

  select(pred) {
    return [...this.messages.values()].filter(pred);
  }

  /// Expected deliveries still missing among `msgs`.
  missing(msgs) {
    let n = 0;
    for (const m of msgs)
      for (const c of m.expected)
        if (!m.recv.has(c))
          n += 1;
    return n;
  }

  /// Resolves once every expected delivery of `msgs` happened or `ms` passed.
  async drain(msgs, ms) {
    return waitUntil(() => this.missing(msgs) === 0, ms, 50);
  }

  summarize(msgs) {
    let expected = 0;
    let delivered = 0;
    let duplicates = 0;
    let extra = 0;
    const lat = [];
    const missingSample = [];
    for (const m of msgs) {
      expected += m.expected.size;
      for (const c of m.expected) {
        const n = m.recv.get(c);
        if (n) {
          delivered += 1;
          duplicates += n - 1;
          lat.push(m.firstAt.get(c));
        } else if (missingSample.length < 5) {
          missingSample.push({ msg: m.id, phase: m.phase, sender: m.sender, client: c });
        }
      }
      for (const [c, n] of m.recv)
        if (!m.expected.has(c))
          extra += n;
    }
    return {
      messages: msgs.length,
      expected,
      delivered,
      missing: expected - delivered,
      duplicates,
      extra,
      latencyMs: { p50: round(percentile(lat, 50), 2), p99: round(percentile(lat, 99), 2), max: round(percentile(lat, 100), 2) },
      missingSample,
    };
  }
}

class LabClient {
  constructor(pool, id, { url, via, node, transports, localAddress }) {
    this.pool = pool;
    this.id = id;
    this.url = url;
    this.via = via; // 'direct' | 'nginx'
    this.node = node; // node index (direct: known; nginx: from the probe)
    this.transports = transports;
    this.localAddress = localAddress;
    this.connected = false;
    this.everConnected = false;
    this.disconnects = [];
    this.rooms = new Set();
    this.firstLabAt = null; // first lab message received (any)
    this.labReceived = 0;
    this.probeWaiter = null;
    this.expectedGone = false; // its node was killed on purpose
  }

  connect(timeoutMs) {
    const { io } = this.pool;
    const opts = { transports: this.transports, reconnection: false, timeout: timeoutMs, forceNew: true };
    if (this.localAddress) {
      // nginx ip_hash hashes the client's address: each client gets its own.
      this.agent = new http.Agent({ localAddress: this.localAddress });
      opts.agent = this.agent;
      opts.localAddress = this.localAddress;
    }
    const sock = io(this.url, opts);
    this.sock = sock;
    // With connection state recovery on (sio-chat's default) a replayable
    // event has one more argument, its offset, last: only the text is read.
    sock.on('chat message', (msg) => this.onChat(msg));
    sock.on('disconnect', (reason) => {
      this.connected = false;
      this.disconnects.push({ t: now(), reason });
      if (!this.expectedGone && !this.closing)
        this.pool.unexpectedDisconnects.push({ client: this.id, node: this.node, t: now(), reason });
    });
    return withTimeout(new Promise((resolve, reject) => {
      sock.once('connect', () => {
        this.connected = true;
        this.everConnected = true;
        this.connectedAt = now();
        resolve(this);
      });
      sock.once('connect_error', (err) => reject(new Error(`connect to ${this.url}: ${err.message}`)));
    }), timeoutMs, `client ${this.id} connect to ${this.url}`).catch((err) => {
      sock.close();
      throw err;
    });
  }

  onChat(msg) {
    const at = now();
    if (typeof msg !== 'string')
      return;
    let body = msg;
    let port = null;
    const b = BROADCAST_RE.exec(msg);
    if (b) {
      port = Number(b[1]);
      body = b[3];
    }
    const m = LAB_RE.exec(body);
    if (m) {
      this.labReceived += 1;
      if (this.firstLabAt === null)
        this.firstLabAt = at;
      this.pool.ledger.receive(this, Number(m[1]), Number(m[2]), at);
      return;
    }
    const p = PROBE_RE.exec(body);
    if (p && Number(p[1]) === this.id && this.probeWaiter && port !== null)
      this.probeWaiter(port);
  }

  /// Finds which node serves this client: sends a chat message and reads the
  /// port its echo carries.
  probe(timeoutMs) {
    return withTimeout(new Promise((resolve) => {
      this.probeWaiter = resolve;
      this.sock.emit('chat message', `probe:${this.id}`);
    }), timeoutMs, `client ${this.id} probe`).finally(() => {
      this.probeWaiter = null;
    });
  }

  close() {
    this.closing = true;
    this.connected = false;
    if (this.sock)
      this.sock.close();
    if (this.agent)
      this.agent.destroy();
  }
}

class ClientPool {
  constructor({ io, ledger, transports }) {
    this.io = io;
    this.ledger = ledger;
    this.transports = transports;
    this.clients = [];
    this.nextId = 1;
    this.unexpectedDisconnects = [];
    this.nextLocal = 0;
  }

  connected() {
    return this.clients.filter((c) => c.connected);
  }
  onNode(index) {
    return this.connected().filter((c) => c.node === index);
  }

  /// Connects `n` clients to one target, `parallel` at a time.
  ///   target: { url, via: 'direct', node } | { url, via: 'nginx', portToNode }
  async add(n, target, { timeoutMs = 10000, parallel = 8 } = {}) {
    const made = [];
    const one = async () => {
      const opts = { url: target.url, via: target.via, node: target.node, transports: target.transports || this.transports };
      if (target.via === 'nginx') {
        // 127.0.X.Y: a distinct /24 per client (what ip_hash looks at).
        const k = this.nextLocal++;
        opts.localAddress = `127.0.${1 + (k % 250)}.${1 + Math.floor(k / 250)}`;
      }
      const c = new LabClient(this, this.nextId++, opts);
      this.clients.push(c);
      await c.connect(timeoutMs);
      if (target.via === 'nginx') {
        const port = await c.probe(timeoutMs);
        c.node = target.portToNode(port);
        c.port = port;
      }
      made.push(c);
    };
    for (let i = 0; i < n; i += parallel) {
      const batch = [];
      for (let j = i; j < Math.min(n, i + parallel); j++)
        batch.push(one());
      const results = await Promise.allSettled(batch);
      const failed = results.filter((r) => r.status === 'rejected');
      if (failed.length)
        throw new Error(`${failed.length} of ${batch.length} clients did not connect: ${failed[0].reason.message}`);
    }
    return made;
  }

  closeAll() {
    for (const c of this.clients)
      c.close();
  }
}

/// Sends `rate` messages per second, round robin over `senders()`. Each
/// message's recipients are fixed when it is sent by `plan(sender)`, which
/// returns { phase, expected: [clients], room, ...tags } (room: a to-room
/// message; tags are kept on the message). Of `expected`, the clients for which
/// `expect(client)` holds count (default: connected now). Each message also
/// records the node its sender was on (senderNode).
class Traffic {
  constructor({ ledger, rate, senders, plan, kind = 'broadcast', expect = (c) => c.connected }) {
    Object.assign(this, { ledger, rate, senders, plan, kind, expect });
    this.sent = [];
    this.timer = null;
    this.rr = 0;
  }

  start() {
    this.t0 = now();
    let due = 0;
    const tick = Math.max(5, Math.min(50, 1000 / this.rate));
    this.timer = setInterval(() => {
      const target = Math.floor(((now() - this.t0) * this.rate) / 1000);
      // After a stall of the event loop send at most 1 s worth at once.
      due = Math.max(due, target - this.rate);
      let burst = 0;
      while (due < target && burst < 200) {
        due += 1;
        burst += 1;
        this.sendOne();
      }
    }, tick);
    return this;
  }

  sendOne() {
    const senders = this.senders().filter((c) => c.connected);
    if (senders.length === 0)
      return;
    const sender = senders[this.rr++ % senders.length];
    const { phase, expected, room, ...tags } = this.plan(sender);
    const m = this.ledger.create({ kind: this.kind, phase, sender: sender.id, expected: expected.filter(this.expect).map((c) => c.id) });
    Object.assign(m, tags, { senderNode: sender.node });
    const text = `lab:${m.id}:${m.sentAt.toFixed(3)}`;
    if (room !== undefined)
      sender.sock.emit('to-room', [room, text]);
    else
      sender.sock.emit('chat message', text);
    this.sent.push(m);
  }

  stop() {
    if (this.timer)
      clearInterval(this.timer);
    this.timer = null;
    this.t1 = now();
    return this.sent;
  }
}

module.exports = { Ledger, LabClient, ClientPool, Traffic };
