"""The MyEnds programme register: areas, consortia, grants, interventions and roll-ups."""
