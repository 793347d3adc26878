"""Simulator: sensors."""
