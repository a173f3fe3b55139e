"""
==========================================
mixup's relatives, searched like any other
==========================================

SamplePairing, same-class and nearest-neighbour partners, manifold mixup and
mixtures of three rows are parameters of :class:`~skmixup.MixupClassifier`, so
``GridSearchCV`` can compare them with plain mixup and with ERM in one search.
Here on the breast cancer table, where the differences are small: the point is the
workflow, not a verdict (the ``ablation`` benchmark suite measures the variants on
the UCI tables).
"""

# %%
# One grid over variants
# ----------------------
# Each entry of the list is a sub-grid; ``alpha=0`` is ERM, ``alpha=np.inf`` fixes
# ``lambda`` at 0.5 (SamplePairing, which keeps the first row's label).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmixup import MixupClassifier

X, y = load_breast_cancer(return_X_y=True)
model = make_pipeline(
    StandardScaler(),
    MixupClassifier(max_epochs=20, batch_size=32, device="cpu", random_state=0),
)
p = "mixupclassifier__"
grid = [
    {p + "alpha": [0.0, 0.4]},
    {p + "alpha": [np.inf], p + "mix_on": ["inputs"], p + "final_unmixed_epochs": [4]},
    {p + "alpha": [0.4], p + "pairing": ["same_class", "knn"]},
    {p + "alpha": [0.4], p + "manifold": [True]},
    {p + "alpha": [0.4], p + "n_mixed": [3]},
]
cv = StratifiedKFold(5, shuffle=True, random_state=0)
search = GridSearchCV(model, grid, cv=cv, scoring="neg_log_loss").fit(X, y)

# %%
# The log-loss of each variant
# ----------------------------
# Mean and standard deviation over the five folds; lower is better.
labels = [
    ", ".join(f"{k.removeprefix(p)}={v}" for k, v in params.items())
    for params in search.cv_results_["params"]
]
mean = -search.cv_results_["mean_test_score"]
std = search.cv_results_["std_test_score"]
order = np.argsort(mean)
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.barh(np.array(labels)[order], mean[order], xerr=std[order], color="tab:blue")
ax.invert_yaxis()
ax.set_xlabel("cross-validated log-loss")
fig.tight_layout()
print("best:", labels[search.best_index_])
