"""``python -m skmixup.bench``: the same as the ``skmixup-bench`` command."""

from .cli import main

raise SystemExit(main())
