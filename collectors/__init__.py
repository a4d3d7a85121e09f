"""Talking to devices: wire protocols, per-make drivers, identification, scan, the snapshot."""
