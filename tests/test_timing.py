import scanwise.timing as timing


def test_best_times_interleaves_rounds_and_keeps_each_best(monkeypatch):
    calls = []
    clock = [0.0]
    # a fake clock: a call of "a" lasts 1, of "b" 2, and the first timed call of "b" is
    # slowed by a burst of 5 (the case interleaving is for)
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])

    def make(name, cost):
        def fn():
            calls.append(name)
            clock[0] += cost + (5 if name == "b" and calls.count("b") == 2 else 0)
        return fn

    got = timing.best_times([make("a", 1), make("b", 2)], repeat=[2, 1], rounds=3)
    # one untimed call of each, then three rounds of (a, a, b)
    assert calls == ["a", "b"] + ["a", "a", "b"] * 3
    assert got == [1.0, 2.0]
