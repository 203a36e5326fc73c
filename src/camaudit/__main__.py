"""`python -m camaudit` runs the command line."""

from camaudit.cli import main

main()
