#!/usr/bin/env bash
# Two sio-chat nodes clustered (mutual TLS, certificates made for this run),
# for scripts/bench-stacks:  sio-nodes.sh SIO_CHAT PORT1 PORT2 CPORT1 CPORT2 [sio-chat options]
# Runs until SIGTERM, then stops both nodes.
set -euo pipefail
chat=$1 p1=$2 p2=$3 c1=$4 c2=$5
shift 5
work=$(mktemp -d /tmp/sio-stack.XXXXXX)
repo=$(cd "$(dirname "$0")/../../.." && pwd)
"$repo/scripts/cluster-certs" "$work" n0 n1 >/dev/null
tls() { echo --openssl.cafile="$work/ca.pem" --openssl.certificate="$work/$1.pem" --openssl.key="$work/$1.key"; }
pids=()
stop() {
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  rm -rf "$work"
  exit 0
}
trap stop TERM INT
"$chat" --port "$p1" --cluster-listen "127.0.0.1:$c1" $(tls n0) "$@" &
pids+=($!)
"$chat" --port "$p2" --cluster-listen "127.0.0.1:$c2" --join "127.0.0.1:$c1" $(tls n1) "$@" &
pids+=($!)
wait
