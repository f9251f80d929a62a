'use strict';
// "Trustworthy under attack and failure": requests an attacker (or a buggy
// client) can send, against the real servers. Each block starts its own server.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Socket } = require('engine.io-client');

const { startServer, waitFor, waitForEvent, delay } = require('./lib/harness');

const EIO_PATH = '/engine.io/';
const OPEN_TIMEOUT = 10000;

/// An engine.io-client socket to sio-conformance's echo endpoint that records
/// what it receives.
async function openEngineClient(server, opts) {
  const socket = new Socket(server.url, { path: EIO_PATH, ...opts });
  socket.received = [];
  socket.on('message', (m) => socket.received.push(m));
  socket.on('error', () => {});
  await waitForEvent(socket, 'open', OPEN_TIMEOUT, { rejectOn: ['close'] });
  return socket;
}

async function echo(socket, text) {
  const before = socket.received.length;
  socket.send(text);
  await waitFor(() => socket.received.slice(before).includes(text), 5000, { label: `echo of ${text}` });
}

describe('Transport ownership (Node: TRANSPORT_MISMATCH)', () => {
  let server;
  before(async () => {
    server = await startServer('sio-conformance');
  });
  after(async () => {
    if (server)
      await server.stop();
  });

  const BAD_REQUEST = { code: 3, message: 'Bad request' };

  async function expectMismatch(sid, method) {
    const res = await server.request({
      method,
      path: `${EIO_PATH}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`,
      body: method === 'POST' ? '4injected' : undefined,
    });
    assert.equal(res.status, 400, `${method}: ${res.status} ${res.body}`);
    assert.deepEqual(JSON.parse(res.body), BAD_REQUEST);
  }

  it('a session that upgraded to WebSocket refuses polling GET and POST', { timeout: 30000 }, async () => {
    const socket = await openEngineClient(server, { transports: ['polling', 'websocket'] });
    try {
      if (socket.transport.name !== 'websocket')
        await waitForEvent(socket, 'upgrade', OPEN_TIMEOUT, { rejectOn: ['close', 'upgradeError'] });
      assert.equal(socket.transport.name, 'websocket');
      await expectMismatch(socket.id, 'GET');
      await expectMismatch(socket.id, 'POST');
      // The POST's packet did not reach the session, and the session is unharmed.
      await echo(socket, 'still here');
      assert.ok(!socket.received.includes('injected'), 'the refused POST was not delivered');
    } finally {
      socket.close();
    }
  });

  it('a session opened on WebSocket refuses polling GET and POST', { timeout: 30000 }, async () => {
    const socket = await openEngineClient(server, { transports: ['websocket'], upgrade: false });
    try {
      await expectMismatch(socket.id, 'GET');
      await expectMismatch(socket.id, 'POST');
      await echo(socket, 'still here');
      await delay(50);
      assert.ok(!socket.received.includes('injected'), 'the refused POST was not delivered');
    } finally {
      socket.close();
    }
  });

  it('a polling session refuses a websocket request without upgrade', { timeout: 30000 }, async () => {
    const socket = await openEngineClient(server, { transports: ['polling'], upgrade: false });
    try {
      const res = await server.request({
        path: `${EIO_PATH}?EIO=4&transport=websocket&sid=${encodeURIComponent(socket.id)}`,
      });
      assert.equal(res.status, 400, res.body);
      assert.deepEqual(JSON.parse(res.body), BAD_REQUEST);
      await echo(socket, 'polling still works');
    } finally {
      socket.close();
    }
  });
});
