"""Benchmarks behind `lotlink bench …`; their figures and commands go in the README."""
