// The reference server for scripts/bench: Node's socket.io 4.x doing what
// apps/chat/main.cpp (sio-chat) does, so that sio-bench can drive both with
// the same traffic:
//   chat message  client -> server: a string; server -> everyone:
//                 "port:<listen port> user:<socket id> msg:<text>"
//   users         server -> everyone: {"count": n, "online": n, "truncated": bool, "users": [ids...]}
//                 (coalesced as sio-chat's roster, apps/chat/roster.cpp: at most one
//                 per 250 ms, less often to keep within --roster-rate packets/s; above
//                 100 users the names only when they changed, and to newcomers)
//   notice        welcome on connect; join/leave notices up to 100 users, coalesced the same way
//   echo          acks its arguments back at once          (benchmark contract)
//   join          joins the room named by the string argument, acks true
//   to-room       [room, msg]: "chat message" with msg to that room, acks true
// Same limits as sio-chat (flood token bucket, message length, maxHttpBufferSize).
//
//   node server.js [--port 3000] [--host 127.0.0.1] [--flood-rate 20]
//                  [--flood-burst 40] [--max-message-chars 2000]
//                  [--max-http-buffer-size 100000] [--roster-rate 10000]
//                  [--recovery-window 0]  (ms; > 0: connectionStateRecovery, as sio-chat's default)
//                  [--redis-port P]  @socket.io/redis-adapter to redis-server on 127.0.0.1:P
//                  [--workers N]     Node cluster mode: N workers behind @socket.io/sticky
//                                    (least-connection) with @socket.io/cluster-adapter
// The last two are the stacks sio-actor replaces (docs/benchmarks.md, scripts/bench-stacks).
"use strict";

const http = require("http");
const { Server } = require("socket.io");

function parseArgs(argv) {
  const opts = {
    port: 3000,
    host: "127.0.0.1",
    floodRate: 20,
    floodBurst: 40,
    maxMessageChars: 2000,
    maxHttpBufferSize: 100000,
    rosterRate: 10000,
    recoveryWindow: 0,
    redisPort: 0,
    workers: 0,
  };
  const names = {
    "--port": "port",
    "--host": "host",
    "--flood-rate": "floodRate",
    "--flood-burst": "floodBurst",
    "--max-message-chars": "maxMessageChars",
    "--max-http-buffer-size": "maxHttpBufferSize",
    "--roster-rate": "rosterRate",
    "--recovery-window": "recoveryWindow",
    "--redis-port": "redisPort",
    "--workers": "workers",
  };
  for (let i = 0; i < argv.length; i++) {
    let [name, value] = argv[i].split("=", 2);
    if (!(name in names)) {
      console.error(`server.js: unknown option ${name}`);
      process.exit(1);
    }
    if (value === undefined) value = argv[++i];
    const key = names[name];
    opts[key] = key === "host" ? value : Number(value);
  }
  return opts;
}

const notice = (kind, text) => ({ kind, text });

function serverOptions(opts) {
  return {
    serveClient: false,
    maxHttpBufferSize: opts.maxHttpBufferSize,
    ...(Number(opts.recoveryWindow) > 0
      ? { connectionStateRecovery: { maxDisconnectionDuration: Number(opts.recoveryWindow) } }
      : {}),
  };
}

/// The chat on `io` (one process of it): `port` is the one clients connect to.
function attachChat(io, opts, port, clustered) {
  class TokenBucket {
    constructor(rate, burst) {
      this.rate = rate;
      this.burst = burst;
      this.tokens = burst;
      this.last = performance.now();
    }
    take() {
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + (this.rate * (now - this.last)) / 1000);
      this.last = now;
      if (this.tokens < 1) return false;
      this.tokens -= 1;
      return true;
    }
  }

  // -- who is connected (sio-chat's roster actor) --------------------------------
  const flushInterval = 250;
  const maxListedUsers = 100;
  // users: in order of arrival (indexOf on leave, as Node apps usually do);
  // lastListed: the names the clients were last sent.
  const roster = { users: [], joined: [], left: [], lastListed: [], online: 0, flushPending: false, lastFlush: 0 };

  function describe(ids, verb) {
    const shown = Math.min(ids.length, 3);
    let text = "";
    for (let i = 0; i < shown; i++) {
      if (i > 0) text += i + 1 === shown && ids.length === shown ? " and " : ", ";
      text += ids[i];
    }
    if (ids.length > shown) text += ` and ${ids.length - shown} others`;
    return `${text} ${verb}`;
  }

  function changeNotice(kind, ids, verb) {
    const n = notice(kind, describe(ids, verb));
    n.count = ids.length;
    n.ids = ids.slice(0, maxListedUsers);
    return n;
  }

  function packetsPerClient(users) {
    return users <= maxListedUsers ? 3 : 1;
  }

  function currentInterval() {
    const n = roster.users.length;
    return Math.max(flushInterval, (n * packetsPerClient(n) * 1000) / opts.rosterRate);
  }

  function flush() {
    const small = roster.users.length <= maxListedUsers;
    if (small) {
      if (roster.joined.length === 1)
        io.except(roster.joined[0]).emit("notice", changeNotice("join", roster.joined, "joined"));
      else if (roster.joined.length > 0) io.emit("notice", changeNotice("join", roster.joined, "joined"));
      if (roster.left.length > 0) io.emit("notice", changeNotice("leave", roster.left, "left"));
    }
    const listed = roster.users.slice(0, maxListedUsers);
    const namesChanged = listed.length !== roster.lastListed.length || listed.some((id, i) => id !== roster.lastListed[i]);
    if (namesChanged) roster.lastListed = listed;
    const counts = {
      count: roster.users.length,
      online: Math.max(roster.online, roster.users.length),
      truncated: !small,
    };
    if (small || namesChanged) io.local.emit("users", { ...counts, users: roster.lastListed });
    else if (roster.joined.length === 0) io.local.emit("users", counts);
    else {
      io.local.except(roster.joined).emit("users", counts);
      io.local.to(roster.joined).emit("users", { ...counts, users: roster.lastListed });
    }
    roster.joined = [];
    roster.left = [];
    roster.lastFlush = performance.now();
  }

  function changed() {
    if (roster.flushPending) return;
    const interval = currentInterval();
    const since = performance.now() - roster.lastFlush;
    if (since >= interval) {
      flush();
      return;
    }
    roster.flushPending = true;
    setTimeout(() => {
      roster.flushPending = false;
      flush();
    }, interval - since);
  }

  // -- one connection ---------------------------------------------------------------

  io.on("connection", (socket) => {
    socket.emit("notice", {
      ...notice("welcome", `You are ${socket.id}.`),
      id: socket.id,
      maxMessageChars: opts.maxMessageChars,
      floodRate: opts.floodRate,
      floodBurst: opts.floodBurst,
    });
    roster.users.push(socket.id);
    roster.joined.push(socket.id);
    changed();
    socket.on("disconnect", () => {
      const i = roster.users.indexOf(socket.id);
      if (i < 0) return;
      roster.users.splice(i, 1);
      const j = roster.joined.indexOf(socket.id);
      if (j >= 0) roster.joined.splice(j, 1);
      else if (roster.users.length < maxListedUsers) roster.left.push(socket.id);
      changed();
    });

    const bucket = new TokenBucket(opts.floodRate, opts.floodBurst);
    let warnedAt = -Infinity;
    socket.on("chat message", (...args) => {
      if (typeof args[args.length - 1] === "function") args.pop();
      if (!bucket.take()) {
        const now = performance.now();
        if (now - warnedAt >= 5000) {
          warnedAt = now;
          socket.emit("notice", notice("warning",
            `You are sending too fast (limit: ${opts.floodRate} messages/s, bursts of ` +
            `${opts.floodBurst}); messages are being dropped.`));
        }
        return;
      }
      const text = args[0];
      if (typeof text !== "string") {
        socket.emit("notice", notice("error", "Not sent: a chat message must be text."));
        return;
      }
      const length = [...text].length;
      if (length > opts.maxMessageChars) {
        socket.emit("notice", notice("error",
          `Not sent: the message has ${length} characters, the limit is ${opts.maxMessageChars}.`));
        return;
      }
      io.emit("chat message", `port:${port} user:${socket.id} msg:${text}`);
    });

    // The benchmark contract.
    socket.on("echo", (...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      if (ack) ack(...args);
    });
    socket.on("join", (...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      const ok = typeof args[0] === "string" && args[0].length > 0;
      if (ok) socket.join(args[0]);
      if (ack) ack(ok);
    });
    socket.on("to-room", (...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      // Either to-room(room, msg) or to-room([room, msg]).
      const a = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
      const ok = a.length >= 2 && typeof a[0] === "string";
      if (ok) io.to(a[0]).emit("chat message", a[1]);
      if (ack) ack(ok);
    });
  });

  // In a cluster "online" counts every process: one fetchSockets every 2 s,
  // as sio-chat's roster does.
  if (clustered)
    setInterval(() => {
      io.fetchSockets().then((s) => { roster.online = s.length; }).catch(() => {});
    }, 2000).unref();
}

function listenOrExit(httpServer, opts, onListening) {
  httpServer.on("error", (err) => {
    console.error(`server.js: cannot listen on ${opts.host}:${opts.port}: ${err.message}`);
    process.exit(1);
  });
  httpServer.listen(opts.port, opts.host, onListening);
}

const notFound = (req, res) => {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found\n");
};

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const version = require("socket.io/package.json").version;
  if (opts.workers > 0)
    return require("./cluster.js").run(opts, { serverOptions, attachChat, listenOrExit, notFound, version });
  const httpServer = http.createServer(notFound);
  const io = new Server(httpServer, serverOptions(opts));
  if (opts.redisPort > 0) {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    const pub = createClient({ url: `redis://127.0.0.1:${opts.redisPort}` });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
  }
  listenOrExit(httpServer, opts, () => {
    const port = httpServer.address().port;
    attachChat(io, opts, port, opts.redisPort > 0);
    console.log(`node socket.io ${version}${opts.redisPort > 0 ? " (redis adapter)" : ""} listening on http://${opts.host}:${port}`);
  });
  const stop = () => {
    io.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (require.main === module)
  main().catch((err) => {
    console.error(`server.js: ${err.stack || err}`);
    process.exit(1);
  });
