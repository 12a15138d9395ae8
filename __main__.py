"""`python -m lapor COMMAND` is the installed `lapor COMMAND`."""

from lapor.server import main

raise SystemExit(main())
