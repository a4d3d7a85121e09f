"""The web UI and JSON API (Flask), served by ``minerwatch web`` beside the commander.

- ``app.py``: ``create_app(config)``, the factory; ``security.py``: headers, cookies, error pages.
- ``auth/``: login, logout, who is asking (session or token) and the roles; ``users.py``: users
  and API tokens; ``audit.py``: the audit log; ``files.py``: what the web keeps under
  ``<state_dir>/web/``.
- ``api/``: ``/api/v1`` and its OpenAPI document; ``health.py``: ``/healthz``.
- ``farm_view.py``: the commander's files, read for the views; ``cli.py``: the commands.
"""

from web.app import create_app

__all__ = ["create_app"]
