"""Reliability: faults, bad input and safety, proven with injected failures."""
