// Node's cluster mode for scripts/bench-stacks: what a Node user runs to use
// several cores (socket.io's docs, "Using cluster mode"): a primary that
// accepts every connection and hands it to a worker with @socket.io/sticky
// (least-connection, so a polling session keeps its worker), and workers that
// share broadcasts, rooms and fetchSockets through @socket.io/cluster-adapter
// (IPC via the primary). Each worker runs the chat of server.js.
"use strict";

const cluster = require("cluster");
const http = require("http");
const { Server } = require("socket.io");
const { setupMaster, setupWorker } = require("@socket.io/sticky");
const { createAdapter, setupPrimary } = require("@socket.io/cluster-adapter");

function run(opts, chat) {
  if (cluster.isPrimary) {
    const httpServer = http.createServer();
    setupMaster(httpServer, { loadBalancingMethod: "least-connection" });
    setupPrimary();
    cluster.setupPrimary({ serialization: "advanced" }); // binary payloads between processes
    chat.listenOrExit(httpServer, opts, () => {
      const port = httpServer.address().port;
      for (let i = 0; i < opts.workers; i++)
        cluster.fork({ SIO_BENCH_PUBLIC_PORT: String(port) });
      console.log(`node socket.io ${chat.version} cluster mode (${opts.workers} workers, sticky least-connection, cluster adapter) listening on http://${opts.host}:${port}`);
    });
    cluster.on("exit", (worker, code, signal) => {
      if (!stopping)
        console.error(`cluster.js: worker ${worker.process.pid} exited (${signal || code})`);
    });
    let stopping = false;
    const stop = () => {
      stopping = true;
      for (const id in cluster.workers)
        cluster.workers[id].kill();
      httpServer.close();
      setTimeout(() => process.exit(0), 200).unref();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    return;
  }
  // A worker: no listener of its own; the primary passes it connections.
  const httpServer = http.createServer(chat.notFound);
  const io = new Server(httpServer, chat.serverOptions(opts));
  io.adapter(createAdapter());
  setupWorker(io);
  chat.attachChat(io, opts, Number(process.env.SIO_BENCH_PUBLIC_PORT), true);
  process.on("SIGTERM", () => process.exit(0));
}

module.exports = { run };
