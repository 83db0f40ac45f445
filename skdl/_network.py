"""Estimator parameters -> a Keras network, and fresh initial weights for it."""

from dataclasses import dataclass

import keras
import numpy as np

from ._optim import ACTIVATIONS


@dataclass(frozen=True)
class NetworkSpec:
    """Everything that fixes a network's graph; hashable, so it keys caches.

    ``output_activation`` is applied inside the network (regressors);
    classifiers keep ``"identity"`` and their losses work on logits.
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


def build_network(spec):
    """Build the Keras functional model described by ``spec``.

    Each hidden layer is ``Dense -> [BatchNormalization] -> activation ->
    [Dropout]``. With ``wide_and_deep`` the input is concatenated with the last
    hidden layer before the output layer (Cheng et al., 2016).

    Examples
    --------
    >>> from skdl._network import NetworkSpec, build_network
    >>> model = build_network(NetworkSpec(4, (8,), "relu", 3, wide_and_deep=True))
    >>> [w.shape for w in model.get_weights()]
    [(4, 8), (8,), (12, 3), (3,)]
    """
    inputs = keras.Input((spec.n_features,))
    hidden = inputs
    for units in spec.hidden_layer_sizes:
        hidden = keras.layers.Dense(units)(hidden)
        if spec.batch_normalization:
            hidden = keras.layers.BatchNormalization()(hidden)
        hidden = keras.layers.Activation(ACTIVATIONS[spec.activation])(hidden)
        if spec.dropout > 0:
            hidden = keras.layers.Dropout(spec.dropout)(hidden)
    if spec.wide_and_deep and spec.hidden_layer_sizes:
        hidden = keras.layers.Concatenate()([inputs, hidden])
    outputs = keras.layers.Dense(spec.n_outputs, activation=ACTIVATIONS[spec.output_activation])(hidden)
    return keras.Model(inputs, outputs)


def dense_layers(model):
    """The model's Dense layers, input side first."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def kernel_initializer(name, seed):
    """The Keras initializer ``name`` seeded with ``seed`` (an int or a ``SeedGenerator``)."""
    return type(keras.initializers.get(name))(seed=seed)


def initial_weights(model, kernel_initializer_name, seed):
    """Fresh values for ``model.weights``, drawn reproducibly from ``seed``.

    Kernels come from ``kernel_initializer`` (a Keras initializer name), biases
    and batch-norm shifts are zero, batch-norm scales and variances one.
    """
    values = []
    for index, layer in enumerate(model.layers):
        if isinstance(layer, keras.layers.Dense):
            init = kernel_initializer(kernel_initializer_name, int(seed) + index)
            values.append(np.asarray(keras.ops.convert_to_numpy(init(layer.kernel.shape)), "float32"))
            values.append(np.zeros(layer.bias.shape, "float32"))
        elif isinstance(layer, keras.layers.BatchNormalization):
            ones, zeros = np.ones(layer.gamma.shape, "float32"), np.zeros(layer.gamma.shape, "float32")
            values += [ones, zeros, zeros.copy(), ones.copy()]
    return values
