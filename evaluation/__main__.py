import atexit
import os
import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: nothing was started yet
    sys.exit(3)

status = main()
# Everything is written and closed by now. The exit handlers still run (logging, worker pools),
# but not the interpreter's teardown, which frees the libraries' objects one by one: half a second
# of every command (a third of `make reports` with nothing to build).
atexit._run_exitfuncs()
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
