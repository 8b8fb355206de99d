"""The man pages render without groff warnings and mention every command
and option the tools accept."""

import os
import subprocess

import pytest

from vsctl_harness import LANYARD_APPCTL, REPO

MAN = os.path.join(REPO, "docs", "man")


@pytest.mark.parametrize("page", ["lanyard-vsctl.8", "lanyard-appctl.8"])
def test_renders_cleanly(page):
    path = os.path.join(MAN, page)
    r = subprocess.run(["groff", "-ww", "-z", "-man", path],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = subprocess.run(["man", "-l", path], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80", MANPAGER="cat",
                                PAGER="cat"))
    assert r.returncode == 0 and "SYNOPSIS" in r.stdout, r.stderr


def rendered(page):
    r = subprocess.run(["man", "-l", os.path.join(MAN, page)],
                       capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="200", MANPAGER="cat",
                                PAGER="cat"))
    # man joins hyphenated words at line ends; undo the hyphenation marks.
    return r.stdout.replace("\u2010", "-")


def test_vsctl_page_covers_every_command():
    text = rendered("lanyard-vsctl.8")
    r = subprocess.run(["ovs-vsctl", "--commands"], capture_output=True,
                       text=True)
    names = [line.split(",")[1] for line in r.stdout.splitlines()]
    missing = [n for n in names if n not in text]
    assert not missing, missing


def test_appctl_page_covers_every_option():
    text = rendered("lanyard-appctl.8")
    r = subprocess.run([LANYARD_APPCTL, "--option"], capture_output=True,
                       text=True)
    opts = [line.split("=")[0].split()[0] for line in r.stdout.splitlines()]
    missing = [o for o in opts if o not in text]
    assert not missing, missing
