#!/usr/bin/env bash
# Records the raw ctnetlink messages the parser's unit tests decode (tests/data/ct_dump.bin,
# tests/data/ct_events.bin and tests/data/ct_stats.bin), from real traffic in throw-away network
# namespaces.
# Usage (root): scripts/capture-test-data.sh BUILD_DIR   (BUILD_DIR has tests/ct_capture)
# The addresses, ports and values used here are what tests/unit/conntrack/parser_test.cpp expects.
set -euo pipefail
build=${1:?build dir}
cap=$(realpath "$build/tests/ct_capture")
out=$(realpath "$(dirname "$0")/../tests/data")
A=ftcap-a-$$; B=ftcap-b-$$
cleanup() { ip netns del "$A" 2>/dev/null || true; ip netns del "$B" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$A"; ip netns add "$B"
ip link add veth-a netns "$A" type veth peer name veth-b netns "$B"
ip -n "$A" addr add 10.201.0.1/24 dev veth-a; ip -n "$A" addr add fd00:201::1/64 dev veth-a nodad
ip -n "$B" addr add 10.201.0.2/24 dev veth-b; ip -n "$B" addr add fd00:201::2/64 dev veth-b nodad
for n in "$A" "$B"; do ip -n "$n" link set lo up; done
ip -n "$A" link set veth-a up; ip -n "$B" link set veth-b up
ip netns exec "$A" nft -f - <<'NFT'
table inet cap {
  chain out {
    type filter hook output priority 0; policy accept;
    ct state new,established counter
  }
}
NFT
for s in acct timestamp; do ip netns exec "$A" sysctl -qw net.netfilter.nf_conntrack_$s=1; done
ip netns exec "$A" sysctl -qw net.netfilter.nf_conntrack_events=1

# Servers in B: TCP 5001 (v4+v6), UDP 5002, UDP-lite 5003 echo.
ip netns exec "$B" python3 - <<'PY' &
import socket, threading
def serve(c):
    c.sendall(c.recv(4096) * 2)
    c.recv(1)  # hold the connection open until the client closes it
def tcp(fam, addr):
    s = socket.socket(fam, socket.SOCK_STREAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 5001)); s.listen()
    while True:
        c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
def udp(proto, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, proto); s.bind(("10.201.0.2", port))
    while True:
        d, a = s.recvfrom(4096); s.sendto(d * 2, a)
for t in (lambda: tcp(socket.AF_INET, "10.201.0.2"), lambda: tcp(socket.AF_INET6, "fd00:201::2"),
          lambda: udp(0, 5002), lambda: udp(136, 5003)):
    threading.Thread(target=t, daemon=True).start()
import time; time.sleep(30)
PY
srv=$!
sleep 0.5
ip netns exec "$A" "$cap" events 6 "$out/ct_events.bin" > /tmp/ctcap-events.$$ &
evp=$!
until grep -q ready /tmp/ctcap-events.$$ 2>/dev/null; do sleep 0.05; done

ip netns exec "$A" python3 - <<'PY' &
import socket, time
keep = []
for fam, addr in ((socket.AF_INET, "10.201.0.2"), (socket.AF_INET6, "fd00:201::2")):
    c = socket.create_connection((addr, 5001)); c.sendall(b"x" * 1000); c.recv(4096); keep.append(c)
for proto, port in ((0, 5002), (136, 5003)):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, proto); u.sendto(b"y" * 300, ("10.201.0.2", port)); u.recv(4096); keep.append(u)
for proto in (47, 33):  # GRE, and DCCP (tracked generically: this kernel has no DCCP tracker)
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
    r.sendto(b"\x00\x00\x08\x00" + b"z" * 60, ("10.201.0.2", 0))
time.sleep(8)
PY
cli=$!
ip netns exec "$A" ping -c 2 -i 0.2 -q 10.201.0.2 >/dev/null
ip netns exec "$A" ping -6 -c 2 -i 0.2 -q fd00:201::2 >/dev/null
ip netns exec "$A" conntrack -I -p sctp -s 10.201.0.1 -d 10.201.0.2 --sport 7001 --dport 7002 \
  --state ESTABLISHED --orig-vtag 1 --reply-vtag 2 -t 600 >/dev/null 2>&1
ip netns exec "$A" conntrack -I -p tcp -s 10.201.0.1 -d 10.201.0.9 --sport 7003 --dport 443 \
  --state ESTABLISHED -t 600 -u ASSURED,SEEN_REPLY --mark 7 --zone 3 >/dev/null 2>&1
sleep 1
ip netns exec "$A" "$cap" dump "$out/ct_dump.bin"
# What conntrack -L says of the same entries (traffic is idle: nothing changes in between).
ip netns exec "$A" conntrack -L -o id,timestamp > "$out/ct_dump.conntrack-L.txt" 2>/dev/null
# A DESTROY event: delete the injected SCTP entry.
ip netns exec "$A" conntrack -D -p sctp >/dev/null 2>&1 || true
wait "$evp"; cat /tmp/ctcap-events.$$; rm -f /tmp/ctcap-events.$$
kill "$cli" "$srv" 2>/dev/null || true
ip netns exec "$A" conntrack -L 2>/dev/null

# The statistics (stats_parser_test): a namespace of its own, with TCP segments the tracker calls
# invalid (SYN+FIN) and a few pings; then what conntrack -S and -C print of the same counters.
S=ftcap-s-$$
ip netns add "$S"
ip -n "$S" link set lo up
ip netns exec "$S" nft add table inet cap
ip netns exec "$S" nft add chain inet cap out '{ type filter hook output priority 0; }'
ip netns exec "$S" nft add rule inet cap out ct state new,established,invalid counter
ip netns exec "$S" python3 - <<'PY'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
def seg(sport, flags):
    return struct.pack("!HHIIBBHHH", sport, 80, 1, 0, 5 << 4, flags, 1024, 0, 0)
for p in range(3):
    s.sendto(seg(40000 + p, 0x03), ("127.0.0.1", 0))
for p in range(5):
    s.sendto(seg(41000 + p, 0x02), ("127.0.0.1", 0))
PY
ip netns exec "$S" ping -c 3 -i 0.2 -q 127.0.0.1 >/dev/null
ip netns exec "$S" "$cap" stats "$out/ct_stats.bin"
ip netns exec "$S" conntrack -S > "$out/ct_stats.conntrack-S.txt"
ip netns exec "$S" conntrack -C >> "$out/ct_stats.conntrack-S.txt"
ip netns del "$S"
