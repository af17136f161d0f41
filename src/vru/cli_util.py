"""What a ``vru`` command does with an error the user caused: one line on standard error, exit status 2.

One helper for the main command line (``vru.cli``) and its groups (``vru.tagging.cli``), so that every
command reports a refused input the same way; a group whose layer also raises ``ValueError`` for a bad
argument (the tagging layer's parameters and times) names it among the errors it catches.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from vru.errors import VRUError


def runner(*errors: type[BaseException]) -> Callable:
    """A function ``run(fn, *args, **kwargs)`` that returns ``fn(*args, **kwargs)``, or on one of
    ``errors`` (default :class:`~vru.errors.VRUError`) prints ``error: <message>`` on standard error and
    exits with status 2 (no traceback: the message names the file, row and column where known)."""
    caught = errors or (VRUError,)

    def run(fn: Callable, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except caught as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(2)

    return run
