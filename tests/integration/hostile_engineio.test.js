'use strict';
// Hostile Engine.IO input against sio-test-server: bad EIO versions, unknown
// transports, invalid sids, payloads over maxHttpBufferSize, 50k packets in
// one POST, concurrent GETs on one sid, ping floods, binary garbage, bad
// base64. Each attack runs under lib/hostile.js's underAttack(): the process
// stays up, RSS stays bounded, a bystander socket.io-client keeps its echo.
// Server: pingInterval 1000 ms, pingTimeout 1000 ms (so a GET on a live
// session is answered within a second by a ping), maxHttpBufferSize 1e6.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const { waitFor, withTimeout } = require('./lib/harness');
const { hostileTarget, rawExchange, parseResponses, responses, PollingSession, RawWebSocket, wsFrame,
  parseServerFrames } = require('./lib/hostile');
const { sanitized } = require('./lib/hostile');

const MAX_BUFFER = 1e6;
const BASE = '/socket.io/';

/// What became of a session after an attack: 'gone' (400 unknown sid),
/// 'closed' (the GET got a close packet) or 'alive'. A GET on a live session
/// is answered by the next ping (1 s), so this never waits long.
async function sessionState(s) {
  for (;;) {
    const res = await s.getRaw({ timeoutMs: 4000 }).catch((err) => {
      throw new Error(`GET on session ${s.sid} never answered (a GET that reaches the session actor ` +
        `just after it ended is dropped: see the concurrent GETs test): ${err.message}`);
    });
    if (res.status === 400)
      return 'gone';
    assert.equal(res.status, 200, `GET on ${s.sid}: ${res.status} ${res.body.slice(0, 100)}`);
    const packets = res.body.split('\x1e');
    if (packets.includes('1'))
      return 'closed';
    if (packets.includes('2')) {
      await s.post('3');
      return 'alive';
    }
    // noop or data: ask again
  }
}

describe('hostile Engine.IO input', () => {
  const target = hostileTarget('sio-test-server', ['--ping-interval', '1000', '--ping-timeout', '1000']);
  const { attack } = target;

  it('bad EIO versions, unknown transports and invalid sids get 400 with the right code', () => attack('bad queries', async () => {
    const cases = [
      // [query, expected code] (Node's engine.io: 0 unknown transport, 1 unknown sid,
      // 2 bad handshake method, 3 bad request, 5 unsupported protocol version)
      ['EIO=3&transport=polling', 5], ['EIO=5&transport=polling', 5], ['EIO=&transport=polling', 5],
      ['transport=polling', 5], ['EIO=4.0&transport=polling', 5], ['EIO=-4&transport=polling', 5],
      [`EIO=${'4'.repeat(5000)}&transport=polling`, 5],
      ['EIO=4&transport=flash', 0], ['EIO=4&transport=', 0], ['EIO=4', 0], ['EIO=4&transport=POLLING', 0],
      ['EIO=4&transport=websocket', 3], // websocket without an upgrade
      ['EIO=4&transport=polling&sid=nope', 1], ['EIO=4&transport=polling&sid=', 1],
      [`EIO=4&transport=polling&sid=${'s'.repeat(10000)}`, 1], ['EIO=4&transport=polling&sid=%00%ff%fe', 1],
      ['EIO=4&transport=polling&sid=..%2F..%2F', 1],
    ];
    for (const [q, code] of cases) {
      const res = await target.server.request({ path: `${BASE}?${q}` });
      assert.equal(res.status, 400, `GET ?${q.slice(0, 60)}: ${res.status} ${res.body.slice(0, 80)}`);
      assert.equal(JSON.parse(res.body).code, code, `GET ?${q.slice(0, 60)}: ${res.body}`);
    }
    // POST without sid: bad handshake method.
    const post = await target.server.request({ method: 'POST', path: `${BASE}?EIO=4&transport=polling`, body: '40' });
    assert.equal(post.status, 400);
    assert.equal(JSON.parse(post.body).code, 2);
    // WebSocket upgrades with bad versions / unknown sids are refused, not upgraded.
    for (const q of ['EIO=3&transport=websocket', 'EIO=4&transport=websocket&sid=nope', 'EIO=4&transport=flash']) {
      const r = await rawExchange(target.server.port, `GET ${BASE}?${q} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n` +
        'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      { until: responses(1) });
      const res = parseResponses(r.data);
      assert.equal(res.length, 1, `upgrade ?${q}: answered (end ${r.end})`);
      assert.equal(res[0].status, 400, `upgrade ?${q}: ${res[0].status}`);
    }
  }));

  it('a POST over maxHttpBufferSize gets 413; one at the limit is taken', () => attack('huge polling payloads', async () => {
    const s = await PollingSession.open(target.server);
    const over = await s.post('4' + 'x'.repeat(MAX_BUFFER));
    assert.equal(over.status, 413, `over the limit: ${over.status}`);
    const s2 = await PollingSession.open(target.server);
    const at = await s2.post('4' + 'x'.repeat(MAX_BUFFER - 1));
    assert.equal(at.status, 200, `at the limit: ${at.status}`);
    // 20 sessions at once, each sent 5 MB.
    const many = await Promise.all(Array.from({ length: 20 }, async () => {
      const x = await PollingSession.open(target.server);
      return (await x.post(Buffer.alloc(5e6, 0x34), { timeoutMs: 10000 })).status;
    }));
    assert.deepEqual(many, Array(20).fill(413));
  }, { rssGrowthKb: 128 * 1024 }));

  it('50,000 packets in one POST: valid ones are all handled, invalid ones close the session', () => attack('50k packets', async () => {
    // 50k events with acks: every ack comes back, through as many GETs as it takes.
    const s = await PollingSession.open(target.server);
    await s.post('40');
    await waitFor(async () => (await s.get()).some((p) => p.startsWith('40{')), 5000, 'namespace connect');
    // As many as fit in maxHttpBufferSize; a quarter in the ASan+UBSan debug
    // build, where 40k events outlast this suite's 1 s + 1 s heartbeat.
    const n = sanitized(target.server.pid) ? 10000 : 40000;
    const events = Array.from({ length: n }, (_, i) => `42${i}["echo",${i}]`).join('\x1e');
    assert.ok(events.length < MAX_BUFFER);
    assert.equal((await s.post(events, { timeoutMs: 10000 })).status, 200);
    const acked = new Set();
    await waitFor(async () => {
      for (const p of await s.get({ timeoutMs: 5000 })) {
        const m = /^43(\d+)\[(\d+)\]$/.exec(p);
        if (m && m[1] === m[2])
          acked.add(Number(m[1]));
      }
      return acked.size === n;
    }, 20000, { label: `acks of ${n} events`, intervalMs: 1 }).catch((err) => {
      err.message += ` (got ${acked.size})`;
      throw err;
    });
    // 50k empty packets, 50k unknown packet types, 50k noops, 50k pongs: the
    // POST is answered and the session ends (or, for noops/pongs, lives on).
    const m = 50000;
    for (const [name, body, fate] of [
      ['empty', '\x1e'.repeat(m), ['gone', 'closed']],
      ['type 9', Array(m).fill('9').join('\x1e'), ['gone', 'closed']],
      ['type x', Array(m).fill('xyz').join('\x1e'), ['gone', 'closed']],
      ['noops', Array(m).fill('6').join('\x1e'), ['alive', 'gone', 'closed']],
      ['pongs', Array(m).fill('3').join('\x1e'), ['alive', 'gone', 'closed']],
    ]) {
      const x = await PollingSession.open(target.server);
      const res = await x.post(body, { timeoutMs: 10000 });
      assert.ok([200, 400].includes(res.status), `${name}: POST ${res.status}`);
      const state = await sessionState(x);
      assert.ok(fate.includes(state), `${name}: session ${state}, expected ${fate.join(' or ')}`);
    }
  }, { rssGrowthKb: 128 * 1024 }));

  it('concurrent GETs on one sid are all answered at once (Node: a second GET is an error)', () => attack('concurrent GETs', async () => {
    // 50 GETs at once on each of 5 sessions; the server must not park more
    // than one per session, and must answer the others now (400/500), not
    // at the next ping. (Today a GET that reaches the session actor just
    // after it ended is never answered: the connection hangs, with no timeout.)
    for (let round = 0; round < 5; ++round) {
      const s = await PollingSession.open(target.server);
      const all = await Promise.all(Array.from({ length: 50 }, () =>
        s.getRaw({ timeoutMs: 3000 }).then((r) => r.status, () => 'never answered')));
      const hung = all.filter((st) => st === 'never answered').length;
      assert.equal(hung, 0, `round ${round}: ${hung} of 50 concurrent GETs on one sid were never answered: ${all}`);
      assert.ok(all.every((st) => [200, 400, 500].includes(st)), `statuses ${all}`);
      assert.ok(all.filter((st) => st !== 200).length >= 49, `at most one GET served: ${all}`);
    }
  }));

  it('client ping floods end the session (polling and WebSocket) or are answered, never piled up', () => attack('ping floods', async () => {
    // Engine.IO pings from the client: Node ends the session.
    const s = await PollingSession.open(target.server);
    const res = await s.post(Array(50000).fill('2').join('\x1e'), { timeoutMs: 10000 });
    assert.ok([200, 400].includes(res.status), `POST ${res.status}`);
    const state = await sessionState(s);
    assert.ok(['gone', 'closed'].includes(state), `a session whose client pings: ${state}`);
    // WebSocket ping frames, 20k of them, while the client does not read:
    // the pongs pile up only up to the write queue's bound.
    const ws = await RawWebSocket.open(target.server.port);
    ws.sock.pause();
    const ping = wsFrame({ opcode: 9, payload: Buffer.alloc(125, 0x70) });
    const burst = Buffer.concat(Array(1000).fill(ping));
    for (let i = 0; i < 19; ++i)
      ws.send(burst);
    // Read again once all 2.5 MB of pings have left for the kernel.
    await new Promise((resolve) => ws.sock.write(burst, resolve));
    ws.sock.resume();
    // Either every pong arrives, or the server cut the connection.
    await waitFor(() => ws.ended || ws.frames.filter((f) => f.opcode === 10).length >= 20000, 15000,
      { label: `20000 pongs or a close (got ${ws.frames.filter((f) => f.opcode === 10).length})` });
    ws.destroy();
  }, { rssGrowthKb: 128 * 1024 }));

  it('binary garbage and bad base64 end the session (or are ignored) without harm', () => attack('garbage payloads', async () => {
    const random = Buffer.from(Array.from({ length: 100000 }, (_, i) => (i * 7919 + 13) & 0xff));
    const cases = [
      ['octet-stream', random, { 'Content-Type': 'application/octet-stream' }],
      ['random as text', random, { 'Content-Type': 'text/plain' }],
      ['b alone', 'b', {}],
      ['b!!!!', 'b!!!!', {}],
      ['bA', 'bA', {}],
      ['bAAA=A', 'bAAA=A', {}],
      ['b====', 'b====', {}],
      ['b + NUL', 'b\x00\x00\x00\x00', {}],
      ['b + 900 kB of base64', 'b' + 'QUJD'.repeat(225000), {}],
      ['b + unpadded', 'bQUJDRA', {}],
      ['invalid UTF-8', Buffer.from([0x34, 0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]), { 'Content-Type': 'text/plain' }],
      ['many b', Array(50000).fill('b').join('\x1e'), {}],
    ];
    for (const [name, body, headers] of cases) {
      const s = await PollingSession.open(target.server);
      await s.post('40');
      const res = await s.post(body, { headers: { 'Content-Type': 'text/plain;charset=UTF-8', ...headers }, timeoutMs: 10000 });
      assert.ok([200, 400, 413].includes(res.status), `${name}: POST ${res.status}`);
      const state = await sessionState(s);
      assert.ok(['alive', 'gone', 'closed'].includes(state), `${name}: ${state}`);
    }
    // The same over WebSocket: binary frames of garbage and text frames that
    // are not Engine.IO packets.
    for (const payload of [random, Buffer.from('9'), Buffer.from(''), Buffer.from('b!!!'), Buffer.from('4\x00')]) {
      for (const opcode of [1, 2]) {
        if (opcode === 1 && payload === random)
          continue; // not UTF-8: that is the WebSocket suite's 1007
        const ws = await RawWebSocket.open(target.server.port);
        ws.sendText('40');
        ws.send(wsFrame({ opcode, payload }));
        // Either the server closes it or the session still answers an echo.
        ws.sendText('421["echo","still"]');
        await waitFor(() => ws.ended || ws.texts.includes('431["still"]'), 5000,
          `WebSocket ${opcode === 1 ? 'text' : 'binary'} ${JSON.stringify(payload.slice(0, 8).toString('latin1'))}: echo or close`);
        ws.destroy();
      }
    }
  }, { rssGrowthKb: 128 * 1024 }));

  it('1,000 handshakes abandoned at once are reaped by the heartbeat', () => attack('abandoned sessions', async () => {
    const sids = [];
    for (let batch = 0; batch < 10; ++batch)
      sids.push(...(await Promise.all(Array.from({ length: 100 }, () => PollingSession.open(target.server)))).map((s) => s.sid));
    // pingInterval + pingTimeout = 2 s: then every one of them is gone.
    const probe = sids[sids.length - 1];
    await waitFor(async () => (await target.server.request({ path: `${BASE}?EIO=4&transport=polling&sid=${probe}` })).status === 400,
      6000, 'the last abandoned session reaped');
    const res = await target.server.request({ path: `${BASE}?EIO=4&transport=polling&sid=${sids[0]}` });
    assert.equal(res.status, 400, 'the first abandoned session reaped');
  }, { rssGrowthKb: 64 * 1024 }));
});
