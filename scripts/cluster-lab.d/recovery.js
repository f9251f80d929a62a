'use strict';
// The `recovery` scenario: connection state recovery across the cluster
// (docs/recovery.md), with clients that reconnect by themselves.
//
// Unlike the lab's other clients, a RecoveringClient has reconnection ON: when
// it is disconnected it points its Manager at a surviving node
// (`socket.io.uri = <url>`, round robin over the nodes that are up and not its
// old one) and the Manager reconnects there, sending its pid and last offset.
// Each disconnect is recorded as a "move": from, to, why, how long until the
// socket was back, whether it came back recovered (socket.recovered, same id)
// or fresh.
//
// A message sent while a client is away (disconnected, coming back) is still
// expected for it: recovery must deliver it after the reconnect.
//
// Phases, under steady chat traffic from the clients of every node:
//   move     node after node, the clients whose pid that node issued drop
//            their transport (engine.close(), as tests/integration/
//            recovery.test.js does): the old node is alive and hands the state
//            over; every client moves once;
//   move-again  the same for the clients that recovered once already: their
//            pid names a node other than the one they leave;
//   rolling  SIGTERM one node after another; its clients move; the node is
//            restarted on the same address and rejoins before the next one;
//   crash    kill -9 the node with the most clients; its clients move; it is
//            restarted. Only messages sent by clients of other nodes must all
//            arrive; the dead node's own are reported apart.
// After each phase, every client that recovered in it gets a message sent to
// its own room (joined at the start): the rooms came back with the socket.

const { LabClient, Traffic } = require('./clients');
const { now, delay, waitUntil, withTimeout, percentile, round, fmtMs } = require('./util');

const ACK_TIMEOUT = 8000;
const BACK_TIMEOUT = 10000; // a moved client must be connected again by then
const STOP_GRACE = 8000; // SIGTERM, then SIGKILL
const RECONNECT = { reconnectionDelay: 200, reconnectionDelayMax: 2000, randomizationFactor: 0.5 };

/// Where moving clients go, and what is going on: the phase, the node going
/// down in the current step, the nodes that are down or going down.
class MoveContext {
  constructor(lab) {
    this.lab = lab;
    this.phase = 'warmup';
    this.step = null; // index of the node being stopped/killed/cut now
    this.down = new Set(); // node indexes no client may move to
    this.rr = 0;
    this.moves = [];
  }

  nodeName(index) {
    const n = this.lab.nodes[index];
    return n ? n.name : null;
  }

  isUp(index) {
    const n = this.lab.nodes[index];
    return Boolean(n && n.alive && !this.down.has(index));
  }

  /// The next node (round robin) that is up and is not `from`.
  target(from) {
    const candidates = this.lab.alive().filter((n) => n.index !== from && !this.down.has(n.index));
    if (candidates.length === 0)
      return null;
    return candidates[this.rr++ % candidates.length];
  }
}

class RecoveringClient extends LabClient {
  constructor(pool, id, opts, ctx) {
    super(pool, id, opts);
    this.ctx = ctx;
    this.room = `lab-rec-${id}`;
    this.socketId = null;
    this.away = null; // the move in progress
    this.cutting = false; // the lab drops its transport on purpose
    this.pidNode = null; // the node that issued its current pid (a recovered socket keeps its pid)
  }

  /// Whether a message sent now must reach it: connected, or away and coming
  /// back (within sio-chat's 120 s window, so always during the scenario).
  get expectsNow() {
    return this.everConnected && !this.closing;
  }

  connect(timeoutMs) {
    const sock = this.pool.io(this.url, { transports: this.transports, forceNew: true, reconnection: true, timeout: timeoutMs, ...RECONNECT });
    this.sock = sock;
    // The offset (last argument of a replayable event) is not part of the text.
    sock.on('chat message', (msg) => this.onChat(msg));
    sock.on('connect', () => this.onConnect());
    sock.on('disconnect', (reason) => this.onDisconnect(reason));
    sock.io.on('reconnect_attempt', () => this.onAttempt());
    return withTimeout(new Promise((resolve, reject) => {
      sock.once('connect', () => resolve(this));
      sock.once('connect_error', (err) => reject(new Error(`connect to ${this.url}: ${err.message}`)));
    }), timeoutMs, `client ${this.id} connect to ${this.url}`).catch((err) => {
      this.close();
      throw err;
    });
  }

  onConnect() {
    const t = now();
    this.connected = true;
    this.cutting = false;
    const first = !this.everConnected;
    this.everConnected = true;
    const before = this.socketId;
    this.socketId = this.sock.id;
    if (first || this.sock.recovered !== true)
      this.pidNode = this.node;
    if (first) {
      this.connectedAt = t;
      return;
    }
    const mv = this.away;
    this.away = null;
    if (!mv)
      return;
    mv.backMs = t - mv.t;
    mv.to = this.ctx.nodeName(this.node);
    mv.recovered = this.sock.recovered === true;
    mv.sameId = this.sock.id === before;
    if (!mv.recovered) {
      // As an application would: a fresh socket joins its room again (the
      // probe after the phase only looks at recovered clients).
      this.sock.timeout(ACK_TIMEOUT).emitWithAck('join', this.room).catch(() => {});
    }
  }

  onDisconnect(reason) {
    this.connected = false;
    this.disconnects.push({ t: now(), reason });
    if (this.closing)
      return;
    const { ctx } = this;
    const from = this.node;
    const mv = {
      client: this.id, hop: this.disconnects.length, phase: ctx.phase, from: this.ctx.nodeName(from),
      pidFrom: this.ctx.nodeName(this.pidNode), reason, t: now(), attempts: 0,
      expected: this.cutting || ctx.down.has(from), to: null, backMs: null, recovered: null, sameId: null,
    };
    this.away = mv;
    ctx.moves.push(mv);
    this.retarget(from);
    // After a DISCONNECT packet from the server ("io server disconnect") the
    // Manager does not reconnect by itself: the application calls connect().
    if (reason === 'io server disconnect')
      this.sock.connect();
  }

  onAttempt() {
    if (this.away)
      this.away.attempts += 1;
    if (!this.ctx.isUp(this.node))
      this.retarget(this.node);
  }

  retarget(from) {
    const n = this.ctx.target(from);
    if (!n)
      return; // nowhere to go: the Manager keeps trying the old address
    this.node = n.index;
    this.url = n.url;
    this.sock.io.uri = n.url;
  }
}

function check(res, cond, message) {
  if (!cond)
    res.failures.push(message);
  return cond;
}

/// Connects `n` recovering clients directly, spread evenly over the live nodes.
async function addClients(lab, ctx, n) {
  const pool = lab.pool;
  const live = lab.alive();
  const made = [];
  const parallel = 8;
  for (let i = 0; i < n; i += parallel) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + parallel); j++) {
      const node = live[j % live.length];
      const c = new RecoveringClient(pool, pool.nextId++, { url: node.url, via: 'direct', node: node.index, transports: pool.transports }, ctx);
      pool.clients.push(c);
      made.push(c);
      batch.push(c.connect(10000));
    }
    const results = await Promise.allSettled(batch);
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length)
      throw new Error(`${failed.length} of ${batch.length} recovering clients did not connect: ${failed[0].reason.message}`);
  }
  return made;
}

/// Sends one message to each client's own room (from another client) and
/// records it in the ledger under `phase`: whether the room came back with a
/// recovered socket.
async function probeRooms(lab, targets, phase, all) {
  const sent = [];
  for (const c of targets) {
    const sender = all.find((x) => x !== c && x.connected);
    if (!sender || !c.connected)
      continue;
    const m = lab.ledger.create({ kind: 'room', phase, sender: sender.id, expected: [c.id] });
    m.senderNode = sender.node;
    try {
      await sender.sock.timeout(ACK_TIMEOUT).emitWithAck('to-room', [c.room, `lab:${m.id}:${m.sentAt.toFixed(3)}`]);
    } catch {
      // counted as missing
    }
    sent.push(m);
  }
  return sent;
}

/// Waits until every client of `batch` is connected again (bounded).
async function waitBack(batch) {
  return waitUntil(() => batch.every((c) => c.connected || c.closing), BACK_TIMEOUT, 20);
}

/// `msgs` sent while the client of move `mv` was away (disconnect to
/// connect): how many were due to it, and how many it got (after its return).
function awayCounts(mv, msgs) {
  const end = mv.backMs === null ? Infinity : mv.t + mv.backMs;
  let due = 0;
  let delivered = 0;
  for (const m of msgs) {
    if (m.sentAt < mv.t || m.sentAt > end || !m.expected.has(mv.client))
      continue;
    due += 1;
    if (m.recv.has(mv.client))
      delivered += 1;
  }
  return { due, delivered };
}

function movesFigures(moves, msgs) {
  const back = moves.filter((m) => m.backMs !== null);
  const rec = back.filter((m) => m.recovered);
  const reasons = {};
  for (const m of moves)
    reasons[m.reason] = (reasons[m.reason] || 0) + 1;
  const ms = (list, p) => round(percentile(list.map((m) => m.backMs), p), 0);
  const away = { due: 0, delivered: 0 };
  for (const m of moves) {
    const a = awayCounts(m, msgs);
    away.due += a.due;
    away.delivered += a.delivered;
  }
  return {
    moves: moves.length,
    recovered: rec.length,
    recoveredSameId: rec.filter((m) => m.sameId).length,
    fresh: back.length - rec.length,
    notBack: moves.length - back.length,
    unexpected: moves.filter((m) => !m.expected).length,
    reasons,
    recoveredMs: { p50: ms(rec, 50), max: ms(rec, 100) },
    freshMs: { p50: ms(back.filter((m) => !m.recovered), 50), max: ms(back.filter((m) => !m.recovered), 100) },
    // Chat messages sent while a moved client was away: due to it / delivered
    // to it (by the replay after the reconnect).
    sentWhileAway: away,
    attemptsMax: Math.max(0, ...moves.map((m) => m.attempts)),
    // Recovered / fresh by how many times the client had moved before (a
    // client that already moved once carries a pid issued by another node).
    byHop: Object.fromEntries([...new Set(back.map((m) => m.hop))].sort().map((h) => [`move#${h}`,
      { recovered: rec.filter((m) => m.hop === h).length, fresh: back.filter((m) => m.hop === h && !m.recovered).length }])),
    freshSample: back.filter((m) => !m.recovered).slice(0, 6).map(({ client, hop, from, to, reason, backMs }) => ({ client, hop, from, to, reason, backMs: round(backMs, 0) })),
    to: Object.fromEntries([...new Set(back.map((m) => m.to))].map((n) => [n, back.filter((m) => m.to === n).length])),
  };
}

/// Delivery of `msgs`, with the missing pairs split by where the sender was:
/// on the node of the step under way when it was sent (the node being cut,
/// stopped or killed), or elsewhere; and how many messages reached no client
/// at all (lost on the way to, or in, the sender's node).
function deliveryFigures(lab, msgs) {
  const { missingSample, ...s } = lab.ledger.summarize(msgs);
  let fromDown = 0;
  let lostEverywhere = 0;
  for (const m of msgs) {
    let miss = 0;
    for (const c of m.expected)
      if (!m.recv.has(c))
        miss += 1;
    if (miss && m.step !== null && m.step !== undefined && m.senderNode === m.step)
      fromDown += miss;
    if (m.expected.size && m.recv.size === 0)
      lostEverywhere += 1;
  }
  const out = { ...s, missingFromNodeOfStep: fromDown, missingFromOthers: s.missing - fromDown, messagesReachingNoClient: lostEverywhere };
  if (missingSample.length)
    out.missingSample = missingSample;
  return out;
}

async function recovery(lab, res) {
  const { cfg } = lab;
  const live = lab.alive();
  if (live.length < 2) {
    res.skipped = 'needs at least 2 nodes';
    return;
  }
  const steps = cfg.short ? Math.min(2, live.length) : live.length;
  // The pool's clients (reconnection off) would only drop: closed here; the
  // pool is topped up again before the next scenario.
  for (const c of lab.pool.connected())
    c.close();
  const ctx = new MoveContext(lab);
  const clients = await addClients(lab, ctx, cfg.clients);
  res.figures.clients = clients.length;
  res.figures.reconnect = { ...RECONNECT, target: 'round robin over the live nodes other than the one left' };
  try {
    const joins = await Promise.all(clients.map((c) => c.sock.timeout(ACK_TIMEOUT).emitWithAck('join', c.room).catch(() => false)));
    check(res, joins.every((ok) => ok === true), `${joins.filter((ok) => ok !== true).length} room joins not acked true`);

    const t = new Traffic({
      ledger: lab.ledger, rate: cfg.rate,
      senders: () => clients,
      plan: () => ({ phase: ctx.phase, expected: clients, step: ctx.step }),
      expect: (c) => c.expectsNow,
    }).start();
    lab.traffic.add(t);
    // Every client must hold an offset before it can recover: one lab message each.
    const warm = await waitUntil(() => clients.every((c) => c.firstLabAt !== null), 5000, 20);
    check(res, warm.ok, 'not every client received a message within 5 s of the start');
    await delay(1000);

    const phases = [];
    const probes = {};
    const stepsDone = {};
    const settle = () => delay(cfg.window * 1000);
    const startPhase = (name) => {
      ctx.phase = name;
      stepsDone[name] = [];
      return ctx.moves.length;
    };
    const endPhase = async (name, m0) => {
      ctx.step = null;
      const recovered = ctx.moves.slice(m0).filter((m) => m.recovered).map((m) => clients.find((c) => c.id === m.client));
      probes[name] = await probeRooms(lab, [...new Set(recovered)], `${name}:rooms`, clients);
      phases.push({ name, m0, m1: ctx.moves.length });
      ctx.phase = `after-${name}`;
    };

    // 1. move: the transport drops, the old node stays up and hands the
    // state over. Node after node, the clients whose pid that node issued
    // (each client moves once). 1b. move-again: then the clients whose pid
    // another node issued (they recovered once already) move once more.
    const cutPhase = async (name, pick) => {
      const m0 = startPhase(name);
      for (const node of lab.alive()) {
        ctx.step = node.index;
        const batch = clients.filter((c) => c.connected && c.node === node.index && pick(c, node));
        for (const c of batch) {
          c.cutting = true;
          c.sock.io.engine.close();
        }
        const back = await waitBack(batch);
        stepsDone[name].push({ node: node.name, clients: batch.length, allBack: back.ok, backMs: round(back.elapsed, 0) });
        ctx.step = null;
        await delay(500);
      }
      await endPhase(name, m0);
      await settle();
    };
    await cutPhase('move', (c, node) => c.pidNode === node.index && c.disconnects.length === 0);
    await cutPhase('move-again', (c, node) => c.pidNode !== node.index);

    // 2. rolling restart: SIGTERM, clients move, restart on the same address.
    let m0 = startPhase('rolling');
    for (const node of lab.alive().slice(0, steps)) {
      const step = { node: node.name };
      stepsDone.rolling.push(step);
      ctx.step = node.index;
      ctx.down.add(node.index);
      const batch = clients.filter((c) => c.connected && c.node === node.index);
      step.clients = batch.length;
      const t0 = now();
      await node.stop(STOP_GRACE);
      step.exitMs = round(now() - t0, 0);
      step.exit = node.exit ? (node.exit.signal || node.exit.code) : null;
      check(res, !(node.exit && node.exit.signal === 'SIGKILL'), `${node.name} did not exit within ${STOP_GRACE / 1000} s of SIGTERM (SIGKILLed)`);
      const back = await waitBack(batch);
      step.allBack = back.ok;
      step.backMs = round(back.elapsed + step.exitMs, 0);
      ctx.step = null;
      await delay(500);
      const t1 = now();
      try {
        await lab.restartNode(node);
        const mesh = await lab.waitMesh(20000);
        step.rejoinMs = mesh.ok ? round(now() - t1, 0) : null;
        check(res, mesh.ok, `restarted ${node.name} not back in the mesh within 20 s: ${lab.describeMembership()}`);
      } catch (err) {
        check(res, false, `restart of ${node.name} failed: ${err.message.split('\n')[0]}`);
      }
      ctx.down.delete(node.index);
      await settle();
    }
    await endPhase('rolling', m0);

    // 3. crash: kill -9 the node with the most clients (ties: the last).
    m0 = startPhase('crash');
    const perNode = (n) => clients.filter((c) => c.connected && c.node === n.index).length;
    const victim = lab.alive().slice().sort((a, b) => perNode(b) - perNode(a) || b.index - a.index)[0];
    {
      const step = { node: victim.name };
      stepsDone.crash.push(step);
      ctx.step = victim.index;
      ctx.down.add(victim.index);
      await delay(1000); // the victim's clients keep talking up to the kill
      const batch = clients.filter((c) => c.connected && c.node === victim.index);
      step.clients = batch.length;
      const t0 = now();
      await victim.kill9();
      const back = await waitBack(batch);
      step.allBack = back.ok;
      step.backMs = round(now() - t0, 0);
      await delay(500);
      ctx.step = null;
      const t1 = now();
      try {
        await lab.restartNode(victim);
        const mesh = await lab.waitMesh(20000);
        step.rejoinMs = mesh.ok ? round(now() - t1, 0) : null;
        check(res, mesh.ok, `restarted ${victim.name} not back in the mesh within 20 s: ${lab.describeMembership()}`);
      } catch (err) {
        check(res, false, `restart of ${victim.name} failed: ${err.message.split('\n')[0]}`);
      }
      ctx.down.delete(victim.index);
      await settle();
    }
    await endPhase('crash', m0);

    lab.traffic.delete(t);
    const msgs = t.stop();
    const all = msgs.concat(...Object.values(probes));
    await lab.ledger.drain(all, 8000);
    await delay(300); // duplicates would be here by now

    // Figures and verdicts per phase.
    const summary = [];
    const warmup = deliveryFigures(lab, msgs.filter((m) => m.phase === 'warmup'));
    res.figures.warmup = warmup;
    check(res, warmup.missing === 0 && warmup.duplicates === 0, `before the first move: ${warmup.missing} missing, ${warmup.duplicates} duplicates`);
    for (const p of phases) {
      const moves = ctx.moves.slice(p.m0, p.m1);
      const mv = movesFigures(moves, msgs);
      // Messages of the phase and of the quiet time after it.
      const pm = msgs.filter((m) => m.phase === p.name || m.phase === `after-${p.name}`);
      const rooms = lab.ledger.summarize(probes[p.name]);
      const f = { steps: stepsDone[p.name], ...mv, roomsKept: { probed: rooms.expected, delivered: rooms.delivered } };
      const label = p.name === 'rolling' ? 'rolling restart' : p.name === 'move-again' ? 'move again' : p.name;
      check(res, mv.moves > 0, `${label}: no client moved`);
      check(res, mv.notBack === 0, `${label}: ${mv.notBack} of ${mv.moves} moved clients not connected again within ${BACK_TIMEOUT / 1000} s`);
      check(res, mv.recovered === mv.moves && mv.recoveredSameId === mv.recovered,
        `${label}: ${mv.moves - mv.recovered} of ${mv.moves} moved clients came back fresh, not recovered`);
      check(res, mv.unexpected === 0, `${label}: ${mv.unexpected} clients disconnected that were not moved on purpose`);
      check(res, rooms.missing === 0, `${label}: ${rooms.missing} of ${rooms.expected} recovered clients lost their room`);
      let d;
      if (p.name === 'crash') {
        const dead = f.steps[0] ? lab.nodes.find((n) => n.name === f.steps[0].node).index : null;
        const fromDead = (m) => m.step === dead && m.senderNode === dead;
        d = deliveryFigures(lab, pm.filter((m) => !fromDead(m)));
        f.survivorOriginDelivery = d;
        f.deadOriginDelivery = deliveryFigures(lab, pm.filter(fromDead));
        check(res, d.missing === 0, `crash: ${d.missing} of ${d.expected} deliveries of messages sent by clients of surviving nodes missing`);
      } else {
        d = deliveryFigures(lab, pm);
        f.delivery = d;
        // A message a client sent to its node as that node was cut or stopped,
        // which reached nobody, never got into the server: chat messages have
        // no ack, so nobody resends it (Socket.IO's delivery guarantee for
        // client->server is an ack with retries, as in Node). Reported apart;
        // every message the cluster accepted must reach every client.
        const neverAccepted = pm.filter((m) => m.step !== null && m.step !== undefined
          && m.senderNode === m.step && m.expected.size && m.recv.size === 0);
        const notAcceptedPairs = neverAccepted.reduce((n, m) => n + m.expected.size, 0);
        f.neverAcceptedFromNodeOfStep = neverAccepted.length;
        check(res, d.missing - notAcceptedPairs === 0,
          `${label}: ${d.missing - notAcceptedPairs} of ${d.expected} deliveries missing`);
      }
      check(res, d.duplicates === 0, `${label}: ${d.duplicates} duplicate deliveries`);
      // Where the missing pairs fall relative to the missing client's move.
      f.missingVsMove = [];
      for (const m of pm) {
        for (const cid of m.expected) {
          if (m.recv.has(cid) || f.missingVsMove.length >= 8)
            continue;
          const own = moves.filter((x) => x.client === cid);
          const near = own.sort((a, b) => Math.abs(a.t - m.sentAt) - Math.abs(b.t - m.sentAt))[0];
          f.missingVsMove.push({ msg: m.id, client: cid, sender: m.sender, senderNode: lab.nodes[m.senderNode].name,
            sentMsAfterDisconnect: near ? round(m.sentAt - near.t, 1) : null, backMs: near ? round(near.backMs, 0) : null,
            from: near ? near.from : null, to: near ? near.to : null, recovered: near ? near.recovered : null });
        }
      }
      res.figures[p.name] = f;
      const what = p.name === 'move' ? 'move (transport dropped, old node up, pid issued by it)'
        : p.name === 'move-again' ? 'move again (same, pid issued by another node)'
        : p.name === 'rolling' ? `rolling restart of ${f.steps.map((s) => s.node).join(',')} (SIGTERM)`
          : `crash (kill -9 ${f.steps.map((s) => s.node).join(',')})`;
      let text = `${what}: ${mv.moves} moves, recovered ${mv.recovered}, fresh ${mv.fresh}`
        + `${mv.notBack ? `, not back ${mv.notBack}` : ''}`
        + `${mv.recovered ? `, disconnect->recovered p50 ${fmtMs(mv.recoveredMs.p50)} max ${fmtMs(mv.recoveredMs.max)}` : ''}`
        + `${mv.fresh ? `, disconnect->fresh p50 ${fmtMs(mv.freshMs.p50)} max ${fmtMs(mv.freshMs.max)}` : ''}`
        + `, sent while away ${mv.sentWhileAway.delivered}/${mv.sentWhileAway.due} delivered, rooms kept ${rooms.delivered}/${rooms.expected}; `;
      if (p.name === 'crash') {
        const x = f.deadOriginDelivery;
        text += `from survivors' clients ${d.delivered}/${d.expected} delivered, missing ${d.missing}, dup ${d.duplicates}; `
          + `from the dead node's clients ${x.delivered}/${x.expected}, missing ${x.missing}, dup ${x.duplicates}`;
      } else {
        text += `${d.delivered}/${d.expected} delivered, missing ${d.missing}, dup ${d.duplicates}`;
        if (f.neverAcceptedFromNodeOfStep)
          text += ` (of which ${f.neverAcceptedFromNodeOfStep} message(s) sent to the node as it stopped never got into it: no ack, no resend)`;
      }
      summary.push(text);
    }
    res.summary = summary.join('; ');
  } finally {
    for (const c of clients)
      c.close();
  }
}

module.exports = { recovery, RecoveringClient };
