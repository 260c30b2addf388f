#!/usr/bin/env bash
# clang-tidy (the repository's .clang-tidy: every enabled check is an error) on the C++ sources
# of src/ (and the project headers they include), from a build directory's compile_commands.json.
# Usage: scripts/tidy.sh [BUILD_DIR] [FILE...]      default: build, every file of src/
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
[ -f "$build/compile_commands.json" ] || { echo "tidy: no $build/compile_commands.json" >&2; exit 2; }
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files 'src/*.cpp')
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
run-clang-tidy-14 -p "$build" -j "$(nproc)" -quiet "${files[@]/#/$PWD/}" >"$log" 2>&1 || rc=$?
grep -E 'warning:|error:' "$log" | grep -v 'warnings* generated' | sed 's/\x1b\[[0-9;]*m//g' | sort -u || true
echo "tidy: ${#files[@]} files, exit status $rc"
exit "$rc"
