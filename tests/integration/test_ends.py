#!/usr/bin/env python3
"""Who talks to whom, on a router: a LAN host -> router (masquerade on the uplink, a DNAT port
forward to the LAN host) -> an outside peer, all namespaces.

- On the router, the LAN host's flow out is forwarded, its inside end is the LAN host, its remote
  end the outside peer, and it is marked SNAT. The LAN host is a namespace on this machine, like a
  container: the owner of its TCP flow is the process in it (python3@NAMESPACE, found through that
  namespace's sock_diag). Its ICMP flow has no socket: its owner is the LAN device, the LAN host's
  MAC with its name from a dnsmasq lease file (--leases).
- The port-forwarded flow in is forwarded with the internal server as its inside end, marked DNAT;
  what the internal server sent is ↑ (the reply direction).
- On the LAN host, the port-forwarded connection is inbound and its remote end is the outside peer.
- The Hosts tab never lists one of the machine's own addresses.
- --netns NAME, run from the router's namespace, shows the LAN host's own view.
"""

import atexit
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_ends")
LAN: N.Namespace = None
RTR: N.Namespace = None
WAN: N.Namespace = None
LAN_IP, RTR_LAN, RTR_WAN, WAN_IP = "10.81.1.2", "10.81.1.1", "10.81.2.1", "10.81.2.2"
LAN_MAC = "02:00:00:81:01:02"
LEASES = ""


def setup():
    global LAN, RTR, WAN, LEASES
    LAN, RTR, WAN = N.Namespace("elan"), N.Namespace("ertr"), N.Namespace("ewan")
    RTR.sysctl_set("net.ipv4.ip_forward", 1)
    N.veth(LAN, "eth0", RTR, "lan0")
    N.veth(RTR, "wan0", WAN, "eth0")
    LAN.run(["ip", "link", "set", "eth0", "address", LAN_MAC], check=True)
    N.addr(LAN, "eth0", f"{LAN_IP}/24")
    N.addr(RTR, "lan0", f"{RTR_LAN}/24")
    N.addr(RTR, "wan0", f"{RTR_WAN}/24")
    N.addr(WAN, "eth0", f"{WAN_IP}/24")
    N.route(LAN, "default", RTR_LAN)
    N.route(RTR, "default", WAN_IP)  # the uplink: wan0 carries the default route
    for ns in (LAN, RTR, WAN):
        ns.nft_track()
    rules = (
        "table ip ftit_nat {\n"
        "  chain pre { type nat hook prerouting priority dstnat;"
        f" iifname \"wan0\" tcp dport 8022 dnat to {LAN_IP}:7022; }}\n"
        "  chain post { type nat hook postrouting priority srcnat;"
        " oifname \"wan0\" masquerade; }\n"
        "}\n")
    cp = RTR.run(["nft", "-f", "-"], input=rules)
    if cp.returncode != 0:
        raise N.SkipTest(f"nft cannot add NAT rules: {cp.stderr.strip()}")
    d = tempfile.mkdtemp(prefix="ftends-")
    atexit.register(shutil.rmtree, d, True)
    LEASES = os.path.join(d, "dnsmasq.leases")
    with open(LEASES, "w") as f:
        f.write(f"1999999999 {LAN_MAC} {LAN_IP} laptop-anna 01:{LAN_MAC}\n")
    N.server(WAN, "tcp", WAN_IP, 7001)   # the outside service
    N.server(LAN, "tcp", LAN_IP, 7022)   # the LAN host's service, port-forwarded as 8022
    R.on_failure(lambda: f"---- conntrack -L in {RTR}:\n{RTR.conntrack_text()}")


def json_frame(ns: N.Namespace, args: list) -> list:
    run = ns.flowtop(R.flowtop, ["--json", "-c", 2, "-t", 0.5, "-n", "-G"] + args)
    run.check_ok()
    return run.objects(2)


def group_frame(ns: N.Namespace, args: list) -> list:
    """The rows of an aggregate tab in --json frame 2."""
    cp = ns.run([R.flowtop, "--json", "-c", 2, "-t", 0.5, "-n", "-G"] + args)
    assert cp.returncode == 0, cp.stderr
    rows = [json.loads(ln) for ln in cp.stdout.splitlines() if ln.strip()]
    return [r for r in rows if r["frame"] == 2]


def only(objs: list, what: str, **want) -> dict:
    found = [o for o in objs if all(o.get(k) == v for k, v in want.items())]
    assert len(found) == 1, f"{what}: {len(found)} objects match {want}:\n" + \
        "\n".join(json.dumps(o) for o in objs)
    return found[0]


def by_port(objs: list, sport: int, dport: int) -> dict:
    found = [o for o in objs if o["orig"]["sport"] == sport and o["orig"]["dport"] == dport]
    assert len(found) == 1, f"flow {sport}->{dport}: {len(found)} found:\n" + \
        "\n".join(json.dumps(o) for o in objs)
    return found[0]


@R.case
def router_forwarded_flow_has_the_lan_host_as_owner_and_snat():
    c = N.connect(LAN, "tcp", WAN_IP, 7001, 3000)
    try:
        objs = json_frame(RTR, ["--leases", LEASES])
        f = by_port(objs, c.sport, 7001)
        assert f["direction"] == "fwd", f
        assert f["local"]["addr"] == LAN_IP and f["local"]["port"] == c.sport, f["local"]
        assert f["remote"]["addr"] == WAN_IP and f["remote"]["port"] == 7001, f["remote"]
        assert f["nat"] is not None and f["nat"]["dnat"] is None, f["nat"]
        assert f["nat"]["snat"].startswith(RTR_WAN + ":"), f["nat"]
        # The LAN host is a namespace of this machine: the process in it owns the flow.
        assert f["owner"] == {"kind": "process", "pid": c.proc.pid, "name": "python3",
                              "user": "root", "netns": LAN.name}, f["owner"]
        assert f["process"]["pid"] == c.proc.pid, f["process"]
        # ↑ is what the LAN host sent (3000 B and headers), ↓ the 6000 B echo.
        assert 3000 < f["sent"]["bytes"] < 6000, f["sent"]
        assert f["received"]["bytes"] > 6000, f["received"]
    finally:
        c.close()


@R.case
def router_icmp_flow_has_the_lan_device_as_owner():
    assert N.icmp_echo(LAN, WAN_IP, ident=4242, count=2) == 2, "no echo replies"
    objs = json_frame(RTR, ["-I", "--leases", LEASES])
    f = only(objs, "forwarded ping", proto="icmp")
    assert f["direction"] == "fwd" and f["local"]["addr"] == LAN_IP, f
    assert f["owner"] == {"kind": "host", "mac": LAN_MAC, "name": "laptop-anna"}, f["owner"]
    assert f["process"] is None, f["process"]
    # A bare word finds the device by its lease name; mac= by its address.
    assert [o["id"] for o in json_frame(RTR, ["-I", "--leases", LEASES, "--filter",
                                              "laptop and proto=icmp"])] == [f["id"]]
    assert [o["id"] for o in json_frame(RTR, ["-I", "--leases", LEASES, "--filter",
                                              f"mac={LAN_MAC}"])] == [f["id"]]


@R.case
def dnat_port_forward_has_the_internal_server_as_inside_end():
    c = N.connect(WAN, "tcp", RTR_WAN, 8022, 2000)
    try:
        objs = json_frame(RTR, ["--leases", LEASES])
        f = by_port(objs, c.sport, 8022)
        assert f["direction"] == "fwd", f
        assert f["local"] == {"addr": LAN_IP, "port": 7022, "name": None, "geo": None}, f["local"]
        assert f["remote"]["addr"] == WAN_IP and f["remote"]["port"] == c.sport, f["remote"]
        assert f["nat"]["dnat"] == f"{LAN_IP}:7022", f["nat"]
        assert f["owner"]["kind"] == "process" and f["owner"]["netns"] == LAN.name, f["owner"]
        assert f["owner"]["name"] == "python3", f["owner"]
        # The internal server sent the 4000 B echo (the reply direction): that is ↑.
        assert f["sent"]["bytes"] > 4000 and f["received"]["bytes"] < 4000, (f["sent"],
                                                                          f["received"])
        assert f["sent"]["bytes"] == f["bytes"]["reply"], (f["sent"], f["bytes"])
        # The screen's table: the owner, the forwarded mark, the remote end as ADDRESS, the DNAT
        # mark; -s adds the inside end and where the DNAT came from.
        cp = RTR.run(["env", "COLUMNS=200", R.flowtop, "--batch", "-c", 2, "-t", 0.5, "-n",
                      "-G", "-s", "--leases", LEASES, "--filter", f"nat=dnat and remote={WAN_IP}"])
        assert cp.returncode == 0, cp.stderr
        lines = cp.stdout.split(" - frame 2")[1].splitlines()
        rows = [i for i, ln in enumerate(lines) if ln.startswith("python3@" + LAN.name[:6])]
        assert len(rows) >= 1, "\n".join(lines)
        row, src = lines[rows[0]], lines[rows[0] + 1]
        assert f" {WAN_IP} " in row and "DNAT" in row, row
        assert ("⇄" in row) or (" ~ " in row), row
        assert f"inside {LAN_IP}:7022 · DNAT from {RTR_WAN}:8022" in src or \
            f"inside {LAN_IP}:7022 | DNAT from {RTR_WAN}:8022" in src, src
    finally:
        c.close()


@R.case
def lan_host_sees_the_port_forward_as_inbound_from_the_outside_peer():
    c = N.connect(WAN, "tcp", RTR_WAN, 8022, 1000)
    try:
        objs = [o for o in json_frame(LAN, []) if o["direction"] == "in"]
        f = by_port(objs, c.sport, 7022)  # no NAT seen from here: the peer's own port
        assert f["local"]["addr"] == LAN_IP and f["local"]["port"] == 7022, f["local"]
        assert f["remote"]["addr"] == WAN_IP and f["remote"]["port"] == c.sport, f["remote"]
        assert f["nat"] is None, f["nat"]
        hosts = group_frame(LAN, ["--tab", "hosts"])
        addrs = sorted(h["addr"] for h in hosts)
        assert addrs == [WAN_IP], f"Hosts lists {addrs}"
        # --netns NAME from the router's namespace: the LAN host's own view.
        objs = [o for o in json_frame(RTR, ["--netns", LAN.name]) if o["direction"] == "in"]
        f = by_port(objs, c.sport, 7022)
        assert f["remote"]["addr"] == WAN_IP and f["local"]["addr"] == LAN_IP, f
    finally:
        c.close()


@R.case
def router_hosts_tab_never_lists_its_own_addresses():
    a = N.connect(LAN, "tcp", WAN_IP, 7001, 500)
    b = N.connect(WAN, "tcp", RTR_WAN, 8022, 500)
    assert N.icmp_echo(LAN, WAN_IP, ident=4343, count=1) == 1, "no echo reply"
    try:
        hosts = group_frame(RTR, ["--tab", "hosts", "--leases", LEASES])
        addrs = {h["addr"] for h in hosts}
        assert WAN_IP in addrs, addrs
        assert not addrs & {RTR_LAN, RTR_WAN}, f"Hosts lists the router itself: {addrs}"
        owners = group_frame(RTR, ["--tab", "owners", "-TI", "--leases", LEASES])
        anna = [o for o in owners if o.get("kind") == "host"]
        assert len(anna) == 1 and anna[0]["name"] == "laptop-anna" and \
            anna[0]["mac"] == LAN_MAC and anna[0]["flows"] >= 1, owners
        procs = {(o["name"], o["pid"]) for o in owners if o.get("kind") == "process"}
        assert (f"python3@{LAN.name}", a.proc.pid) in procs, owners
    finally:
        a.close()
        b.close()


@R.case
def bad_netns_is_a_clear_error():
    cp = RTR.run([R.flowtop, "--json", "-c", 1, "--netns", "no-such-ns-ftit"])
    assert cp.returncode == 1, cp
    assert cp.stderr == "flowtop: no network namespace 'no-such-ns-ftit' (not in /run/netns)\n", \
        cp.stderr


if R.setup(setup):
    pass
R.run()
