"""UDP radio bridge to a real OBU/RSU: datagrams ↔ V2xFrame, rate limits, congestion control."""
