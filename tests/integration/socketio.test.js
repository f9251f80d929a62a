'use strict';
// The Socket.IO v5 server against the official client (socket.io-client), over
// WebSocket only, long-polling only, and polling upgraded to WebSocket. The
// server is tests/servers/sio_test_server.cpp; clients drive it with events.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer, waitFor, waitForEvent, delay, withTimeout } = require('./lib/harness');
const { TRANSPORTS, ClientPool, ackAll, ack, recorder, unique } = require('./lib/sio-helpers');

const SERVER = 'sio-test-server';

/// Asks the server (through `asker`) why socket `id` left, until it knows.
async function serverDisconnectReason(asker, id) {
  return waitFor(() => ack(asker, 'last-disconnect-reason', id), 5000, {
    label: `server-side disconnect reason of ${id}`,
    intervalMs: 50,
  });
}

async function expectExactly(rec, receivers, opts) {
  const { actual, expected } = await rec.expectExactly(receivers, opts);
  assert.deepEqual(actual, expected, 'who received the event, how many times');
}

for (const transport of TRANSPORTS) {
  describe(`Socket.IO over ${transport.name}`, () => {
    let server;

    before(async () => {
      server = await startServer(SERVER);
    });
    after(async () => {
      if (server)
        await server.stop();
    });
    /// A test with its own clients, all closed when it ends.
    const clientTest = (name, body) => test(name, async () => {
      const p = new ClientPool(server.url, transport);
      try {
        await body(p);
      } finally {
        await p.closeAll();
      }
      server.assertAlive();
    });

    clientTest('local_socket_count follows connects and disconnects', async (p) => {
      const a = await p.connect('/', { label: 'A' });
      assert.equal(await ack(a, 'count'), 1);
      const b = await p.connect('/', { label: 'B' });
      assert.equal(await ack(a, 'count'), 2);
      b.disconnect();
      await waitFor(async () => (await ack(a, 'count')) === 1, 5000, 'count back to 1');
    });

    clientTest('connects with auth; the middleware puts auth.name into socket.data', async (p) => {
      const a = await p.connect('/', { label: 'A', auth: { name: 'alice' }, query: { room: 'x' } });
      assert.ok(a.id, 'socket id');
      const me = await ack(a, 'whoami');
      assert.equal(me.id, a.id);
      assert.equal(me.nsp, '/');
      assert.deepEqual(me.auth, { name: 'alice' });
      assert.deepEqual(me.data, { name: 'alice' });
      assert.equal(me.query.room, 'x');
      assert.equal(me.query.EIO, '4');
      // next() called later, from another actor
      const started = Date.now();
      const slow = await p.connect('/', { label: 'slow', auth: { name: 'slow', delay: 150 } });
      assert.ok(Date.now() - started >= 140, 'the delayed middleware held the connection back');
      assert.deepEqual((await ack(slow, 'whoami')).data, { name: 'slow' });
    });

    clientTest('middleware rejection delivers connect_error with message and data', async (p) => {
      const { socket, err } = await p.connectError('/', { label: 'bad', auth: { token: 'bad' } });
      assert.equal(err.message, 'not authorized');
      assert.deepEqual(err.data, { code: 401 });
      assert.equal(socket.connected, false);
      // the refusal does not disturb anyone else
      const ok = await p.connect('/', { label: 'ok', auth: { token: 'good' } });
      assert.deepEqual(await ackAll(ok, 'echo', 1), [1]);
    });

    clientTest('namespaces: /admin with its own middleware, multiplexed with / on one connection', async (p) => {
      const manager = p.manager();
      const main = p.create('/', { label: 'main', manager });
      const admin = p.create('/admin', { label: 'admin', manager, auth: { token: 'admin-secret' } });
      const welcome = waitForEvent(admin, 'welcome', 5000);
      await p.connected(main);
      await p.connected(admin);
      assert.deepEqual(await welcome, ['/admin']);
      assert.equal(main.io.engine.id, admin.io.engine.id, 'one Engine.IO session');
      assert.notEqual(main.id, admin.id);
      assert.deepEqual(await ackAll(admin, 'echo', 1, 'x'), [['admin', 1, 'x']]);
      assert.deepEqual(await ackAll(main, 'echo', 1, 'x'), [1, 'x']);

      const { err } = await p.connectError('/admin', { label: 'intruder', auth: { token: 'nope' } });
      assert.equal(err.message, 'admins only');
      assert.equal(err.data, undefined);
      // leaving one namespace keeps the other
      admin.disconnect();
      assert.deepEqual(await ackAll(main, 'echo', 2), [2]);
      assert.equal(main.connected, true);
    });

    clientTest('dynamic namespaces (^/dyn-\\d+$) and the invalid namespace error', async (p) => {
      const dyn = p.create('/dyn-42', { label: 'dyn42' });
      const greeting = waitForEvent(dyn, 'dyn', 5000);
      await p.connected(dyn);
      assert.deepEqual(await greeting, ['/dyn-42']);
      assert.deepEqual(await ack(dyn, 'echo', 'hi'), { nsp: '/dyn-42', args: ['hi'] });
      const other = await p.connect('/dyn-7', { label: 'dyn7' });
      assert.deepEqual(await ack(other, 'echo'), { nsp: '/dyn-7', args: [] });

      for (const nsp of ['/dyn-x', '/nope']) {
        const { err } = await p.connectError(nsp, { label: nsp });
        assert.equal(err.message, 'Invalid namespace', nsp);
      }
    });

    clientTest('events and acks both ways carry binary payloads', async (p) => {
      const a = await p.connect('/', { label: 'A' });
      const bin = Buffer.from([0, 1, 2, 253, 254, 255]);
      const args = ['text', 42, null, bin, { nested: { buf: Buffer.from('héllo') }, list: [Buffer.alloc(0), 1] }];
      assert.deepEqual(await ackAll(a, 'echo', ...args), args);
      assert.deepEqual(await ackAll(a, 'echo'), []);

      const back = waitForEvent(a, 'back', 5000);
      a.emit('emit-back', bin, 'x', [bin]);
      assert.deepEqual(await back, [bin, 'x', [bin]]);

      // server -> client ack, answered with binary
      a.on('question', (q, cb) => cb({ q, bytes: Buffer.from([9, 8, 7]) }));
      const res = await ack(a, 'server-ack', 2000);
      assert.deepEqual(res, {
        ok: true,
        error: null,
        answer: [{ q: 'what is the answer?', bytes: Buffer.from([9, 8, 7]) }],
      });
    });

    clientTest('server -> client ack times out when the client does not answer', async (p) => {
      const a = await p.connect('/', { label: 'A' });
      let asked = 0;
      a.on('question', () => { asked += 1; }); // never calls back
      const started = Date.now();
      const res = await ack(a, 'server-ack', 300);
      assert.deepEqual(res, { ok: false, error: 'operation has timed out', answer: null });
      assert.ok(Date.now() - started >= 290, `timed out after ${Date.now() - started} ms`);
      assert.equal(asked, 1);
      // the socket still works afterwards
      assert.deepEqual(await ackAll(a, 'echo', 'still here'), ['still here']);
    });

    clientTest('join / leave / rooms', async (p) => {
      const a = await p.connect('/', { label: 'A' });
      const room = unique();
      assert.deepEqual(await ack(a, 'rooms'), [a.id]);
      assert.deepEqual(new Set(await ack(a, 'join', room)), new Set([a.id, room]));
      assert.deepEqual(new Set(await ack(a, 'join', [room, 'other'])), new Set([a.id, room, 'other']));
      assert.deepEqual(new Set(await ack(a, 'leave', room)), new Set([a.id, 'other']));
      assert.deepEqual(new Set(await ack(a, 'rooms')), new Set([a.id, 'other']));
    });

    describe('broadcast operators, four clients', () => {
      // A, B, C in room1; B also in room2; D in no room.
      let pool, A, B, C, D, all, room1, room2;
      before(async () => {
        pool = new ClientPool(server.url, transport);
        [A, B, C, D] = await Promise.all(['A', 'B', 'C', 'D'].map((label) => pool.connect('/', { label })));
        all = [A, B, C, D];
        room1 = unique('room1');
        room2 = unique('room2');
        await Promise.all([A, B, C].map((s) => ack(s, 'join', room1)));
        await ack(B, 'join', room2);
      });
      test('socket.to(room): the room but the sender, nobody twice', async () => {
        const rec = recorder(all, 'news');
        await ack(A, 'to-room', room1, 'news', { n: 1 });
        await expectExactly(rec, [B, C]);
        assert.deepEqual(rec.of(B)[0], [{ n: 1 }]);

        const multi = recorder(all, 'multi');
        await ack(A, 'to-room', [room1, room2], 'multi', Buffer.from('bin'));
        await expectExactly(multi, [B, C]); // B is in both rooms, gets it once
        assert.deepEqual(multi.of(B)[0], [Buffer.from('bin')]);

        const fromB = recorder(all, 'r2');
        await ack(B, 'to-room', room2, 'r2', 'only B is there');
        await delay(300);
        assert.deepEqual(fromB.counts(), { A: 0, B: 0, C: 0, D: 0 });
      });

      test('io.in(room): the room, the sender included', async () => {
        const rec = recorder(all, 'all');
        await ack(A, 'in-room-all', room1, 'all', 'x');
        await expectExactly(rec, [A, B, C]);
        const rec2 = recorder(all, 'all2');
        await ack(D, 'in-room-all', [room1, room2], 'all2', 'y');
        await expectExactly(rec2, [A, B, C]);
      });

      test('io.to(room).except(room) and io.except(room)', async () => {
        const rec = recorder(all, 'excepted');
        await ack(D, 'except', room1, room2, 'not B');
        await expectExactly(rec, [A, C]);
        assert.deepEqual(rec.of(A)[0], ['not B']);

        rec.reset();
        await ack(A, 'except', null, room1, 'outside room1');
        await expectExactly(rec, [D]);
      });

      test('socket.except(room): everyone but the sender and the room', async () => {
        const rec = recorder(all, 'socket-excepted');
        await ack(A, 'socket-except', room2, 'hi');
        await expectExactly(rec, [C, D]);
      });

      test('socket.broadcast: everyone but the sender', async () => {
        const rec = recorder(all, 'broadcast');
        await ack(C, 'broadcast', { from: 'C', buf: Buffer.from([1]) });
        await expectExactly(rec, [A, B, D]);
        assert.deepEqual(rec.of(D)[0], [{ from: 'C', buf: Buffer.from([1]) }]);
      });

      test('volatile: received by connected idle clients', async () => {
        await delay(200); // let every client settle (polling: its GET waits)
        const rec = recorder(all, 'volatile');
        await ack(A, 'volatile', 'maybe');
        // The sender's own poll may be busy with the ack, so it may miss it;
        // the idle ones must get it, and nobody twice.
        await rec.expectExactly([B, C, D]);
        const counts = rec.counts();
        assert.deepEqual({ B: counts.B, C: counts.C, D: counts.D }, { B: 1, C: 1, D: 1 });
        assert.ok(counts.A <= 1, `sender got it ${counts.A} times`);
      });

      test('broadcast with ack aggregates the answers', async () => {
        const answer = (who) => (q, cb) => cb({ who, q }, 'ignored second argument');
        A.on('question', answer('A'));
        B.on('question', answer('B'));
        C.on('question', answer('C'));
        try {
          const res = await ack(D, 'broadcast-ack', room1, 3000);
          assert.equal(res.error, null);
          // as Node: each client's first ack argument
          assert.deepEqual(res.responses.map((r) => r.who).sort(), ['A', 'B', 'C']);
          assert.equal(res.responses[0].q, 'all of you?');

          // C stops answering: a timeout error, with the answers that came
          C.off('question');
          C.on('question', () => {});
          const started = Date.now();
          const partial = await ack(D, 'broadcast-ack', room1, 300);
          assert.equal(partial.error, 'operation has timed out');
          assert.deepEqual(partial.responses.map((r) => r.who).sort(), ['A', 'B']);
          assert.ok(Date.now() - started >= 250, `answered after ${Date.now() - started} ms`);

          // nobody in the room: no error, no answers
          assert.deepEqual(await ack(D, 'broadcast-ack', unique('empty'), 300), { error: null, responses: [] });
        } finally {
          for (const s of [A, B, C])
            s.off('question');
        }
      });

      test('fetch_sockets returns id, rooms and data', async () => {
        const list = await ack(D, 'fetch', room1);
        assert.deepEqual(list.map((s) => s.id).sort(), [A.id, B.id, C.id].sort());
        const b = list.find((s) => s.id === B.id);
        assert.deepEqual(new Set(b.rooms), new Set([B.id, room1, room2]));
        assert.deepEqual(b.data, {});
        const in2 = await ack(A, 'fetch', room2);
        assert.deepEqual(in2.map((s) => s.id), [B.id]);
        assert.deepEqual(await ack(A, 'fetch', unique('nobody')), []);
      });

      after(async () => {
        if (pool)
          await pool.closeAll();
        server.assertAlive();
      });
    });

    clientTest('fetch_sockets shows each socket.data', async (p) => {
      const room = unique();
      const a = await p.connect('/', { label: 'A', auth: { name: 'ann' } });
      const b = await p.connect('/', { label: 'B', auth: { name: 'bob' } });
      await ack(a, 'join', room);
      await ack(b, 'join', room);
      const list = await ack(a, 'fetch', room);
      assert.deepEqual(
        list.map((s) => [s.id, s.data.name]).sort(),
        [[a.id, 'ann'], [b.id, 'bob']].sort());
    });

    clientTest('sockets_join / sockets_leave / disconnect_sockets act on a room', async (p) => {
      const roomS = unique('s');
      const roomT = unique('t');
      const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((label) => p.connect('/', { label })));
      const aId = a.id;
      await ack(a, 'join', roomS);
      await ack(b, 'join', roomS);

      await ack(c, 'sockets-join', roomS, roomT);
      for (const s of [a, b])
        await waitFor(async () => (await ack(s, 'rooms')).includes(roomT), 5000, `${s.label} in ${roomT}`);
      assert.ok(!(await ack(c, 'rooms')).includes(roomT));
      const rec = recorder([a, b, c], 'in-t');
      await ack(c, 'in-room-all', roomT, 'in-t', 1);
      await expectExactly(rec, [a, b]);

      await ack(c, 'sockets-leave', roomS, roomT);
      for (const s of [a, b])
        await waitFor(async () => !(await ack(s, 'rooms')).includes(roomT), 5000, `${s.label} left ${roomT}`);
      assert.deepEqual(await ack(c, 'fetch', roomT), []);

      const reasons = [a, b, c].map((s) => waitForEvent(s, 'disconnect', 5000));
      await ack(c, 'disconnect-sockets', roomS, false);
      assert.deepEqual((await reasons[0])[0], 'io server disconnect');
      assert.deepEqual((await reasons[1])[0], 'io server disconnect');
      reasons[2].catch(() => {});
      await delay(200);
      assert.equal(c.connected, true, 'C was not in the room');
      assert.equal(await serverDisconnectReason(c, aId), 'server namespace disconnect');
    });

    clientTest('disconnect_sockets(close = true) closes the whole connection', async (p) => {
      const room = unique();
      const manager = p.manager();
      const main = p.create('/', { label: 'main', manager });
      const admin = p.create('/admin', { label: 'admin', manager, auth: { token: 'admin-secret' } });
      await p.connected(main);
      await p.connected(admin);
      const other = await p.connect('/', { label: 'other' });
      await ack(main, 'join', room);
      const mainGone = waitForEvent(main, 'disconnect', 5000);
      const adminGone = waitForEvent(admin, 'disconnect', 5000);
      await ack(other, 'disconnect-sockets', room, true);
      assert.equal((await mainGone)[0], 'io server disconnect');
      // As Node's socket.disconnect(true) (client._disconnect()): every
      // namespace of the connection gets its DISCONNECT packet before the
      // connection closes, so none of them sees a bare "transport close".
      assert.equal((await adminGone)[0], 'io server disconnect', 'the other namespace of the connection');
      await waitFor(() => manager.engine.readyState === 'closed', 5000, 'the Engine.IO connection closed');
      assert.equal(other.connected, true);
    });

    clientTest('disconnect reasons, client and server side', async (p) => {
      const observer = await p.connect('/', { label: 'observer' });

      // the server disconnects the socket
      const s1 = await p.connect('/', { label: 's1' });
      const id1 = s1.id;
      const gone1 = waitForEvent(s1, 'disconnect', 5000);
      s1.emit('disconnect-me', false);
      assert.equal((await gone1)[0], 'io server disconnect');
      assert.equal(await serverDisconnectReason(observer, id1), 'server namespace disconnect');

      // the client disconnects
      const s2 = await p.connect('/', { label: 's2' });
      const id2 = s2.id;
      const gone2 = waitForEvent(s2, 'disconnect', 5000);
      s2.disconnect();
      assert.equal((await gone2)[0], 'io client disconnect');
      assert.equal(await serverDisconnectReason(observer, id2), 'client namespace disconnect');

      // the client closes its Engine.IO connection ("forced close" is the
      // client's own word for that; the server sees the transport close)
      const s3 = await p.connect('/', { label: 's3' });
      const id3 = s3.id;
      const gone3 = waitForEvent(s3, 'disconnect', 5000);
      s3.io.engine.close();
      assert.equal((await gone3)[0], 'forced close');
      assert.equal(await serverDisconnectReason(observer, id3), 'transport close');

      // the WebSocket just goes away under the client
      if (transport.name !== 'polling') {
        const s5 = await p.connect('/', { label: 's5' });
        const id5 = s5.id;
        const gone5 = waitForEvent(s5, 'disconnect', 5000);
        s5.io.engine.transport.ws.close();
        assert.equal((await gone5)[0], 'transport close');
        assert.equal(await serverDisconnectReason(observer, id5), 'transport close');
      }

      // the server disconnects with close = true: the connection goes too
      const s4 = await p.connect('/', { label: 's4' });
      const id4 = s4.id;
      const gone4 = waitForEvent(s4, 'disconnect', 5000);
      s4.emit('disconnect-me', true);
      assert.equal((await gone4)[0], 'io server disconnect');
      assert.equal(await serverDisconnectReason(observer, id4), 'server namespace disconnect');
      await waitFor(() => s4.io.engine.readyState === 'closed', 5000, 'the Engine.IO connection closed');

      assert.equal(observer.connected, true);
    });

    clientTest('"/actor": events go to an application actor as sio::event_message', async (p) => {
      const observer = await p.connect('/', { label: 'observer' });
      const a = await p.connect('/actor', { label: 'actor-client' });
      const id = a.id;
      const first = await ack(a, 'ping', 1, Buffer.from('b'));
      assert.deepEqual(first.args, [1, Buffer.from('b')]);
      const second = await ack(a, 'ping');
      assert.equal(second.pong, first.pong + 1, 'the actor keeps state');
      assert.deepEqual(await ack(a, 'whoami'), { id: a.id, nsp: '/actor' });

      const back = waitForEvent(a, 'back', 5000);
      a.emit('emit-back', 'via socket_ref', Buffer.from([1, 2]));
      assert.deepEqual(await back, ['via socket_ref', Buffer.from([1, 2])]);

      const gone = waitForEvent(a, 'disconnect', 5000);
      a.emit('bye');
      assert.equal((await gone)[0], 'io server disconnect');
      assert.equal(await serverDisconnectReason(observer, id), 'server namespace disconnect');
    });
  });
}

describe('many clients at once', () => {
  let server;
  const pools = [];
  before(async () => {
    server = await startServer(SERVER);
  });
  after(async () => {
    for (const p of pools)
      await p.closeAll();
    if (server)
      await server.stop();
  });

  for (const [transport, count] of [[TRANSPORTS[0], 200], [TRANSPORTS[1], 50]]) {
    test(`${count} clients over ${transport.name}: connect, echo with ack`, async () => {
      const p = new ClientPool(server.url, transport);
      pools.push(p);
      const clients = await withTimeout(p.connectMany(count, '/', { label: transport.name }), 60000,
        `${count} connects`);
      assert.equal(new Set(clients.map((c) => c.id)).size, count, 'distinct ids');
      const answers = await withTimeout(
        Promise.all(clients.map((c, i) => ackAll(c, 'echo', i, c.id))), 60000, `${count} echoes`);
      answers.forEach((a, i) => assert.deepEqual(a, [i, clients[i].id]));
      assert.equal(await ack(clients[0], 'count'), count);
      await p.closeAll();
      server.assertAlive();
    });
  }
});

describe('connect timeout and heartbeat options', () => {
  let server;
  before(async () => {
    server = await startServer(SERVER, ['--connect-timeout', '500', '--ping-interval', '200', '--ping-timeout', '1000']);
  });
  after(async () => {
    if (server)
      await server.stop();
  });

  test('a connection that joins no namespace is closed after --connect-timeout', async () => {
    const { Socket } = require('engine.io-client');
    const engine = new Socket(server.url, { path: '/socket.io/', transports: ['websocket'] });
    try {
      const [handshake] = await waitForEvent(engine, 'handshake', 5000, { rejectOn: ['error'] });
      assert.equal(handshake.pingInterval, 200);
      assert.equal(handshake.pingTimeout, 1000);
      const started = Date.now();
      await waitForEvent(engine, 'close', 5000);
      assert.ok(Date.now() - started >= 300, `closed after ${Date.now() - started} ms`);
    } finally {
      engine.close();
    }
  });

  test('a client in a namespace outlives the connect timeout, answering pings', async () => {
    const p = new ClientPool(server.url, TRANSPORTS[0]);
    try {
      const a = await p.connect('/', { label: 'A' });
      let pings = 0;
      a.io.engine.on('ping', () => { pings += 1; });
      await delay(1200);
      assert.equal(a.connected, true);
      assert.ok(pings >= 2, `${pings} pings`);
      assert.deepEqual(await ackAll(a, 'echo', 'alive'), ['alive']);
    } finally {
      await p.closeAll();
    }
  });
});
