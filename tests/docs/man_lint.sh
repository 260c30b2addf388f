#!/usr/bin/env bash
# man/flowtop.8 lints clean: neither 'mandoc -T lint' (style messages included) nor
# 'groff -ww -z -man' says anything about it.
set -euo pipefail
page=${1:?usage: man_lint.sh PAGE}
for tool in mandoc groff; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (scripts/deps.txt lists it)"; exit 1; }
done
out=$(mandoc -T lint "$page" 2>&1 || true)  # its exit status counts only some levels: the text decides
out+=$(groff -ww -z -man "$page" 2>&1 || echo "groff failed")
if [[ -n $out ]]; then
  printf '%s\n' "$out"
  exit 1
fi
echo "$page: mandoc -T lint and groff -ww -z -man have nothing to say"
