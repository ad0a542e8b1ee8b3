"""``python -m styletx``: the same as the ``styletx`` command."""

from styletx.cli import main

raise SystemExit(main())
