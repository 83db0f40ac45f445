"""P4, throughput on a GPU with the Keras 3 JAX backend: ms per epoch at batch 128 and 1024.

The course network 784-1024-512-512-512-10 (tanh), Adam(1e-4), on the synthetic
60000 x 784, 10-class set of P3.  All in one process (JAX; TensorFlow is never
imported, so this runs on a GPU machine that has JAX and no TensorFlow):

1. a throw-away warm-up configuration (the pure-JAX probe at batch 256): on the
   lent GPUs the first configuration timed in a process runs ~800 ms/epoch
   whatever its size (benchmarks.md, P4);
2. the float32 and TF32 matmul peak, and the FLOP floor per epoch from each;
3. at each batch size: Keras ``fit`` (JAX backend), Keras ``fit`` with
   ``steps_per_execution=32``, skdl's MLPClassifierTF, the pure-JAX + optax
   probe of ``shared/bench/gpu_floor_jax.py`` (whole epoch in one jitted
   ``lax.scan``, data on the device, TF32), and a hand-written PyTorch loop when
   torch with CUDA is installed.

Keras and skdl train ``--epochs + 1`` epochs and the first one (tracing and
compiling) is left out: ms/epoch is the mean of the others, from a Keras
callback's timestamps.  The probe is timed over ``--epochs`` calls after a
compiling call.  Goal: skdl at or under 30 ms/epoch at batch 128 and 8 ms at
batch 1024.

    python benchmarks/p4_gpu_throughput.py --out p4.md             # GPU machine, JAX installed
    python benchmarks/p4_gpu_throughput.py --quick --out p4.md     # smoke run; on CPU JAX when no GPU

Without a GPU and without ``--quick`` (or ``--allow-cpu``) it says so and exits with status 2.
"""

import os
import sys

# Before keras (or skdl) is imported anywhere: this benchmark is the JAX backend's.
os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # as skdl does; lets torch share the GPU
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402

import _common as C  # noqa: E402

NCLS = 10
GOAL_MS = {128: 30.0, 1024: 8.0}
SYSTEMS = ["keras", "keras_spe32", "skdl", "probe", "torch"]
LABELS = {
    "keras": "keras `fit` (JAX)",
    "keras_spe32": "keras `fit` (JAX), steps_per_execution=32",
    "skdl": "**skdl MLPClassifierTF** (KERAS_BACKEND=jax)",
    "probe": "probe: pure JAX, epoch in one `lax.scan`, TF32 (`gpu_floor_jax.py`)",
    "torch": "hand-written PyTorch loop, data on device",
}


# --------------------------------------------------------------------------
# The systems.  Each returns {"ms": ms/epoch, "acc": train accuracy or None, "note": str}.

def keras_fit(X, y, bs, args, spe):
    import keras
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((X.shape[1],))]
                         + [keras.layers.Dense(h, activation="tanh") for h in args.hidden]
                         + [keras.layers.Dense(NCLS, activation="softmax")])
    m.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(1e-4),
              steps_per_execution=spe, metrics=["accuracy"])
    clock = C.epoch_clock_callback()
    h = m.fit(X, y, batch_size=bs, epochs=args.epochs + 1, verbose=0, callbacks=[clock])
    d = clock.durations()
    return {"ms": clock.per_epoch(skip_first=True) * 1e3, "acc": h.history["accuracy"][-1],
            "note": f"first epoch {d[0] * 1e3:.0f} ms"}


def skdl_fit(X, y, bs, args):
    from skdl import MLPClassifierTF
    clock = C.epoch_clock_callback()
    clf = MLPClassifierTF(hidden_layer_sizes=args.hidden, activation="tanh", solver="adam", learning_rate_init=1e-4,
                          batch_size=bs, max_iter=args.epochs + 1, shuffle=True, tol=0, n_iter_no_change=10**6,
                          random_state=0, callbacks=[clock])
    t = time.perf_counter()
    clf.fit(X, y)
    total = time.perf_counter() - t
    d = clock.durations()
    acc = float((clf.predict(X[:10000]) == y[:10000]).mean())
    return {"ms": clock.per_epoch(skip_first=True) * 1e3, "acc": acc,
            "note": f"first epoch {d[0] * 1e3:.0f} ms; whole fit {total:.2f} s for {len(d)} epochs"}


def _adam(lr, b1=0.9, b2=0.999, eps=1e-8):
    """optax.adam when optax is installed, else the same update written out (init, update)."""
    try:
        import optax
        opt = optax.adam(lr)

        def update(g, st, ps):
            up, st = opt.update(g, st, ps)
            return optax.apply_updates(ps, up), st
        return opt.init, update, "optax.adam"
    except ImportError:
        import jax
        import jax.numpy as jnp

        def init(ps):
            zeros = jax.tree_util.tree_map(jnp.zeros_like, ps)
            return (jnp.zeros((), jnp.int32), zeros, zeros)

        def update(g, st, ps):
            t, m, v = st
            t = t + 1
            m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
            v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
            c1, c2 = 1 - b1 ** t, 1 - b2 ** t
            ps = jax.tree_util.tree_map(lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), ps, m, v)
            return ps, (t, m, v)
        return init, update, "hand-written Adam (optax not installed)"


def jax_probe(X, y, bs, args, epochs=None):
    import jax
    import jax.numpy as jnp
    epochs = epochs or args.epochs
    N, D = X.shape
    sizes = (D,) + tuple(args.hidden) + (NCLS,)
    nb = N // bs
    Xd, yd = jax.device_put(X), jax.device_put(y)
    opt_init, opt_update, opt_name = _adam(1e-4)

    def init(key):
        ps = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            key, k = jax.random.split(key)
            ps.append((jax.random.normal(k, (a, b)) * jnp.sqrt(2.0 / (a + b)), jnp.zeros(b)))
        return ps

    def fwd(ps, x):
        for w, b in ps[:-1]:
            x = jnp.tanh(x @ w + b)
        w, b = ps[-1]
        return x @ w + b

    def loss(ps, x, t):
        logp = jax.nn.log_softmax(fwd(ps, x))
        return -jnp.take_along_axis(logp, t[:, None], axis=1).mean()

    @jax.jit
    def epoch(ps, st, key):
        perm = jax.random.permutation(key, N)[: nb * bs].reshape(nb, bs)

        def step(carry, idx):
            ps, st = carry
            l, g = jax.value_and_grad(loss)(ps, Xd[idx], yd[idx])
            ps, st = opt_update(g, st, ps)
            return (ps, st), l
        (ps, st), ls = jax.lax.scan(step, (ps, st), perm)
        return ps, st, ls.mean()

    with jax.default_matmul_precision("tensorfloat32"):
        ps = init(jax.random.PRNGKey(0))
        st = opt_init(ps)
        t = time.perf_counter()
        ps, st, l = epoch(ps, st, jax.random.PRNGKey(1))
        l.block_until_ready()
        first = time.perf_counter() - t
        t = time.perf_counter()
        for e in range(epochs):
            ps, st, l = epoch(ps, st, jax.random.PRNGKey(e + 2))
        l.block_until_ready()
        per = (time.perf_counter() - t) / epochs
        acc = float((fwd(ps, Xd[:10000]).argmax(1) == yd[:10000]).mean())
    return {"ms": per * 1e3, "acc": acc,
            "note": f"first call (compiles) {first * 1e3:.0f} ms; {opt_name}; drops the last partial batch"}


def torch_loop(X, y, bs, args):
    import torch
    import torch.nn as nn
    if not torch.cuda.is_available():
        return {"status": "skipped", "reason": "torch sees no CUDA device"}
    torch.manual_seed(0)
    N = len(X)
    Xt = torch.tensor(X, device="cuda")
    yt = torch.tensor(y, device="cuda").long()
    sizes = (X.shape[1],) + tuple(args.hidden)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.Tanh()]
    net = nn.Sequential(*layers, nn.Linear(sizes[-1], NCLS)).cuda()
    opt = torch.optim.Adam(net.parameters(), 1e-4)
    lossf = nn.CrossEntropyLoss()

    def epoch():
        perm = torch.randperm(N, device="cuda")
        for i in range(0, N, bs):
            idx = perm[i:i + bs]
            opt.zero_grad(set_to_none=True)
            lossf(net(Xt[idx]), yt[idx]).backward()
            opt.step()

    epoch()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(args.epochs):
        epoch()
    torch.cuda.synchronize()
    per = (time.perf_counter() - t) / args.epochs
    with torch.no_grad():
        acc = float((net(Xt[:10000]).argmax(1) == yt[:10000]).float().mean())
    return {"ms": per * 1e3, "acc": acc,
            "note": f"torch {torch.__version__}, {torch.cuda.get_device_name()}, TF32 "
                    f"{'on' if torch.backends.cuda.matmul.allow_tf32 else 'off'}"}


def run_system(name, X, y, bs, args):
    if name == "keras":
        return keras_fit(X, y, bs, args, 1)
    if name == "keras_spe32":
        return keras_fit(X, y, bs, args, 32)
    if name == "skdl":
        return skdl_fit(X, y, bs, args)
    if name == "probe":
        return jax_probe(X, y, bs, args)
    if name == "torch":
        if C.missing("torch"):
            return C.not_installed("torch")
        return torch_loop(X, y, bs, args)
    raise ValueError(name)


def matmul_peak(n, precision):
    """TFLOP/s of an n x n x n float32 jnp.matmul at this lax precision (best of 3 blocks)."""
    import jax
    import jax.numpy as jnp
    ka, kb = jax.random.split(jax.random.PRNGKey(0))
    a = jax.random.normal(ka, (n, n), jnp.float32)
    b = jax.random.normal(kb, (n, n), jnp.float32)
    f = jax.jit(lambda a, b: jnp.matmul(a, b, precision=precision))
    for _ in range(3):
        f(a, b).block_until_ready()
    t = time.perf_counter(); reps = 0
    while time.perf_counter() - t < 0.1:
        f(a, b).block_until_ready(); reps += 1
    block = max(1, int(0.3 * reps / (time.perf_counter() - t)))
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(block):
            r = f(a, b)
        r.block_until_ready()
        best = max(best, 2.0 * n ** 3 * block / (time.perf_counter() - t) / 1e12)
    return best


# --------------------------------------------------------------------------

def error_result(exc):
    return {"status": "error", "reason": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}


def build_report(args, state):
    bss = args.batches
    header = ["system"] + [f"batch {b} ms/epoch" for b in bss] + [f"ratio to probe @{b}" for b in bss] \
        + ["train acc (last batch size)", "note"]
    rows = []
    floor = state.get("floor")
    if floor:
        for label, key in (("FLOP floor, float32 matmul peak", "fp32"), ("FLOP floor, TF32 matmul peak", "tf32")):
            if floor.get(key):
                ms = state["flop"] / (floor[key] * 1e12) * 1e3
                rows.append([label] + [f"{ms:.3g}"] * len(bss) + ["-"] * len(bss) + ["-",
                            f"{state['flop'] / 1e9:.0f} GFLOP/epoch at {floor[key]:.1f} TFLOP/s "
                            f"({floor['n']}^3 jnp.matmul)"])
    elif state.get("floor_error"):
        rows.append(["FLOP floor"] + ["-"] * (2 * len(bss) + 1) + [state["floor_error"]])
    if state.get("warmup"):
        w = state["warmup"]
        rows.append(["(warm-up, discarded: probe at batch 256)"]
                    + [C.status_text(w) or f"{w['ms']:.3g}"] + [""] * (len(bss) - 1)
                    + ["-"] * len(bss) + ["-", "the first configuration in a process runs slow; never compared"])
    probe = {b: state["results"].get(("probe", b), {}).get("ms") for b in bss}
    for name in SYSTEMS:
        cells, ratios, notes, acc = [], [], [], "-"
        for b in bss:
            r = state["results"].get((name, b))
            if r is None:
                cells.append("not run"); ratios.append("-")
                continue
            if r.get("status", "ok") != "ok":
                cells.append(C.status_text(r)); ratios.append("-")
                continue
            cells.append(f"{r['ms']:.3g}")
            ratios.append(C.ratio(r["ms"], probe[b]))
            acc = "-" if r.get("acc") is None else f"{r['acc']:.4f}"
            if r.get("note"):
                notes.append(f"@{b}: {r['note']}")
        if all(c.startswith("not installed") for c in cells):
            cells = [cells[0]] + ["-"] * (len(cells) - 1)
        rows.append([LABELS[name]] + cells + ratios + [acc, "; ".join(notes)])
    rows.append(["goal for skdl"] + [f"{GOAL_MS[b]:.0f}" if b in GOAL_MS else "-" for b in bss]
                + ["-"] * len(bss) + ["-", ""])
    table = C.markdown_table(header, rows)
    footer = []
    sk = {b: state["results"].get(("skdl", b), {}) for b in bss}
    verdicts = [f"batch {b}: {r['ms']:.1f} ms ({'meets' if r['ms'] <= GOAL_MS[b] else 'misses'} {GOAL_MS[b]:.0f} ms)"
                for b, r in sk.items() if r.get("status", "ok") == "ok" and "ms" in r and b in GOAL_MS]
    footer.append("Goal: skdl at or under 30 ms/epoch at batch 128 and 8 ms/epoch at batch 1024 "
                  "(after a warm-up configuration)." + (f" skdl: {'; '.join(verdicts)}." if verdicts else ""))
    footer.append(f"TensorFlow imported in this process: {'yes (!)' if 'tensorflow' in sys.modules else 'no'}.")
    if state.get("cpu_note"):
        footer.append(state["cpu_note"])
    if args.quick:
        footer.append(C.QUICK_NOTE)
    if state.get("partial"):
        footer.append(f"(partial report: {state['partial']})")
    return table, footer


def json_system(name, batch):
    return f"{C.plain(LABELS[name])}, batch {batch}"


def json_rows(args, state):
    """One JSON report row per system and batch size; ratios are to the probe at that batch size."""
    rows = []
    for name in SYSTEMS:
        for b in args.batches:
            r = state["results"].get((name, b), {"status": "not run", "reason": ""})
            if r.get("status", "ok") != "ok":
                rows.append(C.report_row(json_system(name, b), None, "ms", notes=C.status_text(r)))
                continue
            probe = state["results"].get(("probe", b), {}).get("ms")
            rows.append(C.report_row(json_system(name, b), r["ms"], "ms", C.row_ratio(r["ms"], probe),
                                     r.get("note", ""), **{"train acc": r.get("acc")}))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes (2048 samples, a smaller network): a smoke run, numbers meaningless")
    parser.add_argument("--out", default=None, help="also write the report to this file (rewritten after each row)")
    parser.add_argument("--json", default=None, metavar="FILE.json",
                        help="also write the final report as JSON (for the docs' tables and figure)")
    parser.add_argument("--epochs", type=int, default=None, help="timed epochs per system (default 5; 2 with --quick)")
    parser.add_argument("--samples", type=int, default=None, help="training samples (default 60000; 2048 with --quick)")
    parser.add_argument("--batches", default="128,1024", help="comma-separated batch sizes")
    parser.add_argument("--hidden", default=None,
                        help="hidden layer sizes, comma-separated (default 1024,512,512,512; 64,32 with --quick)")
    parser.add_argument("--only", default=None, help=f"comma-separated systems to run, of {','.join(SYSTEMS)}")
    parser.add_argument("--skip", default="", help="comma-separated systems to skip")
    parser.add_argument("--allow-cpu", action="store_true", help="run the full sizes even when JAX sees no GPU")
    args = parser.parse_args()
    args.epochs = args.epochs or (2 if args.quick else 5)
    args.samples = args.samples or (2048 if args.quick else 60000)
    args.batches = [int(b) for b in args.batches.split(",") if b]
    args.hidden = tuple(int(h) for h in (args.hidden or ("64,32" if args.quick else "1024,512,512,512")).split(",") if h)
    systems = C.selected(args, SYSTEMS)
    title = "P4 GPU throughput (Keras 3 JAX backend)"
    state = {"results": {}}

    def report(final):
        extra = [f"P4: synthetic {args.samples} x 784, {NCLS} classes; 784-{'-'.join(map(str, args.hidden))}-10 tanh, "
                 f"Adam(1e-4); {args.epochs} timed epochs per system after a compiling one; all in one process",
                 f"device: {state.get('device', 'unknown')}"]
        table, footer = build_report(args, state)
        text = "\n".join(C.header_lines(title, extra)) + "\n\n" + table + "\n\n" + "\n".join(footer) + "\n"
        if final:
            C.emit(text, args.out, mode="w")
            if args.json:
                C.write_json_report(args.json, "P4", title, json_rows(args, state), value_label="ms/epoch",
                                    ratio_label="ratio to probe", reference="the probe at the same batch size",
                                    headline=json_system("skdl", args.batches[0]), goal_text=footer[0],
                                    setup=extra[0], notes=footer[1:], smoke_run=args.quick,
                                    device=state.get("device"))
        elif args.out:
            with open(args.out, "w") as f:
                f.write(text)

    if C.missing("jax", "keras"):
        gone = C.missing("jax", "keras")
        for s in systems:
            for b in args.batches:
                state["results"][(s, b)] = {"status": "not installed", "reason": f"not installed: {gone}"}
        state["device"] = f"none ({gone} is not installed)"
        report(final=True)
        return 0

    warnings.filterwarnings("ignore")
    import jax
    devices = jax.devices()
    gpus = [d for d in devices if d.platform == "gpu"]
    kinds = sorted({getattr(d, "device_kind", d.platform) for d in devices})
    state["device"] = f"{len(devices)} x {', '.join(kinds)} ({devices[0].platform}); jax {jax.__version__}"
    if not gpus:
        msg = f"No GPU visible to JAX (devices: {', '.join(str(d) for d in devices)})."
        if not (args.quick or args.allow_cpu):
            for s in systems:
                for b in args.batches:
                    state["results"][(s, b)] = {"status": "skipped", "reason": "no GPU"}
            state["cpu_note"] = msg + " P4 is a GPU benchmark: run it on a GPU machine, or pass --quick for the " \
                                      "CPU smoke path (or --allow-cpu for the full sizes on CPU)."
            report(final=True)
            return 2
        state["cpu_note"] = msg + " Ran on CPU JAX" + (" (--quick smoke path)." if args.quick else " (--allow-cpu).")
        C.log(msg + " Running on CPU.")

    X, y = C.synthetic_mnist(args.samples)
    state["flop"] = C.flop_per_epoch(args.samples, hidden=args.hidden)

    C.log("warm-up: pure-JAX probe at batch 256 (discarded)")
    try:
        state["warmup"] = jax_probe(X, y, min(256, args.samples), args, epochs=max(2, args.epochs))
    except Exception as e:  # noqa: BLE001 - a benchmark reports, it doesn't stop
        state["warmup"] = error_result(e)
        traceback.print_exc()

    C.log("matmul peak")
    try:
        n = 8192 if gpus else (512 if args.quick else 2048)
        state["floor"] = {"n": n, "fp32": matmul_peak(n, jax.lax.Precision.HIGHEST),
                          "tf32": matmul_peak(n, jax.lax.Precision.DEFAULT)}
    except Exception as e:  # noqa: BLE001
        state["floor_error"] = C.status_text(error_result(e))
        traceback.print_exc()
    report(final=False)

    for name in SYSTEMS:
        for b in args.batches:
            if name not in systems:
                state["results"][(name, b)] = {"status": "skipped", "reason": "--only/--skip"}
                continue
            C.log(f"{name} batch {b}")
            state["partial"] = f"stopped during {name} at batch {b}"
            report(final=False)
            try:
                r = run_system(name, X, y, b, args)
            except Exception as e:  # noqa: BLE001
                r = error_result(e)
                traceback.print_exc()
            state["results"][(name, b)] = r
            C.log(f"{name} batch {b}: " + (f"{r['ms']:.1f} ms/epoch" if "ms" in r else C.status_text(r)))
    state.pop("partial", None)
    report(final=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
