"""Dashboard pages built from the analysis: the same section code as the needs assessment."""
