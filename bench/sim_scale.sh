#!/bin/sh
# sim_scale.sh: the simulator's scale benchmark (issue 3). Runs
# nointrude-sim on sim/scenarios/medium10k.ini (10,000 nodes) and
# sim/scenarios/large.ini (100,000 nodes: join, stabilise, 10,000 lookups
# and 10,000 put/get pairs) under /usr/bin/time -v and prints, per run,
# events per second, wall and CPU time, peak RSS and peak memory per node.
# Sizes: 10k (real X25519 pair keys, memoised), 10k-model (modelled pair
# keys), 100k (large.ini as shipped: modelled keys), 100k-x25519 (real
# keys; about twice the CPU).
#
#   bench/sim_scale.sh [BINARY] [OUTDIR] [SIZES]
#
# BINARY defaults to build/release/sim/nointrude-sim (build it with
# `cmake --preset release && cmake --build build/release --target
# nointrude-sim`), OUTDIR to sim-scale, SIZES to "10k 100k". Needs jq.
# The 100k run needs about 8.5 minutes of CPU and 4.4 GiB (docs/SIMULATOR.md).
set -eu

bin=${1:-build/release/sim/nointrude-sim}
out=${2:-sim-scale}
sizes=${3:-"10k 100k"}
here=$(dirname "$0")/..

[ -x "$bin" ] || { echo "sim_scale.sh: no executable $bin" >&2; exit 2; }
command -v jq >/dev/null || { echo "sim_scale.sh: needs jq" >&2; exit 2; }
mkdir -p "$out"

# with_keys SCENARIO MODEL: a copy of SCENARIO with [scenario] key_model
# set to MODEL (0 or 1), in OUTDIR.
with_keys() {
  copy=$out/$(basename "$1" .ini)-keys$2.ini
  grep -v '^key_model' "$1" | sed "s/^\[scenario\]\$/[scenario]\nkey_model = $2/" >"$copy"
  echo "$copy"
}

run() { # run NAME SCENARIO
  name=$1 scen=$2 dir=$out/$1
  /usr/bin/time -v "$bin" run "$scen" --out "$dir" --no-plot \
    >"$dir.stdout" 2>"$dir.time" || {
    echo "sim_scale.sh: $name failed, see $dir.time" >&2; return 1; }
  rss_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$dir.time")
  user=$(sed -n 's/^[[:space:]]*User time (seconds): //p' "$dir.time")
  jq -r --arg name "$name" --arg rss "$rss_kb" --arg user "$user" '
    "\($name): \(.scenario.nodes) nodes, \(.run.events) events, " +
    "\(.host.events_per_s | floor) events/s, wall \(.host.wall_s | floor) s " +
    "(CPU \($user) s), peak RSS \(($rss | tonumber) / 1024 | floor) MB = " +
    "\(($rss | tonumber) * 1024 / .scenario.nodes | floor) B/node " +
    "(engine heap \(.host.memory.engine_bytes_per_node) B/node), " +
    "lookups \(.lookups.success_rate), gets ok \(.records.gets.ok)/" +
    "\(.records.gets.started)"' "$dir/summary.json"
}

for s in $sizes; do
  case $s in
  200) run 200 "$here/sim/scenarios/small.ini" ;; # smoke test of the script
  10k) run 10k "$here/sim/scenarios/medium10k.ini" ;;
  10k-model) run 10k-model "$(with_keys "$here/sim/scenarios/medium10k.ini" 1)" ;;
  100k) run 100k "$here/sim/scenarios/large.ini" ;;
  100k-x25519) run 100k-x25519 "$(with_keys "$here/sim/scenarios/large.ini" 0)" ;;
  *) echo "sim_scale.sh: unknown size $s (200, 10k, 10k-model, 100k, 100k-x25519)" >&2
     exit 2 ;;
  esac
done
