'use strict';
// Hostile WebSocket frames (RFC 6455) against sio-test-server, over a raw TCP
// socket after a valid upgrade to /socket.io/?EIO=4&transport=websocket:
// unmasked client frames, reserved bits, bad opcodes, fragmented or oversized
// control frames, a 2^63 length, invalid UTF-8, frames trickled byte by byte,
// close frames with invalid codes. For each: the server answers with the close
// code RFC 6455 asks for and closes the TCP connection within a deadline; the
// process stays up, RSS bounded, the log short, and a bystander
// socket.io-client keeps its echo (lib/hostile.js underAttack()).

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const { delay } = require('./lib/harness');
const { hostileTarget, RawWebSocket, rawSocketIo, rawEcho, wsFrame, wsClose } = require('./lib/hostile');

const CLOSE_MS = 3000;

describe('hostile WebSocket frames', () => {
  const target = hostileTarget('sio-test-server', []);
  const { attack } = target;

  /// Sends `bytes` on a fresh upgraded connection (namespace "/" joined) and
  /// resolves with the server's close code once it closed the TCP connection.
  async function closeCodeFor(bytes, what) {
    const ws = await rawSocketIo(target.server.port);
    try {
      ws.send(bytes);
      const { code } = await ws.closed(CLOSE_MS, `${what}: the server closes the connection`);
      return code;
    } finally {
      ws.destroy();
    }
  }

  it('protocol violations get close 1002 and the connection is closed', () => attack('protocol violations', async () => {
    const cases = {
      'unmasked text frame': wsFrame({ payload: '42["echo","x"]', mask: false }),
      'unmasked close frame': wsFrame({ opcode: 8, payload: Buffer.from([3, 232]), mask: false }),
      'RSV1 set (no extension negotiated)': wsFrame({ rsv: 4, payload: '42["echo"]' }),
      'RSV2 set': wsFrame({ rsv: 2, payload: '42["echo"]' }),
      'RSV3 set': wsFrame({ rsv: 1, payload: '42["echo"]' }),
      'RSV bits on a ping': wsFrame({ rsv: 7, opcode: 9 }),
      'opcode 3 (reserved)': wsFrame({ opcode: 3, payload: 'x' }),
      'opcode 7 (reserved)': wsFrame({ opcode: 7 }),
      'opcode 11 (reserved control)': wsFrame({ opcode: 11 }),
      'opcode 15': wsFrame({ opcode: 15, payload: 'x' }),
      'fragmented ping': wsFrame({ opcode: 9, fin: false, payload: 'x' }),
      'fragmented close': wsFrame({ opcode: 8, fin: false, payload: Buffer.from([3, 232]) }),
      'ping of 126 bytes': wsFrame({ opcode: 9, payload: Buffer.alloc(126) }),
      'continuation without a start': wsFrame({ opcode: 0, payload: 'x' }),
      'text inside a fragmented text': Buffer.concat([wsFrame({ fin: false, payload: '42' }), wsFrame({ payload: 'x' })]),
      'close with a 1-byte payload': wsFrame({ opcode: 8, payload: Buffer.from([3]) }),
    };
    const wrong = [];
    for (const [name, bytes] of Object.entries(cases)) {
      const code = await closeCodeFor(bytes, name);
      if (code !== 1002)
        wrong.push(`${name}: ${code}`);
    }
    assert.deepEqual(wrong, [], 'violations not answered with 1002');
  }));

  it('lengths of 2^63 (and other lies) are refused from the header, not buffered', () => attack('oversize lengths', async () => {
    for (const [name, length] of [['2^63', 2n ** 63n], ['2^64-1', 2n ** 64n - 1n], ['2^32', 2n ** 32n], ['1e6+1', 1000001n]]) {
      const code = await closeCodeFor(wsFrame({ payload: 'x', length }), `length ${name}`);
      // 1009 (too big) or 1002 (the most significant bit must be 0, RFC 6455 5.2)
      assert.ok([1002, 1009].includes(code), `length ${name}: close code ${code}`);
    }
    // Announced 900 kB, sent 1 byte: the server waits (it is within the limit)
    // and frees the connection when the client goes.
    const ws = await rawSocketIo(target.server.port);
    ws.send(wsFrame({ payload: 'x', length: 900000 }));
    await target.by.echo();
    ws.destroy();
    // Fragments adding up to more than maxHttpBufferSize: 1009.
    const frag = [wsFrame({ fin: false, payload: Buffer.alloc(600000, 0x61) }), wsFrame({ opcode: 0, payload: Buffer.alloc(600000, 0x61) })];
    assert.equal(await closeCodeFor(Buffer.concat(frag), 'fragments over the limit'), 1009);
    // 100,000 empty continuation fragments: fine, then a valid end.
    const ws2 = await rawSocketIo(target.server.port);
    ws2.send(Buffer.concat([wsFrame({ fin: false, payload: '42["echo",' }),
      ...Array.from({ length: 100000 }, () => wsFrame({ opcode: 0, fin: false })), wsFrame({ opcode: 0, payload: '"frag"]' })]));
    assert.equal(await rawEcho(ws2, 3, 5000), true, 'echo after 100k empty fragments');
    ws2.destroy();
  }, { rssGrowthKb: 128 * 1024 }));

  it('invalid UTF-8 in a text message gets close 1007', () => attack('invalid UTF-8', async () => {
    const cases = {
      'lone continuation byte': Buffer.from([0x34, 0x80]),
      'overlong encoding': Buffer.from([0x34, 0xc0, 0xaf]),
      'surrogate half': Buffer.from([0x34, 0xed, 0xa0, 0x80]),
      'beyond U+10FFFF': Buffer.from([0x34, 0xf4, 0x90, 0x80, 0x80]),
      'truncated sequence': Buffer.from([0x34, 0xe2, 0x82]),
      '0xFF': Buffer.from([0x34, 0xff]),
    };
    for (const [name, payload] of Object.entries(cases)) {
      const code = await closeCodeFor(wsFrame({ payload }), name);
      assert.equal(code, 1007, `${name}: close code ${code}`);
    }
    // Split across fragments, invalid only when joined.
    const split = Buffer.concat([wsFrame({ fin: false, payload: Buffer.from([0x34, 0xe2]) }),
      wsFrame({ opcode: 0, payload: Buffer.from([0x28, 0xa1]) })]);
    assert.equal(await closeCodeFor(split, 'invalid across fragments'), 1007);
  }));

  it('a message trickled one byte at a time is understood', () => attack('trickle', async () => {
    const ws = await rawSocketIo(target.server.port);
    const bytes = wsFrame({ payload: '4242["echo","trickled"]' });
    for (const b of bytes) {
      ws.send(Buffer.from([b]));
      await delay(2);
    }
    await ws.waitText((t) => t === '4342["trickled"]', 5000, 'the ack of a trickled event');
    // A close frame trickled, too.
    const close = wsClose(1000);
    for (const b of close) {
      ws.send(Buffer.from([b]));
      await delay(2);
    }
    const { code } = await ws.closed(CLOSE_MS);
    assert.equal(code, 1000);
    ws.destroy();
  }));

  it('close frames with invalid codes get 1002; valid ones are echoed', () => attack('close codes', async () => {
    // RFC 6455 7.4: 0-999 unused, 1004-1006 and 1015 reserved (never on the
    // wire), 1016-2999 for future RFCs, 5000+ undefined.
    const wrong = [];
    for (const c of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
      const code = await closeCodeFor(wsClose(c), `close ${c}`);
      if (code !== 1002)
        wrong.push(`close ${c} answered ${code}, not 1002`);
    }
    for (const c of [1000, 1001, 3000, 4999]) {
      const code = await closeCodeFor(wsClose(c, 'bye'), `close ${c}`);
      if (code !== c)
        wrong.push(`close ${c} answered ${code}, not echoed`);
    }
    assert.deepEqual(wrong, [], 'close codes');
    // No code at all: answered 1000.
    assert.equal(await closeCodeFor(wsClose(null), 'empty close'), 1000);
    // A reason that is not UTF-8: 1007 (RFC 6455 8.1) or 1002.
    const badReason = await closeCodeFor(wsClose(0, '', Buffer.from([3, 232, 0xff, 0xfe])), 'close reason not UTF-8');
    assert.ok([1002, 1007].includes(badReason), `close reason not UTF-8: answered ${badReason}`);
    // Frames after the close frame are ignored; the connection still goes.
    const after = Buffer.concat([wsClose(1000), wsFrame({ payload: '42["echo"]' }), wsFrame({ opcode: 3 })]);
    assert.equal(await closeCodeFor(after, 'frames after close'), 1000);
  }));

  it('500 connections sending garbage frames at once', () => attack('garbage burst', async () => {
    const conns = [];
    for (let batch = 0; batch < 10; ++batch)
      conns.push(...await Promise.all(Array.from({ length: 50 }, () => RawWebSocket.open(target.server.port))));
    conns.forEach((ws, i) => ws.send(Buffer.from(Array.from({ length: 4096 }, (_, j) => (i * 31 + j * 17) & 0xff))));
    await Promise.all(conns.map((ws) => ws.closed(10000, 'garbage connection closed')));
  }, { rssGrowthKb: 128 * 1024 }));
});
