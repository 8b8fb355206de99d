"""What the lanyard-dp namespace tests share: where the binary is, the
skip conditions, and running commands in the root or a namespace."""
import os
import subprocess

import pytest

BUILD = os.path.abspath(os.environ.get(
    "LANYARD_BUILD", os.path.join(os.path.dirname(__file__), "../../build")))
LANYARD_DP = os.path.join(BUILD, "datapath", "lanyard-dp")
PY = "/usr/bin/python3"

needs_root_and_dp = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for netns"),
    pytest.mark.skipif(not os.path.exists(LANYARD_DP),
                       reason="lanyard-dp not built"),
]


def sh(*args, check=True, **kw):
    return subprocess.run(args, check=check, capture_output=True, text=True,
                          **kw)


def nsrun(ns, *args, **kw):
    return sh("ip", "netns", "exec", ns, *args, **kw)
