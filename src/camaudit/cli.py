"""The command line. This is the error boundary: camaudit errors become one line, exit 2.

Commands of the scanning core live here (scan, show, explain, demo); every
other area adds its own from ``<area>/commands.py`` via ``register(app)``.
"""

from __future__ import annotations

import errno
import sys
import traceback
from typing import Annotated

import typer

from camaudit import __version__
from camaudit.cliutil import Verbosity, err, out, sanitize
from camaudit.errors import CamauditError

app = typer.Typer(
    name="camaudit",
    help="Audit a video-surveillance estate: find cameras and recorders, name their real "
         "maker, and report restricted equipment, exploited firmware and ethnicity "
         "analytics — with evidence.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

_debug = False


def _version(value: bool) -> None:
    if value:
        out.print(f"camaudit {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Only errors and results.")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="More detail.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """camaudit — evidence-backed audits of cameras, NVRs and DVRs."""
    global _debug
    _debug = debug
    Verbosity.level = 0 if quiet else (2 if verbose else 1)


def _register_areas() -> None:
    from camaudit import demo, scan_commands
    from camaudit.assess import commands as assess_cmds
    from camaudit.dist import commands as dist_cmds
    from camaudit.docs import commands as docs_cmds
    from camaudit.identify import commands as identify_cmds
    from camaudit.ingest import commands as ingest_cmds
    from camaudit.knowledge import commands as knowledge_cmds
    from camaudit.report import commands as report_cmds
    from camaudit.web import commands as web_cmds
    from camaudit.zoo import commands as zoo_cmds

    for module in (scan_commands, demo, identify_cmds, assess_cmds, knowledge_cmds, report_cmds,
                   ingest_cmds, zoo_cmds, docs_cmds, web_cmds, dist_cmds):
        module.register(app)


_register_areas()


def _one_line(exc: BaseException | str) -> str:
    """One line, with any control character a file name or device string carried made visible."""
    return sanitize(" ".join(str(exc).split())) or type(exc).__name__


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and turn every failure into one clear line."""
    command = typer.main.get_command(app)
    try:
        rc = command.main(args=argv, prog_name="camaudit", standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("camaudit: aborted", markup=False)
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: unknown option, bad value ...
        err.print(f"camaudit: error: {_one_line(exc.format_message())}", markup=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("camaudit: interrupted (a scan can be resumed with --resume last)",
                  markup=False)
        sys.exit(130)
    except CamauditError as exc:
        _maybe_trace()
        err.print(f"camaudit: error: {_one_line(exc)}", markup=False)
        sys.exit(2)
    except OSError as exc:
        _maybe_trace()
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        reason = exc.strerror or _one_line(exc)
        if exc.errno in (errno.EMFILE, errno.ENFILE):
            reason += " (raise the limit with ulimit -n)"
        err.print(f"camaudit: error:{where} {reason}", markup=False)
        sys.exit(2)
    except Exception as exc:
        _maybe_trace(always=_debug)
        err.print(f"camaudit: internal error: {type(exc).__name__}: {_one_line(exc)} "
                  "(run with --debug for the traceback)", markup=False)
        sys.exit(70)


def _maybe_trace(always: bool = False) -> None:
    if _debug or always:
        traceback.print_exc()


__all__ = ["app", "main"]
