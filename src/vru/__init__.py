"""VRU platform: an open analysis platform for violence reduction units.

Layers (nothing in a lower layer imports a higher one):

- ``vru.sources``   read real published formats, validate them, return canonical DataFrames
- ``vru.geography`` one geography: boroughs, LSOA/ward levels, 2011->2021 best fit, neighbours
- ``vru.taxonomy``  one harmonised crime taxonomy for every source vintage
- ``vru.warehouse`` the DuckDB warehouse of canonical tables, and the Ibis record-level engine
- ``vru.outputs``   report (and later dashboard/API), charts and maps drawn in one place
- ``vru.cli``       the ``vru`` command, a thin shell over the Python API
"""

# The only place the version is written: pyproject.toml reads it, CHANGELOG.md names it.
__version__ = "0.1.0"
