"""Format detection: which loader reads a given file. Unknown formats are refused, never guessed."""

from __future__ import annotations

import importlib
from pathlib import Path

from vru.errors import UnknownFormatError
from vru.schema import Batch
from vru.sources._io import require_nonempty

# Order matters only for documentation; sniffers must be mutually exclusive (a test checks it).
LOADER_MODULES = (
    "vru.sources.mps",
    "vru.sources.mps_lsoa_annual",
    "vru.sources.police_uk",
    "vru.sources.imd",
    "vru.sources.population",
    "vru.sources.nomis",
    "vru.sources.claimant_count",
    "vru.sources.pas",
    "vru.sources.pas_microdata",
    "vru.sources.boundaries",
)


def loaders():
    out = []
    for name in LOADER_MODULES:
        try:
            out.append(importlib.import_module(name))
        except ModuleNotFoundError as e:  # a loader not yet written is simply not offered
            if e.name != name:
                raise
    return out


def detect(path: str | Path):
    """The loader module for ``path``; raises UnknownFormatError naming the file otherwise."""
    p = Path(path)
    if not p.exists():
        raise UnknownFormatError(p, "no such file")
    require_nonempty(p)  # an empty file is reported as such, not as an unknown format
    matches = [m for m in loaders() if m.sniff(p)]
    if not matches:
        raise UnknownFormatError(
            p, "unknown data format: no loader recognises this file (see docs/data-sources.md "
            "for the formats the platform reads)")
    if len(matches) > 1:
        raise UnknownFormatError(p, f"ambiguous format: claimed by {[m.__name__ for m in matches]}")
    return matches[0]


def load(path: str | Path) -> Batch:
    """Detect the format and load the whole file (validated) into canonical tables."""
    return detect(path).load(Path(path))
