"""Keras' optimizer updates for a stack of networks, each with its own hyper-parameters.

The arithmetic is Keras 3's (``keras/src/optimizers/{sgd,adam,adamax,...}.py``,
with decoupled weight decay applied first as ``Optimizer.apply`` does), but
every hyper-parameter is a vector with one value per model, and every array
has a leading model axis. Written once with ``keras.ops`` for every backend;
``tests/test_optimizers.py`` checks each rule against Keras' own optimizer.
"""

import numpy as np
from keras import ops

#: The slot arrays each solver keeps per trained weight, and their initial value.
SLOTS = {
    "sgd": {"momentum": 0.0},
    "adam": {"m": 0.0, "v": 0.0},
    "adamw": {"m": 0.0, "v": 0.0},
    "nadam": {"m": 0.0, "v": 0.0},
    "rmsprop": {"velocity": 0.0},
    "adagrad": {"accumulator": 0.1},
    "adamax": {"m": 0.0, "u": 0.0},
    "lbfgs": {},
}

#: Per-model hyper-parameters the updates read (vectors of length M); ``nesterov`` is 1.0
#: for Nesterov's momentum, 0.0 for plain momentum.
HYPER_PARAMETERS = ("learning_rate", "momentum", "nesterov", "beta_1", "beta_2", "epsilon",
                    "weight_decay")

#: Learning-rate schedules, by their index in a stack's ``schedule`` column (0: none); see
#: :class:`~skdl.engine.request.KerasSchedule`.
SCHEDULES = (None, "exponential", "inverse_time", "polynomial", "cosine")

#: The per-model columns a schedule reads besides the learning rate.
SCHEDULE_COLUMNS = ("schedule", "decay_steps", "decay_rate", "decay_power", "staircase")


def scheduled_learning_rate(hyper, iterations, xp=ops):
    """Each model's learning rate (M,) after ``iterations`` (M,) updates, under its schedule
    (``hyper``: the ``learning_rate`` it starts from and :data:`SCHEDULE_COLUMNS`), computed
    as ``keras.optimizers.schedules`` computes it."""
    initial, kind, rate = hyper["learning_rate"], hyper["schedule"], hyper["decay_rate"]
    steps = xp.maximum(hyper["decay_steps"], 1.0)
    p = iterations / steps
    p = xp.where(hyper["staircase"] > 0, xp.floor(p), p)
    done = xp.minimum(iterations, steps) / steps
    rates = [initial, initial * xp.power(rate, p), initial / (1.0 + rate * p),
             (initial - rate) * xp.power(1.0 - done, hyper["decay_power"]) + rate,
             initial * ((1.0 - rate) * (0.5 * (1.0 + xp.cos(np.pi * done))) + rate)]
    chosen = rates[0]
    for index, value in enumerate(rates[1:], start=1):
        chosen = xp.where(kind == index, value, chosen)
    return chosen


#: Keras' defaults for what skdl does not expose.
RMSPROP_RHO, NADAM_DECAY = 0.9, 0.96


def _per_model(vector, like, xp=ops):
    """``vector`` (M,) shaped to broadcast against ``like`` (M, ...)."""
    return xp.reshape(vector, (-1,) + (1,) * (len(like.shape) - 1))


def nadam_u_product(u_product, step, beta_1, xp=ops):
    """Nadam's running product of momentum schedules after step ``step`` (1-based)."""
    return u_product * beta_1 * (1.0 - 0.5 * xp.power(NADAM_DECAY, step))


def update(solver, weight, gradient, slots, step, hyper, u_product=None, xp=ops):
    """One step of ``solver`` for one weight of every model: ``(new weight, new slots)``.

    ``slots`` maps the solver's slot names to arrays shaped like ``weight``;
    ``step`` (M,) is each model's 1-based step number; ``hyper`` maps
    :data:`HYPER_PARAMETERS` to (M,) vectors; ``u_product`` is Nadam's
    product *after* this step's factor (see :func:`nadam_u_product`). ``xp``: the array
    functions to compute with (``keras.ops``, or NumPy on the host).
    """
    h = {name: _per_model(value, weight, xp) for name, value in hyper.items() if value is not None}
    lr = h["learning_rate"]
    if "weight_decay" in h:  # None: no model of the stack decays its weights
        weight = weight - weight * h["weight_decay"] * lr
    if solver == "sgd":
        momentum = slots["momentum"] * h["momentum"] - gradient * lr
        change = xp.where(h["nesterov"] > 0, momentum * h["momentum"] - gradient * lr, momentum)
        return weight + change, {"momentum": momentum}
    if solver == "rmsprop":
        velocity = RMSPROP_RHO * slots["velocity"] + (1 - RMSPROP_RHO) * xp.square(gradient)
        return weight - lr * gradient / xp.sqrt(velocity + h["epsilon"]), {"velocity": velocity}
    if solver == "adagrad":
        accumulator = slots["accumulator"] + xp.square(gradient)
        return (weight - lr * gradient / xp.sqrt(accumulator + h["epsilon"]),
                {"accumulator": accumulator})
    beta_1, beta_2, epsilon = h["beta_1"], h["beta_2"], h["epsilon"]
    step = _per_model(step, weight, xp)
    m = slots["m"] + (gradient - slots["m"]) * (1 - beta_1)
    if solver == "adamax":
        u = xp.maximum(beta_2 * slots["u"], xp.abs(gradient))
        return weight - lr * m / ((1 - xp.power(beta_1, step)) * (u + epsilon)), {"m": m, "u": u}
    v = slots["v"] + (xp.square(gradient) - slots["v"]) * (1 - beta_2)
    if solver in ("adam", "adamw"):
        alpha = lr * xp.sqrt(1 - xp.power(beta_2, step)) / (1 - xp.power(beta_1, step))
        return weight - m * alpha / (xp.sqrt(v) + epsilon), {"m": m, "v": v}
    if solver == "nadam":
        u_t = beta_1 * (1.0 - 0.5 * xp.power(NADAM_DECAY, step))
        u_next = beta_1 * (1.0 - 0.5 * xp.power(NADAM_DECAY, step + 1))
        product = _per_model(u_product, weight, xp)
        m_hat = u_next * m / (1 - product * u_next) + (1 - u_t) * gradient / (1 - product)
        v_hat = v / (1 - xp.power(beta_2, step))
        return weight - m_hat * lr / (xp.sqrt(v_hat) + epsilon), {"m": m, "v": v}
    raise ValueError(f"No stochastic update for solver={solver!r}.")
