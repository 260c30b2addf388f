#!/usr/bin/env python3
"""Failures are one clear line and the right exit status, and never touch the kernel settings.

- no privileges (uid 65534, no capabilities): exit 1, one line naming CAP_NET_ADMIN;
- a bad command line: exit 2, one line naming the problem and pointing at --help.
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_errors")
NS: N.Namespace = None
UNPRIV = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def lines(text: str) -> list:
    return [line for line in text.splitlines() if line.strip()]


def setup():
    global NS
    if shutil.which("setpriv") is None:
        raise N.SkipTest("setpriv (util-linux) is not installed")
    NS = N.Namespace("err", acct=0, timestamp=0)
    # An entry so that a flowtop that wrongly ran would print something.
    assert N.ct_inject(NS, R.ct_inject, 2, "tcp", "10.88.0.0", "10.89.0.1") == (2, 0)


def check_untouched(what: str):
    assert NS.acct_ts() == (0, 0), f"{what} changed acct/timestamp: {NS.acct_ts()}"
    assert "table inet flowtop_track" not in NS.nft_tables(), f"{what} left an nft table"


@R.case
def unprivileged_exits_1_naming_cap_net_admin():
    binary = N.runnable_by_nobody(R.flowtop)
    for mode in (["--json", "-c", 1], ["--batch", "-c", 1], ["--json", "-c", 1, "--track"]):
        cp = NS.run(UNPRIV + [binary] + mode, timeout=20)
        err = lines(cp.stderr)
        assert cp.returncode == 1, f"{mode}: rc={cp.returncode}, stderr={cp.stderr!r}"
        assert len(err) == 1, f"{mode}: expected one line on stderr, got {len(err)}: {cp.stderr!r}"
        assert "CAP_NET_ADMIN" in err[0], f"{mode}: line does not name CAP_NET_ADMIN: {err[0]!r}"
        assert cp.stdout == "", f"{mode}: printed on stdout: {cp.stdout[:300]!r}"
        check_untouched(f"unprivileged {mode}")
        print(f"  {' '.join(map(str, mode))}: {err[0]}")


USAGE = [
    (["-t", "0"], ("-t", "interval", "0")),
    (["-t", "abc"], ("abc",)),
    (["--frob"], ("frob",)),
    (["-t", "3601"], ("3601",)),
    (["-c", "0"], ("-c", "iterations", "0")),
    (["-c"], ("-c", "iterations")),
]


@R.case
def usage_errors_exit_2_with_one_line():
    problems = []
    for args, names in USAGE:
        cp = NS.run([R.flowtop, "--json"] + args, timeout=20)
        err = lines(cp.stderr)
        print(f"  {' '.join(args)}: rc={cp.returncode} stderr={cp.stderr.strip()!r}")
        if cp.returncode != 2:
            problems.append(f"{args}: rc={cp.returncode} (want 2)")
        # A bad option prints one line naming it plus a usage hint: both on one line.
        if len(err) != 1 or "--help" not in err[0]:
            problems.append(f"{args}: want one line naming the problem with a --help hint, got "
                            f"{len(err)} lines: {cp.stderr!r}")
        elif not any(n in err[0] for n in names):
            problems.append(f"{args}: the line names none of {names}: {err[0]!r}")
        if cp.stdout:
            problems.append(f"{args}: printed on stdout: {cp.stdout[:200]!r}")
        check_untouched(f"flowtop {' '.join(args)}")
    assert not problems, "\n".join(problems)


@R.case
def help_and_version_exit_0():
    cp = NS.run([R.flowtop, "--version"], timeout=10)
    assert cp.returncode == 0 and cp.stdout.startswith("flowtop "), f"--version: {cp!r}"
    cp = NS.run([R.flowtop, "--help"], timeout=10)
    assert cp.returncode == 0 and "--json" in cp.stdout, f"--help rc={cp.returncode}"
    check_untouched("--help/--version")


if R.setup(setup):
    pass
R.run()
