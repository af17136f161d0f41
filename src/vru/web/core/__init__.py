"""Shared look and access rules of the web platform: the GOV.UK Frontend base template (served
offline from this app's static files), GOV.UK-styled form rendering with errors next to each field,
the navigation, and the permission helpers every app's views use (``vru.web.core.access``)."""
