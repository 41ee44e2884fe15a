"""The start-up clock of ``/v1/ready``: its stages count from the service's first import, not the process's start."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_time_before_an_exec_is_not_counted_as_imports() -> None:
    """``scripts/run.sh`` sets up and loads the demo, then ``exec``s the server: that time is not the server's start.

    The shell waits 3 s, then replaces itself with Python (same process, same start time); the clock's age at once
    after importing must be well under those 3 s.
    """
    probe = textwrap.dedent(
        """
        from api.state import StartupClock
        clock = StartupClock()
        clock.mark("imports")
        print(clock.stages["imports"])
        """
    )
    out = subprocess.run(
        ["bash", "-c", 'sleep 3; exec "$0" -c "$1"', sys.executable, probe],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert float(out.stdout.strip().splitlines()[-1]) < 3.0
