"""
Choosing an optimizer by k-fold cross-validation
================================================

A single training run per optimizer can mislead: which curve ends highest at
the last epoch depends on the weight initialisation, the shuffling and the
validation split, so an optimizer can "win" by luck. Cross-validation trains
each candidate on k different splits and reports the mean and the spread of
the scores.

TensorFlow has no cross-validation function, so the course notes write the
loop by hand (``KFold``, build, compile, fit, evaluate, per optimizer). With
skdl the optimizer is a constructor parameter and ``cross_val_score`` does the
loop. The candidates are the ones the notes compare: SGD, SGD with Nesterov
momentum 0.9, Adagrad, RMSprop and Adam.
"""

# %%
# One run per optimizer
# ---------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

from skdl import MLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0

candidates = {
    "SGD": dict(solver="sgd", momentum=0.0, learning_rate_init=0.05),
    "SGD + Nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True,
                           learning_rate_init=0.01),
    "Adagrad": dict(solver="adagrad", learning_rate_init=0.05),
    "RMSprop": dict(solver="rmsprop", learning_rate_init=1e-3),
    "Adam": dict(solver="adam", learning_rate_init=1e-3),
}
common = dict(hidden_layer_sizes=(64,), batch_size=32, max_iter=15, random_state=0)

X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, stratify=y,
                                                  random_state=1)
single_run = {}
for name, params in candidates.items():
    clf = MLPClassifier(**common, **params).fit(X_train, y_train,
                                                validation_data=(X_val, y_val))
    single_run[name] = clf.validation_scores_

# %%
# Five-fold cross-validation per optimizer
# ----------------------------------------
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
cv_scores = {
    name: cross_val_score(MLPClassifier(**common, **params), X, y, cv=cv)
    for name, params in candidates.items()
}
for name, scores in cv_scores.items():
    print(f"{name:15s} {scores.mean():.3f} +/- {scores.std():.3f}")

# %%
# Plot both views
# ---------------
# Left: the validation accuracy of one run per optimizer. Right: the mean
# accuracy over five folds with one standard deviation as error bar.
fig, (ax_run, ax_cv) = plt.subplots(1, 2, figsize=(11, 4))
for name, scores in single_run.items():
    ax_run.plot(np.arange(1, len(scores) + 1), scores, label=name)
ax_run.set_xlabel("epoch")
ax_run.set_ylabel("validation accuracy")
ax_run.set_title("one run (one split, one seed)")
ax_run.set_ylim(0.5, 1.0)
ax_run.legend(loc="lower right")

names = list(cv_scores)
means = [cv_scores[n].mean() for n in names]
stds = [cv_scores[n].std() for n in names]
ax_cv.bar(names, means, yerr=stds, capsize=6, color=[f"C{i}" for i in range(len(names))])
ax_cv.set_ylim(0.5, 1.0)
ax_cv.set_ylabel("accuracy")
ax_cv.set_title("5-fold CV: mean ± std")
ax_cv.tick_params(axis="x", rotation=20)
fig.tight_layout()
plt.show()
