#!/usr/bin/env python3
"""The bash and zsh completions, run by the shells themselves.

bash: completions/flowtop.bash is sourced and its function called as bash's programmable
completion calls it (COMP_WORDS, COMP_CWORD), then COMPREPLY is read.
zsh: an interactive zsh on a pseudo-terminal loads completions/_flowtop through compinit; Tab
runs the completion system and a compadd wrapper writes every match it adds to a file.

Checks: `flowtop --` offers every long option `flowtop --help` lists; --sort, --filter and --tab
complete their values; --geoip-dir completes directories only; --netns completes the names in
/run/netns (a namespace is made for it when running as root; skipped otherwise).

usage: test_completions.py --flowtop PATH [--source DIR]
"""

import argparse
import os
import pty
import re
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ARGS = None


def help_long_options():
    out = subprocess.run([ARGS.flowtop, "--help"], check=True, capture_output=True, text=True)
    opts = set(re.findall(r"^  (?:-\S, )?\s*(--[a-z0-9-]+)", out.stdout, re.M))
    assert len(opts) > 20, out.stdout
    return opts


def bash_complete(*words):
    """COMPREPLY for a command line whose words are `words` (the last one is being completed)."""
    source = os.path.join(ARGS.source, "completions", "flowtop.bash")
    line = " ".join(words)
    script = f"""
source {shlex.quote(source)}
complete -p flowtop >/dev/null || exit 3
COMP_WORDS=({" ".join(shlex.quote(w) for w in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE={shlex.quote(line)}
COMP_POINT=${{#COMP_LINE}}
_flowtop flowtop {shlex.quote(words[-1])} {shlex.quote(words[-2])}
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    out = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], check=True,
                         capture_output=True, text=True, timeout=30)
    return {w for w in out.stdout.split("\n") if w}


class Zsh:
    """An interactive zsh on a pseudo-terminal, for completing command lines."""

    DONE = "<<flowtop-completion-done>>"

    def __init__(self, tmp):
        self.out = os.path.join(tmp, "matches")
        compdir = os.path.join(ARGS.source, "completions")
        with open(os.path.join(tmp, ".zshrc"), "w") as rc:
            rc.write(f"""
bindkey -e
fpath=({shlex.quote(compdir)} $fpath)
autoload -U compinit && compinit -u -d {shlex.quote(os.path.join(tmp, ".zcompdump"))}
LISTMAX=100000
PROMPT='> '
__out={shlex.quote(self.out)}
compadd() {{
  # -O, -A, -D only compute (as _describe does): pass them through.
  if [[ ${{@[1,(i)(-|--)]}} == *-(O|A|D)\\ * ]]; then builtin compadd "$@"; return; fi
  local -a __hits
  builtin compadd -A __hits "$@"
  (( $#__hits )) && print -rl -- "${{__hits[@]}}" >> $__out
  builtin compadd "$@"
}}
__done() {{ print -r -- {shlex.quote(self.DONE)} >> $__out }}
__complete() {{ comppostfuncs=(__done); _main_complete }}
zle -C flowtop-test-complete complete-word __complete
bindkey '^I' flowtop-test-complete
print -r -- READY >> $__out
""")
        env = dict(os.environ, ZDOTDIR=tmp, HOME=tmp, TERM="xterm")
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(["zsh", "-i"], stdin=slave, stdout=slave, stderr=slave,
                                     env=env, cwd=tmp, start_new_session=True)
        os.close(slave)
        self.screen = []
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()
        self._wait_for("READY")

    def _drain(self):
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.5)
                if ready:
                    data = os.read(self.master, 4096)
                    if not data:
                        return
                    self.screen.append(data.decode(errors="replace"))
            except OSError:
                return

    def _wait_for(self, marker, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.out):
                with open(self.out) as f:
                    lines = f.read().split("\n")
                if marker in lines:
                    return [l for l in lines if l and l not in (marker, "READY")]
            time.sleep(0.05)
        raise AssertionError(f"zsh gave no '{marker}' in {timeout} s; its screen:\n"
                             + "".join(self.screen)[-2000:])

    def complete(self, line):
        """The matches zsh adds for `line` followed by Tab."""
        open(self.out, "w").close()
        os.write(self.master, line.encode() + b"\t")
        matches = self._wait_for(self.DONE)
        os.write(self.master, b"\x15")  # Ctrl-U: kill the line for the next one
        return set(matches)

    def close(self):
        try:
            os.write(self.master, b"\x15exit\n")
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


class Completions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="flowtop-completion-")
        os.mkdir(os.path.join(cls.tmp, "geo1"))
        open(os.path.join(cls.tmp, "geofile"), "w").close()
        cls.netns = None
        if os.geteuid() == 0 and shutil.which("ip"):
            cls.netns = f"flowtop-completion-{os.getpid()}"
            subprocess.run(["ip", "netns", "add", cls.netns], check=True)
        cls.zsh = Zsh(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.zsh.close()
        if cls.netns:
            subprocess.run(["ip", "netns", "del", cls.netns], check=False)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def both(self, words, text=None):
        """bash's and zsh's matches for the command line `words` (zsh typed as `text`)."""
        if text is None:
            text = " ".join(words)
        return {"bash": bash_complete(*words), "zsh": self.zsh.complete(text)}

    def test_every_long_option_of_help_is_offered(self):
        wanted = help_long_options() | {"--tab", "--netns"}
        for shell, got in self.both(["flowtop", "--"]).items():
            self.assertFalse(wanted - got, f"{shell} does not offer these")

    def test_sort_keys(self):
        for shell, got in self.both(["flowtop", "--sort", "ra"]).items():
            self.assertEqual(got, {"rate", "rate-in", "rate-out"}, shell)

    def test_sort_keys_after_an_equals_sign(self):
        # bash splits --sort=by at '=' (COMP_WORDBREAKS); zsh sees one word.
        got = self.both(["flowtop", "--sort", "=", "by"], "flowtop --sort=by")
        for shell, matches in got.items():
            self.assertEqual(matches, {"bytes", "bytes-in", "bytes-out"}, shell)

    def test_filter_terms(self):
        for shell, got in self.both(["flowtop", "--filter", "pro"]).items():
            self.assertEqual(got, {"proc", "process", "proto", "protocol"}, shell)

    def test_tabs(self):
        for shell, got in self.both(["flowtop", "--tab", ""]).items():
            self.assertEqual(got, {"flows", "owners", "hosts", "countries", "as"}, shell)

    def test_geoip_dir_completes_directories_only(self):
        prefix = os.path.join(self.tmp, "geo")
        for shell, got in self.both(["flowtop", "--geoip-dir", prefix]).items():
            names = {os.path.basename(m.rstrip("/")) for m in got}
            self.assertIn("geo1", names, shell)
            self.assertNotIn("geofile", names, shell)

    def test_netns_names(self):
        if not self.netns:
            self.skipTest("making a network namespace needs root")
        for shell, got in self.both(["flowtop", "--netns", "flowtop-completion-"]).items():
            self.assertIn(self.netns, got, shell)

    def test_numbers_get_no_options(self):
        for shell, got in self.both(["flowtop", "-t", ""]).items():
            self.assertFalse({m for m in got if m.startswith("-")}, shell)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--flowtop", required=True)
    parser.add_argument("--source", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ARGS, rest = parser.parse_known_args()
    ARGS.source = os.path.abspath(ARGS.source)
    for tool in ("bash", "zsh"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (scripts/deps.txt lists it)")
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
