"""Times SymPy on the problems of `matcalc-bench symbolic` (same ids) and prints JSON:
{"id": seconds or null}. null where SymPy cannot express or differentiate the problem.
The cache is cleared before every run, so repeated runs are not answered from it."""
import json
import sys
import time

import sympy as sp
from sympy.core.cache import clear_cache

n, m, p, b, d, h = sp.symbols("n m p b d h", integer=True, positive=True)


def problems():
    A = sp.MatrixSymbol("A", n, n)
    B = sp.MatrixSymbol("B", n, n)
    X = sp.MatrixSymbol("X", n, n)
    x = sp.MatrixSymbol("x", n, 1)
    a = sp.MatrixSymbol("a", n, 1)
    c = sp.MatrixSymbol("c", n, 1)
    bb = sp.MatrixSymbol("b", n, 1)
    C = sp.MatrixSymbol("C", m, n)
    y = sp.MatrixSymbol("y", m, 1)
    Xd = sp.MatrixSymbol("X", b, d)
    W = sp.MatrixSymbol("W", d, h)
    v = sp.MatrixSymbol("v", h, 1)
    yb = sp.MatrixSymbol("y", b, 1)
    return {
        "quadratic-form": lambda: (x.T * A * x).diff(x),
        "trace-AX": lambda: sp.Trace(A * X).diff(X),
        "trace-XtA": lambda: sp.Trace(X.T * A).diff(X),
        "bilinear": lambda: (a.T * X * bb).diff(X),
        "bilinear-transposed": lambda: (a.T * X.T * bb).diff(X),
        "trace-AXB": lambda: sp.Trace(A * X * B).diff(X),
        "trace-XtX": lambda: sp.Trace(X.T * X).diff(X),
        "least-squares": lambda: ((C * x - y).T * (C * x - y)).diff(x),
        "logdet": lambda: sp.log(sp.Determinant(X)).diff(X),
        "det": lambda: sp.Determinant(X).diff(X),
        "trace-inverse": lambda: sp.Trace(X.inv() * A).diff(X),
        "two-definitions": lambda: (
            sp.Rational(1, 2) * (Xd * W * v - yb).T * (Xd * W * v - yb)
        ).diff(W),
        "ridge": lambda: (
            (C * x - y).T * (C * x - y) + 3 * (x.T * x)
        ).diff(x),
        "linear-term": lambda: (a.T * x + c.T * x).diff(x),
    }


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    results = {}
    for key, problem in problems().items():
        best = None
        try:
            for _ in range(repeats):
                clear_cache()
                start = time.perf_counter()
                result = problem()
                elapsed = time.perf_counter() - start
                if result.has(sp.Derivative):  # left unevaluated: not done
                    best = None
                    break
                best = elapsed if best is None else min(best, elapsed)
        except Exception:  # SymPy cannot do it: reported as null
            best = None
        results[key] = best
    for key in ["linear-layer", "dense-tanh", "transposed-weights", "mlp-3"]:
        results.setdefault(key, None)  # opaque or element-wise functions of matrices
    print(json.dumps(results, sort_keys=True))


main()
