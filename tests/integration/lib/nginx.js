'use strict';
// Debian's nginx in front of sio-actor nodes, for tests: a config generated
// from the node list in a temporary prefix, started in the foreground on a
// free loopback port, stopped (and its files removed) by stop().
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { spawn } = require('node:child_process');
const { waitFor, withTimeout } = require('./harness');

const NGINX = '/usr/sbin/nginx';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/// `upstreams`: ["127.0.0.1:port", ...]; `method`: 'round-robin' or 'ip_hash'.
function nginxConfig({ port, prefix, upstreams, method }) {
  return `
worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  log_format sio '$status $upstream_addr "$request"';
  access_log ${prefix}/access.log sio;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  upstream sio_nodes {
    ${method === 'ip_hash' ? 'ip_hash;' : '# round-robin: no ip_hash, no stickiness'}
    ${upstreams.map((u) => `server ${u};`).join('\n    ')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://sio_nodes;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $host;
      proxy_read_timeout 120s;
    }
  }
}
`;
}

async function startNginx(upstreams, { method = 'round-robin' } = {}) {
  if (!fs.existsSync(NGINX))
    throw new Error(`${NGINX} not found (scripts/install-deps installs nginx)`);
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-nginx-'));
  const port = await freePort();
  const conf = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(conf, nginxConfig({ port, prefix, upstreams, method }));
  const proc = spawn(NGINX, ['-p', prefix, '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (c) => (stderr += c));
  let exited = false;
  proc.on('exit', () => { exited = true; });
  await waitFor(() => {
    if (exited)
      throw new Error(`nginx exited: ${stderr}`);
    return new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
  }, 5000, 'nginx listening');
  return {
    url: `http://127.0.0.1:${port}`,
    accessLog: () => fs.readFileSync(path.join(prefix, 'access.log'), 'utf8'),
    async stop() {
      if (!exited) {
        proc.kill('SIGTERM');
        await withTimeout(new Promise((r) => proc.on('exit', r)), 5000, 'nginx exit').catch(() => proc.kill('SIGKILL'));
      }
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}

module.exports = { startNginx };
