"""GPS tagging: wearers' position trails, crime batches, crime matching and exclusion zones.

The analysis/engine layer (pure Python, pandas/pyarrow, DuckDB and Ibis). Modules:

- :mod:`vru.tagging.schema`: canonical column names and pyarrow schemas shared by every module.
- :mod:`vru.tagging.positions`: the supplier position feed (CSV/Parquet), validated and imported.
- :mod:`vru.tagging.store`: the positions store (Parquet partitioned by day, read with DuckDB/Ibis).
- :mod:`vru.tagging.simulate`: synthetic London trails with their ground truth, and planted crimes.
- :mod:`vru.tagging.crimes`: crime batches in the MoJ crime-matching contract.
- :mod:`vru.tagging.matching`, :mod:`vru.tagging.zones`: crime matching and exclusion-zone breaches.
"""
