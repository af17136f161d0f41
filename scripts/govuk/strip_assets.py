"""Removes from the compiled GOV.UK Frontend CSS every rule that references an asset file.

The platform ships no GOV.UK Frontend asset (no GDS Transport font, no crown or crest image: see
src/vru/web/core/static/govuk/SOURCE.md), but the compiled CSS still references the crest
(``govuk-crest.svg``, the footer's ``.govuk-footer__copyright-logo::before``). Django's
``ManifestStaticFilesStorage`` rewrites every ``url(...)`` in a CSS file to the hashed name of the
file it points at and stops with ``MissingFileError`` when that file is absent, so ``collectstatic``
fails in production. This drops each top-level rule or at-rule block (``@supports``, ``@media``) whose
text references ``/static/govuk/assets/``, and fails if any ``url(...)`` other than a ``data:`` URI is
left. The platform's templates use no element these rules style.

    python scripts/govuk/strip_assets.py govuk-frontend.min.css   # rewrites the file in place
"""

from __future__ import annotations

import re
import sys

ASSETS = "/static/govuk/assets/"


def top_level_blocks(css: str) -> list[str]:
    """Splits a stylesheet into its top-level statements (each ``prelude{...}`` or ``@x ...;``)."""
    out, depth, start, i, quote = [], 0, 0, 0, ""
    while i < len(css):
        c = css[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "/" and css.startswith("/*", i):
            i = css.index("*/", i + 2) + 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                out.append(css[start:i + 1])
                start = i + 1
        elif c == ";" and depth == 0:
            out.append(css[start:i + 1])
            start = i + 1
        i += 1
    if depth or quote:
        raise ValueError("unbalanced braces or quotes in the stylesheet")
    out.append(css[start:])
    return out


def strip(css: str) -> tuple[str, list[str]]:
    """The stylesheet without the statements that reference ASSETS, and those statements."""
    kept, dropped = [], []
    for block in top_level_blocks(css):
        (dropped if ASSETS in block else kept).append(block)
    result = "".join(kept)
    left = [u for u in re.findall(r"url\(\s*['\"]?([^'\")]*)", result) if not u.startswith("data:")]
    if left:
        raise ValueError(f"url() references left in the stylesheet: {left}")
    return result, dropped


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        css = f.read()
    result, dropped = strip(css)
    with open(path, "w", encoding="utf-8") as f:
        f.write(result)
    for block in dropped:
        print(f"removed: {block[:100]}{'...' if len(block) > 100 else ''}")


if __name__ == "__main__":
    main(sys.argv[1])
