#!/usr/bin/env python3
"""Least privilege: once set up, a running flowtop keeps only CAP_NET_ADMIN and the /proc
capabilities (CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH), with no_new_privs; its reverse-DNS and GeoIP
worker threads keep none, the socket-owner thread only the /proc ones, and the one thread that
opens sockets in containers' namespaces only CAP_SYS_ADMIN (setns) and CAP_SYS_PTRACE. Read from
/proc/PID/status and /proc/PID/task/TID/status of a flowtop running in a test namespace.
"""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_privileges")
A: N.Namespace = None

CAP_DAC_READ_SEARCH = 1 << 2
CAP_NET_ADMIN = 1 << 12
CAP_SYS_PTRACE = 1 << 19
CAP_SYS_ADMIN = 1 << 21
KEPT = CAP_NET_ADMIN | CAP_SYS_PTRACE | CAP_DAC_READ_SEARCH
PROC_CAPS = CAP_SYS_PTRACE | CAP_DAC_READ_SEARCH
NETNS_CAPS = CAP_SYS_ADMIN | CAP_SYS_PTRACE


def setup():
    global A
    A = N.Namespace("prv")
    A.nft_track()


def status(path: str) -> dict:
    fields = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def caps(fields: dict, name: str) -> int:
    return int(fields[name], 16)


def threads(pid: int) -> dict:
    """comm -> list of status dicts, for every thread of `pid`."""
    out: dict = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            out.setdefault(comm, []).append(status(f"/proc/{pid}/task/{tid}/status"))
        except FileNotFoundError:
            pass  # the thread ended meanwhile
    return out


def names(mask: int) -> str:
    known = {CAP_DAC_READ_SEARCH: "dac_read_search", CAP_NET_ADMIN: "net_admin",
             CAP_SYS_PTRACE: "sys_ptrace", CAP_SYS_ADMIN: "sys_admin"}
    return ",".join(n for bit, n in known.items() if mask & bit) + (
        f" + others {mask & ~(KEPT | CAP_SYS_ADMIN):#x}" if mask & ~(KEPT | CAP_SYS_ADMIN) else "")


@R.case
def running_flowtop_keeps_only_what_it_uses():
    p = A.flowtop_bg(R.flowtop, ["--batch", "-t", "0.3", "-46UTDIS"])
    try:
        # A frame is written once set-up is done and the collector runs: privileges are dropped.
        assert N.wait_until(lambda: p.out_lines or not p.running(), timeout=20), "no frame"
        assert p.running(), f"flowtop exited: {p.err_text!r}"
        main = status(f"/proc/{p.pid}/status")
        for field in ("CapEff", "CapPrm", "CapBnd"):
            assert caps(main, field) == KEPT, f"{field} {main[field]} ({names(caps(main, field))})"
        assert caps(main, "CapInh") == 0, f"CapInh {main['CapInh']}"
        assert caps(main, "CapAmb") == 0, f"CapAmb {main['CapAmb']}"
        assert main["NoNewPrivs"] == "1", f"NoNewPrivs {main['NoNewPrivs']}"

        by_name = threads(p.pid)
        for comm, want in (("ft-dns", 0), ("ft-geoip", 0), ("ft-owner", PROC_CAPS),
                           ("ft-userfiles", 0), ("ft-leases", 0), ("ft-netns", NETNS_CAPS)):
            assert comm in by_name, f"no {comm} thread among {sorted(by_name)}"
            for t in by_name[comm]:
                eff, prm = caps(t, "CapEff"), caps(t, "CapPrm")
                assert eff == want and prm == want, (
                    f"{comm}: CapEff {t['CapEff']} CapPrm {t['CapPrm']} ({names(prm)}), "
                    f"expected {names(want) or 'none'}")
                assert t["NoNewPrivs"] == "1", f"{comm}: NoNewPrivs {t['NoNewPrivs']}"
        for comm, group in by_name.items():
            if comm == "ft-netns":
                continue  # checked above: setns needs CAP_SYS_ADMIN, and it does nothing else
            for t in group:
                assert caps(t, "CapPrm") & ~KEPT == 0, (
                    f"thread {comm} keeps {names(caps(t, 'CapPrm'))}")
    finally:
        p.signal(signal.SIGTERM)
        rc = p.wait(timeout=20)
    assert rc == 0, f"exit status {rc} after SIGTERM: {p.err_text!r}"


@R.case
def restores_sysctls_after_dropping_privileges():
    A.sysctl_set("net.netfilter.nf_conntrack_acct", 0)
    A.sysctl_set("net.netfilter.nf_conntrack_timestamp", 0)
    run = A.flowtop(R.flowtop, ["--json", "-c", 2, "-t", "0.3"])
    run.check_ok()
    assert A.acct_ts() == (0, 0), f"acct/timestamp not restored: {A.acct_ts()}"


if R.setup(setup):
    pass
R.run()
