#!/usr/bin/env bash
# Fuzzes the ctnetlink parser with libFuzzer (clang 14), seeded with the captured kernel messages.
# Usage: scripts/fuzz.sh [SECONDS]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DFLOWTOP_FUZZ=ON -DFLOWTOP_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --target parser_fuzz -j"$(nproc)"
corpus=build-fuzz/corpus; mkdir -p "$corpus"
python3 - "$corpus" tests/data/ct_dump.bin tests/data/ct_events.bin <<'PY'
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
build-fuzz/parser_fuzz -max_total_time="$secs" -max_len=4096 "$corpus"
