"""MAP: intersection geometry (HD map export) → IntersectionMap messages for MapData."""
