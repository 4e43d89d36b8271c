#!/usr/bin/env bash
# A newcomer's first run: installs the dependencies, builds nointrude
# (release preset) and runs a small network of nodes on loopback, each on
# its own 127.N.0.1 address (the routing table's IP-diversity limits count
# /24 and /16 prefixes, so distinct prefixes keep every node admissible).
# The nodes stay up until Ctrl-C; query them from another terminal.
#
#   NODES=5 PORT=47000 DEMO_DIR=demo scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${NODES:-5}
port=${PORT:-47000}
dir=${DEMO_DIR:-demo}

if [ "${SKIP_DEPS:-0}" != 1 ]; then scripts/install-deps.sh; fi
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset release >/dev/null
cmake --build build/release -j"$jobs" --target nointrude >/dev/null
bin=$(pwd)/build/release/node/nointrude
echo "built $bin"

pids=()
stop_nodes() {
  trap - EXIT INT TERM
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  echo "nodes stopped; their data stays in $dir/"
}
trap stop_nodes EXIT INT TERM

mkdir -p "$dir"
for i in $(seq 1 "$nodes"); do
  data="$dir/node$i"
  "$bin" keygen --data-dir "$data" >/dev/null
  boot=()
  if [ "$i" -gt 1 ]; then boot=(--bootstrap "127.1.0.1:$port"); fi
  "$bin" node --data-dir "$data" --listen "127.$i.0.1:$port" "${boot[@]}" \
    2>"$data/node.log" &
  pids+=($!)
  # The first node must be up before the others bootstrap from it.
  for _ in $(seq 1 50); do
    [ -S "$data/control.sock" ] && break
    sleep 0.1
  done
done

# Wait (at most 15 s) until the last node has found its peers.
for _ in $(seq 1 150); do
  c=$("$bin" status --data-dir "$dir/node$nodes" --json 2>/dev/null |
      sed -n 's/.*"contacts": *\([0-9]*\).*/\1/p')
  [ -n "$c" ] && [ "$c" -ge $((nodes - 1)) ] && break
  sleep 0.1
done

cat <<MSG

$nodes nodes are running on 127.1.0.1 .. 127.$nodes.0.1, port $port (logs: $dir/node*/node.log).
From another terminal, try:

  $bin status --data-dir $dir/node1
  $bin peers  --data-dir $dir/node2
  key=\$($bin put --data-dir $dir/node2 greeting "hello, world")
  $bin get    --data-dir $dir/node$nodes \$key
  $bin lookup --data-dir $dir/node3 \$key --json

Press Ctrl-C to stop the network.
MSG
wait
