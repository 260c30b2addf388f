#!/usr/bin/env python3
"""nf_conntrack_acct / nf_conntrack_timestamp: on while flowtop runs, restored on every way out.

Each case uses a fresh namespace whose acct and timestamp start at 0 (unless said otherwise).
"""

import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_sysctl")
RUN = ["--json", "-t", "0.2"]  # runs until told to stop


def fresh(tag: str, acct: int = 0, ts: int = 0) -> N.Namespace:
    ns = N.Namespace(tag, acct=acct, timestamp=ts)
    assert ns.acct_ts() == (acct, ts)
    R.on_failure(lambda: f"---- {ns}: acct/timestamp now {ns.acct_ts()}; /run/flowtop: "
                 f"{sorted(os.listdir('/run/flowtop')) if os.path.isdir('/run/flowtop') else '-'}")
    return ns


def start(ns: N.Namespace, *extra) -> N.Proc:
    return ns.flowtop_bg(R.flowtop, RUN + list(extra))


def wait_on(ns: N.Namespace, p: N.Proc, want=(1, 1)) -> None:
    ok = N.wait_until(lambda: ns.acct_ts() == want or not p.running(), timeout=10)
    assert p.running(), f"flowtop exited early: rc={p.wait(2)} stderr={p.err_text!r}"
    assert ok and ns.acct_ts() == want, f"while running: acct/timestamp {ns.acct_ts()}, want {want}"


def stop(p: N.Proc, sig: int) -> int:
    p.signal(sig)
    rc = p.wait(timeout=10)
    assert rc is not None, f"flowtop still running 10 s after signal {sig}"
    print(f"  after {signal.Signals(sig).name}: rc={rc} stderr={p.err_text.strip()!r}")
    return rc


def make_signal_case(sig: int):
    def case():
        ns = fresh("sig")
        p = start(ns)
        wait_on(ns, p)
        rc = stop(p, sig)
        assert rc != -sig or sig in (signal.SIGPIPE,), (
            f"flowtop was killed by {signal.Signals(sig).name} instead of handling it")
        assert ns.acct_ts() == (0, 0), f"after {signal.Signals(sig).name}: {ns.acct_ts()}"
    case.__name__ = f"restored_after_{signal.Signals(sig).name}"
    return case


for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
    R.case(make_signal_case(_sig))


@R.case
def restored_after_iterations_end():
    ns = fresh("cnt")
    p = ns.flowtop_bg(R.flowtop, ["--json", "-t", "0.5", "-c", 4])
    wait_on(ns, p)
    rc = p.wait(timeout=20)
    assert rc == 0, f"rc={rc} stderr={p.err_text!r}"
    assert ns.acct_ts() == (0, 0), f"after -c: {ns.acct_ts()}"


@R.case
def original_values_restored_not_zeroed():
    ns = fresh("mix", acct=1, ts=0)
    p = start(ns)
    wait_on(ns, p)
    stop(p, signal.SIGTERM)
    assert ns.acct_ts() == (1, 0), f"started at (1, 0), after exit {ns.acct_ts()}"


@R.case
def reader_goes_away_quietly():
    """`flowtop --json | head -1`: exits 0, nothing on stderr, settings restored."""
    ns = fresh("pipe")
    assert N.ct_inject(ns, R.ct_inject, 3, "tcp", "10.86.0.0", "10.87.0.1") == (3, 0)
    with tempfile.NamedTemporaryFile("r", prefix="flowtop-err-", suffix=".txt") as err:
        script = (f"'{R.flowtop}' --json -t 0.2 2>'{err.name}' | head -1; "
                  "echo \"flowtop_rc=${PIPESTATUS[0]}\"")
        cp = ns.run(["bash", "-c", script], timeout=30)
        stderr = open(err.name, encoding="utf-8", errors="replace").read()
    lines = cp.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("{"), f"head -1 output: {cp.stdout!r}"
    assert lines[1] == "flowtop_rc=0", f"{lines[1]} (stderr {stderr!r})"
    assert stderr == "", f"flowtop wrote to stderr after its reader went away: {stderr!r}"
    assert ns.acct_ts() == (0, 0), f"after SIGPIPE/EPIPE: {ns.acct_ts()}"


def two_instances(first_out: str):
    ns = fresh("two")
    assert N.ct_inject(ns, R.ct_inject, 2, "tcp", "10.86.0.0", "10.87.0.1") == (2, 0)
    a = start(ns)
    wait_on(ns, a)
    b = start(ns)
    # b has taken its first frame (it has read the settings and registered) once it printed.
    assert b.readline(timeout=10) is not None, f"second flowtop printed nothing: {b.err_text!r}"
    assert b.running()
    first, second = (a, b) if first_out == "first" else (b, a)
    stop(first, signal.SIGTERM)
    assert ns.acct_ts() == (1, 1), (
        f"one of two flowtops exited and turned accounting off under the other: {ns.acct_ts()}")
    assert second.running(), "the other flowtop died"
    stop(second, signal.SIGTERM)
    assert ns.acct_ts() == (0, 0), f"the last flowtop did not restore: {ns.acct_ts()}"


@R.case
def two_instances_first_started_exits_first():
    two_instances("first")


@R.case
def two_instances_second_started_exits_first():
    two_instances("second")


@R.case
def no_sysctl_never_changes_them():
    ns = fresh("nos")
    p = ns.flowtop_bg(R.flowtop, ["--json", "-t", "0.2", "-c", 10, "--no-sysctl"])
    seen = set()
    while p.running():
        seen.add(ns.acct_ts())
    rc = p.wait(timeout=10)
    seen.add(ns.acct_ts())
    assert rc == 0, f"rc={rc} stderr={p.err_text!r}"
    assert seen == {(0, 0)}, f"--no-sysctl changed acct/timestamp: saw {sorted(seen)}"
    ns2 = fresh("nos1", acct=1, ts=1)
    p = ns2.flowtop_bg(R.flowtop, ["--json", "-t", "0.2", "-c", 3, "--no-sysctl"])
    assert p.wait(timeout=10) == 0
    assert ns2.acct_ts() == (1, 1), f"--no-sysctl turned them off: {ns2.acct_ts()}"


def make_fatal_case(sig: int):
    def case():
        ns = fresh("seg")
        p = start(ns)
        wait_on(ns, p)
        rc = stop(p, sig)
        assert ns.acct_ts() == (0, 0), f"after {signal.Signals(sig).name}: {ns.acct_ts()}"
        assert rc == -sig, f"expected death by re-raised {signal.Signals(sig).name}, rc={rc}"
    case.__name__ = f"fatal_{signal.Signals(sig).name}_still_restores"
    return case


for _sig in (signal.SIGSEGV, signal.SIGABRT):
    R.case(make_fatal_case(_sig))


@R.case
def state_left_by_killed_instance_is_restored_by_next():
    ns = fresh("kil")
    p = start(ns)
    wait_on(ns, p)
    stop(p, signal.SIGKILL)  # nothing can restore here
    assert ns.acct_ts() == (1, 1)
    q = ns.flowtop_bg(R.flowtop, ["--json", "-t", "0.2", "-c", 3])
    assert q.wait(timeout=15) == 0, f"stderr={q.err_text!r}"
    assert ns.acct_ts() == (0, 0), (
        f"a flowtop after a SIGKILLed one did not restore the original values: {ns.acct_ts()}")


if R.setup(lambda: None):
    pass
R.run()
