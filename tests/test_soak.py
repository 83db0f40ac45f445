"""Many fits in one process: memory stays flat, threads agree with sequential runs."""

import threading

import numpy as np
import pytest

from skdl import MLPClassifierTF

psutil = pytest.importorskip("psutil")


def test_300_sequential_fits_keep_memory_flat(iris):
    X, Y = iris
    process = psutil.Process()
    rss = {}
    for k in range(300):
        MLPClassifierTF((16,), max_iter=2, random_state=k).fit(X, Y).predict(X)
        if k + 1 in (20, 300):
            rss[k + 1] = process.memory_info().rss / 2**20
    # A fresh Keras model per fit grows about 4 MiB a fit (benchmarks P5); skdl reuses one program.
    assert rss[300] - rss[20] < 20


def test_20_fits_in_4_threads_equal_the_sequential_results(iris, small_classifier):
    X, Y = iris
    seeds = range(20)
    sequential = {s: small_classifier(max_iter=3, random_state=s).fit(X, Y).predict_proba(X)
                  for s in seeds}
    threaded, errors = {}, []

    def work(chunk):
        try:
            for s in chunk:
                threaded[s] = small_classifier(max_iter=3, random_state=s).fit(X, Y).predict_proba(X)
        except Exception as error:  # surfaced below, with the thread's traceback lost
            errors.append(error)

    threads = [threading.Thread(target=work, args=(list(seeds)[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for s in seeds:
        np.testing.assert_array_equal(threaded[s], sequential[s])
