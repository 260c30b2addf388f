"""Kernel integration test harness for flowtop: namespaces, traffic, conntrack, flowtop runs.

Python 3 standard library only; run as root. Every namespace is named ftit-<tag>-<pid> and every
process is started in its own session, so cleanup (try/finally, atexit and SIGINT/SIGTERM/SIGHUP
handlers) can remove all of it; namespaces left by a killed run (pid no longer alive) are removed
at the next start. Skips (exit 77) only when not root or the kernel lacks a needed feature.

Addresses live only inside the test namespaces: 10.<x>.<y>.0/24 and fd00:<x>:<y>::/64.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import functools
import ipaddress
import json
import os
import queue
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from typing import Callable, Iterable, Optional

PREFIX = "ftit"
SKIP = 77
PY = sys.executable or "python3"

ACCT = "net.netfilter.nf_conntrack_acct"
TSTAMP = "net.netfilter.nf_conntrack_timestamp"
EVENTS = "net.netfilter.nf_conntrack_events"


class SkipTest(Exception):
    """Raised when the machine cannot run a test (not root, kernel feature missing)."""


# ------------------------------------------------------------------------------------------------
# Command log: every command run through this module, shown when a case fails.

@dataclasses.dataclass
class LogEntry:
    argv: list
    rc: Optional[int]
    stdout: str
    stderr: str
    secs: float


LOG: list[LogEntry] = []


def _short(text: str, limit: int = 6000) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + f"\n... [{len(text) - limit} chars cut] ...\n" + text[-half:]


def format_log(entries: Iterable[LogEntry], limit: int = 6000) -> str:
    out = []
    for e in entries:
        args = ("<script>" if "\n" in str(a) else str(a) for a in e.argv)
        out.append(f"$ {' '.join(args)}   [rc={e.rc}, {e.secs:.2f}s]")
        if e.stdout.strip():
            out.append("  stdout:\n" + _indent(_short(e.stdout, limit)))
        if e.stderr.strip():
            out.append("  stderr:\n" + _indent(_short(e.stderr, limit)))
    return "\n".join(out)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip("\n").split("\n"))


def run(argv: list, ns: Optional[str] = None, input: Optional[str] = None, timeout: float = 60,
        check: bool = False, log: bool = True) -> subprocess.CompletedProcess:
    """Runs argv (in namespace ns), returns the CompletedProcess with text stdout/stderr."""
    full = ["ip", "netns", "exec", ns] + [str(a) for a in argv] if ns else [str(a) for a in argv]
    t0 = time.monotonic()
    try:
        cp = subprocess.run(full, input=input, capture_output=True, text=True, timeout=timeout,
                            errors="replace")
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        LOG.append(LogEntry(full, None, out, err + f"\n[timed out after {timeout}s]",
                            time.monotonic() - t0))
        raise AssertionError(f"command timed out after {timeout}s: {' '.join(full)}") from None
    if log:
        LOG.append(LogEntry(full, cp.returncode, cp.stdout, cp.stderr, time.monotonic() - t0))
    if check and cp.returncode != 0:
        raise AssertionError(f"command failed (rc={cp.returncode}): {' '.join(full)}\n{cp.stderr}")
    return cp


# ------------------------------------------------------------------------------------------------
# Processes

class Proc:
    """A background process in its own session. Reader threads drain stdout (by line) and stderr at
    all times, so a chatty process never blocks on a full pipe; the output is kept for diagnostics.
    """

    def __init__(self, argv: list, ns: Optional[str] = None, stdin=subprocess.PIPE):
        self.argv = ["ip", "netns", "exec", ns] + [str(a) for a in argv] if ns else [
            str(a) for a in argv]
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(self.argv, stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, start_new_session=True,
                                  bufsize=1, errors="replace")
        self.out_lines: list[str] = []
        self._err_parts: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        self._logged = False
        self._threads = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._threads:
            t.start()
        _PROCS.append(self)

    def _read_out(self) -> None:
        for line in self.p.stdout:
            self.out_lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def _read_err(self) -> None:
        for chunk in self.p.stderr:
            self._err_parts.append(chunk)

    @property
    def pid(self) -> int:
        return self.p.pid

    @property
    def err_text(self) -> str:
        return "".join(self._err_parts)

    def readline(self, timeout: float = 10.0) -> Optional[str]:
        """The next stdout line not yet returned, or None at EOF or timeout."""
        try:
            line = self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if line is None:
            self._queue.put(None)  # EOF stays EOF
        return line

    def expect(self, prefix: str, timeout: float = 10.0) -> str:
        """Reads lines until one starts with prefix; fails with the process's output otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.readline(deadline - time.monotonic())
            if line is None:
                self.kill()
                raise AssertionError(
                    f"no '{prefix}' line from {' '.join(self.argv)[:200]}\nstdout: "
                    f"{self.stdout()[-3000:]}\nstderr: {self.err_text[-3000:]}")
            if line.startswith(prefix):
                return line.rstrip("\n")

    def send(self, line: str) -> None:
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def signal(self, sig: int) -> None:
        if self.p.poll() is None:
            os.kill(self.p.pid, sig)

    def running(self) -> bool:
        return self.p.poll() is None

    def wait(self, timeout: float = 10.0) -> Optional[int]:
        """Waits for exit and for the end of its output; None on timeout."""
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        for t in self._threads:
            t.join(timeout=10)
        self._log()
        return self.p.returncode

    def kill(self) -> None:
        """SIGTERM to the whole session, then SIGKILL after 2 s."""
        if self.p.poll() is None:
            for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
                try:
                    os.killpg(self.p.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.p.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:
            self.wait(timeout=2)
        except Exception:  # noqa: BLE001 - best effort during cleanup
            pass

    def stdout(self) -> str:
        return "".join(self.out_lines)

    def _log(self) -> None:
        if not self._logged:
            self._logged = True
            LOG.append(LogEntry(self.argv, self.p.returncode, self.stdout(), self.err_text,
                                time.monotonic() - self.t0))


_PROCS: list[Proc] = []
_NAMESPACES: list["Namespace"] = []
_CLEANED = False


_COPIES: list = []  # temporary directories of runnable_by_nobody()


def runnable_by_nobody(path: str) -> str:
    """`path` if uid 65534 can execute it, else a world-executable copy in a temporary directory
    (removed by cleanup()): a clone in a private directory (a 0700 home, a mktemp -d) has a
    build/flowtop that other users cannot reach."""
    p = os.path.abspath(path)
    ok = bool(os.stat(p).st_mode & stat.S_IXOTH)
    d = os.path.dirname(p)
    while ok and d != "/":
        ok = bool(os.stat(d).st_mode & stat.S_IXOTH)
        d = os.path.dirname(d)
    if ok:
        return p
    tmp = tempfile.mkdtemp(prefix="flowtop-it-")
    _COPIES.append(tmp)
    os.chmod(tmp, 0o755)
    copy = os.path.join(tmp, os.path.basename(p))
    shutil.copy2(p, copy)
    os.chmod(copy, 0o755)
    return copy


def cleanup() -> None:
    """Kills every process we started and deletes every namespace we made. Idempotent."""
    global _CLEANED
    for p in list(_PROCS):
        try:
            p.kill()
        except Exception:  # noqa: BLE001
            pass
    _PROCS.clear()
    for ns in list(reversed(_NAMESPACES)):
        try:
            ns.delete()
        except Exception:  # noqa: BLE001
            pass
    _NAMESPACES.clear()
    for d in _COPIES:
        shutil.rmtree(d, ignore_errors=True)
    _COPIES.clear()
    _CLEANED = True


def _on_signal(signum, _frame):
    print(f"\n[netns] caught signal {signum}: cleaning up", file=sys.stderr, flush=True)
    cleanup()
    os._exit(128 + signum)


def _kill_namespace_pids(name: str) -> None:
    cp = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
    for tok in cp.stdout.split():
        try:
            os.kill(int(tok), signal.SIGTERM)
        except (ValueError, ProcessLookupError):
            pass
    if cp.stdout.strip():
        time.sleep(0.3)
        cp = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
        for tok in cp.stdout.split():
            try:
                os.kill(int(tok), signal.SIGKILL)
            except (ValueError, ProcessLookupError):
                pass


def remove_stale_namespaces() -> None:
    """Deletes ftit-*-<pid> namespaces whose creating process is gone (a killed earlier run)."""
    cp = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    for line in cp.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(rf"{PREFIX}-.*-(\d+)", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            _kill_namespace_pids(name)
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


# ------------------------------------------------------------------------------------------------
# Namespaces and links

class Namespace:
    """A network namespace ftit-<tag>-<pid> with lo up, deleted by cleanup()."""

    def __init__(self, tag: str, acct: Optional[int] = 1, timestamp: Optional[int] = 1):
        self.name = f"{PREFIX}-{tag}-{os.getpid()}"
        self.tag = tag
        if subprocess.run(["ip", "netns", "add", self.name], capture_output=True).returncode != 0:
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
            cp = subprocess.run(["ip", "netns", "add", self.name], capture_output=True, text=True)
            if cp.returncode != 0:
                raise SkipTest(f"cannot create a network namespace: {cp.stderr.strip()}")
        _NAMESPACES.append(self)
        self.run(["ip", "link", "set", "lo", "up"], check=True)
        # No duplicate address detection on links made later: IPv6 works at once.
        self.run(["sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0",
                  "net.ipv6.conf.all.accept_dad=0"], log=False)
        if not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_acct"):
            raise SkipTest("the kernel has no conntrack (no nf_conntrack_acct sysctl)")
        if acct is not None:
            self.sysctl_set(ACCT, acct)
        if timestamp is not None:
            self.sysctl_set(TSTAMP, timestamp)

    def __str__(self) -> str:
        return self.name

    def run(self, argv: list, **kw) -> subprocess.CompletedProcess:
        return run(argv, ns=self.name, **kw)

    def sh(self, script: str, **kw) -> subprocess.CompletedProcess:
        return run(["sh", "-c", script], ns=self.name, **kw)

    def popen(self, argv: list, **kw) -> Proc:
        return Proc(argv, ns=self.name, **kw)

    def python(self, code: str, *args, **kw) -> Proc:
        return Proc([PY, "-u", "-c", code] + [str(a) for a in args], ns=self.name, **kw)

    def delete(self) -> None:
        _kill_namespace_pids(self.name)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        if self in _NAMESPACES:
            _NAMESPACES.remove(self)

    def inode(self) -> int:
        return os.stat(f"/run/netns/{self.name}").st_ino

    # sysctls -------------------------------------------------------------------------------------
    def sysctl_get(self, key: str) -> str:
        path = "/proc/sys/" + key.replace(".", "/")
        return self.run(["cat", path], check=True, log=False).stdout.strip()

    def sysctl_set(self, key: str, value) -> None:
        self.run(["sysctl", "-qw", f"{key}={value}"], check=True)

    def acct_ts(self) -> tuple:
        """(nf_conntrack_acct, nf_conntrack_timestamp) as ints, read in one process."""
        cp = self.run(["cat", "/proc/sys/net/netfilter/nf_conntrack_acct",
                       "/proc/sys/net/netfilter/nf_conntrack_timestamp"], check=True, log=False)
        a, t = cp.stdout.split()
        return int(a), int(t)

    # nftables ------------------------------------------------------------------------------------
    def nft_track(self) -> None:
        """Adds table inet ftit_ct with conntrack rules, so the namespace tracks connections."""
        rule = "ct state new,established,related counter;"
        rules = (
            "table inet ftit_ct {\n"
            f"  chain ct_pre {{ type filter hook prerouting priority 0; {rule} }}\n"
            f"  chain ct_out {{ type filter hook output priority 0; {rule} }}\n"
            f"  chain ct_fwd {{ type filter hook forward priority 0; {rule} }}\n"
            "}\n")
        cp = self.run(["nft", "-f", "-"], input=rules)
        if cp.returncode != 0:
            if re.search(r"not supported|No such file", cp.stderr):
                raise SkipTest(f"nft cannot add a conntrack rule: {cp.stderr.strip()}")
            raise AssertionError(f"nft failed: {cp.stderr.strip()}")

    def nft_tables(self) -> list[str]:
        cp = self.run(["nft", "list", "tables"], log=False)
        return [line.strip() for line in cp.stdout.splitlines() if line.strip()]

    # conntrack -----------------------------------------------------------------------------------
    def conntrack_list(self) -> list["Flow"]:
        cp = self.run(["conntrack", "-L", "-o", "extended,id"], check=True)
        return parse_conntrack(cp.stdout)

    def conntrack_text(self) -> str:
        return self.run(["conntrack", "-L", "-o", "extended,id"], log=False).stdout

    def conntrack_count(self) -> int:
        return int(self.run(["conntrack", "-C"], check=True, log=False).stdout.strip())

    def conntrack_flush(self) -> None:
        self.run(["conntrack", "-F"], log=False)

    # flowtop -------------------------------------------------------------------------------------
    def flowtop(self, flowtop: str, args: list, timeout: float = 60) -> "FlowtopRun":
        """Runs flowtop to completion; `args` should include --json and -c."""
        cp = self.run([flowtop] + [str(a) for a in args], timeout=timeout)
        return FlowtopRun(cp.returncode, cp.stdout, cp.stderr)

    def flowtop_bg(self, flowtop: str, args: list) -> Proc:
        return self.popen([flowtop] + [str(a) for a in args], stdin=subprocess.DEVNULL)


def veth(a: Namespace, a_if: str, b: Namespace, b_if: str) -> None:
    run(["ip", "link", "add", "name", a_if, "netns", a.name, "type", "veth", "peer", "name", b_if,
         "netns", b.name], check=True)
    a.run(["ip", "link", "set", a_if, "up"], check=True)
    b.run(["ip", "link", "set", b_if, "up"], check=True)


def addr(ns: Namespace, ifname: str, cidr: str) -> None:
    extra = ["nodad"] if ":" in cidr else []
    ns.run(["ip", "addr", "add", cidr, "dev", ifname] + extra, check=True)


def route(ns: Namespace, dest: str, via: str) -> None:
    ns.run(["ip", "-6" if ":" in via else "-4", "route", "add", dest, "via", via], check=True)


@dataclasses.dataclass
class Topology:
    """client --veth-- router --veth-- server, IPv4 and IPv6, conntrack rules in all three."""
    client: Namespace
    router: Namespace
    server: Namespace
    client4: str
    server4: str
    client6: str
    server6: str
    router_c4: str
    router_s4: str

    def all(self) -> list[Namespace]:
        return [self.client, self.router, self.server]


def topology(x: int = 77, tag: str = "") -> Topology:
    """client -> router -> server: 10.x.1.0/24, 10.x.2.0/24, fd00:x:1::/64, fd00:x:2::/64."""
    c, r, s = Namespace(tag + "cli"), Namespace(tag + "rtr"), Namespace(tag + "srv")
    r.sysctl_set("net.ipv4.ip_forward", 1)
    r.sysctl_set("net.ipv6.conf.all.forwarding", 1)
    veth(c, "eth0", r, "ethc")
    veth(r, "eths", s, "eth0")
    addr(c, "eth0", f"10.{x}.1.2/24")
    addr(r, "ethc", f"10.{x}.1.1/24")
    addr(r, "eths", f"10.{x}.2.1/24")
    addr(s, "eth0", f"10.{x}.2.2/24")
    addr(c, "eth0", f"fd00:{x}:1::2/64")
    addr(r, "ethc", f"fd00:{x}:1::1/64")
    addr(r, "eths", f"fd00:{x}:2::1/64")
    addr(s, "eth0", f"fd00:{x}:2::2/64")
    route(c, "default", f"10.{x}.1.1")
    route(s, "default", f"10.{x}.2.1")
    route(c, "default", f"fd00:{x}:1::1")
    route(s, "default", f"fd00:{x}:2::1")
    for ns in (c, r, s):
        ns.nft_track()
        # Received UDP-lite packets fail conntrack's checksum check on veth (marked invalid, never
        # tracked) unless checksum verification is off; it is per namespace.
        ns.sysctl_set("net.netfilter.nf_conntrack_checksum", 0)
    t = Topology(c, r, s, f"10.{x}.1.2", f"10.{x}.2.2", f"fd00:{x}:1::2", f"fd00:{x}:2::2",
                 f"10.{x}.1.1", f"10.{x}.2.1")
    # The path works both ways before any test relies on it (IPv6 may need a moment: neighbour
    # discovery on fresh links).
    for host in (t.server4, t.server6):
        if not wait_until(lambda: icmp_echo(c, host, ident=1, count=1) == 1, timeout=15, step=0.2):
            raise AssertionError(f"topology: client cannot reach {host} through the router")
    return t


# ------------------------------------------------------------------------------------------------
# Flows: conntrack -L and flowtop --json in one comparable form

TCP_STATES = {  # conntrack-tools name -> flowtop name
    "NONE": "NONE", "SYN_SENT": "SYN-SENT", "SYN_RECV": "SYN-RECV", "ESTABLISHED": "ESTABLISHED",
    "FIN_WAIT": "FIN-WAIT", "CLOSE_WAIT": "CLOSE-WAIT", "LAST_ACK": "LAST-ACK",
    "TIME_WAIT": "TIME-WAIT", "CLOSE": "CLOSE", "SYN_SENT2": "SYN-SENT2",
}
SCTP_STATES = {
    "NONE": "NONE", "CLOSED": "CLOSED", "COOKIE_WAIT": "COOKIE-WAIT",
    "COOKIE_ECHOED": "COOKIE-ECHO", "ESTABLISHED": "ESTABLISHED", "SHUTDOWN_SENT": "SHUTD-SENT",
    "SHUTDOWN_RECD": "SHUTD-RCVD", "SHUTDOWN_ACK_SENT": "SHUTD-ACK", "HEARTBEAT_SENT": "HB-SENT",
    "HEARTBEAT_ACKED": "HB-ACKED",
}
PROTO_NUM = {"icmp": 1, "tcp": 6, "udp": 17, "dccp": 33, "gre": 47, "icmpv6": 58, "sctp": 132,
             "udplite": 136}
PORT_PROTOS = {"tcp", "udp", "udplite", "sctp"}  # dccp: generic (no tracker) on current kernels


@dataclasses.dataclass
class Flow:
    family: str               # "ipv4" | "ipv6"
    proto: str                # tcp udp udplite sctp dccp icmp icmpv6 gre unknown
    orig: tuple               # (src, dst, sport, dport); ports None where the protocol has none
    reply: tuple
    icmp: Optional[tuple] = None   # (type, code, id) of the original direction
    state: Optional[str] = None    # flowtop's spelling
    bytes: Optional[tuple] = None  # (orig, reply); None when accounting is absent
    packets: Optional[tuple] = None
    id: Optional[int] = None
    mark: int = 0
    zone: int = 0
    status: frozenset = frozenset()
    assured: Optional[bool] = None     # IPS_ASSURED
    seen_reply: Optional[bool] = None  # IPS_SEEN_REPLY (conntrack -L: not [UNREPLIED])
    raw: object = None

    def key(self) -> tuple:
        return (self.family, self.proto, self.orig, self.reply, self.icmp, self.zone)

    def brief(self) -> str:
        o, r = self.orig, self.reply
        ports = "" if o[2] is None else f" {o[2]}->{o[3]}"
        ic = "" if self.icmp is None else f" icmp{self.icmp}"
        return (f"{self.family} {self.proto} {o[0]}->{o[1]}{ports}{ic} reply {r[0]}->{r[1]}"
                f"{'' if r[2] is None else f' {r[2]}->{r[3]}'} state={self.state} "
                f"bytes={self.bytes} packets={self.packets} id={self.id}")


@functools.lru_cache(maxsize=1 << 16)
def _ip(text: str) -> str:
    return ipaddress.ip_address(text).compressed


def _norm_ports(proto: str, sport, dport):
    if proto in PORT_PROTOS:
        return (None if sport is None else int(sport), None if dport is None else int(dport))
    if proto == "dccp" and sport in (None, 0, "0") and dport in (None, 0, "0"):
        return (None, None)  # generic protocol-33 entry: no ports
    if proto == "dccp":
        return (int(sport), int(dport))
    return (None, None)


def parse_conntrack(text: str) -> list[Flow]:
    """Parses `conntrack -L -o extended,id` output."""
    flows = []
    for line in text.splitlines():
        toks = line.split()
        if len(toks) < 5 or toks[0] not in ("ipv4", "ipv6"):
            continue
        family, proto = toks[0], toks[2]
        i = 5
        state = None
        if i < len(toks) and "=" not in toks[i] and not toks[i].startswith("["):
            state = toks[i]
            i += 1
        dirs = [{}, {}]
        d = -1
        status = set()
        extra = {}
        tuple_keys = ("src", "dst", "sport", "dport", "type", "code", "id", "packets", "bytes",
                      "srckey", "dstkey")
        done = False  # past the reply tuple: mark=, use=, id= (the conntrack id), zone= ...
        for tok in toks[i:]:
            if tok.startswith("[") and tok.endswith("]"):
                status.add(tok[1:-1])
                continue
            if "=" not in tok:
                continue
            k, v = tok.split("=", 1)
            if not done and k == "src":
                d += 1
            if not done and d == 1 and (k not in tuple_keys or k in dirs[d]):
                done = True
            if not done and 0 <= d <= 1 and k in tuple_keys:
                dirs[d][k] = v
            else:
                extra[k] = v
        if d < 1:
            continue
        o, r = dirs
        if proto == "tcp" and state is not None:
            state = TCP_STATES.get(state, state)
        elif proto == "sctp" and state is not None:
            state = SCTP_STATES.get(state, state)
        icmp = None
        if proto in ("icmp", "icmpv6"):
            icmp = (int(o["type"]), int(o["code"]), int(o["id"]))
        orig = (_ip(o["src"]), _ip(o["dst"])) + _norm_ports(proto, o.get("sport"), o.get("dport"))
        reply = (_ip(r["src"]), _ip(r["dst"])) + _norm_ports(proto, r.get("sport"), r.get("dport"))
        counters = "bytes" in o and "bytes" in r
        flows.append(Flow(
            family=family, proto=proto, orig=orig, reply=reply, icmp=icmp, state=state,
            bytes=(int(o["bytes"]), int(r["bytes"])) if counters else None,
            packets=(int(o["packets"]), int(r["packets"])) if counters else None,
            id=int(extra["id"]) if "id" in extra else None, mark=int(extra.get("mark", 0)),
            zone=int(extra.get("zone", 0)), status=frozenset(status), assured="ASSURED" in status,
            seen_reply="UNREPLIED" not in status, raw=line))
    return flows


def flow_from_json(obj: dict) -> Flow:
    proto = obj["proto"]
    o, r = obj["orig"], obj["reply"]
    ic = obj.get("icmp")
    b, p = obj.get("bytes"), obj.get("packets")
    state = obj.get("state")
    return Flow(
        family=obj["family"], proto=proto,
        orig=(_ip(o["src"]), _ip(o["dst"])) + _norm_ports(proto, o.get("sport"), o.get("dport")),
        reply=(_ip(r["src"]), _ip(r["dst"])) + _norm_ports(proto, r.get("sport"), r.get("dport")),
        icmp=(ic["type"], ic["code"], ic["id"]) if ic else None,
        state=state if state else None,
        bytes=(b["orig"], b["reply"]) if b else None,
        packets=(p["orig"], p["reply"]) if p else None,
        id=obj.get("id"), mark=obj.get("mark", 0) or 0, zone=obj.get("zone", 0) or 0,
        status=frozenset(obj.get("status") or []),
        assured="ASSURED" in (obj.get("status") or []),
        seen_reply="SEEN_REPLY" in (obj.get("status") or []), raw=obj)


class FlowtopRun:
    """A finished flowtop --json run: exit status, stderr, and flows by frame.

    Every line must be a JSON object with a "frame"; Flow objects are built per frame on demand
    (a big table prints hundreds of thousands of lines).
    """

    def __init__(self, rc: Optional[int], stdout: str, stderr: str):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self._lines: dict[int, list[str]] = {}
        self._parsed: dict[int, list[Flow]] = {}
        self.bad_lines: list[str] = []
        for line in stdout.splitlines():
            if not line.strip():
                continue
            m = _FRAME_RE.search(line)
            if not m or not line.startswith("{") or not line.endswith("}"):
                self.bad_lines.append(f"not a JSON object with a frame: {line[:300]}")
                continue
            self._lines.setdefault(int(m.group(1)), []).append(line)
        self.frames = self._lines  # frame number -> raw lines

    def frame(self, n: int) -> list[Flow]:
        """Flows of frame n (a frame with no shown flow prints nothing: empty list)."""
        if n not in self._parsed:
            flows = []
            for line in self._lines.get(n, []):
                try:
                    flows.append(flow_from_json(json.loads(line)))
                except (ValueError, KeyError, TypeError) as e:
                    self.bad_lines.append(f"{e!r}: {line[:300]}")
            self._parsed[n] = flows
        return self._parsed[n]

    def objects(self, n: int) -> list[dict]:
        return [f.raw for f in self.frame(n)]

    def last(self) -> list[Flow]:
        return self.frame(max(self._lines)) if self._lines else []

    def stats(self) -> Optional[dict]:
        for line in self.stderr.splitlines():
            m = re.search(r"flowtop: stats: (.*)", line)
            if m:
                return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}
        return None

    def check_ok(self) -> None:
        assert self.rc == 0, f"flowtop exited {self.rc}; stderr: {self.stderr.strip()[:2000]}"
        for n in self._lines:
            self.frame(n)
        assert not self.bad_lines, "bad output lines:\n" + "\n".join(self.bad_lines[:10])


_FRAME_RE = re.compile(r'"frame"\s*:\s*(\d+)')


def find(flows: Iterable[Flow], **want) -> list[Flow]:
    """Flows matching family=, proto=, ... and src=, dst=, sport=, dport= (original tuple)."""
    out = []
    for f in flows:
        ok = True
        for k, v in want.items():
            if k == "src":
                ok = f.orig[0] == _ip(v)
            elif k == "dst":
                ok = f.orig[1] == _ip(v)
            elif k == "sport":
                ok = f.orig[2] == v
            elif k == "dport":
                ok = f.orig[3] == v
            else:
                ok = getattr(f, k) == v
            if not ok:
                break
        if ok:
            out.append(f)
    return out


def one(flows: Iterable[Flow], what: str = "", **want) -> Flow:
    found = find(flows, **want)
    assert len(found) == 1, (f"expected exactly one flow {what} {want}, found {len(found)}:\n" +
                             "\n".join(f.brief() for f in found[:20]))
    return found[0]


def diff_sets(shown: list[Flow], expected: list[Flow], counters: bool = True,
              limit: int = 20) -> list[str]:
    """Differences between flowtop's flows and conntrack's: missing, extra, and field mismatches."""
    problems = []
    a = {}
    for f in shown:
        if f.key() in a:
            problems.append(f"duplicate in flowtop: {f.brief()}")
        a[f.key()] = f
    b = {f.key(): f for f in expected}
    missing = [b[k] for k in b.keys() - a.keys()]
    extra = [a[k] for k in a.keys() - b.keys()]
    if missing:
        problems.append(f"{len(missing)} missing from flowtop, e.g.:\n" +
                        "\n".join("  " + f.brief() for f in missing[:limit]))
    if extra:
        problems.append(f"{len(extra)} extra in flowtop, e.g.:\n" +
                        "\n".join("  " + f.brief() for f in extra[:limit]))
    mism = []
    for k in a.keys() & b.keys():
        x, y = a[k], b[k]
        fields = ["state", "mark", "id", "assured", "seen_reply"] + (
            ["bytes", "packets"] if counters else [])
        for fld in fields:
            if getattr(x, fld) != getattr(y, fld):
                mism.append(f"  {fld}: flowtop {getattr(x, fld)!r} conntrack {getattr(y, fld)!r} "
                            f"for {y.brief()}")
    if mism:
        problems.append(f"{len(mism)} field mismatches, e.g.:\n" + "\n".join(mism[:limit]))
    return problems


# ------------------------------------------------------------------------------------------------
# Traffic (Python programs run inside namespaces)

_SERVER = r"""
import socket, sys, threading
kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
if kind == "tcp":
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port)); s.listen(64)
    print("listening", flush=True)
    def serve(c):
        with c:
            while True:
                d = c.recv(65536)
                if not d:
                    return
                c.sendall(d * 2)  # reply twice as much: the directions differ
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
else:
    proto = 136 if kind == "udplite" else 0
    s = socket.socket(fam, socket.SOCK_DGRAM, proto)
    s.bind((host, port))
    print("listening", flush=True)
    while True:
        d, peer = s.recvfrom(65536)
        s.sendto(d * 2, peer)
"""

_CLIENT = r"""
import socket, sys
kind, host, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
if kind == "tcp":
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"x" * n)
    got = 0
    while got < 2 * n:
        d = s.recv(65536)
        if not d:
            break
        got += len(d)
else:
    s = socket.socket(fam, socket.SOCK_DGRAM, 136 if kind == "udplite" else 0)
    s.settimeout(10)
    s.connect((host, port))
    s.send(b"x" * n)
    got = len(s.recv(65536))
print("ready", s.getsockname()[1], got, flush=True)
for line in sys.stdin:
    if line.strip() == "close":
        break
s.close()
print("closed", flush=True)
"""

_RAW = r"""
import socket, struct, sys, time
host, proto, count, ident = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
v6 = ":" in host
fam = socket.AF_INET6 if v6 else socket.AF_INET
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
if proto in (1, 58):  # ICMP / ICMPv6 echo with a known id; wait for each reply
    s = socket.socket(fam, socket.SOCK_RAW, proto)
    s.settimeout(2)
    replies = 0
    for seq in range(1, count + 1):
        body = b"flowtop-echo" * 4
        if v6:
            pkt = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + body  # kernel fills the checksum
        else:
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + body), ident, seq) + body
        s.sendto(pkt, (host, 0))
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                d = s.recv(2048)
            except socket.timeout:
                break
            off = 0 if v6 else (d[0] & 0x0f) * 4
            t, _, _, rid, rseq = struct.unpack("!BBHHH", d[off:off + 8])
            if t == (129 if v6 else 0) and rid == ident and rseq == seq:
                replies += 1
                break
    print("replies", replies, flush=True)
else:  # any other protocol: raw datagrams (GRE: a version-0 header first)
    s = socket.socket(fam, socket.SOCK_RAW, proto)
    payload = (struct.pack("!HH", 0, 0x0800) if proto == 47 else b"") + b"flowtop-raw" * 8
    for _ in range(count):
        s.sendto(payload, (host, 0))
    print("sent", count, flush=True)
"""


class Connection:
    """A client connection held open (TCP, UDP, UDP-lite); close() ends it."""

    def __init__(self, proc: Proc, sport: int, received: int):
        self.proc = proc
        self.sport = sport
        self.received = received

    def close(self) -> None:
        if self.proc.p.poll() is None:
            self.proc.send("close")
            self.proc.expect("closed", timeout=10)
            self.proc.wait(timeout=5)


def server(ns: Namespace, kind: str, host: str, port: int) -> Proc:
    """Starts an echo server (tcp, udp, udplite) that replies twice what it receives."""
    p = ns.python(_SERVER, kind, host, port)
    p.expect("listening", timeout=15)
    return p


def connect(ns: Namespace, kind: str, host: str, port: int, nbytes: int = 1000) -> Connection:
    """Connects from ns, sends nbytes, receives the 2*nbytes reply, and keeps the socket open."""
    p = ns.python(_CLIENT, kind, host, port, nbytes)
    line = p.expect("ready", timeout=15).split()
    return Connection(p, int(line[1]), int(line[2]))


def icmp_echo(ns: Namespace, host: str, ident: int, count: int = 2) -> int:
    """Sends `count` echo requests with id `ident` (ICMP or ICMPv6 by address); returns replies."""
    proto = 58 if ":" in host else 1
    cp = run([PY, "-c", _RAW, host, proto, count, ident], ns=ns.name, timeout=30)
    m = re.search(r"replies (\d+)", cp.stdout)
    assert m, f"icmp_echo failed: {cp.stderr}"
    return int(m.group(1))


def ping(ns: Namespace, host: str, count: int = 2) -> bool:
    """ping / ping -6 when iputils is installed, else our own echo (id = pid)."""
    if shutil.which("ping"):
        argv = ["ping", "-6" if ":" in host else "-4", "-c", count, "-i", "0.2", "-W", "2", host]
        return run(argv, ns=ns.name, timeout=30).returncode == 0
    return icmp_echo(ns, host, ident=os.getpid() & 0xFFFF, count=count) == count


def raw_send(ns: Namespace, host: str, proto: int, count: int = 3) -> None:
    """Sends `count` raw IP datagrams of protocol `proto` (e.g. 33, 47) to host."""
    run([PY, "-c", _RAW, host, proto, count, 0], ns=ns.name, timeout=30, check=True)


def ct_inject(ns: Namespace, tool: str, count: int, proto: str = "tcp", src: str = "10.77.0.0",
              dst: str = "10.78.0.1", extra: Optional[list] = None, timeout: float = 60) -> tuple:
    """Runs ct_inject in ns; returns (injected, failed)."""
    cp = ns.run([tool, "--count", count, "--proto", proto, "--src", src, "--dst", dst] +
                (extra or []), timeout=timeout)
    m = re.search(r"(?:injected|deleted) (\d+), failed (\d+)", cp.stdout)
    assert m, f"ct_inject printed no summary (rc={cp.returncode}): {cp.stdout} {cp.stderr}"
    return int(m.group(1)), int(m.group(2))


def wait_until(pred: Callable[[], bool], timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


# ------------------------------------------------------------------------------------------------
# Test runner

class Runner:
    """Parses --flowtop/--ct-inject, checks privileges, runs cases, prints a summary, exits.

    Exit status: 0 all passed, 1 any failed, 77 skipped (not root, kernel lacks a feature).
    """

    def __init__(self, name: str):
        ap = argparse.ArgumentParser(description=name)
        ap.add_argument("--flowtop", required=True)
        ap.add_argument("--ct-inject", required=True)
        ap.add_argument("-k", "--only", action="append", default=[],
                        help="run only cases whose name contains this text")
        self.args = ap.parse_args()
        self.name = name
        self.flowtop = os.path.abspath(self.args.flowtop)
        self.ct_inject = os.path.abspath(self.args.ct_inject)
        self.cases: list[tuple[str, Callable]] = []
        self.diagnostics: list[Callable[[], str]] = []
        self.results: list[tuple[str, str, str]] = []
        if os.geteuid() != 0:
            self.skip("must run as root (network namespaces, conntrack)")
        for tool in ("ip", "nft", "conntrack"):
            if shutil.which(tool) is None:
                self.skip(f"{tool} is not installed")
        for path in (self.flowtop, self.ct_inject):
            if not os.access(path, os.X_OK):
                print(f"{name}: FAIL: {path} is not an executable", flush=True)
                sys.exit(1)
        atexit.register(cleanup)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _on_signal)
        remove_stale_namespaces()

    def skip(self, why: str) -> None:
        print(f"{self.name}: SKIP: {why}", flush=True)
        cleanup()
        sys.exit(SKIP)

    def case(self, fn: Callable) -> Callable:
        self.cases.append((fn.__name__, fn))
        return fn

    def on_failure(self, fn: Callable[[], str]) -> None:
        """Registers a diagnostic printed after any failed case (e.g. conntrack -L)."""
        self.diagnostics.append(fn)

    def setup(self, fn: Callable[[], None]) -> bool:
        """Runs shared set-up; a SkipTest skips the whole file, an error fails it."""
        mark = len(LOG)
        try:
            fn()
            return True
        except SkipTest as e:
            self.skip(str(e))
        except BaseException as e:  # noqa: BLE001
            print(f"{self.name}: set-up FAILED: {e}\n{traceback.format_exc()}", flush=True)
            print(format_log(LOG[mark:]), flush=True)
            self.results.append(("setup", "FAIL", str(e)))
        return False

    def run(self) -> None:
        try:
            if not any(r[0] == "setup" for r in self.results):
                for name, fn in self.cases:
                    if self.args.only and not any(o in name for o in self.args.only):
                        continue
                    self._run_case(name, fn)
        finally:
            cleanup()
        passed = sum(1 for r in self.results if r[1] == "PASS")
        failed = sum(1 for r in self.results if r[1] == "FAIL")
        skipped = sum(1 for r in self.results if r[1] == "SKIP")
        print(f"\n==== {self.name} summary ====")
        for name, res, why in self.results:
            first = why.strip().splitlines()[0][:160] if why.strip() else ""
            print(f"  {res:4}  {name}{'  -- ' + first if first and res != 'PASS' else ''}")
        print(f"{self.name}: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
        if failed:
            sys.exit(1)
        if passed == 0 and skipped:
            sys.exit(SKIP)
        sys.exit(0)

    def _run_case(self, name: str, fn: Callable) -> None:
        mark = len(LOG)
        t0 = time.monotonic()
        print(f"---- {name}", flush=True)
        try:
            fn()
        except SkipTest as e:
            self.results.append((name, "SKIP", str(e)))
            print(f"SKIP {name}: {e}", flush=True)
            return
        except BaseException as e:  # noqa: BLE001 - report every kind of failure
            if isinstance(e, KeyboardInterrupt):
                raise
            self.results.append((name, "FAIL", str(e) or type(e).__name__))
            print(f"FAIL {name} ({time.monotonic() - t0:.1f}s): {e}", flush=True)
            print(traceback.format_exc(), flush=True)
            print("---- commands run by this case:", flush=True)
            print(format_log(LOG[mark:]), flush=True)
            for diag in self.diagnostics:
                try:
                    print(diag(), flush=True)
                except Exception as de:  # noqa: BLE001
                    print(f"(diagnostic failed: {de})", flush=True)
            return
        self.results.append((name, "PASS", ""))
        print(f"PASS {name} ({time.monotonic() - t0:.1f}s)", flush=True)
