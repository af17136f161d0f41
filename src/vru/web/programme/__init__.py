"""The MyEnds programme register (issue 6): areas, consortia, grants, interventions and roll-ups."""
