"""
Learning curves from ``loss_curve_``, ``validation_scores_`` and ``history_``
=============================================================================

A fitted skdl estimator keeps a per-epoch record of its training, like the
``History`` object Keras' ``fit`` returns:

* ``loss_curve_``: the training loss of each epoch (as scikit-learn's MLP);
* ``validation_scores_``: the validation accuracy (classifier) or R² (regressor)
  of each epoch, when there is validation data;
* ``history_``: a dict of per-epoch lists with Keras' names (``loss``,
  ``val_loss``, ``val_accuracy``, ...), ready for
  ``pandas.DataFrame(clf.history_).plot()``.

Here a network trains on 75% of the bundled digits and is validated on the
rest, passed to ``fit`` as ``validation_data``. With ``early_stopping=True``
training stops once the validation accuracy has not improved for
``n_iter_no_change`` epochs, and the weights of the best epoch are restored.
"""

# %%
# Train with held-out validation data
# -----------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skdl import MLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixel intensities to [0, 1]
X_train, X_val, y_train, y_val = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

clf = MLPClassifier(
    hidden_layer_sizes=(128, 64),
    batch_size=32,
    learning_rate_init=3e-3,
    max_iter=80,
    early_stopping=True,
    n_iter_no_change=8,
    random_state=0,
)
clf.fit(X_train, y_train, validation_data=(X_val, y_val))

best_epoch = int(np.argmax(clf.validation_scores_)) + 1
print(f"epochs run: {clf.n_iter_}, best epoch: {best_epoch}")
print(f"best validation accuracy: {clf.best_validation_score_:.3f}")
print(f"accuracy of the restored model on the validation set: {clf.score(X_val, y_val):.3f}")
print("history_ keys:", sorted(clf.history_))

# %%
# Plot the curves
# ---------------
# The left panel compares the training loss with the validation loss (both
# cross-entropy); the right one shows the validation accuracy and the epoch
# whose weights the estimator kept.
epochs = np.arange(1, clf.n_iter_ + 1)
fig, (ax_loss, ax_score) = plt.subplots(1, 2, figsize=(10, 4))
ax_loss.plot(epochs, clf.loss_curve_, label="training loss (loss_curve_)")
ax_loss.plot(epochs, clf.history_["val_loss"], label='validation loss (history_["val_loss"])')
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("cross-entropy")
ax_loss.set_yscale("log")
ax_loss.legend()

ax_score.plot(epochs, clf.validation_scores_, color="C2", label="validation_scores_")
ax_score.axvline(best_epoch, color="grey", linestyle=":", label=f"best epoch ({best_epoch})")
ax_score.set_xlabel("epoch")
ax_score.set_ylabel("validation accuracy")
ax_score.legend(loc="lower right")
fig.suptitle("MLPClassifier on digits: learning curves")
fig.tight_layout()

# %%
# The same figure in one call
# ---------------------------
# :func:`skdl.plotting.plot_learning_curve` draws the training loss and the
# validation score of a fitted estimator (or of a pipeline ending with one).
from skdl.plotting import plot_learning_curve

plot_learning_curve(clf)
plt.show()
