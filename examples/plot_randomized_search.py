"""
Hands-On ML's randomized search, without a wrapper
==================================================

*Hands-On Machine Learning* tunes a Keras regressor by wrapping a
``build_model(n_hidden, n_neurons, learning_rate)`` function in
``KerasRegressor`` and handing it to
:class:`~sklearn.model_selection.RandomizedSearchCV` with
``n_hidden`` in ``[0, 1, 2, 3]``, ``n_neurons`` in ``1..99`` and a
log-uniform learning rate between 3e-4 and 3e-2 (``n_iter=10, cv=3``).
``keras.wrappers.scikit_learn`` no longer exists, and scikeras is broken on
recent scikit-learn (see :doc:`/user_guide/migrating`).

With skdl the topology is the ``hidden_layer_sizes`` parameter, so the search
space lists the candidate topologies, no hidden layer (``()``) included, and
early stopping runs inside each fold on a split of that fold's training data.
The data here is the bundled diabetes set instead of California housing,
which would need a download.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import loguniform
from sklearn.datasets import load_diabetes
from sklearn.model_selection import KFold, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdl import MLPRegressor

X, y = load_diabetes(return_X_y=True)
y = y / 100.0  # targets of order 1

topologies = [(n_neurons,) * n_hidden
              for n_hidden in (0, 1, 2, 3) for n_neurons in (10, 30, 100)]
topologies = list(dict.fromkeys(topologies))  # n_hidden=0 gives () three times
search_space = {
    "mlpregressor__hidden_layer_sizes": topologies,
    "mlpregressor__learning_rate_init": loguniform(3e-4, 3e-2),
}
pipe = make_pipeline(
    StandardScaler(),
    MLPRegressor(max_iter=100, batch_size=32, early_stopping=True, n_iter_no_change=10,
                 random_state=0),
)
search = RandomizedSearchCV(pipe, search_space, n_iter=10,
                            cv=KFold(3, shuffle=True, random_state=0), random_state=5)
search.fit(X, y)
best = search.best_params_
print(f"best: hidden_layer_sizes={best['mlpregressor__hidden_layer_sizes']}, "
      f"learning_rate_init={best['mlpregressor__learning_rate_init']:.2g}")
print(f"best mean CV R^2: {search.best_score_:.3f}")

# %%
# Score against learning rate, by depth
# -------------------------------------
results = search.cv_results_
depths = np.array([len(p) for p in results["param_mlpregressor__hidden_layer_sizes"]])
rates = np.array(results["param_mlpregressor__learning_rate_init"], dtype=float)
fig, ax = plt.subplots(figsize=(7, 4))
for depth in np.unique(depths):
    chosen = depths == depth
    ax.errorbar(rates[chosen], results["mean_test_score"][chosen],
                yerr=results["std_test_score"][chosen], fmt="o", capsize=4,
                label=f"{depth} hidden layer(s)")
for x, score, sizes in zip(rates, results["mean_test_score"],
                           results["param_mlpregressor__hidden_layer_sizes"]):
    ax.annotate(str(sizes), (x, score), textcoords="offset points", xytext=(6, 4), fontsize=8)
ax.set_xscale("log")
ax.set_xlabel("learning_rate_init")
ax.set_ylabel("mean CV R²")
ax.set_title("RandomizedSearchCV, n_iter=10, cv=3 (diabetes)")
ax.legend()
fig.tight_layout()
plt.show()
