"""The arithmetic of a stack of M networks, written once with ``keras.ops``.

Every weight has a leading model axis, every hyper-parameter is a vector of
M values and every model reads its own rows: one compiled call trains M
networks as one. A single fit is a stack of one; nothing here knows the
difference. Networks of different hidden widths share a stack by padding:
padded units are multiplied by a zero mask after their activation, so their
weights get zero gradients and stay zero, and each model computes what its
unpadded network computes, up to the order of its float32 sums (which is why
:mod:`~skdl.engine.planning` pads only stacks that train quickly).

The backend supplies what ``keras.ops`` cannot: differentiation
(``value_and_grad``) and compilation (see :mod:`skdl.engine.tensorflow` and
:mod:`skdl.engine.jax`).
"""

from dataclasses import dataclass

import numpy as np
from keras import activations, ops

from .._network import BN_EPSILON, BN_MOMENTUM, BN_ROLES, NetworkSpec, layout
from .._optim import LOSSES, OUTPUT_ACTIVATIONS
from . import metrics
from .optimizers import SCHEDULE_COLUMNS, SLOTS, nadam_u_product, scheduled_learning_rate, update


@dataclass(frozen=True)
class Structure:
    """What one compiled program serves: the shape and arithmetic a stack of networks shares.

    Everything per model (hyper-parameters, rows, seeds, real widths, depth,
    which of ``activations`` and ``solvers`` it uses) is data passed to the
    program, not part of it. ``padded``: some hidden layers are wider than
    some models' (masked units); ``gated``: some models have fewer hidden
    layers (their missing layers pass their input through); ``per_weight``:
    an epoch's loop carries one array per weight (see :func:`epoch`); ``host``:
    the stack trains in NumPy, nothing compiled (:mod:`~skdl.engine.host`).
    """

    n_features: int
    widths: tuple
    n_outputs: int
    output_activation: str
    task: str
    loss: str
    batch_size: int
    activations: tuple = ("relu",)
    solvers: tuple = ("adam",)
    batch_normalization: bool = False
    wide_and_deep: bool = False
    dropout: bool = False
    l1: bool = False
    weight_decay: bool = False
    padded: bool = False
    gated: bool = False
    jit_compile: bool = False
    per_weight: bool = False
    host: bool = False
    metrics: tuple = ()
    keras_penalty: bool = False
    scheduled: bool = False
    hidden_bias: bool = True

    @property
    def network(self):
        """The (padded) network whose :func:`~skdl._network.layout` the stack's weights follow."""
        return NetworkSpec(self.n_features, self.widths, self.activations[0], self.n_outputs,
                           self.output_activation, batch_normalization=self.batch_normalization,
                           wide_and_deep=self.wide_and_deep)

    @property
    def layout(self):
        return layout(self.network)

    @property
    def loss_on_logits(self):
        """Whether the loss reads the last layer's logits (classification, the Poisson
        log link) rather than the network's output."""
        return self.task != "regression" or self.loss == "poisson"


# --- random bits, the same on every backend --------------------------------------------------
_U32 = np.uint32


def _mix(x):
    """A 32-bit integer hash (C. Wellons' lowbias32)."""
    x = ops.bitwise_xor(x, ops.right_shift(x, _U32(16)))
    x = ops.multiply(x, _U32(0x7FEB352D))
    x = ops.bitwise_xor(x, ops.right_shift(x, _U32(15)))
    x = ops.multiply(x, _U32(0x846CA68B))
    return ops.bitwise_xor(x, ops.right_shift(x, _U32(16)))


def uniform(seeds, counters, step, shape):
    """Uniform [0, 1) floats of ``shape`` (M, rows, units), each model's from its own seed.

    A model's numbers depend on its ``seeds`` (M,), ``counters`` (M,) (its
    epoch) and ``step`` alone, never on the other models of its stack.
    """
    key = _mix(ops.bitwise_xor(seeds, _mix(ops.add(
        ops.multiply(counters, _U32(0x9E3779B9)), _mix(ops.cast(step, "uint32"))))))
    # A unit's number depends on its row and its index alone, not on the layer's
    # (padded) width, so that a padded network draws what the network alone draws.
    rows = ops.cast(ops.arange(shape[1], dtype="int32"), "uint32")
    units = ops.cast(ops.arange(shape[2], dtype="int32"), "uint32")
    position = ops.add(ops.multiply(ops.expand_dims(rows, 1), _U32(0x9E3779B1)),
                       ops.multiply(ops.expand_dims(units, 0), _U32(0x85EBCA77)))
    bits = _mix(ops.bitwise_xor(ops.reshape(key, (-1, 1, 1)), _mix(ops.expand_dims(position, 0))))
    return ops.cast(ops.right_shift(bits, _U32(8)), "float32") * (1.0 / 2**24)


# --- the forward pass -------------------------------------------------------------------------
def _per_model(vector, rank):
    return ops.reshape(vector, (-1,) + (1,) * (rank - 1))


def _masked_moments(z, real):
    """Each model's mean and variance of ``z`` (M, B, U) over its real rows."""
    weights = ops.expand_dims(real, -1)
    count = ops.maximum(ops.sum(weights, axis=1), 1.0)
    mean = ops.sum(z * weights, axis=1) / count
    variance = ops.sum(ops.square((z - ops.expand_dims(mean, 1)) * weights), axis=1) / count
    return mean, variance


def _select_by_index(index, values):
    """``values[index[m]]`` for each model: ``values`` are (M, ...) arrays, ``index`` (M,)."""
    chosen = values[0]
    for k, value in enumerate(values[1:], start=1):
        chosen = ops.where(_per_model(index == k, len(value.shape)), value, chosen)
    return chosen


def _dense(x, kernel, bias, compiled=False, plain=False):
    """``x @ kernel + bias`` for every model: (M, B, I) x (M, I, O) -> (M, B, O).

    ``compiled`` (with XLA): the bias is the kernel's last row, multiplied by a
    column of ones, so that its gradient comes out of the kernel's matrix
    product, whose sums run in one order whatever the stack's size (summed
    over the batch on its own, XLA fused it differently from 16 models on, and
    the stacked models drifted from their single fits by float32 rounding).
    ``plain``: a stack of one multiplies plain matrices (XLA's CPU dot with a
    batch axis of one ran a big network's step about 10% slower than its plain dot).
    """
    if compiled:
        x = ops.concatenate([x, ops.ones_like(x[..., :1])], axis=-1)
        kernel, bias = ops.concatenate([kernel, ops.expand_dims(bias, 1)], axis=1), None
    z = ops.expand_dims(ops.matmul(x[0], kernel[0]), 0) if plain \
        else ops.einsum("mbi,mio->mbo", x, kernel)
    return z if bias is None else z + ops.expand_dims(bias, 1)


def _resize(hidden, width):
    """``hidden`` (M, B, U) cut or zero-padded to ``width`` units."""
    current = hidden.shape[-1]
    if current >= width:
        return hidden[..., :width]
    return ops.pad(hidden, ((0, 0), (0, 0), (0, width - current)))


def forward(structure, params, x, *, models, training=False, real=None, dropout=None):
    """The last layer's logits (M, B, K) for inputs ``x`` (M, B, F), and the new
    batch-norm moving statistics (a list, empty unless training with batch norm).

    ``params`` follows ``structure.layout``. ``models`` holds what differs
    between the stack's networks: ``unit_masks`` (one (M, width) array per
    hidden layer: the units that exist), ``gates`` (one (M,) array per
    hidden layer: whether a model has it, else its input passes through),
    ``activation`` (M,) (an index into ``structure.activations``). ``real``
    (M, B) marks the rows that are data (batch statistics ignore the
    others); ``dropout`` is ``(rates (M,), seeds (M,), counters (M,), step)``.
    """
    values = iter(params)
    hidden, moving = x, []
    compiled = structure.jit_compile
    plain = compiled and params[0].shape[0] == 1
    functions = [activations.get(OUTPUT_ACTIVATIONS[name]) for name in structure.activations]
    for layer, width in enumerate(structure.widths):
        kernel, bias = next(values), next(values)
        if not structure.hidden_bias:  # zero, and its gradient exactly zero: it never moves
            bias = bias * 0.0
        z = _dense(hidden, kernel, bias, compiled, plain)
        if structure.batch_normalization:
            gamma, beta, moving_mean, moving_variance = (next(values) for _ in BN_ROLES)
            if training:
                mean, variance = _masked_moments(z, real)
                moving += [moving_mean * BN_MOMENTUM + mean * (1 - BN_MOMENTUM),
                           moving_variance * BN_MOMENTUM + variance * (1 - BN_MOMENTUM)]
            else:
                mean, variance = moving_mean, moving_variance
            z = ((z - ops.expand_dims(mean, 1)) / ops.sqrt(ops.expand_dims(variance, 1) + BN_EPSILON)
                 * ops.expand_dims(gamma, 1) + ops.expand_dims(beta, 1))
        activated = _select_by_index(models["activation"], [f(z) for f in functions]) \
            if len(functions) > 1 else functions[0](z)
        if structure.padded:
            activated = activated * ops.expand_dims(models["unit_masks"][layer], 1)
        if structure.dropout and training:
            rates, seeds, counters, step = dropout
            draws = uniform(seeds, counters, step * 64 + layer, ops.shape(activated))
            rates = _per_model(rates, 3)
            activated = ops.where(draws >= rates, activated / (1.0 - rates), 0.0)
        if structure.gated and layer > 0:
            activated = ops.where(_per_model(models["gates"][layer], 3), activated,
                                  _resize(hidden, width))
        hidden = activated
    if structure.wide_and_deep and structure.widths:
        hidden = ops.concatenate([x, hidden], axis=-1)
    kernel, bias = next(values), next(values)
    return _dense(hidden, kernel, bias, compiled, plain), moving


def link(structure, logits):
    """The network's output from its logits: what predictions are made of."""
    return activations.get(OUTPUT_ACTIVATIONS[structure.output_activation])(logits)


def sample_losses(structure, y, logits):
    """Each row's loss (M, B)."""
    inputs = logits if structure.loss_on_logits else link(structure, logits)
    return LOSSES[(structure.task, structure.loss)](y, inputs)


def kernels(structure, params):
    return [p for w, p in zip(structure.layout, params) if w.role == "kernel"]


def penalty(structure, params, alpha, l1):
    """Each model's ``0.5 * alpha * ||W||^2 (+ l1 * |W|)`` over its kernels (M,)."""
    total = 0.0
    for kernel in kernels(structure, params):
        axes = tuple(range(1, len(kernel.shape)))
        total = total + 0.5 * alpha * ops.sum(ops.square(kernel), axis=axes)
        if structure.l1:
            total = total + l1 * ops.sum(ops.abs(kernel), axis=axes)
    return total


def _with_penalty(structure, total, divisor, penalty):
    """Each model's minibatch objective from its summed loss, its divisor and its penalty:
    the penalty divided by the divisor too as scikit-learn's MLP does, or added to the
    mean loss as Keras adds its regularizers' (``keras_penalty``)."""
    if structure.keras_penalty:
        return total / divisor + penalty
    return (total + penalty) / divisor


def objectives(structure, trainable, frozen, x, y, w, real, hyper, models, dropout=None):
    """Each model's minibatch objective (M,): its weighted mean loss plus its penalty,
    the penalty divided by the batch's weight as scikit-learn's MLP does.

    ``trainable`` lists the trained weights in layout order (see
    :func:`unflatten`). Returns ``(sum of the objectives, (objectives,
    divisors, new moving statistics))``: the sum's gradient is every model's
    own gradient. A batch whose weights are all zero divides by its real row
    count instead. With ``structure.metrics``, the auxiliary tuple ends with their
    weighted sums over the batch (M, K) (see :mod:`~skdl.engine.metrics`).
    """
    params = merge(structure, trainable, frozen)
    logits, moving = forward(structure, params, x, models=models, training=True, real=real,
                             dropout=dropout)
    total = ops.sum(sample_losses(structure, y, logits) * w, axis=1)
    weight = ops.sum(w, axis=1)
    divisor = ops.where(weight > 0, weight, ops.maximum(ops.sum(real, axis=1), 1.0))
    per_model = _with_penalty(structure, total, divisor,
                              penalty(structure, params, hyper["alpha"], hyper["l1"]))
    if not structure.metrics:
        return ops.sum(per_model), (per_model, divisor, moving)
    logits = ops.stop_gradient(logits)
    tracked = metrics.totals(structure.metrics, structure.task, y, link(structure, logits), w, ops)
    return ops.sum(per_model), (per_model, divisor, moving, tracked)


# --- the trained weights as one flat array per model ------------------------------------------
def trainable_shapes(structure):
    return [w.shape for w in structure.layout if w.trainable]


def _side_by_side(arrays):
    """(M, ...) arrays as the columns of one (M, sum of their sizes) array."""
    return ops.concatenate([ops.reshape(a, (ops.shape(a)[0], -1)) for a in arrays], axis=1)


def flatten(structure, params):
    """``(trainable (M, P), frozen list)``: the weights the optimizer trains side by side in
    one array (so a step updates them all in a few operations), and the moving statistics.
    Works on NumPy arrays and on backend tensors."""
    trainable = [p for w, p in zip(structure.layout, params) if w.trainable]
    frozen = [p for w, p in zip(structure.layout, params) if not w.trainable]
    return _side_by_side(trainable), frozen


def unflatten(structure, trainable):
    """The trainable weights (in layout order) from their flat (M, P) array."""
    shapes = trainable_shapes(structure)
    sizes = [int(np.prod(shape)) for shape in shapes]
    pieces = ops.split(trainable, list(np.cumsum(sizes)[:-1]), axis=1)
    return [ops.reshape(piece, (-1,) + tuple(shape)) for piece, shape in zip(pieces, shapes)]


def merge(structure, trainable, frozen):
    """Trainable and frozen weights interleaved back in layout order."""
    trainable, frozen = iter(trainable), iter(frozen)
    return [next(trainable) if w.trainable else next(frozen) for w in structure.layout]


# --- one epoch ---------------------------------------------------------------------------------
def _select(active, new, old):
    """``new`` for the models ``active`` marks, ``old`` for the others. A stack of one is
    active at every step of its loop (the loop runs its own batches), so it needs none."""
    if old.shape[0] == 1:
        return new
    return ops.where(_per_model(active, len(old.shape)), new, old)


def _flat_rows(array):
    """``array`` (S, N, ...) read as (S * N, ...)."""
    return ops.reshape(array, (-1,) + tuple(array.shape[2:]))


def _solver_update(solver, trainable, gradient, slots, step, hyper, u_product):
    """:func:`~skdl.engine.optimizers.update` of ``solver`` on the stack's slot arrays
    (see :func:`slot_array`): returns the new weight and the new arrays it moved."""
    own = {name: slots[slot_array(name)] for name in SLOTS[solver]}
    weight, updated = update(solver, trainable, gradient, own, step, hyper, u_product)
    return weight, {slot_array(name): value for name, value in updated.items()}


def _update(structure, solver_index, trainable, gradient, slots, step, hyper, u_product):
    """Each model's step with its own solver on one trained array: every solver of the
    stack computes its update, and each model keeps its own solver's (and only its
    slots move)."""
    if len(structure.solvers) == 1:
        return _solver_update(structure.solvers[0], trainable, gradient, slots, step, hyper, u_product)
    weights, new_slots = [], {name: [] for name in slots}
    for solver in structure.solvers:
        weight, updated = _solver_update(solver, trainable, gradient, slots, step, hyper, u_product)
        weights.append(weight)
        for name in slots:
            new_slots[name].append(updated.get(name, slots[name]))
    chosen = {name: _select_by_index(solver_index, values) for name, values in new_slots.items()}
    return _select_by_index(solver_index, weights), chosen


def _carried(structure, flat):
    """The trained weights (or one slot) as an epoch's loop carries them.

    Usually the flat (M, P) array alone: a step runs a solver's few operations
    once, not once per weight, and compiles faster. With ``per_weight`` (big
    XLA stacks), one array per weight: the flat array would be copied into its
    pieces (and the gradients back) at every step, a seventh of a big
    network's step.
    """
    return unflatten(structure, flat) if structure.per_weight else [flat]


def _flat(structure, carried):
    """The inverse of :func:`_carried`."""
    if not structure.per_weight:
        return carried[0]
    return _side_by_side(carried)


def _weights(structure, carried):
    """The trained weights in layout order from what :func:`_carried` made."""
    return carried if structure.per_weight else unflatten(structure, carried[0])


def epoch(structure, value_and_grad, state, data, plan):
    """Train every running model of the stack on one epoch of its rows.

    ``state`` holds ``trainable`` (M, P) (see :func:`flatten`), ``frozen``
    (the moving statistics), ``slots`` (the solver's slot name -> an (M, P)
    array), ``step`` (M,) and ``u_product`` (M,); ``data`` the stack's inputs
    ``X`` (R, F) (each distinct array once, one after the other: every model
    reads its own rows of them) and its distinct target sets ``Y`` (S, N[, K])
    and ``W`` (S, N), zero-padded to N rows; ``plan`` which target set each
    model reads (``source``), how many of its rows (``n_rows``), in which
    order (``order`` (M, n_steps * batch_size): positions in its target set;
    ``x_order``: the rows of ``X`` at those positions), the step count, which
    models run, and their hyper-parameters and seeds.

    Returns the new state and each model's epoch loss: the mean of its
    minibatch objectives weighted by each batch's divisor; with
    ``structure.metrics``, an (M, 1 + K) array: the loss, then each metric's
    weighted mean over the epoch's rows.
    """
    batch_size = structure.batch_size
    n_rows, running, hyper = plan["n_rows"], plan["running"], plan["hyper"]
    X, Y, W = data["X"], _flat_rows(data["Y"]), _flat_rows(data["W"])
    base = ops.expand_dims(plan["source"] * ops.shape(data["Y"])[1], 1)
    positions = ops.expand_dims(ops.arange(batch_size, dtype="int32"), 0)
    limits = ops.expand_dims(n_rows, 1)
    n_models = ops.shape(plan["order"])[0]
    # Without decay in the stack, the update skips its two passes over the weights.
    update_hyper = hyper if structure.weight_decay else dict(hyper, weight_decay=None)

    def body(i, trainable, frozen, slots, step, u_product, loss_sum, weight_sum, metric_sum):
        start = i * batch_size
        rows = base + ops.slice(plan["order"], (0, start), (n_models, batch_size))
        x_rows = ops.slice(plan["x_order"], (0, start), (n_models, batch_size))
        real = ops.cast(positions + start < limits, "float32")
        active = ops.logical_and(running, start < n_rows)
        x, y, w = ops.take(X, x_rows, axis=0), ops.take(Y, rows, axis=0), ops.take(W, rows, axis=0) * real
        dropout = (hyper["dropout"], plan["seeds"], plan["epochs"], i)
        (_, (per_model, divisor, moving, *tracked)), gradients = value_and_grad(
            lambda t: objectives(structure, _weights(structure, t), frozen, x, y, w, real, hyper,
                                 plan["models"], dropout))(trainable)
        new_step = step + ops.cast(active, "float32")
        new_product = nadam_u_product(u_product, new_step, hyper["beta_1"]) \
            if "nadam" in structure.solvers else u_product
        step_hyper = update_hyper if not structure.scheduled else dict(  # Keras' iterations
            update_hyper, learning_rate=scheduled_learning_rate(hyper, step))
        updated, new_slots = [], {name: [] for name in slots}
        for k, (weight, gradient) in enumerate(zip(trainable, gradients)):
            new_weight, new_slot = _update(structure, plan["models"]["solver"], weight, gradient,
                                           {name: slots[name][k] for name in slots}, new_step,
                                           step_hyper, new_product)
            updated.append(_select(active, new_weight, weight))
            for name in slots:
                new_slots[name].append(_select(active, new_slot[name], slots[name][k]))
        return (i + 1, updated,
                [_select(active, new, old) for new, old in zip(moving, frozen)] if moving else frozen,
                new_slots,
                _select(active, new_step, step), _select(active, new_product, u_product),
                loss_sum + ops.where(active, per_model * divisor, 0.0),
                weight_sum + ops.where(active, divisor, 0.0),
                metric_sum + ops.where(ops.expand_dims(active, 1), tracked[0], 0.0) if tracked
                else metric_sum)

    zeros = ops.zeros_like(state["step"])
    metric_zeros = ops.zeros((ops.shape(zeros)[0], len(structure.metrics)), "float32")
    _, trainable, frozen, slots, step, u_product, loss_sum, weight_sum, metric_sum = ops.while_loop(
        lambda i, *_: i < plan["n_steps"], body,
        (ops.convert_to_tensor(0, "int32"), _carried(structure, state["trainable"]), state["frozen"],
         {name: _carried(structure, slot) for name, slot in state["slots"].items()},
         state["step"], state["u_product"], zeros, zeros, metric_zeros))
    weight_sum = ops.maximum(weight_sum, 1e-30)
    losses = loss_sum / weight_sum
    if structure.metrics:
        losses = ops.concatenate([ops.expand_dims(losses, 1),
                                  metric_sum / ops.expand_dims(weight_sum, 1)], axis=1)
    return ({"trainable": _flat(structure, trainable), "frozen": frozen,
             "slots": {name: _flat(structure, slot) for name, slot in slots.items()}, "step": step,
             "u_product": u_product}, losses)


# --- the few arrays a program call takes ----------------------------------------------------
#: Per-model numbers, one column each (then the unit masks and the gates).
FLOAT_COLUMNS = ("learning_rate", "momentum", "nesterov", "beta_1", "beta_2", "epsilon",
                 "weight_decay", "alpha", "l1", "dropout", "running") + SCHEDULE_COLUMNS
INT_COLUMNS = ("source", "n_rows", "seed", "epoch", "activation", "solver")


#: The slot array a stack keeps each solver's slot in, where it is not the slot's own:
#: slots of different solvers that start at the same value share one array (a model
#: moves its own solver's slots only), so that a stack of SGD and Adam networks carries
#: two slot arrays, not three (less to copy at every step; the changelog has the figures).
SHARED_SLOT_ARRAYS = {"momentum": "m", "velocity": "v", "u": "v"}


def slot_array(name):
    """The name of the stack's array that holds the solvers' slot ``name``."""
    return SHARED_SLOT_ARRAYS.get(name, name)


def slot_names(structure):
    """The stack's slot arrays, in the order a packed state holds them."""
    return sorted({slot_array(name) for solver in structure.solvers for name in SLOTS[solver]})


def _split_columns(array, widths):
    pieces = ops.split(array, list(np.cumsum(widths)[:-1]), axis=1) if len(widths) > 1 else [array]
    return pieces


def unpack_state(structure, packed):
    """A stack's training state from its four arrays: the trained weights (M, P), the
    slots (S, M, P), the moving statistics (M, Q) and the step counters (M, 2)."""
    trainable, slots, frozen, counters = packed
    shapes = [w.shape for w in structure.layout if not w.trainable]
    sizes = [int(np.prod(shape)) for shape in shapes]
    frozen = [ops.reshape(piece, (-1,) + tuple(shape))
              for piece, shape in zip(_split_columns(frozen, sizes), shapes)] if sizes else []
    return {"trainable": trainable, "slots": {name: slots[k] for k, name in enumerate(slot_names(structure))},
            "frozen": frozen, "step": counters[:, 0], "u_product": counters[:, 1]}


def pack_state(structure, state):
    """The inverse of :func:`unpack_state`."""
    trainable = state["trainable"]
    frozen = _side_by_side(state["frozen"]) if state["frozen"] else \
        ops.zeros((ops.shape(trainable)[0], 0))
    names = slot_names(structure)
    slots = ops.stack([state["slots"][name] for name in names]) if names else \
        ops.zeros((0,) + tuple(ops.shape(trainable)))
    return trainable, slots, frozen, ops.stack([state["step"], state["u_product"]], axis=1)


def unpack_plan(structure, floats, ints, order, x_order=None):
    """``plan`` for :func:`epoch` from one float and one int matrix (one row per model;
    :data:`FLOAT_COLUMNS`, the unit masks and the gates; :data:`INT_COLUMNS`) and the
    orders (positions in the target sets, rows of ``X``)."""
    depth = len(structure.widths)
    named = len(FLOAT_COLUMNS)
    pieces = _split_columns(floats, [1] * named + list(structure.widths) + [1] * depth)
    columns = {name: piece[:, 0] for name, piece in zip(FLOAT_COLUMNS, pieces)}
    running = columns.pop("running") > 0
    integers = {name: ints[:, k] for k, name in enumerate(INT_COLUMNS)}
    models = {"unit_masks": pieces[named:named + depth],
              "gates": [gate[:, 0] > 0 for gate in pieces[named + depth:]],
              "activation": integers["activation"], "solver": integers["solver"]}
    batches = (integers["n_rows"] + structure.batch_size - 1) // structure.batch_size
    return {"hyper": columns, "models": models, "running": running, "order": order,
            "x_order": x_order, "source": integers["source"], "n_rows": integers["n_rows"],
            "seeds": ops.cast(integers["seed"], "uint32"), "epochs": ops.cast(integers["epoch"], "uint32"),
            "n_steps": ops.max(ops.where(running, batches, 0))}


def packed_epoch(structure, value_and_grad, state, data, floats, ints, order, x_order):
    """:func:`epoch` on packed arguments (what a compiled program takes: few arrays)."""
    new_state, losses = epoch(structure, value_and_grad, unpack_state(structure, state), data,
                              unpack_plan(structure, floats, ints, order, x_order))
    return pack_state(structure, new_state), losses


def packed_evaluate(structure, state, data, floats, ints, order, x_order):
    """:func:`evaluate` on packed arguments."""
    unpacked = unpack_state(structure, state)
    return evaluate(structure, unpacked["trainable"], unpacked["frozen"], data,
                    unpack_plan(structure, floats, ints, order, x_order))


def packed_full_batch(structure, value_and_grad, state, data, floats, ints):
    """:func:`full_batch` on packed arguments; returns the loss, the flat gradient and the
    packed moving statistics."""
    unpacked = unpack_state(structure, state)
    plan = unpack_plan(structure, floats, ints, ops.zeros((1, 1), "int32"))
    loss, gradient, frozen = full_batch(structure, value_and_grad, unpacked["trainable"],
                                        unpacked["frozen"], data, plan["hyper"], plan["models"],
                                        plan["seeds"], plan["epochs"])
    packed = pack_state(structure, dict(unpacked, frozen=frozen))[2]
    return loss, gradient, packed


def evaluate(structure, trainable, frozen, data, plan):
    """Every model's outputs on its own held-out rows (M, N, K) and its weighted
    mean loss there (M,), without penalty (but for Keras' regularizers, which
    count in its validation loss: ``keras_penalty``); ``plan`` as for :func:`epoch`
    (``order`` and ``x_order`` list each model's rows, ``n_rows`` how many are real)."""
    rows = ops.expand_dims(plan["source"] * ops.shape(data["Y"])[1], 1) + plan["order"]
    Y, W = _flat_rows(data["Y"]), _flat_rows(data["W"])
    width = ops.shape(plan["order"])[1]
    real = ops.cast(ops.expand_dims(ops.arange(width, dtype="int32"), 0)
                    < ops.expand_dims(plan["n_rows"], 1), "float32")
    x = ops.take(data["X"], plan["x_order"], axis=0)
    y, w = ops.take(Y, rows, axis=0), ops.take(W, rows, axis=0) * real
    params = merge(structure, unflatten(structure, trainable), frozen)
    logits, _ = forward(structure, params, x, models=plan["models"])
    total = ops.sum(sample_losses(structure, y, logits) * w, axis=1)
    weight = ops.sum(w, axis=1)
    losses = total / ops.where(weight > 0, weight, 1.0)
    if structure.keras_penalty:
        losses = losses + penalty(structure, params, plan["hyper"]["alpha"], plan["hyper"]["l1"])
    return link(structure, logits), losses


def full_batch(structure, value_and_grad, trainable, frozen, data, hyper, models, seeds, counters):
    """L-BFGS' objective on all rows of a stack of one (``X`` (N, F), ``Y`` (1, N[, K]),
    ``W`` (1, N)), its flat gradient and the new moving statistics (training mode, as
    each minibatch step is)."""
    real = ops.ones(ops.shape(data["W"]), "float32")
    dropout = (hyper["dropout"], seeds, counters, 0)
    x = ops.expand_dims(data["X"], 0)
    (_, (per_model, _, moving, *_)), gradient = value_and_grad(
        lambda t: objectives(structure, unflatten(structure, t), frozen, x, data["Y"],
                             data["W"], real, hyper, models, dropout))(trainable)
    return per_model, gradient, moving or frozen


def initial_slots(structure, n_models, size):
    """The solvers' slot arrays at the start of training: NumPy (M, P) arrays."""
    values = {slot_array(name): value for solver in structure.solvers
              for name, value in SLOTS[solver].items()}
    return {name: np.full((n_models, size), value, np.float32) for name, value in values.items()}
