"""Dashboard pages built from the analysis (issue 6): the same section code as the needs assessment."""
