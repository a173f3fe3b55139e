"""Public tabular datasets used by mixup's benchmarks, fetched and cached on demand.

:func:`fetch_uci` downloads a dataset's files once into a data home folder
(:func:`get_data_home`: ``SKMIXUP_DATA``, else ``~/skmixup_data``), checks each
against its sha256, and reads them. The files come from public copies of the UCI
Machine Learning Repository's files at pinned commits; set ``SKMIXUP_DATA_MIRROR``
(or pass ``base_url``) to fetch them from a mirror instead. ``skmixup-bench
download`` fetches every dataset of a benchmark suite.
"""

from ._fetch import DownloadError, fetch_uci, fetch_uci_files, get_data_home
from ._registry import DATASETS as _DATASETS

#: The names :func:`fetch_uci` accepts.
UCI_DATASETS: tuple[str, ...] = tuple(_DATASETS)

__all__ = [
    "UCI_DATASETS",
    "DownloadError",
    "fetch_uci",
    "fetch_uci_files",
    "get_data_home",
]
