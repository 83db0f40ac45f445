"""
Dropout and L2 on the validation curve
======================================

A large network trained on few, noisy samples learns its training set by
heart, noise included, and gets worse on new data the longer it trains. Two
of the regularisers the course notes tune are plain parameters of skdl's
estimators:

* ``alpha``: the L2 penalty on the weights (scikit-learn's name; ``l1`` adds an
  L1 penalty the same way);
* ``dropout``: the rate of a Dropout layer after every hidden layer.

We train a 256-256 network on 400 digits of which a quarter have a random
label, validate it on 1,000 clean digits, and compare the validation accuracy
per epoch without regularisation, with L2, with dropout and with both.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skdl import MLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_val, y_train, y_val = train_test_split(X, y, train_size=400, test_size=1000,
                                                  stratify=y, random_state=0)
rng = np.random.RandomState(0)
noisy = rng.rand(len(y_train)) < 0.25
y_train = np.where(noisy, rng.randint(0, 10, len(y_train)), y_train)

settings = {
    "none": dict(alpha=0.0),
    "L2: alpha=0.3": dict(alpha=0.3),
    "dropout=0.5": dict(dropout=0.5),
    "alpha=0.1, dropout=0.3": dict(alpha=0.1, dropout=0.3),
}
runs = {}
for name, params in settings.items():
    clf = MLPClassifier(hidden_layer_sizes=(256, 256), batch_size=32, learning_rate_init=1e-3,
                        max_iter=60, tol=0.0, n_iter_no_change=60, random_state=0, **params)
    clf.fit(X_train, y_train, validation_data=(X_val, y_val))
    runs[name] = clf
    print(f"{name:24s} training accuracy (noisy labels) {clf.score(X_train, y_train):.3f}   "
          f"validation accuracy: best {clf.best_validation_score_:.3f}, "
          f"last {clf.validation_scores_[-1]:.3f}")

# %%
# Plot
# ----
# Left: validation accuracy per epoch. Right: after the last epoch, how much
# of the (partly wrong) training labels each network reproduces, next to its
# validation accuracy.
fig, (ax_curve, ax_bars) = plt.subplots(1, 2, figsize=(11, 4))
for name, clf in runs.items():
    ax_curve.plot(np.arange(1, clf.n_iter_ + 1), clf.validation_scores_, label=name)
ax_curve.set_xlabel("epoch")
ax_curve.set_ylabel("validation accuracy")
ax_curve.set_ylim(0.75, 0.95)
ax_curve.legend(loc="lower right")

names = list(runs)
positions = np.arange(len(names))
ax_bars.bar(positions - 0.2, [runs[n].score(X_train, y_train) for n in names], width=0.4,
            label="training accuracy (noisy labels)")
ax_bars.bar(positions + 0.2, [runs[n].validation_scores_[-1] for n in names], width=0.4,
            label="validation accuracy")
ax_bars.set_xticks(positions, names, rotation=15)
ax_bars.set_ylim(0.5, 1.05)
ax_bars.legend(loc="upper right")
fig.suptitle("256-256 network, 400 training digits, 25% random labels")
fig.tight_layout()
plt.show()

# %%
# Without regularisation the network ends up reproducing almost every
# training label, the random ones included, and its validation accuracy
# peaks within the first ten epochs and then falls. The L2 penalty and
# dropout keep it from memorising the noise, so its validation accuracy holds.
# Early stopping (:ref:`sphx_glr_auto_examples_plot_learning_curves.py`) is
# the other remedy: it keeps the weights of the best epoch.
