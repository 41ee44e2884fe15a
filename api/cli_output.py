"""How the command line prints: output that does not depend on the width of a terminal that is not there.

Rich sizes its output to the terminal, and to 80 columns (or ``$COLUMNS``) when the output is a pipe or a file: a
path or a Chinese product name in a table was then cut with an ellipsis, and an error message was broken across
lines at a place that depends on how long the clone's path is. Here:

- when stdout/stderr is not a terminal, the console is wide enough that no line of a table is ever folded or cut
  (``PIPE_WIDTH``), whatever ``$COLUMNS`` says;
- in a terminal, rich may wrap to the terminal's width, but a table cell folds onto the next line rather than being
  cut with an ellipsis (``Table``);
- the error console never wraps at all (``soft_wrap``): an error is one line a script can grep.
"""

from __future__ import annotations

from typing import IO, Any

from rich.console import Console, ConsoleDimensions
from rich.table import Table as RichTable

PIPE_WIDTH = 10_000
"""Width of a console whose output is not a terminal: wider than any row a table of this CLI can have."""


class CliConsole(Console):
    """A rich ``Console`` that is ``PIPE_WIDTH`` wide when its output is not a terminal (a pipe, a file, a test)."""

    def __init__(self, *args: Any, width: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, width=width, **kwargs)
        # rich fixes the width from $COLUMNS when the console is made (at import); read it at print time instead,
        # and only for a terminal (``size`` below), so that a pipe is never cut at a width meant for a screen
        self._width = width

    @property
    def size(self) -> ConsoleDimensions:
        """The terminal's size; for output that is not a terminal, ``PIPE_WIDTH`` columns whatever ``$COLUMNS`` says."""
        dimensions = super().size
        if self._width is not None or self.is_terminal:
            return dimensions
        return ConsoleDimensions(PIPE_WIDTH, dimensions.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        width, height = new_size
        self._width = width
        self._height = height


def make_console(
    *,
    stderr: bool = False,
    terminal: bool | None = None,
    width: int | None = None,
    color_system: str | None = "auto",
    file: IO[str] | None = None,
) -> CliConsole:
    """The console of a CLI module: stdout for results, or stderr for errors and progress (never soft-wrapped).

    ``terminal``, ``width`` and ``color_system`` make a console like another process's (a command line run through
    the service, ``api.local_admin``): a terminal of that width with those colours, or not a terminal, writing to
    ``file``.
    """
    if terminal is None:
        return CliConsole(stderr=stderr, soft_wrap=stderr)
    return CliConsole(
        stderr=stderr, soft_wrap=stderr, force_terminal=terminal, width=width if terminal else None,
        color_system=color_system if terminal else None, file=file,
    )  # fmt: skip


def terminal_of(out: Console, err: Console) -> dict[str, Any]:
    """What a command's output depends on, of this process's consoles (sent along when the service runs it)."""
    return {
        "stdout_tty": out.is_terminal,
        "stderr_tty": err.is_terminal,
        "width": out.size.width if out.is_terminal else None,
        "color_system": out.color_system,
    }


class Table(RichTable):
    """A rich ``Table`` whose columns fold a long value onto the next line instead of cutting it with an ellipsis."""

    def add_column(self, *args: Any, **kwargs: Any) -> None:
        """Add a column (same arguments as rich's); ``overflow`` defaults to ``fold``."""
        kwargs.setdefault("overflow", "fold")
        super().add_column(*args, **kwargs)
