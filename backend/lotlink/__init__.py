"""Lotlink: product traceability whose every fact anyone can check against the chain."""

__version__ = "0.1.0"
