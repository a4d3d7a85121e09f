"""The web UI and JSON API (Flask)."""
