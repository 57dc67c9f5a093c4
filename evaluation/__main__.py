import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: nothing was started yet
    sys.exit(3)

sys.exit(main())
