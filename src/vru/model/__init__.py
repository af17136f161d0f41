"""The objects the analysis passes around, each validated once, in one place.

- :class:`Panel` (:mod:`vru.model.panel`): units x periods of one measure, with cohorts
  (treatment starts) when there are some, and its provenance. Built with
  :meth:`Panel.from_long`, :meth:`Panel.from_wide` or :meth:`Panel.from_warehouse`.
- :class:`~vru.model.harm.HarmTables` and :class:`~vru.model.harm.ChiTable` (:mod:`vru.model.harm`): the
  harm schemes' tables as data, loaded by :mod:`vru.data.harm_tables` and passed to :mod:`vru.analysis.harm`
  (which reads no file).
"""

from vru.model.panel import Panel, PanelError

__all__ = ["Panel", "PanelError"]

# Areas and spatial weights (geopandas and libpysal: imported when first asked for).
#
# - :class:`AreaSet` (:mod:`vru.model.areas`): codes, names, level, vintage, parent and geometry
#   in British National Grid; :meth:`AreaSet.from_geodataframe`, :meth:`AreaSet.from_warehouse`.
# - :class:`SpatialWeights` (:mod:`vru.model.weights`): a libpysal ``Graph`` with its island
#   policy and report; :meth:`SpatialWeights.from_areas`, ``from_geodataframe``, ``from_graph``.
_LAZY = {"AreaSet": "vru.model.areas", "AreaError": "vru.model.areas",
         "SpatialWeights": "vru.model.weights", "WeightsReport": "vru.model.weights"}
__all__ += list(_LAZY)


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vru.model' has no attribute {name!r}")
