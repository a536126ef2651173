"""Reference classification metrics from scikit-learn for tst_evaluation.

Usage: metrics_reference.py CASES_JSON OUT_JSON

CASES_JSON is a list of {"name", "num_classes", "labels": [N], "predicted": [N],
"probabilities": [N x num_classes, row-major, flat], "ks": [k, ...]}. OUT_JSON maps each name
to {"confusion": [[...]], "precision", "recall", "f1", "support": [per class], "macro" and
"weighted": {"precision", "recall", "f1"}, "accuracy", "top_k": {"k": value}}, every class of
0 .. num_classes-1 included (labels=range(num_classes)) with zero_division=0. With two classes,
top_k_accuracy_score gets the score of class 1, as scikit-learn wants for binary targets.
Exits with status 3 when numpy or scikit-learn cannot be imported.
"""

import json
import sys
import warnings

try:
    import numpy as np
    from sklearn import metrics
except ImportError as error:
    print(f"scikit-learn missing: {error}", file=sys.stderr)
    sys.exit(3)


def reference(case):
    n = case["num_classes"]
    labels = list(range(n))
    y_true = np.array(case["labels"], dtype=np.int64)
    y_pred = np.array(case["predicted"], dtype=np.int64)
    scores = np.array(case["probabilities"], dtype=np.float64).reshape(len(y_true), n)
    p, r, f, s = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0)
    out = {
        "confusion": metrics.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "precision": p.tolist(),
        "recall": r.tolist(),
        "f1": f.tolist(),
        "support": s.tolist(),
        "accuracy": float(metrics.accuracy_score(y_true, y_pred)),
        "top_k": {},
    }
    for average in ("macro", "weighted"):
        ap, ar, af, _ = metrics.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=0)
        out[average] = {"precision": float(ap), "recall": float(ar), "f1": float(af)}
    y_score = scores[:, 1] if n == 2 else scores
    for k in case["ks"]:
        out["top_k"][str(k)] = float(
            metrics.top_k_accuracy_score(y_true, y_score, k=k, labels=labels))
    return out


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # k >= classes, classes without samples
        results = {case["name"]: reference(case) for case in cases}
    with open(sys.argv[2], "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
