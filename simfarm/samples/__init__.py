"""Records built by hand, every value known, for tests and benchmarks that need one without a
running farm: a farm document as the commander writes it for snmpd, a rig snapshot as a sentry
reports it."""
