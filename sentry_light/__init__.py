"""The light sentry that runs on each CPU/GPU rig under its own snmpd."""
