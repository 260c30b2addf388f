#!/usr/bin/env python3
"""The interactive screen in a real terminal: flowtop runs under bash in a tmux pane of a fixed
size, in a test namespace with live traffic; keys go in with `send-keys`, and `capture-pane` is
polled until the expected text appears (the pane is printed when it does not).

Topology: namespace A (flowtop and the clients) --veth-- namespace B (the servers). B also owns
addresses that the GeoIP test fixtures (tests/data/geoip) place in London (81.2.69.10, GB,
AS20712), Linköping (89.160.20.10, SE, AS29518) and Tokyo (2001:218::10, JP, 東京, AS2914);
they exist only inside these two namespaces. flowtop runs with -n (no reverse DNS: numeric
addresses only, no lookups leave the namespace) and --geoip-dir tests/data/geoip.
"""

from __future__ import annotations

import atexit
import os
import re
import shlex
import shutil
import signal
import socket
import sys
import tempfile
import time
from typing import Callable, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_tui")
GEOIP_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                         "geoip")

A: N.Namespace = None
B: N.Namespace = None
HOME: str = ""
CONNS: dict = {}  # port -> Connection

LONDON, LINKOPING, TOKYO = "81.2.69.10", "89.160.20.10", "2001:218::10"
# One held TCP connection per server port, each with its own byte count (sort by bytes).
TCP_FLOWS = {  # port: (server address, bytes sent by the client)
    18111: (LONDON, 100),
    18115: (LONDON, 20000),
    18112: (LINKOPING, 5000),
    18113: (TOKYO, 1000),
}
UDP_PORT = 18114


def format_bytes(n: int) -> str:
    """render::format_bytes: decimal units, one decimal, rounded half up before the unit."""
    if n < 1000:
        return f"{n} B"
    step = 100
    for unit in ("kB", "MB", "GB", "TB", "PB", "EB"):
        tenths = n // step + (1 if n % step >= step // 2 else 0)
        if tenths < 10000 or unit == "EB":
            return f"{tenths // 10}.{tenths % 10} {unit}"
        step *= 1000
    raise AssertionError("unreachable")


# ------------------------------------------------------------------------------------------------
# tmux

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_ESC = re.compile(r"\x1b[\[\]()][0-9;?]*[A-Za-z]?|\x1b.")


class Pane:
    """A captured pane: plain lines, and per line whether most of its text is in reverse video
    (the selection bar, the header, the title)."""

    def __init__(self, plain: str, escaped: str):
        self.text = plain
        self.lines = plain.split("\n")
        self.reverse = _reverse_lines(escaped)

    def find(self, needle: str) -> list[int]:
        return [i for i, line in enumerate(self.lines) if needle in line]

    def __contains__(self, needle: str) -> bool:
        return needle in self.text


def _reverse_lines(escaped: str) -> list[bool]:
    """Per line of `capture-pane -e` output: is most of its text in reverse video? tmux emits
    attribute changes only, so the state carries over from one line to the next."""
    rev = False
    out = []
    for line in escaped.split("\n"):
        on = off = 0
        pos = 0
        for m in _SGR.finditer(line):
            n = len(_ESC.sub("", line[pos:m.start()]).strip())
            on, off = (on + n, off) if rev else (on, off + n)
            params = [p for p in m.group(1).split(";") if p != ""] or ["0"]
            i = 0
            while i < len(params):
                p = params[i]
                if p in ("38", "48"):  # extended colour: skip its arguments
                    i += 3 if i + 1 < len(params) and params[i + 1] == "5" else 5
                    continue
                if p in ("0", "27"):
                    rev = False
                elif p == "7":
                    rev = True
                i += 1
            pos = m.end()
        n = len(_ESC.sub("", line[pos:]).strip())
        on, off = (on + n, off) if rev else (on, off + n)
        out.append(on > 0 and on >= off)
    return out


class Tmux:
    """A private tmux server (its own socket) with one session running an interactive bash."""

    def __init__(self, tag: str, cols: int = 120, rows: int = 40, env: Optional[dict] = None,
                 home: Optional[str] = None):
        self.sock = f"ftit-tui-{os.getpid()}-{tag}"
        self.conf = os.path.join(HOME, f"tmux-{tag}.conf")
        with open(self.conf, "w") as f:
            f.write("set -g default-terminal tmux-256color\nset -g status off\n"
                    "set -g history-limit 1000\nset -g escape-time 0\n")
        # Its own $HOME: a screen starts without flowtoprc unless a case shares one on purpose.
        self.home = os.path.join(HOME, home or tag)
        os.makedirs(self.home, exist_ok=True)
        base = {"HOME": self.home, "TERM": "tmux-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                "PS1": "tui$ ",
                "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
        base.update(env or {})
        envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in base.items())
        shell = f"env -i {envs} bash --norc --noprofile -i"
        self.tmux("new-session", "-d", "-s", "main", "-x", cols, "-y", rows, shell)
        _TMUXES.append(self)
        self.wait_for(lambda p: "tui$" in p, timeout=10, what="the shell prompt")

    def tmux(self, *args, check: bool = True) -> str:
        cp = N.run(["tmux", "-L", self.sock, "-f", self.conf] + [str(a) for a in args],
                   timeout=20, log=False)
        if check and cp.returncode != 0:
            raise AssertionError(f"tmux {' '.join(map(str, args))}: {cp.stderr.strip()}")
        return cp.stdout

    def keys(self, *keys: str) -> None:
        """tmux key names: 'j', 'Enter', 'Escape', 'C-z', 'Space', 'Tab', 'NPage', 'End'..."""
        self.tmux("send-keys", "-t", "main", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "main", "-l", text)

    def run(self, command: str) -> None:
        self.type(command)
        self.keys("Enter")

    def capture(self) -> Pane:
        plain = self.tmux("capture-pane", "-p", "-t", "main")
        escaped = self.tmux("capture-pane", "-p", "-e", "-t", "main")
        return Pane(plain.rstrip("\n"), escaped.rstrip("\n"))

    def display(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", "main", fmt).strip()

    def alternate_on(self) -> bool:
        return self.display("#{alternate_on}") == "1"

    def size(self) -> tuple:
        w, h = self.display("#{pane_width} #{pane_height}").split()
        return int(w), int(h)

    def resize(self, cols: int, rows: int) -> None:
        self.tmux("resize-window", "-t", "main", "-x", cols, "-y", rows)

    def wait_for(self, pred: Callable[[Pane], bool], timeout: float = 10.0,
                 what: str = "") -> Pane:
        deadline = time.monotonic() + timeout
        while True:
            pane = self.capture()
            try:
                if pred(pane):
                    return pane
            except (IndexError, ValueError, KeyError):
                pass
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; the "
                                     f"pane ({self.size()}, > marks reverse video):\n"
                                     f"{frame_text(pane.text, pane.reverse)}")
            time.sleep(0.1)

    def wait_text(self, needle: str, timeout: float = 10.0) -> Pane:
        return self.wait_for(lambda p: needle in p, timeout, repr(needle))

    def wait_gone(self, needle: str, timeout: float = 10.0) -> Pane:
        return self.wait_for(lambda p: needle not in p, timeout, f"{needle!r} to go away")

    def kill(self) -> None:
        self.tmux("kill-server", check=False)
        sock = os.path.join(f"/tmp/tmux-{os.geteuid()}", self.sock)  # tmux leaves it behind
        if os.path.exists(sock):
            os.remove(sock)
        if self in _TMUXES:
            _TMUXES.remove(self)


_TMUXES: list[Tmux] = []


def frame_text(text: str, reverse: Optional[list] = None) -> str:
    lines = text.split("\n")
    width = max((len(line) for line in lines), default=0)
    marks = [">" if reverse and i < len(reverse) and reverse[i] else " "
             for i in range(len(lines))]
    return "\n".join([" +" + "-" * width + "+"] +
                     [m + "|" + line.ljust(width) + "|" for m, line in zip(marks, lines)] +
                     [" +" + "-" * width + "+"])


def _kill_tmuxes() -> None:
    for t in list(_TMUXES):
        t.kill()


# ------------------------------------------------------------------------------------------------
# flowtop in a pane

class Screen:
    """flowtop started from the pane's shell (so job control works), in namespace A."""

    def __init__(self, tag: str, args: list, cols: int = 120, rows: int = 40,
                 ns: Optional[N.Namespace] = None, env: Optional[dict] = None,
                 home: Optional[str] = None):
        self.t = Tmux(tag, cols, rows, env, home)
        self.ns = ns or A
        argv = ["ip", "netns", "exec", self.ns.name, R.flowtop, "-n", "--geoip-dir", GEOIP_DIR]
        self.t.run(" ".join(shlex.quote(str(a)) for a in argv + [str(a) for a in args]))
        # Up, and past the first dump: no "collecting…" line will move the table afterwards.
        self.pane = self.t.wait_for(
            lambda p: self.t.alternate_on() and "flowtop" in p and "collecting" not in p,
            timeout=15, what="flowtop's screen")

    def __enter__(self) -> "Screen":
        return self

    def __exit__(self, *exc) -> None:
        self.t.kill()

    def quit(self) -> str:
        """Presses q; waits for the shell; returns flowtop's exit status as the shell saw it."""
        self.t.keys("q")
        self.t.wait_for(lambda p: self.t.display("#{pane_current_command}") == "bash",
                        timeout=5, what="flowtop to exit after q")
        self.t.run("echo rc=$?")
        pane = self.t.wait_for(lambda p: re.search(r"^rc=\d+", p.text, re.M) is not None,
                               what="the exit status")
        return re.findall(r"^rc=(\d+)", pane.text, re.M)[-1]


def table_row(pane: Pane, port: int) -> int:
    rows = pane.find(f" {port} ")
    assert len(rows) == 1, f"expected one row with port {port}, found {rows}:\n{pane.text}"
    return rows[0]


def selected_rows(pane: Pane) -> list[int]:
    """Lines in reverse video that hold a table row (an address), i.e. the selection bar."""
    return [i for i, rev in enumerate(pane.reverse)
            if rev and re.search(r"\d+\.\d+\.\d+\.\d+|[0-9a-f]+:[0-9a-f:]+", pane.lines[i])]


def counters(ns: N.Namespace, proto: str = "tcp") -> dict:
    """port -> (bytes orig, bytes reply) of the held connections, from conntrack -L."""
    out = {}
    for f in ns.conntrack_list():
        if f.proto == proto and f.orig[3] in TCP_FLOWS and f.bytes is not None:
            out[f.orig[3]] = f.bytes
    return out


# ------------------------------------------------------------------------------------------------
# Set-up

@R.case
def pressure_pane_opens_and_closes():
    with Screen("pressure", ["-46"]) as s:
        s.t.wait_for(lambda p: " 18112 " in p, what="the flows")
        s.t.keys("p")
        pane = s.t.wait_for(lambda p: "Conntrack pressure" in p and "cpu=0" in p,
                            what="the pressure pane with the per-CPU counters")
        assert "of nf_conntrack_max" in pane and "lost events 0 times" in pane, pane.text
        assert " 18112 " in pane, f"the table gave way to the pane:\n{pane.text}"
        s.t.keys("Tab")  # the pane stays on every tab
        s.t.wait_for(lambda p: "Conntrack pressure" in p and "FLOWS" in p, what="the Owners tab")
        s.t.keys("Escape")
        s.t.wait_for(lambda p: "Conntrack pressure" not in p, what="Esc closes the pane")
        assert s.quit() == "0"


def setup():
    global A, B, HOME
    if shutil.which("tmux") is None:
        R.skip("tmux is not installed")
    if not os.path.exists(os.path.join(GEOIP_DIR, "GeoLite2-City-Test.mmdb")):
        R.skip(f"no GeoIP test fixtures in {GEOIP_DIR}")
    HOME = tempfile.mkdtemp(prefix="ftit-tui-home-")
    A = N.Namespace("tuia")
    B = N.Namespace("tuib")
    N.veth(A, "eth0", B, "eth0")
    N.addr(A, "eth0", "10.91.1.1/24")
    N.addr(B, "eth0", "10.91.1.2/24")
    N.addr(A, "eth0", "fd00:91:1::1/64")
    N.addr(B, "eth0", "fd00:91:1::2/64")
    for host in (LONDON, LINKOPING):
        N.addr(B, "eth0", f"{host}/32")
        A.run(["ip", "route", "add", f"{host}/32", "dev", "eth0", "src", "10.91.1.1"], check=True)
    N.addr(B, "eth0", f"{TOKYO}/128")
    A.run(["ip", "-6", "route", "add", f"{TOKYO}/128", "dev", "eth0", "src", "fd00:91:1::1"],
          check=True)
    A.nft_track()
    for port, (host, _) in TCP_FLOWS.items():
        N.server(B, "tcp", host, port)
    N.server(B, "udp", LONDON, UDP_PORT)
    for port, (host, nbytes) in TCP_FLOWS.items():
        CONNS[port] = N.connect(A, "tcp", host, port, nbytes)
    R.on_failure(lambda: f"---- conntrack -L in {A}:\n{A.conntrack_text()}")


# ------------------------------------------------------------------------------------------------
# Cases

@R.case
def flow_appears_with_geo_and_wide_city():
    with Screen("appear", ["-46"]) as s:
        # GeoIP lookups are asynchronous: the country codes follow within a few frames.
        pane = s.t.wait_for(lambda p: all(f" {port} " in p for port in TCP_FLOWS) and
                            " GB " in p.lines[table_row(p, 18111)], timeout=10,
                            what="every held TCP flow, with its country")
        for port, (host, _) in TCP_FLOWS.items():
            row = pane.lines[table_row(pane, port)]
            assert host in row, f"port {port}: no {host} in its row {row!r}"
        assert "GB" in pane.lines[table_row(pane, 18111)], pane.text
        assert "JP" in pane.lines[table_row(pane, 18113)], pane.text
        assert "ESTABLISHED" in pane.lines[table_row(pane, 18112)], pane.text
        # The screen never writes past the right edge, wide city names included.
        assert all(len(line) <= 120 for line in pane.lines), pane.text
        assert s.quit() == "0"


def header_line(pane: Pane) -> int:
    return next(i for i, line in enumerate(pane.lines) if "OWNER" in line and "PORT" in line)


def selected_row(pane: Pane) -> Optional[int]:
    """The selected table row, counted from 0 below the column header (health lines may come
    and go above the table), or None unless exactly one row is selected."""
    sel = selected_rows(pane)
    return sel[0] - header_line(pane) - 1 if len(sel) == 1 else None


def first_row(pane: Pane) -> str:
    return pane.lines[header_line(pane) + 1]


@R.case
def scrolling_moves_the_selection():
    injected, failed = N.ct_inject(A, R.ct_inject, 120, "tcp", "10.77.0.0", "10.78.0.1")
    assert injected == 120 and failed == 0, (injected, failed)
    try:
        # Biggest first: the 20 kB flow on port 18115 is the first row, then the other live
        # flows, then 120 injected ones without traffic: far more rows than fit.
        with Screen("scroll", ["--sort", "bytes-out"]) as s:
            s.t.wait_for(lambda p: selected_row(p) == 0 and "10.78.0.1" in p and
                         " 18115 " in first_row(p), what="the bar on the first of many rows")
            s.t.keys("Down", "Down", "j")
            s.t.wait_for(lambda p: selected_row(p) == 3, what="3 rows down")
            s.t.keys("k")
            s.t.wait_for(lambda p: selected_row(p) == 2, what="1 row up")
            s.t.keys("End")
            s.t.wait_for(lambda p: (selected_row(p) or 0) > 10 and " 18115 " not in p,
                         what="End: the last row selected, the table scrolled")
            s.t.keys("Home")
            s.t.wait_for(lambda p: selected_row(p) == 0 and " 18115 " in first_row(p),
                         what="Home: back to the first row")
            # A page down scrolls the table by a page under a bar that keeps its screen line.
            s.t.keys("NPage")
            s.t.wait_for(lambda p: selected_row(p) == 0 and " 18115 " not in p,
                         what="PgDn scrolls a page")
            s.t.keys("PPage")
            s.t.wait_for(lambda p: selected_row(p) == 0 and " 18115 " in first_row(p),
                         what="PgUp back to the top")
            assert s.quit() == "0"
    finally:
        N.ct_inject(A, R.ct_inject, 120, "tcp", "10.77.0.0", "10.78.0.1", extra=["--delete"])


def order_of(pane: Pane, ports) -> list:
    return sorted(ports, key=lambda port: table_row(pane, port))


@R.case
def sort_and_reverse_change_the_order():
    ports = list(TCP_FLOWS)
    by_bytes = sorted(ports, key=lambda p: TCP_FLOWS[p][1], reverse=True)
    with Screen("sort", ["-46", "--sort", "bytes-out"]) as s:
        pane = s.t.wait_for(lambda p: all(f" {port} " in p for port in ports),
                            what="the TCP flows")
        assert order_of(pane, ports) == by_bytes, f"bytes-out descending:\n{pane.text}"
        s.t.keys("r")
        pane = s.t.wait_for(lambda p: order_of(p, ports) == by_bytes[::-1],
                            what="r: the reverse order")
        header_before = [line for line in pane.lines if "▲" in line or "▼" in line]
        s.t.keys(">")
        s.t.wait_for(lambda p: [ln for ln in p.lines if "▲" in ln or "▼" in ln] != header_before,
                     what="> moves the sort indicator")
        assert s.quit() == "0"


@R.case
def filter_changes_what_is_shown():
    with Screen("filter", ["-46"]) as s:
        s.t.wait_for(lambda p: all(f" {port} " in p for port in TCP_FLOWS), what="the flows")
        s.t.keys("/")
        s.t.type("port=18112")
        s.t.keys("Enter")
        pane = s.t.wait_for(lambda p: " 18112 " in p and " 18111 " not in p,
                            what="only the filtered flow")
        assert " 18113 " not in pane and " 18115 " not in pane, pane.text
        assert "port=18112" in pane, "the status line shows the filter"
        # A bad filter says where, and the previous filter stays applied.
        s.t.keys("/")
        s.t.keys("C-u")
        s.t.type("prot=tcp")
        s.t.keys("Enter")
        pane = s.t.wait_text("unknown term")
        assert " 18112 " in pane and " 18111 " not in pane, pane.text
        s.t.keys("Escape")  # closes the prompt and clears the filter
        s.t.wait_for(lambda p: all(f" {port} " in p for port in TCP_FLOWS),
                     what="every flow after Esc")
        assert s.quit() == "0"


@R.case
def help_opens_and_closes():
    with Screen("help", []) as s:
        s.t.wait_for(lambda p: " 18112 " in p, what="the flows")
        s.t.keys("?")
        pane = s.t.wait_for(lambda p: " 18112 " not in p and "quit" in p.text.lower(),
                            what="the help overlay")
        assert "Tab" in pane, pane.text
        s.t.keys("?")
        s.t.wait_for(lambda p: " 18112 " in p, what="the table again after closing the help")
        s.t.keys("F1")
        s.t.wait_for(lambda p: " 18112 " not in p, what="F1 opens the help")
        s.t.keys("Escape")
        s.t.wait_for(lambda p: " 18112 " in p, what="Esc closes the help")
        assert s.quit() == "0"


@R.case
def pause_freezes_while_collection_continues():
    with Screen("pause", ["-46", "-t", "0.3"]) as s:
        s.t.wait_for(lambda p: " 18112 " in p, what="the flows")
        s.t.keys("Space")
        s.t.wait_text("PAUSED")
        N.server(B, "tcp", LINKOPING, 18116)
        late = N.connect(A, "tcp", LINKOPING, 18116, 700)
        try:
            # Well past several intervals: the frozen screen must not show the new flow.
            N.wait_until(lambda: " 18116 " in s.t.capture(), timeout=2.0)
            pane = s.t.capture()
            assert " 18116 " not in pane, f"a paused screen changed:\n{pane.text}"
            s.t.keys("Space")
            s.t.wait_for(lambda p: " 18116 " in p and "PAUSED" not in p,
                         what="the new flow after resuming")
        finally:
            late.close()
        assert s.quit() == "0"


@R.case
def detail_pane_shows_both_tuples():
    with Screen("detail", ["-46", "--filter", "port=18112"]) as s:
        s.t.wait_for(lambda p: " 18112 " in p, what="the filtered flow")
        s.t.keys("Enter")
        c = CONNS[18112]
        pane = s.t.wait_for(lambda p: str(c.sport) in p, what="the detail pane with the "
                            "client port")
        # Both tuples: the original (client -> server) and the reply (server -> client).
        assert "10.91.1.1" in pane and LINKOPING in pane, pane.text
        assert pane.text.count(str(c.sport)) >= 2, f"client port once only:\n{pane.text}"
        assert "Sweden" in pane or "Linköping" in pane, pane.text
        s.t.keys("Escape")
        s.t.wait_for(lambda p: str(c.sport) not in p, what="the detail pane to close")
        assert s.quit() == "0"


@R.case
def a_flow_learned_from_events_has_the_kernels_counters():
    # A long interval: no dump and no GET of shown flows comes between the flow's start and the
    # frame that first shows it (space twice: pause, resume, a fresh snapshot at once). Only its
    # NEW event tells flowtop of it; the GET that completes such a flow brings its counters.
    port = 18117
    server = N.server(B, "tcp", LONDON, port)
    conn = None
    try:
        with Screen("learned", ["-4", "-t", "60", "--filter", f"port={port}"]) as s:
            s.t.wait_text("no flows match")
            conn = N.connect(A, "tcp", LONDON, port, 3000)
            time.sleep(0.5)  # the completion GET comes 100 ms after the NEW event
            s.t.keys("Space")
            s.t.wait_text("PAUSED")
            s.t.keys("Space")
            s.t.wait_for(lambda p: f" {port} " in p and "PAUSED" not in p, what="the new flow")
            s.t.keys("Enter")
            pane = s.t.wait_for(lambda p: "received" in p, what="the detail pane")
            flows = [f for f in A.conntrack_list() if f.proto == "tcp" and f.orig[3] == port]
            assert len(flows) == 1 and flows[0].bytes is not None, A.conntrack_text()
            sent, received = flows[0].bytes
            sent_line = next(line for line in pane.lines if "sent" in line)
            received_line = next(line for line in pane.lines if "received" in line)
            assert f"{sent:,} B" in sent_line, f"conntrack -L: {sent}\n{pane.text}"
            assert f"{received:,} B" in received_line, f"conntrack -L: {received}\n{pane.text}"
            assert "not read from the kernel yet" not in pane, pane.text
            assert s.quit() == "0"
    finally:
        if conn:
            conn.close()
            A.run(["conntrack", "-D", "-p", "tcp", "--sport", conn.sport])
        server.kill()


@R.case
def totals_and_the_sparkline_show_on_screen():
    extra = None
    with Screen("totals", ["-46", "-t", "0.5", "--filter", "port>18110 and port<18116"],
                cols=160) as s:
        s.t.wait_for(lambda p: all(f" {port} " in p for port in TCP_FLOWS), what="the flows")
        s.t.keys("Tab")
        pane = s.t.wait_for(lambda p: "FLOWS" in p, what="the Owners tab")
        assert re.search(r"total ↑ [0-9.]+ k?B ↓ [0-9.]+ k?B", pane.lines[1]), pane.text
        # A new connection's bytes count in its owner's totals and the session's.
        try:
            extra = N.connect(A, "tcp", LONDON, 18115, 50_000)

            def grown(p):
                m = re.search(r"total ↑ ([0-9.]+) kB", p.lines[1])
                row = [line for line in p.lines if str(extra.proc.pid) in line]
                # BYTES↑ BYTES↓ ... TOTAL↑ TOTAL↓: a flow younger than flowtop counts whole.
                sizes = re.findall(r"([0-9.]+ k?B)(?!/s)", row[0]) if row else []
                return (m is not None and float(m.group(1)) >= 50 and len(sizes) >= 4 and
                        sizes[:2] == sizes[2:4] and "TOTAL↑" in p and "TOTAL↓" in p)

            # The TOTAL columns show once a total is not zero (an empty column is left out).
            s.t.wait_for(grown, what="the new connection's bytes in the TOTAL columns")
        finally:
            if extra:  # gone from the table too: later cases count the held flows only
                extra.close()
                A.run(["conntrack", "-D", "-p", "tcp", "--sport", extra.sport])
        # The title's sparkline: block characters after a few intervals.
        pane = s.t.wait_for(lambda p: re.search(r"↑[▁▂▃▄▅▆▇█]{4,} ↓[▁▂▃▄▅▆▇█]{4,}",
                                                 p.lines[0]) is not None, what="the sparkline")
        s.t.keys("R")
        s.t.wait_for(lambda p: "total ↑ 0 B ↓ 0 B" in p.lines[1], what="R to reset the totals")
        assert s.quit() == "0"


def aggregate_row(pane: Pane, label: str) -> str:
    rows = [line for line in pane.lines if re.search(rf"(^|\s){re.escape(label)}(\s|$)", line)]
    assert len(rows) == 1, f"expected one row for {label!r}:\n{pane.text}"
    return rows[0]


@R.case
def aggregate_views_show_the_right_totals():
    ctr = counters(A)
    assert set(ctr) == set(TCP_FLOWS), f"conntrack counters: {ctr}"
    groups = {  # tab -> (text only that tab shows, {label -> ports of its TCP flows})
        "Hosts": (lambda p: LONDON in p and "python3" not in p,
                  {LONDON: [18111, 18115], LINKOPING: [18112], TOKYO: [18113]}),
        "Countries": (lambda p: "United Kingdom" in p and LONDON not in p,
                      {"GB": [18111, 18115], "SE": [18112], "JP": [18113]}),
        "AS": (lambda p: "AS20712" in p and "United Kingdom" not in p,
               {"AS20712": [18111, 18115], "AS29518": [18112], "AS2914": [18113]}),
    }
    with Screen("agg", ["-46", "--filter", "port>18110 and port<18116"]) as s:
        s.t.wait_for(lambda p: all(f" {port} " in p for port in TCP_FLOWS), what="the flows")
        # Owners: one python3 client per connection, each with its one flow.
        s.t.keys("Tab")
        pane = s.t.wait_for(lambda p: str(CONNS[18112].proc.pid) in p, what="the Owners tab")
        for port, conn in CONNS.items():
            row = aggregate_row(pane, str(conn.proc.pid))
            assert "python3" in row, row
            assert format_bytes(ctr[port][0]) in row and format_bytes(ctr[port][1]) in row, (
                f"process {conn.proc.pid} (port {port}, bytes {ctr[port]}): {row!r}")
        for tab, (shown, want) in groups.items():
            s.t.keys("Tab")
            pane = s.t.wait_for(shown, what=f"the {tab} tab")
            for label, ports in want.items():
                row = aggregate_row(pane, label)
                out = sum(ctr[p][0] for p in ports)
                inn = sum(ctr[p][1] for p in ports)
                fields = row.split()
                assert str(len(ports)) in fields, f"{tab} {label}: {len(ports)} flows? {row!r}"
                assert format_bytes(out) in row and format_bytes(inn) in row, (
                    f"{tab} {label}: want out {format_bytes(out)} in {format_bytes(inn)}: {row!r}")
        assert s.quit() == "0"


@R.case
def protocol_toggle_hides_and_shows_at_once():
    udp = N.connect(A, "udp", LONDON, UDP_PORT, 300)  # before flowtop: in its first snapshot
    try:
        # A 30 s interval: what changes within a second comes from the snapshot on screen.
        with Screen("toggle", ["-46", "-t", "30"]) as s:
            s.t.wait_for(lambda p: " 18112 " in p, what="the TCP flows")
            assert f" {UDP_PORT} " not in s.t.capture(), "UDP shown without -U"
            s.t.keys("U")
            s.t.wait_for(lambda p: f" {UDP_PORT} " in p, timeout=1.5, what="U shows UDP at once")
            s.t.keys("T")
            s.t.wait_for(lambda p: " 18112 " not in p and f" {UDP_PORT} " in p, timeout=1.5,
                         what="T hides TCP at once")
            s.t.keys("T", "U")
            s.t.wait_for(lambda p: " 18112 " in p and f" {UDP_PORT} " not in p, timeout=1.5,
                         what="T shows TCP and U hides UDP at once")
            assert s.quit() == "0"
    finally:
        udp.close()


@R.case
def no_color_is_monochrome():
    with Screen("mono", ["-46"], env={"NO_COLOR": "1"}) as s:
        s.t.wait_for(lambda p: len(selected_rows(p)) == 1, what="a selection bar")
        escaped = s.t.tmux("capture-pane", "-p", "-e", "-t", "main")
        colours = re.findall(r"\x1b\[(?:[0-9;]*;)?(?:3[0-7]|4[0-7]|9[0-7]|38;5;\d+)(?:;[0-9;]*)?m",
                             escaped)
        assert not colours, f"colour sequences with NO_COLOR: {colours[:5]}"
        assert s.quit() == "0"


@R.case
def resize_stays_readable():
    with Screen("resize", ["-46"]) as s:
        s.t.wait_for(lambda p: " 18112 " in p, what="the flows at 120x40")
        for cols, rows, essentials in ((80, 24, ["PROTO", "STATE", "ADDRESS", "PORT"]),
                                       (60, 15, ["ADDRESS"])):
            s.t.resize(cols, rows)
            pane = s.t.wait_for(
                lambda p: s.t.size() == (cols, rows) and " 18112 " in p and
                len(p.lines) <= rows and all(len(line) <= cols for line in p.lines),
                what=f"a readable {cols}x{rows} screen")
            for word in essentials:
                assert word in pane, f"{word} missing at {cols}x{rows}:\n{frame_text(pane.text)}"
        s.t.resize(30, 8)
        s.t.wait_for(lambda p: "small" in p.text.lower(), what="'terminal too small' at 30x8")
        s.t.resize(120, 40)
        s.t.wait_for(lambda p: " 18112 " in p, what="the table again at 120x40")
        assert s.quit() == "0"


@R.case
def ctrl_z_and_fg_restore_and_redraw():
    with Screen("tstp", ["-46"]) as s:
        s.t.wait_for(lambda p: " 18112 " in p, what="the flows")
        s.t.keys("C-z")
        pane = s.t.wait_for(lambda p: "Stopped" in p and not s.t.alternate_on(),
                            what="the shell after Ctrl-Z, off the alternate screen")
        assert " 18112 " not in pane or "tui$" in pane, pane.text
        s.t.run("fg")
        s.t.wait_for(lambda p: s.t.alternate_on() and " 18112 " in p and "flowtop" in p,
                     what="flowtop redrawn after fg")
        # Still responsive after the stop.
        s.t.keys("Tab")
        s.t.wait_for(lambda p: "python3" in p, what="Tab after fg")
        assert s.quit() == "0"


@R.case
def quit_restores_terminal_and_sysctls():
    ns = N.Namespace("tuiq", acct=0, timestamp=0)
    ns.nft_track()
    with Screen("quit", [], ns=ns) as s:
        assert N.wait_until(lambda: ns.acct_ts() == (1, 1), timeout=5), ns.acct_ts()
        rc = s.quit()
        assert rc == "0", f"exit status {rc}"
        assert not s.t.alternate_on(), "the alternate screen is still on after q"
        assert ns.acct_ts() == (0, 0), f"sysctls not restored: {ns.acct_ts()}"
        # The shell works normally: echo is back on (cooked mode).
        s.t.run("echo restored-ok")
        s.t.wait_for(lambda p: len(p.find("restored-ok")) >= 2, what="echo and output")


@R.case
def sigterm_restores_terminal():
    with Screen("term", []) as s:
        s.t.wait_for(lambda p: " 18112 " in p, what="the flows")
        shell = s.t.display("#{pane_pid}")
        pids = N.run(["pgrep", "-P", shell], log=False).stdout.split()
        assert pids, "no flowtop process under the pane's shell"
        for pid in pids:
            os.kill(int(pid), 15)
        s.t.wait_for(lambda p: s.t.display("#{pane_current_command}") == "bash" and
                     not s.t.alternate_on(), what="the shell after SIGTERM")


@R.case
def flowtoprc_is_read_reported_and_written():
    rc_dir = os.path.join(HOME, "rc", ".config", "flowtop")
    os.makedirs(rc_dir, exist_ok=True)
    rc_file = os.path.join(rc_dir, "flowtoprc")
    with open(rc_file, "w") as f:
        f.write("tab=hosts\nthis line is bad\nbits=0\n")
    try:
        with Screen("rc", ["-46"], home="rc") as s:
            # The remembered tab is the current one: Hosts rows, not flow rows.
            s.t.wait_for(lambda p: LONDON in p and " 18112 " not in p, what="the Hosts tab")
            s.t.keys("b")  # bits: changed on screen, so remembered
            s.t.keys("Tab", "Tab", "Tab")  # Hosts -> Countries -> AS -> Flows
            s.t.wait_for(lambda p: " 18112 " in p, what="the Flows tab")
            assert s.quit() == "0"
            pane = s.t.wait_text("flowtoprc:2:")
            line = pane.lines[pane.find("flowtoprc:2:")[0]]
            assert "this line is bad" in line, line
        text = open(rc_file).read()
        assert re.search(r"^bits=1$", text, re.M), text
        assert re.search(r"^tab=flows$", text, re.M), text
        assert "this line is bad" not in text, text
        with Screen("rc2", ["-46"], home="rc") as s:
            s.t.wait_for(lambda p: " 18112 " in p, what="the Flows tab, as saved")
            assert s.quit() == "0"
    finally:
        shutil.rmtree(rc_dir, ignore_errors=True)


TRACK_TABLE = "table inet flowtop_track"


def untracked_pair(tag: str, net: int) -> tuple:
    """Two namespaces over veth with no nft rule: the kernel tracks nothing there. A TCP server
    on 10.<net>.1.2:18121."""
    c = N.Namespace(f"{tag}c")
    d = N.Namespace(f"{tag}d")
    N.veth(c, "eth0", d, "eth0")
    N.addr(c, "eth0", f"10.{net}.1.1/24")
    N.addr(d, "eth0", f"10.{net}.1.2/24")
    N.server(d, "tcp", f"10.{net}.1.2", 18121)
    probe = N.connect(c, "tcp", f"10.{net}.1.2", 18121, 100)
    assert c.conntrack_count() == 0, "the namespace tracks without any rule"
    probe.close()
    return c, d


@R.case
def track_key_on_the_empty_screen_tracks_until_quit():
    c, d = untracked_pair("tut", 92)
    try:
        with Screen("track", [], ns=c) as s:
            pane = s.t.wait_text("press t to track it")
            assert "conntrack is not tracking in this namespace" in pane, pane.text
            assert "tracking for this session" not in pane, pane.text
            assert TRACK_TABLE not in c.nft_tables()
            s.t.keys("t")
            s.t.wait_text("tracking for this session")
            assert TRACK_TABLE in c.nft_tables(), f"no table after t: {c.nft_tables()}"
            conn = N.connect(c, "tcp", "10.92.1.2", 18121, 3000)
            pane = s.t.wait_for(lambda p: " 18121 " in p and "10.92.1.2" in p,
                                what="the flow made after t")
            assert "press t" not in pane, pane.text
            assert s.quit() == "0"
        assert TRACK_TABLE not in c.nft_tables(), f"table left after q: {c.nft_tables()}"
        conn.close()
    finally:
        c.delete()
        d.delete()


@R.case
def track_key_failure_is_a_health_line_and_flowtop_goes_on():
    c, d = untracked_pair("tuf", 93)
    # The state directory is a regular file: the --track state file cannot be made.
    not_a_dir = os.path.join(HOME, "run-dir-is-a-file")
    with open(not_a_dir, "w") as f:
        f.write("")
    try:
        with Screen("trackfail", ["--no-sysctl"], ns=c, env={"FLOWTOP_RUN_DIR": not_a_dir}) as s:
            s.t.wait_text("press t to track it")
            s.t.keys("t")
            pane = s.t.wait_text("t: cannot make conntrack track")
            assert "tracking for this session" not in pane, pane.text
            assert "press t to track it" in pane, f"the offer stays after a failure:\n{pane.text}"
            assert TRACK_TABLE not in c.nft_tables(), c.nft_tables()
            s.t.keys("j")  # still answering keys
            assert s.quit() == "0"
        assert TRACK_TABLE not in c.nft_tables(), c.nft_tables()
    finally:
        c.delete()
        d.delete()


def column_header(pane: Pane) -> list:
    """The labels of the column header: the line under the tab bar (health lines may stand
    above it)."""
    tabs = next(i for i, line in enumerate(pane.lines) if line.startswith(" Flows   Owners"))
    return pane.lines[tabs + 1].split()


FLOWS_COLUMNS = ["OWNER", "PID", "PROTO", "STATE", "TIME", "ADDRESS", "PORT", "NAT", "GEO",
                 "BYTES↑", "RATE↑", "BYTES↓", "RATE↓", "PKTS↑", "PKTS↓"]  # DIR has no label


@R.case
def eighty_by_twenty_four_shows_the_essentials_and_every_column_sideways():
    # Regression: at 80 columns PID, TIME, GEO and BYTES↑ dropped (STATE too with -b), and `l`
    # never reached TIME or GEO.
    with Screen("eighty", ["-46"], cols=80, rows=24) as s:
        pane = s.t.wait_for(lambda p: " 18111 " in p and " GB " in p.lines[table_row(p, 18111)],
                            what="the flows with their country at 80x24")
        header = column_header(pane)
        for label in ("OWNER", "PROTO", "STATE", "TIME", "ADDRESS", "PORT", "GEO", "RATE↑"):
            assert label in header, f"{label} missing at 80x24: {header}\n{frame_text(pane.text)}"
        assert header[-1].startswith("RATE↓"), header
        assert all(len(line) <= 80 for line in pane.lines), pane.text
        row = pane.lines[table_row(pane, 18111)]
        assert "ESTABLISHED" in row and LONDON in row and " GB " in row, row
        s.t.keys("b")  # bits: wider rates, STATE and TIME stay
        pane = s.t.wait_for(lambda p: "bit/s" in p, what="rates in bit/s")
        assert {"STATE", "TIME"} <= set(column_header(pane)), column_header(pane)
        s.t.keys("b")
        s.t.wait_for(lambda p: "bit/s" not in p, what="rates in bytes again")
        # Sideways: each `l` brings the next column to the left edge, up to the last one.
        for label in FLOWS_COLUMNS[1:]:
            for _ in range(2 if label == "ADDRESS" else 1):  # DIR stands before ADDRESS
                s.t.keys("l")
            s.t.wait_for(lambda p: column_header(p)[0].startswith(label),
                         what=f"{label} at the left edge after l")
        for _ in FLOWS_COLUMNS:
            s.t.keys("h")
        s.t.wait_for(lambda p: column_header(p)[0] == "OWNER", what="OWNER back after h")
        assert s.quit() == "0"


@R.case
def key_bar_hides_with_f_and_is_remembered():
    with Screen("footer", ["-46"], cols=80, rows=24, home="footer") as s:
        pane = s.t.wait_for(lambda p: " 18112 " in p, what="the flows")
        assert pane.lines[-1].startswith("?Help /Filter F6Sort"), frame_text(pane.text)
        assert pane.lines[-1].rstrip().endswith("q Quit"), pane.lines[-1]
        s.t.keys("/")
        s.t.wait_for(lambda p: p.lines[-1].startswith("/"), what="the prompt in its place")
        s.t.keys("Escape")
        s.t.wait_for(lambda p: p.lines[-1].startswith("?Help"), what="the key bar back")
        s.t.resize(40, 24)  # narrow: the least needed keys give way
        pane = s.t.wait_for(lambda p: s.t.size() == (40, 24) and p.lines[-1].startswith("?Help"),
                            what="the key bar at 40 columns")
        assert "q Quit" in pane.lines[-1] and "Space" not in pane.lines[-1], pane.lines[-1]
        s.t.resize(80, 24)
        s.t.keys("F")
        s.t.wait_for(lambda p: s.t.size() == (80, 24) and "?Help" not in p, what="F hides it")
        assert s.quit() == "0"
    rc = os.path.join(HOME, "footer", ".config", "flowtop", "flowtoprc")
    text = open(rc).read()
    assert re.search(r"^footer=0$", text, re.M), text
    with Screen("footer2", ["-46"], cols=80, rows=24, home="footer") as s:
        pane = s.t.wait_for(lambda p: " 18112 " in p, what="the flows, without the key bar")
        assert "?Help" not in pane, frame_text(pane.text)
        assert s.quit() == "0"


@R.case
def f2_hides_a_column_and_it_stays_hidden():
    with Screen("chooser", ["-46"], cols=80, rows=24, home="chooser") as s:
        pane = s.t.wait_for(lambda p: " 18112 " in p, what="the flows")
        assert "PROTO" in column_header(pane), frame_text(pane.text)
        s.t.keys("F2")
        pane = s.t.wait_text("Columns: Flows")
        assert "[x] PROTO" in pane, frame_text(pane.text)
        s.t.keys("Down", "Down", "Space")  # OWNER, PID, PROTO
        s.t.wait_text("[ ] PROTO")
        s.t.keys("Escape")
        pane = s.t.wait_for(lambda p: "Columns: Flows" not in p and " 18112 " in p
                            and "PROTO" not in column_header(p), what="PROTO gone from the table")
        header = column_header(pane)
        assert header[0] == "OWNER" and "ADDRESS" in header, header
        assert "tcp4" not in pane.lines[table_row(pane, 18112)], frame_text(pane.text)
        assert s.quit() == "0"
    rc = os.path.join(HOME, "chooser", ".config", "flowtop", "flowtoprc")
    text = open(rc).read()
    line = re.search(r"^columns\.flows=(.*)$", text, re.M)
    assert line and "owner" in line.group(1).split(",") and \
        "proto" not in line.group(1).split(","), text
    with Screen("chooser2", ["-46"], cols=80, rows=24, home="chooser") as s:
        pane = s.t.wait_for(lambda p: " 18112 " in p, what="the flows after a restart")
        header = column_header(pane)
        assert "PROTO" not in header and header[0] == "OWNER", frame_text(pane.text)
        assert s.quit() == "0"


@R.case
def title_names_the_host_and_the_namespace():
    host = re.sub(r"[^\x20-\x7e]", "?", socket.gethostname())
    with Screen("title", ["-46", "--netns", A.name], cols=120, rows=24) as s:
        pane = s.t.wait_for(lambda p: " 18112 " in p, what="the flows")
        title = pane.lines[0]
        assert "flowtop " in title and f" · {host} · netns {A.name}" in title, title
        assert s.quit() == "0"


@R.case
def dumb_terminal_gets_one_line_and_the_unknown_term_status():
    # Regression: TERM=dumb drew a screen with only a title.
    statuses = {}
    for term in ("no-such-terminal-xyz", "dumb"):
        t = Tmux(f"term-{term[:4]}", cols=240, env={"TERM": term})  # the line unwrapped
        try:
            t.run(f"ip netns exec {A.name} {shlex.quote(R.flowtop)} -n; echo rc=$?")
            pane = t.wait_for(lambda p: re.search(r"^rc=\d+", p.text, re.M) is not None,
                              what=f"flowtop to exit with TERM={term}")
            out = [line for line in pane.lines if line.startswith("flowtop:")]
            assert len(out) == 1, f"TERM={term}: want one line:\n{pane.text}"
            assert f"'{term}' (TERM)" in out[0] and "--batch" in out[0], out[0]
            assert not t.alternate_on(), f"TERM={term} left the alternate screen on"
            statuses[term] = re.findall(r"^rc=(\d+)", pane.text, re.M)[-1]
            print(f"  TERM={term}: rc={statuses[term]}: {out[0]}")
        finally:
            t.kill()
    assert statuses["dumb"] == statuses["no-such-terminal-xyz"] != "0", statuses


@R.case
def a_missing_geoip_dir_is_a_health_line():
    missing = os.path.join(HOME, "no-such-geoip-dir")
    with Screen("geodir", ["-46", "--geoip-dir", missing]) as s:
        pane = s.t.wait_text(f"--geoip-dir {missing}: no such directory")
        assert " 18112 " in pane, frame_text(pane.text)
        assert s.quit() == "0"


def _cleanup_home() -> None:
    if HOME:
        shutil.rmtree(HOME, ignore_errors=True)


def _on_signal(signum, frame):
    _kill_tmuxes()
    _cleanup_home()
    N._on_signal(signum, frame)


# atexit runs last-registered first: the tmux servers go before the namespaces.
atexit.register(_cleanup_home)
atexit.register(_kill_tmuxes)
for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _on_signal)
R.setup(setup)
R.run()
