"""
==================================================
ERM vs mixup: decision boundaries on a 2-D toy set
==================================================

The mixup paper's Figure 1b shows the predicted probability of one class over a
2-D input space: with plain training (ERM) it jumps from one class to the other at
the boundary, with mixup it changes gradually. This example redraws that picture
with :class:`~skmixup.MixupClassifier` on the two-moons toy set: the same network
and seed, once with ``alpha=0`` (ERM, no mixing) and once with ``alpha=1``.
"""

# %%
# Data and the two models
# -----------------------
# Two interleaved half-moons with noisy points. Both models are the default
# :class:`~skmixup.MLP` (two hidden layers of 128), trained for 300 epochs on 100
# rows; only ``alpha`` differs.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from skmixup import MixupClassifier

X, y = make_moons(n_samples=300, noise=0.25, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=2 / 3, random_state=0
)

models = {}
for name, alpha in [("ERM (alpha=0)", 0.0), ("mixup (alpha=1)", 1.0)]:
    models[name] = MixupClassifier(
        alpha=alpha,
        max_epochs=300,
        batch_size=32,
        device="cpu",
        random_state=0,
    ).fit(X_train, y_train)

for name, model in models.items():
    proba = model.predict_proba(X_test)
    print(
        f"{name:16s} test accuracy {accuracy_score(y_test, proba.argmax(1)):.3f}"
        f"   test log-loss {log_loss(y_test, proba):.3f}"
    )

# %%
# Predicted probability maps
# --------------------------
# Colour is the predicted probability of the red class; the black line is the
# decision boundary (probability 0.5) and the thin lines are the 0.1 and 0.9
# levels. ERM's band between 0.1 and 0.9 is narrow: it is confident almost
# everywhere, including far from any training point. mixup's transition is wide
# and gradual.
xx, yy = np.meshgrid(np.linspace(-2.5, 3.5, 200), np.linspace(-2.0, 2.5, 200))
grid = np.c_[xx.ravel(), yy.ravel()]

fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
for ax, (name, model) in zip(axes, models.items(), strict=True):
    p = model.predict_proba(grid)[:, 1].reshape(xx.shape)
    mesh = ax.contourf(
        xx, yy, p, levels=np.linspace(0, 1, 21), cmap="RdBu_r", alpha=0.8
    )
    ax.contour(xx, yy, p, levels=[0.5], colors="k", linewidths=1.5)
    ax.contour(xx, yy, p, levels=[0.1, 0.9], colors="k", linewidths=0.5)
    for label, colour in [(0, "tab:blue"), (1, "tab:red")]:
        ax.scatter(*X_train[y_train == label].T, c=colour, edgecolor="k", s=22)
    ax.set_title(name)
    ax.set_xlabel("x1")
axes[0].set_ylabel("x2")
fig.colorbar(mesh, ax=axes, label="P(red)")
plt.show()

# %%
# Between two training points
# ---------------------------
# mixup asks the network to behave linearly between training points: on the
# segment ``t * x_a + (1 - t) * x_b`` from a blue point ``x_b`` to a red
# point ``x_a``, the predicted probability of red should rise like ``t``
# (dashed). Each thin line is one random such pair. ERM's curves are steps: the
# probability stays near 0 or 1 and jumps somewhere along the way. mixup's curves
# follow the diagonal much more closely.
rng = np.random.default_rng(0)
a = rng.choice(np.flatnonzero(y_train == 1), size=25)
b = rng.choice(np.flatnonzero(y_train == 0), size=25)
t = np.linspace(0, 1, 51)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
for ax, (name, model) in zip(axes, models.items(), strict=True):
    for i, j in zip(a, b, strict=True):
        segment = t[:, None] * X_train[i] + (1 - t[:, None]) * X_train[j]
        ax.plot(t, model.predict_proba(segment)[:, 1], color="C3", alpha=0.4, lw=1)
    ax.plot(t, t, "k--", lw=1.5, label="linear")
    ax.set_title(name)
    ax.set_xlabel("t (0: blue point, 1: red point)")
    ax.legend(loc="upper left")
axes[0].set_ylabel("P(red)")
fig.tight_layout()
plt.show()
