#!/usr/bin/env bash
# Rebuilds the vendored GOV.UK Frontend assets in src/vru/web/core/static/govuk/ (a developer task,
# not part of install: the built files are committed so the platform needs no Node.js and no network).
# Needs Node.js and npm. The GDS Transport font is licensed for GOV.UK services only, so the Sass is
# compiled with a system font stack (vru-govuk.scss) and no font or crown image is shipped.
set -euo pipefail
VERSION=5.14.0
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../src/vru/web/core/static/govuk"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --silent "govuk-frontend@$VERSION" sass
cp "$here/vru-govuk.scss" .
npx sass --no-source-map --style=compressed --quiet-deps --silence-deprecation=import \
  vru-govuk.scss "$out/govuk-frontend.min.css"
# The footer's crest (Crown copyright, not shipped) is still referenced by the CSS: drop those rules,
# or collectstatic's manifest storage stops with MissingFileError (see static/govuk/SOURCE.md).
python3 "$here/strip_assets.py" "$out/govuk-frontend.min.css"
sed 's|//# sourceMappingURL=govuk-frontend.min.js.map||' \
  node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js > "$out/govuk-frontend.min.js"
echo "GOV.UK Frontend $VERSION written to $out"
