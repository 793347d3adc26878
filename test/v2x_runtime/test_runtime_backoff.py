"""Back-off shared by the GNSS link, the NTRIP session and the MQTT uplink."""

from __future__ import annotations

from v2x_runtime.backoff import Backoff


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next_delay_s() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay_s() == 0.5


def test_cap_below_the_first_delay_still_starts_at_the_first() -> None:
    backoff = Backoff(2.0, 1.0, factor=3.0)
    assert [backoff.next_delay_s() for _ in range(3)] == [2.0, 1.0, 1.0]
