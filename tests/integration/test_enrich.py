#!/usr/bin/env python3
"""Enrichment in --json, on real flows between test namespaces:

- owner: a process ("ftclient", running as nobody) holding TCP (v4, v6), UDP and UDP-lite sockets
  to a server process ("ftserver", root) → the client namespace shows the client's pid, name and
  user for exactly those flows (outbound), the server namespace the server's (inbound), and the
  router namespace, which only forwards them, the client's process in the client's namespace
  (ftclient@NAMESPACE: found through that namespace's sock_diag, as for a container);
- reverse DNS: /etc/netns/NAME/hosts names the test addresses (src_name/dst_name show them); with
  /etc/netns/NAME/resolv.conf pointing at a nameserver in the namespace that never answers, frames
  keep their -t 0.5 interval, addresses stay numeric, and SIGTERM still exits promptly;
- GeoIP: --geoip-dir tests/data/geoip and addresses from the fixture networks assigned inside the
  namespaces → src_geo/dst_geo filled as tests/data/geoip/README.md lists;
- services: a flow to port 443 shows "https", and a port named by a tcp.conf in
  $FLOWTOP_CONFIG_DIR shows that name, on both ends of the flow.
"""

import json
import os
import pwd
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_enrich")
HERE = os.path.dirname(os.path.abspath(__file__))
GEOIP_DIR = os.path.normpath(os.path.join(HERE, "..", "data", "geoip"))
X = 61  # topology 10.61.*.*, fd00:61:*::*
T: N.Topology = None
ETC_NETNS: list = []  # /etc/netns/NAME directories we made

# ------------------------------------------------------------------------------------------------
# Programs run inside the namespaces

# One server process for every protocol: TCP on v4 and v6, UDP and UDP-lite on v4; replies twice
# what it gets. Named "ftserver" (comm) so attribution is unmistakable.
_SERVER = r"""
import ctypes, selectors, socket, sys
ctypes.CDLL(None).prctl(15, b"ftserver", 0, 0, 0)  # PR_SET_NAME
host4, host6, tport, uport, lport = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
sel = selectors.DefaultSelector()
for fam, host in ((socket.AF_INET, host4), (socket.AF_INET6, host6)):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, tport)); s.listen(16); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, "accept")
for proto, port in ((0, uport), (136, lport)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, proto)
    s.bind((host4, port))
    sel.register(s, selectors.EVENT_READ, "dgram")
print("listening", flush=True)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if key.data == "accept":
            c, _ = s.accept()
            sel.register(c, selectors.EVENT_READ, "conn")
        elif key.data == "dgram":
            d, peer = s.recvfrom(65536)
            s.sendto(d * 2, peer)
        else:
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                sel.unregister(s); s.close()
            else:
                s.sendall(d * 2)
"""

# A client that names itself, drops to USER, then opens and holds one connection per
# "kind,host,port" argument (kind: tcp, udp, udplite); prints "ready KIND HOST PORT SPORT" each.
_CLIENT = r"""
import ctypes, encodings.idna, os, pwd, socket, sys  # everything imported before dropping root
ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)  # PR_SET_NAME
pw = pwd.getpwnam(sys.argv[2])
if pw.pw_uid != os.getuid():
    os.setgroups([]); os.setgid(pw.pw_gid); os.setuid(pw.pw_uid)
held = []
for spec in sys.argv[3:]:
    kind, host, port = spec.split(",")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    if kind == "tcp":
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect((host, int(port)))
        s.sendall(b"x" * 500)
        got = 0
        while got < 1000:
            d = s.recv(65536)
            if not d:
                break
            got += len(d)
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM, 136 if kind == "udplite" else 0)
        s.settimeout(10)
        s.connect((host, int(port)))
        s.send(b"x" * 500)
        s.recv(65536)
    held.append(s)
    print("ready", kind, host, port, s.getsockname()[1], flush=True)
print("all-ready", flush=True)
for line in sys.stdin:
    if line.strip() == "close":
        break
"""

# A nameserver that never answers: counts the queries it swallows.
_SILENT_DNS = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
print("silent", flush=True)
while True:
    s.recvfrom(4096)
    print("query", flush=True)
"""


class Client:
    """A running _CLIENT: pid, and the source port of each held connection by (kind, host, port)."""

    def __init__(self, ns: N.Namespace, name: str, user: str, specs: list):
        self.proc = ns.python(_CLIENT, name, user, *[f"{k},{h},{p}" for k, h, p in specs])
        self.sports = {}
        for _ in specs:
            _, kind, host, port, sport = self.proc.expect("ready", timeout=20).split()
            self.sports[(kind, host, int(port))] = int(sport)
        self.proc.expect("all-ready", timeout=10)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def close(self) -> None:
        if self.proc.running():
            self.proc.send("close")
            self.proc.wait(timeout=10)


def etc_netns(ns: N.Namespace, hosts: str, resolv: str) -> None:
    """/etc/netns/NAME/{hosts,resolv.conf}: `ip netns exec` bind-mounts them over /etc."""
    d = f"/etc/netns/{ns.name}"
    os.makedirs(d, exist_ok=True)
    ETC_NETNS.append(d)
    with open(f"{d}/hosts", "w") as f:
        f.write(hosts)
    with open(f"{d}/resolv.conf", "w") as f:
        f.write(resolv)


def remove_etc_netns() -> None:
    for d in ETC_NETNS:
        shutil.rmtree(d, ignore_errors=True)
    ETC_NETNS.clear()


def json_frames(run: N.FlowtopRun) -> dict:
    """frame number -> list of JSON objects."""
    return {n: [json.loads(line) for line in lines] for n, lines in run.frames.items()}


def find_obj(objs: list, proto: str, src: str, sport: int, dport: int):
    want_src = N._ip(src)
    hits = [o for o in objs if o["proto"] == proto and N._ip(o["orig"]["src"]) == want_src
            and o["orig"]["sport"] == sport and o["orig"]["dport"] == dport]
    assert len(hits) == 1, (f"expected one {proto} flow {src}:{sport} -> :{dport}, found "
                            f"{len(hits)} in:\n" + "\n".join(json.dumps(o) for o in objs[:30]))
    return hits[0]


def run_json(ns: N.Namespace, args: list, env: dict = None, frames: int = 6) -> dict:
    argv = ([R.flowtop] if not env else
            ["env"] + [f"{k}={v}" for k, v in env.items()] + [R.flowtop])
    cp = ns.run(argv + ["--json", "-t", "0.5", "-c", frames] + args, timeout=60)
    run = N.FlowtopRun(cp.returncode, cp.stdout, cp.stderr)
    run.check_ok()
    objs = json_frames(run)
    assert objs, f"flowtop printed no flows; stderr: {cp.stderr[-2000:]}"
    return objs


# ------------------------------------------------------------------------------------------------

def setup():
    global T
    import atexit
    atexit.register(remove_etc_netns)
    T = N.topology(x=X, tag="en")
    R.on_failure(lambda: "\n".join(f"---- conntrack -L in {ns}:\n{ns.conntrack_text()}"
                                   for ns in T.all()))


R.setup(setup)

TPORT, UPORT, LPORT = 7401, 7402, 7403


@R.case
def owner_outbound_inbound_and_forwarded():
    srv = T.server.python(_SERVER, T.server4, T.server6, TPORT, UPORT, LPORT)
    srv.expect("listening", timeout=15)
    nobody = pwd.getpwuid(65534).pw_name
    specs = [("tcp", T.server4, TPORT), ("tcp", T.server6, TPORT), ("udp", T.server4, UPORT),
             ("udplite", T.server4, LPORT)]
    cli = Client(T.client, "ftclient", nobody, specs)
    try:
        ours = {}  # (proto, src, sport, dport) of each held flow
        for (kind, host, port), sport in cli.sports.items():
            src = T.client6 if ":" in host else T.client4
            ours[(kind, src, sport, port)] = True

        # Client namespace: the flows are outbound; the owner is ftclient, running as nobody.
        objs = run_json(T.client, ["-UT", "-n"])
        last = objs[max(objs)]
        for (kind, src, sport, dport) in ours:
            o = find_obj(last, kind, src, sport, dport)
            assert o["process"] == {"pid": cli.pid, "name": "ftclient", "user": nobody}, (
                f"client side {kind} {src}:{sport}->{dport}: process {o['process']}")
            print(f"client: {json.dumps(o, ensure_ascii=False)}")
        for o in last:
            key = (o["proto"], N._ip(o["orig"]["src"]), o["orig"]["sport"], o["orig"]["dport"])
            if key not in {(k, N._ip(s), sp, dp) for (k, s, sp, dp) in ours}:
                assert o["process"] is None or o["process"]["pid"] != cli.pid, (
                    f"a flow that is not the client's got its process: {json.dumps(o)}")

        # Server namespace: the same flows are inbound; the owner is ftserver (root).
        objs = run_json(T.server, ["-UT", "-n"])
        last = objs[max(objs)]
        for (kind, src, sport, dport) in ours:
            o = find_obj(last, kind, src, sport, dport)
            assert o["process"] == {"pid": srv.pid, "name": "ftserver", "user": "root"}, (
                f"server side {kind} {src}:{sport}->{dport}: process {o['process']}")
            print(f"server: {json.dumps(o, ensure_ascii=False)}")

        # Router namespace: forwarded flows have no local socket there, but the client is a
        # namespace of this machine (like a container): its process owns them, named with the
        # namespace it is in.
        objs = run_json(T.router, ["-UT", "-n"])
        last = objs[max(objs)]
        for (kind, src, sport, dport) in ours:
            o = find_obj(last, kind, src, sport, dport)
            assert o["direction"] == "fwd", f"forwarded {kind} flow: direction {o['direction']}"
            assert o["owner"] == {"kind": "process", "pid": cli.pid, "name": "ftclient",
                                  "user": nobody, "netns": T.client.name}, (
                f"forwarded {kind} {src}:{sport}->{dport}: owner {o['owner']}")
            print(f"router: {json.dumps(o, ensure_ascii=False)}")
    finally:
        cli.close()
        srv.kill()


@R.case
def dns_names_from_the_namespace_hosts_file():
    etc_netns(T.client,
              "127.0.0.1 localhost\n"
              f"{T.client4} client4.ftit.test\n{T.server4} server4.ftit.test\n"
              f"{T.client6} client6.ftit.test\n{T.server6} server6.ftit.test\n",
              "nameserver 127.0.0.1\n")  # nothing listens there: any other lookup fails at once
    srv = T.server.python(_SERVER, T.server4, T.server6, TPORT + 10, UPORT + 10, LPORT + 10)
    srv.expect("listening", timeout=15)
    cli = Client(T.client, "ftclient", "root",
                 [("tcp", T.server4, TPORT + 10), ("tcp", T.server6, TPORT + 10)])
    try:
        objs = run_json(T.client, ["-T"])
        last = objs[max(objs)]
        for host, src, want_src, want_dst in ((T.server4, T.client4, "client4.ftit.test",
                                                "server4.ftit.test"),
                                               (T.server6, T.client6, "client6.ftit.test",
                                                "server6.ftit.test")):
            o = find_obj(last, "tcp", src, cli.sports[("tcp", host, TPORT + 10)], TPORT + 10)
            assert o["src_name"] == want_src, f"src_name {o['src_name']!r}, want {want_src!r}"
            assert o["dst_name"] == want_dst, f"dst_name {o['dst_name']!r}, want {want_dst!r}"
            print(f"names: {json.dumps(o, ensure_ascii=False)}")
        # With -n nothing is looked up.
        objs = run_json(T.client, ["-T", "-n"], frames=2)
        for o in objs[max(objs)]:
            assert o["src_name"] is None and o["dst_name"] is None, f"-n but names: {o}"
    finally:
        cli.close()
        srv.kill()
        remove_etc_netns()


@R.case
def dns_silent_nameserver_keeps_frames_on_time_and_exit_prompt():
    a, b = N.Namespace("endq"), N.Namespace("endp")
    N.veth(a, "eth0", b, "eth0")
    N.addr(a, "eth0", "10.62.1.1/24")
    N.addr(a, "eth0", "10.62.1.53/24")  # the nameserver's address: a socket that never answers
    N.addr(b, "eth0", "10.62.1.2/24")
    a.nft_track()
    b.nft_track()
    etc_netns(a, "127.0.0.1 localhost\n", "nameserver 10.62.1.53\n")
    silent = a.python(_SILENT_DNS, "10.62.1.53")
    silent.expect("silent", timeout=10)
    srv = N.server(b, "tcp", "10.62.1.2", 7501)
    conn = N.connect(a, "tcp", "10.62.1.2", 7501, 300)
    p = a.flowtop_bg(R.flowtop, ["--json", "-T", "-t", "0.5"])
    try:
        frames = {}  # frame -> (ts, objects)
        deadline = time.monotonic() + 20
        while len(frames) < 8 and time.monotonic() < deadline:
            line = p.readline(timeout=deadline - time.monotonic())
            if line is None:
                break
            o = json.loads(line)
            frames.setdefault(o["frame"], (o["ts"], []))[1].append(o)
        assert len(frames) >= 8, f"only {len(frames)} frames in 20 s; stderr: {p.err_text[-2000:]}"
        queries = sum(1 for line in silent.out_lines if line.startswith("query"))
        assert queries >= 1, "no reverse lookup reached the silent nameserver: test proves nothing"
        # Each swallowed query holds its getnameinfo for 10 s (glibc's defaults): eight frames
        # while lookups hang show that no frame waits for one. (The intervals are printed, not
        # asserted: how punctual a loaded machine is belongs in bench/.)
        ts = [frames[n][0] for n in sorted(frames)]
        gaps = [round(b_ - a_, 3) for a_, b_ in zip(ts[1:], ts[2:])]  # frame 1 waits for a dump
        print(f"frame intervals with a silent nameserver ({queries} queries swallowed): {gaps}")
        for n, (_, objs) in frames.items():
            for o in objs:
                assert o["src_name"] is None and o["dst_name"] is None, (
                    f"frame {n}: a name without a nameserver: {o}")
        assert any(o["orig"]["sport"] == conn.sport for o in frames[max(frames)][1]), \
            "the held connection is missing"
        # SIGTERM while reverse lookups hang in getnameinfo (10 s each): flowtop must not wait
        # for them, so it is gone well before a lookup could return.
        t0 = time.monotonic()
        p.signal(signal.SIGTERM)
        try:
            p.p.wait(timeout=5)
        except Exception:  # noqa: BLE001
            pass
        took = time.monotonic() - t0
        print(f"exit after SIGTERM with lookups stuck: {took * 1000:.0f} ms")
        assert p.p.returncode is not None, "flowtop waited for a stuck lookup after SIGTERM"
        assert p.p.returncode == 0, f"exit status {p.p.returncode}: {p.err_text[-1000:]}"
    finally:
        p.kill()
        conn.close()
        srv.kill()
        silent.kill()
        remove_etc_netns()
        b.delete()
        a.delete()


# Fixture networks (tests/data/geoip/README.md) assigned inside the namespaces.
GEO_CLIENT4, GEO_SERVER4 = "89.160.20.112", "81.2.69.142"
GEO_CLIENT6, GEO_SERVER6 = "2001:12ff::10", "2a02:cf40::20"
GEO = {
    GEO_CLIENT4: {"country": "SE", "country_name": "Sweden", "city": "Linköping", "asn": 29518,
                  "org": "Bredband2 AB"},
    GEO_SERVER4: {"country": "GB", "country_name": "United Kingdom", "city": "London",
                  "asn": 20712, "org": "Andrews & Arnold Ltd"},
    GEO_CLIENT6: {"country": "BR", "country_name": "Brazil", "city": "São Paulo", "asn": 22548,
                  "org": "Núcleo de Inf. e Coord. do Ponto BR"},
    GEO_SERVER6: {"country": "CH", "country_name": "Switzerland", "city": "Zürich", "asn": 559,
                  "org": "SWITCH, Swiss Education and Research Network"},
}


@R.case
def geoip_and_services_from_fixtures():
    c, s = N.Namespace("engc"), N.Namespace("engs")
    N.veth(c, "eth0", s, "eth0")
    N.addr(c, "eth0", f"{GEO_CLIENT4}/24")
    N.addr(s, "eth0", f"{GEO_SERVER4}/24")
    N.addr(c, "eth0", f"{GEO_CLIENT6}/64")
    N.addr(s, "eth0", f"{GEO_SERVER6}/64")
    c.run(["ip", "route", "add", "81.2.69.0/24", "dev", "eth0"], check=True)
    s.run(["ip", "route", "add", "89.160.20.0/24", "dev", "eth0"], check=True)
    c.run(["ip", "-6", "route", "add", "2a02:cf40::/64", "dev", "eth0"], check=True)
    s.run(["ip", "-6", "route", "add", "2001:12ff::/64", "dev", "eth0"], check=True)
    c.nft_track()
    s.nft_track()
    conf = tempfile.mkdtemp(prefix="ftit-conf-")
    with open(os.path.join(conf, "tcp.conf"), "w") as f:
        f.write("# test names\n6443, ftit-kube\n443, https\n")
    servers = [N.server(s, "tcp", GEO_SERVER4, 443), N.server(s, "tcp", GEO_SERVER6, 443),
               N.server(s, "tcp", GEO_SERVER4, 6443)]
    cli = Client(c, "ftclient", "root", [("tcp", GEO_SERVER4, 443), ("tcp", GEO_SERVER6, 443),
                                          ("tcp", GEO_SERVER4, 6443)])
    try:
        args = ["-T", "-n", "--geoip-dir", GEOIP_DIR]
        env = {"FLOWTOP_CONFIG_DIR": conf}
        for ns, side in ((c, "client"), (s, "server")):
            objs = run_json(ns, args, env=env)
            last = objs[max(objs)]
            for host, port, want_service in ((GEO_SERVER4, 443, "https"),
                                             (GEO_SERVER6, 443, "https"),
                                             (GEO_SERVER4, 6443, "ftit-kube")):
                src = GEO_CLIENT6 if ":" in host else GEO_CLIENT4
                o = find_obj(last, "tcp", src, cli.sports[("tcp", host, port)], port)
                assert o["dst_geo"] == GEO[host], f"{side}: dst_geo {o['dst_geo']} for {host}"
                assert o["src_geo"] == GEO[src], f"{side}: src_geo {o['src_geo']} for {src}"
                assert o["service"] == want_service, (
                    f"{side}: service {o['service']!r} for port {port}, want {want_service!r}")
                print(f"geo ({side}): {json.dumps(o, ensure_ascii=False)}")
        # -G: no GeoIP at all.
        objs = run_json(c, args + ["-G"], env=env, frames=2)
        for o in objs[max(objs)]:
            assert o["src_geo"] is None and o["dst_geo"] is None, f"-G but geo: {o}"
    finally:
        cli.close()
        for p in servers:
            p.kill()
        shutil.rmtree(conf, ignore_errors=True)
        s.delete()
        c.delete()


R.run()
