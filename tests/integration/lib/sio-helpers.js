'use strict';
// Socket.IO client helpers for the integration tests (socketio.test.js,
// python_client.test.js), on top of harness.js. Every wait has a deadline.
//
//   const { TRANSPORTS, ClientPool, ackAll, ack, recorder } = require('./lib/sio-helpers');
//   const pool = new ClientPool(server.url, TRANSPORTS[0]);
//   const a = await pool.connect('/', { label: 'A', auth: { name: 'a' } });
//   const [x, y] = await ackAll(a, 'echo', 1, 2);
//   await pool.closeAll();

const { io, Manager } = require('socket.io-client');
const { waitFor, waitForEvent, delay } = require('./harness');

const CONNECT_TIMEOUT_MS = 5000;
const ACK_TIMEOUT_MS = 5000;

/// The ways a client can reach the server. `upgrade`: the client starts with
/// long-polling and connect() waits until it has moved to WebSocket.
const TRANSPORTS = [
  { name: 'websocket', options: { transports: ['websocket'] } },
  { name: 'polling', options: { transports: ['polling'] } },
  { name: 'polling+upgrade', options: { transports: ['polling', 'websocket'], upgrade: true }, upgrade: true },
];

let uniqueCounter = 0;
/// A name no other test uses (rooms, ...).
function unique(prefix = 'r') {
  uniqueCounter += 1;
  return `${prefix}-${process.pid}-${uniqueCounter}`;
}

/// Clients of one test: each gets its own connection (forceNew) unless a
/// Manager is passed; closeAll() disconnects every one of them.
class ClientPool {
  constructor(url, transport) {
    this.url = url;
    this.transport = transport;
    this.sockets = new Set();
    this.managers = new Set();
  }

  baseOptions() {
    return {
      ...this.transport.options,
      forceNew: true,
      reconnection: false,
      timeout: CONNECT_TIMEOUT_MS,
    };
  }

  /// A Manager (one Engine.IO connection) for several namespaces.
  manager() {
    const m = new Manager(this.url, { ...this.baseOptions(), autoConnect: true });
    this.managers.add(m);
    return m;
  }

  /// A socket that is connecting (not yet connected): attach listeners, then
  /// await connected(socket).
  create(nsp = '/', { auth, query, label, manager } = {}) {
    const opts = { ...this.baseOptions() };
    if (auth !== undefined)
      opts.auth = auth;
    if (query !== undefined)
      opts.query = query;
    const socket = manager ? manager.socket(nsp, { auth }) : io(this.url + (nsp === '/' ? '' : nsp), opts);
    socket.label = label || `${nsp}#${this.sockets.size}`;
    this.sockets.add(socket);
    return socket;
  }

  /// Resolves once `socket` is connected (and upgraded, for 'polling+upgrade').
  async connected(socket, timeoutMs = CONNECT_TIMEOUT_MS) {
    if (!socket.connected)
      await waitForEvent(socket, 'connect', timeoutMs, {
        label: `connect of ${socket.label}`,
        rejectOn: ['connect_error'],
      });
    if (this.transport.upgrade)
      await waitUpgraded(socket, timeoutMs);
    return socket;
  }

  async connect(nsp = '/', opts = {}) {
    return this.connected(this.create(nsp, opts));
  }

  /// Connects `count` clients at once.
  async connectMany(count, nsp = '/', opts = {}) {
    return Promise.all(Array.from({ length: count }, (_, i) =>
      this.connect(nsp, { ...opts, label: `${opts.label || 'C'}${i}` })));
  }

  /// Expects the connection to be refused: resolves with the connect_error.
  async connectError(nsp = '/', opts = {}, timeoutMs = CONNECT_TIMEOUT_MS) {
    const socket = this.create(nsp, opts);
    const [err] = await waitForEvent(socket, 'connect_error', timeoutMs, {
      label: `connect_error of ${socket.label}`,
      rejectOn: ['connect'],
    });
    return { socket, err };
  }

  async closeAll() {
    const closing = [];
    for (const s of this.sockets) {
      if (s.connected)
        closing.push(waitForEvent(s, 'disconnect', 2000).catch(() => {}));
      s.disconnect();
    }
    this.sockets.clear();
    for (const m of this.managers)
      m.disconnect();
    this.managers.clear();
    await Promise.all(closing);
  }
}

async function waitUpgraded(socket, timeoutMs = CONNECT_TIMEOUT_MS) {
  const engine = socket.io.engine;
  if (engine.transport && engine.transport.name === 'websocket')
    return;
  await waitFor(() => engine.transport && engine.transport.name === 'websocket', timeoutMs, {
    label: `upgrade of ${socket.label} to websocket`,
  });
}

/// The client's view of its connection, for error messages.
function describeClient(socket) {
  const engine = socket.io && socket.io.engine;
  return `socket ${socket.id || '-'} connected=${socket.connected}, engine ${engine ? engine.id : '-'} ` +
    `${engine ? engine.readyState : 'none'} over ${engine && engine.transport ? engine.transport.name : 'none'}`;
}

/// Emits with an ack request; resolves with every ack argument (an array).
function ackAll(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(ACK_TIMEOUT_MS).emit(event, ...args, (err, ...answer) => {
      if (err)
        reject(new Error(`${socket.label}: no ack for '${event}' within ${ACK_TIMEOUT_MS} ms (${err.message}; ` +
          `${describeClient(socket)})`));
      else
        resolve(answer);
    });
  });
}

/// The first ack argument (the server's handlers answer with one).
async function ack(socket, event, ...args) {
  return (await ackAll(socket, event, ...args))[0];
}

/// Records `event` on each of `sockets`. expectExactly(receivers) waits until
/// every receiver got it, then a quiet period, and checks that exactly those
/// sockets got it, each exactly once.
function recorder(sockets, event) {
  const got = new Map(sockets.map((s) => [s, []]));
  for (const s of sockets)
    s.on(event, (...args) => got.get(s).push(args));
  const counts = () => Object.fromEntries(sockets.map((s) => [s.label, got.get(s).length]));
  return {
    of: (s) => got.get(s),
    counts,
    async expectExactly(receivers, { quietMs = 250, timeoutMs = 5000 } = {}) {
      await waitFor(() => receivers.every((s) => got.get(s).length >= 1), timeoutMs, {
        label: `'${event}' at ${receivers.map((s) => s.label).join(', ')} (so far ${JSON.stringify(counts())})`,
      });
      await delay(quietMs);
      const expected = Object.fromEntries(sockets.map((s) => [s.label, receivers.includes(s) ? 1 : 0]));
      return { actual: counts(), expected };
    },
    reset() {
      for (const s of sockets)
        got.get(s).length = 0;
    },
  };
}

module.exports = {
  TRANSPORTS,
  ClientPool,
  ackAll,
  ack,
  recorder,
  unique,
  waitUpgraded,
  CONNECT_TIMEOUT_MS,
  ACK_TIMEOUT_MS,
};
