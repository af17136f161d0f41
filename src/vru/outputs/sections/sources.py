"""The needs assessment's closing sections: how the overlapping sources agree, and the data sources
with attribution and caveats, and the sections left out for want of data
(from :mod:`vru.pipelines.sources`)."""

from __future__ import annotations

import pandas as pd

from vru import format as fmt
from vru.outputs.html import Section, table
from vru.outputs.sections import section
from vru.pipelines import sources as pipeline
from vru.pipelines.sources import SourcesResult

#: How the reconciliation table names each source.
LABELS = {
    pipeline.BOROUGH_SOURCES[0]: "Borough, current classification",
    pipeline.BOROUGH_SOURCES[1]: "Borough, detailed classification",
    pipeline.LSOA_ANNUAL: "LSOA annual aggregation",
}


def present(result: SourcesResult) -> list[Section]:
    """The reconciliation (when the warehouse holds any of the sources it compares) and the data
    sources."""
    out = []
    if not result.annual.empty:
        out.append(reconciliation(result))
    out.append(data_sources(result))
    return out


def reconciliation(result: SourcesResult) -> Section:
    a = result.annual
    t = pd.DataFrame({"Source": [LABELS.get(s, s) for s in a.index]})
    for yr in a.columns:
        t[str(yr)] = [fmt.integer(v) for v in a[yr]]
    return section("reconciliation", "How the sources agree", "sources_reconciliation.html.j2",
                   table=table(t, "Violence against the person, London, by source and year"),
                   ward=result.ward)


def data_sources(result: SourcesResult) -> Section:
    return section("sources", "Data sources, attribution and caveats", "sources_sources.html.j2",
                   catalogue=result.catalogue, left_out=result.left_out)
