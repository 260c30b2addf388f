#!/usr/bin/env bash
# Prints, as Markdown, text captures of flowtop's screen for README.md: the Flows tab (at COLS and
# at 80 columns) and the Countries tab, taken with `tmux capture-pane` while live traffic runs between two throw-away
# network namespaces. The remote addresses are ones the GeoIP test fixtures (tests/data/geoip)
# place in London, Linköping and Tokyo; they exist only inside these namespaces, and flowtop runs
# with -n (no reverse DNS), so nothing leaves the machine.
# Usage (root, tmux installed): scripts/readme-captures.sh [BUILD_DIR]   (default: build)
set -euo pipefail
src=$(realpath "$(dirname "$0")/..")
flowtop=$(realpath "${1:-$src/build}/flowtop")
geoip=$src/tests/data/geoip
[[ -x $flowtop ]] || { echo "readme-captures: no $flowtop: build it first" >&2; exit 1; }
command -v tmux >/dev/null || { echo "readme-captures: tmux is not installed" >&2; exit 1; }
A=ftdoc-a-$$ B=ftdoc-b-$$ sock=ftdoc-$$
cols=${COLS:-120} rows=${ROWS:-12}
home=$(mktemp -d)  # flowtop keeps the tab chosen in $HOME/.config/flowtop/flowtoprc
cleanup() {
  rm -rf "$home"
  tmux -L "$sock" kill-server 2>/dev/null || true
  for n in "$A" "$B"; do
    ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
}
trap cleanup EXIT
ip netns add "$A"; ip netns add "$B"
ip link add eth0 netns "$A" type veth peer name eth0 netns "$B"
for n in "$A" "$B"; do ip -n "$n" link set lo up; ip -n "$n" link set eth0 up; done
ip -n "$A" addr add 10.94.1.1/24 dev eth0; ip -n "$B" addr add 10.94.1.2/24 dev eth0
ip -n "$A" addr add fd00:94:1::1/64 dev eth0 nodad; ip -n "$B" addr add fd00:94:1::2/64 dev eth0 nodad
london=81.2.69.10 linkoping=89.160.20.10 tokyo=2001:218::10
for h in $london $linkoping; do
  ip -n "$B" addr add $h/32 dev eth0; ip -n "$A" route add $h/32 dev eth0 src 10.94.1.1
done
ip -n "$B" addr add $tokyo/128 dev eth0 nodad
ip -n "$A" -6 route add $tokyo/128 dev eth0 src fd00:94:1::1
ip netns exec "$A" nft -f - <<'NFT'
table inet ftdoc {
  chain pre { type filter hook prerouting priority 0; ct state new,established,related counter; }
  chain out { type filter hook output priority 0; ct state new,established,related counter; }
}
NFT
for s in acct timestamp; do ip netns exec "$A" sysctl -qw net.netfilter.nf_conntrack_$s=1; done

# A server that sends back twice what it receives, and clients that keep sending.
server='import socket,sys,threading
h,p=sys.argv[1],int(sys.argv[2])
s=socket.socket(socket.AF_INET6 if ":" in h else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind((h,p)); s.listen()
def echo(c):
  while (d:=c.recv(65536)): c.sendall(d*2)
while True: threading.Thread(target=echo,args=(s.accept()[0],),daemon=True).start()'
client='import socket,sys,time
h,p,n=sys.argv[1],int(sys.argv[2]),int(sys.argv[3])
c=socket.create_connection((h,p))
while True:
  c.sendall(b"x"*n); got=0
  while got<2*n: got+=len(c.recv(65536))
  time.sleep(0.1)'
serve() { ip netns exec "$B" python3 -c "$server" "$1" "$2" & }
talk() { ip netns exec "$A" python3 -c "$client" "$1" "$2" "$3" & }
serve $london 443; serve $linkoping 443; serve $tokyo 443; serve $london 993
sleep 1
talk $london 443 20000; talk $london 993 800; talk $linkoping 443 5000; talk $tokyo 443 2000

tmux -L "$sock" -f /dev/null new-session -d -s doc -x "$cols" -y "$rows" \
  env -i HOME="$home" LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=tmux-256color NO_COLOR=1 \
  ip netns exec "$A" unshare --uts sh -c 'hostname demo && exec "$0" "$@"' \
  "$flowtop" -n -46 --geoip-dir "$geoip" --no-sysctl  # the title names the host: "demo"
# The pane without trailing blanks and blank lines.
capture() {
  tmux -L "$sock" capture-pane -p -t doc | sed 's/[[:space:]]*$//' |
    awk '{ l[NR] = $0 } $0 != "" { last = NR } END { for (i = 1; i <= last; i++) print l[i] }'
}
# Until the four flows show (a busy machine starts the clients slowly), then a few intervals: rates
# and GeoIP are known.
for _ in $(seq 60); do
  [[ $(capture | grep -c python3) -ge 4 ]] && break
  sleep 0.5
done
sleep 3
echo '```text'; capture; echo '```'; echo
tmux -L "$sock" resize-window -t doc -x 80 -y "$rows"
sleep 2
echo '```text'; capture; echo '```'; echo
tmux -L "$sock" resize-window -t doc -x "$cols" -y "$rows"
for _ in 1 2 3; do tmux -L "$sock" send-keys -t doc Tab; done
sleep 2
echo '```text'; capture; echo '```'
tmux -L "$sock" send-keys -t doc q
sleep 0.5
