"""api package: the HTTP service, the CLI and the console (the edge that reads settings)."""

import time as _time

STARTED = _time.time()
"""When this interpreter first imported the service (``/v1/ready``'s ``imports`` and ``ready`` stages count from here).

Not the process's own start: ``scripts/run.sh`` sets up, loads the demo and then ``exec``s the server, which keeps the
shell's process and its start time, so a process age would count the set-up as imports. The interpreter's own start
before this line (≈ 0.03 s) is left out.
"""
