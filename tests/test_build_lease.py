"""The live build is replaced under the questions reading it: the old one is closed once the
last of them is done, and never while one still reads it."""

from __future__ import annotations

import threading

from qa.build_lease import Leases


def test_a_replaced_build_nothing_reads_is_closed_at_once() -> None:
    closed: list[str] = []
    builds = Leases("first", closed.append)
    builds.replace("second")
    assert closed == ["first"]
    assert builds.current == "second"
    with builds.lease() as build:
        assert build == "second"
    assert closed == ["first"]  # the live one stays open


def test_a_build_replaced_while_read_is_closed_when_the_last_reader_is_done() -> None:
    closed: list[str] = []
    builds = Leases("first", closed.append)
    reading = threading.Barrier(3)  # both questions hold the first build
    finish = threading.Event()
    seen: list[str] = []

    def question() -> None:
        with builds.lease() as build:
            reading.wait(10)
            finish.wait(10)
            seen.append(build)

    readers = [threading.Thread(target=question) for _ in range(2)]
    for reader in readers:
        reader.start()
    reading.wait(10)
    with builds.lease() as third_reader:
        builds.replace("second")
        assert closed == []
        with builds.lease() as later:
            assert later == "second"  # a new question reads the new build
    assert third_reader == "first" and closed == []  # two questions still read the old one
    finish.set()
    for reader in readers:
        reader.join(10)
    assert seen == ["first", "first"]
    assert closed == ["first"]


def test_a_failure_to_close_the_old_build_does_not_reach_the_caller() -> None:
    def fail(_build: str) -> None:
        raise OSError("gone")

    builds = Leases("first", fail)
    builds.replace("second")
    assert builds.current == "second"
