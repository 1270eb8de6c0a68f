"""Reference baseline for mlbench: XGBClassifier() with default parameters.

Usage: /usr/bin/python3 xgb_baseline.py TRAIN.csv TEST.csv TARGET POSITIVE [CATEGORICAL ...]

TRAIN.csv and TEST.csv have a header row; TARGET is the label column and
POSITIVE the label counted as the positive class for F1. Every other column
is a feature: the CATEGORICAL ones are one-hot encoded with the categories
seen in TRAIN.csv (a test value never seen in training encodes as all
zeros, like scikit-learn's OneHotEncoder(handle_unknown="ignore")); the rest
are parsed as floats (empty = NaN, XGBoost's missing value). The model is
trained on TRAIN.csv and the script prints one line: the F1 of POSITIVE on
TEST.csv. It needs numpy and xgboost (Debian's python3-xgboost); it exits
with status 3 when they are missing.
"""

import csv
import sys

try:
    import numpy as np
    from xgboost import XGBClassifier
except ImportError as e:  # reported as "n/a" by mlbench
    print("missing module: %s" % e, file=sys.stderr)
    sys.exit(3)


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def encode(header, rows, target, categorical, categories):
    """Returns the feature matrix and the 0/1 labels of rows."""
    cols = []
    for j, name in enumerate(header):
        if name == target:
            continue
        if name in categorical:
            for c in categories[name]:
                cols.append([1.0 if r[j] == c else 0.0 for r in rows])
        else:
            cols.append([float(r[j]) if r[j] != "" else float("nan") for r in rows])
    return np.array(cols, dtype=np.float64).T


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    train_path, test_path, target, positive = sys.argv[1:5]
    categorical = set(sys.argv[5:])
    header, train = read(train_path)
    test_header, test = read(test_path)
    if test_header != header:
        sys.exit("train and test headers differ")
    t = header.index(target)
    categories = {}
    for j, name in enumerate(header):
        if name in categorical:
            categories[name] = sorted({r[j] for r in train})
    x_train = encode(header, train, target, categorical, categories)
    x_test = encode(header, test, target, categorical, categories)
    y_train = np.array([1 if r[t] == positive else 0 for r in train])
    y_test = np.array([1 if r[t] == positive else 0 for r in test])

    model = XGBClassifier()  # defaults, as the benchmark's brief asks
    model.fit(x_train, y_train)
    pred = model.predict(x_test)
    tp = int(np.sum((pred == 1) & (y_test == 1)))
    fp = int(np.sum((pred == 1) & (y_test == 0)))
    fn = int(np.sum((pred == 0) & (y_test == 1)))
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    print("%.6f" % f1)


if __name__ == "__main__":
    main()
