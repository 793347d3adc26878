"""Simulator: channel."""
