#!/usr/bin/env bash
# flowtop versus conntrack(8) on the same load in the same run. Root. See bench/README.md.
# Usage: bench/run.sh [BUILD_DIR] [SIZES...]      default: build 10000 100000
set -euo pipefail
build=$(realpath "${1:-build}"); shift || true
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000)
flowtop=$build/flowtop; inject=$build/tests/ct_inject
[ -x "$flowtop" ] && [ -x "$inject" ] || { echo "build flowtop and ct_inject first" >&2; exit 2; }
ns=ftbench-$$
cleanup() { ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true; ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
in_ns() { ip netns exec "$ns" "$@"; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
runs=5
results=$(mktemp)

ip netns add "$ns"
in_ns ip link set lo up
for s in acct timestamp; do in_ns sysctl -qw net.netfilter.nf_conntrack_$s=1; done
in_ns sysctl -qw net.netfilter.nf_conntrack_events=1

fill() {  # fill N: exactly N TCP + UDP entries
  in_ns conntrack -F >/dev/null 2>&1 || true
  local half=$(( $1 / 2 ))
  in_ns "$inject" -q --count "$half" --proto tcp --src 10.70.0.0 --dst 10.71.0.1 >/dev/null
  in_ns "$inject" -q --count $(( $1 - half )) --proto udp --src 10.72.0.0 --dst 10.73.0.1 >/dev/null
}

for n in "${sizes[@]}"; do
  fill "$n"
  have=$(in_ns conntrack -C)
  l=(); f=(); d=()
  for _ in $(seq $runs); do
    t0=$(now); in_ns conntrack -L >/dev/null 2>&1; t1=$(now); l+=("$(echo "$t1 - $t0" | bc)")
    t0=$(now); in_ns "$flowtop" --json -c 1 -46UTDIS --other --no-sysctl -n -G --stats >/dev/null 2>"$results.err"; t1=$(now)
    f+=("$(echo "$t1 - $t0" | bc)")
    d+=("$(grep -o 'last_dump_ms=[0-9.]*' "$results.err" | cut -d= -f2)")
  done
  lm=$(printf '%s\n' "${l[@]}" | median); fm=$(printf '%s\n' "${f[@]}" | median)
  dm=$(printf '%s\n' "${d[@]}" | median)
  # Resident memory per flow: flowtop idling on the filled table versus an empty one.
  ip netns exec "$ns" "$flowtop" --json -t 60 --no-sysctl -n -G >/dev/null 2>&1 & pid=$!
  sleep 2; rss_full=$(awk '/VmRSS/ {print $2}' /proc/$pid/status); kill $pid; wait $pid 2>/dev/null || true
  printf 'dump  %7d entries (%d in table): conntrack -L %6.1f ms | flowtop --json -c 1 %6.1f ms (%.2fx) | flowtop dump+parse+table %6.1f ms (%.2fx) | RSS %d kB\n' \
    "$n" "$have" "$(echo "$lm*1000" | bc)" "$(echo "$fm*1000" | bc)" "$(echo "$fm/$lm" | bc -l)" \
    "$dm" "$(echo "$dm/($lm*1000)" | bc -l)" "$rss_full" | tee -a "$results"
done

# Events: a burst of N creations and N deletions with both listeners running.
in_ns conntrack -F >/dev/null 2>&1 || true
for n in 20000 100000; do
  ip netns exec "$ns" stdbuf -oL conntrack -E >"$results.ev" 2>/dev/null & cpid=$!
  ip netns exec "$ns" "$flowtop" --json -t 1 --no-sysctl -n -G --stats >/dev/null 2>"$results.ft" & fpid=$!
  sleep 1.5
  in_ns "$inject" -q --count "$n" --proto tcp --src 10.80.0.0 --dst 10.81.0.1 >/dev/null
  in_ns "$inject" -q --delete --count "$n" --proto tcp --src 10.80.0.0 --dst 10.81.0.1 >/dev/null
  sleep 2
  kill -INT $fpid $cpid 2>/dev/null || true; wait $fpid 2>/dev/null || true; wait $cpid 2>/dev/null || true
  ce=$(grep -c . "$results.ev" || true)
  fe=$(grep -o 'events=[0-9]*' "$results.ft" | cut -d= -f2)
  lost=$(grep -o 'enobufs=[0-9]*' "$results.ft" | cut -d= -f2)
  rs=$(grep -o 'resyncs=[0-9]*' "$results.ft" | cut -d= -f2)
  left=$(grep -o 'flows=[0-9]*' "$results.ft" | cut -d= -f2)
  printf 'events burst of %d new + %d destroy (%d events): conntrack -E got %d (%.0f%%) | flowtop got %d (%.0f%%), ENOBUFS %s, resyncs %s, flows left %s\n' \
    "$n" "$n" $((2*n)) "$ce" "$(echo "100*$ce/(2*$n)" | bc -l)" "$fe" "$(echo "100*$fe/(2*$n)" | bc -l)" "$lost" "$rs" "$left" | tee -a "$results"
done

# A paced storm: 50k new entries per second for 4 s, then their deletion; flowtop's CPU time.
ip netns exec "$ns" "$flowtop" --json -t 1 --no-sysctl -n -G --stats >/dev/null 2>"$results.ft" & fpid=$!
sleep 1.5
cpu0=$(awk '{print $14+$15}' /proc/$fpid/stat)
t0=$(now)
in_ns "$inject" -q --count 200000 --rate 50000 --proto udp --src 10.90.0.0 --dst 10.91.0.1 >/dev/null
in_ns "$inject" -q --delete --count 200000 --proto udp --src 10.90.0.0 --dst 10.91.0.1 >/dev/null
t1=$(now)
cpu1=$(awk '{print $14+$15}' /proc/$fpid/stat)
kill -INT $fpid 2>/dev/null || true; wait $fpid 2>/dev/null || true
hz=$(getconf CLK_TCK)
printf 'storm 200k new at 50k/s + 200k destroy over %.1f s: flowtop CPU %.0f%% of a core, %s\n' \
  "$(echo "$t1-$t0" | bc)" "$(echo "100*($cpu1-$cpu0)/$hz/($t1-$t0)" | bc -l)" \
  "$(grep -o 'events=[0-9]* enobufs=[0-9]* resyncs=[0-9]*' "$results.ft")" | tee -a "$results"

mkdir -p "$(dirname "$0")/results"
cp "$results" "$(dirname "$0")/results/$(date +%Y%m%d-%H%M%S).txt"
rm -f "$results" "$results".*
