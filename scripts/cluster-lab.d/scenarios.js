'use strict';
// The scenarios. Each gets the lab (healthy: every node alive and meshed, the
// client pool full) and a result { figures, failures, summary } to
// fill; a scenario fails when it pushed a failure (or threw), and is skipped
// when it set res.skipped (a reason).

const { Traffic } = require('./clients');
const { recovery } = require('./recovery');
const { now, delay, waitUntil, withTimeout, percentile, round, fmtMs } = require('./util');

const ACK_TIMEOUT = 8000;

function check(res, cond, message) {
  if (!cond)
    res.failures.push(message);
  return cond;
}

function startTraffic(lab, opts) {
  const t = new Traffic({ ledger: lab.ledger, rate: lab.cfg.rate, ...opts }).start();
  lab.traffic.add(t);
  return t;
}

function stopTraffic(lab, t) {
  lab.traffic.delete(t);
  return t.stop();
}

function perNode(lab) {
  const out = {};
  for (const n of lab.nodes.filter(Boolean))
    out[n.name] = lab.pool.onNode(n.index).length;
  return out;
}

/// Makes sure every live node has at least one client (nginx may have put
/// none on some node): connects one directly where missing.
async function clientOnEveryNode(lab) {
  for (const n of lab.alive())
    if (lab.pool.onNode(n.index).length === 0)
      await lab.pool.add(1, { url: n.url, via: 'direct', node: n.index });
}

/// How many connected clients use each transport right now (after the
/// polling -> websocket upgrade most should be on websocket).
function transportsInUse(lab) {
  const out = {};
  for (const c of lab.pool.connected()) {
    let name = 'unknown';
    try {
      name = c.sock.io.engine.transport.name;
    } catch {
      // no engine
    }
    out[name] = (out[name] || 0) + 1;
  }
  return out;
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function deliveryFigures(s) {
  const { missingSample, ...rest } = s;
  return missingSample.length ? { ...rest, missingSample } : rest;
}

function lat(s) {
  return `p50 ${fmtMs(s.latencyMs.p50)} p99 ${fmtMs(s.latencyMs.p99)}`;
}

/// Asks `online` through `client`; resolves { value, ms } or { error }.
async function askOnline(client) {
  const t0 = now();
  try {
    const value = await client.sock.timeout(ACK_TIMEOUT).emitWithAck('online');
    return { value, ms: now() - t0 };
  } catch (err) {
    return { error: err.message, ms: now() - t0 };
  }
}

// -- broadcast -----------------------------------------------------------------------

async function broadcast(lab, res) {
  const { cfg } = lab;
  await clientOnEveryNode(lab);
  const disc0 = lab.pool.unexpectedDisconnects.length;
  res.figures.clients = lab.pool.connected().length;
  res.figures.clientsPerNode = perNode(lab);
  res.figures.transports = lab.transports.join(',');
  res.figures.transportsInUse = transportsInUse(lab);
  const t = startTraffic(lab, {
    senders: () => lab.pool.connected(),
    plan: () => ({ phase: 'broadcast', expected: lab.pool.connected() }),
  });
  await delay(cfg.duration * 1000);
  const msgs = stopTraffic(lab, t);
  const sendSeconds = (t.t1 - t.t0) / 1000;
  const drained = await lab.ledger.drain(msgs, 8000);
  await delay(300); // duplicates would be here by now
  const s = lab.ledger.summarize(msgs);
  res.figures.sendRate = round(msgs.length / sendSeconds, 1);
  res.figures.deliveriesPerSecond = round(s.delivered / sendSeconds, 0);
  res.figures.delivery = deliveryFigures(s);
  res.figures.drainMs = round(drained.elapsed, 0);
  const disc = lab.pool.unexpectedDisconnects.length - disc0;
  res.figures.unexpectedDisconnects = disc;
  check(res, msgs.length > 0, 'no message was sent');
  check(res, s.missing === 0, `${s.missing} of ${s.expected} deliveries missing (e.g. ${JSON.stringify(s.missingSample[0])})`);
  check(res, s.duplicates === 0, `${s.duplicates} duplicate deliveries`);
  check(res, s.extra === 0, `${s.extra} deliveries to clients that were not connected when it was sent`);
  check(res, disc === 0, `${disc} clients disconnected unexpectedly`);
  res.summary = `${s.messages} msgs (${res.figures.sendRate}/s) to ${res.figures.clients} clients on ${plural(Object.keys(res.figures.clientsPerNode).length, 'node')}: `
    + `${s.delivered}/${s.expected} delivered, dup ${s.duplicates}, ${lat(s)}`;
}

// -- rooms ---------------------------------------------------------------------------

async function rooms(lab, res) {
  const { cfg } = lab;
  await clientOnEveryNode(lab);
  const R = cfg.rooms;
  const names = Array.from({ length: R }, (_, i) => `lab-room-${i}`);
  // The k-th client of node n joins room (k + n) % R, every 4th one none, so
  // that every room has members on several nodes and some clients are outside.
  const joins = [];
  for (const n of lab.alive()) {
    lab.pool.onNode(n.index).forEach((c, k) => {
      if (k % 4 === 3)
        return;
      joins.push([c, names[(k + n.index) % R]]);
    });
  }
  const acks = await Promise.all(joins.map(async ([c, room]) => {
    try {
      const ok = await c.sock.timeout(ACK_TIMEOUT).emitWithAck('join', room);
      if (ok === true)
        c.rooms.add(room);
      return ok === true;
    } catch {
      return false;
    }
  }));
  const failedJoins = acks.filter((a) => !a).length;
  check(res, failedJoins === 0, `${failedJoins} of ${joins.length} join acks missing or false`);
  const members = (room) => lab.pool.connected().filter((c) => c.rooms.has(room));
  res.figures.rooms = names.map((room) => {
    const m = members(room);
    return { room, members: m.length, nodes: new Set(m.map((c) => c.node)).size };
  });
  res.figures.outsiders = lab.pool.connected().filter((c) => c.rooms.size === 0).length;
  if (lab.alive().length > 1)
    check(res, res.figures.rooms.some((r) => r.nodes > 1), 'no room spans two nodes');
  const disc0 = lab.pool.unexpectedDisconnects.length;
  let rr = 0;
  const t = startTraffic(lab, {
    kind: 'room',
    senders: () => lab.pool.connected(),
    plan: () => {
      const room = names[rr++ % R];
      return { phase: 'rooms', room, expected: members(room) };
    },
  });
  await delay(cfg.duration * 1000);
  const msgs = stopTraffic(lab, t);
  await lab.ledger.drain(msgs, 8000);
  await delay(300);
  const s = lab.ledger.summarize(msgs);
  res.figures.delivery = deliveryFigures(s);
  const disc = lab.pool.unexpectedDisconnects.length - disc0;
  check(res, msgs.length > 0, 'no message was sent');
  check(res, s.missing === 0, `${s.missing} of ${s.expected} room deliveries missing`);
  check(res, s.duplicates === 0, `${s.duplicates} duplicate deliveries`);
  check(res, s.extra === 0, `${s.extra} deliveries to clients outside the room (leaks)`);
  check(res, disc === 0, `${disc} clients disconnected unexpectedly`);
  res.summary = `${plural(R, 'room')} spanning up to ${plural(Math.max(...res.figures.rooms.map((r) => r.nodes)), 'node')}, ${s.messages} msgs: `
    + `${s.delivered}/${s.expected} delivered, dup ${s.duplicates}, leaks ${s.extra}, ${lat(s)}`;
}

// -- fetch ---------------------------------------------------------------------------

async function fetch(lab, res) {
  await clientOnEveryNode(lab);
  const expected = lab.pool.connected().length;
  const rounds = 3;
  const answers = [];
  for (let r = 0; r < rounds; r++) {
    const asks = [];
    for (const n of lab.alive())
      for (const c of lab.pool.onNode(n.index).slice(0, 2))
        asks.push(askOnline(c).then((a) => answers.push({ node: n.name, ...a })));
    await Promise.all(asks);
  }
  const wrong = answers.filter((a) => a.value !== expected);
  const ms = answers.filter((a) => a.error === undefined).map((a) => a.ms);
  res.figures.expected = expected;
  res.figures.queries = answers.length;
  res.figures.correct = answers.length - wrong.length;
  res.figures.wrong = wrong.slice(0, 10);
  res.figures.latencyMs = { p50: round(percentile(ms, 50), 2), max: round(percentile(ms, 100), 2) };
  check(res, answers.length > 0, 'no query made');
  check(res, wrong.length === 0, `${wrong.length} of ${answers.length} "online" answers differ from ${expected} (e.g. ${JSON.stringify(wrong[0])})`);
  res.summary = `${res.figures.correct}/${answers.length} "online" answers from ${plural(lab.alive().length, 'node')} = ${expected}, `
    + `p50 ${fmtMs(res.figures.latencyMs.p50)} max ${fmtMs(res.figures.latencyMs.max)}`;
}

// -- crash ---------------------------------------------------------------------------

async function crash(lab, res) {
  const { cfg } = lab;
  const live = lab.alive();
  if (live.length < 2) {
    res.skipped = 'needs at least 2 nodes';
    return;
  }
  await clientOnEveryNode(lab);
  const victim = live[live.length - 1];
  const survivors = live.filter((n) => n !== victim);
  res.figures.victim = victim.name;
  const survivorClients = () => lab.pool.connected().filter((c) => c.node !== victim.index);
  for (const c of lab.pool.onNode(victim.index))
    c.expectedGone = true;
  const victimClientCount = lab.pool.onNode(victim.index).length;
  res.figures.transportsInUse = transportsInUse(lab);
  const disc0 = lab.pool.unexpectedDisconnects.length;
  let phase = 'crash';
  const t = startTraffic(lab, {
    senders: () => (phase === 'after' ? lab.pool.connected() : survivorClients()),
    plan: () => ({ phase, expected: phase === 'after' ? lab.pool.connected() : survivorClients() }),
  });
  await delay(1000);

  // kill -9, then: when do the survivors' logs say it left, when does "online" agree.
  const tKill = now();
  await victim.kill9();
  const onlineAnswers = [];
  let onlineOkAt = null;
  const onlinePoll = (async () => {
    while (onlineOkAt === null && now() - tKill < 15000) {
      const asker = survivorClients()[0];
      if (asker) {
        askOnline(asker).then((a) => {
          const want = survivorClients().length;
          onlineAnswers.push({ at: round(now() - tKill, 0), value: a.value, error: a.error, want });
          if (a.value === want && onlineOkAt === null)
            onlineOkAt = now();
        });
      }
      await delay(250);
    }
  })();
  const det = await waitUntil(() => survivors.every((s) => !s.members.has(victim.clusterAddress)), 15000);
  const detectBy = {};
  for (const s of survivors) {
    const at = s.leftAt(victim.clusterAddress, tKill);
    detectBy[s.name] = at === null ? null : round(at - tKill, 0);
  }
  res.figures.detectMs = det.ok ? round(Math.max(...Object.values(detectBy)), 0) : null;
  res.figures.detectMsBySurvivor = detectBy;
  check(res, det.ok, `survivors did not log that ${victim.name} left within 15 s: ${lab.describeMembership()}`);
  await withTimeout(onlinePoll, 20000, 'online poll').catch(() => {});
  await waitUntil(() => onlineOkAt !== null, 9000, 50); // answers still in flight
  res.figures.onlineReflectsMs = onlineOkAt === null ? null : round(onlineOkAt - tKill, 0);
  res.figures.onlineAnswers = onlineAnswers.slice(0, 12);
  check(res, onlineOkAt !== null, `"online" on a survivor never answered the survivors' client count (answers: ${JSON.stringify(onlineAnswers.slice(0, 4))})`);
  await delay(1000); // survivors keep talking without it

  // Restart on the same address; its new clients must get broadcasts again.
  phase = 'restart';
  const tRestart = now();
  let restarted = true;
  try {
    await lab.restartNode(victim);
  } catch (err) {
    restarted = false;
    check(res, false, `restart of ${victim.name} on ${victim.clusterAddress} failed: ${err.message.split('\n')[0]}`);
  }
  let fresh = [];
  if (restarted) {
    res.figures.restartListenMs = round(now() - tRestart, 0);
    let meshAt = null;
    const meshWait = lab.waitMesh(20000).then((r) => {
      if (r.ok)
        meshAt = now();
      return r;
    });
    fresh = await lab.pool.add(Math.max(1, victimClientCount), { url: victim.url, via: 'direct', node: victim.index });
    const mesh = await meshWait;
    res.figures.rejoinMs = mesh.ok ? round(meshAt - tRestart, 0) : null;
    check(res, mesh.ok, `restarted ${victim.name} not back in the mesh within 20 s: ${lab.describeMembership()}`);
    const first = await waitUntil(() => fresh.some((c) => c.firstLabAt !== null), 10000, 20);
    const firstAt = Math.min(...fresh.map((c) => c.firstLabAt ?? Infinity));
    res.figures.restartToBroadcastMs = first.ok ? round(firstAt - tRestart, 0) : null;
    check(res, first.ok, `clients of the restarted ${victim.name} got no broadcast within 10 s of joining`);
    if (mesh.ok) {
      await delay(500);
      phase = 'after';
      await delay(cfg.window * 1000);
    }
  }
  const msgs = stopTraffic(lab, t);
  await lab.ledger.drain(msgs, 8000);
  await delay(300);
  const during = lab.ledger.summarize(msgs.filter((m) => m.phase !== 'after'));
  const after = lab.ledger.summarize(msgs.filter((m) => m.phase === 'after'));
  res.figures.survivorDelivery = deliveryFigures(during);
  res.figures.afterRestartDelivery = deliveryFigures(after);
  const disc = lab.pool.unexpectedDisconnects.length - disc0;
  res.figures.unexpectedDisconnects = disc;
  check(res, during.missing === 0, `${during.missing} of ${during.expected} messages between survivors lost`);
  check(res, during.duplicates === 0, `${during.duplicates} duplicates between survivors`);
  if (restarted && phase === 'after') {
    check(res, after.messages > 0, 'no message sent after the restart');
    check(res, after.missing === 0, `${after.missing} of ${after.expected} deliveries missing after the restart`);
    check(res, after.duplicates === 0 && after.extra === 0, `after the restart: ${after.duplicates} duplicates, ${after.extra} unexpected`);
  }
  check(res, disc === 0, `${disc} survivor clients disconnected unexpectedly`);
  res.summary = `kill -9 ${victim.name}: left in ${fmtMs(res.figures.detectMs)}, online ok in ${fmtMs(res.figures.onlineReflectsMs)}; `
    + `survivor deliveries lost ${during.missing}/${during.expected}, dup ${during.duplicates}; `
    + `restart->mesh ${fmtMs(res.figures.rejoinMs ?? null)}, ->first broadcast ${fmtMs(res.figures.restartToBroadcastMs ?? null)}; `
    + `after restart ${after.delivered}/${after.expected} delivered, dup ${after.duplicates}`;
}

// -- partition -----------------------------------------------------------------------

async function partition(lab, res) {
  const { cfg } = lab;
  if (lab.net.kind !== 'netns') {
    res.skipped = 'needs --net netns';
    return;
  }
  const live = lab.alive();
  if (live.length < 2) {
    res.skipped = 'needs at least 2 nodes';
    return;
  }
  await clientOnEveryNode(lab);
  const victim = live[live.length - 1];
  const majority = live.filter((n) => n !== victim);
  res.figures.cut = victim.name;
  res.figures.method = `blackhole routes between ${victim.host} and ${majority.map((n) => n.host).join(',')} inside the namespaces`;
  const side = (c) => (c.node === victim.index ? 'cut' : 'main');
  const sideOf = new Map();
  const sameSide = (sender) => lab.pool.connected().filter((c) => side(c) === side(sender));
  const disc0 = lab.pool.unexpectedDisconnects.length;
  let phase = 'before';
  const t = startTraffic(lab, {
    senders: () => lab.pool.connected(),
    plan: (sender) => {
      sideOf.set(sender.id, side(sender));
      const all = phase === 'before' || phase === 'healed';
      return { phase, expected: all ? lab.pool.connected() : sameSide(sender) };
    },
  });
  await delay(1000);

  phase = 'partitioned';
  const tCut = now();
  await lab.net.partition(victim, majority);
  const det = await waitUntil(() => victim.members.size === 0
    && majority.every((n) => !n.members.has(victim.clusterAddress)), 15000);
  const cutSees = Math.max(...majority.map((n) => (victim.leftAt(n.clusterAddress, tCut) ?? Infinity) - tCut));
  const mainSees = Math.max(...majority.map((n) => (n.leftAt(victim.clusterAddress, tCut) ?? Infinity) - tCut));
  res.figures.detectMs = { cutSide: Number.isFinite(cutSees) ? round(cutSees, 0) : null, mainSide: Number.isFinite(mainSees) ? round(mainSees, 0) : null };
  check(res, det.ok, `the partition was not noticed within 15 s: ${lab.describeMembership()}`);
  await delay(cfg.window * 1000); // both sides serve their own clients

  // "online" on each side counts that side's clients.
  const onlineBySide = {};
  for (const s of ['main', 'cut']) {
    const asker = lab.pool.connected().find((c) => side(c) === s);
    const want = lab.pool.connected().filter((c) => side(c) === s).length;
    const a = asker ? await askOnline(asker) : { error: 'no client' };
    onlineBySide[s] = { want, got: a.value ?? null, error: a.error, ms: round(a.ms, 0) };
    check(res, a.value === want, `"online" on the ${s} side answered ${a.value ?? a.error}, want ${want}`);
  }
  res.figures.onlineDuringPartition = onlineBySide;

  // Heal; the cut node must rejoin and broadcasts must cross again.
  phase = 'healing';
  const tHeal = now();
  await lab.net.heal();
  const crossed = () => {
    const got = { toCut: null, toMain: null, count: 0 };
    for (const m of lab.ledger.select((x) => x.phase === 'healing' && x.sentAt >= tHeal)) {
      const from = sideOf.get(m.sender);
      for (const [cid, l] of m.firstAt) {
        const c = lab.pool.clients[cid - 1];
        if (!c || side(c) === from)
          continue;
        got.count += 1;
        const at = m.sentAt + l - tHeal;
        const key = side(c) === 'cut' ? 'toCut' : 'toMain';
        if (got[key] === null || at < got[key])
          got[key] = at;
      }
    }
    return got;
  };
  const healMs = cfg.healTimeout * 1000;
  const mesh = await lab.waitMesh(healMs);
  res.figures.rejoinMs = mesh.ok ? round(mesh.elapsed, 0) : null;
  check(res, mesh.ok, `${victim.name} did not rejoin within ${cfg.healTimeout} s of the heal: ${lab.describeMembership()}`);
  let cross = crossed();
  if (mesh.ok) {
    await waitUntil(() => { cross = crossed(); return cross.toCut !== null && cross.toMain !== null; }, 5000, 50);
  }
  res.figures.crossAfterHealMs = { toCut: round(cross.toCut, 0), toMain: round(cross.toMain, 0) };
  res.figures.crossDeliveriesAfterHeal = cross.count;
  if (mesh.ok) {
    check(res, cross.toCut !== null && cross.toMain !== null, 'after the rejoin broadcasts did not cross both ways within 5 s');
    await delay(500);
    phase = 'healed';
    await delay(cfg.window * 1000);
  }
  const msgs = stopTraffic(lab, t);
  await lab.ledger.drain(msgs, 8000);
  await delay(300);
  const within = lab.ledger.summarize(msgs.filter((m) => m.phase === 'partitioned' || m.phase === 'healing'));
  const healed = lab.ledger.summarize(msgs.filter((m) => m.phase === 'healed'));
  res.figures.withinSideDelivery = deliveryFigures(within);
  res.figures.crossSideDuringPartition = within.extra;
  res.figures.healedDelivery = deliveryFigures(healed);
  const disc = lab.pool.unexpectedDisconnects.length - disc0;
  res.figures.unexpectedDisconnects = disc;
  check(res, within.missing === 0, `${within.missing} of ${within.expected} same-side deliveries lost during the partition`);
  check(res, within.duplicates === 0, `${within.duplicates} duplicates during the partition`);
  if (phase === 'healed') {
    check(res, healed.missing === 0, `${healed.missing} of ${healed.expected} deliveries missing after the heal`);
    check(res, healed.duplicates === 0, `${healed.duplicates} duplicates after the heal`);
  }
  check(res, disc === 0, `${disc} clients disconnected unexpectedly`);
  res.summary = `cut ${victim.name}: noticed in ${fmtMs(res.figures.detectMs.mainSide)}/${fmtMs(res.figures.detectMs.cutSide)} (main/cut); `
    + `same-side deliveries ${within.delivered}/${within.expected}, dup ${within.duplicates}; heal->rejoin ${fmtMs(res.figures.rejoinMs)}, `
    + `->cross ${fmtMs(res.figures.crossAfterHealMs.toCut)}/${fmtMs(res.figures.crossAfterHealMs.toMain)} (to cut/to main), `
    + `${cross.count} cross deliveries in ${((now() - tHeal) / 1000).toFixed(1)} s after the heal`;
}

// -- scale-out -----------------------------------------------------------------------

async function scaleOut(lab, res) {
  const { cfg } = lab;
  const before = lab.alive().map((n) => ({ node: n, pid: n.pid, gen: n.generation }));
  const index = lab.nodes.length;
  const disc0 = lab.pool.unexpectedDisconnects.length;
  let phase = 'before';
  let newClients = [];
  const t = startTraffic(lab, {
    senders: () => (phase === 'after' ? lab.pool.connected() : lab.pool.connected().filter((c) => c.node !== index)),
    plan: () => ({ phase, expected: phase === 'after' ? lab.pool.connected() : lab.pool.connected().filter((c) => c.node !== index) }),
  });
  await delay(1000);

  const tSpawn = now();
  const seed = lab.alive()[0];
  const node = await lab.addNode(index, [seed.clusterAddress]);
  res.figures.newNode = node.name;
  res.figures.listenMs = round(now() - tSpawn, 0);
  let meshAt = null;
  const meshWait = lab.waitMesh(20000).then((r) => {
    if (r.ok)
      meshAt = now();
    return r;
  });
  newClients = await lab.pool.add(Math.max(2, Math.round(cfg.clients / Math.max(1, before.length))), { url: node.url, via: 'direct', node: index });
  const mesh = await meshWait;
  res.figures.joinMs = mesh.ok ? round(meshAt - tSpawn, 0) : null;
  check(res, mesh.ok, `${node.name} not in a full mesh within 20 s: ${lab.describeMembership()}`);
  const first = await waitUntil(() => newClients.some((c) => c.firstLabAt !== null), 10000, 20);
  res.figures.spawnToBroadcastMs = first.ok ? round(Math.min(...newClients.map((c) => c.firstLabAt ?? Infinity)) - tSpawn, 0) : null;
  check(res, first.ok, `clients of ${node.name} got no broadcast within 10 s`);
  if (mesh.ok) {
    await delay(500);
    phase = 'after';
    await delay(cfg.window * 1000);
  }
  const msgs = stopTraffic(lab, t);
  await lab.ledger.drain(msgs, 8000);
  await delay(300);
  const b = lab.ledger.summarize(msgs.filter((m) => m.phase === 'before'));
  const a = lab.ledger.summarize(msgs.filter((m) => m.phase === 'after'));
  res.figures.beforeJoinDelivery = deliveryFigures(b);
  res.figures.afterJoinDelivery = deliveryFigures(a);
  check(res, b.missing === 0 && b.duplicates === 0, `while ${node.name} joined: ${b.missing} missing, ${b.duplicates} duplicates`);
  if (phase === 'after')
    check(res, a.messages > 0 && a.missing === 0 && a.duplicates === 0 && a.extra === 0,
      `after the join: ${a.delivered}/${a.expected} delivered, ${a.duplicates} duplicates, ${a.extra} unexpected`);
  const restartedOthers = before.filter((x) => x.node.pid !== x.pid || x.node.generation !== x.gen || !x.node.alive).map((x) => x.node.name);
  res.figures.othersRestarted = restartedOthers;
  check(res, restartedOthers.length === 0, `nodes restarted or died meanwhile: ${restartedOthers.join(' ')}`);
  const disc = lab.pool.unexpectedDisconnects.length - disc0;
  res.figures.unexpectedDisconnects = disc;
  check(res, disc === 0, `${disc} clients disconnected unexpectedly`);

  // nginx: regenerate the upstreams, reload, and new clients through it reach the new node.
  if (lab.nginx) {
    res.figures.nginxReloadMs = round(await lab.nginx.reload(lab.upstreams()), 0);
    const landed = {};
    const tried = [];
    const maxTries = 4 * lab.alive().length;
    for (let i = 0; i < maxTries; i++) {
      const [c] = await lab.pool.add(1, { url: lab.nginx.url, via: 'nginx', portToNode: (p) => lab.portToNode(p) });
      tried.push(c);
      const name = c.node === null ? `port ${c.port}` : lab.nodes[c.node].name;
      landed[name] = (landed[name] || 0) + 1;
      if (i + 1 >= lab.alive().length && (landed[node.name] || 0) > 0)
        break;
    }
    for (const c of tried)
      c.close(); // the pool keeps its size
    res.figures.nginxNewClients = landed;
    check(res, (landed[node.name] || 0) > 0, `none of ${tried.length} new clients through nginx (${cfg.nginx}) reached ${node.name}: ${JSON.stringify(landed)}`);
  }
  res.summary = `+${node.name} under ${cfg.rate} msg/s: spawn->mesh ${fmtMs(res.figures.joinMs)}, ->first broadcast ${fmtMs(res.figures.spawnToBroadcastMs)}; `
    + `after join ${a.delivered}/${a.expected} delivered, dup ${a.duplicates}; others restarted: ${restartedOthers.length}`
    + `${lab.nginx ? `; nginx reload, new clients landed ${JSON.stringify(res.figures.nginxNewClients)}` : ''}`;
}

const SCENARIOS = { broadcast, rooms, fetch, crash, recovery, partition, 'scale-out': scaleOut };

module.exports = { SCENARIOS };
