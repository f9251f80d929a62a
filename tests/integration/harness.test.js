'use strict';
// The harness itself (lib/harness.js): a server that dies while nobody asked
// it to fails the test that is running at once, whatever that test awaits,
// and a file whose after() forgets a server still ends (CI once waited for
// ctest's 300 s timeout after a node aborted with a sanitizer's report).
// Runs the files in fixtures/ with a stand-in server (fixtures/fake-server.js).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');

const FIXTURES = path.join(__dirname, 'fixtures');

/// Runs one fixture with node --test (TAP); resolves with { code, out, ms }.
function runFixture(name, limitMs = 30000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    // Without NODE_TEST_CONTEXT, which would make the child report to us.
    const { NODE_TEST_CONTEXT, ...env } = process.env; // eslint-disable-line no-unused-vars
    const proc = spawn(process.execPath, ['--test', '--test-reporter=tap', path.join(FIXTURES, name)], {
      env: { ...env, SIO_BIN_DIR: FIXTURES },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (c) => (out += c));
    proc.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} did not end within ${limitMs} ms:\n${out}`));
    }, limitMs);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, ms: Date.now() - t0 });
    });
  });
}

/// The TAP block of the test named `name`: { ok, durationMs, text }.
function tapResult(out, name) {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => new RegExp(`^\\s*(not )?ok \\d+ - ${name}$`).test(l));
  assert.ok(i >= 0, `no result for '${name}' in:\n${out}`);
  const ok = !/^\s*not ok/.test(lines[i]);
  const rest = lines.slice(i + 1, i + 40).join('\n');
  const m = /duration_ms: ([\d.]+)/.exec(rest);
  return { ok, durationMs: m ? Number(m[1]) : NaN, text: rest };
}

test('a server that aborts fails the test awaiting a raw promise at once; a forgotten server is stopped', async () => {
  const { code, out, ms } = await runFixture('dies-during-raw-wait.js');
  assert.notEqual(code, 0, out);
  const raw = tapResult(out, 'raw wait');
  assert.equal(raw.ok, false);
  assert.match(raw.text, /fake-server\.js \(pid \d+\) killed by SIGABRT unexpectedly/);
  assert.match(raw.text, /fake-server: aborting/, 'the dead server\'s stderr is in the failure');
  assert.match(out, /was still running after the last test; stopped now/);
  assert.ok(ms < 15000, `the file took ${ms} ms`);
});

test('a harness wait fails at once; a death during another test fails that test; kill() is no failure', async () => {
  const { code, out } = await runFixture('dies-during-harness-wait.js');
  assert.notEqual(code, 0, out);
  const waiting = tapResult(out, 'harness wait');
  assert.equal(waiting.ok, false);
  assert.match(waiting.text, /killed by SIGABRT unexpectedly/);
  assert.ok(waiting.durationMs < 10000, `failed after ${waiting.durationMs} ms (its wait was 60 s)`);
  assert.equal(tapResult(out, 'starts a server that dies soon').ok, true);
  const delayed = tapResult(out, 'a delay');
  assert.equal(delayed.ok, false);
  assert.ok(delayed.durationMs < 4000, `failed after ${delayed.durationMs} ms (its delay was 5 s)`);
  assert.equal(tapResult(out, 'deliberate kill').ok, true);
});

test("a file's own root-level after() stops its server before the harness's final check", async () => {
  const { code, out } = await runFixture('root-level-after.js');
  assert.equal(code, 0, out);
});

test('a server that dies before the first test fails that test, and the file still ends', async () => {
  const { code, out, ms } = await runFixture('dies-before-first-test.js');
  assert.notEqual(code, 0, out);
  const first = tapResult(out, 'first test');
  assert.equal(first.ok, false);
  assert.match(first.text, /before this test began: fake-server\.js \(pid \d+\) killed by SIGABRT/);
  assert.match(out, /was still running after the last test; stopped now/);
  assert.ok(ms < 15000, `the file took ${ms} ms`);
});
