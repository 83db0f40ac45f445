"""What the estimators hand the engine, and what they get back: one of each per model."""

import hashlib
from dataclasses import astuple, dataclass, field, replace

import numpy as np

from .._network import NetworkSpec


@dataclass(frozen=True)
class TrainingSpec:
    """How one network is trained: every scalar a fit needs besides its data and seed.

    ``task`` is "binary", "multiclass", "multilabel" or "regression";
    ``learning_rate`` is the SGD schedule ("constant", "invscaling",
    "adaptive"); ``jit_compile`` True, False or "auto" (the engine decides per
    stack); ``device`` is None or ``(kind, index)``; ``executor`` "auto" (the
    engine decides per stack, under :func:`skdl.set_config`'s setting), or the
    "numpy" or "compiled" arithmetic a fit it continues trained with.
    ``rules``: "scikit-learn" (its MLP's stopping: ``tol``, ``n_iter_no_change``,
    ``early_stopping``) or "keras" (``keras.Model.fit``'s: ``max_iter`` epochs,
    unless ``keras_stopping`` stops them first, the learning rate lowered by
    ``keras_plateau`` when it is set). ``metrics``: ``(log name, metric)`` pairs,
    each a metric of :data:`skdl.engine.metrics.METRICS` that the fit's history
    reports each epoch as ``keras.Model.fit`` does (and ``"val_" + log name``
    with validation rows). ``lr_schedule``: the learning rate follows this
    schedule from ``learning_rate_init``, update by update.
    """

    task: str
    loss: str
    solver: str = "adam"
    learning_rate_init: float = 1e-3
    alpha: float = 0.0
    l1: float = 0.0
    momentum: float = 0.9
    nesterovs_momentum: bool = True
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    weight_decay: float = 0.0
    dropout: float = 0.0
    batch_size: int = 200
    shuffle: bool = True
    max_iter: int = 200
    tol: float = 1e-4
    n_iter_no_change: float = 10
    early_stopping: bool = False
    learning_rate: str = "constant"
    power_t: float = 0.5
    max_fun: int = 15000
    jit_compile: bool | str = "auto"
    device: tuple | None = None
    verbose: bool = False
    executor: str = "auto"
    rules: str = "scikit-learn"
    metrics: tuple = ()
    lr_schedule: "KerasSchedule | None" = None
    keras_stopping: "KerasStopping | None" = None
    keras_plateau: "KerasPlateau | None" = None


@dataclass(frozen=True)
class KerasStopping:
    """``keras.callbacks.EarlyStopping``'s settings, for a fit under Keras' rules: stop when
    ``monitor`` (a key of the fit's logs: "loss", "val_loss", a metric) has not improved
    (dropped, ``mode`` "min"; risen, "max") by more than ``min_delta`` for ``patience``
    epochs, and end with the best epoch's weights if ``restore_best_weights``."""

    monitor: str = "val_loss"
    min_delta: float = 0.0
    patience: int = 0
    restore_best_weights: bool = False
    mode: str = "min"


@dataclass(frozen=True)
class KerasSchedule:
    """A ``keras.optimizers.schedules`` learning-rate schedule, from the fit's
    ``learning_rate_init`` and the updates ``t`` made so far (``t / decay_steps``
    floored with ``staircase``): "exponential" multiplies it by ``rate ** (t /
    decay_steps)``; "inverse_time" divides it by ``1 + rate * t / decay_steps``;
    "polynomial" moves it to ``rate`` (the end rate) along ``(1 - t / decay_steps) **
    power``; "cosine" down to ``rate`` (Keras' ``alpha``) times itself along half a
    cosine; the last two then stay."""

    kind: str
    decay_steps: float
    rate: float = 0.0
    power: float = 1.0
    staircase: bool = False


@dataclass(frozen=True)
class KerasPlateau:
    """``keras.callbacks.ReduceLROnPlateau``'s settings, for a fit under Keras' rules:
    multiply the learning rate by ``factor`` (not below ``min_lr``) when ``monitor``
    (as :class:`KerasStopping`'s, improving in ``mode``'s direction) has not improved by
    more than ``min_delta`` for ``patience`` epochs, then wait ``cooldown`` epochs before
    counting again."""

    monitor: str = "val_loss"
    factor: float = 0.1
    patience: int = 10
    min_delta: float = 1e-4
    cooldown: int = 0
    min_lr: float = 0.0
    mode: str = "min"


#: The version of the optimizer-state format a result carries (bumped when it changes).
OPTIMIZER_STATE_FORMAT = 1


def optimizer_state_fits(state, network, solver):
    """Why ``state`` (a result's ``optimizer_state``) cannot continue training ``network``
    with ``solver`` (a sentence), or None when it can: the same format, solver, slots and
    weights (names and shapes)."""
    from .._network import layout
    from .optimizers import SLOTS

    trainable = [w for w in layout(network) if w.trainable]
    if state.get("format") != OPTIMIZER_STATE_FORMAT:
        return f"its format is {state.get('format')!r}, this skdl writes {OPTIMIZER_STATE_FORMAT}"
    if state.get("solver") != solver:
        return f"it belongs to solver {state.get('solver')!r}, not {solver!r}"
    if list(state.get("names", ())) != [w.name for w in trainable] or \
            [tuple(s) for s in state.get("shapes", ())] != [w.shape for w in trainable]:
        return "its weights' names or shapes are not the network's"
    slots = state.get("slots", {})
    if set(slots) != set(SLOTS[solver]) or any(
            [np.shape(a) for a in arrays] != [w.shape for w in trainable] for arrays in slots.values()):
        return "its slots are not the solver's"
    return None


@dataclass
class Start:
    """Where a warm-started or incremental fit starts: weights in layout order, the
    optimizer's state to continue (None: fresh; it holds the learning rate the
    schedule reached), the epochs and samples seen so far, and scikit-learn's
    stopping bookkeeping, which carries over as in its MLP (epochs without
    improvement, the best training loss and validation score so far).
    ``shuffles``: where the shuffles continue (a result's ``shuffles``; None:
    from the request's own)."""

    weights: list
    optimizer_state: dict | None = None
    epochs: int = 0
    samples: int = 0
    no_improvement: int = 0
    best_loss: float = float("inf")
    best_score: float = float("-inf")
    shuffles: tuple | None = None


class EpochHook:
    """What a request's ``epoch_hook`` offers the engine (a protocol: any object with
    these two methods will do).

    The engine calls ``begin(epoch)`` before each of the model's epochs (or L-BFGS
    iterations, counted from 0) and ``end(epoch, logs, weights)`` after it, where
    ``logs`` holds the epoch's ``loss`` (and validation values) and ``weights()``
    returns the model's weights in layout order at that point (fetched only when
    called). ``end`` returning True stops this model's training after that epoch.
    An epoch that began but never ran (L-BFGS' last) ends with ``logs`` and
    ``weights`` None.
    """

    def begin(self, epoch):  # pragma: no cover - protocol
        pass

    def end(self, epoch, logs=None, weights=None):  # pragma: no cover - protocol
        return False


@dataclass
class FitRequest:
    """One network to train.

    ``X``, ``Y``, ``W`` are the training rows (float32 inputs; targets as
    int32 class codes for "multiclass", float32 columns otherwise; float32
    weights); ``validation`` the same triple for held-out rows, scored by
    ``score(outputs, Y, W) -> float`` after every epoch. ``incremental``
    trains one epoch and never warns of convergence (``partial_fit``).
    ``epoch_hook`` is told about each epoch (L-BFGS: each iteration) of this
    model, and may stop its training: see :class:`EpochHook`. ``initial``: the
    weights a fresh fit starts from (None: drawn from ``seed``, see
    :func:`skdl._network.initial_weights`). ``rows``: the rows of ``X`` this fit
    trains on, when ``X`` holds more (a search's unsplit data, which the fits of
    all its folds share without a copy each); ``Y`` and ``W`` are those rows'
    own. None: all of ``X``. ``shuffles``: the state of the
    :class:`numpy.random.RandomState` whose draws shuffle the rows each epoch
    as scikit-learn's MLP shuffles them (``sample_idx = shuffle(sample_idx,
    random_state=...)``); None: each epoch's order is drawn from ``seed`` and
    the epoch's number. ``seed`` always draws the dropout masks.
    """

    network: NetworkSpec
    training: TrainingSpec
    X: np.ndarray
    Y: np.ndarray
    W: np.ndarray
    seed: int
    validation: tuple | None = None
    score: object = None
    metric_name: str | None = None
    start: Start | None = None
    incremental: bool = False
    callbacks: list | None = None
    epoch_hook: "EpochHook | None" = None
    initial: list | None = None
    shuffles: tuple | None = None
    rows: np.ndarray | None = None

    @property
    def n_samples(self):
        """How many rows this fit trains on."""
        return len(self.W)

    def training_inputs(self, limit=None):
        """The inputs this fit trains on (its first ``limit`` rows): a copy when the
        request names ``rows`` of a bigger ``X``."""
        if self.rows is None:
            return self.X[:limit]
        return self.X[self.rows[:limit]]

    def fingerprint(self):
        """A digest of everything that decides this fit's result."""
        arrays = [self.X, self.Y, self.W] + list(self.validation or ())
        return fit_keys(self, data_digest(arrays, self.rows))[0]


#: Rows hashed at a time by :func:`data_digest` when it reads some rows of an array.
_DIGEST_ROWS = 4096


def data_digest(arrays, rows=None):
    """A digest of ``arrays``' shapes, dtypes and values (SHA-256: CPUs with SHA
    instructions hash it three times faster than BLAKE2). ``rows``: take the first
    array as its rows ``rows`` (the same digest as of ``arrays[0][rows]``, read a
    few thousand rows at a time instead of copied whole).

    Examples
    --------
    >>> import numpy as np
    >>> X, rows = np.arange(12.0).reshape(6, 2), np.array([4, 0, 2])
    >>> data_digest([X, X[:, 0]], rows) == data_digest([X[rows], X[:, 0]])
    True
    """
    digest = hashlib.sha256()
    for k, array in enumerate(arrays):
        if k == 0 and rows is not None:
            digest.update(repr(((len(rows),) + array.shape[1:], array.dtype.str)).encode())
            for start in range(0, len(rows), _DIGEST_ROWS):
                digest.update(np.ascontiguousarray(array[rows[start:start + _DIGEST_ROWS]]).data)
            continue
        array = np.ascontiguousarray(array)
        digest.update(repr((array.shape, array.dtype.str)).encode())
        digest.update(array.data)
    return digest.hexdigest()


def fit_keys(request, data, seeded=True):
    """Two digests of what decides ``request``'s result: its specs, seed and what the
    seed drew (unless not ``seeded``), starting point and ``data`` (the
    :func:`data_digest` of the arrays that decide it). Equal keys, equal results.

    The second key leaves the epoch budget (``max_iter``) out: fits that differ only
    in it share one (a longer one can continue a shorter one).
    """
    common = (astuple(request.network), request.seed if seeded else None, request.metric_name,
              request.incremental, data)
    if seeded:  # what the seed drew: the first weights and the shuffles' stream
        shuffles = request.shuffles  # a RandomState's state: (name, keys, position, ...)
        common += (None if request.initial is None else data_digest(request.initial),
                   None if shuffles is None else (data_digest([shuffles[1]]),) + tuple(shuffles[2:]))
    if request.start is not None:
        common += (request.start.epochs, request.start.samples,
                   data_digest(request.start.weights))
    training = astuple(request.training)
    unbounded = astuple(replace(request.training, max_iter=0))
    return tuple(hashlib.sha256(repr((spec,) + common).encode()).hexdigest()
                 for spec in (training, unbounded))


@dataclass
class FitResult:
    """One trained network: weights in layout order, the optimizer's state and what
    scikit-learn's MLP reports. ``error`` is set (and the rest meaningless) when
    the fit diverged; ``converged`` is False when ``max_iter`` stopped it.
    ``shuffles``: where its shuffles stand after its last epoch (see
    :class:`Start`), for a fit that continues it."""

    weights: list = None
    optimizer_state: dict | None = None
    loss: float = float("nan")
    loss_curve: list = field(default_factory=list)
    best_loss: float | None = None
    validation_scores: list | None = None
    best_validation_score: float | None = None
    n_iter: int = 0
    t: int = 0
    history: dict = field(default_factory=dict)
    converged: bool = True
    convergence_warning: str | None = None
    jit_compile: bool = False
    executor: str = "compiled"
    no_improvement: int = 0
    error: Exception | None = None
    shuffles: tuple | None = None
