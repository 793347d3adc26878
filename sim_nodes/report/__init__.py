"""Simulator: report."""
