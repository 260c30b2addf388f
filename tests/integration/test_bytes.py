#!/usr/bin/env python3
"""Every byte counted: short flows that start and end between two frames.

- A TCP transfer of a known size that starts and ends between two frames: its `--json --events`
  end record carries the bytes `conntrack -E -o extended` reports for its DESTROY, and a frame
  shows it ended, with those bytes and a known rate (its bytes count in that frame's rates).
- An ended flow lingers for --linger, then goes (polled, no duration asserted).
- `--json --events` on a namespace with a known set of short flows yields exactly their start and
  end records.
- Frame 1 of `--json -c 1` already has the owners of flows with local processes.
- The same kind of short transfer is counted in the Owners and Hosts totals (TOTAL↑ / TOTAL↓,
  "total" in JSON) with exactly the bytes of its DESTROY, and counted once.

The flows end with `conntrack -D` (a DESTROY event with the final counters) rather than waiting
for TIME-WAIT to expire.
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns as N  # noqa: E402

R = N.Runner("test_bytes")
CLI: N.Namespace = None
SRV: N.Namespace = None
CLI_IP, SRV_IP = "10.83.1.2", "10.83.1.1"
SERVER = None

# Serves each port given: reads the client's request (its size in the first line), answers with
# that many bytes, closes.
_SERVER = r"""
import socket, sys, threading
host = sys.argv[1]
def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port)); s.listen(16)
    while True:
        c, _ = s.accept()
        f = c.makefile("rb")
        n = int(f.readline())
        c.sendall(b"x" * n)
        f.close()
        c.shutdown(socket.SHUT_RDWR)
        c.close()
for p in sys.argv[2:]:
    threading.Thread(target=serve, args=(int(p),), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
"""

# One transfer per (port, size): asks for `size` bytes, reads them to EOF, closes; prints the
# source port of each.
_CLIENT = r"""
import socket, sys
host = sys.argv[1]
for spec in sys.argv[2:]:
    port, size = map(int, spec.split(":"))
    s = socket.create_connection((host, port))
    s.sendall(b"%d\n" % size)
    got = 0
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += len(d)
    sport = s.getsockname()[1]
    s.close()
    print("done", port, sport, got, flush=True)
"""


# One transfer that keeps its socket open a moment after the last byte (so its owner can be found
# while it exists): prints its pid and source port, waits for a line on stdin, then closes.
_HOLDING_CLIENT = r"""
import os, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"%d\n" % int(sys.argv[3]))
got = 0
while True:
    d = s.recv(65536)
    if not d:
        break
    got += len(d)
print("done", os.getpid(), s.getsockname()[1], got, flush=True)
sys.stdin.readline()
s.close()
"""


def setup():
    global CLI, SRV, SERVER
    CLI, SRV = N.Namespace("bcli"), N.Namespace("bsrv")
    N.veth(CLI, "eth0", SRV, "eth0")
    N.addr(CLI, "eth0", f"{CLI_IP}/24")
    N.addr(SRV, "eth0", f"{SRV_IP}/24")
    CLI.nft_track()
    SERVER = SRV.python(_SERVER, SRV_IP, 9101, 9102, 9103, 9104, 9105, 9106, 9107)
    SERVER.expect("listening", timeout=15)


def transfer(*specs) -> list:
    """Runs the client for (port, size) pairs; returns [(port, sport, received)]."""
    cp = CLI.run([N.PY, "-c", _CLIENT, SRV_IP] + [f"{p}:{n}" for p, n in specs], timeout=30)
    out = [tuple(map(int, m.groups())) for m in re.finditer(r"done (\d+) (\d+) (\d+)", cp.stdout)]
    assert len(out) == len(specs), f"client failed: {cp.stdout} {cp.stderr}"
    for (port, size), (_, _, got) in zip(specs, out):
        assert got == size, f"port {port}: received {got} of {size}"
    return out


def delete(sport: int, dport: int) -> None:
    """Ends a flow now: conntrack -D sends its DESTROY with the final counters."""
    cp = CLI.run(["conntrack", "-D", "-p", "tcp", "--orig-src", CLI_IP, "--sport", sport,
                  "--dport", dport])
    assert cp.returncode == 0, f"conntrack -D: {cp.stderr}"


def records(proc: N.Proc, until, timeout: float = 20.0) -> list:
    """Reads JSON lines from a running flowtop until until(list) holds."""
    got = []
    ok = N.wait_until(lambda: _read_more(proc, got) and until(got), timeout=timeout, step=0.01)
    assert ok, f"flowtop wrote {got}; stderr: {proc.err_text}"
    return got


def _read_more(proc: N.Proc, got: list) -> bool:
    line = proc.readline(timeout=0.2)
    if line:
        got.append(json.loads(line))
    return True


def ct_listeners() -> int:
    """conntrack event listeners (NETLINK_NETFILTER sockets with groups) in the client's
    namespace: flowtop has subscribed once the count grows."""
    text = CLI.run(["cat", "/proc/net/netlink"], log=False).stdout
    return sum(1 for row in text.splitlines()[1:]
               if len(row.split()) > 3 and row.split()[1] == "12" and row.split()[3] != "00000000")


def wait_listeners(n: int) -> None:
    assert N.wait_until(lambda: ct_listeners() >= n, timeout=15), "flowtop never subscribed"


def read_line(proc: N.Proc, pred, timeout: float = 15.0) -> str:
    """The first stdout line of proc for which pred(line) holds."""
    found = []

    def step():
        line = proc.readline(timeout=0.2)
        if line is not None and pred(line):
            found.append(line)
        return bool(found)

    assert N.wait_until(step, timeout=timeout, step=0.01), \
        f"no such line from {proc.argv}: {proc.out_lines[-20:]}"
    return found[0]


@R.case
def short_transfer_is_counted_in_end_record_and_frame():
    events = CLI.popen(["conntrack", "-E", "-e", "DESTROY", "-o", "extended", "-p", "tcp"])
    wait_listeners(1)
    stream = CLI.flowtop_bg(R.flowtop, ["--json", "--events", "-4T", "--filter", "port=9101"])
    wait_listeners(2)
    frames = CLI.flowtop_bg(R.flowtop, ["--json", "-4T", "-t", "1", "--linger", "600",
                                        "--filter", "port=9101"])
    wait_listeners(3)
    try:
        (_, sport, _), = transfer((9101, 100_000))
        delete(sport, 9101)
        line = read_line(events, lambda l: f"sport={sport} " in l)
        ct_bytes = [int(b) for b in re.findall(r"bytes=(\d+)", line)]
        assert len(ct_bytes) == 2, line
        end = json.loads(read_line(stream, lambda l: json.loads(l)["event"] == "end" and
                                   json.loads(l)["orig"]["sport"] == sport))
        assert end["v"] == 1 and end["counters"] == "ok", end
        assert [end["bytes"]["orig"], end["bytes"]["reply"]] == ct_bytes, (end, line)
        assert end["bytes"]["reply"] > 100_000, end
        assert end["duration_s"] is not None and end["duration_s"] >= 0, end
        # A frame shows it ended, with the same bytes and a known, non-zero rate: its bytes count
        # in the rates of the frame after it ended.
        f = json.loads(read_line(frames, lambda l: json.loads(l)["orig"]["sport"] == sport and
                                 json.loads(l)["ended"]))
        assert [f["bytes"]["orig"], f["bytes"]["reply"]] == ct_bytes, f
        assert f["counters"] == "ok" and f["rate"] is not None and f["rate"]["reply"] > 0, f
        assert f["received"]["rate"] > 0, f
    finally:
        for p in (stream, frames, events):
            p.kill()


@R.case
def ended_flow_lingers_then_goes():
    before = ct_listeners()
    frames = CLI.flowtop_bg(R.flowtop, ["--json", "-4T", "-t", "0.2", "--linger", "1",
                                        "--filter", "port=9102"])
    wait_listeners(before + 1)
    try:
        (_, sport, _), = transfer((9102, 20_000))
        delete(sport, 9102)
        read_line(frames, lambda l: json.loads(l)["orig"]["sport"] == sport and
                  json.loads(l)["ended"])
        # Then frames keep showing it, ended, until the linger has passed; a frame without it
        # writes nothing (the filter keeps port 9102 only): poll until the output falls silent.
        rows = []
        while (line := frames.readline(timeout=3.0)) is not None:
            rows.append(json.loads(line))
            assert len(rows) < 1000, "the ended row never went"
        assert all(o["ended"] and o["orig"]["sport"] == sport for o in rows), rows
        assert frames.running(), frames.err_text
    finally:
        frames.kill()


@R.case
def events_stream_has_exactly_the_short_flows():
    before = ct_listeners()
    stream = CLI.flowtop_bg(R.flowtop, ["--json", "--events", "-4TU",
                                        "--filter", f"addr={SRV_IP}"])
    wait_listeners(before + 1)
    try:
        done = transfer((9103, 1000), (9104, 5000), (9105, 70_000))
        for port, sport, _ in done:
            delete(sport, port)
        want = {(sport, port) for port, sport, _ in done}
        got = records(stream, lambda g: sum(1 for o in g if o["event"] == "end") >= 3)
        while (line := stream.readline(timeout=1.0)) is not None:  # nothing more, or extra
            got.append(json.loads(line))
        starts = sorted((o["orig"]["sport"], o["orig"]["dport"]) for o in got
                        if o["event"] == "start")
        ends = sorted((o["orig"]["sport"], o["orig"]["dport"]) for o in got if o["event"] == "end")
        assert starts == sorted(want) and ends == sorted(want), got
        for o in got:
            assert o["v"] == 1 and o["proto"] == "tcp", o
            if o["event"] == "end":
                size = {9103: 1000, 9104: 5000, 9105: 70_000}[o["orig"]["dport"]]
                assert o["bytes"]["reply"] > size and o["counters"] == "ok", o
    finally:
        stream.kill()


@R.case
def short_transfer_is_counted_in_owner_and_host_totals():
    before = ct_listeners()
    events = CLI.popen(["conntrack", "-E", "-e", "DESTROY", "-o", "extended", "-p", "tcp"])
    wait_listeners(before + 1)
    before += 1
    # Each flowtop: JSON rows of one aggregate tab, the ended flow lingering as its row's flow.
    owners = CLI.flowtop_bg(R.flowtop, ["--json", "-4T", "-t", "1", "--linger", "600", "--tab",
                                        "owners", "--filter", "port=9106"])
    hosts = CLI.flowtop_bg(R.flowtop, ["--json", "-4T", "-t", "1", "--linger", "600", "--tab",
                                       "hosts", "--filter", "port=9106"])
    wait_listeners(before + 2)
    client = None
    try:
        client = CLI.popen([N.PY, "-c", _HOLDING_CLIENT, SRV_IP, "9106", "100000"])
        m = re.match(r"done (\d+) (\d+) (\d+)", client.expect("done", timeout=20))
        pid, sport, got = map(int, m.groups())
        assert got == 100_000, m.group(0)
        # Closed before the DESTROY, so that no packet after it starts a new entry; its owner is
        # looked up when the flow is first seen (a moment for that), while the socket is open.
        time.sleep(1.0)
        client.send("")
        assert client.wait(timeout=10) == 0, client.err_text
        delete(sport, 9106)  # ends it now: the DESTROY carries the final counters
        line = read_line(events, lambda l: f"sport={sport} " in l)
        ct_bytes = [int(b) for b in re.findall(r"bytes=(\d+)", line)]
        assert len(ct_bytes) == 2 and ct_bytes[1] > 100_000, line

        def total_reaches(proc, pick):
            seen = []

            def step():
                text = proc.readline(timeout=0.2)
                if text:
                    o = json.loads(text)
                    if pick(o):
                        seen.append(o)
                return bool(seen) and seen[-1]["total"] is not None and \
                    [seen[-1]["total"]["orig"], seen[-1]["total"]["reply"]] == ct_bytes

            ok = N.wait_until(step, timeout=15, step=0.01)
            assert ok, f"the total never reached the DESTROY's {ct_bytes}: {seen[-3:]}"
            return seen[-1]

        row = total_reaches(owners, lambda o: o.get("pid") == pid)
        assert row["kind"] == "process" and row["name"] == "python3", row
        total_reaches(hosts, lambda o: o["addr"] == SRV_IP)
        # Counted once: the next frames keep the same totals.
        for proc, pick in ((owners, lambda o: o.get("pid") == pid),
                           (hosts, lambda o: o["addr"] == SRV_IP)):
            later = [json.loads(l) for l in (proc.readline(timeout=3.0) for _ in range(4)) if l]
            later = [o for o in later if pick(o)]
            assert later, "no later frame"
            for o in later:
                assert [o["total"]["orig"], o["total"]["reply"]] == ct_bytes, o
    finally:
        for p in (owners, hosts, events) + ((client,) if client else ()):
            p.kill()


@R.case
def first_json_frame_has_the_owners():
    # Flows with local owners (clients holding their sockets), then flowtop's very first frame:
    # it waits (up to one interval) for the owner lookups of the flows it prints. Without the
    # wait, lookups still running when the first dump ends leave "process": null.
    clients = []
    try:
        owners = {}
        for _ in range(20):
            c = CLI.popen([N.PY, "-c", _HOLDING_CLIENT, SRV_IP, "9107", "1000"])
            clients.append(c)
        for c in clients:
            pid, sport, _ = map(int, re.match(r"done (\d+) (\d+) (\d+)",
                                              c.expect("done", timeout=20)).groups())
            owners[sport] = pid
        run = CLI.flowtop(R.flowtop, ["--json", "-c", "1", "-t", "2", "-4T",
                                      "--filter", "port=9107"])
        run.check_ok()
        objs = run.objects(1)
        assert sorted(o["orig"]["sport"] for o in objs) == sorted(owners), objs
        for o in objs:
            assert o["process"] is not None, o
            assert o["process"]["pid"] == owners[o["orig"]["sport"]], o
            assert o["process"]["name"] == "python3", o
    finally:
        for c in clients:
            c.kill()


if R.setup(setup):
    pass
R.run()
