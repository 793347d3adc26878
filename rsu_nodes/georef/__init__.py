"""Georeferencing: sensor-frame participants → map frame + geodetic (WGS84/CGCS2000)."""
