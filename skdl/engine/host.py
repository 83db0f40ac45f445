"""A stack's arithmetic in NumPy on the host: the same math as :mod:`~skdl.engine.stack`,
with its gradients written out, so that nothing is traced or compiled.

A compiled program costs about a second before its first step; a small
search's stacks (a few hundred rows, networks of a few thousand weights)
train in less than that. For them, :mod:`~skdl.engine.planning` picks a
:class:`HostProgram`: it offers what a compiled
:class:`~skdl.engine.program.Program` offers (an epoch, an evaluation, the
full-batch objective of L-BFGS) on the same packed arrays, so the host loop,
the stack's packing and scikit-learn's rules are the ones every stack uses.
It computes in float32 like the compiled programs and agrees with them to
float32 rounding (``tests/test_host_program.py``). Each step reads only
the models that run it, and each model's solver updates only its own.

What it covers: dense networks (any depth, padded widths, gated depths,
wide & deep, dropout with the compiled stacks' own random bits) with the
activations of :data:`ACTIVATIONS` (all of skdl's), a classifier's log-loss
(:data:`LOSSES`), every regressor loss (and Keras' mse) and output, L2 and L1
penalties and every stochastic solver; batch normalization and a classifier's
squared error train in compiled programs.
"""

import functools

import numpy as np
import scipy.special

from .._network import NUMPY_ACTIVATIONS, SELU_ALPHA, SELU_SCALE
from .._optim import KERAS_LOSSES, REGRESSOR_LOSSES, REGRESSOR_OUTPUT_ACTIVATIONS, STOCHASTIC_SOLVERS
from .optimizers import SCHEDULE_COLUMNS, SLOTS, nadam_u_product, scheduled_learning_rate, update
from . import metrics, stack

def _gelu_derivative(z, h):
    return 0.5 * (1 + scipy.special.erf(z / np.sqrt(2))) + z * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)


#: The derivatives of the hidden activations (``NUMPY_ACTIVATIONS``, Keras' own with its
#: default arguments) from their input and output; None is one.
_DERIVATIVES = {
    "identity": lambda z, h: None,
    "relu": lambda z, h: z > 0,
    "tanh": lambda z, h: 1 - h * h,
    "logistic": lambda z, h: h * (1 - h),
    "elu": lambda z, h: np.where(z > 0, 1, h + 1),
    "selu": lambda z, h: np.where(z > 0, SELU_SCALE, h + SELU_SCALE * SELU_ALPHA),
    "leaky_relu": lambda z, h: np.where(z > 0, 1, 0.2),
    "softplus": lambda z, h: scipy.special.expit(z),
    "gelu": _gelu_derivative,
    "silu": lambda z, h: scipy.special.expit(z) * (1 + z - h),  # s + z s (1 - s), h = z s
}

#: Hidden activations: ``name -> (function, derivative from (input, output))``.
ACTIVATIONS = {name: (NUMPY_ACTIVATIONS[name], derivative) for name, derivative in _DERIVATIVES.items()}

#: Classifiers' (task, loss) -> the output activation the loss reads the logits through.
LOSSES = {
    ("multiclass", "log_loss"): "softmax",
    ("binary", "log_loss"): "logistic",
    ("multilabel", "log_loss"): "logistic",
}

def _covers_output(task, loss, output):
    """Whether the host computes ``loss`` of ``task`` read through ``output``: a classifier's
    :data:`LOSSES`, any of a regressor's (Poisson's through its log link, "exp")."""
    if task == "regression":
        return output == "exp" if loss == "poisson" else \
            (loss in REGRESSOR_LOSSES + KERAS_LOSSES and output in REGRESSOR_OUTPUT_ACTIVATIONS)
    return LOSSES.get((task, loss)) == output


def supports(requests):
    """Whether a :class:`HostProgram` can train a stack of ``requests``."""
    first = requests[0]
    return (_covers_output(first.training.task, first.training.loss, first.network.output_activation)
            and all(r.network.activation in ACTIVATIONS and not r.network.batch_normalization
                    for r in requests))


def _quiet(method):
    """``method`` with NumPy's floating-point warnings off: a diverging network's
    overflows are the host loop's to report (:mod:`~skdl.engine.runs`), not NumPy's."""
    @functools.wraps(method)
    def quiet(*args):
        with np.errstate(all="ignore"):
            return method(*args)
    return quiet


class _Backend:
    """What the host loop asks of a backend: arrays stay NumPy arrays."""

    name = "host"

    @staticmethod
    def to_numpy(tree):
        return tree


def _placed(value):
    if isinstance(value, dict):
        return {key: _placed(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_placed(v) for v in value)
    value = np.asarray(value)
    return value.astype(np.float32) if value.dtype == np.float64 else value


class HostProgram:
    """The functions of :class:`~skdl.engine.program.Program` for ``structure``, in NumPy."""

    backend = _Backend

    def __init__(self, structure, device=None):
        self.structure, self.device = structure, device
        shapes = stack.trainable_shapes(structure)
        sizes = [int(np.prod(shape)) for shape in shapes]
        self._pieces = list(zip(np.cumsum([0] + sizes[:-1]), sizes, shapes))

    def place(self, tree):
        return _placed(tree)

    # --- the weights as views into one flat (M, P) array --------------------------------
    def _views(self, flat):
        return [flat[:, start:start + size].reshape((len(flat),) + tuple(shape))
                for start, size, shape in self._pieces]

    # --- the program's functions -----------------------------------------------------------
    @_quiet
    def train_epoch(self, state, data, floats, ints, order, x_order):
        """:func:`~skdl.engine.stack.packed_epoch`.

        The models are put in order of their rows left to train (then of their
        solver) for the epoch, so that the models of each step are the first ones
        and every solver's are side by side: a step reads and updates views of the
        stack's arrays, not copies."""
        s = self.structure
        plan = _plan(s, floats, ints)
        rows_left = np.where(plan["running"], plan["n_rows"], 0)
        by = np.lexsort((plan["solver"], -rows_left))
        back = np.argsort(by)
        plan = _taken(plan, by)
        rows_left, order, x_order = rows_left[by], order[by], x_order[by]
        trainable, slots, frozen, counters = state[0][by], state[1][:, by], state[2], state[3][by]
        names = stack.slot_names(s)
        slot_arrays = {name: slots[k] for k, name in enumerate(names)}
        X, Y, W = data["X"], _flat_rows(data["Y"]), _flat_rows(data["W"])
        base = (plan["source"] * data["Y"].shape[1])[:, None]
        batch, n_models = s.batch_size, len(rows_left)
        losses, divisors = np.zeros(n_models, np.float64), np.zeros(n_models, np.float64)
        metric_sums = np.zeros((n_models, len(s.metrics)), np.float64)
        starts = np.arange(0, int(rows_left.max(initial=0)), batch)
        positions = np.arange(batch)
        ones = np.ones((n_models, batch), np.float32)
        steps = {}  # what the steps of k models share, by k
        for start, k in zip(starts, np.sum(rows_left[None] > starts[:, None], axis=1)):
            if k not in steps:
                taken = plan if k == n_models else _taken(plan, slice(0, k))
                steps[k] = (taken, self._solver_groups(taken, k))
            taken, groups = steps[k]
            mine, window = slice(0, k), slice(start, start + batch)
            real = ones[mine] if start + batch <= rows_left[k - 1] else \
                (positions[None] + start < taken["n_rows"][:, None]).astype(np.float32)
            rows = base[mine] + order[mine, window]
            x, y, w = X[x_order[mine, window]], Y[rows], W[rows] * real
            per_model, divisor, gradient, tracked = self._objective(
                trainable[mine], x, y, w, real, taken["hyper"], taken, start // batch)
            if s.metrics:
                metric_sums[mine] += tracked
            counters[mine, 0] += 1
            if "nadam" in s.solvers:
                counters[mine, 1] = nadam_u_product(counters[mine, 1], counters[mine, 0],
                                                    taken["hyper"]["beta_1"], np)
            self._update(trainable, gradient, slot_arrays, counters, groups)
            losses[mine] += per_model * divisor
            divisors[mine] += divisor
        packed_slots = np.stack([slot_arrays[name] for name in names]) if names else slots
        new_state = (trainable[back], packed_slots[:, back], frozen, counters[back])
        divisors = np.maximum(divisors, 1e-30)
        losses = losses / divisors
        if s.metrics:
            losses = np.concatenate([losses[:, None], metric_sums / divisors[:, None]], axis=1)
        return new_state, losses.astype(np.float32)[back]

    def _solver_groups(self, taken, k):
        """``(solver, models, hyper-parameters)`` of each solver among the first ``k`` models:
        ``models`` a slice where they are side by side, else their indices."""
        solvers, groups = self.structure.solvers, []
        for index, solver in enumerate(solvers):
            own = np.flatnonzero(taken["solver"] == index) if len(solvers) > 1 else np.arange(k)
            if not len(own):
                continue
            first, last = own[0], own[-1] + 1
            where = slice(first, last) if last - first == len(own) else own
            names = _UPDATE_HYPER + (SCHEDULE_COLUMNS if self.structure.scheduled else ())
            hyper = {name: taken["hyper"][name][where][:, None] for name in names}
            groups.append((solver, where, hyper))
        return groups

    def _update(self, trainable, gradient, slot_arrays, counters, groups):
        """Each model's step with its own solver (``groups``, see :meth:`_solver_groups`),
        in place."""
        decay = self.structure.weight_decay
        for solver, where, hyper in groups:
            if self.structure.scheduled:  # Keras' iterations: the updates before this one
                columns = {name: hyper[name][:, 0] for name in ("learning_rate",) + SCHEDULE_COLUMNS}
                rate = scheduled_learning_rate(columns, counters[where, 0] - 1, np)
                hyper = dict(hyper, learning_rate=rate.astype(np.float32)[:, None])
            weight, slots = trainable[where], {name: slot_arrays[stack.slot_array(name)][where]
                                                for name in SLOTS[solver]}
            step, u_product = counters[where, 0][:, None], counters[where, 1]
            _UPDATES[solver](weight, gradient[where], slots, step, hyper, u_product, decay)
            if isinstance(where, np.ndarray):  # a copy: put it back
                trainable[where] = weight
                for name, value in slots.items():
                    slot_arrays[stack.slot_array(name)][where] = value

    @_quiet
    def evaluate(self, state, data, floats, ints, order, x_order):
        """:func:`~skdl.engine.stack.packed_evaluate`."""
        s = self.structure
        trainable = state[0]
        plan = _plan(s, floats, ints)
        rows = (plan["source"] * data["Y"].shape[1])[:, None] + order
        real = (np.arange(order.shape[1])[None] < plan["n_rows"][:, None]).astype(np.float32)
        x = data["X"][x_order]
        y, w = _flat_rows(data["Y"])[rows], _flat_rows(data["W"])[rows] * real
        params = self._views(trainable)
        logits, _ = self._forward(params, x, plan)
        loss, _ = self._loss(y, logits)
        total, weight = np.sum(loss * w, axis=1), np.sum(w, axis=1)
        losses = total / np.where(weight > 0, weight, 1.0)
        if s.keras_penalty:
            losses = losses + self._penalty(params[0::2], plan["hyper"])
        return _link(s.output_activation, logits), losses

    @_quiet
    def full_batch(self, state, data, floats, ints):
        """:func:`~skdl.engine.stack.packed_full_batch`: L-BFGS' objective and gradient; also
        of a stack of networks on rows of their own (``X`` (M, N, F), ``real`` (M, N): which
        rows are not padding)."""
        plan = _plan(self.structure, floats, ints)
        x = data["X"] if data["X"].ndim == 3 else data["X"][None]
        real = data["real"] if "real" in data else np.ones(data["W"].shape, np.float32)
        per_model, _, gradient, _ = self._objective(state[0], x, data["Y"], data["W"], real,
                                                 plan["hyper"], plan, 0)
        return per_model, gradient, state[2]

    @staticmethod
    def select_improved(improved, new, old):
        return [np.where(np.reshape(improved, (-1,) + (1,) * (n.ndim - 1)), n, o) for n, o in zip(new, old)]

    # --- the arithmetic ---------------------------------------------------------------------
    def _forward(self, params, x, models, step=None):
        """The logits (M, B, K) and what the backward pass needs of each hidden layer;
        ``step`` (training: the minibatch's index in its epoch) draws the dropout masks."""
        s = self.structure
        values = iter(params)
        hidden, tape = x, []
        for layer, width in enumerate(s.widths):
            kernel, bias = next(values), next(values)
            z = np.matmul(hidden, kernel)
            z += bias[:, None, :]
            h = _activate(s.activations, models["activation"], z)
            out = h * models["unit_masks"][layer][:, None, :] if s.padded else h
            kept = None
            if s.dropout and step is not None:
                rates = models["hyper"]["dropout"][:, None, None]
                kept = (uniform(models["seed"], models["epoch"], step * 64 + layer, out.shape) >= rates,
                        1 - rates)
                out = np.where(kept[0], out / kept[1], 0)
            gate = None
            if s.gated and layer > 0:
                gate = models["gates"][layer][:, None, None]
                out = np.where(gate, out, _resize(hidden, width))
            tape.append((hidden, z, h, kept, gate))
            hidden = out
        if s.wide_and_deep and s.widths:
            hidden = np.concatenate([x, hidden], axis=-1)
        kernel, bias = next(values), next(values)
        logits = np.matmul(hidden, kernel)
        logits += bias[:, None, :]
        return logits, (tape, hidden)

    def _loss(self, y, logits):
        """Each row's loss (M, B) and its gradient with respect to the logits."""
        s = self.structure
        if s.task == "multiclass":
            shifted = logits - logits.max(axis=-1, keepdims=True)
            exp = np.exp(shifted)
            total = exp.sum(axis=-1, keepdims=True)
            labels = np.arange(y.size) * logits.shape[-1] + y.reshape(-1).astype(np.intp)
            loss = np.log(total[..., 0]) - shifted.reshape(-1)[labels].reshape(y.shape)
            gradient = exp
            gradient /= total
            gradient.reshape(-1)[labels] -= 1
            return loss, gradient
        if s.task in ("binary", "multilabel"):
            loss = np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))
            return np.sum(loss, axis=-1), scipy.special.expit(logits) - y
        if s.loss == "poisson":  # half the deviance, on the log link's logits
            y_log_y = np.where(y > 0, y * np.log(np.maximum(y, 1e-30)), 0)
            exp = np.exp(logits)
            return np.sum(y_log_y - y * logits - y + exp, axis=-1), exp - y
        output = s.output_activation
        predicted = ACTIVATIONS[output][0](logits)
        error, n_outputs = predicted - y, logits.shape[-1]
        if s.loss in ("squared_error", "mean_squared_error"):  # halved, or Keras' mse
            scale = 0.5 if s.loss == "squared_error" else 1.0
            loss, d_predicted = scale * np.mean(np.square(error), axis=-1), 2 * scale * error
        elif s.loss == "absolute_error":
            loss, d_predicted = np.mean(np.abs(error), axis=-1), np.sign(error)
        else:  # Huber's, delta 1
            size = np.abs(error)
            quadratic = np.minimum(size, 1.0)
            loss = np.mean(0.5 * np.square(quadratic) + (size - quadratic), axis=-1)
            d_predicted = quadratic * np.sign(error)
        derivative = ACTIVATIONS[output][1](logits, predicted)
        d_predicted = d_predicted / n_outputs
        return loss, d_predicted if derivative is None else d_predicted * derivative

    def _penalty(self, kernels, hyper):
        """Each model's ``0.5 * alpha * ||W||^2 (+ l1 * |W|)`` over its kernels (M,)."""
        penalty = 0.5 * hyper["alpha"] * sum(np.square(k).sum(axis=(1, 2)) for k in kernels)
        if self.structure.l1:
            penalty = penalty + hyper["l1"] * sum(np.abs(k).sum(axis=(1, 2)) for k in kernels)
        return penalty

    def _objective(self, trainable, x, y, w, real, hyper, models, step):
        """:func:`~skdl.engine.stack.objectives` of the minibatch ``step`` of its epoch:
        each model's objective (M,), its divisor (M,), the objective's gradient as a flat
        (M, P) array, and the metrics' sums over the minibatch (M, K) (None without
        metrics)."""
        s = self.structure
        params = self._views(trainable)
        logits, (tape, last) = self._forward(params, x, models, step)
        loss, d_logits = self._loss(y, logits)
        tracked = None if not s.metrics else metrics.totals(
            s.metrics, s.task, y, _link(s.output_activation, logits), w, np)
        weight = w.sum(axis=1)
        divisor = np.where(weight > 0, weight, np.maximum(real.sum(axis=1), 1.0)).astype(np.float32)
        penalty = self._penalty(params[0::2], hyper)
        if s.keras_penalty:  # Keras' regularizers: added to the mean loss
            per_model = (loss * w).sum(axis=1) / divisor + penalty
            penalty_divisor = np.ones_like(divisor)
        else:
            per_model = ((loss * w).sum(axis=1) + penalty) / divisor
            penalty_divisor = divisor
        gradient = np.empty_like(trainable)
        grads = self._views(gradient)
        scale = (hyper["alpha"] / penalty_divisor)[:, None, None]
        l1 = (hyper["l1"] / penalty_divisor)[:, None, None] if s.l1 else None
        delta = d_logits * (w / divisor[:, None])[..., None]

        def dense_gradients(layer, inputs, delta):
            """The layer's weights' gradients into ``grads``; the gradient of its inputs
            (None for the network's own inputs)."""
            kernel = params[2 * layer]
            np.matmul(inputs.transpose(0, 2, 1), delta, out=grads[2 * layer])
            grads[2 * layer] += scale * kernel
            if l1 is not None:
                grads[2 * layer] += l1 * np.sign(kernel)
            delta.sum(axis=1, out=grads[2 * layer + 1])
            if layer < depth and not s.hidden_bias:  # a bias-less hidden layer's stays zero
                grads[2 * layer + 1][...] = 0
            return np.matmul(delta, kernel.transpose(0, 2, 1)) if layer else None

        depth = len(s.widths)
        d_hidden = dense_gradients(depth, last, delta)
        if s.wide_and_deep and s.widths:
            d_hidden = d_hidden[..., s.n_features:]
        for layer in range(depth - 1, -1, -1):
            inputs, z, h, kept, gate = tape[layer]
            passed = None
            if gate is not None:
                passed = _resize(np.where(gate, 0, d_hidden), inputs.shape[-1])
                d_hidden = np.where(gate, d_hidden, 0)
            if kept is not None:  # dropout's
                d_hidden = np.where(kept[0], d_hidden / kept[1], 0)
            if s.padded:
                d_hidden = d_hidden * models["unit_masks"][layer][:, None, :]
            d_z = _activation_gradient(s.activations, models["activation"], z, h, d_hidden)
            d_inputs = dense_gradients(layer, inputs, d_z)
            if passed is not None:
                d_inputs += passed
            d_hidden = d_inputs
        return per_model, divisor, gradient, tracked


#: The hyper-parameters the solvers' updates read.
_UPDATE_HYPER = ("learning_rate", "momentum", "nesterov", "beta_1", "beta_2", "epsilon", "weight_decay")


# --- the compiled stacks' random bits (:func:`~skdl.engine.stack.uniform`), in NumPy -------
def _mix(x):
    """:func:`~skdl.engine.stack._mix` on uint32 arrays (their products wrap as there)."""
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846CA68B)
    return x ^ (x >> np.uint32(16))


def uniform(seeds, counters, step, shape):
    """:func:`~skdl.engine.stack.uniform`: the same floats in [0, 1) of ``shape`` (M, rows,
    units) from each model's ``seeds`` and ``counters`` (uint32 (M,)) and ``step``."""
    step = _mix(np.asarray([step], np.uint32))
    key = _mix(seeds ^ _mix(counters * np.uint32(0x9E3779B9) + step))
    rows = np.arange(shape[1], dtype=np.uint32)
    units = np.arange(shape[2], dtype=np.uint32)
    position = rows[:, None] * np.uint32(0x9E3779B1) + units[None, :] * np.uint32(0x85EBCA77)
    bits = _mix(key[:, None, None] ^ _mix(position[None]))
    return (bits >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / 2**24)


def _flat_rows(array):
    return array.reshape((-1,) + array.shape[2:])


def _plan(structure, floats, ints):
    """The per-model columns of :func:`~skdl.engine.stack.unpack_plan`, as NumPy arrays."""
    depth = len(structure.widths)
    named = len(stack.FLOAT_COLUMNS)
    columns = {name: floats[:, k] for k, name in enumerate(stack.FLOAT_COLUMNS)}
    running = columns.pop("running") > 0
    bounds = np.cumsum([named] + list(structure.widths))
    masks = [floats[:, a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    gates = [floats[:, bounds[-1] + layer] > 0 for layer in range(depth)]
    integers = {name: ints[:, k] for k, name in enumerate(stack.INT_COLUMNS)}
    return {"hyper": columns, "running": running, "n_rows": integers["n_rows"],
            "source": integers["source"], "activation": integers["activation"],
            "solver": integers["solver"], "unit_masks": masks, "gates": gates,
            "seed": integers["seed"].astype(np.uint32), "epoch": integers["epoch"].astype(np.uint32)}


def _taken(plan, index):
    """``plan`` of the models ``index`` picks (a slice or indices), in its order."""
    return {"hyper": {name: value[index] for name, value in plan["hyper"].items()},
            "unit_masks": [mask[index] for mask in plan["unit_masks"]],
            "gates": [gate[index] for gate in plan["gates"]],
            **{name: plan[name][index] for name in ("running", "n_rows", "source", "activation", "solver",
                                                    "seed", "epoch")}}


# --- the solvers' steps, in place -------------------------------------------------------------
def _decay(weight, hyper, decay):
    if decay:  # decoupled weight decay first, as Keras' Optimizer.apply does
        weight -= weight * hyper["weight_decay"] * hyper["learning_rate"]


def _sgd(weight, gradient, slots, step, hyper, u_product, decay):
    """Keras' SGD (:func:`~skdl.engine.optimizers.update`), in place."""
    _decay(weight, hyper, decay)
    momentum, rate = slots["momentum"], hyper["momentum"]
    scaled = gradient * hyper["learning_rate"]
    momentum *= rate
    momentum -= scaled
    nesterov = hyper["nesterov"] > 0
    if nesterov.all():
        scaled *= -1
        scaled += momentum * rate
        weight += scaled
    elif not nesterov.any():
        weight += momentum
    else:
        weight += np.where(nesterov, momentum * rate - scaled, momentum)


def _adam(weight, gradient, slots, step, hyper, u_product, decay):
    """Keras' Adam and AdamW (:func:`~skdl.engine.optimizers.update`), in place."""
    _decay(weight, hyper, decay)
    m, v, beta_1, beta_2 = slots["m"], slots["v"], hyper["beta_1"], hyper["beta_2"]
    change = gradient - m
    change *= 1 - beta_1
    m += change
    np.square(gradient, out=change)
    change -= v
    change *= 1 - beta_2
    v += change
    rate = hyper["learning_rate"] * np.sqrt(1 - np.power(beta_2, step)) / (1 - np.power(beta_1, step))
    denominator = np.sqrt(v)
    denominator += hyper["epsilon"]
    np.multiply(m, rate, out=change)
    change /= denominator
    weight -= change


def _generic_update(solver):
    """:func:`~skdl.engine.optimizers.update` of ``solver`` in NumPy, written into its arrays."""
    def step_in_place(weight, gradient, slots, step, hyper, u_product, decay):
        flat = {name: value[:, 0] for name, value in hyper.items()}
        if not decay:
            flat["weight_decay"] = None
        new, moved = update(solver, weight, gradient, slots, step[:, 0], flat, u_product, np)
        weight[...] = new
        for name, value in moved.items():
            slots[name][...] = value
    return step_in_place


#: Each stochastic solver's step in place: SGD's and Adam's written out, the others Keras'.
_UPDATES = {**{solver: _generic_update(solver) for solver in STOCHASTIC_SOLVERS},
            "sgd": _sgd, "adam": _adam, "adamw": _adam}


def _resize(hidden, width):
    current = hidden.shape[-1]
    if current >= width:
        return hidden[..., :width]
    return np.pad(hidden, ((0, 0), (0, 0), (0, width - current)))


def _activate(names, index, z):
    """Each model's activation (``names[index[m]]``) of ``z``, in ``z``'s dtype."""
    if len(names) == 1:
        return ACTIVATIONS[names[0]][0](z).astype(z.dtype, copy=False)
    out = np.empty_like(z)
    for k, name in enumerate(names):
        mine = index == k
        if mine.any():
            out[mine] = ACTIVATIONS[name][0](z[mine])
    return out


def _activation_gradient(names, index, z, h, d_h):
    if len(names) == 1:
        derivative = ACTIVATIONS[names[0]][1](z, h)
        return d_h if derivative is None else d_h * derivative
    out = np.empty_like(d_h)
    for k, name in enumerate(names):
        mine = index == k
        if mine.any():
            derivative = ACTIVATIONS[name][1](z[mine], h[mine])
            out[mine] = d_h[mine] if derivative is None else d_h[mine] * derivative
    return out


def _link(name, logits):
    return NUMPY_ACTIVATIONS[name](logits).astype(np.float32, copy=False)
