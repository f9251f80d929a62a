'use strict';
// The lab: the network, the nodes, the optional nginx, the clients and the
// ledger for one configuration; setup, health repair between scenarios, and
// teardown of everything it created.

const path = require('node:path');
const { LoopbackNet, NetnsNet } = require('./net');
const { LabNode } = require('./nodes');
const { NginxFront } = require('./nginx');
const { Ledger, ClientPool } = require('./clients');
const { now, delay, waitUntil } = require('./util');

class Lab {
  /// cfg: { nodes, net, nginx, clients, rate, duration, window, transports,
  ///        bin, tmpDir, debug, short, nginxExe }
  constructor(cfg, { io, log }) {
    this.cfg = cfg;
    this.io = io;
    this.log = log;
    this.nodes = [];
    this.nginx = null;
    this.net = cfg.net === 'netns' ? new NetnsNet({ log }) : new LoopbackNet();
    this.ledger = new Ledger();
    const transports = cfg.transports !== 'auto'
      ? cfg.transports.split(',')
      : cfg.nginx === 'round-robin' ? ['websocket'] : ['polling', 'websocket'];
    this.transports = transports;
    this.pool = new ClientPool({ io, ledger: this.ledger, transports });
    this.traffic = new Set(); // running generators (stopped on teardown)
    this.repairs = [];
    this.torn = false;
  }

  // -- nodes ---------------------------------------------------------------------

  alive() {
    return this.nodes.filter((n) => n.alive);
  }

  /// Creates node `index` (namespace if any) and starts it joining `join`.
  async addNode(index, join) {
    const { ns, host } = await this.net.addNode(index);
    const node = new LabNode({
      index, bin: this.cfg.bin, ns, host, logDir: this.cfg.tmpDir, debug: this.cfg.debug, log: this.log,
    });
    this.nodes[index] = node;
    // netns: fixed ports (every node has its own address; distinct ports let a
    // client tell from a broadcast's "port:" which node it is on). loopback: 0.
    const fixed = this.net.kind === 'netns' ? { httpPort: 3100 + index, clusterPort: 4100 + index } : {};
    await node.start(join, fixed);
    return node;
  }

  /// Restarts a node on the same address (HTTP and cluster port), joining
  /// every other live node.
  async restartNode(node) {
    if (node.alive)
      await node.kill9();
    const join = this.alive().filter((n) => n !== node).map((n) => n.clusterAddress);
    await node.start(join, { httpPort: node.httpPort, clusterPort: node.clusterPort });
  }

  /// Whether every live node's log says every other live node is a member.
  meshComplete(nodes = this.alive()) {
    return nodes.every((n) => nodes.every((m) => m === n || n.members.has(m.clusterAddress))
      && n.members.size === nodes.length - 1);
  }

  async waitMesh(ms, nodes) {
    return waitUntil(() => this.meshComplete(nodes || this.alive()), ms, 25);
  }

  portToNode(port) {
    const n = this.nodes.find((x) => x && x.httpPort === port);
    return n ? n.index : null;
  }

  upstreams() {
    return this.nodes.filter(Boolean).map((n) => ({ host: n.host, port: n.httpPort }));
  }

  // -- setup -----------------------------------------------------------------------

  async setup() {
    const t0 = now();
    await this.net.setup();
    const first = await this.addNode(0, []);
    await Promise.all(Array.from({ length: this.cfg.nodes - 1 }, (_, i) => this.addNode(i + 1, [first.clusterAddress])));
    const mesh = await this.waitMesh(15000);
    if (!mesh.ok)
      throw new Error(`the ${this.cfg.nodes} nodes did not form a full mesh within 15 s: ${this.describeMembership()}`);
    this.meshMs = now() - t0;
    if (this.cfg.nginx !== 'none') {
      this.nginx = new NginxFront({ mode: this.cfg.nginx, dir: path.join(this.cfg.tmpDir, 'nginx'), exe: this.cfg.nginxExe, log: this.log });
      await this.nginx.start(this.upstreams());
    }
    await this.fillClients();
    this.log(`setup: ${this.cfg.nodes} nodes meshed in ${Math.round(this.meshMs)} ms; ${this.pool.connected().length} clients: ${this.distribution()}`);
  }

  describeMembership() {
    return this.nodes.filter(Boolean).map((n) => `${n.name}${n.alive ? '' : '(dead)'} sees [${[...n.members].join(' ')}]`).join('; ');
  }

  distribution() {
    const per = this.nodes.filter(Boolean).map((n) => `${n.name}:${this.pool.onNode(n.index).length}`);
    return per.join(' ');
  }

  /// Tops the pool up to cfg.clients connected clients: through nginx if
  /// there is one, else directly to the node with the fewest.
  async fillClients() {
    const want = this.cfg.clients - this.pool.connected().length;
    if (want <= 0)
      return [];
    if (this.nginx)
      return this.pool.add(want, { url: this.nginx.url, via: 'nginx', portToNode: (p) => this.portToNode(p) });
    const made = [];
    for (let i = 0; i < want; i++) {
      const live = this.alive();
      live.sort((a, b) => this.pool.onNode(a.index).length - this.pool.onNode(b.index).length || a.index - b.index);
      made.push(...await this.pool.add(1, { url: live[0].url, via: 'direct', node: live[0].index }));
    }
    return made;
  }

  /// Before each scenario: every node alive and in one full mesh, the pool
  /// full. Repairs what a previous scenario left broken (a node that did not
  /// rejoin is restarted) and records it.
  async ensureHealthy() {
    for (const n of this.nodes.filter(Boolean)) {
      if (!n.alive) {
        this.repairs.push(`${n.name} was dead: restarted`);
        await this.restartNode(n);
      }
    }
    let mesh = await this.waitMesh(3000);
    if (!mesh.ok) {
      // Keep the group of the node that sees the most members; restart the rest.
      const live = this.alive();
      const ref = live.slice().sort((a, b) => b.members.size - a.members.size)[0];
      const outsiders = live.filter((n) => n !== ref && !(ref.members.has(n.clusterAddress) && n.members.has(ref.clusterAddress)
        && n.members.size === ref.members.size));
      for (const n of outsiders) {
        this.repairs.push(`${n.name} was not in the mesh (${this.describeMembership()}): restarted`);
        for (const c of this.pool.onNode(n.index))
          c.expectedGone = true;
        await this.restartNode(n);
      }
      mesh = await this.waitMesh(20000);
      if (!mesh.ok)
        throw new Error(`cluster not healthy before the scenario: ${this.describeMembership()}`);
    }
    await this.fillClients();
  }

  // -- teardown --------------------------------------------------------------------

  /// Synchronous, idempotent: stops traffic, closes clients, kills the nodes
  /// and nginx we started, removes namespaces and the bridge.
  teardownSync() {
    if (this.torn)
      return;
    this.torn = true;
    for (const t of this.traffic)
      t.stop();
    this.pool.closeAll();
    for (const n of this.nodes.filter(Boolean))
      n.killSync();
    if (this.nginx)
      this.nginx.stopSync();
    this.net.teardownSync();
  }

  async teardown() {
    for (const t of this.traffic)
      t.stop();
    this.pool.closeAll();
    await delay(100);
    // SIGTERM first: a clean exit is part of what the lab looks at.
    await Promise.all(this.nodes.filter(Boolean).map((n) => n.stop(4000).catch(() => {})));
    if (this.nginx)
      await this.nginx.stop();
    this.teardownSync();
  }
}

module.exports = { Lab };
