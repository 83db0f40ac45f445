"""
The perceptron, XOR and why hidden layers exist
===============================================

A perceptron computes ``z = w . x + b`` and predicts the class from the sign
of ``z``: its decision boundary is one straight line. Rosenblatt's rule
converges on linearly separable data, but no line separates XOR, where the
points ``(0, 0)`` and ``(1, 1)`` are one class and ``(0, 1)`` and ``(1, 0)`` the
other. A multi-layer perceptron with one hidden layer bends the boundary.

This example draws the decision regions of :class:`skdl.Perceptron` (NumPy,
the same weights as scikit-learn's) and of :class:`skdl.MLPClassifier` with
one hidden layer, on a noisy XOR and on the two moons.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons

from skdl import MLPClassifier, Perceptron

rng = np.random.RandomState(0)
corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
X_xor = np.repeat(corners, 50, axis=0) + rng.normal(scale=0.15, size=(200, 2))
y_xor = np.repeat([0, 1, 1, 0], 50)
X_moons, y_moons = make_moons(n_samples=200, noise=0.2, random_state=0)

datasets = {"XOR": (X_xor, y_xor), "moons": (X_moons, y_moons)}
models = {
    "Perceptron": lambda: Perceptron(random_state=0),
    "MLP, one hidden layer of 8": lambda: MLPClassifier(
        hidden_layer_sizes=(8,), activation="tanh", solver="lbfgs", max_iter=500,
        random_state=0),
}

fig, axes = plt.subplots(2, 2, figsize=(9, 8))
for row, (data_name, (X, y)) in enumerate(datasets.items()):
    x0, x1 = np.meshgrid(np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 200),
                         np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, 200))
    grid = np.column_stack([x0.ravel(), x1.ravel()])
    for col, (model_name, make) in enumerate(models.items()):
        clf = make().fit(X, y)
        accuracy = clf.score(X, y)
        print(f"{data_name:6s} {model_name:28s} training accuracy {accuracy:.2f}")
        ax = axes[row, col]
        ax.contourf(x0, x1, clf.predict(grid).reshape(x0.shape), alpha=0.3, cmap="coolwarm")
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolor="k", s=18)
        ax.set_title(f"{data_name}: {model_name}\ntraining accuracy {accuracy:.2f}")
        ax.set_xticks([])
        ax.set_yticks([])
fig.tight_layout()
plt.show()

# %%
# The perceptron's one line can get at most three of XOR's four clusters right
# (here it gets fewer); on the moons it does better, because they are nearly
# separable by a line. Eight tanh units are enough for both.
