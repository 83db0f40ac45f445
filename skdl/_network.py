"""A network's description, the layout of its weights, and the network in NumPy and in Keras.

:class:`NetworkSpec` says what a network is; :func:`layout` names its
weights, in one order that everything else follows (the engine's stacked
arrays, the estimators' ``coefs_`` / ``intercepts_`` / ``batch_norm_``,
Keras' ``model.weights``). :func:`initial_weights` draws fresh weights from
a seed, :func:`forward` runs the network in NumPy (what ``predict`` uses),
and :func:`build_network` builds the equivalent Keras model for export and
for Keras callbacks.
"""

import functools
from dataclasses import dataclass

import numpy as np
import scipy.special

from ._optim import OUTPUT_ACTIVATIONS

#: Keras' BatchNormalization defaults, which the engine follows.
BN_MOMENTUM, BN_EPSILON = 0.99, 1e-3


@dataclass(frozen=True)
class NetworkSpec:
    """Everything that fixes a network's shape and arithmetic; hashable.

    ``output_activation`` is what the network applies to its last layer
    (a regressor's ``output_activation``, or a classifier's softmax /
    sigmoid); training computes a classifier's loss from the logits before it.
    ``hidden_bias`` False: the hidden layers add no bias (their bias weights stay
    zero, untrained), as a Keras ``Dense(use_bias=False)`` before a batch
    normalization.
    """

    n_features: int
    hidden_layer_sizes: tuple
    activation: str
    n_outputs: int
    output_activation: str = "identity"
    dropout: float = 0.0
    batch_normalization: bool = False
    wide_and_deep: bool = False
    kernel_initializer: str = "glorot_uniform"
    hidden_bias: bool = True

    @property
    def output_inputs(self):
        """Width of the output layer's input: the last hidden layer (and the input, wide & deep)."""
        sizes = self.hidden_layer_sizes
        if not sizes:
            return self.n_features
        return sizes[-1] + (self.n_features if self.wide_and_deep else 0)


@dataclass(frozen=True)
class Weight:
    """One named array of a network: its layer (hidden layers from 0, then the output
    layer), its role, its shape, and whether the optimizer trains it."""

    layer: int
    role: str
    shape: tuple

    @property
    def trainable(self):
        return self.role not in ("moving_mean", "moving_variance")

    @property
    def name(self):
        return f"{self.layer}/{self.role}"


BN_ROLES = ("gamma", "beta", "moving_mean", "moving_variance")


@functools.lru_cache(maxsize=256)
def layout(spec):
    """The network's weights in order: each hidden layer's kernel and bias (then its batch
    normalization's gamma, beta, moving mean and variance), then the output layer's.

    It is Keras' ``model.weights`` order for :func:`build_network`'s model.

    Examples
    --------
    >>> from skdl._network import NetworkSpec, layout
    >>> [(w.name, w.shape) for w in layout(NetworkSpec(4, (8,), "relu", 3))]
    [('0/kernel', (4, 8)), ('0/bias', (8,)), ('1/kernel', (8, 3)), ('1/bias', (3,))]
    """
    weights, fan_in = [], spec.n_features
    for layer, units in enumerate(spec.hidden_layer_sizes):
        weights += [Weight(layer, "kernel", (fan_in, units)), Weight(layer, "bias", (units,))]
        if spec.batch_normalization:
            weights += [Weight(layer, role, (units,)) for role in BN_ROLES]
        fan_in = units
    depth = len(spec.hidden_layer_sizes)
    weights += [Weight(depth, "kernel", (spec.output_inputs, spec.n_outputs)),
                Weight(depth, "bias", (spec.n_outputs,))]
    return tuple(weights)


def split_weights(spec, weights):
    """``(coefs, intercepts, batch_norm)`` from weights in :func:`layout` order:
    the kernels, the biases, and one dict of batch-norm arrays per hidden layer."""
    coefs, intercepts, batch_norm = [], [], []
    for weight, value in zip(layout(spec), weights):
        if weight.role == "kernel":
            coefs.append(value)
        elif weight.role == "bias":
            intercepts.append(value)
        else:
            if weight.role == "gamma":
                batch_norm.append({})
            batch_norm[-1][weight.role] = value
    return coefs, intercepts, batch_norm


def join_weights(spec, coefs, intercepts, batch_norm):
    """The inverse of :func:`split_weights`."""
    weights = []
    for weight in layout(spec):
        if weight.role == "kernel":
            weights.append(coefs[weight.layer])
        elif weight.role == "bias":
            weights.append(intercepts[weight.layer])
        else:
            weights.append(batch_norm[weight.layer][weight.role])
    return weights


# --- fresh weights ------------------------------------------------------------------------
#: Keras' variance-scaling initializers as (scale, mode, distribution).
_VARIANCE_SCALING = {
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "he_normal": (2.0, "fan_in", "truncated_normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
    "lecun_normal": (1.0, "fan_in", "truncated_normal"),
}


def _truncated_normal(rng, shape, stddev):
    """Normal values redrawn until within two standard deviations, as Keras draws them."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return values * stddev


def draw_kernel(name, shape, rng):
    """A kernel of ``shape`` drawn as Keras' initializer ``name`` draws it (float64)."""
    fan_in, fan_out = shape
    if name in _VARIANCE_SCALING:
        scale, mode, distribution = _VARIANCE_SCALING[name]
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = scale / max(1.0, fan)
        if distribution == "uniform":
            limit = np.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, shape)
        # Keras' constant: the stddev of a unit normal truncated at +-2.
        return _truncated_normal(rng, shape, np.sqrt(variance) / 0.87962566103423978)
    if name == "random_normal":
        return rng.normal(0.0, 0.05, shape)
    if name == "random_uniform":
        return rng.uniform(-0.05, 0.05, shape)
    if name == "orthogonal":
        rows, cols = shape
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q = q * np.sign(np.diag(r))
        return q.T if rows < cols else q
    raise ValueError(f"Unknown kernel_initializer {name!r}.")


def sklearn_initial_weights(spec, random_state):
    """Fresh float32 weights in :func:`layout` order, drawn as scikit-learn's MLP draws them.

    Each dense layer in turn draws its kernel, then its bias, from
    ``random_state`` (a :class:`numpy.random.RandomState`, advanced as
    scikit-learn's ``_init_coef`` advances it), uniform in ``±sqrt(6 / (fan_in +
    fan_out))``, or ``±sqrt(2 / (fan_in + fan_out))`` for
    ``activation="logistic"`` (the output layer too). Batch-norm scales and
    variances start at one, shifts and means at zero.

    Examples
    --------
    >>> import numpy as np
    >>> from skdl._network import NetworkSpec, sklearn_initial_weights
    >>> stream = np.random.RandomState(0)
    >>> weights = sklearn_initial_weights(NetworkSpec(3, (5,), "relu", 2), stream)
    >>> [w.shape for w in weights]
    [(3, 5), (5,), (5, 2), (2,)]
    >>> bool(np.allclose(weights[0], np.random.RandomState(0).uniform(-np.sqrt(6 / 8),
    ...                                                               np.sqrt(6 / 8), (3, 5))))
    True
    """
    factor = 2.0 if spec.activation == "logistic" else 6.0
    bounds = {}

    def kernel(weight):
        bounds[weight.layer] = bound = np.sqrt(factor / (weight.shape[0] + weight.shape[1]))
        return random_state.uniform(-bound, bound, weight.shape)

    def bias(weight):
        return random_state.uniform(-bounds[weight.layer], bounds[weight.layer], weight.shape)

    return _fresh_weights(spec, kernel, bias)


def _fresh_weights(spec, kernel, bias):
    """Weights in :func:`layout` order (float32): ``kernel(weight)`` and ``bias(weight)``
    for the dense layers, in that order; batch norm's at their start (scales and
    variances one, shifts and means zero)."""
    values = []
    for weight in layout(spec):
        if weight.role == "kernel":
            value = kernel(weight)
        elif weight.role == "bias":
            value = bias(weight)
        elif weight.role in ("gamma", "moving_variance"):
            value = np.ones(weight.shape)
        else:
            value = np.zeros(weight.shape)
        values.append(np.asarray(value).astype(np.float32))
    return values


def initial_weights(spec, seed):
    """Fresh float32 weights in :func:`layout` order, drawn from ``seed`` alone.

    With ``kernel_initializer="scikit-learn"``, scikit-learn's initialisation from
    ``numpy.random.RandomState(seed)`` (:func:`sklearn_initial_weights`). Else:

    Each kernel comes from its own stream (``seed`` and the layer's index),
    so a network's first layers start the same whatever follows them.
    Biases and batch-norm shifts start at zero, scales and variances at one.

    Examples
    --------
    >>> from skdl._network import NetworkSpec, initial_weights
    >>> a = initial_weights(NetworkSpec(4, (8,), "relu", 3), seed=0)
    >>> b = initial_weights(NetworkSpec(4, (8, 5), "relu", 3), seed=0)
    >>> bool((a[0] == b[0]).all()), float(a[1].sum())
    (True, 0.0)
    """
    if spec.kernel_initializer == "scikit-learn":
        return sklearn_initial_weights(spec, np.random.RandomState(int(seed) % 2**32))
    return _fresh_weights(
        spec, lambda weight: draw_kernel(spec.kernel_initializer, weight.shape,
                                         np.random.default_rng([int(seed), weight.layer])),
        lambda weight: np.zeros(weight.shape))


# --- the network in NumPy -------------------------------------------------------------------
#: Keras' SELU constants.
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def _selu(x):
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))


#: NumPy versions of the activations in ``ACTIVATIONS`` (Keras' definitions).
NUMPY_ACTIVATIONS = {
    "identity": lambda x: x,
    "logistic": scipy.special.expit,
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0),
    "selu": _selu,
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "gelu": lambda x: 0.5 * x * (1.0 + scipy.special.erf(x / np.sqrt(2.0))),
    "softplus": lambda x: np.logaddexp(x, 0),
    "silu": lambda x: x * scipy.special.expit(x),
    "softmax": lambda x: scipy.special.softmax(x, axis=-1),
    "exp": np.exp,
}


def forward(spec, weights, X):
    """The network's output for ``X`` in NumPy, in ``X``'s floating dtype (inference:
    dropout off, batch normalization with its moving statistics).

    Examples
    --------
    >>> import numpy as np
    >>> from skdl._network import NetworkSpec, forward, initial_weights
    >>> spec = NetworkSpec(4, (8,), "relu", 3, output_activation="softmax")
    >>> forward(spec, initial_weights(spec, 0), np.ones((2, 4))).sum(axis=1)
    array([1., 1.])
    """
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    values = iter(np.asarray(w, dtype) for w in weights)
    hidden = X
    activation = NUMPY_ACTIVATIONS[spec.activation]
    for _ in spec.hidden_layer_sizes:
        hidden = hidden @ next(values) + next(values)
        if spec.batch_normalization:
            gamma, beta, mean, variance = (next(values) for _ in BN_ROLES)
            hidden = (hidden - mean) / np.sqrt(variance + dtype.type(BN_EPSILON)) * gamma + beta
        hidden = activation(hidden)
    if spec.wide_and_deep and spec.hidden_layer_sizes:
        hidden = np.concatenate([X, hidden], axis=1)
    return NUMPY_ACTIVATIONS[spec.output_activation](hidden @ next(values) + next(values))


# --- the network in Keras --------------------------------------------------------------------
def build_network(spec, weights=None):
    """The Keras functional model of ``spec`` (with ``weights`` when given).

    Each hidden layer is ``Dense -> [BatchNormalization] -> activation ->
    [Dropout]``. With ``wide_and_deep`` the input is concatenated with the last
    hidden layer before the output layer (Cheng et al., 2016). Its weights
    are in :func:`layout` order.

    Examples
    --------
    >>> from skdl._network import NetworkSpec, build_network
    >>> model = build_network(NetworkSpec(4, (8,), "relu", 3, wide_and_deep=True))
    >>> [tuple(w.shape) for w in model.weights]
    [(4, 8), (8,), (12, 3), (3,)]
    """
    import keras

    inputs = keras.Input((spec.n_features,))
    hidden = inputs
    for units in spec.hidden_layer_sizes:
        hidden = keras.layers.Dense(units)(hidden)
        if spec.batch_normalization:
            hidden = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON)(hidden)
        hidden = keras.layers.Activation(OUTPUT_ACTIVATIONS[spec.activation])(hidden)
        if spec.dropout > 0:
            hidden = keras.layers.Dropout(spec.dropout)(hidden)
    if spec.wide_and_deep and spec.hidden_layer_sizes:
        hidden = keras.layers.Concatenate()([inputs, hidden])
    outputs = keras.layers.Dense(spec.n_outputs,
                                 activation=OUTPUT_ACTIVATIONS[spec.output_activation])(hidden)
    model = keras.Model(inputs, outputs)
    if weights is not None:
        model.set_weights([np.asarray(w, np.float32) for w in weights])
    return model
