"""Simulator: world."""
