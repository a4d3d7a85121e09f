"""Benchmarks of the collectors against simfarm, next to pyasic and asic-rs (``make bench``)."""
