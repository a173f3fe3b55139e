"""The data home, and downloads into it that are checked before they are kept."""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from sklearn.utils import Bunch

from ._read import read_classification, read_regression
from ._registry import BASE_URL, DATASETS, RemoteDataset, RemoteFile

__all__ = ["DownloadError", "fetch_uci", "fetch_uci_files", "get_data_home"]

_TIMEOUT = 60  # seconds without a byte before a download gives up


class DownloadError(OSError):
    """A file could not be downloaded, or its content is not the expected one.

    The message names the dataset, the URL and, for a checksum mismatch, the
    expected and the received sha256; nothing is left in the data home.
    """


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """The folder where fetched datasets are kept.

    By order of precedence: ``data_home`` if given, else the environment
    variable ``SKMIXUP_DATA``, else ``~/skmixup_data``. ``~`` is expanded. The
    folder is created only when something is downloaded into it.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use; ``None`` for the default above.

    Returns
    -------
    data_home : pathlib.Path
        The folder (it may not exist yet).

    Examples
    --------
    >>> from skmixup.datasets import get_data_home
    >>> str(get_data_home("/tmp/skmixup_data"))
    '/tmp/skmixup_data'
    """
    if data_home is None:
        data_home = os.environ.get("SKMIXUP_DATA") or "~/skmixup_data"
    return Path(data_home).expanduser()


def _dataset(name: str) -> RemoteDataset:
    if name not in DATASETS:
        raise ValueError(
            f"fetch_uci got name={name!r}; it must be one of {', '.join(DATASETS)}."
        )
    return DATASETS[name]


def _base_url(base_url: str | None) -> str:
    url = base_url or os.environ.get("SKMIXUP_DATA_MIRROR") or BASE_URL
    return url.rstrip("/")


def _preprocess(data: bytes, steps: tuple[str, ...]) -> bytes:
    for step in steps:
        if step == "strip_leading_newline":
            data = data.removeprefix(b"\n")
        elif step == "cr_to_lf":
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        elif step == "drop_first_line":
            data = data.partition(b"\n")[2]
        else:  # a registry entry names a step this version cannot apply
            raise ValueError(f"unknown preprocessing step {step!r}")
    return data


def _download(dataset: RemoteDataset, file: RemoteFile, url: str, dest: Path) -> None:
    """Fetch ``url`` into ``dest``: checked in memory, then renamed into place.

    The files are at most a few MB. Writing to a temporary file in the same
    folder and renaming it means that ``dest`` either does not exist or holds
    the checked content, also after a crash, Ctrl-C or a concurrent fetch.
    """
    what = f"dataset {dataset.name!r}: file {file.name} from {url}"
    retry = (
        "Check the connection and try again, or set SKMIXUP_DATA_MIRROR (or "
        "base_url) to a mirror that holds the same files at the same paths."
    )
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
            data = response.read()
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the response's socket
        raise DownloadError(
            f"cannot download {what}: HTTP {exc.code} {exc.reason}. {retry}"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"cannot download {what}: {reason}. {retry}") from None
    data = _preprocess(data, file.preprocess)
    got = hashlib.sha256(data).hexdigest()
    if got != file.sha256:
        raise DownloadError(
            f"checksum mismatch for {what}: expected sha256 {file.sha256}, got "
            f"{got}{' after ' + ', '.join(file.preprocess) if file.preprocess else ''}"
            ". The download is corrupt or the source changed; nothing was saved. "
            f"{retry}"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            if file.name.endswith(".gz"):
                # mtime=0: the same content gives the same bytes.
                with gzip.GzipFile(fileobj=f, mode="wb", filename="", mtime=0) as gz:
                    gz.write(data)
            else:
                f.write(data)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fetch_uci_files(
    name: str,
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    base_url: str | None = None,
) -> dict[str, Path]:
    """Fetch the files of one UCI dataset into the data home; return their paths.

    Files already in the data home are used as they are, without a request.
    Missing ones are downloaded, checked against their sha256 and only then
    kept. :func:`fetch_uci` reads the files; this function only fetches them.

    Parameters
    ----------
    name : str
        The dataset, one of :data:`UCI_DATASETS`.
    data_home : str or path-like, default=None
        Where the files are kept; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, raise :class:`FileNotFoundError` instead of downloading a
        missing file.
    base_url : str, default=None
        Where to download from: a server holding each file at the same path as
        ``https://raw.githubusercontent.com`` does (``OWNER/REPO/COMMIT/PATH``).
        ``None`` means the environment variable ``SKMIXUP_DATA_MIRROR`` if set,
        else ``https://raw.githubusercontent.com``.

    Returns
    -------
    files : dict of str to pathlib.Path
        Each file's path in the data home, by its name.

    Raises
    ------
    DownloadError
        If a download fails or its sha256 is not the expected one; nothing is
        left in the data home for that file.
    FileNotFoundError
        If a file is missing and ``download_if_missing`` is False.
    """
    dataset = _dataset(name)
    folder = get_data_home(data_home) / dataset.folder
    paths = {f.name: folder / f.name for f in dataset.files}
    missing = [f for f in dataset.files if not paths[f.name].is_file()]
    if missing and not download_if_missing:
        raise FileNotFoundError(
            f"dataset {name!r} is not in the data home {folder.parent.parent} "
            f"({len(missing)} of its {len(dataset.files)} files are missing, e.g. "
            f"{paths[missing[0].name]}), and download_if_missing is False. "
            f"Fetch it with skmixup.datasets.fetch_uci({name!r}) or "
            f"skmixup-bench download --datasets {name}."
        )
    base = _base_url(base_url)
    for file in missing:
        _download(dataset, file, f"{base}/{file.path}", paths[file.name])
    return paths


def _describe(dataset: RemoteDataset) -> str:
    where = dataset.page or "not on UCI's current site"
    cite = f" Cite doi:{dataset.doi}." if dataset.doi else ""
    text = f"{dataset.title} ({where}).{cite}"
    if dataset.task == "regression":
        text += (
            " With the fixed train/test splits of Hernández-Lobato & Adams (2015), "
            "as used by Gal & Ghahramani (2016)."
        )
    return text


def fetch_uci(
    name: str,
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    base_url: str | None = None,
    return_X_y: bool = False,
) -> Bunch | tuple:
    """Load a UCI dataset of mixup's benchmarks, downloading it if needed.

    The six classification sets of the mixup paper (Zhang et al., 2018) and the
    nine regression sets, with their standard train/test splits, of
    Hernández-Lobato & Adams (2015). The files are downloaded once into the data
    home (see :func:`get_data_home`) from public copies at pinned commits, and
    each is checked against its sha256 before it is kept.

    Parameters
    ----------
    name : str
        Classification: ``"abalone"``, ``"arcene"``, ``"arrhythmia"``,
        ``"htru2"``, ``"iris"``, ``"phishing"``. Regression: ``"boston"``,
        ``"concrete"``, ``"energy"``, ``"kin8nm"``, ``"naval"``, ``"power"``,
        ``"protein"``, ``"wine-red"``, ``"yacht"``.
    data_home : str or path-like, default=None
        Where the files are kept; by default ``SKMIXUP_DATA`` or
        ``~/skmixup_data``.
    download_if_missing : bool, default=True
        If False, raise :class:`FileNotFoundError` when a file is not in the
        data home instead of downloading it.
    base_url : str, default=None
        A mirror holding each file at the same path as
        ``https://raw.githubusercontent.com``; by default ``SKMIXUP_DATA_MIRROR``
        or that site.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        With ``data`` (a DataFrame: numbers, missing values as NaN, abalone's
        ``Sex`` as a category), ``target`` (an array), ``splits`` (the
        regression sets' fixed ``(train, test)`` row indices, empty for
        classification), ``task`` (``"classification"`` or ``"regression"``),
        ``files`` (each file's path) and ``DESCR`` (the source and its DOI).
    (data, target) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    DownloadError
        If a download fails or its sha256 is not the expected one; nothing is
        left in the data home for that file.
    FileNotFoundError
        If a file is missing and ``download_if_missing`` is False.

    See Also
    --------
    fetch_uci_files : Fetch the files without reading them.

    References
    ----------
    .. [1] Zhang, H., Cisse, M., Dauphin, Y. N., & Lopez-Paz, D. (2018). mixup:
       Beyond Empirical Risk Minimization. ICLR.
    .. [2] Hernández-Lobato, J. M., & Adams, R. (2015). Probabilistic
       backpropagation for scalable learning of Bayesian neural networks. ICML.

    Examples
    --------
    >>> from skmixup.datasets import fetch_uci
    >>> yacht = fetch_uci("yacht")  # doctest: +SKIP
    >>> yacht.data.shape, len(yacht.splits)  # doctest: +SKIP
    ((308, 6), 20)
    """
    dataset = _dataset(name)
    files = fetch_uci_files(
        name,
        data_home=data_home,
        download_if_missing=download_if_missing,
        base_url=base_url,
    )
    splits: tuple = ()
    if dataset.task == "classification":
        X, y = read_classification(name, files.__getitem__)
    else:
        X, y, splits = read_regression(files.__getitem__)
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        splits=splits,
        task=dataset.task,
        files=files,
        DESCR=_describe(dataset),
    )
