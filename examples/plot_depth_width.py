"""
Accuracy against depth and width
================================

How many hidden layers, and how many neurons in each? The course notes
contrast *wide* networks (many neurons, few layers) with *deep* ones (more
layers, fewer neurons), with 0 to 5 hidden layers and 10 to 100 neurons as the
typical range. In skdl both are one parameter, ``hidden_layer_sizes``:
``()`` is a network with no hidden layer (multinomial logistic regression),
``(32,)`` one hidden layer of 32 neurons, ``(32, 32, 32)`` three of them.

Each point below is a 3-fold cross-validated accuracy on the bundled digits,
with the same optimizer, epochs and seed everywhere.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_val_score

from skdl import MLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0
cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)


def cv_accuracy(hidden_layer_sizes):
    clf = MLPClassifier(hidden_layer_sizes=hidden_layer_sizes, batch_size=32, max_iter=12,
                        learning_rate_init=3e-3, random_state=0)
    scores = cross_val_score(clf, X, y, cv=cv)
    return scores.mean(), scores.std()


# %%
# Depth: 0 to 5 hidden layers of 32 neurons
# -----------------------------------------
depths = range(0, 6)
depth_scores = [cv_accuracy((32,) * d) for d in depths]
for d, (mean, std) in zip(depths, depth_scores):
    print(f"{d} hidden layer(s): {mean:.3f} +/- {std:.3f}")

# %%
# Width: one and two hidden layers of 8 to 256 neurons
# ----------------------------------------------------
widths = [8, 32, 128, 256]
width_scores = {n_layers: [cv_accuracy((w,) * n_layers) for w in widths]
                for n_layers in (1, 2)}

# %%
# Plot
# ----
fig, (ax_depth, ax_width) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
means, stds = np.array(depth_scores).T
ax_depth.errorbar(list(depths), means, yerr=stds, marker="o", capsize=4)
ax_depth.set_xlabel("number of hidden layers (32 neurons each)")
ax_depth.set_ylabel("3-fold CV accuracy")
ax_depth.set_title("depth")

for n_layers, scores in width_scores.items():
    means, stds = np.array(scores).T
    ax_width.errorbar(widths, means, yerr=stds, marker="o", capsize=4,
                      label=f"{n_layers} hidden layer(s)")
ax_width.set_xscale("log", base=2)
ax_width.set_xlabel("neurons per hidden layer")
ax_width.set_title("width")
ax_width.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# On a data set this small, one or two hidden layers of a few dozen neurons
# are enough; more depth at a fixed epoch budget trains slower and does not
# help. Run the same loop with your own data before settling on a topology,
# or hand ``hidden_layer_sizes`` to a search (see
# :ref:`sphx_glr_auto_examples_plot_grid_search.py`).
