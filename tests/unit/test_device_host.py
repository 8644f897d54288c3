"""The device host: unknown kinds refused, failures retried with backoff, health changes posted."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from suite.device_host import DeviceConfig, DeviceError, DeviceHost, device_configs
from suite.errors import ConfigError
from suite.events import DeviceHealth


class Flaky:
    """A device whose start fails ``failures`` times, then runs until told it lost the line."""

    def __init__(self, config: DeviceConfig, post, failures: int) -> None:
        self.device_id = config.id
        self.failures = failures
        self.starts = 0
        self.connected = False
        self.lock = threading.Lock()

    def start(self) -> None:
        with self.lock:
            self.starts += 1
            if self.starts <= self.failures:
                raise DeviceError("the reader is unplugged")
            self.connected = True

    def stop(self) -> None:
        self.connected = False

    def health(self) -> tuple[bool, str]:
        return (True, "") if self.connected else (False, "connection lost")

    def alive(self) -> bool:
        return self.connected


def wait_for(events: queue.Queue, predicate, timeout: float = 5.0) -> DeviceHealth:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = events.get(timeout=0.1)
        except queue.Empty:
            continue
        if predicate(event):
            return event
    raise AssertionError("expected event not posted")


def test_unknown_kind_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="unknown device kind 'laser'"):
        device_configs({"door": {"kind": "laser"}}, {"pcsc-reader": object()})
    with pytest.raises(ConfigError, match=r"\[devices.door\] kind"):
        device_configs({"door": {"port": "/dev/ttyS0"}}, {"pcsc-reader": object()})
    (config,) = device_configs({"door": {"kind": "pcsc-reader", "reader": "ACR122U"}}, {"pcsc-reader": object()})
    assert config == DeviceConfig("door", "pcsc-reader", {"reader": "ACR122U"})


def test_failed_start_is_retried_and_health_follows() -> None:
    events: queue.Queue = queue.Queue()
    made: list[Flaky] = []

    def factory(config: DeviceConfig, post) -> Flaky:
        made.append(Flaky(config, post, failures=2))
        return made[-1]

    host = DeviceHost([DeviceConfig("reader-1", "flaky")], {"flaky": factory}, events.put, poll_interval=0.05)
    host.start()
    try:
        down = wait_for(events, lambda e: isinstance(e, DeviceHealth) and not e.ok)
        assert down.device_id == "reader-1" and down.message == "the reader is unplugged"
        up = wait_for(events, lambda e: isinstance(e, DeviceHealth) and e.ok)
        assert up.device_id == "reader-1"
        assert made[0].starts == 3  # two failures (0.5 s, then 1 s of backoff), then up
        made[0].connected = False  # the line drops: reported, then reconnected
        assert wait_for(events, lambda e: isinstance(e, DeviceHealth) and not e.ok).message == "connection lost"
        assert wait_for(events, lambda e: isinstance(e, DeviceHealth) and e.ok).ok
        assert host.health() == {"reader-1": (True, "")}
    finally:
        host.stop()
    assert not made[0].connected


def test_tap_feedback_reaches_the_reader_and_never_raises() -> None:
    signals: list[bool] = []

    class Reader(Flaky):
        def feedback(self, good: bool) -> bool:
            if not self.connected:
                raise DeviceError("no card")
            signals.append(good)
            return True

    host = DeviceHost([DeviceConfig("reader-1", "r")], {"r": lambda c, p: Reader(c, p, failures=0)}, lambda e: None)
    host.start()
    try:
        assert host.tap_feedback("reader-1", good=True) is True
        assert host.tap_feedback("reader-1", good=False) is True
        assert signals == [True, False]
        assert host.tap_feedback("printer-9", good=True) is False
        host.device("reader-1").connected = False  # type: ignore[attr-defined]
        assert host.tap_feedback("reader-1", good=True) is False
    finally:
        host.stop()
