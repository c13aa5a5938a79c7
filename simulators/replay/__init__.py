"""Replay stored or recorded readings through the detectors (and the dispatch loop) on simulated time."""
