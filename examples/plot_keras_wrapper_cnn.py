"""
Your own Keras model in a search: a small convolutional network on digits
=========================================================================

The MLP estimators build their network from parameters; when the network is
yours, :class:`skdl.wrappers.KerasClassifier` wraps the function that builds
it. Here a small convolutional network reads the 8x8 digit images as images,
and ``GridSearchCV`` chooses its number of filters and its learning rate, with
the same stratified cross-validation as any scikit-learn classifier.

The grid's keys are the build function's own parameter (``filters``) and a
routed optimizer parameter (``optimizer__learning_rate``), written as in
scikeras: a scikeras script changes only its import.
"""

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skdl.wrappers import KerasClassifier

digits = load_digits()
X = (digits.images / 16.0)[..., None].astype("float32")  # (1797, 8, 8, 1)
y = digits.target


def convnet(meta, filters=8):
    return keras.Sequential([
        keras.Input(meta["X_shape_"][1:]),
        keras.layers.Conv2D(filters, 3, activation="relu", padding="same"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(meta["n_classes_"], activation="softmax"),
    ])


clf = KerasClassifier(convnet, filters=8, optimizer="adam", epochs=8, batch_size=32,
                      validation_split=0.2, random_state=0)
grid = {"filters": [4, 16], "optimizer__learning_rate": [1e-3, 1e-2]}
search = GridSearchCV(clf, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0))
search.fit(X, y)
print(f"best CV accuracy {search.best_score_:.3f} with {search.best_params_}")
print("trained by:", search.best_estimator_.training_loop_)

# %%
# Validation accuracy per epoch
# -----------------------------
# Each refit keeps Keras' epoch logs in ``history_``; with ``validation_split``
# they include the held-out rows' loss and accuracy (the wrapper holds out a
# stratified, shuffled 20%, not the last rows).
fig, ax = plt.subplots(figsize=(6, 4))
for params in grid["filters"]:
    for learning_rate in grid["optimizer__learning_rate"]:
        model = KerasClassifier(convnet, filters=params, optimizer="adam",
                                optimizer__learning_rate=learning_rate, epochs=8,
                                batch_size=32, validation_split=0.2, metrics=["accuracy"],
                                random_state=0).fit(X, y)
        ax.plot(np.arange(1, 9), model.history_["val_accuracy"],
                label=f"filters={params}, lr={learning_rate:g}")
ax.set_xlabel("epoch")
ax.set_ylabel("validation accuracy")
ax.set_title("A small CNN on digits, trained through KerasClassifier")
ax.legend()
plt.tight_layout()
plt.show()
