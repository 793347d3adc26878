"""Closed-loop simulator: world, sensor and radio models, scenario library, run report."""
