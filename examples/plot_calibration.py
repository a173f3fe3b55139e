"""
=========================================================
Ensembles and calibrated probabilities with mixup
=========================================================

mixup trains on soft targets between pairs of rows, so the network learns to
hedge: its probabilities are pulled toward the middle, and a predicted 70 % may
come true 90 % of the time. ``calibrate=True`` fixes that after training with
one number, a temperature fitted on held-out rows, and ``n_ensemble`` averages
several networks trained together for little more than the price of one.
Here we draw reliability diagrams (predicted probability against observed
frequency) for plain training (ERM), mixup, and mixup with calibration and an
ensemble.
"""

# %%
# A binary problem with some label noise
# --------------------------------------
# 3,000 rows, half for testing, 10 % of the labels flipped.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.calibration import CalibrationDisplay
from sklearn.datasets import make_classification
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from skmixup import MixupClassifier

X, y = make_classification(
    n_samples=3000, n_features=10, n_informative=4, flip_y=0.1, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)

# %%
# Four models
# -----------
# The same network and budget each time. ``calibrate=True`` holds out
# ``validation_fraction`` (10 %) of the training rows, trains on the rest, and
# fits the temperature on the held-out rows, unmixed; ``temperature_`` below 1
# sharpens the probabilities, above 1 softens them. ``n_ensemble=8`` trains
# eight networks as one stacked network and averages their probabilities.
common = {"max_epochs": 40, "batch_size": 32, "device": "cpu", "random_state": 0}
models = {
    "ERM (alpha=0)": MixupClassifier(alpha=0.0, **common),
    "mixup (alpha=2)": MixupClassifier(alpha=2.0, **common),
    "mixup, calibrated": MixupClassifier(alpha=2.0, calibrate=True, **common),
    "mixup, 8 members, calibrated": MixupClassifier(
        alpha=2.0, n_ensemble=8, calibrate=True, **common
    ),
}
for name, model in models.items():
    model.fit(X_train, y_train)
    proba = model.predict_proba(X_test)
    temperature = getattr(model, "temperature_", None)
    print(
        f"{name:30s} accuracy {accuracy_score(y_test, model.predict(X_test)):.3f}"
        f"  log-loss {log_loss(y_test, proba):.3f}"
        + ("" if temperature is None else f"  temperature {temperature:.2f}")
    )

# %%
# Reliability diagrams
# --------------------
# A calibrated model lies on the diagonal. An under-confident one draws an S
# across it: where mixup says 15 %, the positive class occurs less often than
# that, and where it says 65 %, more often. The temperature straightens the
# curve; it rescales each row's probabilities without reordering them, so it
# changes no predicted label of its model.
fig, ax = plt.subplots(figsize=(6, 6))
for name, model in models.items():
    CalibrationDisplay.from_estimator(
        model, X_test, y_test, n_bins=10, name=name, ax=ax
    )
ax.set_title("Reliability on the test rows")
ax.legend(loc="upper left", fontsize="small")
plt.show()

# %%
# What it costs
# -------------
# Calibration costs one held-out tenth of the training rows and a
# one-dimensional search after training. The ensemble of eight trains as one
# network with batched matrix products; on the speed benchmark's data it costs
# a few plain fits, not eight (see ``benchmarks/results/speed/speed_ensemble.md``).
ensemble = models["mixup, 8 members, calibrated"]
print("members:", ensemble.net_.module_.n_members)
print("members' alphas:", ensemble.net_.member_alphas)
print("proba of the first test rows:", np.round(ensemble.predict_proba(X_test[:3]), 3))
