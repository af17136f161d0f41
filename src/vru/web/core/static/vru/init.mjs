// Starts the GOV.UK Frontend components (skip link, service navigation, error summary and the rest).
// End each import with a semicolon: Django's manifest storage rewrites only such imports to hashed names.
import { initAll } from '../govuk/govuk-frontend.min.js';
initAll();
