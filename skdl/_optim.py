"""Names users write -> Keras activations, solvers and per-sample losses.

Every table here is a plain dictionary so that a parameter's valid values are
the table's keys: the estimators' constraints and error messages read them.
"""

def _ops():
    from keras import ops

    return ops

#: scikit-learn's activation names plus the ones Keras users tune.
ACTIVATIONS = {
    "identity": "linear",
    "logistic": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "selu": "selu",
    "elu": "elu",
    "leaky_relu": "leaky_relu",
    "gelu": "gelu",
    "softplus": "softplus",
    "silu": "silu",
}

#: Output activations: the hidden ones, plus the classifiers' and the Poisson link.
OUTPUT_ACTIVATIONS = {**ACTIVATIONS, "softmax": "softmax", "exp": "exponential"}

STOCHASTIC_SOLVERS = ("sgd", "adam", "rmsprop", "adagrad", "adamw", "nadam", "adamax")
SOLVERS = STOCHASTIC_SOLVERS + ("lbfgs",)

KERNEL_INITIALIZERS = (
    "scikit-learn",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "random_normal",
    "random_uniform",
    "orthogonal",
)


def _softmax_cross_entropy(y, z):
    ops = _ops()
    return ops.sparse_categorical_crossentropy(y, z, from_logits=True)


def _sigmoid_cross_entropy(y, z):
    # Summed over labels, as scikit-learn's binary_log_loss is.
    ops = _ops()
    return ops.sum(ops.binary_crossentropy(y, z, from_logits=True), axis=-1)


def _softmax_squared_error(y, z):
    ops = _ops()
    onehot = ops.one_hot(y, ops.shape(z)[-1], dtype=z.dtype)
    return 0.5 * ops.mean(ops.square(onehot - ops.softmax(z)), axis=-1)


def _sigmoid_squared_error(y, z):
    ops = _ops()
    return 0.5 * ops.mean(ops.square(y - ops.sigmoid(z)), axis=-1)


def _squared_error(y, p):
    ops = _ops()
    return 0.5 * ops.mean(ops.square(y - p), axis=-1)


def _mean_squared_error(y, p):
    # Keras' "mse": not halved.
    ops = _ops()
    return ops.mean(ops.square(y - p), axis=-1)


def _absolute_error(y, p):
    ops = _ops()
    return ops.mean(ops.abs(y - p), axis=-1)


def _huber(y, p, delta=1.0):
    ops = _ops()
    error = ops.abs(y - p)
    quadratic = ops.minimum(error, delta)
    return ops.mean(0.5 * ops.square(quadratic) + delta * (error - quadratic), axis=-1)


def _poisson(y, z):
    ops = _ops()
    # Half Poisson deviance with a log link: the network outputs z = log(mean).
    y_log_y = ops.where(y > 0, y * ops.log(ops.maximum(y, 1e-30)), 0.0)
    return ops.sum(y_log_y - y * z - y + ops.exp(z), axis=-1)


#: (task, loss name) -> per-sample loss of (target, network output), batched over any
#: leading axes. Classification and Poisson losses take the logits (the output before
#: its softmax, sigmoid or exp); "multiclass" targets are integer codes.
LOSSES = {
    ("multiclass", "log_loss"): _softmax_cross_entropy,
    ("multiclass", "squared_error"): _softmax_squared_error,
    ("binary", "log_loss"): _sigmoid_cross_entropy,
    ("binary", "squared_error"): _sigmoid_squared_error,
    ("multilabel", "log_loss"): _sigmoid_cross_entropy,
    ("multilabel", "squared_error"): _sigmoid_squared_error,
    ("regression", "squared_error"): _squared_error,
    ("regression", "mean_squared_error"): _mean_squared_error,
    ("regression", "absolute_error"): _absolute_error,
    ("regression", "huber"): _huber,
    ("regression", "poisson"): _poisson,
}

CLASSIFIER_LOSSES = ("log_loss", "squared_error")
REGRESSOR_LOSSES = ("squared_error", "absolute_error", "huber", "poisson")
#: Losses only a user's Keras model trains with (see :mod:`skdl._lowering`).
KERAS_LOSSES = ("mean_squared_error",)
REGRESSOR_OUTPUT_ACTIVATIONS = ("identity", "relu", "softplus", "logistic", "tanh")
