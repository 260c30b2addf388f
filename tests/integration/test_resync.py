#!/usr/bin/env python3
"""Lost events are noticed and repaired: with a tiny event buffer (--event-buffer) a burst of
~20000 new entries overflows the event socket (ENOBUFS); flowtop counts it, resyncs, and its last
frame still equals `conntrack -L`. After such a loss, `--batch` frames have a health line saying
the totals may miss flows that ended during it.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_resync")
BURST = 20000


@R.case
def enobufs_then_resync_matches_conntrack():
    ns = N.Namespace("rsy")
    # Events for every entry, also those created before a listener existed (default 2 would not).
    ns.sysctl_set(N.EVENTS, 1)
    R.on_failure(lambda: f"---- conntrack -C in {ns}: {ns.conntrack_count()}")
    frames = 8
    p = ns.flowtop_bg(R.flowtop, ["--json", "-t", "0.5", "-c", frames, "--stats",
                                  "--event-buffer", 16384, "-46UTDIS", "--other"])
    # flowtop is running once it has switched accounting on (it was already on: give it a moment
    # to open its sockets and take the first dump).
    time.sleep(1.0)
    assert p.p.poll() is None, f"flowtop exited early: rc={p.wait(1)} {p.err_text}"
    t0 = time.monotonic()
    half = BURST // 2
    assert N.ct_inject(ns, R.ct_inject, half, "tcp", "10.84.0.0", "10.85.0.1") == (half, 0)
    assert N.ct_inject(ns, R.ct_inject, half, "udp", "fd00:84::", "fd00:85::1") == (half, 0)
    print(f"  injected {BURST} entries in {time.monotonic() - t0:.2f}s while flowtop ran")
    rc = p.wait(timeout=60)
    assert rc is not None, "flowtop did not finish its 8 frames within 60 s"
    run = N.FlowtopRun(rc, p.stdout(), p.err_text)
    run.check_ok()
    stats = run.stats()
    assert stats is not None, f"no 'flowtop: stats:' line on stderr: {run.stderr!r}"
    print(f"  stats: {stats}")
    assert stats.get("events", 0) >= 1, f"no events received: {stats}"
    assert stats.get("enobufs", 0) >= 1, f"no ENOBUFS counted with a 16 KiB buffer: {stats}"
    assert stats.get("resyncs", 0) >= 1, f"ENOBUFS without a resync: {stats}"
    assert stats.get("parse_errors", 0) == 0, f"parse errors: {stats}"
    assert max(run.frames, default=0) == frames, f"last frame {max(run.frames, default=0)}"
    ct = ns.conntrack_list()
    assert len(ct) == BURST, f"conntrack holds {len(ct)}, expected {BURST}"
    problems = N.diff_sets(run.frame(frames), ct)
    assert not problems, f"frame {frames} != conntrack -L:\n" + "\n".join(problems)
    assert stats.get("flows") == BURST, f"stats flows={stats.get('flows')}, expected {BURST}"


@R.case
def lost_events_say_the_totals_may_miss_flows():
    ns = N.Namespace("rsz")
    ns.sysctl_set(N.EVENTS, 1)
    # A group tab: its TOTAL columns are what the line is about (the Flows tab has none, and
    # --batch then keeps no totals).
    p = ns.flowtop_bg(R.flowtop, ["--batch", "-t", "0.5", "-c", 6, "--stats",
                                  "--event-buffer", 16384, "-4T", "--tab", "hosts"])
    time.sleep(1.0)
    assert p.p.poll() is None, f"flowtop exited early: rc={p.wait(1)} {p.err_text}"
    assert N.ct_inject(ns, R.ct_inject, 5000, "tcp", "10.86.0.0", "10.87.0.1") == (5000, 0)
    rc = p.wait(timeout=60)
    assert rc == 0, f"rc={rc}: {p.err_text}"
    run = N.FlowtopRun(rc, p.stdout(), p.err_text)
    stats = run.stats()
    assert stats is not None and stats.get("enobufs", 0) >= 1, f"no ENOBUFS: {stats}"
    last = p.stdout().split("frame 6")[-1]
    assert "the totals may miss flows that ended while events were lost" in last, last[:2000]


if R.setup(lambda: None):
    pass
R.run()
