"""Emulated mining farm on loopback, for tests, the demo and benchmarks."""
