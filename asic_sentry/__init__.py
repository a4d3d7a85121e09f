"""The ASIC sentry: polls one site's miners on site with the commander's collectors, keeps every cycle
on disk (``buffer.py``) and serves them to the commander over mutual TLS."""
