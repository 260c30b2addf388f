#!/usr/bin/env python3
"""--track: in a namespace with no nft rules (so no connection tracking), flowtop adds table
inet flowtop_track while it runs, sees a TCP flow made there, and removes the table on exit.
"""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_track")
A: N.Namespace = None
B: N.Namespace = None
TABLE = "table inet flowtop_track"


def setup():
    global A, B
    # Kernel defaults (acct/timestamp off): flowtop turns them on itself.
    A = N.Namespace("tra", acct=None, timestamp=None)
    B = N.Namespace("trb", acct=None, timestamp=None)
    N.veth(A, "eth0", B, "eth0")
    N.addr(A, "eth0", "10.90.1.1/24")
    N.addr(B, "eth0", "10.90.1.2/24")
    N.server(B, "tcp", "10.90.1.2", 7001)
    R.on_failure(lambda: f"---- nft tables in {A}: {A.nft_tables()}\n"
                 f"---- conntrack -L in {A}:\n{A.conntrack_text()}")
    # Without rules nothing is tracked.
    c = N.connect(A, "tcp", "10.90.1.2", 7001, 100)
    assert A.conntrack_count() == 0, "namespace tracks without any rule"
    c.close()


@R.case
def track_sees_flow_and_removes_table():
    assert TABLE not in A.nft_tables()
    p = A.flowtop_bg(R.flowtop, ["--track", "--json", "-c", 2, "-t", 2])
    ok = N.wait_until(lambda: TABLE in A.nft_tables() or not p.running(), timeout=10)
    assert ok and p.running(), f"no {TABLE} while flowtop runs (rc={p.p.poll()}, {p.err_text!r})"
    c = N.connect(A, "tcp", "10.90.1.2", 7001, 1500)
    assert TABLE in A.nft_tables()
    rc = p.wait(timeout=30)
    run = N.FlowtopRun(rc, p.stdout(), p.err_text)
    run.check_ok()
    f = N.one(run.frame(2), "(TCP flow under --track)", proto="tcp", sport=c.sport, dport=7001)
    assert f.orig == ("10.90.1.1", "10.90.1.2", c.sport, 7001), f"orig {f.orig}"
    assert f.reply == ("10.90.1.2", "10.90.1.1", 7001, c.sport), f"reply {f.reply}"
    assert f.state == "ESTABLISHED", f"state {f.state!r}"
    assert f.bytes is not None and f.bytes[0] > 1500 and f.bytes[1] > 3000, f"bytes {f.bytes}"
    assert TABLE not in A.nft_tables(), f"{TABLE} left after exit: {A.nft_tables()}"
    assert A.acct_ts() == (0, 0), f"acct/timestamp not restored: {A.acct_ts()}"
    c.close()


@R.case
def track_table_removed_after_sigterm():
    p = A.flowtop_bg(R.flowtop, ["--track", "--json", "-t", "0.5"])
    ok = N.wait_until(lambda: TABLE in A.nft_tables() or not p.running(), timeout=10)
    assert ok and p.running(), f"no {TABLE} while flowtop runs (rc={p.p.poll()}, {p.err_text!r})"
    p.signal(signal.SIGTERM)
    rc = p.wait(timeout=10)
    assert rc is not None, "flowtop did not exit after SIGTERM"
    assert TABLE not in A.nft_tables(), f"{TABLE} left after SIGTERM: {A.nft_tables()}"


@R.case
def track_two_instances_last_removes():
    a = A.flowtop_bg(R.flowtop, ["--track", "--json", "-t", "0.5"])
    assert N.wait_until(lambda: TABLE in A.nft_tables(), timeout=10), "no table"
    b = A.flowtop_bg(R.flowtop, ["--track", "--json", "-t", "0.5"])
    N.wait_until(lambda: not b.running(), timeout=1.0)  # give b time to set up
    assert b.running(), f"second --track flowtop exited: {b.err_text!r}"
    a.signal(signal.SIGTERM)
    assert a.wait(timeout=10) is not None
    assert TABLE in A.nft_tables(), "the first --track flowtop to exit removed the other's table"
    b.signal(signal.SIGTERM)
    assert b.wait(timeout=10) is not None
    assert TABLE not in A.nft_tables(), "the last --track flowtop left the table"


if R.setup(setup):
    pass
R.run()
