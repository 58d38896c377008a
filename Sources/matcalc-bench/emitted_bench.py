#!/usr/bin/env python3
"""Times the code `matcalc` emits against hand-optimised NumPy and JAX's autodiff (issue 14).

    python3 emitted_bench.py MATCALC [--before OLD_MATCALC] [--sizes 300,2000] [--repeats 5]
                             [--show] [--only SUBSTRING]

(`matcalc-bench emitted ARGS` runs this with the matcalc built next to it.) For every problem
and size, the `--format numpy` line runs against hand-optimised NumPy, and the `--format jax`
function under `jax.jit` against `jax.jit(jax.grad(f))` (`jax.jacobian`, `jax.hessian` for
Jacobians and Hessians) of the objective written in jax.numpy, float64. Values are compared
first with the hand-written NumPy (a wrong row is reported, not timed); JAX functions are
compiled before timing. Then the NumPy contenders, and apart from them the JAX ones, run at
least `--repeats` times (and for at least 0.2 s), interleaved, and the best time counts. With
--before, the line of another matcalc build (e.g. the main branch) is timed too. Prints
milliseconds, the ratios emitted NumPy/hand NumPy and emitted JAX/jax.grad, and their
geometric means per size. On a loaded machine (shared cores) sub-millisecond rows vary by 2x
between runs; run it twice.
"""

import argparse
import inspect
import math
import re
import subprocess
import sys
import time
from typing import Callable, NamedTuple

import numpy as np

try:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
except ImportError:  # NumPy rows only
    jax = None


def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def softmax(t):
    e = np.exp(t - np.max(t))
    return e / np.sum(e)


class Problem(NamedTuple):
    name: str
    expression: str
    wrt: str
    where: str
    inputs: Callable  # (n, rng) -> {name: array}
    hand: Callable  # hand-optimised NumPy, inputs as keywords
    objective: Callable  # the objective in jax.numpy, inputs as keywords
    autodiff: str = "grad"  # grad, jacobian or hessian (--order 2)


def normal(r, *shape):
    return r.standard_normal(shape)


SQUARE = "A : matrix(n, n); B : matrix(n, n); C : matrix(n, n); x : vector(n)"
LOW_RANK = "T : matrix(n, n); U : matrix(n, k); V : matrix(n, k)"
LEAST_SQUARES = "X : matrix(n, n); W : matrix(n, n); v : vector(n); y : vector(n)"

PROBLEMS = [
    Problem(
        "tr(A B C x x') wrt x", "tr(A*B*C*x*x')", "x", SQUARE,
        lambda n, r: dict(A=normal(r, n, n), B=normal(r, n, n), C=normal(r, n, n),
                          x=normal(r, n)),
        lambda A, B, C, x: A @ (B @ (C @ x)) + C.T @ (B.T @ (A.T @ x)),
        lambda A, B, C, x: jnp.trace(A @ B @ C @ jnp.outer(x, x)),
    ),
    Problem(
        "x'Ax wrt x", "x'*A*x", "x", "A : matrix(n, n); x : vector(n)",
        lambda n, r: dict(A=normal(r, n, n), x=normal(r, n)),
        lambda A, x: A @ x + A.T @ x,
        lambda A, x: x @ A @ x,
    ),
    Problem(
        "tanh(W x) wrt x (Jacobian)", "tanh(W*x)", "x", "W : matrix(n, n); x : vector(n)",
        lambda n, r: dict(W=normal(r, n, n) / math.sqrt(n), x=normal(r, n)),
        lambda W, x: (1.0 - np.tanh(W @ x) ** 2)[:, None] * W,
        lambda W, x: jnp.tanh(W @ x),
        "jacobian",
    ),
    Problem(
        "1/2 |X W v - y|^2 wrt W", "1/2*norm2(X*W*v - y)^2", "W", LEAST_SQUARES,
        lambda n, r: dict(X=normal(r, n, n), W=normal(r, n, n), v=normal(r, n), y=normal(r, n)),
        lambda X, W, v, y: np.outer(X.T @ (X @ (W @ v) - y), v),
        lambda X, W, v, y: 0.5 * jnp.sum((X @ W @ v - y) ** 2),
    ),
    Problem(
        "seed LS via H = XW, yhat = Hv wrt W", "l", "W",
        LEAST_SQUARES + "; H = X*W; yhat = H*v; l = 1/2*(yhat - y)'*(yhat - y)",
        lambda n, r: dict(X=normal(r, n, n), W=normal(r, n, n), v=normal(r, n), y=normal(r, n)),
        lambda X, W, v, y: np.outer(X.T @ (X @ (W @ v) - y), v),
        lambda X, W, v, y: (lambda r: 0.5 * r @ r)((X @ W) @ v - y),
    ),
    Problem(
        "logistic loss Hessian wrt w", "sum(log(1 + exp(-y .* (X*w))))", "w",
        "X : matrix(n, n); w : vector(n); y : vector(n)",
        lambda n, r: dict(X=normal(r, n, n) / math.sqrt(n), w=normal(r, n),
                          y=np.sign(normal(r, n))),
        lambda X, w, y: (lambda p: (X.T * (p * (1.0 - p) * y * y)) @ X)(sigmoid(-y * (X @ w))),
        lambda X, w, y: jnp.sum(jnp.log(1 + jnp.exp(-y * (X @ w)))),
        "hessian",
    ),
    Problem(
        "logistic sigmoid(X) .* Y wrt X", "sum(sigmoid(X) .* Y)", "X",
        "X : matrix(n, n); Y : matrix(n, n)",
        lambda n, r: dict(X=normal(r, n, n), Y=normal(r, n, n)),
        lambda X, Y: (lambda s: s * (1.0 - s) * Y)(sigmoid(X)),
        lambda X, Y: jnp.sum(jax.nn.sigmoid(X) * Y),
    ),
    Problem(
        "softmax cross-entropy Hessian wrt x", "-y'*log(softmax(W*x))", "x",
        "W : matrix(n, n); x : vector(n); y : simplex(n)",
        lambda n, r: dict(W=normal(r, n, n) / math.sqrt(n), x=normal(r, n),
                          y=softmax(normal(r, n))),
        lambda W, x, y: (lambda s: (lambda g: (W.T * s) @ W - np.outer(g, g))(W.T @ s))(
            softmax(W @ x)),
        lambda W, x, y: -y @ jnp.log(jax.nn.softmax(W @ x)),
        "hessian",
    ),
    Problem(
        "a' inv(X) b wrt X", "a'*inv(X)*b", "X", "X : matrix(n, n); a : vector(n); b : vector(n)",
        lambda n, r: dict(X=normal(r, n, n) + n * np.eye(n), a=normal(r, n), b=normal(r, n)),
        lambda X, a, b: -np.outer(np.linalg.solve(X.T, a), np.linalg.solve(X, b)),
        lambda X, a, b: a @ jnp.linalg.inv(X) @ b,
    ),
    Problem(
        "GP loss wrt K", "1/2*y'*inv(K)*y + 1/2*logdet(K)", "K",
        "K : symmetric(n); y : vector(n)",
        lambda n, r: (lambda M: dict(K=M @ M.T / n + np.eye(n), y=normal(r, n)))(normal(r, n, n)),
        lambda K, y: (lambda Ki: (lambda a: 0.5 * (Ki - np.outer(a, a)))(Ki @ y))(
            np.linalg.inv(K)),
        lambda K, y: 0.5 * y @ jnp.linalg.inv(K) @ y + 0.5 * jnp.linalg.slogdet(K)[1],
    ),
    Problem(
        "logdet(X) - tr(S X) wrt X", "logdet(X) - tr(S*X)", "X",
        "X : matrix(n, n); S : matrix(n, n)",
        lambda n, r: dict(X=normal(r, n, n) + n * np.eye(n), S=normal(r, n, n)),
        lambda X, S: np.linalg.inv(X).T - S.T,
        lambda X, S: jnp.linalg.slogdet(X)[1] - jnp.trace(S @ X),
    ),
    Problem(
        "tr(inv(X) A) wrt X", "tr(inv(X)*A)", "X", "X : matrix(n, n); A : matrix(n, n)",
        lambda n, r: dict(X=normal(r, n, n) + n * np.eye(n), A=normal(r, n, n)),
        lambda X, A: (lambda Xi: -(Xi @ A @ Xi).T)(np.linalg.inv(X)),
        lambda X, A: jnp.trace(jnp.linalg.inv(X) @ A),
    ),
    Problem(
        "tr(X' A X) wrt X", "tr(X'*A*X)", "X", "X : matrix(n, n); A : matrix(n, n)",
        lambda n, r: dict(X=normal(r, n, n), A=normal(r, n, n)),
        lambda X, A: (A + A.T) @ X,
        lambda X, A: jnp.trace(X.T @ A @ X),
    ),
    Problem(
        "|T - U V'|^2 wrt U (rank 10)", "norm2(T - U*V')^2", "U",
        "T : matrix(n, n); U : matrix(n, 10); V : matrix(n, 10)",
        lambda n, r: dict(T=normal(r, n, n), U=normal(r, n, 10), V=normal(r, n, 10)),
        lambda T, U, V: 2.0 * (U @ (V.T @ V) - T @ V),
        lambda T, U, V: jnp.sum((T - U @ V.T) ** 2),
    ),
    # Low rank k = n/10 with k symbolic: no --sizes, so the emitted code chooses its order from
    # the shapes it is called with.
    Problem(
        "|T - U V'|^2 wrt U (k = n/10)", "norm2(T - U*V')^2", "U", LOW_RANK,
        lambda n, r: dict(T=normal(r, n, n), U=normal(r, n, n // 10), V=normal(r, n, n // 10)),
        lambda T, U, V: 2.0 * (U @ (V.T @ V) - T @ V),
        lambda T, U, V: jnp.sum((T - U @ V.T) ** 2),
    ),
    Problem(
        "|T - U V'|^2 wrt U,V (k = n/10)", "norm2(T - U*V')^2", "U,V", LOW_RANK,
        lambda n, r: dict(T=normal(r, n, n), U=normal(r, n, n // 10), V=normal(r, n, n // 10)),
        lambda T, U, V: (2.0 * (U @ (V.T @ V) - T @ V), 2.0 * (V @ (U.T @ U) - T.T @ U)),
        lambda T, U, V: jnp.sum((T - U @ V.T) ** 2),
    ),
    Problem(
        "tr(A B C X) wrt X (k = n/10)", "tr(A*B*C*X)", "X",
        "A : matrix(n, k); B : matrix(k, n); C : matrix(n, k); X : matrix(k, n)",
        lambda n, r: dict(A=normal(r, n, n // 10), B=normal(r, n // 10, n),
                          C=normal(r, n, n // 10), X=normal(r, n // 10, n)),
        lambda A, B, C, X: (C.T @ B.T) @ A.T,
        lambda A, B, C, X: jnp.trace(A @ B @ C @ X),
    ),
    Problem(
        "|A B C x - y|^2 wrt B (k = n/10)", "norm2(A*B*C*x - y)^2", "B",
        "A : matrix(n, k); B : matrix(k, k); C : matrix(k, n); x : vector(n); y : vector(n)",
        lambda n, r: dict(A=normal(r, n, n // 10), B=normal(r, n // 10, n // 10),
                          C=normal(r, n // 10, n), x=normal(r, n), y=normal(r, n)),
        lambda A, B, C, x, y: (lambda c: 2.0 * np.outer(A.T @ (A @ (B @ c) - y), c))(C @ x),
        lambda A, B, C, x, y: jnp.sum((A @ B @ C @ x - y) ** 2),
    ),
    Problem(
        "y' tanh(W2 tanh(W1 x)) wrt W1", "y'*tanh(W2*tanh(W1*x))", "W1",
        "W1 : matrix(n, n); W2 : matrix(n, n); x : vector(n); y : vector(n)",
        lambda n, r: dict(W1=normal(r, n, n) / math.sqrt(n), W2=normal(r, n, n) / math.sqrt(n),
                          x=normal(r, n), y=normal(r, n)),
        lambda W1, W2, x, y: (lambda h: np.outer(
            (W2.T @ (y * (1.0 - np.tanh(W2 @ h) ** 2))) * (1.0 - h * h), x))(np.tanh(W1 @ x)),
        lambda W1, W2, x, y: y @ jnp.tanh(W2 @ jnp.tanh(W1 @ x)),
    ),
]


def emitted(matcalc, problem, form):
    command = [matcalc, "derive", problem.expression, "--wrt", problem.wrt, "--where",
               problem.where, "--format", form]
    if problem.autodiff == "hessian":
        command += ["--order", "2"]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def emitted_jax(matcalc, problem):
    """The `--format jax` function, and its text."""
    text = emitted(matcalc, problem, "jax")
    scope = {}
    exec(text, scope)
    name = re.search(r"^def (\w+)\(", text, re.MULTILINE).group(1)
    return scope[name], text


def autodiff(problem, names):
    """`jax.jit(jax.grad(f))` (or jacobian, hessian) by the variable, inputs positional."""
    transform = {"grad": jax.grad, "jacobian": jax.jacobian, "hessian": jax.hessian}
    variables = problem.wrt.split(",")
    argnums = tuple(names.index(v) for v in variables)
    function = transform[problem.autodiff](
        lambda *args: problem.objective(**dict(zip(names, args))),
        argnums=argnums if len(argnums) > 1 else argnums[0])
    return jax.jit(function)


def relative_gap(value, reference):
    value = np.asarray(value, dtype=float)
    reference = np.asarray(reference, dtype=float)
    if value.shape != reference.shape:
        return math.inf
    return float(np.max(np.abs(value - reference)) / max(1.0, np.max(np.abs(reference))))


def best_times(runs, repeats, budget=0.2):
    """Each run's best time over interleaved rounds: at least `repeats`, and `budget` seconds."""
    best = {label: math.inf for label, _ in runs}
    started = time.perf_counter()
    rounds = 0
    while rounds < repeats or (time.perf_counter() - started < budget and rounds < 200):
        for label, run in runs:
            start = time.perf_counter()
            run()
            best[label] = min(best[label], time.perf_counter() - start)
        rounds += 1
    return best


def geometric_mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else math.nan


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("matcalc")
    parser.add_argument("--before", help="another matcalc build to time as 'before'")
    parser.add_argument("--sizes", default="300,2000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--show", action="store_true", help="print the emitted code")
    parser.add_argument("--only", default="", help="the problems whose name contains this")
    arguments = parser.parse_args()
    problems = [problem for problem in PROBLEMS if arguments.only in problem.name]
    sizes = [int(s) for s in arguments.sizes.split(",")]
    versions = [("emitted", arguments.matcalc)]
    if arguments.before:
        versions.insert(0, ("before", arguments.before))
    lines = {}
    functions = {}
    for problem in problems:
        for label, binary in versions:
            line = emitted(binary, problem, "numpy")
            lines[problem.name, label] = compile(line, "<emitted>", "eval")
            if arguments.show:
                print(f"{label} {problem.name}: {line}")
        if jax:
            functions[problem.name], text = emitted_jax(arguments.matcalc, problem)
            if arguments.show:
                print(text)
    if not jax:
        print("JAX is not installed: NumPy rows only")
    header = f"{'problem':38} {'n':>5}"
    header += "".join(f" {label + ' ms':>11}" for label, _ in versions)
    header += f" {'hand ms':>10}"
    header += "".join(f" {label + '/hand':>13}" for label, _ in versions)
    if jax:
        header += f" {'jax ms':>10} {'grad ms':>10} {'jax/grad':>9}"
    print(header)
    ratios = {(label, n): [] for label, _ in versions + [("jax", "")] for n in sizes}
    failures = 0

    def wrong(problem, n, label, gap):
        nonlocal failures
        failures += 1
        print(f"{problem.name} n={n}: {label} differs from hand by {gap:.2e}", file=sys.stderr)

    for n in sizes:
        for problem in problems:
            values = problem.inputs(n, np.random.default_rng(14))
            scope = dict(values, np=np)
            reference = problem.hand(**values)
            runs = [("hand", lambda: problem.hand(**values))]
            for label, _ in versions:
                code = lines[problem.name, label]
                gap = relative_gap(eval(code, scope), reference)
                if gap > 1e-8:
                    wrong(problem, n, label, gap)
                else:
                    runs.append((label, lambda code=code: eval(code, scope)))
            best = best_times(runs, arguments.repeats)
            # JAX is timed apart: what runs right after NumPy shares the cores with OpenBLAS's
            # threads still spinning.
            runs = []
            if jax:
                names = list(values)
                arrays = {name: jnp.asarray(value) for name, value in values.items()}
                # Positional arguments: keywords cost jax.jit's dispatch microseconds.
                function = functions[problem.name]
                parameters = list(inspect.signature(function).parameters)
                emitted_arguments = [arrays[name] for name in parameters]
                contenders = [
                    ("jax", lambda f=jax.jit(function): f(*emitted_arguments)),
                    ("grad", lambda f=autodiff(problem, names): f(*arrays.values())),
                ]
                for label, run in contenders:
                    gap = relative_gap(jax.block_until_ready(run()), reference)  # compiles
                    if gap > 1e-8:
                        wrong(problem, n, label, gap)
                    else:
                        runs.append((label, lambda run=run: jax.block_until_ready(run())))
            best.update(best_times(runs, arguments.repeats))

            def milliseconds(label, width):
                return f" {best[label] * 1e3:>{width}.2f}" if label in best else f" {'wrong':>{width}}"

            def ratio(label, reference, width):
                if label not in best or reference not in best:
                    return f" {'-':>{width}}"
                ratios[label, n].append(best[label] / best[reference])
                return f" {best[label] / best[reference]:>{width - 1}.2f}x"

            row = f"{problem.name:38} {n:>5}"
            row += "".join(milliseconds(label, 11) for label, _ in versions)
            row += milliseconds("hand", 10)
            row += "".join(ratio(label, "hand", 13) for label, _ in versions)
            if jax:
                row += milliseconds("jax", 10) + milliseconds("grad", 10)
                row += ratio("jax", "grad", 9)
            print(row, flush=True)
    for n in sizes:
        summary = f"geometric mean at n={n}:"
        summary += "".join(
            f" {label}/hand {geometric_mean(ratios[label, n]):.2f}x" for label, _ in versions)
        if jax:
            summary += f", emitted jax/jax.grad {geometric_mean(ratios['jax', n]):.2f}x"
        print(summary)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
