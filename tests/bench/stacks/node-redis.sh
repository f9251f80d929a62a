#!/usr/bin/env bash
# Two Node socket.io processes sharing broadcasts through @socket.io/redis-adapter
# and Debian's redis-server (no persistence), for scripts/bench-stacks:
#   node-redis.sh PORT1 PORT2 REDIS_PORT [server.js options]
# Runs until SIGTERM, then stops all three.
set -euo pipefail
p1=$1 p2=$2 rp=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
pids=()
stop() {
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  exit 0
}
trap stop TERM INT
redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  --loglevel warning &
pids+=($!)
for _ in $(seq 50); do
  redis-cli -p "$rp" ping >/dev/null 2>&1 && break
  sleep 0.1
done
node "$here/../node-server/server.js" --port "$p1" --redis-port "$rp" "$@" &
pids+=($!)
node "$here/../node-server/server.js" --port "$p2" --redis-port "$rp" "$@" &
pids+=($!)
wait
