"""P5, memory over many fits: RSS growth between fit 10 and fit N of the P2 job (iris, (16,), 2 epochs, fit+predict).

Each system runs in its own subprocess, all in this run: skdl's MLPClassifierTF
and KerasClassifier (N=500 by default), Keras build+compile+fit+predict without
``clear_session`` and scikeras (N=150, ``shared/bench/anchor_memory.py``),
scikit-learn and skorch (N=500) as flat references.  RSS is read with psutil
after ``gc.collect()`` at fit 10, midway to fit N and at fit N.  Goals: skdl
under +2 MiB over 500 fits; its KerasClassifier (issue 13) at or under +20 MiB.

    PYTHONPATH=. python benchmarks/p5_memory.py [--quick] [--fits-skdl 500] [--fits-keras 150]
"""

import argparse
import time

import _common as C


def track(fit_predict, n):
    """RSS (MiB) after fit ``start``, halfway from there to ``n``, and ``n``; mean ms per fit."""
    if C.missing("psutil"):
        return C.not_installed("psutil")
    start = min(10, n // 2)
    mid = (start + n) // 2
    marks = {}
    t = time.perf_counter()
    for i in range(n):
        fit_predict(i)
        if i + 1 in (start, mid, n):
            marks[i + 1] = C.rss_mib()
    return {"fits": n, "start": start, "mid": mid, "rss": {str(k): v for k, v in marks.items()},
            "ms_per_fit": (time.perf_counter() - t) / n * 1e3}


def tiny_row(system, fits):
    """One tiny-iris system's fit+predict (2 epochs) repeated ``args.<fits>`` times, tracked."""
    return C.tiny_row(system, lambda fit_predict, args: track(fit_predict, getattr(args, fits)),
                      epochs=2)


ROWS = {
    "skdl": tiny_row("skdl", "fits_skdl"),
    "keras": tiny_row("keras", "fits_keras"),
    "skdl_wrapper": tiny_row("skdl_wrapper", "fits_skdl"),
    "scikeras": tiny_row("scikeras", "fits_keras"),
    "skorch": tiny_row("skorch", "fits_skdl"),
    "sklearn": tiny_row("sklearn", "fits_skdl"),
}
LABELS = {**C.TINY_LABELS, "keras": "keras, no `clear_session`"}
OPTIONAL = {"scikeras", "skorch"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    C.add_common_args(parser)
    parser.add_argument("--fits-skdl", type=int, default=None,
                        help="fits for skdl (both rows), sklearn and skorch (default 500; 40 with --quick)")
    parser.add_argument("--fits-keras", type=int, default=None,
                        help="fits for keras and scikeras (default 150; 20 with --quick)")
    args = C.quick_defaults(parser.parse_args(), fits_skdl=(40, 500), fits_keras=(20, 150))
    args.fits_skdl, args.fits_keras = max(args.fits_skdl, 4), max(args.fits_keras, 4)
    if args.row:
        return C.run_child(ROWS, args)

    results = C.run_all(__file__, parser, args, ROWS, OPTIONAL)
    rows, json_rows = [], []
    for name, r in results.items():
        if r.get("status") != "ok":
            rows.append([LABELS[name], C.status_text(r), "-", "-", "-", "-", "-", ""])
            json_rows.append(C.report_row(C.plain(LABELS[name]), None, "MiB", notes=C.status_text(r)))
            continue
        n, s, m = r["fits"], r["start"], r["mid"]
        rss = r["rss"]
        a, mid, b = rss[str(s)], rss[str(m)], rss[str(n)]
        growth = b - a
        rows.append([LABELS[name], f"{growth:+.1f} MiB", f"{growth * 1024 / max(n - s, 1):+.1f} KiB",
                     f"fit {s} -> {n}", f"{a:.0f} / {mid:.0f} / {b:.0f} MiB", f"{r['ms_per_fit']:.1f} ms",
                     f"{(mid - a):+.1f} / {(b - mid):+.1f} MiB", r.get("note", "")])
        json_rows.append(C.report_row(
            C.plain(LABELS[name]), growth, "MiB", None, r.get("note", ""),
            **{"per fit KiB": growth * 1024 / max(n - s, 1), "between": f"fit {s} -> {n}",
               "RSS at start / midway / N MiB": f"{a:.0f} / {mid:.0f} / {b:.0f}",
               "ms/fit (all fits)": r["ms_per_fit"],
               "growth 1st half / 2nd half MiB": f"{(mid - a):+.1f} / {(b - mid):+.1f}"}))
    table = C.markdown_table(["system", "RSS growth", "per fit", "between", "RSS at start / midway / N",
                              "ms/fit (all fits)", "growth 1st half / 2nd half", "note"], rows)
    footer = ["Goal: skdl flat, under +2 MiB between fit 10 and fit 500; skdl's KerasClassifier at or "
              "under +20 MiB (issue 13)."]
    wrapper = results.get("skdl_wrapper", {})
    if wrapper.get("status") == "ok":
        g = wrapper["rss"][str(wrapper["fits"])] - wrapper["rss"][str(wrapper["start"])]
        footer.append(f"skdl KerasClassifier: {g:+.1f} MiB over {wrapper['fits'] - wrapper['start']} "
                      f"fits ({'meets' if g <= 20 else 'misses'} +20 MiB).")
    sk = results["skdl"]
    if sk.get("status") == "ok":
        g = sk["rss"][str(sk["fits"])] - sk["rss"][str(sk["start"])]
        footer.append(f"skdl: {g:+.1f} MiB over {sk['fits'] - sk['start']} fits "
                      f"({'meets' if g < 2 else 'misses'} the goal"
                      + (")." if sk["fits"] >= 500 else "; fewer than 500 fits, so only indicative)."))
    extra = [f"P5: iris, hidden (16,), 2 epochs, fit+predict repeated: skdl (both rows)/sklearn/skorch "
             f"{args.fits_skdl} fits, "
             f"keras/scikeras {args.fits_keras} fits; RSS via psutil after gc.collect(); each system in its own "
             "subprocess"]
    # The goal is absolute (MiB), not a ratio: the rows carry no ratio and the figure skips P5.
    C.finish_report("P5 memory over many fits", args, table, extra, footer, workload="P5",
                    json_rows=json_rows, value_label="RSS growth", ratio_label="ratio",
                    reference="none (the goal is an absolute growth)",
                    headline=C.plain(LABELS["skdl"]))


if __name__ == "__main__":
    main()
