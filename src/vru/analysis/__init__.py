"""Analysis: pure functions on canonical DataFrames (no I/O, no warehouse, no plotting)."""
