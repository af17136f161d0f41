"""GPS tagging on the platform: wearers, orders, zones, crime batches, matches, breaches.

The analysis layer (``vru.tagging``) does the work: batch checks, versions, matching, breaches, the
positions store. This app holds the records, the roles and the pages (docs/web-tagging.md).
"""
