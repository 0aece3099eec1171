"""Helpers shared by test packages: real processes, private servers, leftover checks."""
