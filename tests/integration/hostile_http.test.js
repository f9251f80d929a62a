'use strict';
// Hostile HTTP against sio-test-server and sio-chat: garbage request lines,
// huge headers and bodies, broken chunked encoding, pipelining, HTTP/1.0,
// missing Host, invalid methods, path tricks. For each attack: the process
// stays up, its RSS stays bounded, every bad connection is answered or closed
// within a deadline (none is left hanging), and a bystander socket.io-client
// connected before the attack keeps its echo round-trips (lib/hostile.js).
// Limits (listen_options, engine_options): headers 16 KiB (431), body
// maxHttpBufferSize 1e6 (413), idle/header timeout 60 s.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const { hostileTarget, rawExchange, parseResponses, responses } = require('./lib/hostile');

const CLOSE_MS = 5000; // a bad request must be answered or closed this fast
const EIO = '/socket.io/?EIO=4&transport=polling';

/// The bad request gets a 4xx/5xx answer or none, and the server closes the
/// connection within CLOSE_MS (or answers with the statuses in `allowed`).
function assertRefused(r, what, { allowed = [], mustClose = true } = {}) {
  const res = parseResponses(r.data);
  for (const x of res)
    assert.ok(x.status >= 400 || allowed.includes(x.status),
      `${what}: answered ${x.status} ${JSON.stringify(x.body.slice(0, 100))}`);
  if (mustClose)
    assert.notEqual(r.end, 'timeout',
      `${what}: connection still open after ${CLOSE_MS} ms (got ${JSON.stringify(r.data.toString('latin1').slice(0, 200))})`);
  return res;
}

// The --workers primary reads each new connection's first request head with
// a parser of its own (net/request_head.cpp) before it hands the connection
// to a worker: it gets the same attacks.
for (const [binary, args, name] of [['sio-test-server', [], 'sio-test-server'], ['sio-chat', [], 'sio-chat'],
  ['sio-test-server', ['--workers', '2'], 'a --workers 2 primary']]) {
  describe(`hostile HTTP against ${name}`, () => {
    const target = hostileTarget(binary, args);
    const { attack } = target;
    const raw = (bytes, opts = {}) => rawExchange(target.server.port, bytes, { timeoutMs: CLOSE_MS, ...opts });

    it('garbage request lines are refused and closed', () => attack('garbage request lines', async () => {
      const garbage = [
        'GARBAGE\r\n\r\n',
        '\r\n\r\n\r\n\r\n',
        'GET\r\n\r\n',
        'GET /\r\n\r\n',
        'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
        'GET / HTTP/1.1 trailing\r\nHost: x\r\n\r\n',
        'GET /\x00\x01 HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET / HTTP/1.1\nHost: x\n\n\n',
        'GET / HTTP/1.1\r\nHost x\r\n\r\n',
        'GET / HTTP/1.1\r\n: empty-name\r\n\r\n',
        'GET / HTTP/1.1\r\n folded: header\r\n\r\n',
        Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]), // a TLS ClientHello
        Buffer.from('\x00'.repeat(4096), 'latin1'),
        Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 131 + 7) & 0xff)),
      ];
      // The primary reads a head up to CRLF CRLF without looking at it first:
      // bytes without one (bare LFs, a ClientHello, binary junk) are an
      // incomplete head to it, held until its 10 s head deadline (which the
      // slowloris suite checks), where a single process refuses them at once.
      const cases = args.includes('--workers') ? garbage.filter((g) => String(g).includes('\r\n\r\n')) : garbage;
      const results = await Promise.all(cases.map((g) => raw(g, { halfClose: false })));
      results.forEach((r, i) => assertRefused(r, `garbage #${i} ${JSON.stringify(String(cases[i]).slice(0, 40))}`));
    }));

    it('a request line longer than the header limit gets 431 or a close', () => attack('huge request line', async () => {
      const r = await raw(`GET /${'a'.repeat(64 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const res = assertRefused(r, 'huge request line');
      if (res.length)
        assert.ok([400, 414, 431].includes(res[0].status), `status ${res[0].status}`);
    }));

    it('huge headers get 431 (or a close), whether one header or many', () => attack('huge headers', async () => {
      const one = `GET ${EIO} HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\n\r\n`;
      const many = `GET ${EIO} HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`;
      // 1 MB of headers with no end: the server must stop reading at its limit.
      const endless = [`GET ${EIO} HTTP/1.1\r\nHost: x\r\n`, ...Array.from({ length: 64 }, () => `X-Y: ${'z'.repeat(16 * 1024)}\r\n`)];
      for (const [name, bytes] of [['one', one], ['many', many], ['endless', endless]]) {
        const r = await raw(bytes);
        const res = assertRefused(r, `huge headers (${name})`);
        if (res.length)
          assert.equal(res[0].status, 431, `huge headers (${name})`);
      }
    }));

    it('bodies over maxHttpBufferSize get 413, lying lengths are refused', () => attack('huge bodies', async () => {
      const head = (len, path = EIO) => `POST ${path}&sid=nope HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${len}\r\n\r\n`;
      // Announced 2 GB, sent 2 MB.
      const r1 = await raw([head(2e9), Buffer.alloc(2 * 1024 * 1024, 0x61)]);
      const res1 = assertRefused(r1, '2 GB announced');
      assert.equal(res1.length && res1[0].status, 413, '2 GB announced: 413');
      // Announced and sent 2 MB, to a path that is not Engine.IO's.
      const r2 = await raw([`POST /nothing-here HTTP/1.1\r\nHost: x\r\nContent-Length: ${2e6}\r\n\r\n`, Buffer.alloc(2e6, 0x62)]);
      const res2 = assertRefused(r2, '2 MB to another path');
      assert.equal(res2.length && res2[0].status, 413, '2 MB to another path: 413');
      // Content-Length values that do not fit or are not numbers.
      for (const len of ['99999999999999999999999', '-1', '1e6', '0x10', '1, 2', ' ']) {
        const r = await raw(head(len) + 'abc');
        assertRefused(r, `Content-Length '${len}'`, { mustClose: false });
        assert.ok(r.end !== 'timeout' || parseResponses(r.data).length > 0,
          `Content-Length '${len}': neither answered nor closed`);
      }
    }));

    it('invalid chunked encoding is refused and closed', () => attack('chunked', async () => {
      const te = `POST ${EIO}&sid=nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`;
      const cases = {
        'bad size': te + 'ZZZ\r\nabc\r\n0\r\n\r\n',
        'overflowing size': te + 'ffffffffffffffffffffffff\r\nabc\r\n',
        'size larger than data, then garbage': te + '10\r\nabc\r\nGET / HTTP/1.1\r\n\r\n',
        'missing CRLF after data': te + '3\r\nabcXYZ\r\n0\r\n\r\n',
        'negative size': te + '-5\r\nabc\r\n0\r\n\r\n',
        'both Content-Length and chunked': `POST ${EIO}&sid=nope HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n` +
          'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
      };
      for (const [name, bytes] of Object.entries(cases)) {
        const r = await raw(bytes);
        const res = assertRefused(r, `chunked: ${name}`, { allowed: [] });
        assert.ok(!res.some((x) => /smuggled/.test(x.body)), `chunked: ${name}: a smuggled request was served`);
      }
      // Many small chunks adding up to more than the body limit: 413 or a close.
      const chunks = [te, ...Array.from({ length: 40 }, () => `10000\r\n${'c'.repeat(0x10000)}\r\n`), '0\r\n\r\n'];
      const big = await raw(chunks);
      const res = assertRefused(big, 'chunked body over the limit');
      if (res.length)
        assert.equal(res[0].status, 413);
    }));

    it('a Transfer-Encoding that does not end in chunked gets 400 and a close (RFC 9112 6.1)', () => attack('unknown transfer coding', async () => {
      // The body length cannot be known: the server must refuse and close,
      // or what follows (here "GET /smuggled") is read as the next request.
      const r = await raw(`POST ${EIO}&sid=nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, bogus\r\n\r\n` +
        'xyzGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 2000 });
      const res = parseResponses(r.data);
      assert.equal(res.length, 1, `one answer (got ${res.map((x) => `${x.status} ${x.body}`).join(' | ')}; end ${r.end})`);
      assert.equal(res[0].status, 400);
      assert.doesNotMatch(res[0].body, /Session ID unknown/, 'refused as bad HTTP, not handed to Engine.IO');
      assert.notEqual(r.end, 'timeout', 'the connection is closed');
    }));

    it('2,000 pipelined requests are all answered, in order', () => attack('pipelining', async () => {
      const n = 2000;
      let bytes = '';
      for (let i = 0; i < n; ++i)
        bytes += `GET ${EIO}&sid=pipelined-${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
      const r = await rawExchange(target.server.port, bytes, { timeoutMs: 20000, until: responses(n) });
      const res = parseResponses(r.data);
      assert.equal(res.length, n, `answers to ${n} pipelined requests (end: ${r.end})`);
      assert.ok(res.every((x) => x.status === 400 && /"code":1/.test(x.body)), 'each: 400 Session ID unknown');
      // And pipelined handshakes: each opens a session and gets its open packet.
      let hs = '';
      for (let i = 0; i < 50; ++i)
        hs += `GET ${EIO} HTTP/1.1\r\nHost: x\r\n\r\n`;
      const r2 = await rawExchange(target.server.port, hs, { timeoutMs: 10000, until: responses(50) });
      const res2 = parseResponses(r2.data);
      assert.equal(res2.length, 50, `answers to 50 pipelined handshakes (end: ${r2.end})`);
      const sids = new Set(res2.map((x) => JSON.parse(x.body.slice(1)).sid));
      assert.equal(sids.size, 50, 'fifty sessions');
    }));

    it('HTTP/1.0 is answered as HTTP/1.0 and closed', () => attack('HTTP/1.0', async () => {
      const r = await raw(`GET ${EIO} HTTP/1.0\r\n\r\n`);
      const res = parseResponses(r.data);
      assert.equal(res.length, 1, `one answer (end: ${r.end}, got ${JSON.stringify(r.data.toString().slice(0, 200))})`);
      assert.equal(res[0].status, 200);
      assert.equal(res[0].version, '1.0');
      assert.match(res[0].body, /^0\{"sid":/);
      assert.notEqual(r.end, 'timeout', 'HTTP/1.0 without keep-alive: the server closes');
    }));

    it('HTTP/1.1 without Host (or with two) gets 400, as RFC 9112 3.2 requires', () => attack('absent Host', async () => {
      const none = await raw(`GET ${EIO} HTTP/1.1\r\n\r\n`, { until: responses(1) });
      const r1 = parseResponses(none.data);
      assert.equal(r1.length, 1, `absent Host: answered (end ${none.end})`);
      assert.equal(r1[0].status, 400, `absent Host: status ${r1[0].status} ${r1[0].body.slice(0, 60)}`);
      const two = await raw(`GET ${EIO} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`, { until: responses(1) });
      const r2 = parseResponses(two.data);
      assert.equal(r2.length, 1, `two Hosts: answered (end ${two.end})`);
      assert.equal(r2[0].status, 400, `two Hosts: status ${r2[0].status} ${r2[0].body.slice(0, 60)}`);
    }));

    it('invalid and unusual methods are refused', () => attack('methods', async () => {
      const methods = ['FOO', 'DELETE', 'PUT', 'PATCH', 'TRACE', 'CONNECT', 'PRI', 'G(ET', 'GET\tX', 'get',
        'A'.repeat(10000)];
      for (const m of methods) {
        for (const target of [EIO, `${EIO}&sid=nope`, '/']) {
          const r = await raw(`${m} ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`, { until: responses(1) });
          const res = parseResponses(r.data);
          assert.ok(res.length > 0 || r.end !== 'timeout', `${m.slice(0, 20)} ${target}: neither answered nor closed`);
          for (const x of res)
            assert.ok(x.status >= 400, `${m.slice(0, 20)} ${target}: answered ${x.status}`);
        }
      }
      const star = await raw('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', { until: responses(1) });
      assert.ok(parseResponses(star.data).length > 0 || star.end !== 'timeout', 'OPTIONS *: neither answered nor closed');
      const absolute = await raw('GET http://evil.example/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', { until: responses(1) });
      assert.ok(!/root:/.test(absolute.data.toString()), 'absolute-form target served a local file');
    }));

    it('path tricks serve no file outside the app', () => attack('paths', async () => {
      for (const p of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd',
        '/socket.io/../../../../etc/passwd', '//etc/passwd', '/index.html%00.js', `/${'%'.repeat(1000)}`,
        '/?' + '&a=%zz'.repeat(2000), `${EIO}&sid=%ff%fe%00`, `/socket.io/?${'x'.repeat(15000)}`]) {
        const r = await raw(`GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`, { until: responses(1) });
        const res = parseResponses(r.data);
        assert.ok(res.length > 0 || r.end !== 'timeout', `${p.slice(0, 40)}: neither answered nor closed`);
        assert.ok(!/root:.*:0:0:/.test(r.data.toString()), `${p.slice(0, 40)}: served /etc/passwd`);
      }
    }));
  });
}
