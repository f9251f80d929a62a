'use strict';
// Slowloris against sio-test-server, single process and --workers 2 (the
// primary reads each new connection's first request head itself): 300
// connections each send one more header byte (or, for a third of them, one
// more body byte) every second and never finish. The server must keep serving
// a bystander socket.io-client and new clients meanwhile, and cut every slow
// connection within its timeout:
//   http_connection (src/net/http_connection.cpp): the whole request must
//     arrive within listen_options::idle_timeout, 60 s (one deadline set
//     before the read, not renewed per byte);
//   the primary (src/supervision/worker_pool.cpp): a request head within 10 s.
// Both servers are attacked at once, so the suite takes about 65 s.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');

const { startServer, waitFor, delay } = require('./lib/harness');
const { QUIET, HOST, Bystander, underAttack } = require('./lib/hostile');

const SLOW = 300;
const HEADER_TIMEOUT_S = 60; // listen_options::idle_timeout
const PRIMARY_HEAD_TIMEOUT_S = 10; // worker_pool.cpp, the first request head
const SLACK_S = 10;

/// Opens `n` slow connections to `port`; every second each sends one more
/// byte. Resolves with the list of { kind, opened, closedAt, by } records.
async function slowConnections(port, n) {
  const conns = [];
  for (let i = 0; i < n; ++i) {
    const kind = i % 3 === 2 ? 'body' : 'header';
    const c = { kind, opened: 0, closedAt: null, by: null, sock: null };
    await new Promise((resolve, reject) => {
      const sock = net.connect({ host: HOST, port }, () => {
        c.opened = Date.now();
        resolve();
      });
      sock.on('error', (err) => {
        if (!c.opened)
          reject(err);
      });
      const closed = (by) => () => {
        if (c.closedAt === null) {
          c.closedAt = Date.now();
          c.by = by;
        }
      };
      sock.on('end', closed('server'));
      sock.on('close', closed('server'));
      sock.on('data', () => {}); // a 408/400 answer before the close is fine
      c.sock = sock;
    });
    c.sock.write(kind === 'body'
      ? `POST /socket.io/?EIO=4&transport=polling&sid=slow${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`
      : 'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n');
    conns.push(c);
  }
  const ticker = setInterval(() => {
    for (const c of conns)
      if (c.closedAt === null && !c.sock.destroyed)
        c.sock.write(c.kind === 'body' ? 'b' : 'X');
  }, 1000);
  return { conns, stop: () => { clearInterval(ticker); for (const c of conns) c.sock.destroy(); } };
}

async function slowloris(server, by, { headerLimitS, bodyLimitS }) {
  const started = Date.now();
  const slow = await slowConnections(server.port, SLOW);
  try {
    // New clients get in while the slow ones hang on.
    await delay(2000);
    const late = await Bystander.connect(server.url, { label: 'late client' });
    await late.echo();
    late.close();
    const deadlineMs = (Math.max(headerLimitS, bodyLimitS) + SLACK_S) * 1000;
    await waitFor(() => slow.conns.every((c) => c.closedAt !== null), deadlineMs - (Date.now() - started), {
      label: `all ${SLOW} slow connections cut (open: ${slow.conns.filter((c) => c.closedAt === null).length})`,
      intervalMs: 200,
    }).catch((err) => {
      const open = slow.conns.filter((c) => c.closedAt === null);
      err.message += `; still open after ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
        `${open.filter((c) => c.kind === 'header').length} slow headers, ${open.filter((c) => c.kind === 'body').length} slow bodies`;
      throw err;
    });
    for (const c of slow.conns) {
      const s = (c.closedAt - c.opened) / 1000;
      const limit = (c.kind === 'header' ? headerLimitS : bodyLimitS) + SLACK_S;
      assert.ok(s <= limit, `a slow ${c.kind} was cut after ${s.toFixed(1)} s (limit ${limit} s)`);
    }
  } finally {
    slow.stop();
  }
}

describe('slowloris', { concurrency: true }, () => {
  const servers = [];
  const clients = [];
  after(async () => {
    for (const c of clients)
      c.close();
    for (const s of servers)
      if (s.alive())
        await s.stop();
  });

  it(`a single process cuts ${SLOW} slow connections within its ${HEADER_TIMEOUT_S} s timeout`, async () => {
    const server = await startServer('sio-test-server', [], QUIET);
    servers.push(server);
    const by = await Bystander.connect(server.url);
    clients.push(by);
    await underAttack(server, by, () => slowloris(server, by,
      { headerLimitS: HEADER_TIMEOUT_S, bodyLimitS: HEADER_TIMEOUT_S }), { label: 'slowloris', maxLogLines: 20 });
  });

  it(`a --workers primary cuts slow request heads within ${PRIMARY_HEAD_TIMEOUT_S} s`, async () => {
    const server = await startServer('sio-test-server', ['--workers', '2'], QUIET);
    servers.push(server);
    const by = await Bystander.connect(server.url);
    clients.push(by);
    // Slow heads stay in the primary; slow bodies reach a worker's
    // http_connection after the head and meet its 60 s deadline there.
    await underAttack(server, by, () => slowloris(server, by,
      { headerLimitS: PRIMARY_HEAD_TIMEOUT_S, bodyLimitS: HEADER_TIMEOUT_S }), { label: 'slowloris (primary)', maxLogLines: 20 });
  });
});
