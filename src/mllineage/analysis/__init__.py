"""Shaping what the store reads: walks and impact, governance reports, drift (pure, no I/O)."""
