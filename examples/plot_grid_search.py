"""
A grid search over topology, optimizer and learning rate
========================================================

Every knob of an skdl estimator is a constructor parameter, so
:class:`~sklearn.model_selection.GridSearchCV` searches network topology,
optimizer and learning rate like any other hyperparameter, inside a
:class:`~sklearn.pipeline.Pipeline` that scales the inputs first. Because
``skdl.MLPClassifier`` has scikit-learn's class name, the step is called
``mlpclassifier`` and the grid keys are the ones a script written for
``sklearn.neural_network.MLPClassifier`` already uses.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdl import MLPClassifier

X, y = load_digits(return_X_y=True)

pipe = make_pipeline(StandardScaler(),
                     MLPClassifier(batch_size=32, max_iter=15, random_state=0))
grid = {
    "mlpclassifier__hidden_layer_sizes": [(32,), (128,), (64, 64)],
    "mlpclassifier__solver": ["sgd", "adam"],
    "mlpclassifier__learning_rate_init": [1e-3, 1e-2],
}
search = GridSearchCV(pipe, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0))
search.fit(X, y)
print("best parameters:", search.best_params_)
print(f"best mean CV accuracy: {search.best_score_:.3f}")

# %%
# The leaderboard
# ---------------
# ``cv_results_`` holds one row per grid point, as for any scikit-learn model.
results = search.cv_results_
for rank in np.argsort(results["rank_test_score"])[:5]:
    print(f"{results['mean_test_score'][rank]:.3f} +/- {results['std_test_score'][rank]:.3f}  "
          f"{results['params'][rank]}")

# %%
# One heat map per solver
# -----------------------
# Mean CV accuracy for each topology and learning rate. With 15 epochs, SGD
# needs the larger learning rate; Adam is less sensitive to it.
topologies = grid["mlpclassifier__hidden_layer_sizes"]
rates = grid["mlpclassifier__learning_rate_init"]
fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True, layout="constrained")
for ax, solver in zip(axes, grid["mlpclassifier__solver"]):
    table = np.empty((len(topologies), len(rates)))
    for params, score in zip(results["params"], results["mean_test_score"]):
        if params["mlpclassifier__solver"] == solver:
            i = topologies.index(params["mlpclassifier__hidden_layer_sizes"])
            j = rates.index(params["mlpclassifier__learning_rate_init"])
            table[i, j] = score
    image = ax.imshow(table, vmin=0.85, vmax=1.0, cmap="viridis")
    for (i, j), score in np.ndenumerate(table):
        ax.text(j, i, f"{score:.3f}", ha="center", va="center",
                color="white" if score < 0.93 else "black")
    ax.set_xticks(range(len(rates)), [str(r) for r in rates])
    ax.set_yticks(range(len(topologies)), [str(t) for t in topologies])
    ax.set_xlabel("learning_rate_init")
    ax.set_title(f"solver={solver!r}")
axes[0].set_ylabel("hidden_layer_sizes")
fig.colorbar(image, ax=axes, label="mean CV accuracy")

# %%
# Every parameter at a glance
# ---------------------------
# :func:`skdl.plotting.plot_search_results` draws the mean score (with its
# standard deviation over folds) of every grid point against each parameter.
from skdl.plotting import plot_search_results

axes = plot_search_results(search)
axes[0].figure.tight_layout()
plt.show()
