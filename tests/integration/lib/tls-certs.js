'use strict';
// A self-signed certificate for 127.0.0.1 (and localhost), made once per test
// process with the openssl CLI, for servers started with --tls-cert/--tls-key.
//   const { serverCert } = require('./lib/tls-certs');
//   const { cert, key, ca } = serverCert();      // paths; ca is the certificate itself
//   serverCert('other')                            // another key pair
//   startServer('sio-test-server', ['--tls-cert', cert, '--tls-key', key]);
//   io(url, { ca: fs.readFileSync(ca) });

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

let dir = null;
const made = new Map(); // name -> { cert, key, ca }

/// A certificate and key named `name` (each name its own key pair).
function serverCert(name = 'server') {
  if (made.has(name))
    return made.get(name);
  if (!dir) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-tls-certs-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', key, '-out', cert,
  ], { stdio: 'ignore', timeout: 20000 });
  made.set(name, { cert, key, ca: cert });
  return made.get(name);
}

module.exports = { serverCert };
