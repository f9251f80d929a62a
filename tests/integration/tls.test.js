'use strict';
// HTTPS and WSS served by the listener itself (--tls-cert / --tls-key): a
// self-signed certificate made at test time (lib/tls-certs.js), which the
// clients verify (`ca`), socket.io-client over every transport, and what the
// TLS port does with clients that do not speak TLS: plain HTTP, garbage and
// silence close only their own connection, with one log line each.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const https = require('node:https');
const net = require('node:net');
const tls = require('node:tls');

const { startServer, waitFor, waitForEvent, delay } = require('./lib/harness');
const { TRANSPORTS, ClientPool, ack, ackAll } = require('./lib/sio-helpers');
const { rawExchange } = require('./lib/hostile');
const { serverCert } = require('./lib/tls-certs');

const HANDSHAKE_TIMEOUT_S = 1;

/// The harness's transports, with the test CA so that the client verifies us.
function tlsTransport(transport, ca) {
  return { ...transport, options: { ...transport.options, ca } };
}

/// Sends the header of a 512-byte handshake record, then one byte of it every
/// 100 ms: a ClientHello that never ends. Resolves with { end, ms } once the
/// server closes the connection (or after `timeoutMs`).
function trickleHello(port, timeoutMs) {
  return new Promise((resolve) => {
    const started = Date.now();
    const sock = net.connect({ host: '127.0.0.1', port });
    let timer = null;
    const finish = (end) => {
      clearInterval(timer);
      clearTimeout(deadline);
      sock.destroy();
      resolve({ end, ms: Date.now() - started });
    };
    const deadline = setTimeout(() => finish('timeout'), timeoutMs);
    sock.on('connect', () => {
      sock.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
      timer = setInterval(() => sock.write(Buffer.from([0x01])), 100);
    });
    sock.on('error', (err) => finish(err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : `error: ${err.message}`));
    sock.on('close', () => finish('fin'));
  });
}

/// Lines of the server's stderr that report a failed TLS handshake.
function handshakeFailures(server) {
  return server.stderr().split('\n').filter((l) => /TLS handshake with .* failed/.test(l));
}

describe('TLS listener (--tls-cert, --tls-key)', () => {
  let server;
  let ca;

  before(async () => {
    const certs = serverCert();
    ca = fs.readFileSync(certs.ca);
    server = await startServer('sio-test-server', [
      '--tls-cert', certs.cert, '--tls-key', certs.key,
      '--tls-handshake-timeout', String(HANDSHAKE_TIMEOUT_S),
    ], { env: { SIO_DEBUG: '0' } }); // the log lines counted are production's
  });
  after(async () => {
    if (server)
      await server.stop();
  });

  test('announces an https:// URL', () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  for (const transport of TRANSPORTS) {
    test(`socket.io-client over ${transport.name}: connect, event with ack, handshake.secure`, async () => {
      const pool = new ClientPool(server.url, tlsTransport(transport, ca));
      try {
        const a = await pool.connect('/', { label: 'A', auth: { name: 'tls' } });
        assert.deepEqual(await ack(a, 'echo', 'over tls', { n: 1 }, Buffer.from([0, 1, 255])),
                         'over tls');
        const me = await ack(a, 'whoami');
        assert.equal(me.id, a.id);
        assert.equal(me.secure, true, 'handshake.secure');
        assert.deepEqual(me.data, { name: 'tls' });
        assert.equal(a.io.engine.transport.name, transport.name === 'polling' ? 'polling' : 'websocket');
        // a burst both ways: many frames queued while a TLS write is in flight
        const n = 200;
        const answers = await Promise.all(Array.from({ length: n }, (_, i) => ack(a, 'echo', i, 'x'.repeat(i * 50))));
        assert.deepEqual(answers, Array.from({ length: n }, (_, i) => i));
        // larger than a TLS record (16 KiB) both ways
        const big = Buffer.alloc(300 * 1024, 7);
        const [back] = await ackAll(a, 'echo', big);
        assert.ok(Buffer.from(back).equals(big), 'a 300 KiB binary echoed intact');
      } finally {
        await pool.closeAll();
      }
    });
  }

  for (const transport of [TRANSPORTS[0], TRANSPORTS[1]]) {
    test(`server-side close over ${transport.name}: 'io server disconnect', the connection ends, others go on`, async () => {
      const pool = new ClientPool(server.url, tlsTransport(transport, ca));
      try {
        const [a, b] = await pool.connectMany(2, '/', { label: 'close' });
        const gone = waitForEvent(a, 'disconnect', 5000);
        a.emit('disconnect-me', true); // and close the transport
        assert.equal((await gone)[0], 'io server disconnect');
        await waitFor(() => a.io.engine.readyState === 'closed', 5000, 'the Engine.IO connection closed');
        assert.equal(await ack(b, 'echo', 'b'), 'b');
      } finally {
        await pool.closeAll();
      }
    });
  }

  test('a client that does not trust the certificate gets connect_error', async () => {
    // Node checks the certificate after the TLS handshake and hangs up: to
    // the server that is a client gone, not a failed handshake.
    const pool = new ClientPool(server.url, TRANSPORTS[0]); // no `ca`
    try {
      const { err } = await pool.connectError('/');
      assert.ok(err, 'connect_error');
    } finally {
      await pool.closeAll();
    }
    server.assertAlive();
  });

  test('plain HTTP, garbage and silence on the TLS port close only their own connection', async () => {
    const pool = new ClientPool(server.url, tlsTransport(TRANSPORTS[0], ca));
    try {
      const by = await pool.connect('/', { label: 'bystander' });
      const id = by.id;
      const before = handshakeFailures(server).length;

      const [plain, garbage, silent, trickle] = await Promise.all([
        rawExchange(server.port, 'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n'),
        rawExchange(server.port, Buffer.from('\x16\x03\x01\x00\x05GARBAGE\xff\xff\xff\xff'.repeat(50), 'latin1')),
        rawExchange(server.port, [], { timeoutMs: 10000 }),
        trickleHello(server.port, 10000), // the deadline holds for the whole handshake
      ]);
      for (const [name, r] of Object.entries({ plain, garbage, silent, trickle }))
        assert.ok(['fin', 'reset'].includes(r.end), `${name}: the server closed it (${r.end} after ${r.ms} ms)`);
      // no HTTP answer in clear text to a clear-text request
      assert.ok(!plain.data.toString('latin1').startsWith('HTTP/'), 'no plaintext HTTP response');
      // silence and a trickle are closed by the handshake deadline, not before
      for (const [name, r] of Object.entries({ silent, trickle }))
        assert.ok(r.ms >= HANDSHAKE_TIMEOUT_S * 1000 - 100 && r.ms < HANDSHAKE_TIMEOUT_S * 1000 + 3000,
                  `${name} peer closed after ${r.ms} ms`);

      // each bad connection wrote one line
      await waitFor(() => handshakeFailures(server).length >= before + 4, 5000, 'four handshake failure lines');
      await delay(200);
      assert.equal(handshakeFailures(server).length, before + 4, handshakeFailures(server).join('\n'));

      // the bystander never noticed
      assert.equal(by.connected, true);
      assert.equal(by.id, id);
      assert.equal(await ack(by, 'echo', 'still here'), 'still here');
      server.assertAlive();
    } finally {
      await pool.closeAll();
    }
  });

  test('HTTPS keep-alive: two requests on one TLS connection', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    try {
      const get = (path) => new Promise((resolve, reject) => {
        const req = https.get({ host: '127.0.0.1', port: server.port, path, agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c) => { body += c; });
          res.on('end', () => resolve({ status: res.statusCode, body, socket: req.socket }));
        });
        req.setTimeout(5000, () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
      const first = await get('/socket.io/?EIO=4&transport=polling');
      assert.equal(first.status, 200);
      assert.match(first.body, /^0\{"sid":/);
      const second = await get('/socket.io/?EIO=4&transport=polling');
      assert.equal(second.status, 200);
      assert.equal(first.socket, second.socket, 'the same TLS connection');
    } finally {
      agent.destroy();
    }
  });

  test('TLS 1.0 and 1.1 are refused; TLS 1.2 and 1.3 are accepted', async () => {
    const tryVersion = (version) => new Promise((resolve) => {
      // SECLEVEL=0: so that this client offers TLS 1.0 and 1.1 at all
      const s = tls.connect({ host: '127.0.0.1', port: server.port, ca, minVersion: version, maxVersion: version,
                              servername: 'localhost', ciphers: 'DEFAULT:@SECLEVEL=0' });
      s.setTimeout(5000, () => { s.destroy(); resolve('timeout'); });
      s.on('secureConnect', () => { const v = s.getProtocol(); s.end(); resolve(v); });
      s.on('error', (err) => resolve(`refused: ${err.code || err.message}`));
    });
    assert.equal(await tryVersion('TLSv1.2'), 'TLSv1.2');
    assert.equal(await tryVersion('TLSv1.3'), 'TLSv1.3');
    // the server's alert, not a client that would not offer them
    assert.equal(await tryVersion('TLSv1.1'), 'refused: ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
    assert.equal(await tryVersion('TLSv1'), 'refused: ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  });
});

describe('TLS listener refuses to start without a usable certificate', () => {
  test('a missing certificate file', async () => {
    await assert.rejects(startServer('sio-test-server', ['--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem']),
                         /TLS certificate file '\/nonexistent\/cert\.pem': No such file or directory/);
  });
  test('a key that does not belong to the certificate', async () => {
    const other = serverCert('other');
    await assert.rejects(startServer('sio-test-server', ['--tls-cert', serverCert().cert, '--tls-key', other.key]),
                         /TLS private key file '[^']*other\.key': .*key values mismatch/);
  });
  test('--tls-cert without --tls-key', async () => {
    await assert.rejects(startServer('sio-test-server', ['--tls-cert', serverCert().cert]),
                         /--tls-cert and --tls-key go together/);
  });
});
