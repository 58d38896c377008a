#!/usr/bin/env python3
"""Times the line `matcalc --format numpy` emits against hand-optimised NumPy (issue 14).

    python3 emitted_bench.py MATCALC [--before OLD_MATCALC] [--sizes 300,2000] [--repeats 5]

For every problem and size the values are compared first (a wrong line is reported, not
timed); then each version runs `--repeats` times, interleaved, and the best time counts.
With --before, the line of another matcalc build (e.g. the main branch) is timed too.
Prints a table of milliseconds and emitted/hand ratios, and their geometric mean per size.
On a loaded machine (shared cores) sub-millisecond rows vary by 2x between runs; run it twice.
"""

import argparse
import math
import subprocess
import sys
import time

import numpy as np


def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


# (name, expression, wrt, where, order, inputs(n, rng), hand(inputs))
PROBLEMS = [
    (
        "tr(A B C x x') wrt x",
        "tr(A*B*C*x*x')", "x",
        "A : matrix(n, n); B : matrix(n, n); C : matrix(n, n); x : vector(n)", 1,
        lambda n, r: dict(A=r.standard_normal((n, n)), B=r.standard_normal((n, n)),
                          C=r.standard_normal((n, n)), x=r.standard_normal(n)),
        lambda A, B, C, x: A @ (B @ (C @ x)) + C.T @ (B.T @ (A.T @ x)),
    ),
    (
        "x'Ax wrt x",
        "x'*A*x", "x", "A : matrix(n, n); x : vector(n)", 1,
        lambda n, r: dict(A=r.standard_normal((n, n)), x=r.standard_normal(n)),
        lambda A, x: A @ x + A.T @ x,
    ),
    (
        "tanh(W x) wrt x (Jacobian)",
        "tanh(W*x)", "x", "W : matrix(n, n); x : vector(n)", 1,
        lambda n, r: dict(W=r.standard_normal((n, n)) / math.sqrt(n), x=r.standard_normal(n)),
        lambda W, x: (1.0 - np.tanh(W @ x) ** 2)[:, None] * W,
    ),
    (
        "1/2 |X W v - y|^2 wrt W",
        "1/2*norm2(X*W*v - y)^2", "W",
        "X : matrix(n, n); W : matrix(n, n); v : vector(n); y : vector(n)", 1,
        lambda n, r: dict(X=r.standard_normal((n, n)), W=r.standard_normal((n, n)),
                          v=r.standard_normal(n), y=r.standard_normal(n)),
        lambda X, W, v, y: np.outer(X.T @ (X @ (W @ v) - y), v),
    ),
    (
        "seed LS via H = XW, yhat = Hv wrt W",
        "l", "W",
        "X : matrix(n, n); W : matrix(n, n); v : vector(n); y : vector(n); H = X*W; "
        "yhat = H*v; l = 1/2*(yhat - y)'*(yhat - y)", 1,
        lambda n, r: dict(X=r.standard_normal((n, n)), W=r.standard_normal((n, n)),
                          v=r.standard_normal(n), y=r.standard_normal(n)),
        lambda X, W, v, y: np.outer(X.T @ (X @ (W @ v) - y), v),
    ),
    (
        "logistic loss Hessian wrt w",
        "sum(log(1 + exp(-y .* (X*w))))", "w",
        "X : matrix(n, n); w : vector(n); y : vector(n)", 2,
        lambda n, r: dict(X=r.standard_normal((n, n)) / math.sqrt(n), w=r.standard_normal(n),
                          y=np.sign(r.standard_normal(n))),
        lambda X, w, y: (lambda p: (X.T * (p * (1.0 - p) * y * y)) @ X)(
            sigmoid(-y * (X @ w))),
    ),
    (
        "a' inv(X) b wrt X",
        "a'*inv(X)*b", "X", "X : matrix(n, n); a : vector(n); b : vector(n)", 1,
        lambda n, r: dict(X=r.standard_normal((n, n)) + n * np.eye(n), a=r.standard_normal(n),
                          b=r.standard_normal(n)),
        lambda X, a, b: -np.outer(np.linalg.solve(X.T, a), np.linalg.solve(X, b)),
    ),
    (
        "|T - U V'|^2 wrt U (rank 10)",
        "norm2(T - U*V')^2", "U", "T : matrix(n, n); U : matrix(n, 10); V : matrix(n, 10)", 1,
        lambda n, r: dict(T=r.standard_normal((n, n)), U=r.standard_normal((n, 10)),
                          V=r.standard_normal((n, 10))),
        lambda T, U, V: 2.0 * (U @ (V.T @ V) - T @ V),
    ),
]


def emitted(matcalc, expression, wrt, where, order):
    command = [matcalc, "derive", expression, "--wrt", wrt, "--where", where, "--format", "numpy"]
    if order == 2:
        command += ["--order", "2"]
    line = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()
    return line, compile(line, "<emitted>", "eval")


def relative_gap(value, reference):
    value = np.asarray(value, dtype=float)
    reference = np.asarray(reference, dtype=float)
    if value.shape != reference.shape:
        return math.inf
    return float(np.max(np.abs(value - reference)) / max(1.0, np.max(np.abs(reference))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("matcalc")
    parser.add_argument("--before", help="another matcalc build to time as 'before'")
    parser.add_argument("--sizes", default="300,2000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--show", action="store_true", help="print the emitted lines")
    arguments = parser.parse_args()
    sizes = [int(s) for s in arguments.sizes.split(",")]
    versions = [("after", arguments.matcalc)]
    if arguments.before:
        versions.insert(0, ("before", arguments.before))
    lines = {}
    for name, expression, wrt, where, order, _, _ in PROBLEMS:
        for label, binary in versions:
            lines[name, label] = emitted(binary, expression, wrt, where, order)
            if arguments.show:
                print(f"{label:6} {name}: {lines[name, label][0]}")
    header = f"{'problem':38} {'n':>5}"
    for label, _ in versions:
        header += f" {label + ' ms':>10}"
    header += f" {'hand ms':>10}"
    for label, _ in versions:
        header += f" {label + '/hand':>12}"
    print(header)
    ratios = {(label, n): [] for label, _ in versions for n in sizes}
    failures = 0
    for n in sizes:
        for name, _, _, _, _, inputs, hand in PROBLEMS:
            values = inputs(n, np.random.default_rng(14))
            scope = dict(values, np=np)
            reference = hand(**values)
            runs = [("hand", lambda: hand(**values))]
            for label, _ in versions:
                code = lines[name, label][1]
                gap = relative_gap(eval(code, scope), reference)
                if gap > 1e-8:
                    print(f"{name} n={n}: {label} differs from hand by {gap:.2e}", file=sys.stderr)
                    failures += 1
                runs.append((label, lambda code=code: eval(code, scope)))
            best = {label: math.inf for label, _ in runs}
            for _ in range(arguments.repeats):
                for label, run in runs:
                    start = time.perf_counter()
                    run()
                    best[label] = min(best[label], time.perf_counter() - start)
            row = f"{name:38} {n:>5}"
            for label, _ in versions:
                row += f" {best[label] * 1e3:>10.2f}"
            row += f" {best['hand'] * 1e3:>10.2f}"
            for label, _ in versions:
                ratio = best[label] / best["hand"]
                ratios[label, n].append(ratio)
                row += f" {ratio:>11.2f}x"
            print(row, flush=True)
    for n in sizes:
        summary = f"geometric mean emitted/hand at n={n}:"
        for label, _ in versions:
            values = ratios[label, n]
            mean = math.exp(sum(math.log(r) for r in values) / len(values))
            summary += f" {label} {mean:.2f}x"
        print(summary)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
