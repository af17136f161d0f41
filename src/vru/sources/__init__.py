"""Loaders for the real published formats.

Each loader module exposes:

- ``sniff(path) -> bool``: True if the file is in this module's format (by name/header, never by
  guessing from values);
- ``load(path) -> Batch``: read and validate the *whole* file, returning canonical tables
  (see :mod:`vru.schema`). Any problem raises :class:`vru.errors.SourceError` naming file, row and
  column; a file loads completely or not at all.

:func:`vru.sources.registry.detect` picks the loader for a path and refuses unknown formats.
"""
