// matcalc-bench: the engine's figures, release build (`swift run -c release matcalc-bench`).
// Tests never time anything; timing lives here.
//
//   matcalc-bench gemm        GEMM GFLOP/s, n = 256…2048, 1 and 2 threads, against NumPy
//   matcalc-bench gemm-tune   single-thread GFLOP/s of a few cache blockings
//   matcalc-bench derive      derivation and certificate time per problem
//   matcalc-bench symbolic    per-problem times against SymPy, deep networks, product chains
//   matcalc-bench emitted [--sizes 300,2000] [--repeats 5] [--show]
//                             the emitted NumPy and JAX code against hand-written NumPy and
//                             jax.jit(jax.grad), per problem and size (python3, NumPy, JAX;
//                             the matcalc built next to this binary)
//   matcalc-bench             derive, symbolic and gemm
//   matcalc-bench profile-small [ROUNDS [ID]]   the symbolic problems in a loop (for callgrind)
//   matcalc-bench profile-mlp [L [ROUNDS]]      the L-layer all-weights gradient in a loop
//   matcalc-bench profile-chain [L [ROUNDS]]    the gradient of tr(W_L ⋯ W_1 X) by W_1 in a loop
import Foundation
import MatrixCalculus

let command = CommandLine.arguments.dropFirst().first ?? "all"
switch command {
case "gemm": GemmBenchmark.run()
case "gemm-tune": GemmBenchmark.tune()
case "derive": try benchmarkDerivations()
case "symbolic": try SymbolicBenchmark.run()
case "emitted": exit(EmittedBenchmark.run(Array(CommandLine.arguments.dropFirst(2))))
case "profile-small":  // every symbolic problem in a loop, to run under a profiler
  let rounds = Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 1000
  let only = CommandLine.arguments.dropFirst(3).first  // one problem id, or all
  for _ in 0..<rounds {
    for problem in SymbolicBenchmark.problems where only == nil || problem.id == only {
      _ = try deriveUnchecked(problem.expression, wrt: problem.wrt, where: problem.statements)
        .render(.text)
    }
  }
case "profile-mlp":  // the all-weights gradient of an L-layer network in a loop
  let layers = Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 64
  let rounds = Int(CommandLine.arguments.dropFirst(3).first ?? "") ?? 10
  let statements = perceptronStatements(layers: layers)
  let weights = (1...layers).map { "W\($0)" }
  for _ in 0..<rounds {
    _ = try deriveUnchecked("l", wrt: weights, where: statements).render(.text)
  }
case "profile-chain":  // the product-chain gradient of `symbolic` in a loop
  let layers = Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 64
  let rounds = Int(CommandLine.arguments.dropFirst(3).first ?? "") ?? 10
  let chain = SymbolicBenchmark.chain(layers: layers)
  for _ in 0..<rounds {
    _ = try deriveUnchecked(chain.expression, wrt: "W1", where: chain.statements).render(.text)
  }
case "all":
  try benchmarkDerivations()
  try SymbolicBenchmark.run()
  GemmBenchmark.run()
default:
  FileHandle.standardError.write(
    Data(
      ("usage: matcalc-bench [gemm|gemm-tune|derive|symbolic|emitted|profile-small|"
        + "profile-mlp|profile-chain]\n").utf8))
  exit(2)
}
