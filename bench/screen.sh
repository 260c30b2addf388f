#!/usr/bin/env bash
# The interactive screen's latency at a big table, idle and under an event storm. Root; tmux.
# Usage: bench/screen.sh [BUILD_DIR] [FLOWS] [STORM_EVENTS_PER_S]   default: build 100000 50000
# SCREEN_ARGS: flowtop's options (default "-n -G"; e.g. "--geoip-dir tests/data/geoip" turns on
# reverse DNS, answered inside the namespace by a silent local nameserver, and GeoIP fixtures).
# SCREEN_REMOTES: the flows go to this many remote addresses (81.2.69.1 and up, public, so they
# are looked up; default 1, 10.71.0.1: private, never looked up).
# SCREEN_RUNS: which parts run, in order (default "alone idle storm"; bench/run.sh asks for "storm").
# SCREEN_STORM_S: seconds of storm (default 16; at least 12, the keys take about 10 s).
# flowtop runs in a throw-away namespace under tmux (160x50) with --stats while tmux types the
# same keys every run: scrolling, sort changes, a filter, protocol toggles, every tab. The storm is
# ct_inject --update over the same entries (UPDATE events, the table stays at FLOWS entries); the
# same storm is first sent with only `conntrack -E` listening, for comparison (not during flowtop's
# run: on a small machine it would take the CPU flowtop is measured on). Prints flowtop's --stats
# lines per run.
set -euo pipefail
build=$(realpath "${1:-build}")
flows=${2:-100000}
rate=${3:-50000}
args=${SCREEN_ARGS:--n -G}
remotes=${SCREEN_REMOTES:-1}
parts=${SCREEN_RUNS:-alone idle storm}
storm_s=${SCREEN_STORM_S:-16}
flowtop=$build/flowtop; inject=$build/tests/ct_inject
[ -x "$flowtop" ] && [ -x "$inject" ] || { echo "build flowtop and ct_inject first" >&2; exit 2; }
command -v tmux >/dev/null || { echo "bench/screen.sh needs tmux" >&2; exit 2; }
ns=ftscreen-$$
sock=ftscreen-$$
work=$(mktemp -d)
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  rm -f "/tmp/tmux-$(id -u)/$sock"  # tmux leaves its socket behind
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work" "/etc/netns/$ns"
}
trap cleanup EXIT
in_ns() { ip netns exec "$ns" "$@"; }
key() { tmux -L "$sock" send-keys -t s "$@"; }

ip netns add "$ns"
in_ns ip link set lo up
mkdir -p "/etc/netns/$ns"   # reverse DNS, when on, asks 127.0.0.1 inside the namespace: nobody
printf 'nameserver 127.0.0.1\n' >"/etc/netns/$ns/resolv.conf"
for s in acct timestamp; do in_ns sysctl -qw net.netfilter.nf_conntrack_$s=1; done
in_ns sysctl -qw net.netfilter.nf_conntrack_events=1   # UPDATE events for injected entries
per=$(( flows / remotes ))
dst() { if [ "$remotes" -eq 1 ]; then echo 10.71.0.1; else echo "81.2.$(( 69 + $1 / 250 )).$(( 1 + $1 % 250 ))"; fi; }
for r in $(seq 0 $(( remotes - 1 ))); do
  in_ns "$inject" -q --count "$per" --proto tcp --src 10.70.0.0 --dst "$(dst "$r")" >/dev/null
done
flows=$(( per * remotes ))

run() {  # run idle|storm
  local mode=$1 home=$work/home-$1
  mkdir -p "$home"   # no flowtoprc: every run starts on the Flows tab
  tmux -L "$sock" new -d -s s -x 160 -y 50 \
    "HOME=$home ip netns exec $ns $flowtop $args --no-sysctl --stats 2>$work/stats-$mode"
  sleep 4   # the first dump of a big table, and a few snapshots
  local ipid=''
  if [ "$mode" = storm ]; then
    storm >"$work/inj" & ipid=$!
    sleep 1
  fi
  local i k
  for i in $(seq 30); do key Down; sleep 0.05; done
  for k in '>' '>' r '<' r; do key "$k"; sleep 0.3; done
  key /; for k in p o r t = 8 0; do key "$k"; sleep 0.05; done; key Enter; sleep 0.3
  key Escape; sleep 0.3
  for k in U U T T; do key "$k"; sleep 0.3; done
  for i in $(seq 5); do key Tab; sleep 0.4; done
  for i in $(seq 20); do key Up; sleep 0.05; done
  key PageDown; sleep 0.2; key End; sleep 0.2; key Home; sleep 0.2
  tmux -L "$sock" capture-pane -p -t s | head -3 >"$work/pane-$mode"
  if [ -n "$ipid" ]; then
    wait "$ipid" || true
  fi
  key q
  for _ in $(seq 50); do tmux -L "$sock" has-session -t s 2>/dev/null || break; sleep 0.1; done
  tmux -L "$sock" kill-server 2>/dev/null || true
  echo "== $mode: $flows flows to $remotes remote address(es)$([ "$mode" = storm ] && echo ", $rate UPDATE events/s"), flowtop $args"
  sed 's/^flowtop: //' "$work/stats-$mode"
  if [ "$mode" = storm ]; then
    echo "storm: $(grep -o 'updated [0-9]*' "$work/inj" | cut -d' ' -f2) UPDATE events sent (flowtop's events= counts what it received)"
  fi
}

passes=$(( (rate * storm_s + per - 1) / per ))   # about storm_s seconds of storm
storm() {
  in_ns "$inject" -q --update --passes "$passes" --count "$per" --rate "$rate" \
    --proto tcp --src 10.70.0.0 --dst "$(dst 0)"
}

alone() {  # the storm with only conntrack -E listening
  ip netns exec "$ns" stdbuf -oL conntrack -E -e UPDATES >"$work/ev" 2>/dev/null & cpid=$!
  sleep 0.5
  sent=$(storm | grep -o 'updated [0-9]*' | cut -d' ' -f2)
  sleep 1; kill -INT "$cpid" 2>/dev/null || true; wait "$cpid" 2>/dev/null || true
  got=$(grep -c . "$work/ev" || true)
  echo "== the storm alone: $sent UPDATE events at $rate/s; conntrack -E received $got ($(( 100 * got / (sent > 0 ? sent : 1) ))%)"
}

for part in $parts; do
  case $part in
    alone) alone ;;
    idle | storm) run "$part" ;;
    *) echo "SCREEN_RUNS: unknown part $part" >&2; exit 2 ;;
  esac
done
