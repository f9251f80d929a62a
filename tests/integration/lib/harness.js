'use strict';
// Shared helpers for the integration tests (node:test scripts under
// tests/integration/). They start the real binaries from SIO_BIN_DIR and give
// every wait a deadline, so a misbehaving server fails a test instead of
// hanging it.
//
//   const { startServer, httpRequest, waitFor, waitForEvent, withTimeout } =
//     require('./lib/harness');
//   const server = await startServer('sio-conformance');
//   ... server.url, server.port, await server.request({ path: '/engine.io/?EIO=4&transport=polling' })
//   await server.stop(); // throws if the process crashed or exited non-zero
//
// A server that dies while nobody asked it to (not through stop() or kill())
// fails the test at once, whatever the test is waiting for:
//  * every wait of this module (withTimeout, waitFor, waitForEvent,
//    httpRequest, server.request; sio-helpers and nginx.js build on them)
//    that is in flight rejects with the death's description;
//  * the test that is running is failed and ended by node:test itself: the
//    error is thrown in that test's async scope, which node:test attributes
//    to the test (it fails it and aborts its wait), so a raw await in a test
//    (a client's emitWithAck, ...) does not hold it until its own timeout;
//  * a death while no test runs fails the next test at its start, or the
//    file's last hook if no test follows.
// After the file's last test every server still running is stopped (and the
// file fails): a live child process would keep node from ever exiting, and
// ctest would wait for its timeout.

const asyncHooks = require('node:async_hooks');
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const nodeTest = require('node:test');

const DEFAULT_START_TIMEOUT_MS = 10000;
const DEFAULT_STOP_TIMEOUT_MS = 5000;
const DEFAULT_HTTP_TIMEOUT_MS = 5000;
const MAX_CAPTURE_CHARS = 64 * 1024;

// Every server still running when this process exits gets SIGKILL, so a test
// that throws before its cleanup never leaks a server.
const liveServers = new Set(); // ChildProcess
const liveHandles = new Set(); // server handles (startServer), for the final check
process.on('exit', () => {
  for (const proc of liveServers) {
    try {
      proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

// -- servers that die unexpectedly ------------------------------------------------

const deathWaiters = new Set(); // reject functions of the waits in flight
// Deaths not yet reported by a test's failure or a stop(): { err, nextTest }.
// nextTest: nobody was waiting, so the next test to begin fails with it.
const pendingDeaths = [];

function settleDeath(err) {
  const i = pendingDeaths.findIndex((d) => d.err === err);
  if (i >= 0)
    pendingDeaths.splice(i, 1);
}

// node:test's Test objects are AsyncResources of type 'Test'; we note them as
// they are created, and find the running one by its signal in beforeEach.
const testCandidates = new Set();
let runningTest = null;
asyncHooks.createHook({
  init(asyncId, type, triggerAsyncId, resource) {
    if (type === 'Test')
      testCandidates.add(resource);
  },
}).enable();

function joinErrors(errors, prefix = '') {
  return errors.length === 0 ? null : new Error(prefix + errors.map((e) => e.message).join('\n\n'));
}

// Root-level hooks: node:test gives them to every test of the file.
nodeTest.beforeEach((t) => {
  runningTest = null;
  for (const candidate of testCandidates) {
    if (candidate.signal === t.signal && !candidate.hookType) {
      runningTest = candidate;
      testCandidates.delete(candidate);
      break;
    }
  }
  const due = pendingDeaths.filter((d) => d.nextTest);
  due.forEach((d) => settleDeath(d.err));
  const died = joinErrors(due.map((d) => d.err), 'before this test began: ');
  if (died)
    throw died;
});
nodeTest.afterEach(() => {
  runningTest = null;
});
// The final check is registered once the file's top-level code has run (an
// immediate queued now), from its top-level async scope (so on the root): the
// file's own root-level after() hooks are registered by then, and they run
// first (hooks run in the order they were registered). Not from a hook: a
// hook that fails first (a before() whose server died) would skip it.
const topLevelScope = new asyncHooks.AsyncResource('sio-harness');
setImmediate(() => topLevelScope.runInAsyncScope(() => nodeTest.after(finalCheck)));
async function finalCheck() {
  // A suite's after() that threw before stopping all of its servers.
  const errors = [];
  for (const server of [...liveHandles]) {
    const forgotten = !server.stopRequested();
    try {
      await server.stop();
      if (forgotten)
        errors.push(new Error(`${server.name} (pid ${server.pid}) was still running after the last test; stopped now`));
    } catch (err) {
      errors.push(err);
    }
  }
  errors.push(...pendingDeaths.splice(0).map((d) => d.err));
  const all = joinErrors(errors);
  if (all)
    throw all;
}

/// Called once per server that exited unexpectedly.
function reportDeath(err) {
  process.stderr.write(`[harness] ${err.message.split('\n')[0]}\n`);
  const waiters = [...deathWaiters];
  for (const reject of waiters)
    reject(err);
  const test = runningTest;
  if (test && !test.finished) {
    // Thrown in the test's async scope: node:test's uncaughtException handler
    // fails that test with it and aborts the test's wait. Not if a wait above
    // has failed it already (that happens within this turn's microtasks).
    test.runInAsyncScope(() => setImmediate(() => {
      if (!test.finished && !test.error)
        throw err;
    }));
  } else {
    // A hook's wait has it (it may catch it, as cleanup code does): the
    // file's end reports it unless a stop() does. Nobody waiting: the next
    // test fails with it.
    pendingDeaths.push({ err, nextTest: waiters.length === 0 });
  }
}

/// Resolves/rejects like `promise`, or rejects as soon as a server dies
/// unexpectedly. `onSettled` runs when either happened (to stop timers).
function untilServerDeath(promise, onSettled = () => {}) {
  let reject;
  const died = new Promise((_, r) => { reject = r; });
  deathWaiters.add(reject);
  return Promise.race([Promise.resolve(promise), died]).finally(() => {
    deathWaiters.delete(reject);
    onSettled();
  });
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/// Resolves/rejects like `promise`, or rejects with "<label> timed out after
/// <ms> ms" once `ms` have passed (or at once when a server dies).
function withTimeout(promise, ms, label = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} timed out after ${ms} ms`)), ms);
  });
  return untilServerDeath(Promise.race([Promise.resolve(promise), timeout]), () => clearTimeout(timer));
}

/// withTimeout() without the server-death rule, for the harness's own
/// waits on one process (another server's death must not cut them short).
function timeLimit(promise, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

/// Waits for an event: resolves with the event's arguments (an array) the
/// first time `emitter` emits `event`. Rejects on timeout, or when one of the
/// events in `rejectOn` (e.g. ['error', 'close']) fires first.
function waitForEvent(emitter, event, timeoutMs, opts = {}) {
  let cleanup = () => {};
  return untilServerDeath(eventPromise(emitter, event, timeoutMs, opts, (c) => { cleanup = c; }),
                          () => cleanup());
}

function eventPromise(emitter, event, timeoutMs, { label, rejectOn = [] }, setCleanup) {
  const what = label || `event '${event}'`;
  return new Promise((resolve, reject) => {
    const listeners = [];
    const cleanup = () => {
      clearTimeout(timer);
      for (const [name, fn] of listeners)
        emitter.off(name, fn);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onEvent = (...args) => {
      cleanup();
      resolve(args);
    };
    listeners.push([event, onEvent]);
    for (const bad of rejectOn) {
      const onBad = (...args) => {
        cleanup();
        const detail = args.map((a) => (a instanceof Error ? a.message : String(a))).join(', ');
        reject(new Error(`'${bad}' (${detail}) while waiting for ${what}`));
      };
      listeners.push([bad, onBad]);
    }
    for (const [name, fn] of listeners)
      emitter.on(name, fn);
    setCleanup(cleanup);
  });
}

/// Waits until `predicate()` (sync or async) returns a truthy value, checking
/// every `intervalMs`; resolves with that value. Alternatively
/// `waitFor(emitter, 'event', timeoutMs)` is `waitForEvent`.
async function waitFor(predicate, timeoutMs, opts = {}, ...rest) {
  if (typeof timeoutMs === 'string') {
    // waitFor(emitter, 'event', timeoutMs, opts)
    if (typeof opts !== 'number')
      throw new TypeError('waitFor(emitter, event, timeoutMs): timeoutMs is required');
    return waitForEvent(predicate, timeoutMs, opts, ...rest);
  }
  const state = { abandoned: false };
  return untilServerDeath(poll(predicate, timeoutMs, opts, state), () => { state.abandoned = true; });
}

async function poll(predicate, timeoutMs, opts, state) {
  if (typeof opts === 'string')
    opts = { label: opts };
  const { intervalMs = 10, label = 'condition' } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (state.abandoned)
      return undefined; // a server died: nobody reads this any more
    const value = await predicate();
    if (value)
      return value;
    if (Date.now() >= deadline)
      throw new Error(`${label} not reached within ${timeoutMs} ms`);
    await delay(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

/// One HTTP request on a fresh connection. `base` is 'http://host:port'
/// (or pass `host` and `port`). Resolves with { status, headers, body, raw }
/// (body: UTF-8 text, raw: Buffer). Rejects on connection errors and when no
/// complete response arrived within `timeoutMs`.
function httpRequest({
  base,
  host,
  port,
  method = 'GET',
  path: reqPath = '/',
  body,
  headers = {},
  timeoutMs = DEFAULT_HTTP_TIMEOUT_MS,
  agent = false,
} = {}) {
  if (base) {
    const u = new URL(base);
    host = u.hostname;
    port = Number(u.port);
  }
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(String(body));
  const allHeaders = { ...headers };
  if (payload !== undefined && !Object.keys(allHeaders).some((h) => h.toLowerCase() === 'content-length'))
    allHeaders['Content-Length'] = payload.length;
  return untilServerDeath(new Promise((resolve, reject) => {
    let settled = false;
    let gotResponse = false;
    const finish = (err, value) => {
      if (settled)
        return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else {
        resolve(value);
      }
    };
    const req = http.request({ host, port, method, path: reqPath, headers: allHeaders, agent });
    const timer = setTimeout(
      () => finish(new Error(`HTTP ${method} ${reqPath} timed out after ${timeoutMs} ms`)),
      timeoutMs);
    req.on('response', (res) => {
      gotResponse = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        finish(null, { status: res.statusCode, headers: res.headers, body: raw.toString('utf8'), raw });
      });
      res.on('error', (err) => finish(err));
      // A server may close the connection right after an early error
      // response (e.g. 413 while the body is still being sent); what it said
      // before that still counts.
      res.on('aborted', () => {
        const raw = Buffer.concat(chunks);
        finish(null, { status: res.statusCode, headers: res.headers, body: raw.toString('utf8'), raw, aborted: true });
      });
    });
    req.on('error', (err) => {
      if (!gotResponse)
        finish(new Error(`HTTP ${method} ${reqPath} failed: ${err.message}`));
    });
    if (payload !== undefined)
      req.end(payload);
    else
      req.end();
  }));
}

/// Whether `${SIO_BIN_DIR}/${binaryName} --help` mentions every option in
/// `options` (e.g. ['--ping-interval']): lets a test use a command-line option
/// only once the binary has it.
function binaryHasOptions(binaryName, options, timeoutMs = 5000) {
  const binDir = process.env.SIO_BIN_DIR;
  if (!binDir)
    return Promise.reject(new Error('SIO_BIN_DIR is not set'));
  return new Promise((resolve, reject) => {
    const proc = spawn(path.join(binDir, binaryName), ['--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    proc.stdout.on('data', (c) => (text += c));
    proc.stderr.on('data', (c) => (text += c));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${binaryName} --help did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    proc.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.on('exit', () => {
      clearTimeout(timer);
      resolve(options.every((o) => text.includes(o)));
    });
  });
}

const LISTENING_RE = /listening on (https?:\/\/(\[[^\]]+\]|[^\s:/]+):(\d+))/;

/// Starts `${SIO_BIN_DIR}/${binaryName} --port 0 ...args` and waits for its
/// "listening on http://HOST:PORT" line. Resolves with a server handle:
///   { url, host, port, proc, stdout(), stderr(), alive(), assertAlive(), request(opts), stop() }
/// stop() sends SIGTERM, waits for the exit (SIGKILL after `stopTimeoutMs`)
/// and throws if the process crashed, was killed or exited non-zero.
async function startServer(binaryName, args = [], {
  timeoutMs = DEFAULT_START_TIMEOUT_MS,
  stopTimeoutMs = DEFAULT_STOP_TIMEOUT_MS,
  env = {},
} = {}) {
  const binDir = process.env.SIO_BIN_DIR;
  if (!binDir)
    throw new Error('SIO_BIN_DIR is not set (the build directory with the server binaries)');
  const exe = path.join(binDir, binaryName);
  const proc = spawn(exe, ['--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // SIO_DEBUG: the library logs why each session ended (see the tag below).
    env: { SIO_DEBUG: '1', ...process.env, ...env },
  });
  liveServers.add(proc);

  let stdout = '';
  let stderr = '';
  const append = (buf, chunk) => {
    buf += chunk;
    return buf.length > MAX_CAPTURE_CHARS ? buf.slice(buf.length - MAX_CAPTURE_CHARS) : buf;
  };
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  // The server's log goes to ours too, prefixed: ctest shows it when a test
  // fails, which is when one needs to know what the server saw.
  const tag = `[${binaryName} ${proc.pid}] `;
  proc.stderr.on('data', (chunk) => {
    stderr = append(stderr, chunk);
    process.stderr.write(chunk.replace(/^(?=.)/gm, tag));
  });

  let exitInfo = null; // { code, signal } once exited
  let exitExpected = false; // stop() or kill() asked for it
  let deathError = null; // the report of an unexpected exit
  let stopNoticedDeath = false;
  let server = null; // the handle, once listening
  const closed = new Promise((resolve) => proc.on('close', resolve));
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      liveServers.delete(proc);
      if (server)
        liveHandles.delete(server);
      resolve(exitInfo);
      // The rest of its output (a sanitizer's report) may still be in the
      // pipes; a child it left behind may hold them open, and an open pipe
      // would keep node from exiting: read for a moment, then let go.
      const drained = timeLimit(closed, 500, 'stdio').catch(() => {}).then(() => {
        proc.stdout.destroy();
        proc.stderr.destroy();
      });
      if (server && !exitExpected) {
        drained.then(() => {
          if (stopNoticedDeath)
            return; // stop() has thrown with it already
          deathError = new Error(`${binaryName} (pid ${proc.pid}) ${describeExit()} unexpectedly, ` +
                                 `while no test stopped it${diagnostics()}`);
          reportDeath(deathError);
        });
      }
    });
  });
  const describeExit = () =>
    exitInfo.signal ? `killed by ${exitInfo.signal}` : `exited with code ${exitInfo.code}`;
  const diagnostics = () =>
    `\n--- ${binaryName} stderr (tail) ---\n${stderr.slice(-8000)}\n--- stdout (tail) ---\n${stdout.slice(-2000)}`;

  let listening;
  try {
    listening = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${binaryName} did not report "listening on" within ${timeoutMs} ms`)),
        timeoutMs);
      proc.stdout.on('data', (chunk) => {
        stdout = append(stdout, chunk);
        const m = LISTENING_RE.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve({ url: m[1], host: m[2].replace(/^\[|\]$/g, ''), port: Number(m[3]) });
        }
      });
      proc.on('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot start ${exe}: ${err.message}`));
      });
      exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${binaryName} ${describeExit()} before listening`));
      });
    });
  } catch (err) {
    if (!exitInfo) {
      proc.kill('SIGKILL');
      await timeLimit(exited, 5000, `${binaryName} exit after SIGKILL`).catch(() => {});
    }
    err.message += diagnostics();
    throw err;
  }

  let stopping = null;
  server = {
    ...listening,
    name: binaryName,
    proc,
    pid: proc.pid,
    stdout: () => stdout,
    stderr: () => stderr,
    alive: () => exitInfo === null,
    /// Throws (with stderr) if the process is gone.
    assertAlive(context = '') {
      if (exitInfo)
        throw new Error(`${binaryName} ${describeExit()} unexpectedly${context ? ` (${context})` : ''}${diagnostics()}`);
    },
    /// Sends `signal` to the process and expects it to exit (a deliberate
    /// crash: the harness does not count its exit as a failure). Use this,
    /// not proc.kill(), for a signal that ends the process.
    kill(signal = 'SIGKILL') {
      exitExpected = true;
      proc.kill(signal);
      return timeLimit(exited, 5000, `${binaryName} exit after ${signal}`);
    },
    stopRequested: () => stopping !== null,
    /// httpRequest() against this server.
    request(opts = {}) {
      return httpRequest({ ...opts, host: listening.host, port: listening.port });
    },
    stop() {
      if (!stopping) {
        stopping = (async () => {
          if (exitInfo) {
            // Reported here: no need to report it again at the end.
            stopNoticedDeath = true;
            settleDeath(deathError);
            throw new Error(`${binaryName} had already ${describeExit()} before stop()${diagnostics()}`);
          }
          exitExpected = true;
          proc.kill('SIGTERM');
          let killed = false;
          try {
            await timeLimit(exited, stopTimeoutMs, `${binaryName} exit after SIGTERM`);
          } catch {
            killed = true;
            proc.kill('SIGKILL');
            await timeLimit(exited, 5000, `${binaryName} exit after SIGKILL`);
          }
          if (killed)
            throw new Error(`${binaryName} did not exit within ${stopTimeoutMs} ms of SIGTERM (SIGKILLed)${diagnostics()}`);
          if (exitInfo.signal || exitInfo.code !== 0)
            throw new Error(`${binaryName} ${describeExit()} on SIGTERM${diagnostics()}`);
        })();
      }
      return stopping;
    },
  };
  liveHandles.add(server);
  return server;
}

module.exports = {
  startServer,
  binaryHasOptions,
  httpRequest,
  waitFor,
  waitForEvent,
  withTimeout,
  delay,
};
