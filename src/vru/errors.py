"""Errors a user sees. Every message names the file, and the row and column where known.

Row numbers are *file line numbers* (the header line is line 1), so a user can open the file in a
text editor or spreadsheet and go straight to the bad line.
"""

from __future__ import annotations

from pathlib import Path


class VRUError(Exception):
    """Base class for every error the platform raises on purpose."""


class SourceError(VRUError):
    """A source file is malformed, of an unknown format or vintage, or holds an impossible value.

    Nothing from the file is stored when this is raised: loaders validate everything before the
    warehouse is touched, and the warehouse writes each batch in one transaction.
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = str(path)
        self.row = row
        self.column = column
        self.reason = message
        where = [self.path]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")


class UnknownFormatError(SourceError):
    """No loader recognises the file. We refuse rather than guess."""


class WarehouseError(VRUError):
    """The warehouse is missing, not initialised, or asked for something it does not hold."""
