'use strict';
// Where the nodes live.
//   LoopbackNet: every node on 127.0.0.1, told apart by port.
//   NetnsNet:    every node in its own network namespace, with its own address
//                on a private bridge this module creates (10.231.X.0/24, bridge
//                siolabX, host side 10.231.X.1); clients in the root namespace
//                reach the nodes through the bridge. A partition is made inside
//                the namespaces with blackhole routes (no iptables): the cut
//                node and the others silently drop each other's packets, while
//                the host (the clients, nginx) still reaches both sides.
// Everything created is recorded and removed by teardownSync(), which is
// synchronous so that it can run from signal handlers and process 'exit'.

const fs = require('node:fs');
const { run, runSync } = require('./util');

const PREFIX = 'siolab';

class LoopbackNet {
  constructor() {
    this.kind = 'loopback';
  }
  async setup() {}
  /// Node i: its namespace (none) and address.
  async addNode() {
    return { ns: null, host: '127.0.0.1' };
  }
  async partition() {
    throw new Error('partitions need --net netns');
  }
  async heal() {}
  teardownSync() {}
}

/// Whether this machine lets us create network namespaces (root, iproute2).
async function netnsAvailable() {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return { ok: false, why: 'not root' };
  const probe = `${PREFIX}-probe-${process.pid}`;
  try {
    await run('ip', ['netns', 'add', probe], { timeoutMs: 5000 });
  } catch (err) {
    return { ok: false, why: err.message };
  }
  await run('ip', ['netns', 'del', probe], { timeoutMs: 5000, allowFail: true });
  return { ok: true };
}

class NetnsNet {
  constructor({ log }) {
    this.kind = 'netns';
    this.log = log;
    this.octet = null; // X in 10.231.X.0/24
    this.bridge = null;
    this.namespaces = []; // created, in order
    this.routes = []; // [ns, dest] blackholes currently installed
  }

  get hostAddress() {
    return `10.231.${this.octet}.1`;
  }

  async setup() {
    // A /24 of 10.231.0.0/16 that no interface uses and a bridge name that is free
    // (a lab already running, or leftovers of one that was SIGKILLed).
    const addrs = (await run('ip', ['-o', 'addr', 'show'])).stdout;
    const links = (await run('ip', ['-o', 'link', 'show'])).stdout;
    for (let x = 0; x < 256; x++) {
      // (the kernel removes a deleted namespace, and the veth in it, lazily)
      if (addrs.includes(` 10.231.${x}.`) || new RegExp(`: (${PREFIX}${x}|sl${x}[hp]\\d+)[:@]`).test(links))
        continue;
      this.octet = x;
      break;
    }
    if (this.octet === null)
      throw new Error('no free 10.231.X.0/24 subnet for the lab bridge');
    const br = `${PREFIX}${this.octet}`;
    await run('ip', ['link', 'add', br, 'type', 'bridge']);
    this.bridge = br;
    await run('ip', ['addr', 'add', `${this.hostAddress}/24`, 'dev', br]);
    await run('ip', ['link', 'set', br, 'up']);
    this.log(`net: bridge ${br} ${this.hostAddress}/24`);
  }

  /// Creates namespace + veth for node i; returns { ns, host }.
  async addNode(i) {
    const ns = `${PREFIX}${this.octet}-n${i}`;
    const host = `10.231.${this.octet}.${10 + i}`;
    if (this.namespaces.some((n) => n.ns === ns))
      return { ns, host };
    if (10 + i > 254)
      throw new Error('too many nodes for one /24');
    const outer = `sl${this.octet}h${i}`;
    const inner = `sl${this.octet}p${i}`;
    await run('ip', ['netns', 'add', ns]);
    this.namespaces.push({ ns, outer, host });
    await run('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
    await run('ip', ['link', 'set', inner, 'netns', ns]);
    await run('ip', ['link', 'set', outer, 'master', this.bridge, 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', ns, 'link', 'set', inner, 'name', 'eth0']);
    await run('ip', ['-n', ns, 'addr', 'add', `${host}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    this.log(`net: namespace ${ns} ${host} (veth ${outer} on ${this.bridge})`);
    return { ns, host };
  }

  /// Cuts `victim` ({ns, host}) off from `others` (same shape), both ways.
  async partition(victim, others) {
    for (const o of others) {
      await this.addBlackhole(victim.ns, o.host);
      await this.addBlackhole(o.ns, victim.host);
    }
  }

  async addBlackhole(ns, dest) {
    await run('ip', ['-n', ns, 'route', 'add', 'blackhole', `${dest}/32`]);
    this.routes.push([ns, dest]);
  }

  /// Removes every blackhole route installed by partition().
  async heal() {
    const routes = this.routes;
    this.routes = [];
    for (const [ns, dest] of routes)
      await run('ip', ['-n', ns, 'route', 'del', 'blackhole', `${dest}/32`], { allowFail: true });
  }

  /// Deletes the namespaces (their veths go with them) and the bridge. The
  /// processes inside must be gone already (a namespace lives on while a
  /// process uses it).
  teardownSync() {
    for (const { ns, outer } of this.namespaces.splice(0).reverse()) {
      // Deleting our end removes the pair at once; the namespace itself may
      // linger in the kernel for a while after `ip netns del`.
      runSync('ip', ['link', 'del', outer]);
      const r = runSync('ip', ['netns', 'del', ns]);
      if (r.code !== 0)
        this.log(`net: cannot delete namespace ${ns}: ${r.stderr.trim()}`);
    }
    if (this.bridge) {
      const r = runSync('ip', ['link', 'del', this.bridge]);
      if (r.code !== 0)
        this.log(`net: cannot delete bridge ${this.bridge}: ${r.stderr.trim()}`);
      this.bridge = null;
    }
  }
}

/// --cleanup: removes what a lab run killed with SIGKILL left behind: the
/// processes inside siolab* namespaces (started by that run), the namespaces,
/// and siolab* bridges.
function cleanupLeftovers(log, tmpDir = require('node:os').tmpdir()) {
  // Processes recorded by runs in their temp dir (loopback nodes, nginx).
  const { procStartTime } = require('./util');
  for (const d of fs.readdirSync(tmpDir).filter((x) => x.startsWith('cluster-lab-'))) {
    let lines = [];
    try {
      lines = fs.readFileSync(`${tmpDir}/${d}/pids`, 'utf8').split('\n').filter(Boolean);
    } catch {
      continue;
    }
    for (const line of lines) {
      const [pid, start, ...what] = line.split(' ');
      // Same pid and same start time: still the process that run started.
      if (start !== 'null' && procStartTime(pid) === start) {
        try {
          // nginx: SIGTERM, so that the master stops its workers.
          const sig = what[0] === 'nginx' ? 'SIGTERM' : 'SIGKILL';
          process.kill(Number(pid), sig);
          log(`${sig} to ${pid} (${what.join(' ')}) started by ${tmpDir}/${d}`);
        } catch {
          // gone
        }
      }
    }
  }
  const list = runSync('ip', ['netns', 'list']).stdout;
  const names = list.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(PREFIX));
  for (const ns of names) {
    const pids = runSync('ip', ['netns', 'pids', ns]).stdout.split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
        log(`killed ${pid} (${fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}) in ${ns}`);
      } catch {
        // gone
      }
    }
    const r = runSync('ip', ['netns', 'del', ns]);
    log(r.code === 0 ? `deleted namespace ${ns}` : `cannot delete ${ns}: ${r.stderr.trim()}`);
  }
  const veths = runSync('ip', ['-o', 'link', 'show', 'type', 'veth']).stdout;
  for (const m of veths.matchAll(/^\d+: (sl\d+h\d+)[:@]/gm)) {
    const r = runSync('ip', ['link', 'del', m[1]]);
    log(r.code === 0 ? `deleted veth ${m[1]}` : `cannot delete ${m[1]}: ${r.stderr.trim()}`);
  }
  const links = runSync('ip', ['-o', 'link', 'show', 'type', 'bridge']).stdout;
  for (const m of links.matchAll(new RegExp(`^\\d+: (${PREFIX}\\d+)[:@]`, 'gm'))) {
    const r = runSync('ip', ['link', 'del', m[1]]);
    log(r.code === 0 ? `deleted bridge ${m[1]}` : `cannot delete ${m[1]}: ${r.stderr.trim()}`);
  }
}

module.exports = { LoopbackNet, NetnsNet, netnsAvailable, cleanupLeftovers };
