import Foundation
import TensorKernel
import TensorKernelAVX512

/// `matcalc-bench gemm`: GFLOP/s of the product against NumPy in the same run.
enum GemmBenchmark {
  static let sizes = [256, 512, 1024, 2048]

  /// Best GFLOP/s over repeated runs of about `seconds` in total.
  static func gigaflops(
    n: Int, seconds: Double = 0.6,
    _ multiply: (UnsafePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>) ->
      Void
  ) -> Double {
    var a = [Double](repeating: 0, count: n * n)
    var b = a
    var generator = SystemRandomNumberGenerator()
    for i in a.indices {
      a[i] = Double.random(in: -1...1, using: &generator)
      b[i] = Double.random(in: -1...1, using: &generator)
    }
    let c = UnsafeMutablePointer<Double>.allocate(capacity: n * n)
    defer { c.deallocate() }
    var best = Double.infinity
    var spent = 0.0
    var runs = 0
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        guard let pa = pa.baseAddress, let pb = pb.baseAddress else { return }
        multiply(pa, pb, c)  // warm up
        while runs < 3 || spent < seconds {
          let start = DispatchTime.now().uptimeNanoseconds
          multiply(pa, pb, c)
          let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
          best = min(best, elapsed)
          spent += elapsed
          runs += 1
        }
      }
    }
    return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
  }

  /// NumPy's `@` on the same size, or nil when python3 with NumPy is not there.
  static func numpy(n: Int, threads: Int, coreType: String?) -> Double? {
    let script = """
      import numpy as np, time
      n = \(n)
      a = np.random.rand(n, n); b = np.random.rand(n, n); a @ b
      best = 1e9; spent = 0.0; runs = 0
      while runs < 3 or spent < 0.6:
          t = time.perf_counter(); a @ b; e = time.perf_counter() - t
          best = min(best, e); spent += e; runs += 1
      print(2 * n**3 / best / 1e9)
      """
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_NUM_THREADS"] = "\(threads)"
    environment["OMP_NUM_THREADS"] = "\(threads)"
    environment["OPENBLAS_CORETYPE"] = coreType
    guard let data = runPython(["-c", script], environment: environment) else { return nil }
    return Double(
      String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
  }

  static func run() {
    let fast = CPUFeatures.supportsAVX512
    print("kernel: \(fast ? "AVX-512 (TensorKernelAVX512)" : "portable (TensorKernel)")")
    for n in sizes {
      for threads in [1, 2] {
        let ours = gigaflops(n: n) { a, b, c in
          if fast {
            FastKernel.multiply(m: n, n: n, k: n, a: a, b: b, c: c, threads: threads)
          } else {
            TensorKernel.PackedGemm.multiply(
              m: n, n: n, k: n, a: a, b: b, c: c, threads: threads)
          }
        }
        var line = String(format: "gemm f64 n=%d threads=%d: %.1f GFLOP/s", n, threads, ours)
        if let reference = numpy(n: n, threads: threads, coreType: "SkylakeX") {
          line += String(format: ", numpy %.1f GFLOP/s, ratio %.2f", reference, ours / reference)
          if let standard = numpy(n: n, threads: threads, coreType: nil) {
            line += String(format: ", numpy default kernel %.1f GFLOP/s", standard)
          }
        } else {
          line += ", numpy unavailable"
        }
        print(line)
      }
    }
  }

  /// `matcalc-bench gemm-tune`: single-thread GFLOP/s of a few blockings at n = 1024.
  static func tune() {
    for kc in [256, 384, 512, 768] {
      for mc in [96, 144, 192, 288] {
        for nc in [768, 1536] {
          let blocking = TensorKernelAVX512.PackedGemm.Blocking(kc: kc, mc: mc, nc: nc)
          let rate = gigaflops(n: 1024, seconds: 0.3) { a, b, c in
            FastKernel.multiply(
              m: 1024, n: 1024, k: 1024, a: a, b: b, c: c, threads: 1, blocking: blocking)
          }
          print(String(format: "kc=%d mc=%d nc=%d: %.1f GFLOP/s", kc, mc, nc, rate))
        }
      }
    }
  }
}

/// Runs python3 with `arguments`; its standard output, or nil when it cannot run or fails.
func runPython(_ arguments: [String], environment: [String: String]? = nil) -> Data? {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = ["python3"] + arguments
  if let environment { process.environment = environment }
  let output = Pipe()
  process.standardOutput = output
  process.standardError = FileHandle.nullDevice
  do { try process.run() } catch { return nil }
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return process.terminationStatus == 0 ? data : nil
}
