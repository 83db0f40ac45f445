"""
One import, and every fold and candidate trains at once
=======================================================

A cross-validated search fits one network per fold and candidate: here 6
candidates x 5 folds = 30 networks. scikit-learn's
:class:`~sklearn.model_selection.GridSearchCV` fits them one after the
other. :class:`skdl.model_selection.GridSearchCV` is the same class with
the same results, but it trains the networks together, in *stacks*: one
compiled step trains every network of a stack, each on its own fold's rows
with its own seed and learning rate. The only change is the import.

The timings below are measured while the documentation is built, on
whatever machine builds it; :doc:`/benchmarks` has the measured ratios.
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn import model_selection as sklearn_selection
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier as ScikitLearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdl import MLPClassifier
from skdl import model_selection as skdl_selection

warnings.filterwarnings("ignore", category=ConvergenceWarning)
X, y = load_digits(return_X_y=True)
cv = StratifiedKFold(5, shuffle=True, random_state=0)
grid = {"mlpclassifier__hidden_layer_sizes": [(32,), (64,)],
        "mlpclassifier__learning_rate_init": [1e-3, 3e-3, 1e-2]}


def timed_search(search_class, mlp_class):
    pipe = make_pipeline(StandardScaler(), mlp_class(batch_size=32, max_iter=15, random_state=0))
    started = time.perf_counter()
    search = search_class(pipe, grid, cv=cv).fit(X, y)
    return search, time.perf_counter() - started


# The first search of a process also traces the network's programs: run a
# small one first so that the three timings below compare like with like.
timed_search(skdl_selection.GridSearchCV, MLPClassifier)

runs = {
    "scikit-learn's MLP,\nscikit-learn's search": timed_search(sklearn_selection.GridSearchCV,
                                                               ScikitLearnMLP),
    "skdl's MLP,\nscikit-learn's search": timed_search(sklearn_selection.GridSearchCV, MLPClassifier),
    "skdl's MLP,\nskdl's search (stacked)": timed_search(skdl_selection.GridSearchCV, MLPClassifier),
}
for name, (search, seconds) in runs.items():
    print(f"{name.replace(chr(10), ' '):45s} {seconds:5.1f} s   best CV accuracy "
          f"{search.best_score_:.4f}   {search.best_params_}")
stacked = runs["skdl's MLP,\nskdl's search (stacked)"][0]
print("networks trained in stacks:", stacked.stacking_["fits"], "in", stacked.stacking_["stacks"],
      "stack(s)")

# %%
# The same results
# ----------------
# The stacked search and scikit-learn's search over the same skdl estimator
# score every candidate alike: a stacked network computes what it computes
# alone, up to the order of float32 sums.
ours = stacked.cv_results_["mean_test_score"]
theirs = runs["skdl's MLP,\nscikit-learn's search"][0].cv_results_["mean_test_score"]
print("largest difference in mean CV accuracy:", float(np.max(np.abs(ours - theirs))))

fig, ax = plt.subplots(figsize=(7, 3))
names = list(runs)
ax.barh(names, [seconds for _, seconds in runs.values()], color=["#999999", "#6f9fd8", "#1f5fbf"])
ax.set_xlabel("search time (s), 30 fits + refit")
ax.invert_yaxis()
fig.tight_layout()
plt.show()
