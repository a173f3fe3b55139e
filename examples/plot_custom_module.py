"""
==============================
Training your own torch module
==============================

The ``module`` parameter replaces the default :class:`~skmixup.MLP` with any
PyTorch network. It takes a ``torch.nn.Module`` **class or factory**, which the
estimator calls as ``module(n_features_in, n_outputs)`` inside ``fit``, once the
data has told it both numbers. Further arguments go through
:func:`functools.partial`. Mixing, the training loop and the scikit-learn API stay
the same.
"""

# %%
# A residual network with normalisation and dropout
# -------------------------------------------------
# The first two arguments of ``__init__`` must be the number of input features
# and the number of outputs (classes for a classifier, targets for a
# regressor); ``forward`` maps a float32 batch ``(n, n_features_in)`` to
# ``(n, n_outputs)`` logits or values.
from functools import partial

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from skmixup import MixupClassifier


class ResidualMLP(nn.Module):
    def __init__(self, n_features_in, n_outputs, width=64, n_blocks=2, dropout=0.1):
        super().__init__()
        self.embed = nn.Linear(n_features_in, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.LayerNorm(width),
                nn.Linear(width, width),
                nn.GELU(),
                nn.Dropout(dropout),
            )
            for _ in range(n_blocks)
        )
        self.head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, n_outputs))

    def forward(self, X):
        h = self.embed(X)
        for block in self.blocks:
            h = h + block(h)
        return self.head(h)


# %%
# Fit it like any estimator
# -------------------------
X, y = load_wine(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, stratify=y, test_size=0.4, random_state=0
)

curves = {}
for alpha in [0.0, 0.4]:
    clf = make_pipeline(
        StandardScaler(),
        MixupClassifier(
            module=partial(ResidualMLP, width=32, dropout=0.2),
            alpha=alpha,
            max_epochs=60,
            batch_size=16,
            device="cpu",
            random_state=0,
        ),
    ).fit(X_train, y_train)
    est = clf[-1]
    curves[alpha] = est.loss_curve_
    print(f"alpha={alpha}: test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# The fitted network is ``net_.module_``, an ordinary torch module:
print(est.net_.module_)
n_params = sum(p.numel() for p in est.net_.module_.parameters())
print(f"{n_params} parameters")

# %%
# Training loss per epoch
# -----------------------
# ``loss_curve_`` holds the mean training loss of each epoch. With mixup it is
# computed on the *mixed* batches against soft targets, so it stays higher than
# ERM's: it measures a harder task, not a worse model.
fig, ax = plt.subplots(figsize=(6, 3.5))
for alpha, curve in curves.items():
    name = "ERM (alpha=0)" if alpha == 0 else f"mixup (alpha={alpha})"
    ax.plot(range(1, len(curve) + 1), curve, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (cross-entropy)")
ax.set_yscale("log")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# Pass a class or a factory, not an instance
# ------------------------------------------
# An instance would be shared by every clone that a grid search or
# cross-validation makes, so the estimator refuses it with a hint:
try:
    MixupClassifier(module=ResidualMLP(13, 3), max_epochs=1).fit(X_train, y_train)
except TypeError as exc:
    print(exc)

# %%
# A plain function works too, as long as it returns a module:


def tiny(n_features_in, n_outputs):
    return nn.Sequential(
        nn.Linear(n_features_in, 8), nn.Tanh(), nn.Linear(8, n_outputs)
    )


clf = MixupClassifier(module=tiny, max_epochs=30, device="cpu", random_state=0)
print(clf.fit(X_train, y_train).net_.module_)
print(isinstance(clf.net_.module_, torch.nn.Module))
