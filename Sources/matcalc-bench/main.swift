// matcalc-bench: the engine's figures, release build (`swift run -c release matcalc-bench`).
// Tests never time anything; timing lives here.
//
//   matcalc-bench gemm        GEMM GFLOP/s, n = 256…2048, 1 and 2 threads, against NumPy
//   matcalc-bench gemm-tune   single-thread GFLOP/s of a few cache blockings
//   matcalc-bench derive      derivation and certificate time per problem
//   matcalc-bench             all of the above but the tuning
import Foundation

let command = CommandLine.arguments.dropFirst().first ?? "all"
switch command {
case "gemm": GemmBenchmark.run()
case "gemm-tune": GemmBenchmark.tune()
case "derive": try benchmarkDerivations()
case "all":
  try benchmarkDerivations()
  GemmBenchmark.run()
default:
  FileHandle.standardError.write(Data("usage: matcalc-bench [gemm|gemm-tune|derive]\n".utf8))
  exit(2)
}
