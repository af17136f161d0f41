"""The objects the analysis passes around, each validated once, in one place.

- :class:`Panel` (:mod:`vru.model.panel`): units x periods of one measure, with cohorts
  (treatment starts) when there are some, and its provenance. Built with
  :meth:`Panel.from_long`, :meth:`Panel.from_wide` or :meth:`Panel.from_warehouse`.
"""

from vru.model.panel import Panel, PanelError

__all__ = ["Panel", "PanelError"]
