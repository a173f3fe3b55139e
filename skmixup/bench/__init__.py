"""The ``skmixup-bench`` benchmark: mixup vs plain training on tabular data.

Run ``skmixup-bench --help``; the command's code is in :mod:`skmixup.bench.cli`.
"""
