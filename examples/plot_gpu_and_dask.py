"""
======================================
Running on a GPU and on a Dask cluster
======================================

Two ways to make skmixup faster, neither of which changes the model:

* ``device="cuda"`` trains the network on a GPU;
* joblib's ``"dask"`` backend spreads the fits of a search over a Dask cluster.

This page is built on a machine without a GPU, and the code falls back to the CPU
there; without Dask installed (``pip install "dask[distributed]"``) it skips that
part. The same code runs unchanged where both exist.
"""

# %%
# Training on a GPU
# -----------------
# ``device`` accepts ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (the default:
# CUDA when PyTorch sees a GPU, else the CPU). During ``fit`` the whole training
# set lives on the device, and batches are cut from it there, so small tabular
# networks do not wait for host-to-device copies. Asking for ``"cuda"`` on a
# machine without one is an error that says so, hence the explicit fallback.
import joblib
import torch
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmixup import MixupClassifier

device = "cuda" if torch.cuda.is_available() else "cpu"
print(f"training on {device}")

X, y = make_classification(n_samples=300, n_features=10, random_state=0)
clf = MixupClassifier(alpha=0.4, max_epochs=20, device=device, random_state=0)
clf.fit(X, y)
print("parameters live on:", next(clf.net_.module_.parameters()).device)
print(f"training accuracy: {clf.score(X, y):.3f}")

# %%
# Predictions come back as NumPy arrays on the host, whatever the device. With
# an int ``random_state``, CPU fits are exactly reproducible; on a GPU, some
# PyTorch kernels are not bit-for-bit deterministic, so expect tiny differences.
#
# A grid search on a Dask cluster
# -------------------------------
# scikit-learn parallelises searches with joblib, and joblib can hand the work
# to Dask. Here the "cluster" is a tiny in-process one (one worker, threads
# only), so the example runs anywhere; for a real cluster, connect the
# :class:`distributed.Client` to its scheduler address instead. Each worker that
# trains on a GPU should pass ``device="cuda"`` (or keep ``"auto"``).
search = GridSearchCV(
    make_pipeline(
        StandardScaler(),
        MixupClassifier(max_epochs=20, device="cpu", random_state=0),
    ),
    {"mixupclassifier__alpha": [0.0, 0.2, 1.0]},
    cv=3,
    n_jobs=2,
)

try:
    from distributed import Client, LocalCluster
except ImportError:
    Client = None
    print("dask.distributed is not installed; running the search with joblib only")

if Client is not None:
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        print("Dask workers:", len(client.scheduler_info()["workers"]))
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
else:
    search.fit(X, y)

print("best alpha:", search.best_params_["mixupclassifier__alpha"])
for alpha, score in zip(
    search.cv_results_["param_mixupclassifier__alpha"],
    search.cv_results_["mean_test_score"],
    strict=True,
):
    print(f"  alpha={alpha:<4} mean CV accuracy {score:.3f}")
