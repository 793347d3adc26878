"""Simulator: scenarios."""
