"""
Bayesian search of depth, width, learning rate and alpha with Optuna
====================================================================

Optuna's :class:`~optuna_integration.OptunaSearchCV` (like scikit-optimize's
``BayesSearchCV``) samples *scalars*: a tuple such as ``hidden_layer_sizes``
cannot be one of its distributions. skdl's MLP estimators take the network's
depth and width as two integers as well, ``n_hidden_layers`` and
``n_hidden_units`` (``hidden_layer_sizes`` keeps scikit-learn's meaning and
is used when both are None), so a Bayesian search tunes the topology with
the learning rate and ``alpha``, as Hands-On ML's recipe tunes ``n_hidden``
and ``n_neurons``. Install it with ``pip install "skdl[optuna]"``.
"""

import warnings

import matplotlib.pyplot as plt
import optuna
from optuna.distributions import FloatDistribution, IntDistribution
from optuna_integration import OptunaSearchCV
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdl import MLPClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")  # its own deprecations
optuna.logging.set_verbosity(optuna.logging.WARNING)

X, y = load_digits(return_X_y=True)
pipe = make_pipeline(StandardScaler(), MLPClassifier(batch_size=32, max_iter=15, random_state=0))
space = {
    "mlpclassifier__n_hidden_layers": IntDistribution(1, 3),
    "mlpclassifier__n_hidden_units": IntDistribution(16, 128, log=True),
    "mlpclassifier__learning_rate_init": FloatDistribution(1e-4, 1e-1, log=True),
    "mlpclassifier__alpha": FloatDistribution(1e-6, 1e-1, log=True),
}
search = OptunaSearchCV(pipe, space, n_trials=12, cv=StratifiedKFold(3, shuffle=True, random_state=0),
                        random_state=0)
search.fit(X, y)
print(f"best mean CV accuracy: {search.best_score_:.4f}")
print("best parameters:", {k.split("__")[-1]: v for k, v in search.best_params_.items()})
print("the best network's layers:", [c.shape for c in search.best_estimator_[-1].coefs_])

# %%
# The trials
# ----------
# Each trial's mean CV accuracy against its learning rate, coloured by depth:
# the sampler spends its later trials where the early ones scored well.
trials = search.trials_dataframe()
fig, ax = plt.subplots(figsize=(6, 3.5))
points = ax.scatter(trials["params_mlpclassifier__learning_rate_init"], trials["value"],
                    c=trials["params_mlpclassifier__n_hidden_layers"], cmap="viridis", s=40)
ax.set_xscale("log")
ax.set_xlabel("learning_rate_init")
ax.set_ylabel("mean CV accuracy")
fig.colorbar(points, label="n_hidden_layers")
fig.tight_layout()
plt.show()
