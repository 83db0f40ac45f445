"""P3, throughput at MNIST scale on CPU: seconds per epoch against the FLOP floor measured in this run.

The course network 784-1024-512-512-512-10 (tanh, softmax), Adam(1e-4), batch
128, on a synthetic 60000 x 784, 10-class set (``shared/bench/anchor_big.py``).
Rows, each in its own subprocess: Keras ``fit``, scikit-learn's MLPClassifier,
skdl's MLPClassifierTF, the fused ``tf.function`` probe of
``shared/bench/floor_tf_big.py``, a PyTorch loop when torch is installed.  The
floor is the epoch's FLOPs (6 x weights x samples) at the best float32 matmul
rate over a few shapes and repetitions, measured before and after the rows
(the better of the two counts).  Goal: skdl at or under 1.25x the floor.

skdl's s/epoch is the mean of the epochs after the first (the first one traces
and compiles), from a Keras callback's timestamps; it trains ``--epochs + 1``.
Keras ``fit`` is compiled by a short fit first, then timed over ``--epochs``.

    PYTHONPATH=. python benchmarks/p3_cpu_throughput.py [--quick] [--epochs 2] [--samples 60000]
"""

import argparse
import time

import _common as C

D, NCLS = 784, 10
GOAL_RATIO = 1.25  # skdl's s/epoch over the FLOP floor's


def row_floor(args):
    backend = "tensorflow" if C.installed("tensorflow") else "numpy"
    shapes = C.FLOOR_SHAPES[:3] if args.quick else C.FLOOR_SHAPES
    gflops, shape, per_shape = C.matmul_peak_gflops(shapes, repeats=2 if args.quick else 3,
                                                    seconds=0.1 if args.quick else 0.5, backend=backend)
    return {"gflops": gflops, "shape": list(shape), "backend": backend,
            "per_shape": {"x".join(map(str, s)): round(g, 1) for s, g in per_shape.items()}}


def row_keras(args):
    import keras
    X, y = C.synthetic_mnist(args.samples)
    m = keras.Sequential([keras.Input((D,))] + [keras.layers.Dense(h, activation="tanh") for h in C.BIG_HIDDEN]
                         + [keras.layers.Dense(NCLS, activation="softmax")])
    m.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(1e-4), metrics=["accuracy"])
    m.fit(X[:10 * args.batch_size], y[:10 * args.batch_size], batch_size=args.batch_size, epochs=1, verbose=0)
    t = time.perf_counter()
    h = m.fit(X, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0)
    return {"s_per_epoch": (time.perf_counter() - t) / args.epochs, "train_acc": h.history["accuracy"][-1],
            "note": f"keras {keras.__version__} ({keras.backend.backend()}); train acc from fit's last epoch"}


def row_sklearn(args):
    from sklearn.neural_network import MLPClassifier
    X, y = C.synthetic_mnist(args.samples)
    clf = MLPClassifier(C.BIG_HIDDEN, activation="tanh", batch_size=args.batch_size, learning_rate_init=1e-4,
                        max_iter=args.epochs, random_state=0)
    t = time.perf_counter()
    clf.fit(X, y)
    return {"s_per_epoch": (time.perf_counter() - t) / args.epochs, "train_acc": float(clf.score(X, y))}


def row_skdl(args):
    from skdl import MLPClassifierTF
    X, y = C.synthetic_mnist(args.samples)
    clock = C.epoch_clock_callback()
    clf = MLPClassifierTF(hidden_layer_sizes=C.BIG_HIDDEN, activation="tanh", solver="adam", learning_rate_init=1e-4,
                          batch_size=args.batch_size, max_iter=args.epochs + 1, shuffle=True, tol=0,
                          n_iter_no_change=10**6, random_state=0, callbacks=[clock])
    t = time.perf_counter()
    clf.fit(X, y)
    total = time.perf_counter() - t
    d = clock.durations()
    return {"s_per_epoch": clock.per_epoch(skip_first=True), "train_acc": float(clf.score(X, y)),
            "note": f"first epoch (traces) {d[0]:.2f} s, whole fit {total:.1f} s for {len(d)} epochs"}


def row_probe(args):
    """shared/bench/floor_tf_big.py: one tf.function per epoch, while_loop over minibatches, no XLA."""
    if C.missing("tensorflow"):
        return C.not_installed("tensorflow")
    import keras
    import tensorflow as tf
    if keras.backend.backend() != "tensorflow":
        return {"status": "skipped", "reason": "skipped: needs KERAS_BACKEND=tensorflow"}
    X, y = C.synthetic_mnist(args.samples)
    N, BS = len(X), args.batch_size
    m = keras.Sequential([keras.Input((D,))] + [keras.layers.Dense(h, activation="tanh") for h in C.BIG_HIDDEN]
                         + [keras.layers.Dense(NCLS)])
    opt = keras.optimizers.Adam(1e-4)
    opt.build(m.trainable_variables)
    lossf = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    Xt, yt = tf.constant(X), tf.constant(y)

    @tf.function
    def epoch(seed):
        nb = N // BS
        perm = tf.random.experimental.stateless_shuffle(tf.range(N), seed=seed)

        def body(i, tot):
            idx = perm[i * BS:(i + 1) * BS]
            xb, yb = tf.gather(Xt, idx), tf.gather(yt, idx)
            with tf.GradientTape() as tape:
                l = lossf(yb, m(xb, training=True))
            opt.apply(tape.gradient(l, m.trainable_variables), m.trainable_variables)
            return i + 1, tot + l
        _, tot = tf.while_loop(lambda i, tot: i < nb, body, (tf.constant(0), tf.constant(0.0)))
        return tot / tf.cast(nb, tf.float32)

    t = time.perf_counter()
    epoch(tf.constant([0, 0]))
    first = time.perf_counter() - t
    t = time.perf_counter()
    for e in range(args.epochs):
        epoch(tf.constant([1, e])).numpy()
    per = (time.perf_counter() - t) / args.epochs
    acc = float((tf.argmax(m(Xt), 1).numpy() == y).mean())
    return {"s_per_epoch": per, "train_acc": acc, "note": f"first epoch (traces) {first:.2f} s; drops the last partial batch"}


def row_torch(args):
    if C.missing("torch"):
        return C.not_installed("torch")
    import torch
    import torch.nn as nn
    torch.manual_seed(0)
    X, y = C.synthetic_mnist(args.samples)
    Xt, yt = torch.tensor(X), torch.tensor(y).long()
    N, BS = len(X), args.batch_size
    layers, a = [], D
    for h in C.BIG_HIDDEN:
        layers += [nn.Linear(a, h), nn.Tanh()]
        a = h
    net = nn.Sequential(*layers, nn.Linear(a, NCLS))
    opt = torch.optim.Adam(net.parameters(), 1e-4)
    lossf = nn.CrossEntropyLoss()

    def epoch():
        perm = torch.randperm(N)
        for i in range(0, N, BS):
            idx = perm[i:i + BS]
            opt.zero_grad()
            lossf(net(Xt[idx]), yt[idx]).backward()
            opt.step()

    t = time.perf_counter()
    for _ in range(args.epochs):
        epoch()
    per = (time.perf_counter() - t) / args.epochs
    with torch.no_grad():
        acc = float((net(Xt).argmax(1) == yt).float().mean())
    return {"s_per_epoch": per, "train_acc": acc,
            "note": f"torch {torch.__version__}, {torch.get_num_threads()} threads, hand-written loop"}


ROWS = {
    "floor": row_floor,
    "keras": row_keras,
    "sklearn": row_sklearn,
    "skdl": row_skdl,
    "probe": row_probe,
    "torch": row_torch,
}
LABELS = {
    "keras": "keras `fit`",
    "sklearn": "sklearn MLPClassifier",
    "skdl": "**skdl MLPClassifierTF**",
    "probe": "probe: fused tf.function epoch (`floor_tf_big.py`)",
    "torch": "PyTorch CPU, hand-written loop",
}
OPTIONAL = {"torch"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    C.add_common_args(parser)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per system (skdl trains one more)")
    parser.add_argument("--samples", type=int, default=None, help="training samples (default 60000; 2048 with --quick)")
    parser.add_argument("--batch-size", type=int, default=128)
    args = C.quick_defaults(parser.parse_args(), samples=(2048, 60000))
    if args.row:
        return C.run_child(ROWS, args)

    results = C.run_all(__file__, parser, args, ROWS, OPTIONAL)
    floors = [results["floor"]]
    if results["floor"].get("status") == "ok":
        floors.append(C.run_row(__file__, "floor", C.child_argv(args, parser), timeout=args.row_timeout))
    floors = [f for f in floors if f.get("status") == "ok"]
    flop = C.flop_per_epoch(args.samples)
    rows, json_rows, floor_s, floor = [], [], None, None
    if floors:
        floor = max(floors, key=lambda f: f["gflops"])
        floor_s = flop / (floor["gflops"] * 1e9)
        reads = " and ".join(f"{f['gflops']:.1f}" for f in floors)
        note = (f"{flop / 1e9:.1f} GFLOP/epoch at {floor['gflops']:.1f} GFLOP/s ({floor['backend']} float32 matmul "
                f"{'x'.join(map(str, floor['shape']))}; best of {len(floor['per_shape'])} shapes, read {reads} "
                "before/after)")
        rows.append(["FLOP floor", f"{floor_s:.3g} s", "1.00x", "-", note])
        json_rows.append(C.report_row("FLOP floor", floor_s, "s", 1.0, note, **{"train acc": None}))
    else:
        rows.append(["FLOP floor", C.status_text(results["floor"]), "-", "-", ""])
        json_rows.append(C.report_row("FLOP floor", None, "s", notes=C.status_text(results["floor"])))
    for name, r in results.items():
        if name == "floor":
            continue
        if r.get("status") != "ok":
            rows.append([LABELS[name], C.status_text(r), "-", "-", ""])
            json_rows.append(C.report_row(C.plain(LABELS[name]), None, "s", notes=C.status_text(r)))
            continue
        rows.append([LABELS[name], f"{r['s_per_epoch']:.3g} s", C.ratio(r["s_per_epoch"], floor_s),
                     f"{r['train_acc']:.4f}", r.get("note", "")])
        json_rows.append(C.report_row(C.plain(LABELS[name]), r["s_per_epoch"], "s",
                                      C.row_ratio(r["s_per_epoch"], floor_s), r.get("note", ""),
                                      **{"train acc": r["train_acc"]}))
    table = C.markdown_table(["system", "s/epoch", "ratio to floor", "train acc", "note"], rows)
    footer = [f"Goal: skdl at or under {GOAL_RATIO:.2f}x the floor measured in the same run (faster than raw "
              "Keras `fit`)."]
    sk = results["skdl"]
    if sk.get("status") == "ok" and floor_s:
        r = sk["s_per_epoch"] / floor_s
        kr = results["keras"].get("s_per_epoch")
        footer.append(f"skdl: {r:.2f}x the floor ({'meets' if r <= GOAL_RATIO else 'misses'} the goal)"
                      + (f"; {kr / sk['s_per_epoch']:.2f}x faster than Keras `fit`." if kr else "."))
    extra = [f"P3: synthetic {args.samples} x {D}, {NCLS} classes; 784-1024-512-512-512-10 tanh, Adam(1e-4), "
             f"batch {args.batch_size}; {args.epochs} timed epochs per system; each system in its own subprocess"]
    C.finish_report("P3 CPU throughput (MNIST-scale network)", args, table, extra, footer,
                    workload="P3", json_rows=json_rows, value_label="s/epoch",
                    ratio_label="ratio to floor", reference="FLOP floor",
                    headline=C.plain(LABELS["skdl"]), goal=GOAL_RATIO)


if __name__ == "__main__":
    main()
