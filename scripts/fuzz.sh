#!/usr/bin/env bash
# Fuzzes every parser of outside input with libFuzzer (clang 14, ASan+UBSan), two targets at a
# time, each for SECONDS (default 60), from the seed corpora in tests/fuzz/corpus/<target>/.
# Prints the executions per target; exits non-zero when a target crashed (its input is kept in
# build-fuzz/artifacts/<target>/: make it a regression test).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
all=(parser sock_diag filter rc services geoip_conf state tor key_decoder mmdb unpack sanitize leases route stats)
[ $# -gt 0 ] && targets=("$@") || targets=("${all[@]}")

CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DFLOWTOP_FUZZ=ON -DFLOWTOP_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/%/_fuzz}"

# The ctnetlink parser's seeds: the captured kernel messages, one per file.
mkdir -p build-fuzz/corpus/parser
python3 - build-fuzz/corpus/parser tests/data/ct_dump.bin tests/data/ct_events.bin <<'PY'
import struct, sys, os
out = sys.argv[1]
for path in sys.argv[2:]:
    data = open(path, 'rb').read(); off = 0; n = 0
    while off + 16 <= len(data):
        (length,) = struct.unpack_from('=I', data, off)
        if length < 16 or off + length > len(data): break
        open(os.path.join(out, f'{os.path.basename(path)}.{n}'), 'wb').write(data[off:off + length])
        off += (length + 3) & ~3; n += 1
PY

# Leaks inside Debian's libraries (see the file) are not findings.
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

run_one() {
  local t=$1 corpus=build-fuzz/corpus/$1 art=build-fuzz/artifacts/$1/
  mkdir -p "$corpus" "$art"
  if [ -d "tests/fuzz/corpus/$t" ]; then cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true; fi
  local rc=0
  build-fuzz/"$t"_fuzz -max_total_time="$secs" -max_len=65536 -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$art" "$corpus" >build-fuzz/"$t".log 2>&1 || rc=$?
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' build-fuzz/"$t".log | tail -1)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz: $t: ${execs:-?} executions in ${secs} s, no crash"
  else
    echo "fuzz: $t: CRASH (exit $rc) after ${execs:-?} executions; input in $art"
    grep -m 20 -E "ERROR|SUMMARY|#[0-9]+ 0x" build-fuzz/"$t".log || true
  fi
  return "$rc"
}

failed=0
pids=()
names=()
for t in "${targets[@]}"; do
  run_one "$t" & pids+=($!); names+=("$t")
  if [ ${#pids[@]} -ge 2 ]; then  # two at a time: two cores
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}"); names=("${names[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit "$failed"
