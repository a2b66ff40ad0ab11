import time

from cpfnet.timing import Timings


def test_timings_accumulate_per_name_in_first_run_order():
    timings = Timings()
    with timings("b"):
        time.sleep(0.01)
    with timings("a"):
        pass
    with timings("b"):
        time.sleep(0.01)
    assert list(timings.seconds) == ["b", "a"]
    assert timings.seconds["b"] >= 0.02 > timings.seconds["a"]


def test_timings_count_a_block_that_raises():
    timings = Timings()
    try:
        with timings("x"):
            raise ValueError
    except ValueError:
        pass
    assert "x" in timings.seconds


def test_iterate_counts_the_producer_not_the_consumer(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])

    def frames():
        for i in range(3):
            clock[0] += 1.0  # producing a frame takes 1 s
            yield i

    timings = Timings()
    seen = []
    for item in timings.iterate(frames(), "transfer"):
        clock[0] += 10.0  # the caller's work on it: not the producer's time
        seen.append(item)
    assert seen == [0, 1, 2] and timings.seconds == {"transfer": 3.0}
