"""The `auditor` command line: parses options, calls the library, renders. Nothing else.

Library errors (`AuditorError`) become one-line messages on stderr with exit code 2; unexpected
exceptions are reported the same way, with a pointer to the issue tracker, never as a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from auditor import __version__
from auditor.errors import AuditorError, ExitCode

EXIT_CODES_HELP = "Exit codes: 0 no disputes, 1 disputes found, 2 usage or input error."


class AuditorGroup(click.Group):
    """A click group that turns library errors into clean one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AuditorError as exc:
            # An adapter that could not read a file may have run out of memory, not met a bad file.
            fail(_out_of_memory_message() if _is_out_of_memory(exc.__cause__) else str(exc))
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            fail("interrupted")
        except BrokenPipeError:  # `auditor demo | head`: the reader left; nothing is wrong
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(ExitCode.OK)
        except MemoryError:  # the machine's memory, not DuckDB's limit: a lower limit spills
            from auditor.engine import MEMORY_LIMIT_VARIABLE

            fail(f"out of memory: set {MEMORY_LIMIT_VARIABLE} lower (e.g. 512MB) so DuckDB "
                 "spills to disk")
        except Exception as exc:  # a bug, not bad input: still one line, never a traceback
            if _is_out_of_memory(exc):
                fail(_out_of_memory_message())
            first_line = (str(exc).strip().splitlines() or [""])[0]
            fail(f"internal error ({type(exc).__name__}: {first_line}); please report it "
                 "with the command you ran")

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        from auditor.errors import did_you_mean

        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            hint = did_you_mean(name, self.list_commands(ctx))
            ctx.fail(f"No such command '{name}'." + (f" {hint[0].upper()}{hint[1:]}" if hint else ""))
        return super().resolve_command(ctx, args)


class AuditorCli(AuditorGroup):
    """The top-level group: a command's module is imported when the command is used (or
    listed), so that an audit does not pay for the HTTP client `pull` needs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMAND_MODULES:
            importlib.import_module(f"auditor.cli.{COMMAND_MODULES[name]}")  # registers it
        return super().get_command(ctx, name)


# Each command and the module of auditor.cli that defines it (tests/test_cli.py checks).
COMMAND_MODULES = {
    "audit": "audit", "ingest": "audit", "demo": "audit", "compare": "compare",
    "price": "price", "pull": "pull", "rules": "rules", "trend": "trend", "sql": "warehouse",
}


def _is_out_of_memory(exc: BaseException | None) -> bool:
    import duckdb

    return isinstance(exc, duckdb.OutOfMemoryException)


def _out_of_memory_message() -> str:
    from auditor.engine import MEMORY_LIMIT_VARIABLE, memory_limit_setting

    return (f"out of memory: the audit needed more than DuckDB's memory limit "
            f"({memory_limit_setting()}); run it again with a higher limit, e.g. "
            f"{MEMORY_LIMIT_VARIABLE}=4GB, below this machine's free memory")


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(ExitCode.USAGE_OR_INPUT_ERROR)


@click.group(cls=AuditorCli, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="auditor")
def cli() -> None:
    """Check an AI-agent vendor's per-resolution bill against your own conversation logs.

    \b
    Example:
        auditor demo
        auditor audit export.jsonl.gz --billed invoice_lines.csv --out report/
    """


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="auditor")
