'use strict';
// Hostile Socket.IO packets against sio-test-server, over raw WebSockets
// (lib/hostile.js RawWebSocket): malformed packets, deeply nested JSON,
// attachment counts that lie, acks with absurd ids, CONNECT floods, duplicate
// CONNECTs, objects with 100k keys. Each attack runs under underAttack(): the
// process stays up, RSS stays bounded, the log stays short, and a bystander
// socket.io-client keeps its echo. After a bad packet the attacker's own
// connection must either be closed by the server or still work (an echo with
// ack round-trips on it): never left hanging.

const { describe, it, before } = require('node:test');
const assert = require('node:assert/strict');

const { waitFor, waitForEvent, delay } = require('./lib/harness');
const { io } = require('socket.io-client');
const { hostileTarget, Bystander, sanitized, echoBound, RawWebSocket, rawSocketIo, rawEcho, wsFrame } = require('./lib/hostile');

describe('hostile Socket.IO packets', () => {
  const target = hostileTarget('sio-test-server', []);
  const { attack } = target;

  /// Sends `frames` (texts or {binary}) on a fresh connection to "/", then an
  /// echo: resolves 'works' or 'closed'; rejects if neither within 3 s.
  async function probe(frames, { connect = true } = {}) {
    const ws = connect ? await rawSocketIo(target.server.port) : await RawWebSocket.open(target.server.port);
    try {
      for (const f of frames) {
        if (typeof f === 'string')
          ws.sendText(f);
        else
          ws.send(wsFrame({ opcode: 2, payload: f.binary }));
      }
      return (await rawEcho(ws, 777)) ? 'works' : 'closed';
    } finally {
      ws.destroy();
    }
  }
  const show = (frames) => JSON.stringify(frames.map((f) => (typeof f === 'string' ? f.slice(0, 60) : `<${f.binary.length} bytes>`)));

  it('malformed packets close the connection or are ignored, never hang it', () => attack('malformed packets', async () => {
    const mustClose = [
      '42["echo"', '42{', '42["echo",]', '42[', '42]', '49', '4x', '4', '42\u0000', '4-1["echo"]',
      '42["echo","\ud800"', '42/,["echo"]x', '4299999999999999999999999["echo"]',
      `42${'9'.repeat(1000)}["echo"]`, '45', '45-', '45x-["echo"]', '4' + '2'.repeat(10000),
    ];
    const either = [
      '42{}', '42"just a string"', '42[]', '42[1]', '42[null]', '42[{"a":1}]', '42[["echo"]]', '42null', '42true',
      '421.5["echo"]', '42-0["echo"]', '42 ["echo"]', '41/nope,', '40/nope,', '40{"x":1}', '40[]', '40"str"',
      '44{"message":"x"}', '46', '42/nope,["echo","x"]', '40/nsp-without-comma["x"]', '42/admin,["echo"]', '43/,["x"]',
      '42["__proto__",{"__proto__":{"polluted":true}}]', '42["constructor",{"prototype":{}}]',
      '42["echo",' + '1'.repeat(5000) + ']', '42["echo",1e999999]', '42["echo",-1e-999999]', '42["echo","\\uZZZZ"]',
      '43', '42["echo","' + 'é'.repeat(100000) + '"]',
    ];
    for (const p of mustClose) {
      const fate = await probe([p]);
      assert.equal(fate, 'closed', `${JSON.stringify(p.slice(0, 60))}: the connection should be closed (parse error)`);
    }
    for (const p of either) {
      await probe([p]).catch((err) => { // throws if the connection hangs
        throw new Error(`${JSON.stringify(p.slice(0, 60))}: ${err.message}`);
      });
    }
    // Leaving "/" (client or server side) and joining again works.
    // (Events sent before the CONNECT is answered are dropped, as in Node:
    // wait for the answer.)
    const again = await rawSocketIo(target.server.port);
    let from = again.texts.length;
    again.sendText('41');
    again.sendText('40');
    await again.waitText((t) => t.startsWith('40{'), 3000, 'CONNECT again after DISCONNECT', from);
    assert.equal(await rawEcho(again, 779), true, 'echo after DISCONNECT and CONNECT');
    again.destroy();
    const ws = await rawSocketIo(target.server.port);
    from = ws.texts.length;
    ws.sendText('42["disconnect-me"]');
    await ws.waitText((t) => t === '41', 3000, "the server's DISCONNECT", from);
    ws.sendText('40');
    await ws.waitText((t) => t.startsWith('40{'), 3000, 'CONNECT again after the server disconnected "/"', from);
    assert.equal(await rawEcho(ws, 778), true, 'echo after reconnecting "/"');
    ws.destroy();
    const rec = await probe(['42["echo",{"polluted":1}]']);
    assert.equal(rec, 'works');
  }));

  it('a lone UTF-16 surrogate from socket.io-client is taken, as Node does (not a parse error)', () => attack('lone surrogate', async () => {
    // '😀'.slice(0, 1): what any JS client sends after cutting a string at a
    // UTF-16 index; JSON.stringify writes it as "\\ud83d", which JSON.parse in
    // Node accepts. The connection must stay up and the echo come back (as the
    // same string or with U+FFFD in its place).
    const c = await Bystander.connect(target.server.url, { label: 'client with half an emoji' });
    try {
      const half = '😀'.slice(0, 1);
      const answer = await c.socket.timeout(3000).emitWithAck('echo', `a${half}b`).catch((err) => {
        throw new Error(`echo of a string with a lone surrogate: ${err.message} (connected=${c.socket.connected}, ` +
          `disconnects=${JSON.stringify(c.disconnects)})`);
      });
      assert.ok([`a${half}b`, 'a\ufffdb'].includes(answer), `echoed ${JSON.stringify(answer)}`);
      c.assertIntact('after a lone surrogate');
    } finally {
      c.close();
    }
  }));

  it('deeply nested JSON is refused (max_json_depth) without exhausting the stack', () => attack('deep JSON', async () => {
    const depth = 100000;
    const cases = {
      arrays: `42["echo",${'['.repeat(depth)}${']'.repeat(depth)}]`,
      objects: `42["echo",${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}]`,
      'unclosed arrays': `42["echo",${'['.repeat(depth)}`,
      'mixed': `42["echo",${'[{"a":'.repeat(depth / 2)}1${'}]'.repeat(depth / 2)}]`,
      'in the CONNECT auth': `40${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
      'in an ack': `43${'['.repeat(depth)}${']'.repeat(depth)}`,
    };
    for (const [name, p] of Object.entries(cases)) {
      const fate = await probe([p], { connect: name !== 'in the CONNECT auth' });
      assert.equal(fate, 'closed', `${name}: refused`);
    }
    // 101 levels: just over the default limit of 100.
    assert.equal(await probe([`42["echo",${'['.repeat(101)}${']'.repeat(101)}]`]), 'closed', 'depth 101');
    assert.equal(await probe([`42["echo",${'['.repeat(50)}${']'.repeat(50)}]`]), 'works', 'depth 50');
  }));

  it('attachment counts that lie are refused, never read out of bounds', () => attack('attachment lies', async () => {
    const ph = (num) => JSON.stringify({ _placeholder: true, num });
    const bin = (n) => ({ binary: Buffer.alloc(n, 0xab) });
    const cases = [
      // [frames, must the connection close?]
      [[`451-["echo",${ph(0)}]`, '42["echo"]'], true],                  // text while binary expected
      [[`451-["echo",${ph(5)}]`, bin(3)], true],                         // placeholder beyond the count
      [[`452-["echo",${ph(0)},${ph(0)}]`, bin(1), bin(1)], false],      // the same one twice: fine
      [[`452-["echo",${ph(2)}]`, bin(1), bin(1)], true],
      [[`451-["echo",${ph(-1)}]`, bin(1)], true],
      [[`451-["echo",${ph(1e20)}]`, bin(1)], true],
      [[`451-["echo",${ph('0')}]`, bin(1)], true],
      [[`451-["echo",${ph(null)}]`, bin(1)], true],
      [[`451-["echo",${ph(0.5)}]`, bin(1)], true],
      [[`451-["echo",{"_placeholder":true}]`, bin(1)], true],
      [[`450-["echo",${ph(0)}]`], true],                                 // zero announced, one used
      [[`45999999999-["echo",${ph(0)}]`], true],                         // over max_attachments
      [[`4518446744073709551617-["echo",${ph(0)}]`], true],              // overflows 64 bits
      [[`4511-["echo",${ph(0)}]`, ...Array(11).fill(bin(1))], true],     // 11 > max_attachments (10)
      [[`451-["echo",${ph(0)}]`, bin(1), bin(1)], true],                 // one binary too many
      [[bin(10)], true],                                                 // binary with no header
      [[`462-[${ph(0)}]`, bin(1)], true],                                // binary ack with fewer binaries
      [[`451-["echo"]`, bin(1)], false],                                 // announced, never referenced
    ];
    for (const [frames, mustClose] of cases) {
      const fate = await probe(frames);
      if (mustClose)
        assert.equal(fate, 'closed', `${show(frames)}: should be refused`);
    }
    // A header announcing 10 attachments, then nothing: the session waits,
    // but an echo on another connection is unaffected and the half packet
    // goes with the connection.
    const held = await rawSocketIo(target.server.port);
    held.sendText(`4510-["echo",${Array.from({ length: 10 }, (_, i) => ph(i)).join(',')}]`);
    held.send(wsFrame({ opcode: 2, payload: Buffer.alloc(900000, 1) }));
    await target.by.echo();
    held.destroy();
  }));

  it('acks with absurd ids are ignored or refused', () => attack('absurd ack ids', async () => {
    const cases = ['430[]', '431["x"]', '4399999999999999999["x"]', '4318446744073709551615["x"]',
      '4318446744073709551616["x"]', `43${'9'.repeat(500)}["x"]`, '43-1["x"]', '431e3["x"]', '43 1["x"]',
      '460-[]', '4699999999999999-[]', '43/,0[]', '43/nope,0[]', '43/admin,5[]'];
    for (const p of cases)
      await probe([p]);
    // 20k acks for ids the server never used, in one burst.
    const ws = await rawSocketIo(target.server.port);
    ws.send(Buffer.concat(Array.from({ length: 20000 }, (_, i) => wsFrame({ payload: `43${i}["x"]` }))));
    assert.ok(await rawEcho(ws, 1, 10000) !== undefined);
    ws.destroy();
    // Events with huge ack ids: answered with that id, or refused.
    const ws2 = await rawSocketIo(target.server.port);
    ws2.sendText('429007199254740993["echo","big"]');
    await waitFor(() => ws2.ended || ws2.texts.some((t) => t.startsWith('43') && t.endsWith('["big"]')), 3000,
      'an event with ack id 2^53+1: answered or refused');
    ws2.destroy();
  }));

  it('a CONNECT flood to unknown namespaces is answered (or cut) and leaves nothing behind', () => attack('CONNECT flood', async () => {
    const n = 10000;
    const ws = await RawWebSocket.open(target.server.port);
    ws.send(Buffer.concat(Array.from({ length: n }, (_, i) => wsFrame({ payload: `40/nope-${i},` }))));
    await waitFor(() => ws.ended || ws.texts.filter((t) => t.startsWith('44/nope-')).length === n, 15000,
      { label: `${n} CONNECT_ERRORs or a close (got ${ws.texts.filter((t) => t.startsWith('44/nope-')).length})` });
    ws.destroy();
    // The same through the /admin middleware, which refuses without a token
    // (a CONNECT to a namespace whose CONNECT is still pending waits, the
    // last one only, for the pending one to end): at least one refusal, and
    // then the right token, sent last, still gets in.
    const ws2 = await RawWebSocket.open(target.server.port);
    ws2.send(Buffer.concat(Array.from({ length: 5000 }, () => wsFrame({ payload: '40/admin,{"token":"no"}' }))));
    await ws2.waitText((t) => t.startsWith('44/admin,'), 10000, 'a refusal');
    ws2.sendText('40/admin,{"token":"admin-secret"}');
    // 5,000 middleware runs: slower by far in the ASan+UBSan debug build.
    await ws2.waitText((t) => t.startsWith('40/admin,{"sid"'), sanitized(target.server.pid) ? 50000 : 10000,
      'admitted after 5000 refusals');
    ws2.destroy();
  }));

  it('duplicate CONNECTs to "/" on one connection do not pile up sockets', () => attack('duplicate CONNECT', async () => {
    const count = () => target.by.socket.timeout(2000).emitWithAck('count');
    assert.equal(await count(), 1, 'only the bystander before');
    const ws = await RawWebSocket.open(target.server.port);
    ws.send(Buffer.concat(Array.from({ length: 2000 }, () => wsFrame({ payload: '40' }))));
    await waitFor(() => ws.ended || ws.texts.filter((t) => t.startsWith('40') || t.startsWith('44')).length >= 1, 5000,
      'an answer to the CONNECTs');
    // Give the burst time to be processed: an echo on the same connection
    // is answered after every CONNECT before it.
    if (!ws.ended)
      await rawEcho(ws, 5, 10000);
    const during = await count();
    assert.ok(during <= 2, `sockets in "/" with 2000 CONNECTs on one connection: ${during}`);
    ws.destroy();
    await waitFor(async () => (await count()) === 1, 5000, 'back to the bystander alone');
  }));

  it('four objects of 100k keys at once: parsed (or refused) without stalling others', () => attack('100k keys', async () => {
    // Keys in base 36 keep the packet under maxHttpBufferSize (1e6).
    const keys = Array.from({ length: 100000 }, (_, i) => `"${i.toString(36)}":0`).join(',');
    const packet = `421["echo",{${keys}}]`;
    assert.ok(packet.length < 1e6, `packet ${packet.length} bytes`);
    const conns = await Promise.all(Array.from({ length: 4 }, () => rawSocketIo(target.server.port)));
    const started = Date.now();
    for (const ws of conns)
      ws.sendText(packet);
    // Each is acked (echoed back) or its connection is closed; meanwhile the
    // bystander's echo stays under 2 s (checked here too, to fail at once).
    let done = false;
    const all = Promise.all(conns.map((ws) => waitFor(() => ws.ended || ws.texts.some((t) => t.startsWith('431[')),
      20000, { label: '100k-key packet acked or refused', intervalMs: 20 }))).finally(() => { done = true; });
    const watch = (async () => {
      while (!done) {
        await target.by.echo(echoBound(target.server, 2000)).catch((err) => {
          throw new Error(`while 4 packets of 100k keys are parsed: ${err.message}`);
        });
        await delay(50);
      }
    })();
    await Promise.all([all, watch]);
    const ms = Date.now() - started;
    for (const ws of conns)
      ws.destroy();
    return ms;
  }, { maxEchoMs: 2000, rssGrowthKb: 256 * 1024 }));
});

// sio-chat's documented limits on bad input (docs/chat.md) under attack: a
// 'chat message' flood, non-text and oversized messages, raw malformed
// packets, 20k room joins. The bystander is a chat client too: it must keep
// its echo, and receive at most what the flood limit lets through.
describe('hostile input to sio-chat', () => {
  const FLOOD_RATE = 20;
  const FLOOD_BURST = 40;
  const target = hostileTarget('sio-chat', []);
  const { attack } = target;
  const heard = [];
  before(() => {
    target.by.socket.on('chat message', (m) => heard.push(m));
  });

  async function attacker() {
    const s = io(target.server.url, { transports: ['websocket'], forceNew: true, reconnection: false });
    s.notices = [];
    s.on('notice', (n) => s.notices.push(n));
    await waitFor(() => s.connected, 5000, 'attacker connects');
    return s;
  }

  it('a flood of 5,000 chat messages is cut to the token bucket; one warning', () => attack('chat flood', async () => {
    const a = await attacker();
    const started = Date.now();
    for (let i = 0; i < 5000; ++i)
      a.emit('chat message', `flood ${i}`);
    // The last one is dropped or delivered; an echo after it on the same
    // connection tells when the server has handled all of them.
    await a.timeout(10000).emitWithAck('echo', 'done');
    const seconds = (Date.now() - started) / 1000;
    await target.by.echo(); // what the bystander was sent before this is there now
    const got = heard.filter((m) => m.includes(`user:${a.id} msg:flood `)).length;
    const allowed = FLOOD_BURST + Math.ceil(FLOOD_RATE * (seconds + 1));
    assert.ok(got >= FLOOD_BURST && got <= allowed, `the bystander got ${got} of 5000 (allowed ${allowed} in ${seconds} s)`);
    const warnings = a.notices.filter((n) => n.kind === 'warning').length;
    assert.ok(warnings >= 1 && warnings <= 1 + Math.ceil(seconds / 5), `${warnings} warnings`);
    a.close();
  }));

  it('non-text, too long and too large messages are refused, the sender alone is told', () => attack('bad chat messages', async () => {
    const a = await attacker();
    const bad = [{ x: 1 }, 42, null, ['a'], Buffer.from([1, 2, 3]), 'x'.repeat(2001), 'é'.repeat(2001),
      { toString: 'x' }];
    for (const m of bad)
      a.emit('chat message', m);
    await a.timeout(5000).emitWithAck('echo', 'done');
    await target.by.echo();
    const errors = a.notices.filter((n) => n.kind === 'error').length;
    assert.ok(errors >= bad.length - 1, `${errors} error notices for ${bad.length} bad messages`);
    assert.equal(heard.filter((m) => m.includes(`user:${a.id} `)).length, 0, 'the bystander saw none of them');
    // Over 100 kB: that connection is closed, the bystander stays.
    const gone = waitForEvent(a, 'disconnect', 5000);
    a.emit('chat message', 'y'.repeat(200000));
    await gone;
  }));

  it('raw malformed packets and deep JSON close only the sender', () => attack('chat raw packets', async () => {
    for (const p of ['42["chat message"', '42[' + '['.repeat(50000), '451-["chat message",{"_placeholder":true,"num":9}]',
      '42["chat message",' + '{"a":'.repeat(1000) + '1' + '}'.repeat(1000) + ']']) {
      const ws = await rawSocketIo(target.server.port);
      ws.sendText(p);
      if (p.startsWith('451-'))
        ws.send(wsFrame({ opcode: 2, payload: Buffer.from([1]) }));
      await ws.closed(3000, `${p.slice(0, 30)}: closed`);
      ws.destroy();
    }
  }));

  it('20,000 room joins by one client are bounded in memory and freed with it', () => attack('room joins', async () => {
    const a = await attacker();
    for (let i = 0; i < 20000; ++i)
      a.emit('join', `room-${i}-${'r'.repeat(40)}`);
    assert.equal(await a.timeout(10000).emitWithAck('join', 'last'), true);
    const gone = waitForEvent(a, 'disconnect', 5000);
    a.close();
    await gone;
  }, { rssGrowthKb: 64 * 1024 }));
});
