"""The first code an execution environment runs: it ties the environment's life to the
emulator's, then hands over to awslambdaric, as `python -m awslambdaric HANDLER` would.

Arguments: the inherited file descriptor of the lifeline's read end, the handler, then (for a
function with layers) the folder its layers were extracted into, Lambda's /opt: its
python/lib/pythonX.Y/site-packages and python/ go on sys.path after the code root, as on Lambda
(the code root is sys.path[0], the working directory).

The emulator holds the lifeline's only write end. When the emulator ends in any way, SIGKILL
included, the kernel closes it, the read below returns, and the environment kills its whole
process group: what Linux's PR_SET_PDEATHSIG does for one process, on every Unix, and for what
the handler started too.
"""

import os
import runpy
import signal
import sys
import threading


def watch_lifeline(lifeline: int) -> None:
    try:
        while os.read(lifeline, 1):
            pass
    except OSError:
        pass
    os.killpg(os.getpgrp(), signal.SIGKILL)


lifeline = int(sys.argv[1])
os.set_inheritable(lifeline, False)  # what the handler starts needs no copy of it
threading.Thread(target=watch_lifeline, args=(lifeline,), name="lifeline", daemon=True).start()
if len(sys.argv) > 3:
    opt = sys.argv[3]
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    sys.path[1:1] = [os.path.join(opt, "python", "lib", version, "site-packages"), os.path.join(opt, "python")]
sys.argv = ["awslambdaric", sys.argv[2]]
runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)
