#!/usr/bin/env bash
# flowtop against its references (conntrack(8) and a bare libmnl dump) on the same load, in the same
# run, in a throw-away network namespace filled with ct_inject. Root. See bench/README.md.
#
# Usage: bench/run.sh [--smoke] [BUILD_DIR] [SIZES...]
#   default: build 10000 100000 250000 (3 repeats below 200,000 flows, 2 above; ~5 minutes on a
#   2-vCPU VM). --smoke: 2,000 flows, one repeat, short windows and storms (seconds; CI runs it so
#   that the benchmark cannot rot): it fails when a step produces no number, never on a slow one.
# Prints a markdown table and keeps it in bench/results/ (git-ignored).
# shellcheck disable=SC2154  # the churn figures are read back with `.`
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
smoke=0
if [ "${1:-}" = --smoke ]; then
  smoke=1
  shift
fi
build=$(realpath "${1:-build}")
shift || true
sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then
  if [ $smoke = 1 ]; then sizes=(2000); else sizes=(10000 100000 250000); fi
fi
flowtop=$build/flowtop
inject=$build/tests/ct_inject
mnl=$build/bench/mnl_dump
measure=$build/bench/measure
for x in "$flowtop" "$inject" "$mnl" "$measure"; do
  [ -x "$x" ] || { echo "bench: $x is missing: build flowtop, ct_inject, mnl_dump and measure first" >&2; exit 2; }
done
for t in conntrack tmux stdbuf; do
  command -v $t >/dev/null || { echo "bench: needs $t" >&2; exit 2; }
done

if [ $smoke = 1 ]; then
  window=2          # seconds of steady state measured (--batch, screen)
  churn=5000        # churn storm: this many NEW, then as many DESTROY
  churn_rounds=1
  screen_flows=2000 screen_rate=5000 screen_s=12
else
  window=10
  churn=100000
  churn_rounds=2
  screen_flows=100000 screen_rate=50000 screen_s=16
fi
reps() { if [ $smoke = 1 ]; then echo 1; elif [ "$1" -ge 200000 ]; then echo 2; else echo 3; fi; }

json_flags=(--json -c 1 -n -G -46UTDISs --loopback --dns-flows --no-sysctl)
batch_flags=(--batch -t 1 -n -G -46UTDISs --no-sysctl --stats)
screen_flags=(-t 1 -n -G -46UTDISs --no-sysctl)

ns=ftbench-$$
sock=ftbench-$$
work=$(mktemp -d)
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  rm -f "/tmp/tmux-$(id -u)/$sock"  # tmux leaves its socket behind
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  sleep 0.2
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
in_ns() { ip netns exec "$ns" "$@"; }
now() { date +%s.%N; }
hz=$(getconf CLK_TCK)
started=$(now)
: >"$work/failed"

# The one-shot dumps run as SCHED_FIFO 10 (less noise from whatever else runs) when allowed.
rt=()
if chrt -f 10 true 2>/dev/null; then rt=(chrt -f 10); fi

# A step that produced no number is recorded; the run goes on and exits 1 at the end.
fail() {
  echo "bench: FAILED: $*" >&2
  echo "$*" >>"$work/failed"
}
isnum() { [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }
# calc EXPR: awk arithmetic on numbers (prints "nan" when an operand is not a number).
calc() { awk "BEGIN { x = $1; print x }" 2>/dev/null || echo nan; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# col FILE K: the median of column K of FILE (lines "WALL USER SYS MAXRSS_KB" from measure).
col() {
  if [ -s "$1" ]; then
    case $2 in
      cpu) awk '{print $2+$3}' "$1" | median ;;
      *) awk -v k="$2" '{print $k}' "$1" | median ;;
    esac
  else
    echo nan
  fi
}
# Formatting: seconds as ms or s, kB as MB, bytes per flow.
fmt_s() { isnum "$1" && awk -v s="$1" 'BEGIN { if (s < 1) printf "%.0f ms", s*1000; else printf "%.2f s", s }' || printf 'n/a'; }
fmt_mb() { isnum "$1" && awk -v k="$1" 'BEGIN { printf "%.1f MB", k/1024 }' || printf 'n/a'; }
per_flow() {  # per_flow FULL_KB EMPTY_KB FLOWS
  if isnum "$1" && isnum "$2" && [ "$3" -gt 0 ]; then
    awk -v f="$1" -v e="$2" -v n="$3" 'BEGIN { printf "%.0f B/flow", (f-e)*1024/n }'
  else printf 'n/a'; fi
}
ratio() { isnum "$1" && isnum "$2" && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f×", a/b; else printf "n/a" }' || printf 'n/a'; }
pct() { isnum "$1" && printf '%.1f %%' "$1" || printf 'n/a'; }

# timed TAG OUT CMD...: runs CMD in the namespace (SCHED_FIFO when allowed) under `measure`, stdout to
# OUT, stderr to $work/err; appends "WALL USER SYS MAXRSS_KB" to $work/TAG.
timed() {
  local tag=$1 out=$2 rc=0
  shift 2
  in_ns "${rt[@]}" "$measure" "$work/m" "$@" >"$out" 2>"$work/err" || rc=$?
  if [ $rc -ne 0 ] || ! [ -s "$work/m" ]; then
    fail "$tag: $(basename "$1") exited with $rc: $(tail -2 "$work/err" | tr '\n' ' ')"
    return 0
  fi
  cat "$work/m" >>"$work/$tag"
  rm -f "$work/m"
}

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo nan; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo nan; }

# window_of PID TAG: CPU % of a core over $window seconds and VmRSS at its end, into $work/TAG.
window_of() {
  local pid=$1 tag=$2 c0 c1 t0 t1 rss
  c0=$(cpu_ticks "$pid"); t0=$(now)
  sleep "$window"
  c1=$(cpu_ticks "$pid"); t1=$(now); rss=$(rss_kb "$pid")
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != flowtop ] || ! isnum "$c0" || ! isnum "$c1" || ! isnum "$rss"; then
    fail "$tag: flowtop (pid $pid) did not run through the window"
    return 0
  fi
  echo "$(calc "100 * ($c1 - $c0) / $hz / ($t1 - $t0)") $rss" >"$work/$tag"
}

# warm_s SECONDS_OF_ONE_RUN: how long to let a long-running flowtop settle (first dump + 2 frames).
warm_s() { awk -v w="$1" -v base="$([ $smoke = 1 ] && echo 1 || echo 2.5)" 'BEGIN { if (w != w + 0) w = 3; printf "%.1f", base + 1.5 * w }'; }

# fill N: exactly N entries: half TCP/IPv4, a quarter UDP/IPv4, a quarter TCP/IPv6.
fill() {
  in_ns conntrack -F >/dev/null 2>&1 || true
  local n=$1 a=$(( $1 / 2 )) b=$(( $1 / 4 ))
  [ "$n" -gt 0 ] || return 0
  in_ns "$inject" -q --count "$a" --proto tcp --src 10.70.0.0 --dst 10.71.0.1 >/dev/null ||
    fail "fill $n: ct_inject tcp"
  in_ns "$inject" -q --count "$b" --proto udp --src 10.72.0.0 --dst 10.73.0.1 >/dev/null ||
    fail "fill $n: ct_inject udp"
  in_ns "$inject" -q --count $(( n - a - b )) --proto tcp --src fd00:70:: --dst fd00:71::1 >/dev/null ||
    fail "fill $n: ct_inject tcp6"
}

ip netns add "$ns"
in_ns ip link set lo up
for s in acct timestamp; do in_ns sysctl -qw net.netfilter.nf_conntrack_$s=1; done
in_ns sysctl -qw net.netfilter.nf_conntrack_events=1   # events for injected entries too

# Per size (0 = the empty table every per-flow figure is taken over).
for n in 0 "${sizes[@]}"; do
  fill "$n"
  have=$(in_ns "$mnl") || have=nan
  echo "$have" >"$work/have.$n"
  [ "$have" = "$n" ] || echo "bench: $n flows asked, the table holds $have" >&2
  r=$(reps "$n")
  echo "bench: $n flows ($have in the table): $r one-shot runs, then --batch and the screen for ${window} s each" >&2
  # One-shot dumps, interleaved so that a noisy moment hits all three alike.
  for _ in $(seq "$r"); do
    timed "L.$n" /dev/null conntrack -L
    timed "M.$n" "$work/count" "$mnl"
    [ "$(cat "$work/count" 2>/dev/null)" = "$have" ] || fail "mnl_dump counted $(cat "$work/count" 2>/dev/null) of $have"
    timed "F.$n" /dev/null "$flowtop" "${json_flags[@]}" --stats
    d=$(grep -o 'last_dump_ms=[0-9.]*' "$work/err" | cut -d= -f2 || true)
    f=$(grep -o ' flows=[0-9]*' "$work/err" | cut -d= -f2 || true)
    if isnum "$d"; then echo "$d" >>"$work/D.$n"; else fail "flowtop --stats gave no last_dump_ms at $n"; fi
    [ "$f" = "$have" ] || echo "bench: flowtop -c 1 saw ${f:-?} flows of $have" >&2
  done
  warm=$(warm_s "$(col "$work/F.$n" 1)")

  # --batch -t 1: steady state.
  ip netns exec "$ns" "$flowtop" "${batch_flags[@]}" >/dev/null 2>"$work/batch.err" &
  bpid=$!
  sleep "$warm"
  window_of "$bpid" "B.$n"
  kill -INT "$bpid" 2>/dev/null || true
  wait "$bpid" 2>/dev/null || true
  # Its collector thread's CPU for a full dump after the first (a counter refresh), averaged over
  # the run, from --stats at exit.
  rc=$(grep -o 'refresh_cpu_ms=[0-9.]*' "$work/batch.err" | cut -d= -f2 || true)
  if isnum "$rc"; then echo "$rc" >"$work/R.$n"; else fail "--batch --stats gave no refresh_cpu_ms at $n"; fi

  # The screen, idle (no keys), under tmux.
  mkdir -p "$work/home"   # no flowtoprc
  tmux -L "$sock" new -d -s s -x 160 -y 50 \
    "exec env HOME=$work/home ip netns exec $ns $flowtop ${screen_flags[*]} 2>$work/screen.err"
  spid=$(tmux -L "$sock" display -p -t s '#{pane_pid}')
  sleep "$warm"
  window_of "$spid" "S.$n"
  tmux -L "$sock" send-keys -t s q
  for _ in $(seq 50); do tmux -L "$sock" has-session -t s 2>/dev/null || break; sleep 0.1; done
  tmux -L "$sock" kill-server 2>/dev/null || true
done
in_ns conntrack -F >/dev/null 2>&1 || true

# The kernel's drop count on PID's subscribed (event) netfilter netlink sockets.
kernel_drops() {
  local inodes
  inodes=$(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n' | paste -sd' ')
  in_ns cat /proc/net/netlink |
    awk -v inodes="$inodes" 'BEGIN { split(inodes, a, " "); for (i in a) want[a[i]] = 1 }
      NR > 1 && $2 == 12 && $4 != "00000000" && ($10 in want) { d += $9; found = 1 }
      END { if (found) print d; else print "nan" }'
}

# Churn storm: $churn NEW then $churn DESTROY as fast as ct_inject goes, flowtop --batch and
# conntrack -E listening at once.
for round in $(seq "$churn_rounds"); do
  in_ns conntrack -F >/dev/null 2>&1 || true
  ip netns exec "$ns" stdbuf -oL conntrack -E >"$work/ev" 2>/dev/null &
  cpid=$!
  ip netns exec "$ns" "$flowtop" "${batch_flags[@]}" >/dev/null 2>"$work/churn.err" &
  fpid=$!
  sleep 2
  c0=$(cpu_ticks "$fpid")
  in_ns "$inject" --count "$churn" --proto udp --src 10.90.0.0 --dst 10.91.0.1 >/dev/null 2>"$work/inj.new" ||
    fail "churn: ct_inject new: $(cat "$work/inj.new")"
  in_ns "$inject" --delete --count "$churn" --proto udp --src 10.90.0.0 --dst 10.91.0.1 >/dev/null 2>"$work/inj.del" ||
    fail "churn: ct_inject delete: $(cat "$work/inj.del")"
  sleep 2
  c1=$(cpu_ticks "$fpid")
  fdrops=$(kernel_drops "$fpid")
  cdrops=$(kernel_drops "$cpid")
  kill -INT "$fpid" "$cpid" 2>/dev/null || true
  wait "$fpid" 2>/dev/null || true
  wait "$cpid" 2>/dev/null || true
  secs=$(cat "$work/inj.new" "$work/inj.del" | grep -o 'in [0-9.]* s' | awk '{s += $2} END {print s}')
  msgs=$(cat "$work/inj.new" "$work/inj.del" | grep -o '[0-9]* messages' | awk '{m += $1} END {print m}')
  {
    echo "rate=$(calc "$msgs / $secs")"
    echo "sent=$msgs"
    echo "fevents=$(grep -o 'events=[0-9]*' "$work/churn.err" | head -1 | cut -d= -f2)"
    echo "fenobufs=$(grep -o 'enobufs=[0-9]*' "$work/churn.err" | cut -d= -f2)"
    echo "fresyncs=$(grep -o 'resyncs=[0-9]*' "$work/churn.err" | cut -d= -f2)"
    echo "frcvbuf=$(grep -o 'rcvbuf=[0-9]*' "$work/churn.err" | cut -d= -f2)"
    echo "fdrops=$fdrops"
    echo "fcpu=$(calc "($c1 - $c0) / $hz")"
    echo "cevents=$(grep -c . "$work/ev" || true)"
    echo "cdrops=$cdrops"
  } >"$work/churn.$round"
  # shellcheck disable=SC1090
  . "$work/churn.$round"
  for v in rate fevents fenobufs fresyncs fdrops cevents cdrops; do
    isnum "${!v}" || fail "churn round $round: no number for $v"
  done
done

# The screen under an UPDATE storm: bench/screen.sh's key script, in its own namespace.
SCREEN_RUNS=storm SCREEN_STORM_S=$screen_s SCREEN_ARGS="${screen_flags[*]:0:${#screen_flags[@]}-1}" \
  "$here/screen.sh" "$build" "$screen_flows" "$screen_rate" >"$work/screen.out" 2>&1 ||
  fail "bench/screen.sh: $(tail -3 "$work/screen.out" | tr '\n' ' ')"
p99() { grep "screen: $1" "$work/screen.out" | grep -o 'p99=[0-9.]*' | cut -d= -f2 | head -1; }
p50() { grep "screen: $1" "$work/screen.out" | grep -o 'p50=[0-9.]*' | cut -d= -f2 | head -1; }
frame99=$(p99 frame-time); key99=$(p99 key-to-draw); key50=$(p50 key-to-draw)
ssent=$(grep -o '[0-9]* UPDATE events sent' "$work/screen.out" | cut -d' ' -f1 || true)
sgot=$(grep -o 'stats: events=[0-9]*' "$work/screen.out" | cut -d= -f2 || true)
senob=$(grep -o 'enobufs=[0-9]*' "$work/screen.out" | cut -d= -f2 || true)
for v in frame99 key99 ssent sgot; do isnum "${!v}" || fail "screen storm: no number for $v"; done

# The table.
elapsed=$(calc "$(now) - $started")
out=$work/table
{
  echo "flowtop bench/run.sh$([ $smoke = 1 ] && echo ' --smoke'): $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, kernel $(uname -r), flowtop $(git -C "$here" describe --always --dirty 2>/dev/null || echo '?'); one-shot runs$([ ${#rt[@]} -gt 0 ] && echo ' as SCHED_FIFO 10'); medians of $(reps 10000) runs (of $(reps 250000) at 200,000+ flows)"
  echo
  echo "| measure | flows | flowtop | reference in the same run |"
  echo "| --- | --- | --- | --- |"
  for n in 0 "${sizes[@]}"; do
    fw=$(col "$work/F.$n" 1); fc=$(col "$work/F.$n" cpu)
    lw=$(col "$work/L.$n" 1); lc=$(col "$work/L.$n" cpu)
    mw=$(col "$work/M.$n" 1); mc=$(col "$work/M.$n" cpu)
    for v in fw fc lw lc mw mc; do isnum "${!v}" || fail "no $v at $n flows"; done
    echo "| \`${json_flags[*]}\`: wall / CPU | $(cat "$work/have.$n") | $(fmt_s "$fw") / $(fmt_s "$fc") | \`conntrack -L\` $(fmt_s "$lw") / $(fmt_s "$lc") (flowtop $(ratio "$fw" "$lw") / $(ratio "$fc" "$lc")); bare libmnl dump $(fmt_s "$mw") / $(fmt_s "$mc") ($(ratio "$fw" "$mw") / $(ratio "$fc" "$mc")) |"
  done
  for n in 0 "${sizes[@]}"; do
    d=$(awk '{print $1/1000}' "$work/D.$n" 2>/dev/null | median); mw=$(col "$work/M.$n" 1)
    echo "| flowtop's own dump + parse + table update in that run (\`--stats\` last_dump_ms) | $(cat "$work/have.$n") | $(fmt_s "$d") | bare libmnl dump wall $(fmt_s "$mw") ($(ratio "$d" "$mw")) |"
  done
  for n in 0 "${sizes[@]}"; do
    rc=$(awk '{print $1/1000}' "$work/R.$n" 2>/dev/null | median); mc=$(col "$work/M.$n" cpu)
    echo "| a counter refresh: the collector thread's CPU for a full dump of known entries, averaged over the \`--batch\` run below (\`--stats\` refresh_cpu_ms: receive, parse, table update) | $(cat "$work/have.$n") | $(fmt_s "$rc") | bare libmnl dump CPU $(fmt_s "$mc") ($(ratio "$rc" "$mc")) |"
  done
  for n in 0 "${sizes[@]}"; do
    fr=$(col "$work/F.$n" 4); fr0=$(col "$work/F.0" 4); lr=$(col "$work/L.$n" 4); lr0=$(col "$work/L.0" 4)
    isnum "$fr" || fail "no peak RSS at $n flows"
    echo "| peak RSS of that run, per flow over the empty table | $(cat "$work/have.$n") | $(per_flow "$fr" "$fr0" "$n") ($(fmt_mb "$fr")) | \`conntrack -L\` $(per_flow "$lr" "$lr0" "$n") ($(fmt_mb "$lr")) |"
  done
  # steady_row N TAG LABEL REF_NAME REF_CPU_S: a steady-state window (window_of's "CPU% RSS") as
  # RSS per flow over empty and CPU, next to a reference's CPU per dump at one dump a second.
  steady_row() {
    local n=$1 tag=$2 c r r0
    read -r c r <"$work/$tag.$n" 2>/dev/null || { c=nan; r=nan; }
    read -r _ r0 <"$work/$tag.0" 2>/dev/null || r0=nan
    echo "| $3: RSS per flow over empty; CPU of a core | $(cat "$work/have.$n") | $(per_flow "$r" "$r0" "$n") ($(fmt_mb "$r")); $(pct "$c") | $4 $(fmt_s "$5") ($(pct "$(calc "$5 * 100")") at one a second) |"
  }
  for n in 0 "${sizes[@]}"; do
    steady_row "$n" B "\`${batch_flags[*]}\` steady" "\`conntrack -L\` CPU per dump" "$(col "$work/L.$n" cpu)"
  done
  for n in 0 "${sizes[@]}"; do
    steady_row "$n" S "screen idle (tmux 160×50, \`${screen_flags[*]}\`)" "bare libmnl dump CPU" "$(col "$work/M.$n" cpu)"
  done
  for round in $(seq "$churn_rounds"); do
    # shellcheck disable=SC1090
    . "$work/churn.$round"
    echo "| churn storm $round: $churn NEW + $churn DESTROY at $(printf '%.0f' "$rate") msg/s (ct_inject, no pacing); \`--batch\` as above: events received; \`--stats\` enobufs, resyncs; the kernel's drops on its event socket; its CPU | 0 → $churn → 0 | $fevents of $sent ($(calc "100 * $fevents / $sent" | xargs printf '%.1f')%); enobufs $fenobufs, resyncs $fresyncs, kernel drops $fdrops (rcvbuf at exit $(fmt_mb "$(calc "${frcvbuf:-0} / 1024")")); CPU $(fmt_s "$fcpu") | \`conntrack -E\` received $cevents ($(calc "100 * $cevents / $sent" | xargs printf '%.1f')%), kernel drops $cdrops |"
  done
  echo "| the screen under $screen_rate UPDATE events/s (\`bench/screen.sh\`'s keys, \`${screen_flags[*]}\`): frame p99, key-to-draw p99 (p50) | $screen_flows | frame p99 ${frame99:-n/a} ms; key-to-draw p99 ${key99:-n/a} ms (p50 ${key50:-n/a} ms); received ${sgot:-?} of ${ssent:-?} events, enobufs ${senob:-?} | — |"
  echo
  echo "Wall time of this run: $(printf '%.0f' "$elapsed") s."
} >"$out"
cat "$out"
stamp=$(date +%Y%m%d-%H%M%S)
if [ $smoke = 1 ]; then stamp+=-smoke; fi
mkdir -p "$here/results"
cp "$out" "$here/results/$stamp.txt"
cp "$work/screen.out" "$here/results/$stamp-screen.txt"   # bench/screen.sh's own lines
if [ -s "$work/failed" ]; then
  echo "bench: $(wc -l <"$work/failed") step(s) produced no number:" >&2
  sed 's/^/  /' "$work/failed" >&2
  exit 1
fi
