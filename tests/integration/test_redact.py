#!/usr/bin/env python3
"""Privacy mode (--redact all): no address, MAC or name of the lab reaches --json or --batch.

The lab is a router: a LAN host (its MAC set, a name in a dnsmasq lease file) -> router
(masquerade on the uplink) -> an outside peer, IPv4 and IPv6, all namespaces. flowtop runs on the
router, where it sees a forwarded flow owned by a process in the LAN host's namespace (user root,
namespace name), a forwarded ping owned by the LAN device (MAC and lease name), and the router's
own flow to the peer. Every address and MAC the three namespaces have (`ip -j addr`), the lease
name, the namespace names and the user name must be absent from every output of every tab, with
`-s` source rows too; the same runs without --redact show them (the check is not vacuous).
"""

import atexit
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_redact")
LAN: N.Namespace = None
RTR: N.Namespace = None
WAN: N.Namespace = None
LAN_IP, RTR_LAN, RTR_WAN, WAN_IP = "10.83.1.2", "10.83.1.1", "10.83.2.1", "10.83.2.2"
LAN6, RTR_LAN6, RTR_WAN6, WAN6 = "fd00:83:1::2", "fd00:83:1::1", "fd00:83:2::1", "fd00:83:2::2"
LAN_MAC = "02:00:00:83:01:02"
LEASE_NAME = "laptop-anna"
LEASES = ""
CONNS: list = []


def lab_secrets() -> set:
    """Every address (with link-local IPv6) and MAC of the lab's namespaces, the lease name, the
    namespace names and the user the processes run as."""
    out = {LEASE_NAME, "root", LAN.name, RTR.name, WAN.name}
    for ns in (LAN, RTR, WAN):
        for link in json.loads(ns.run(["ip", "-j", "addr"], check=True).stdout):
            mac = link.get("address", "")
            if mac and mac != "00:00:00:00:00:00":
                out.add(mac)
            for a in link.get("addr_info", []):
                if a["local"] not in ("127.0.0.1", "::1"):  # loopback flows are not shown
                    out.add(a["local"])
    return out


def shows(secret: str, text: str) -> bool:
    """Whether `secret` appears in `text` as a whole value: not as the start or end of a longer
    one (a pseudonym such as 10.83.1.226 is not the address 10.83.1.2; 10.83.1.2:53070 is)."""
    return re.search(r"(?<![0-9A-Za-z])" + re.escape(secret) + r"(?![0-9A-Za-z])", text) is not None


def outputs(redact: bool) -> dict:
    """What flowtop writes on the router: --json and --batch of every tab, with -s."""
    base = ["-c", 2, "-t", 0.5, "-n", "-G", "-TUI", "-s", "--leases", LEASES]
    if redact:
        base += ["--redact", "all"]
    out = {}
    for mode in ("--json", "--batch"):
        for tab in ("flows", "owners", "hosts", "countries", "as"):
            cp = RTR.run([R.flowtop, mode, "--tab", tab] + base)
            assert cp.returncode == 0, f"{mode} --tab {tab}: exit {cp.returncode}: {cp.stderr}"
            out[f"{mode} --tab {tab}"] = cp.stdout + cp.stderr
    return out


def setup():
    global LAN, RTR, WAN, LEASES
    LAN, RTR, WAN = N.Namespace("rlan"), N.Namespace("rrtr"), N.Namespace("rwan")
    RTR.sysctl_set("net.ipv4.ip_forward", 1)
    RTR.sysctl_set("net.ipv6.conf.all.forwarding", 1)
    N.veth(LAN, "eth0", RTR, "lan0")
    N.veth(RTR, "wan0", WAN, "eth0")
    LAN.run(["ip", "link", "set", "eth0", "address", LAN_MAC], check=True)
    N.addr(LAN, "eth0", f"{LAN_IP}/24")
    N.addr(RTR, "lan0", f"{RTR_LAN}/24")
    N.addr(RTR, "wan0", f"{RTR_WAN}/24")
    N.addr(WAN, "eth0", f"{WAN_IP}/24")
    N.addr(LAN, "eth0", f"{LAN6}/64")
    N.addr(RTR, "lan0", f"{RTR_LAN6}/64")
    N.addr(RTR, "wan0", f"{RTR_WAN6}/64")
    N.addr(WAN, "eth0", f"{WAN6}/64")
    N.route(LAN, "default", RTR_LAN)
    N.route(LAN, "default", RTR_LAN6)
    N.route(RTR, "default", WAN_IP)
    N.route(WAN, "default", RTR_WAN6)
    for ns in (LAN, RTR, WAN):
        ns.nft_track()
    cp = RTR.run(["nft", "-f", "-"], input=(
        "table ip ftit_nat {\n"
        "  chain post { type nat hook postrouting priority srcnat; oifname \"wan0\" masquerade; }\n"
        "}\n"))
    if cp.returncode != 0:
        raise N.SkipTest(f"nft cannot add NAT rules: {cp.stderr.strip()}")
    d = tempfile.mkdtemp(prefix="ftredact-")
    atexit.register(shutil.rmtree, d, True)
    LEASES = os.path.join(d, "dnsmasq.leases")
    with open(LEASES, "w") as f:
        f.write(f"1999999999 {LAN_MAC} {LAN_IP} {LEASE_NAME} 01:{LAN_MAC}\n")
    for host in (WAN_IP, WAN6):  # neighbour discovery on fresh links may take a moment
        assert N.wait_until(lambda h=host: N.icmp_echo(LAN, h, ident=1, count=1) == 1,
                            timeout=15, step=0.2), f"the LAN host cannot reach {host}"
    N.server(WAN, "tcp", WAN_IP, 7001)
    N.server(WAN, "tcp", WAN6, 7002)
    CONNS.append(N.connect(LAN, "tcp", WAN_IP, 7001, 3000))  # forwarded, SNAT, owned in LAN
    CONNS.append(N.connect(LAN, "tcp", WAN6, 7002, 2000))    # forwarded IPv6
    CONNS.append(N.connect(RTR, "tcp", WAN_IP, 7001, 1000))  # the router's own
    assert N.icmp_echo(LAN, WAN_IP, ident=4343, count=2) == 2, "no echo replies"
    R.on_failure(lambda: f"---- conntrack -L in {RTR}:\n{RTR.conntrack_text()}")


@R.case
def redact_all_leaves_no_lab_address_mac_or_name_in_any_output():
    secrets = lab_secrets()
    assert {LAN_IP, WAN_IP, RTR_WAN, LAN6, WAN6, LAN_MAC} <= secrets, secrets
    # Without --redact the outputs name the lab: the check below looks at real data.
    plain = "\n".join(outputs(False).values())
    for s in (LAN_IP, WAN_IP, RTR_WAN, WAN6, LAN6, LAN_MAC, LEASE_NAME, "root", LAN.name):
        assert s in plain, f"{s} is not in the unredacted output:\n{plain[:4000]}"
    for what, text in outputs(True).items():
        leaked = sorted(s for s in secrets if shows(s, text))
        assert not leaked, f"{what} shows {leaked}:\n{text[:4000]}"
        if what.startswith("--batch"):
            assert "redacted: all" in text, f"{what}: no 'redacted: all':\n{text[:2000]}"
    # Masks are consistent: within one --json frame the LAN host's flows share one pseudonym.
    cp = RTR.run([R.flowtop, "--json", "-c", 1, "-n", "-G", "-TI", "--redact", "all",
                  "--leases", LEASES])
    objs = [json.loads(line) for line in cp.stdout.splitlines() if line.strip()]
    fwd4 = [o for o in objs if o["direction"] == "fwd" and o["family"] == "ipv4"]
    assert len(fwd4) >= 2, cp.stdout  # the TCP flow and the ping
    assert len({o["local"]["addr"] for o in fwd4}) == 1, [o["local"] for o in fwd4]
    assert len({o["remote"]["addr"] for o in fwd4}) == 1, [o["remote"] for o in fwd4]


R.setup(setup)
R.run()
