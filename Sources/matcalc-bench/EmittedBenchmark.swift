import Foundation

/// `matcalc-bench emitted`: the code `matcalc` emits (`--format numpy` and `--format jax`)
/// against hand-optimised NumPy and `jax.jit(jax.grad)`, timed by emitted_bench.py (next to
/// this file) in python3 with NumPy and JAX.
enum EmittedBenchmark {
  /// Runs emitted_bench.py with the `matcalc` built next to this binary, passing `arguments`
  /// (`--sizes 300,2000`, `--repeats 5`, `--show`) through; its exit status, or 2 when
  /// python3, the script or `matcalc` is missing.
  static func run(_ arguments: [String]) -> Int32 {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("emitted_bench.py")
    let executable =
      Bundle.main.executableURL
      ?? URL(fileURLWithPath: CommandLine.arguments[0])
    let matcalc = executable.resolvingSymlinksInPath().deletingLastPathComponent()
      .appendingPathComponent("matcalc")
    for (file, what) in [(script, "the benchmark script"), (matcalc, "matcalc")]
    where !FileManager.default.fileExists(atPath: file.path) {
      FileHandle.standardError.write(
        Data("matcalc-bench: \(what) not found at \(file.path)\n".utf8))
      return 2
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script.path, matcalc.path] + arguments
    do { try process.run() } catch {
      FileHandle.standardError.write(Data("matcalc-bench: cannot run python3: \(error)\n".utf8))
      return 2
    }
    process.waitUntilExit()
    return process.terminationStatus
  }
}
