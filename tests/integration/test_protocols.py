#!/usr/bin/env python3
"""flowtop --json against real traffic: client -> router -> server over veth, conntrack in all 3.

Checks tuples, states and counters per protocol (TCP v4/v6, UDP, UDP-lite, ICMP, ICMPv6, SCTP,
generic protocol 33, GRE), the forwarded flows in the router, and the selection rules.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_protocols")
T: N.Topology = None  # set up once
HELD = {}  # connections held open for the whole file


def flowtop(ns, *args, frames=2):
    r = ns.flowtop(R.flowtop, ["--json", "-c", frames, "-t", "0.5"] + list(args))
    r.check_ok()
    return r


def check_matches_conntrack(f: N.Flow, ns: N.Namespace, what: str):
    """The flow's tuple, state, id and counters equal conntrack -L's entry for it."""
    ct = [c for c in ns.conntrack_list() if c.key() == f.key()]
    assert len(ct) == 1, f"{what}: conntrack -L in {ns} has {len(ct)} entries for {f.brief()}"
    c = ct[0]
    for fld in ("state", "id", "bytes", "packets", "assured", "seen_reply", "mark"):
        assert getattr(f, fld) == getattr(c, fld), (
            f"{what}: {fld} flowtop={getattr(f, fld)!r} conntrack={getattr(c, fld)!r}\n"
            f"  flowtop:   {f.brief()}\n  conntrack: {c.raw}")


def check_tcp(f: N.Flow, family: str, client: str, server: str, sport: int, dport: int,
              sent: int):
    assert f.family == family, f"family {f.family}"
    assert f.proto == "tcp"
    assert f.orig == (client, server, sport, dport), f"orig tuple {f.orig}"
    assert f.reply == (server, client, dport, sport), f"reply tuple {f.reply}"
    assert f.icmp is None
    assert f.state == "ESTABLISHED", f"state {f.state!r}"
    assert f.bytes is not None and f.packets is not None, "no counters (accounting is on)"
    assert f.bytes[0] > sent and f.bytes[1] > 2 * sent, f"bytes {f.bytes} (sent {sent}, got 2x)"
    assert f.packets[0] >= 3 and f.packets[1] >= 2, f"packets {f.packets}"
    assert f.assured and f.seen_reply, f"status {sorted(f.status)}"
    assert f.raw.get("age_s") is not None and f.raw["age_s"] >= 0, f"age_s {f.raw.get('age_s')}"
    assert isinstance(f.raw.get("ts"), (int, float)) and f.raw["ts"] > 1.6e9, "ts"


def setup():
    global T
    T = N.topology(77)
    R.on_failure(lambda: "\n".join(f"---- conntrack -L in {ns}:\n{ns.conntrack_text()}"
                                   for ns in T.all()))
    N.server(T.server, "tcp", T.server4, 5001)
    N.server(T.server, "tcp", T.server6, 5001)
    N.server(T.server, "udp", T.server4, 5002)
    N.server(T.server, "udp", T.server6, 5002)
    N.server(T.server, "udplite", T.server4, 5003)
    N.server(T.server, "udp", T.server4, 53)
    N.server(T.client, "tcp", "127.0.0.1", 5009)
    HELD["tcp4"] = N.connect(T.client, "tcp", T.server4, 5001, 500)
    HELD["tcp6"] = N.connect(T.client, "tcp", T.server6, 5001, 500)


@R.case
def tcp_ipv4_tuple_state_counters_and_removal():
    c = N.connect(T.client, "tcp", T.server4, 5001, 1000)
    r = flowtop(T.client)
    for frame in (1, 2):
        f = N.one(r.frame(frame), f"(TCP v4, frame {frame})", proto="tcp", sport=c.sport,
                  dport=5001)
        check_tcp(f, "ipv4", T.client4, T.server4, c.sport, 5001, 1000)
    check_matches_conntrack(f, T.client, "TCP v4 in client")
    # After close: the entry lingers (TIME-WAIT) and flowtop follows conntrack's state.
    c.close()
    time.sleep(0.3)
    r = flowtop(T.client, frames=1)
    f = N.one(r.frame(1), "(TCP v4 after close)", proto="tcp", sport=c.sport, dport=5001)
    ct = N.one(T.client.conntrack_list(), "(conntrack, TCP v4 after close)", proto="tcp",
               sport=c.sport, dport=5001)
    assert f.state == ct.state and f.state != "ESTABLISHED", (
        f"state after close: flowtop {f.state!r}, conntrack {ct.state!r}")
    T.client.run(["conntrack", "-D", "-p", "tcp", "--orig-src", T.client4, "--orig-dst", T.server4,
                  "--sport", c.sport, "--dport", 5001], check=True)
    r = flowtop(T.client)
    for frame in (1, 2):
        gone = N.find(r.frame(frame), proto="tcp", sport=c.sport, dport=5001)
        assert not gone, f"deleted flow still shown in frame {frame}: {gone[0].brief()}"
    assert N.find(r.frame(2), proto="tcp", sport=HELD["tcp4"].sport), "held TCP flow vanished"


@R.case
def tcp_ipv6_tuple_state_counters():
    c = N.connect(T.client, "tcp", T.server6, 5001, 1200)
    r = flowtop(T.client)
    f = N.one(r.frame(2), "(TCP v6)", family="ipv6", proto="tcp", sport=c.sport, dport=5001)
    check_tcp(f, "ipv6", T.client6, T.server6, c.sport, 5001, 1200)
    check_matches_conntrack(f, T.client, "TCP v6 in client")
    c.close()


@R.case
def forwarded_flows_in_router_and_server():
    c4 = N.connect(T.client, "tcp", T.server4, 5001, 700)
    c6 = N.connect(T.client, "tcp", T.server6, 5001, 900)
    for ns in (T.router, T.server):
        r = flowtop(ns)
        f4 = N.one(r.frame(2), f"(TCP v4 in {ns.tag})", proto="tcp", sport=c4.sport, dport=5001)
        check_tcp(f4, "ipv4", T.client4, T.server4, c4.sport, 5001, 700)
        check_matches_conntrack(f4, ns, f"TCP v4 in {ns.tag}")
        f6 = N.one(r.frame(2), f"(TCP v6 in {ns.tag})", family="ipv6", proto="tcp",
                   sport=c6.sport, dport=5001)
        check_tcp(f6, "ipv6", T.client6, T.server6, c6.sport, 5001, 900)
        check_matches_conntrack(f6, ns, f"TCP v6 in {ns.tag}")
    c4.close()
    c6.close()


def check_udp_like(kind: str, port: int):
    c = N.connect(T.client, kind, T.server4, port, 100)
    assert c.received == 200, f"{kind} echo: received {c.received}"
    r = flowtop(T.client, "-U")
    f = N.one(r.frame(2), f"({kind})", proto=kind, sport=c.sport, dport=port)
    assert f.family == "ipv4"
    assert f.orig == (T.client4, T.server4, c.sport, port), f"orig {f.orig}"
    assert f.reply == (T.server4, T.client4, port, c.sport), f"reply {f.reply}"
    assert f.state is None, f"{kind} has no state, got {f.state!r}"
    assert f.icmp is None
    assert f.bytes == (128, 228), f"bytes {f.bytes} (100 + 28 header out, 200 + 28 back)"
    assert f.packets == (1, 1), f"packets {f.packets}"
    assert f.seen_reply, f"status {sorted(f.status)}"
    check_matches_conntrack(f, T.client, kind)
    tcp = [x for x in r.frame(2) if x.proto == "tcp"]
    assert not tcp, f"-U shows TCP: {tcp[0].brief()}"
    c.close()
    return r


@R.case
def udp_shown_with_U_only():
    check_udp_like("udp", 5002)
    c = N.connect(T.client, "udp", T.server4, 5002, 100)
    r = flowtop(T.client)
    assert not N.find(r.frame(2), proto="udp"), "UDP shown without -U"
    c.close()


@R.case
def udplite_shown_with_U():
    check_udp_like("udplite", 5003)


def check_icmp(host: str, ident: int, proto: str, etype: int, family: str, client: str,
               *extra):
    assert N.icmp_echo(T.client, host, ident, count=2) == 2, "no echo replies"
    r = flowtop(T.client, "-I", *extra)
    f = N.one(r.frame(2), f"({proto} echo id {ident})", proto=proto, icmp=(etype, 0, ident))
    assert f.family == family
    assert f.orig == (client, N._ip(host), None, None), f"orig {f.orig} (ICMP has no ports)"
    assert f.reply == (N._ip(host), client, None, None), f"reply {f.reply}"
    for d in ("orig", "reply"):
        assert f.raw[d]["sport"] is None and f.raw[d]["dport"] is None, f"ICMP {d} ports not null"
    assert f.packets == (2, 2), f"packets {f.packets}"
    assert f.state is None
    check_matches_conntrack(f, T.client, proto)
    assert not [x for x in r.frame(2) if x.proto == "tcp"], "-I shows TCP"
    r = flowtop(T.client)
    assert not N.find(r.frame(2), proto=proto), f"{proto} shown without -I"


@R.case
def icmp_echo_ipv4():
    check_icmp(T.server4, 0x4242, "icmp", 8, "ipv4", T.client4)


@R.case
def icmpv6_echo():
    check_icmp(T.server6, 0x4243, "icmpv6", 128, "ipv6", T.client6)


@R.case
def sctp_injected_shown_with_S():
    T.client.run(["conntrack", "-I", "-p", "sctp", "-s", T.client4, "-d", T.server4, "--sport", 1,
                  "--dport", 2, "--state", "ESTABLISHED", "--orig-vtag", 1, "--reply-vtag", 2,
                  "-t", 600], check=True)
    r = flowtop(T.client, "-S")
    f = N.one(r.frame(2), "(SCTP)", proto="sctp", sport=1, dport=2)
    assert f.state == "ESTABLISHED", f"state {f.state!r}"
    assert f.orig == (T.client4, T.server4, 1, 2) and f.reply == (T.server4, T.client4, 2, 1)
    check_matches_conntrack(f, T.client, "sctp")
    assert not [x for x in r.frame(2) if x.proto != "sctp"], "-S shows other protocols"
    r = flowtop(T.client, "-46UTDI", "--other")
    assert not N.find(r.frame(2), proto="sctp"), "SCTP shown without -S"


@R.case
def protocol_33_generic_shown_with_D():
    N.raw_send(T.client, T.server4, 33, count=3)
    r = flowtop(T.client, "-D")
    f = N.one(r.frame(2), "(protocol 33)", proto="dccp", dst=T.server4)
    assert f.family == "ipv4" and f.orig[:2] == (T.client4, T.server4)
    assert f.packets is not None and f.packets[0] == 3, f"packets {f.packets}"
    check_matches_conntrack(f, T.client, "protocol 33")
    assert f.raw["state"] is None, f"state {f.raw['state']!r}"
    r = flowtop(T.client, "-46UTIS", "--other")
    assert not N.find(r.frame(2), proto="dccp"), "protocol 33 shown without -D (e.g. --other)"
    # A generic entry (DCCP on kernels without a DCCP tracker) has no ports and no state: JSON
    # ports are null, never a fake 0.
    for d in ("orig", "reply"):
        assert f.raw[d]["sport"] is None and f.raw[d]["dport"] is None, (
            f"generic protocol-33 entry has {d} ports {f.raw[d]['sport']}/{f.raw[d]['dport']}, "
            "expected null")


@R.case
def gre_shown_only_with_other():
    N.raw_send(T.client, T.server4, 47, count=3)
    r = flowtop(T.client, "-46UTDIS")
    assert not N.find(r.frame(2), proto="gre"), "GRE shown without --other"
    r = flowtop(T.client, "--other")
    f = N.one(r.frame(2), "(GRE)", proto="gre", dst=T.server4)
    assert f.orig == (T.client4, T.server4, None, None), f"orig {f.orig}"
    assert f.packets is not None and f.packets[0] == 3, f"packets {f.packets}"
    check_matches_conntrack(f, T.client, "gre")


@R.case
def other_generic_protocol_shown_with_other():
    N.raw_send(T.client, T.server4, 99, count=2)
    r = flowtop(T.client, "-46UTDIS")
    assert not [x for x in r.frame(2) if x.orig[1] == T.server4 and x.proto not in N.PROTO_NUM], (
        "protocol 99 shown without --other")
    r = flowtop(T.client, "--other")
    found = [x for x in r.frame(2) if x.orig[:2] == (T.client4, T.server4)
             and x.proto not in N.PROTO_NUM]
    assert len(found) == 1, f"protocol 99 with --other: {[x.brief() for x in found]}"
    print(f"  note: protocol 99 is shown with proto={found[0].proto!r}")


@R.case
def selection_rules():
    udp4 = N.connect(T.client, "udp", T.server4, 5002, 50)
    udp6 = N.connect(T.client, "udp", T.server6, 5002, 50)
    N.icmp_echo(T.client, T.server4, 0x4244, count=1)
    t4, t6 = HELD["tcp4"], HELD["tcp6"]

    def shown(*args):
        fl = flowtop(T.client, *args).frame(2)
        # -U is UDP and UDP-lite (earlier cases leave UDP-lite entries): count both as udp.
        return fl, {(f.family, "udp" if f.proto == "udplite" else f.proto) for f in fl}

    fl, kinds = shown()
    assert kinds == {("ipv4", "tcp"), ("ipv6", "tcp")}, f"default: {kinds} (expected TCP only)"
    assert N.find(fl, sport=t4.sport) and N.find(fl, sport=t6.sport), "default: held TCP missing"
    fl, kinds = shown("-U")
    assert kinds == {("ipv4", "udp"), ("ipv6", "udp")}, f"-U: {kinds}"
    assert N.find(fl, sport=udp4.sport) and N.find(fl, sport=udp6.sport)
    fl, kinds = shown("-4")
    assert kinds == {("ipv4", "tcp")}, f"-4: {kinds}"
    fl, kinds = shown("-6")
    assert kinds == {("ipv6", "tcp")}, f"-6: {kinds}"
    fl, kinds = shown("-UT")
    assert kinds == {("ipv4", "tcp"), ("ipv6", "tcp"), ("ipv4", "udp"), ("ipv6", "udp")}, (
        f"-UT: {kinds}")
    fl, kinds = shown("-6", "-U")
    assert kinds == {("ipv6", "udp")}, f"-6 -U: {kinds}"
    fl, kinds = shown("-46", "-I")
    assert ("ipv4", "icmp") in kinds and not {k for k in kinds if k[1] != "icmp" and
                                               k[1] != "icmpv6"}, f"-46 -I: {kinds}"
    udp4.close()
    udp6.close()


@R.case
def loopback_and_dns_hidden_by_default():
    lo = N.connect(T.client, "tcp", "127.0.0.1", 5009, 10)
    dns = N.connect(T.client, "udp", T.server4, 53, 30)
    r = flowtop(T.client, "-TU")
    assert not [f for f in r.frame(2) if f.orig[0] == "127.0.0.1"], "loopback flow shown"
    assert not N.find(r.frame(2), dport=53), "port-53 flow shown without --dns-flows"
    r = flowtop(T.client, "-TU", "--loopback", "--dns-flows")
    N.one(r.frame(2), "(loopback)", proto="tcp", src="127.0.0.1", sport=lo.sport, dport=5009)
    N.one(r.frame(2), "(DNS)", proto="udp", sport=dns.sport, dport=53)
    lo.close()
    dns.close()


if R.setup(setup):
    pass
R.run()
