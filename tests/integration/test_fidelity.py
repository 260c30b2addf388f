#!/usr/bin/env python3
"""flowtop shows exactly what conntrack holds: one --json frame equals `conntrack -L`.

Fresh namespaces; thousands of entries injected with ct_inject (every protocol, both families, some
created while accounting was off) plus real flows with non-zero counters. 0 missing, 0 extra,
tuples, states, ids and counters equal.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_fidelity")
ALL = ["-46UTDIS", "--other"]

# (count, proto, src, dst) injected with accounting on.
BATCHES = [
    (400, "tcp", "10.80.0.0", "10.81.0.1"),
    (200, "udp", "10.80.16.0", "10.81.0.2"),
    (100, "udplite", "10.80.32.0", "10.81.0.3"),
    (100, "sctp", "10.80.48.0", "10.81.0.4"),
    (100, "icmp", "10.80.64.0", "10.81.0.5"),
    (50, "dccp", "10.80.80.0", "10.81.0.6"),
    (50, "gre", "10.80.96.0", "10.81.0.7"),
    (200, "tcp", "fd00:80::1:0", "fd00:81::1"),
    (100, "udp", "fd00:80::2:0", "fd00:81::2"),
    (100, "icmpv6", "fd00:80::3:0", "fd00:81::3"),
]


def compare(ns: N.Namespace, expect_min: int) -> None:
    t0 = time.monotonic()
    r = ns.flowtop(R.flowtop, ["--json", "-c", 1] + ALL, timeout=120)
    took = time.monotonic() - t0
    r.check_ok()
    ct = ns.conntrack_list()
    shown = r.frame(1)
    print(f"  flowtop shows {len(shown)} flows ({took:.2f}s), conntrack -L lists {len(ct)}")
    assert len(ct) >= expect_min, f"conntrack holds {len(ct)} entries, expected >= {expect_min}"
    problems = N.diff_sets(shown, ct)
    assert not problems, "flowtop frame != conntrack -L:\n" + "\n".join(problems)


@R.case
def mixed_protocols_and_real_flows():
    a, b = N.Namespace("fida", acct=0), N.Namespace("fidb")
    R.on_failure(lambda: f"---- conntrack -L in {a} (first 200 lines):\n" +
                 "\n".join(a.conntrack_text().splitlines()[:200]))
    N.veth(a, "eth0", b, "eth0")
    N.addr(a, "eth0", "10.79.1.1/24")
    N.addr(b, "eth0", "10.79.1.2/24")
    N.addr(a, "eth0", "fd00:79::1/64")
    N.addr(b, "eth0", "fd00:79::2/64")
    a.nft_track()
    # Entries created while accounting is off have no counters: flowtop must say null, not 0.
    assert N.ct_inject(a, R.ct_inject, 300, "tcp", "10.80.200.0", "10.81.1.1") == (300, 0)
    a.sysctl_set(N.ACCT, 1)
    injected = 300
    for count, proto, src, dst in BATCHES:
        ok, failed = N.ct_inject(a, R.ct_inject, count, proto, src, dst)
        assert (ok, failed) == (count, 0), f"ct_inject {proto}: injected {ok}, failed {failed}"
        injected += count
    # Real flows with counters.
    N.server(b, "tcp", "10.79.1.2", 6001)
    N.server(b, "tcp", "fd00:79::2", 6001)
    N.server(b, "udp", "10.79.1.2", 6002)
    held = [N.connect(a, "tcp", "10.79.1.2", 6001, 3000),
            N.connect(a, "tcp", "fd00:79::2", 6001, 5000),
            N.connect(a, "udp", "10.79.1.2", 6002, 300)]
    assert N.icmp_echo(a, "10.79.1.2", 0x777, 3) == 3
    time.sleep(0.2)
    compare(a, injected + 4)
    no_acct = [f for f in a.conntrack_list() if f.bytes is None]
    assert len(no_acct) == 300, f"{len(no_acct)} entries without counters, expected 300"
    for c in held:
        c.close()


@R.case
def ten_thousand_tcp_entries():
    ns = N.Namespace("fidc")
    t0 = time.monotonic()
    ok, failed = N.ct_inject(ns, R.ct_inject, 10000, "tcp", "10.82.0.0", "10.83.0.1")
    print(f"  ct_inject: 10000 entries in {time.monotonic() - t0:.3f}s (process included)")
    assert (ok, failed) == (10000, 0), f"injected {ok}, failed {failed}"
    compare(ns, 10000)


if R.setup(lambda: None):
    pass
R.run()
