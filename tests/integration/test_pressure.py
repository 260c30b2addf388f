#!/usr/bin/env python3
"""Conntrack pressure: the table's fill against nf_conntrack_max, the per-CPU drop counters, and
the state=UNREPLIED filter, in throw-away namespaces.

nf_conntrack_max is global and read-only inside a child namespace on current kernels (the count
it limits is per namespace). A case checks that on the running kernel. When the namespace cannot
lower its limit, the fill case injects entries up to the real limit with ct_inject (~0.5 s per
100k entries, ~80 MB of kernel memory for 262,144), provided the limit is small enough to do so;
otherwise it says why and skips.
"""

import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_pressure")
MAX_PATH = "/proc/sys/net/netfilter/nf_conntrack_max"
FILL_LIMIT = 600_000  # the most entries this test injects to reach a limit it cannot lower
COUNTERS = ("found", "invalid", "insert", "insert_failed", "drop", "early_drop", "error",
            "search_restart", "clash_resolve", "chaintoolong")


def conntrack_s(ns: N.Namespace) -> dict:
    """conntrack -S of `ns`: {cpu: {counter: value}}."""
    out = ns.run(["conntrack", "-S"], check=True).stdout
    return parse_cpu_lines(out, "")


def parse_cpu_lines(text: str, prefix: str) -> dict:
    """Lines `<prefix>cpu=N  found=.. invalid=..`: {N: {counter: value}}."""
    cpus = {}
    for line in text.splitlines():
        if not line.startswith(prefix + "cpu="):
            continue
        fields = dict(kv.split("=", 1) for kv in line[len(prefix):].split() if "=" in kv)
        cpu = int(fields.pop("cpu"))
        cpus[cpu] = {k: int(v) for k, v in fields.items()}
    return cpus


def max_writable(ns: N.Namespace) -> bool:
    """Whether this namespace may write its nf_conntrack_max (it never writes a new value)."""
    cur = ns.run(["cat", MAX_PATH], check=True, log=False).stdout.strip()
    cp = ns.sh(f"echo {cur} > {MAX_PATH}", log=False)
    return cp.returncode == 0


@R.case
def ct_max_is_global_and_read_only_in_a_child_namespace():
    ns = N.Namespace("ro")
    host_max = int(open(MAX_PATH).read())
    assert int(ns.sysctl_get("net.netfilter.nf_conntrack_max")) == host_max
    writable = max_writable(ns)
    print(f"  nf_conntrack_max={host_max}; writable in a child namespace: {writable}")
    if writable:
        raise N.SkipTest("this kernel lets a child namespace write nf_conntrack_max: the fill "
                         "case lowers it there")


@R.case
def full_table_warns_drops_and_stats_match_conntrack_s():
    ns = N.Namespace("fill")
    ns.nft_track()
    if max_writable(ns):
        limit = 4000  # this kernel allows it: a small limit of this namespace's own
        ns.sysctl_set("net.netfilter.nf_conntrack_max", limit)
    else:
        limit = int(ns.sysctl_get("net.netfilter.nf_conntrack_max"))
        if limit == 0 or limit > FILL_LIMIT:
            raise N.SkipTest(f"nf_conntrack_max={limit} is global, read-only in a child namespace "
                             f"and beyond the {FILL_LIMIT} entries this test will inject: the "
                             "fill cannot be tested without changing the host")
        print(f"  nf_conntrack_max is global and read-only here: filling the namespace to the "
              f"real limit ({limit} entries, assured, so none can be evicted)")
    # Assured entries: when the table is full, the kernel cannot evict them (early_drop), so a
    # new flow's packets are dropped (drop). A few more than the limit: those fail.
    injected, failed = N.ct_inject(ns, R.ct_inject, limit + 50, timeout=240,
                                   extra=["--quiet", "--timeout", "3600"])
    assert injected == limit and failed == 50, (injected, failed)
    assert ns.conntrack_count() == limit
    # Batch frames of nothing but ICMP (the table is TCP): the health lines and the status alone.
    p = ns.flowtop_bg(R.flowtop, ["--batch", "-I", "-t", "0.5", "--stats"])
    try:
        assert N.wait_until(lambda: "conntrack table is" in p.stdout() or not p.running(),
                            timeout=120), f"no fill line: {p.stdout()[-2000:]}"
        line = next(ln for ln in p.stdout().splitlines() if "conntrack table is" in ln)
        print(f"  health: {line.strip()}")
        assert re.search(rf"the conntrack table is 100% full \({limit} of nf_conntrack_max "
                         rf"{limit}\): when full, new flows are dropped", line), line

        # New flows while the table is full: their packets are dropped, and the next frame's
        # health line says so with the rate.
        def send_and_look() -> bool:
            ns.python("import socket\n"
                      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                      "for port in range(30000, 30010):\n"
                      "    try:\n"
                      "        s.sendto(b'x', ('127.0.0.1', port))\n"
                      "    except OSError:\n"
                      "        pass\n").wait(10)
            return "conntrack is dropping: drop " in p.stdout() or not p.running()
        assert N.wait_until(send_and_look, timeout=120, step=0.3), (
            f"no drop line: {p.stdout()[-2000:]}")
        line = next(ln for ln in p.stdout().splitlines() if "conntrack is dropping" in ln)
        print(f"  health: {line.strip()}")
    finally:
        p.signal(signal.SIGTERM)
        rc = p.wait(timeout=60)
    assert rc == 0, f"rc={rc} stderr={p.err_text[-2000:]}"
    # The namespace is idle now: flowtop's last reading (taken as it stopped) and conntrack -S
    # agree counter for counter, CPU by CPU.
    mine = parse_cpu_lines(p.err_text, "flowtop: conntrack: ")
    theirs = conntrack_s(ns)
    print(f"  conntrack -S: {theirs}")
    assert mine and set(mine) == set(theirs), (mine, theirs)
    for cpu, counters in theirs.items():
        for name in COUNTERS:
            if name in counters:
                assert mine[cpu][name] == counters[name], (cpu, name, mine[cpu], counters)
    assert sum(c["drop"] for c in mine.values()) >= 10
    m = re.search(r"flowtop: conntrack: entries=(\d+) max=(\d+)", p.err_text)
    assert m and int(m.group(1)) == limit and int(m.group(2)) == limit, p.err_text[-2000:]


@R.case
def stats_match_conntrack_s_with_invalid_packets():
    """A small namespace: TCP segments the tracker calls invalid, on any CPU."""
    ns = N.Namespace("inv")
    ns.run(["nft", "-f", "-"], check=True, input=(
        "table inet t {\n"
        "  chain o { type filter hook output priority 0; ct state new,established,invalid counter; }\n"
        "}\n"))
    ns.python("import socket, struct\n"
              "s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)\n"
              "for p in range(7):\n"
              "    seg = struct.pack('!HHIIBBHHH', 40000 + p, 80, 1, 0, 5 << 4, 0x03, 1024, 0, 0)\n"
              "    s.sendto(seg, ('127.0.0.1', 0))\n").wait(10)
    run = ns.flowtop(R.flowtop, ["--json", "-c", 2, "-t", 0.2, "--stats"])
    run.check_ok()
    mine = parse_cpu_lines(run.stderr, "flowtop: conntrack: ")
    theirs = conntrack_s(ns)
    assert mine == {cpu: {k: v for k, v in c.items() if k in COUNTERS}
                    for cpu, c in theirs.items()}, (mine, theirs)
    assert sum(c["invalid"] for c in mine.values()) >= 7, mine


@R.case
def unreplied_flows_are_found_by_state():
    """state=UNREPLIED: the entries that never saw a reply (conntrack -L's [UNREPLIED])."""
    ns = N.Namespace("unr")
    ns.nft_track()
    # UDP to closed ports on loopback: no reply, so UNREPLIED; one echo pair that is replied.
    ns.python("import socket\n"
              "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              "for port in range(31000, 31005):\n"
              "    s.sendto(b'x', ('127.0.0.2', port))\n").wait(10)
    N.icmp_echo(ns, "127.0.0.1", ident=9, count=1)
    listed = ns.run(["conntrack", "-L"], check=True).stdout
    unreplied = [ln for ln in listed.splitlines() if "[UNREPLIED]" in ln]
    assert len(unreplied) == 5, listed
    run = ns.flowtop(R.flowtop, ["--json", "-c", 1, "-46UTDIS", "--loopback",
                                 "--filter", "state=UNREPLIED"])
    run.check_ok()
    objs = run.objects(1)
    assert len(objs) == 5, [o["proto"] for o in objs]
    assert all(o["proto"] == "udp" and "SEEN_REPLY" not in o["status"] for o in objs), objs
    replied = ns.flowtop(R.flowtop, ["--json", "-c", 1, "-46UTDIS", "--loopback",
                                     "--filter", "state!=UNREPLIED"])
    replied.check_ok()
    assert [o["proto"] for o in replied.objects(1)] == ["icmp"], replied.objects(1)


@R.case
def offloaded_flows_are_marked():
    """A router with a software flowtable: its forwarded TCP flow is [OFFLOAD] (stale counters).

    Kernels without flowtables (CONFIG_NF_FLOW_TABLE unset, as on the project's machines, where
    nft answers ENOENT) skip this case.
    """
    t = N.topology(x=93, tag="off")
    cp = t.router.run(["nft", "-f", "-"], input=(
        "table inet ftoff {\n"
        "  flowtable f { hook ingress priority 0; devices = { ethc, eths }; }\n"
        "  chain ftfwd { type filter hook forward priority 0; "
        "meta l4proto tcp ct state established flow add @f; }\n"
        "}\n"))
    if cp.returncode != 0:
        raise N.SkipTest(f"this kernel has no flowtables: {cp.stderr.strip().splitlines()[0]}")
    N.server(t.server, "tcp", t.server4, 5093)
    conn = N.connect(t.client, "tcp", t.server4, 5093, nbytes=2000)
    try:
        assert N.wait_until(lambda: "[OFFLOAD]" in t.router.conntrack_text(), timeout=15), (
            t.router.conntrack_text())
        run = t.router.flowtop(R.flowtop, ["--json", "-c", 1, "--filter", "state=OFFLOAD"])
        run.check_ok()
        objs = run.objects(1)
        assert len(objs) == 1 and "OFFLOAD" in objs[0]["status"], objs
        batch = t.router.run([R.flowtop, "--batch", "-c", 1], check=True).stdout
        assert any("OFFLOAD" in ln and "5093" in ln for ln in batch.splitlines()), batch
    finally:
        conn.close()


R.run()
