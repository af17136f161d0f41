"""Pipelines: the data assembly and the method behind each part of the needs assessment.

A pipeline module has

* ``Params``: a frozen dataclass of every choice, with its default, validated when built
  (:meth:`vru.pipelines.base.Params.of` builds one from keyword overrides and refuses unknown names);
* ``run(wh, params=None) -> Result``: reads the warehouse, calls :mod:`vru.analysis`, and returns a
  frozen ``Result`` that holds the numbers (DataFrames and analysis results, no HTML, no prose), or
  raises :class:`vru.pipelines.base.MissingData` when the warehouse lacks what it needs;
* ``Result.as_dict()``: the same numbers as JSON-ready Python (``vru <command> --format json``, the API).

The presentation of a result (its section of the report, with templates and the shared formatter
:mod:`vru.format`) is in :mod:`vru.outputs.sections`. The report, the CLI, :mod:`vru.api` and the
dashboard call pipelines only; none of them queries the warehouse for a section's numbers.
"""

from __future__ import annotations

#: The pipelines of the needs assessment, in report order (module names under ``vru.pipelines``).
#: ``london`` gives the summary, trends, league table, maps and street-level sections; ``sources``
#: the reconciliation and the data sources at the end.
REPORT = ("london", "hotspots", "drivers", "targeting", "evaluation", "confidence", "sources")
