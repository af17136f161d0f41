"""Static files in production: WhiteNoise's compressed manifest storage, with ES module imports
rewritten too.

Django's manifest storage gives every file a content-hashed name and rewrites the references inside
stylesheets, so a browser may keep a file for ever and still never run an old copy after an upgrade.
It rewrites ``import ... from "./x.js";`` only when ``support_js_module_import_aggregation`` is on, and
only in ``*.js`` files; the platform's modules are ``*.mjs`` (``vru/init.mjs`` imports GOV.UK
Frontend). This storage turns it on and applies the same patterns to ``*.mjs``, so the imported file is
fetched by its hashed name as well (``tests/web/test_deployment.py`` checks every asset).
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True

    def __init__(self, *args, **kwargs):
        pattern, rules = self._js_module_import_aggregation_patterns
        self.patterns = (*self.patterns, ("*.mjs", rules))
        super().__init__(*args, **kwargs)
