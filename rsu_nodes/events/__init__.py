"""Event detection: tracked participants on the lane map → road events (RSI)."""
