'use strict';
// One sio-chat process of the lab cluster: started (in its namespace, if any),
// its stdout/stderr logged to a file, and its cluster membership followed from
// the "member X joined (N nodes)" / "member X left (...)" lines of its stderr,
// each with the time it was read.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { now, withTimeout, sleepSync, registerPid } = require('./util');

const TAIL_CHARS = 16 * 1024;

// Cluster links are mutual TLS: one CA for the lab, a certificate per node
// (scripts/cluster-certs), made on first use and removed at exit.
let certDir = null;
function tlsArgs(name) {
  if (!certDir) {
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-lab-certs-'));
    process.on('exit', () => fs.rmSync(certDir, { recursive: true, force: true }));
  }
  const key = path.join(certDir, `${name}.key`);
  if (!fs.existsSync(key))
    execFileSync(path.join(__dirname, '..', 'cluster-certs'), [certDir, name], { stdio: 'ignore', timeout: 20000 });
  return [`--openssl.cafile=${path.join(certDir, 'ca.pem')}`,
    `--openssl.certificate=${path.join(certDir, `${name}.pem`)}`, `--openssl.key=${key}`];
}

class LabNode {
  /// opts: { index, bin, ns, host, logDir, debug, log }
  constructor(opts) {
    Object.assign(this, opts);
    this.httpPort = 0; // 0 until the first start; the same port on restarts
    this.clusterPort = 0;
    this.generation = 0; // how many times it was started
    this.proc = null;
    this.pid = null;
    this.exit = null;
    this.members = new Set(); // cluster addresses this node's log says are members
    this.events = []; // { t, kind: 'joined'|'left', member, count, gen }
    this.tail = '';
    this.startedAt = null;
  }

  get name() {
    return `n${this.index}`;
  }
  get alive() {
    return this.proc !== null && this.exit === null;
  }
  get clusterAddress() {
    return `${this.host}:${this.clusterPort}`;
  }
  get url() {
    return `http://${this.host}:${this.httpPort}`;
  }

  /// Starts the process and resolves once it printed both its HTTP address
  /// and its cluster endpoint. `join`: cluster addresses to --join.
  async start(join, { timeoutMs = 10000, httpPort, clusterPort } = {}) {
    if (this.alive)
      throw new Error(`${this.name} is already running`);
    if (httpPort !== undefined)
      this.httpPort = httpPort;
    if (clusterPort !== undefined)
      this.clusterPort = clusterPort;
    this.generation += 1;
    this.members = new Set();
    this.exit = null;
    this.tail = '';
    const args = [
      '--host', this.host, '--port', String(this.httpPort),
      '--cluster-listen', `${this.host}:${this.clusterPort}`,
      ...join.flatMap((a) => ['--join', a]),
      ...tlsArgs(this.name),
      // The lab sends far faster than a person types: no flood limit.
      '--flood-rate', '1000000', '--flood-burst', '1000000',
    ];
    const exe = this.ns ? 'ip' : this.bin;
    const argv = this.ns ? ['netns', 'exec', this.ns, this.bin, ...args] : args;
    const logFile = path.join(this.logDir, `${this.name}.log`);
    const logStream = fs.createWriteStream(logFile, { flags: 'a' });
    logStream.write(`=== ${new Date().toISOString()} start #${this.generation}: ${exe} ${argv.join(' ')}\n`);
    const env = { ...process.env };
    if (this.debug)
      env.SIO_DEBUG = '1';
    this.startedAt = now();
    const proc = spawn(exe, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.proc = proc;
    this.pid = proc.pid;
    registerPid(proc.pid, `${this.name} sio-chat`);
    const gen = this.generation;
    let stdout = '';
    const exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        if (this.proc === proc)
          this.exit = { code, signal, t: now() };
        logStream.end(`=== exit ${signal || code}\n`);
        resolve();
      });
    });
    this.exited = exited;
    proc.on('error', () => {}); // reported through 'exit' / the start timeout
    const lines = (stream, tag, onLine) => {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        partial += chunk;
        const parts = partial.split('\n');
        partial = parts.pop();
        for (const line of parts) {
          const t = now();
          logStream.write(`${new Date(t).toISOString()} ${tag} ${line}\n`);
          this.tail = (this.tail + line + '\n').slice(-TAIL_CHARS);
          onLine(line, t);
        }
      });
    };
    lines(proc.stdout, 'out', (line) => {
      stdout += line + '\n';
    });
    lines(proc.stderr, 'err', (line, t) => {
      let m = /member (\S+) joined \((\d+) nodes\)/.exec(line);
      if (m) {
        if (this.proc === proc)
          this.members.add(m[1]);
        this.events.push({ t, kind: 'joined', member: m[1], count: Number(m[2]), gen });
        return;
      }
      m = /member (\S+) left /.exec(line);
      if (m) {
        if (this.proc === proc)
          this.members.delete(m[1]);
        this.events.push({ t, kind: 'left', member: m[1], gen });
      }
    });

    try {
      await withTimeout(new Promise((resolve, reject) => {
        const check = () => {
          const h = /listening on http:\/\/(\S+):(\d+)/.exec(stdout);
          const c = /cluster endpoint (\S+):(\d+)/.exec(stdout);
          if (h && c) {
            this.httpPort = Number(h[2]);
            this.clusterPort = Number(c[2]);
            resolve();
          }
        };
        proc.stdout.on('data', () => setImmediate(check));
        exited.then(() => reject(new Error(`${this.name} exited (${this.exit && (this.exit.signal || this.exit.code)}) before listening`)));
      }), timeoutMs, `${this.name} start`);
    } catch (err) {
      this.killSync();
      err.message += `\n--- ${this.name} output (tail) ---\n${this.tail.slice(-3000)}`;
      throw err;
    }
    this.log(`${this.name}: pid ${this.pid} http ${this.url} cluster ${this.clusterAddress}${this.ns ? ` (netns ${this.ns})` : ''}${gen > 1 ? ` [restart #${gen - 1}]` : ''}`);
  }

  /// SIGKILL, and resolves when the process is gone (bounded).
  async kill9() {
    if (!this.alive)
      return;
    this.proc.kill('SIGKILL');
    await withTimeout(this.exited, 5000, `${this.name} exit after SIGKILL`);
  }

  /// SIGTERM, then SIGKILL after `graceMs`.
  async stop(graceMs = 4000) {
    if (!this.alive)
      return;
    this.proc.kill('SIGTERM');
    try {
      await withTimeout(this.exited, graceMs, `${this.name} exit after SIGTERM`);
    } catch {
      await this.kill9();
    }
  }

  /// Teardown path: SIGKILL and wait synchronously (bounded) for the process to go.
  killSync() {
    if (!this.alive)
      return;
    try {
      this.proc.kill('SIGKILL');
    } catch {
      return;
    }
    for (let i = 0; i < 100 && fs.existsSync(`/proc/${this.pid}/stat`); i++) {
      try {
        // A zombie (not reaped yet: we are blocking the loop) counts as gone.
        if (/\) Z /.test(fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8')))
          break;
      } catch {
        break;
      }
      sleepSync(20);
    }
  }

  /// First time at or after `since` this node's log said `member` left.
  leftAt(member, since) {
    const e = this.events.find((ev) => ev.kind === 'left' && ev.member === member && ev.t >= since);
    return e ? e.t : null;
  }
}

module.exports = { LabNode };
