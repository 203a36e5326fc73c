"""``python -m camaudit.zoo``: the zoo command without the rest of the CLI."""

import typer

from camaudit.zoo.commands import zoo

if __name__ == "__main__":
    typer.run(zoo)
