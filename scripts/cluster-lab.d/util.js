'use strict';
// Small helpers shared by the cluster-lab modules: clocks, bounded waits,
// external commands with a deadline, percentiles.

const { execFile, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const { performance } = require('node:perf_hooks');

/// Milliseconds since the epoch, fractional (sub-millisecond resolution).
const now = () => performance.timeOrigin + performance.now();

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// Blocks the event loop for `ms` (only used during synchronous teardown).
function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/// `promise`, or a rejection "<label> timed out after <ms> ms".
function withTimeout(promise, ms, label = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} timed out after ${Math.round(ms)} ms`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

/// Polls `pred` every `interval` ms until it is truthy or `ms` have passed.
/// Never throws: resolves { ok, value, elapsed }.
async function waitUntil(pred, ms, interval = 25) {
  const t0 = now();
  for (;;) {
    let value;
    try {
      value = await pred();
    } catch {
      value = undefined;
    }
    if (value)
      return { ok: true, value, elapsed: now() - t0 };
    if (now() - t0 >= ms)
      return { ok: false, value, elapsed: now() - t0 };
    await delay(Math.min(interval, Math.max(1, ms - (now() - t0))));
  }
}

/// Runs a command (no shell) with a deadline. Resolves { code, stdout, stderr };
/// rejects on a non-zero exit unless allowFail.
function run(cmd, args, { timeoutMs = 10000, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (err && !allowFail) {
          const why = err.killed ? `timed out after ${timeoutMs} ms` : `exit ${code}`;
          reject(new Error(`${cmd} ${args.join(' ')}: ${why}: ${(stderr || err.message).trim()}`));
        } else {
          resolve({ code, stdout, stderr });
        }
      });
  });
}

/// Synchronous best-effort command for teardown paths (signal handlers, exit).
function runSync(cmd, args, timeoutMs = 5000) {
  const r = spawnSync(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout || '', stderr: r.stderr || '' };
}

/// A TCP port that was free on `host` a moment ago.
function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/// Whether something accepts TCP connections at host:port within `ms`.
function canConnect(host, port, ms = 500) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/// p-th percentile (0..100) of an array of numbers (nearest rank); null if empty.
function percentile(values, p) {
  if (values.length === 0)
    return null;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/// Rounds to `digits` decimals; keeps null.
function round(x, digits = 1) {
  if (x === null || x === undefined || Number.isNaN(x))
    return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/// "1.2 s" / "850 ms" for a duration in ms (null: "-").
function fmtMs(ms) {
  if (ms === null || ms === undefined)
    return '-';
  if (ms >= 1000)
    return `${(ms / 1000).toFixed(2)} s`;
  return `${Number.isInteger(ms) || ms >= 10 ? ms.toFixed(0) : ms.toFixed(2)} ms`;
}

/// Registry of the processes a run started (for --cleanup after a SIGKILL):
/// "<pid> <start time in clock ticks> <what>" lines in <dir>/pids.
let pidFile = null;
function setPidFile(file) {
  pidFile = file;
}
function procStartTime(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return null;
  }
}
function registerPid(pid, what) {
  if (!pidFile || !pid)
    return;
  try {
    fs.appendFileSync(pidFile, `${pid} ${procStartTime(pid)} ${what}\n`);
  } catch {
    // best effort
  }
}

module.exports = {
  setPidFile, registerPid, procStartTime,
  now, delay, sleepSync, withTimeout, waitUntil, run, runSync, freePort, canConnect,
  percentile, round, fmtMs,
};
