'use strict';
// The chat demo (apps/chat, build/bin/sio-chat): in a real browser (Debian's
// chromium driven by playwright-core), with the official node client for the
// events, the benchmark contract and bad input. See docs/chat.md.
//
// The browser test saves a screenshot to tests/artifacts/chat.png, and with
// SIO_UPDATE_SCREENSHOT=1 also to docs/chat.png.

const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { io } = require('socket.io-client');

const { startServer, waitFor, delay } = require('./lib/harness');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const REPO = path.resolve(__dirname, '..', '..');
const ARTIFACTS = path.join(REPO, 'tests', 'artifacts');

// The server's limits (apps/chat/main.cpp defaults, docs/chat.md).
const MAX_CHARS = 2000;
const FLOOD_RATE = 20;
const FLOOD_BURST = 40;
const MAX_HTTP_BUFFER = 100000;

const WAIT = 10000;

let server;
const clients = new Set();

before(async () => {
  server = await startServer('sio-chat');
});

afterEach(() => {
  closeClients();
  server.assertAlive('after test');
});

after(async () => {
  closeClients();
  if (server)
    await server.stop(); // fails the run if the server crashed or exits non-zero
});

function closeClients() {
  for (const c of clients)
    c.disconnect();
  clients.clear();
}

/// A socket.io-client socket that records what it receives:
/// c.lines (chat message payloads), c.notices, c.users (last "users" payload).
function client(opts = {}) {
  const c = io(server.url, { transports: ['websocket'], reconnection: false, forceNew: true, ...opts });
  clients.add(c);
  c.lines = [];
  c.notices = [];
  c.users = null;
  c.closeReason = null;
  c.on('chat message', (m) => c.lines.push(m));
  c.on('notice', (n) => c.notices.push(n));
  c.on('users', (u) => {
    c.users = u;
  });
  c.on('disconnect', (reason) => {
    c.closeReason = reason;
  });
  return c;
}

async function connected(...cs) {
  await Promise.all(cs.map((c) => waitFor(() => c.connected && c.id, WAIT, 'client connected')));
}

const line = (c, text) => `port:${server.port} user:${c.id} msg:${text}`;

async function received(c, expected, label) {
  await waitFor(() => expected.every((l) => c.lines.includes(l)), WAIT,
    `${label}: ${JSON.stringify(expected)} received (got ${JSON.stringify(c.lines.slice(-5))})`);
}

describe('static files', () => {
  it('serves the page, its assets and the official client bundle next to the endpoint', async () => {
    const page = await server.request({ path: '/' });
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    assert.match(page.body, /<script src="\/socket.io\/socket.io.js"><\/script>/);
    for (const [p, type] of [['/style.css', /^text\/css/], ['/chat.js', /javascript/]]) {
      const r = await server.request({ path: p });
      assert.equal(r.status, 200, p);
      assert.match(r.headers['content-type'], type, p);
    }
    // "/socket.io/socket.io.js" is a longer prefix than the endpoint's "/socket.io/".
    const bundle = await server.request({ path: '/socket.io/socket.io.js' });
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers['content-type'], /javascript/);
    assert.match(bundle.body, /Socket\.IO v4/);
    const handshake = await server.request({ path: '/socket.io/?EIO=4&transport=polling' });
    assert.equal(handshake.status, 200);
    const open = JSON.parse(handshake.body.slice(1));
    assert.equal(open.maxPayload, MAX_HTTP_BUFFER);
    assert.equal((await server.request({ path: '/missing.html' })).status, 404);
  });
});

describe('events', () => {
  it('chat message goes to everyone as "port:<p> user:<id> msg:<text>"', async () => {
    const a = client();
    const b = client();
    await connected(a, b);
    a.emit('chat message', 'hello');
    b.emit('chat message', 'héllo ünïcode ✓');
    const expected = [line(a, 'hello'), line(b, 'héllo ünïcode ✓')];
    await received(a, expected, 'a');
    await received(b, expected, 'b');
  });

  it('users lists who is connected; notice tells of joins and leaves', async () => {
    const a = client();
    await connected(a);
    const welcome = await waitFor(() => a.notices.find((n) => n.kind === 'welcome'), WAIT, 'welcome');
    assert.equal(welcome.id, a.id);
    assert.equal(welcome.maxMessageChars, MAX_CHARS);
    const b = client();
    await connected(b);
    await waitFor(() => a.users && a.users.count === 2, WAIT, 'a sees 2 users');
    assert.deepEqual([...a.users.users].sort(), [a.id, b.id].sort());
    assert.equal(a.users.truncated, false);
    await waitFor(() => a.notices.some((n) => n.kind === 'join' && n.ids.includes(b.id)), WAIT, 'join notice');
    await waitFor(() => b.users && b.users.count === 2, WAIT, 'b sees 2 users');
    // Joins within one 250 ms window share one notice; a lone joiner is not told of itself.
    assert.ok(!b.notices.some((n) => n.kind === 'join' && n.ids.length === 1 && n.ids[0] === b.id),
      'no join notice about oneself');
    const idB = b.id; // socket.io-client forgets it on disconnect
    b.disconnect();
    await waitFor(() => a.notices.some((n) => n.kind === 'leave' && n.ids.includes(idB)), WAIT, 'leave notice');
    await waitFor(() => a.users.count === 1, WAIT, 'a sees 1 user');
    assert.deepEqual(a.users.users, [a.id]);
  });

  it('benchmark contract: echo acks its payload, join + to-room reach the room only', async () => {
    const a = client();
    const b = client();
    await connected(a, b);
    const echoed = await new Promise((resolve) => a.emit('echo', { n: 1, s: 'x' }, 'two', (...args) => resolve(args)));
    assert.deepEqual(echoed, [{ n: 1, s: 'x' }, 'two']);
    const bin = await a.timeout(WAIT).emitWithAck('echo', Buffer.from([1, 2, 3]));
    assert.deepEqual([...bin], [1, 2, 3]);

    assert.deepEqual(await a.timeout(WAIT).emitWithAck('join', 'room-1'), true);
    assert.deepEqual(await b.timeout(WAIT).emitWithAck('to-room', ['room-1', 'to the room']), true);
    b.emit('to-room', 'room-1', 'two-argument form');
    await received(a, ['to the room', 'two-argument form'], 'a in room-1');
    await delay(200);
    assert.ok(!b.lines.includes('to the room'), 'b is not in room-1');
  });
});

describe('a big chat (more than 100 users)', () => {
  // With --roster-rate 300 the roster of 151 users may go out every
  // 151 / 300 s ≈ 0.5 s at most (one packet per client per flush), instead
  // of every 250 ms: its traffic stays within the budget however many come.
  const ROSTER_RATE = 300;
  const USERS = 150;
  let big;
  const mine = new Set();

  before(async () => {
    big = await startServer('sio-chat', ['--roster-rate', String(ROSTER_RATE)]);
  });

  after(async () => {
    for (const c of mine)
      c.disconnect();
    if (big)
      await big.stop();
  });

  function bigClient() {
    const c = io(big.url, { transports: ['websocket'], reconnection: false, forceNew: true });
    mine.add(c);
    c.events = []; // [ms, "users" payload]
    c.notices = [];
    c.on('users', (u) => c.events.push([Date.now(), u]));
    c.on('notice', (n) => c.notices.push(n));
    return c;
  }
  const lastCount = (c) => (c.events.length ? c.events[c.events.length - 1][1].count : 0);
  const lastNames = (c) => [...c.events].reverse().map(([, u]) => u.users).find(Array.isArray);

  it('sends counts and the first 100 names, and no more often than --roster-rate allows', { timeout: 60000 }, async () => {
    const first = bigClient();
    await waitFor(() => first.connected, WAIT, 'first connected');
    const others = [];
    for (let i = 1; i < USERS; ++i)
      others.push(bigClient());
    await waitFor(() => others.every((c) => c.connected), 30000, `${USERS} connected`);
    await waitFor(() => lastCount(first) === USERS, WAIT, `first sees ${USERS} users`);
    const names = lastNames(first);
    assert.equal(names.length, 100, 'the first 100 names');
    assert.equal(names[0], first.id, 'in order of arrival');
    const last = first.events[first.events.length - 1][1];
    assert.equal(last.truncated, true);
    assert.equal(last.online, USERS);

    // A newcomer to a big chat gets the names at once, not only when they change.
    const late = bigClient();
    await waitFor(() => late.events.length > 0, WAIT, 'the newcomer gets "users"');
    assert.deepEqual(late.events[0][1].users, names);
    await waitFor(() => lastCount(first) === USERS + 1, WAIT, 'first sees the newcomer');

    // Churn among the users the server does not list for 3 s: the count moves,
    // the first 100 names do not, and the roster keeps to its budget. (The
    // server's order is the order the CONNECTs arrived, not the order the
    // clients were made: the listed ones are read from the names it sent.)
    const listed = new Set(names);
    const churnable = others.filter((c) => !listed.has(c.id)).slice(0, 20);
    assert.ok(churnable.length >= 20, `${churnable.length} unlisted clients to churn`);
    const churnFrom = first.events.length;
    const noticesFrom = first.notices.length;
    const start = Date.now();
    let round = 0;
    while (Date.now() - start < 3000 || round < 20) { // at least 3 s and 20 reconnects, however slow
      const i = round++ % churnable.length;
      const c = churnable[i];
      c.disconnect();
      mine.delete(c);
      const again = bigClient();
      churnable[i] = again;
      await waitFor(() => again.connected, WAIT, 'reconnected');
      await delay(20);
    }
    const elapsed = Date.now() - start;
    await delay(1000); // the last flush
    const during = first.events.slice(churnFrom);
    const interval = (USERS * 1000) / ROSTER_RATE; // the smallest roster during the churn
    assert.ok(during.length >= 2, `the count kept moving (${during.length} "users")`);
    assert.ok(during.length <= Math.ceil((elapsed + 1000) / interval) + 1,
      `${during.length} "users" in ${elapsed + 1000} ms: at most one per ${interval.toFixed(0)} ms`);
    assert.equal(during.filter(([, u]) => Array.isArray(u.users)).length, 0,
      'the first 100 names did not change, so they were not resent');
    assert.deepEqual(first.notices.slice(noticesFrom).filter((n) => n.kind === 'join' || n.kind === 'leave'), [],
      'a big chat does not announce each join and leave');
    await waitFor(() => lastCount(first) === USERS + 1, WAIT, 'the count settles');
    big.assertAlive('after the big chat');
  });
});

describe('chat rooms', () => {
  /// Joins `room`; resolves with the "room history" lines that follow.
  async function joinRoom(c, room) {
    const history = new Promise((resolve) => c.once('room history', (name, lines) => resolve({ name, lines })));
    const ok = await c.timeout(WAIT).emitWithAck('room join', room);
    assert.equal(ok, true, `joined ${room}`);
    return history;
  }

  it('a joiner gets the room\'s last 50 messages from its room actor, then the live ones', async () => {
    const room = `#r${process.pid}`;
    const a = client();
    const b = client();
    const outsider = client();
    await connected(a, b, outsider);
    const roomLines = (c) => {
      c.roomLines = [];
      c.on('room message', (name, l) => c.roomLines.push([name, l]));
    };
    [a, b, outsider].forEach(roomLines);
    assert.deepEqual((await joinRoom(a, room)).lines, [], 'a new room has no history');
    for (let i = 1; i <= 55; i++) {
      a.emit('room message', room, `m${i}`);
      if (i % 20 === 0)
        await delay(1100); // below the flood limit (20/s, bursts of 40)
    }
    await waitFor(() => a.roomLines.length === 55, WAIT, `55 room messages at a (got ${a.roomLines.length})`);
    const { name, lines } = await joinRoom(b, room);
    assert.equal(name, room);
    assert.deepEqual(lines, Array.from({ length: 50 }, (_, i) => line(a, `m${i + 6}`)), 'the last 50, in order');
    a.emit('room message', room, 'live');
    await waitFor(() => b.roomLines.some(([, l]) => l === line(a, 'live')), WAIT, 'live line at b');
    await delay(200);
    assert.equal(outsider.roomLines.length, 0, 'not in the room: nothing');
    assert.equal(outsider.lines.length, 0, 'room lines are not chat messages');
  });

  it('refuses bad room names and messages to rooms one has not joined', async () => {
    const a = client();
    await connected(a);
    for (const bad of ['lobby', '#', '#UPPER', '#has space', `#${'x'.repeat(25)}`, 42]) {
      const ok = await a.timeout(WAIT).emitWithAck('room join', bad);
      assert.equal(ok, false, `refused ${JSON.stringify(bad)}`);
    }
    a.emit('room message', '#not-joined', 'hello?');
    await waitFor(() => a.notices.some((n) => n.kind === 'error' && /join the room first/.test(n.text)), WAIT,
      'an error notice');
  });
});

describe('bad input', () => {
  it('non-text, too long, flood and oversized packets do not disturb the others', async () => {
    const a = client();
    const b = client();
    const bad = client();
    await connected(a, b, bad);

    // Non-text: ignored, an error notice to the sender only.
    bad.emit('chat message', Buffer.from('binary, not text'));
    bad.emit('chat message', 12345);
    bad.emit('chat message', { text: 'an object' });
    bad.emit('chat message');
    // Too long: rejected (not truncated); exactly the limit is fine.
    bad.emit('chat message', 'L'.repeat(MAX_CHARS + 1));
    bad.emit('chat message', 'é'.repeat(MAX_CHARS)); // 2000 characters, 4000 bytes
    await waitFor(() => bad.notices.filter((n) => n.kind === 'error').length >= 5, WAIT, 'error notices');
    const errors = bad.notices.filter((n) => n.kind === 'error').map((n) => n.text);
    assert.equal(errors.filter((t) => /must be text/.test(t)).length, 4, errors.join(' | '));
    assert.ok(errors.some((t) => t.includes(`${MAX_CHARS + 1} characters`)), errors.join(' | '));
    await received(a, [line(bad, 'é'.repeat(MAX_CHARS))], 'a gets the 2000-character message');

    // Flood: 300 messages at once from one client, while a and b talk.
    const conversation = [];
    const floodStart = Date.now();
    for (let i = 0; i < 300; ++i) {
      bad.emit('chat message', `flood ${i}`);
      if (i % 60 === 0) {
        const [from, text] = i % 120 === 0 ? [a, `a says ${i}`] : [b, `b says ${i}`];
        from.emit('chat message', text);
        conversation.push(line(from, text));
      }
    }
    await received(a, conversation, 'a during the flood');
    await received(b, conversation, 'b during the flood');
    await waitFor(() => bad.notices.some((n) => n.kind === 'warning'), WAIT, 'flood warning');
    await delay(300);
    const floods = a.lines.filter((l) => l.includes(' msg:flood ')).length;
    // 6 of the 40 tokens went to the messages above; 20 more come back each
    // second the flood took to arrive (on a busy machine, a while).
    const refill = Math.ceil((Date.now() - floodStart) / 1000 * FLOOD_RATE);
    assert.ok(floods >= FLOOD_BURST - 6 && floods <= FLOOD_BURST - 6 + refill + 1,
      `${floods} flood messages got through (refill ≤ ${refill})`);
    assert.equal(b.lines.filter((l) => l.includes(' msg:flood ')).length, floods);
    assert.equal(bad.notices.filter((n) => n.kind === 'warning').length, 1, 'one warning per flood');

    // Larger than maxHttpBufferSize: the sender's connection is closed.
    const badId = bad.id; // socket.io-client forgets it on disconnect
    bad.emit('chat message', 'H'.repeat(MAX_HTTP_BUFFER + 1000));
    await waitFor(() => bad.closeReason !== null, WAIT, 'oversized sender disconnected');
    await waitFor(() => a.notices.some((n) => n.kind === 'leave' && n.ids.includes(badId)), WAIT, 'leave notice');
    assert.ok(!a.lines.some((l) => l.includes('HHHH')));

    // The others never saw an error or warning, and still talk.
    for (const c of [a, b])
      assert.deepEqual(c.notices.filter((n) => n.kind === 'error' || n.kind === 'warning'), []);
    a.emit('chat message', 'still here?');
    b.emit('chat message', 'yes');
    const after = [line(a, 'still here?'), line(b, 'yes')];
    await received(a, after, 'a after');
    await received(b, after, 'b after');
    // Order is kept per sender.
    const fromA = a.lines.filter((l) => l.includes(`user:${a.id} `));
    assert.deepEqual(fromA, conversation.filter((l) => l.includes(`user:${a.id} `)).concat([line(a, 'still here?')]));
  });
});

describe('in a real browser (chromium via playwright-core)', () => {
  const skip = fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} missing (scripts/install-deps --test installs it)`;

  it('two pages send through the form and both show both messages', { skip, timeout: 90000 }, async () => {
    const { chromium } = require('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const pageErrors = [];
      const open = async () => {
        const context = await browser.newContext({ viewport: { width: 980, height: 600 }, deviceScaleFactor: 1 });
        const page = await context.newPage();
        page.on('pageerror', (err) => pageErrors.push(err.message));
        await page.goto(`${server.url}/`);
        await page.waitForFunction(() => document.body.dataset.state === 'connected' && document.body.dataset.sid,
          null, { timeout: WAIT });
        return page;
      };
      const a = await open();
      const b = await open();
      const idA = await a.evaluate(() => document.body.dataset.sid);
      const idB = await b.evaluate(() => document.body.dataset.sid);
      for (const page of [a, b])
        await page.waitForFunction(() => document.querySelectorAll('#users li').length === 2, null, { timeout: WAIT });
      assert.equal(await a.textContent('#count'), '2');

      const p = server.port;
      const lineOf = (id, text) => `port:${p} user:${id} msg:${text}`;
      const shown = (page) =>
        page.$$eval('#messages .message .line', (els) => els.map((e) => e.textContent));
      /// Types into the page's form, presses Enter, and waits until both pages show the line.
      const send = async (page, id, text) => {
        await page.fill('#input', text);
        await page.press('#input', 'Enter');
        assert.equal(await page.inputValue('#input'), '', 'the input is cleared after sending');
        for (const q of [a, b]) {
          await q.waitForFunction(
            (l) => [...document.querySelectorAll('#messages .message .line')].some((e) => e.textContent === l),
            lineOf(id, text), { timeout: WAIT });
        }
      };
      await send(a, idA, 'Hello from the first page!');
      await send(b, idB, 'Hi! This one comes from the second page.');
      await send(a, idA, 'Both of us see both lines, in the server\'s format.');

      const expected = [
        lineOf(idA, 'Hello from the first page!'),
        lineOf(idB, 'Hi! This one comes from the second page.'),
        lineOf(idA, 'Both of us see both lines, in the server\'s format.'),
      ];
      assert.deepEqual(await shown(b), expected, 'the second page shows all three, in order');
      assert.deepEqual(await shown(a), expected, 'the first page shows all three, in order');
      const mine = await a.$$eval('#messages .message.mine .line', (els) => els.map((e) => e.textContent));
      assert.deepEqual(mine, [expected[0], expected[2]], 'own messages are highlighted');
      assert.ok((await a.textContent('#messages')).includes(`${idB} joined`), 'join notice shown');
      assert.deepEqual(pageErrors, []);

      fs.mkdirSync(ARTIFACTS, { recursive: true });
      const shot = path.join(ARTIFACTS, 'chat.png');
      await a.screenshot({ path: shot });
      if (process.env.SIO_UPDATE_SCREENSHOT === '1')
        fs.copyFileSync(shot, path.join(REPO, 'docs', 'chat.png'));
    } finally {
      await browser.close();
    }
  });

  it('rooms: join from the page, send to the room, a later joiner sees the history', { skip, timeout: 90000 }, async () => {
    const { chromium } = require('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const pageErrors = [];
      const open = async () => {
        const page = await (await browser.newContext()).newPage();
        page.on('pageerror', (err) => pageErrors.push(err.message));
        await page.goto(`${server.url}/`);
        await page.waitForFunction(() => document.body.dataset.state === 'connected' && document.body.dataset.sid,
          null, { timeout: WAIT });
        return page;
      };
      const room = `#browser-${process.pid}`;
      const join = async (page) => {
        await page.fill('#room-input', room.slice(1)); // the page adds the '#'
        await page.click('#room-join');
        await page.waitForFunction((r) => document.querySelector('#rooms li.current')?.dataset.room === r,
          room, { timeout: WAIT });
      };
      const roomLines = (page, cls) => page.$$eval(`#messages .message${cls} .line`, (els) => els.map((e) => e.textContent));
      const a = await open();
      const idA = await a.evaluate(() => document.body.dataset.sid);
      await join(a);
      for (const text of ['first in the room', 'second in the room']) {
        await a.fill('#input', text);
        await a.press('#input', 'Enter');
      }
      const lineOf = (text) => `port:${server.port} user:${idA} msg:${text}`;
      await a.waitForFunction((n) => document.querySelectorAll('#messages .message .room-tag').length === n, 2,
        { timeout: WAIT });
      const b = await open();
      await join(b);
      await b.waitForFunction(() => document.querySelectorAll('#messages .message.history').length === 2, null,
        { timeout: WAIT });
      assert.deepEqual(await roomLines(b, '.history'), [lineOf('first in the room'), lineOf('second in the room')],
        'the room actor\'s history, in order');
      await a.fill('#input', 'live in the room');
      await a.press('#input', 'Enter');
      await b.waitForFunction((l) => [...document.querySelectorAll('#messages .message:not(.history) .line')]
        .some((e) => e.textContent === l), lineOf('live in the room'), { timeout: WAIT });
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser.close();
    }
  });
});
