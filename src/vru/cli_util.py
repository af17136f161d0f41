"""What every ``vru`` command shares: how it reports an error the user caused, where its result goes,
in which format, and its progress.

- **Errors**: one line on standard error, exit status 2 (:func:`runner`), naming the option the
  user gave rather than the parameter of :mod:`vru.api` behind it (:func:`name_options`).
  Options take checked types (``click.IntRange``, ``click.Choice``), so a value out of range is
  refused by name before any work.
- **Result**: standard output unless ``-o FILE`` is given (:func:`write_result`); a file is written
  whole or not at all (a temporary file renamed into place). Messages about the work ("wrote X: 4,829
  areas") go to standard error, so that standard output holds only the result and can be piped.
  A result that is no use on a screen (the HTML report) is not written to a terminal.
- **Format**: ``--format`` if given, else the extension of ``-o``, else the command's default
  (:func:`output_format`); an extension that names no format the command writes is refused.
- **Progress**: a bar on standard error while it is a terminal, nothing when it is piped or redirected
  (:func:`progress`), for work that takes more than a few seconds.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import click

from vru.errors import VRUError


def runner(*errors: type[BaseException], options: Mapping[str, str] | None = None) -> Callable:
    """A function ``run(fn, *args, **kwargs)`` that returns ``fn(*args, **kwargs)``, or on one of
    ``errors`` (default :class:`~vru.errors.VRUError`) prints ``error: <message>`` on standard error and
    exits with status 2 (no traceback: the message names the file, row and column where known).

    ``options``: parameter name -> the command's option (``{"n_draws": "--draws"}``), so that a message
    of :mod:`vru.api` naming a parameter names the option the user typed instead (:func:`name_options`)."""
    caught = errors or (VRUError,)

    def run(fn: Callable, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except caught as e:
            _end_bars()  # the message on a line of its own, not after a progress bar
            click.echo(f"error: {name_options(str(e), options or {})}", err=True)
            sys.exit(2)

    return run


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange that also refuses NaN and infinities (which compare false with any bound,
    so FloatRange lets NaN through)."""

    name = "finite float range"

    def convert(self, value, param, ctx):
        v = super().convert(value, param, ctx)
        if v != v or v in (float("inf"), float("-inf")):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return v


def name_options(message: str, options: Mapping[str, str]) -> str:
    """``message`` with the parameter it starts with (``n_draws: ...``, ``n must be ...``) replaced by
    its option in ``options``, and any other parameter of ``options`` whose name holds an underscore
    (``window_start``: never an English word) replaced wherever it appears."""
    m = re.match(r"(\w+)(?=:| must | is | needs )", message)
    if m and m.group(1) in options:
        message = options[m.group(1)] + message[m.end():]
    for name, option in options.items():
        if "_" in name:
            message = re.sub(rf"(?<![\w-]){re.escape(name)}(?!\w)", option, message)
    return message


def output_format(out: Path | None, fmt: str | None, allowed: tuple[str, ...], default: str) -> str:
    """The format to write: ``fmt`` (from ``--format``), else ``out``'s extension, else ``default``.
    An ``out`` that cannot be written is refused here, before the work (:func:`check_writable`)."""
    check_writable(out)
    if fmt:
        return fmt
    if out is None:
        return default
    ext = out.suffix.lower().lstrip(".")
    if ext in allowed:
        return ext
    names = ", ".join(f".{a}" for a in allowed)
    raise click.UsageError(f"cannot tell the format of {out} from its extension: name it {names}, "
                           f"or give --format")


def check_writable(out: Path | None) -> None:
    """Refuse (a usage error, before any work) an output file that cannot be made: a file stands where
    a folder of its path would be."""
    if out is None:
        return
    for parent in Path(out).parents:
        if parent.exists():
            if not parent.is_dir():
                raise click.UsageError(f"cannot write {out}: {parent} is not a folder")
            return


def write_result(text: str, out: Path | None, *, summary: str = "", terminal: bool = True) -> None:
    """Write a command's result to ``out``, or to standard output when ``out`` is None.

    ``summary`` follows "wrote <out>" on standard error. ``terminal=False``: a result meant for a file
    or a program (a whole HTML page) is refused when standard output is a terminal."""
    if out is None:
        if not terminal:
            refuse_terminal()
        click.echo(text, nl=not text.endswith("\n"))
        if summary:
            click.echo(summary.lstrip(": ").strip(), err=True)
        return
    write_file(out, text)
    click.echo(f"wrote {out}{summary}", err=True)


def refuse_terminal() -> None:
    """Refuse (a usage error) when standard output is a terminal: for a result meant for a file."""
    if click.get_text_stream("stdout").isatty():
        raise click.UsageError("the result is not written to a terminal: give -o FILE, or redirect "
                               "standard output (> FILE)")


def write_file(out: Path, text: str | bytes) -> None:
    """``text`` (UTF-8) or bytes into ``out`` whole or not at all: a temporary file beside it, then
    renamed."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        tmp.replace(out)
    except OSError as e:
        raise click.FileError(str(out), hint=e.strerror or str(e)) from None
    finally:
        tmp.unlink(missing_ok=True)


def shows_progress() -> bool:
    """Whether progress is shown: standard error is a terminal."""
    return sys.stderr.isatty()


#: The progress bars drawn now (by :func:`progress`), closed by :func:`_end_bars`.
_BARS: list = []


def _end_bars() -> None:
    """Close the progress bars still drawn, so that what follows starts on a new line."""
    while _BARS:
        _BARS.pop().__exit__(None, None, None)


@contextlib.contextmanager
def progress(label: str) -> Iterator[Callable[[str, int], None]]:
    """A callback ``step(name, total)`` (the form :mod:`vru.api` takes) that moves a bar of ``total``
    steps on standard error while it is a terminal, and does nothing otherwise. The bar appears at the
    first step, so work with nothing to do shows none. An error :func:`runner` prints closes the bar
    first."""
    bar = None

    def step(name: str, total: int) -> None:
        nonlocal bar
        if not shows_progress():
            return
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True,
                                    item_show_func=lambda item: item)
            bar.__enter__()
            _BARS.append(bar)
        if bar in _BARS:
            bar.update(1, name)

    try:
        yield step
    finally:
        if bar in _BARS:
            _BARS.remove(bar)
            bar.__exit__(None, None, None)
