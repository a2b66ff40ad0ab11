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
