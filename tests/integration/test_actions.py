#!/usr/bin/env python3
"""The screen's actions in a real terminal: `x` deletes the selected conntrack entry after a y/N
prompt naming it (as `conntrack -D`), and `--read-only` refuses it and says so.

flowtop runs under bash in a tmux pane of a fixed size, inside one test namespace whose
conntrack table holds entries injected over ctnetlink (10.61.x.x -> 10.62.0.1, addresses that
exist only in that namespace's table). `conntrack -L` in the namespace is the reference.
"""

from __future__ import annotations

import atexit
import os
import shlex
import shutil
import sys
import tempfile
import time
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_actions")
A: N.Namespace = None
HOME: str = ""
DST = "10.62.0.1"


class Tmux:
    """A private tmux server running flowtop from an interactive bash in namespace A."""

    def __init__(self, tag: str, args: list, cols: int = 120, rows: int = 30):
        self.sock = f"ftit-act-{os.getpid()}-{tag}"
        self.conf = os.path.join(HOME, f"tmux-{tag}.conf")
        with open(self.conf, "w") as f:
            f.write("set -g default-terminal tmux-256color\nset -g status off\n"
                    "set -g escape-time 0\n")
        home = os.path.join(HOME, tag)  # no flowtoprc from elsewhere
        os.makedirs(home, exist_ok=True)
        env = {"HOME": home, "TERM": "tmux-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "PS1": "act$ ", "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
        envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        self.tmux("new-session", "-d", "-s", "main", "-x", cols, "-y", rows,
                  f"env -i {envs} bash --norc --noprofile -i")
        self.wait_for(lambda text: "act$" in text, "the shell prompt")
        argv = ["ip", "netns", "exec", A.name, R.flowtop, "-n", "-G", "-U"] + args
        self.tmux("send-keys", "-t", "main", "-l", " ".join(shlex.quote(a) for a in argv))
        self.keys("Enter")

    def tmux(self, *args) -> str:
        cp = N.run(["tmux", "-L", self.sock, "-f", self.conf] + [str(a) for a in args],
                   timeout=20, log=False)
        if cp.returncode != 0:
            raise AssertionError(f"tmux {' '.join(map(str, args))}: {cp.stderr.strip()}")
        return cp.stdout

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "main", *keys)

    def capture(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "main").rstrip("\n")

    def wait_for(self, pred: Callable[[str], bool], what: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.capture()
            if pred(text):
                return text
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; "
                                     f"the pane:\n{text}")
            time.sleep(0.1)

    def wait_text(self, needle: str, timeout: float = 10.0) -> str:
        return self.wait_for(lambda text: needle in text, repr(needle), timeout)

    def quit(self) -> None:
        self.keys("q")
        self.wait_for(lambda text: text.rstrip().endswith("act$"), "flowtop to exit after q")

    def __enter__(self) -> "Tmux":
        return self

    def __exit__(self, *exc) -> None:
        self.tmux("kill-server")
        sock = os.path.join(f"/tmp/tmux-{os.geteuid()}", self.sock)
        if os.path.exists(sock):
            os.remove(sock)


def inject(src: str, sport: int) -> None:
    injected, failed = N.ct_inject(A, R.ct_inject, 1, "udp", src, DST,
                                   extra=["--sport-base", str(sport), "--dport", "80"])
    assert (injected, failed) == (1, 0), (injected, failed)


def listed(src: str, sport: int) -> bool:
    return any(f.proto == "udp" and f.orig == (src, DST, sport, 80) for f in A.conntrack_list())


def forget(src: str, sport: int) -> None:
    A.run(["conntrack", "-D", "-p", "udp", "-s", src, "-d", DST, "--sport", str(sport),
           "--dport", "80"])


def one_row(text: str) -> bool:
    """The filtered table shows its one flow (the remote end, 10.62.0.1)."""
    return " 1 shown " in text and DST in text


def status_line(text: str) -> str:
    return text.split("\n")[1]


def setup():
    global A, HOME
    if shutil.which("tmux") is None:
        R.skip("tmux is not installed")
    HOME = tempfile.mkdtemp(prefix="ftit-act-home-")
    atexit.register(shutil.rmtree, HOME, True)
    A = N.Namespace("acta")
    A.run(["ip", "link", "set", "lo", "up"], check=True)
    A.nft_track()  # loads conntrack in the namespace
    R.on_failure(lambda: f"---- conntrack -L in {A}:\n{A.conntrack_text()}")


@R.case
def x_asks_then_deletes_the_selected_entry():
    src, sport = "10.61.0.1", 5555
    inject(src, sport)
    prompt = f"delete udp {src}:{sport} → {DST}:80? y/N"
    try:
        with Tmux("delete", ["--filter", f"addr={src}"]) as t:
            t.wait_for(one_row, "the injected flow's row")
            # Anything but y leaves the entry.
            t.keys("x")
            t.wait_text(prompt)
            t.keys("n")
            t.wait_for(lambda text: "not deleted" in status_line(text) and prompt not in text,
                       "'not deleted' in the status line")
            assert listed(src, sport), "n deleted the entry"
            # y deletes it, as conntrack -D would.
            t.keys("x")
            t.wait_text(prompt)
            t.keys("y")
            text = t.wait_for(lambda text: f"deleted udp {src}:{sport} → {DST}:80" in
                              status_line(text), "'deleted ...' in the status line")
            assert prompt not in text, text
            assert not listed(src, sport), f"still in conntrack -L:\n{A.conntrack_text()}"
            t.quit()
    finally:
        forget(src, sport)


@R.case
def x_reports_an_entry_that_is_already_gone():
    src, sport = "10.61.0.2", 5556
    inject(src, sport)
    prompt = f"delete udp {src}:{sport} → {DST}:80? y/N"
    try:
        with Tmux("gone", ["--filter", f"addr={src}"]) as t:
            t.wait_for(one_row, "the injected flow's row")
            t.keys("x")
            t.wait_text(prompt)
            forget(src, sport)  # someone else deletes it while the prompt is open
            assert not listed(src, sport)
            t.keys("y")
            t.wait_for(lambda text: f"already gone: udp {src}:{sport}" in status_line(text),
                       "'already gone' in the status line")
            t.quit()
    finally:
        forget(src, sport)


@R.case
def read_only_refuses_x_and_keeps_the_entry():
    src, sport = "10.61.0.3", 5557
    inject(src, sport)
    try:
        with Tmux("readonly", ["--read-only", "--filter", f"addr={src}"]) as t:
            t.wait_for(one_row, "the injected flow's row")
            t.keys("x")
            text = t.wait_for(lambda text: "read-only" in status_line(text),
                              "'read-only' in the status line")
            assert "y/N" not in text, f"a prompt under --read-only:\n{text}"
            t.keys("y")  # no prompt is open: y does nothing
            t.keys("t")  # nor does track
            t.wait_for(lambda text: "read-only" in status_line(text), "'read-only' again after t")
            assert listed(src, sport), f"--read-only deleted the entry:\n{A.conntrack_text()}"
            assert not any("flowtop_track" in t for t in A.nft_tables()), A.nft_tables()
            t.quit()
        assert listed(src, sport), f"the entry went:\n{A.conntrack_text()}"
    finally:
        forget(src, sport)


R.setup(setup)
R.run()
