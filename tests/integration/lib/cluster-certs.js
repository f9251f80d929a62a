'use strict';
// Cluster links are mutual TLS: tests that start several nodes make one CA and
// a certificate per node with scripts/cluster-certs, once per test process.
//   const { tlsArgs } = require('./lib/cluster-certs');
//   startServer('sio-chat', ['--cluster-listen', '127.0.0.1:0', ...tlsArgs('a')]);

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const script = path.join(__dirname, '..', '..', '..', 'scripts', 'cluster-certs');
let dir = null;
const made = new Set();

/// The --openssl.* options that admit node `name` to this test process's cluster.
function tlsArgs(name = 'node') {
  if (!dir) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-cluster-certs-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  if (!made.has(name)) {
    execFileSync(script, [dir, name], { stdio: 'ignore', timeout: 20000 });
    made.add(name);
  }
  return [
    `--openssl.cafile=${path.join(dir, 'ca.pem')}`,
    `--openssl.certificate=${path.join(dir, `${name}.pem`)}`,
    `--openssl.key=${path.join(dir, `${name}.key`)}`,
  ];
}

module.exports = { tlsArgs, certsDir: () => dir };
