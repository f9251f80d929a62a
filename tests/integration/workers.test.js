'use strict';
// One primary and worker processes (sio-chat --workers 3): the primary hands
// each connection to a worker (SCM_RIGHTS), new sessions by least-connection,
// later requests of a session to the worker that owns its sid; workers form
// a cluster; a killed worker is restarted; SIGTERM stops everything.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { io } = require('socket.io-client');
const { startServer, waitFor, withTimeout } = require('./lib/harness');
const { ClientPool, ack, TRANSPORTS } = require('./lib/sio-helpers');

const websocket = TRANSPORTS.find((t) => t.name === 'websocket');
const polling = TRANSPORTS.find((t) => t.name === 'polling');
const upgrade = TRANSPORTS.find((t) => t.name === 'polling+upgrade');

function countBy(values) {
  const m = new Map();
  for (const v of values)
    m.set(v, (m.get(v) || 0) + 1);
  return m;
}

describe('sio-chat --workers 3', () => {
  let primary;
  before(async () => {
    primary = await startServer('sio-chat', ['--workers', '3', '--flood-rate', '1000', '--flood-burst', '1000']);
    await waitFor(() => (primary.stdout().match(/sio-chat worker \(pid/g) || []).length === 3, 15000, 'three workers up');
    // Workers join the primary's cluster: 4 nodes, each of which must see the
    // other 3 (a broadcast reaches only the members its node knows). Any one
    // node's "(4 nodes)" is not enough: the workers meet each other after they
    // meet the primary, at times only after a connection attempt timed out.
    await waitFor(() => new Set([...primary.stderr().matchAll(/cluster \[([^\]]+)\]: member \S+ joined \(4 nodes\)/g)]
      .map((m) => m[1])).size === 4, 15000, 'full mesh of 4');
  });
  after(async () => {
    if (primary)
      await primary.stop(); // SIGTERM: must exit 0 within the harness's bound
  });

  test('300 clients: each worker gets a third (within 10%), every client works', async () => {
    const pool = new ClientPool(primary.url, websocket);
    try {
      const clients = await pool.connectMany(300);
      const where = await Promise.all(clients.map((c) => ack(c, 'where')));
      const perWorker = countBy(where.map((w) => w.pid));
      console.log(`clients per worker: ${[...perWorker.values()].join(' / ')}`);
      assert.equal(perWorker.size, 3, `workers used: ${[...perWorker.entries()]}`);
      for (const [pid, n] of perWorker)
        assert.ok(n >= 90 && n <= 110, `worker ${pid} got ${n} of 300`);
      // Every worker names the port the clients connected to (the
      // primary's), not its own internal one.
      for (const w of where)
        assert.equal(w.port, primary.port, `worker ${w.pid} says port ${w.port}`);
      // One broadcast reaches the clients of every worker.
      const seen = clients.slice(0, 30).map((c) => new Promise((resolve) => {
        c.on('chat message', (m) => { if (m.endsWith('msg:hello workers')) resolve(m); });
      }));
      clients[0].emit('chat message', 'hello workers');
      const got = await withTimeout(Promise.all(seen), 5000, 'broadcast at 30 clients');
      assert.ok(got[0].startsWith(`port:${primary.port} user:`), got[0]);
    } finally {
      await pool.closeAll();
    }
  });

  test('polling-only clients exchange 50 messages each without an error', async () => {
    const pool = new ClientPool(primary.url, polling);
    try {
      const clients = await pool.connectMany(30);
      const errors = [];
      clients.forEach((c) => c.on('disconnect', (r) => errors.push(r)));
      await Promise.all(clients.map(async (c, k) => {
        for (let i = 0; i < 50; i += 1)
          assert.deepEqual(await ack(c, 'echo', `${k}:${i}`), `${k}:${i}`);
      }));
      assert.deepEqual(errors, []);
    } finally {
      await pool.closeAll();
    }
  });

  test('WebSocket upgrade works through the primary', async () => {
    const pool = new ClientPool(primary.url, upgrade);
    try {
      const clients = await pool.connectMany(10); // connect() waits for the upgrade
      assert.ok(clients.every((c) => c.io.engine.transport.name === 'websocket'));
      await Promise.all(clients.map((c, k) => ack(c, 'echo', k)));
    } finally {
      await pool.closeAll();
    }
  });

  test('kill -9 of a worker: it is restarted, its clients reconnect, the others lose nothing', async () => {
    const clients = [];
    try {
      for (let i = 0; i < 30; i += 1) {
        const s = io(primary.url, { transports: ['websocket'], forceNew: true, reconnectionDelay: 100 });
        clients.push(s);
      }
      await waitFor(() => clients.every((c) => c.connected), 10000, '30 clients connected');
      const where = await Promise.all(clients.map((c) => ack(c, 'where')));
      const victim = where[0].pid;
      const others = clients.filter((_, i) => where[i].pid !== victim);
      const othersDisconnected = [];
      others.forEach((c) => c.on('disconnect', (r) => othersDisconnected.push(r)));
      const restartsBefore = (primary.stderr().match(/starting it again/g) || []).length;
      process.kill(victim, 'SIGKILL');
      await waitFor(() => (primary.stderr().match(/starting it again/g) || []).length > restartsBefore,
        5000, 'primary restarts the worker');
      await waitFor(() => clients.every((c) => c.connected), 15000, 'every client connected again');
      const after = await Promise.all(clients.map((c) => ack(c, 'where')));
      assert.ok(after.every((w) => w.pid !== victim), 'nobody on the dead worker');
      assert.deepEqual(othersDisconnected, [], 'clients of the other workers noticed nothing');
    } finally {
      clients.forEach((c) => c.disconnect());
    }
  });

  /// `n` clients through the primary with connection state recovery (sio-chat
  /// has it on) and reconnection, each in `room`; every 'chat message' they
  /// get is recorded, and whether each reconnect recovered the socket.
  async function recoveringClients(n, room) {
    const clients = [];
    for (let i = 0; i < n; i += 1) {
      // retries: socket.io-client resends an emit with ack until it is
      // acknowledged (what the client sends as its transport drops is not
      // the server's to recover).
      const c = io(primary.url, { transports: ['websocket'], forceNew: true,
        reconnectionDelay: 100, reconnectionDelayMax: 500, retries: 20, ackTimeout: 2000 });
      c.got = [];
      c.recoveries = []; // c.recovered at each connect after the first
      let first = true;
      c.on('connect', () => {
        if (!first)
          c.recoveries.push(c.recovered);
        first = false;
      });
      c.on('chat message', (m) => c.got.push(m)); // the offset comes as a 2nd argument
      clients.push(c);
    }
    await waitFor(() => clients.every((c) => c.connected), 10000, `${n} clients connected`);
    for (const c of clients)
      assert.equal(await ack(c, 'join', room), true);
    return clients;
  }

  /// Until stop(): `sender` sends `to-room` messages m0, m1, ... (each retried
  /// until acknowledged), and every client sends echoes with socket.io-client's
  /// own retries. Resolves with what was acknowledged and tried.
  function traffic(sender, clients, room) {
    let running = true;
    const acked = [];
    const attempts = new Map();
    let echoes = 0;
    let echoesLost = 0;
    const sending = (async () => {
      for (let n = 0; running; n += 1) {
        const id = `m${n}`;
        for (let tries = 0; tries < 20; tries += 1) {
          attempts.set(id, tries + 1);
          try {
            if (await sender.timeout(2000).emitWithAck('to-room', room, id)) {
              acked.push(id);
              break;
            }
          } catch { /* not acknowledged: again (it may have gone out: attempts counts it) */ }
          await new Promise((r) => setTimeout(r, 50));
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const echoing = Promise.all(clients.map(async (c, i) => {
      for (let k = 0; running; k += 1) {
        const value = `${i}:${k}`;
        try {
          const back = await c.emitWithAck('echo', value);
          if (back === value)
            echoes += 1;
          else
            echoesLost += 1;
        } catch {
          echoesLost += 1;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }));
    return {
      async stop() {
        running = false;
        await Promise.all([sending, echoing]);
        return { acked, attempts, echoes, echoesLost };
      },
    };
  }

  /// Every client got every acknowledged message, and none more often than
  /// it was tried; every reconnect recovered the socket.
  async function assertNothingLost(clients, { acked, attempts }, what) {
    await waitFor(() => clients.every((c) => acked.every((id) => c.got.includes(id))), 10000, {
      label: `every acknowledged message at every client (${what})`,
      intervalMs: 100,
    }).catch((e) => {
      const missing = clients.map((c) => acked.filter((id) => !c.got.includes(id)).length);
      const recovered = clients.map((c) => c.recoveries.map((r) => (r ? 'R' : 'F')).join('') || '-');
      throw new Error(`${e.message}; missing per client: ${missing.join(',')}; ` +
                      `reconnects (R recovered, F fresh): ${recovered.join(',')}`);
    });
    await new Promise((r) => setTimeout(r, 300));
    for (const c of clients) {
      for (const [id, n] of countBy(c.got))
        assert.ok(n <= (attempts.get(id) || 0), `${id} arrived ${n} times, sent ${attempts.get(id)} (${what})`);
      assert.ok(c.recoveries.every((r) => r === true),
        `a reconnect got a fresh socket (${what}): ${JSON.stringify(c.recoveries)}`);
    }
  }

  test('SIGHUP: rolling restart under traffic; recovering clients lose nothing', async () => {
    const room = `rolling-${Date.now()}`;
    const clients = await recoveringClients(30, room);
    const sender = io(primary.url, { transports: ['websocket'], forceNew: true, reconnectionDelay: 100 });
    try {
      await waitFor(() => sender.connected, 5000, 'sender connected');
      const before = new Set((await Promise.all(clients.map((c) => ack(c, 'where')))).map((w) => w.pid));
      const t = traffic(sender, clients, room);
      await new Promise((r) => setTimeout(r, 500));
      const doneBefore = (primary.stderr().match(/rolling restart done/g) || []).length;
      process.kill(primary.pid, 'SIGHUP');
      await waitFor(() => (primary.stderr().match(/rolling restart done/g) || []).length > doneBefore,
        60000, 'rolling restart done');
      await waitFor(() => clients.every((c) => c.connected) && sender.connected, 15000,
        'every client connected again');
      await new Promise((r) => setTimeout(r, 500));
      const result = await t.stop();
      const afterPids = new Set((await Promise.all(clients.map((c) => ack(c, 'where')))).map((w) => w.pid));
      for (const pid of afterPids)
        assert.ok(!before.has(pid), `client still on old worker ${pid}`);
      await assertNothingLost(clients, result, 'rolling restart');
      const moved = clients.filter((c) => c.recoveries.length > 0).length;
      assert.ok(moved === clients.length, `${moved} of ${clients.length} clients moved`);
      assert.equal(result.echoesLost, 0, 'echoes lost');
      console.log(`rolling restart: ${moved} clients moved and recovered; ${result.acked.length} room ` +
                  `messages acknowledged, all delivered to all ${clients.length}; ${result.echoes} echoes, 0 lost`);
    } finally {
      clients.forEach((c) => c.disconnect());
      sender.disconnect();
    }
  });

  test('kill -9 of a worker under traffic: its recovering clients lose nothing', async () => {
    const room = `crash-${Date.now()}`;
    const clients = await recoveringClients(30, room);
    const sender = io(primary.url, { transports: ['websocket'], forceNew: true, reconnectionDelay: 100 });
    try {
      await waitFor(() => sender.connected, 5000, 'sender connected');
      // The victim: a worker with clients that is not the sender's (what the
      // dead worker sent may be lost: see docs/recovery.md).
      const senderPid = (await ack(sender, 'where')).pid;
      const where = await Promise.all(clients.map((c) => ack(c, 'where')));
      const victim = where.map((w) => w.pid).find((pid) => pid !== senderPid);
      assert.ok(victim, 'a worker with clients that is not the sender\'s');
      const victims = clients.filter((_, i) => where[i].pid === victim);
      const t = traffic(sender, clients, room);
      await new Promise((r) => setTimeout(r, 500));
      const restartsBefore = (primary.stderr().match(/starting it again/g) || []).length;
      process.kill(victim, 'SIGKILL');
      await waitFor(() => (primary.stderr().match(/starting it again/g) || []).length > restartsBefore,
        5000, 'primary restarts the worker');
      await waitFor(() => clients.every((c) => c.connected), 15000, 'every client connected again');
      await new Promise((r) => setTimeout(r, 1000));
      const result = await t.stop();
      await assertNothingLost(clients, result, 'kill -9');
      assert.ok(victims.every((c) => c.recoveries.length > 0), 'the victim\'s clients reconnected');
      assert.equal(result.echoesLost, 0, 'echoes lost');
      console.log(`kill -9: ${victims.length} clients of the killed worker recovered elsewhere; ` +
                  `${result.acked.length} room messages acknowledged, all delivered; ${result.echoes} echoes, 0 lost`);
    } finally {
      clients.forEach((c) => c.disconnect());
      sender.disconnect();
    }
  });

  test('one keep-alive connection carrying requests of sessions on different workers', async () => {
    // Sessions opened on separate connections land on different workers.
    const open = async () => {
      const res = await primary.request({ path: '/socket.io/?EIO=4&transport=polling' });
      assert.equal(res.status, 200);
      return JSON.parse(res.body.slice(1)).sid;
    };
    // Open sessions until three workers own some (least-connection moves on
    // as a worker's load grows; right after the previous test the loads are
    // still settling, so the first few may all land on one worker).
    const sids = [];
    const byTag = new Map();
    for (let i = 0; i < 100 && byTag.size < 3; i += 1) {
      const sid = await open();
      const tag = sid.split('.')[0];
      if (!byTag.has(tag))
        byTag.set(tag, sid);
    }
    sids.push(...byTag.values());
    assert.equal(sids.length, 3, `sessions on ${sids.length} workers`);
    // Then every request over ONE connection: the primary routes only its
    // first request; the worker that got the connection forwards the others.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set();
    const call = (method, sid, body) => new Promise((resolve, reject) => {
      const req = http.request({ host: primary.host, port: primary.port, method, agent,
        path: `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`,
        headers: body ? { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': Buffer.byteLength(body) } : {} });
      req.setTimeout(5000, () => req.destroy(new Error(`${method} timed out`)));
      req.on('socket', (sock) => sockets.add(sock));
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    try {
      for (const sid of sids) {
        const posted = await call('POST', sid, '40');
        assert.equal(posted.status, 200, `POST for ${sid}: ${posted.body}`);
        const got = await call('GET', sid);
        assert.equal(got.status, 200, `GET for ${sid}: ${got.body}`);
        assert.match(got.body, /^40\{"sid":/, `CONNECT answer for ${sid}`);
      }
      assert.equal(sockets.size, 1, 'every request went over the same TCP connection');
    } finally {
      agent.destroy();
    }
  });
});
