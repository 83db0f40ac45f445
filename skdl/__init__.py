"""skdl: scikit-learn estimators whose models are Keras networks."""

import os

from . import _startup_log

# TensorFlow's C++ start-up chatter (oneDNN notices) drowns a search's output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_startup_log.install()
# Several processes (n_jobs, Ray workers) share one GPU: take memory as needed.
os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

__version__ = "0.1.0"

from ._config import config_context, get_config, set_config  # noqa: E402
from .mlp import MLPClassifier, MLPClassifierTF, MLPRegressor, MLPRegressorTF  # noqa: E402
from ._parallel import start_workers  # noqa: E402
from .perceptron import Perceptron  # noqa: E402
from .wrappers import KerasClassifier, KerasRegressor  # noqa: E402

__all__ = ["MLPClassifierTF", "MLPRegressorTF", "MLPClassifier", "MLPRegressor", "Perceptron",
           "KerasClassifier", "KerasRegressor",
           "start_workers", "set_config", "get_config", "config_context", "__version__"]
