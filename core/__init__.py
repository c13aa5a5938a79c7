"""Shared vocabulary with no I/O: kinds, ReadingBatch, city model, alerts, severities, clock, settings."""
