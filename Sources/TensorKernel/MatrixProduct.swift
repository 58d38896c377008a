import Foundation
import Synchronization

/// Chooses how `Tensor.matmul` multiplies: a plain loop for small products, the packed
/// kernel for large ones, and an installed accelerated kernel when the CPU allows it.
public enum MatrixProduct {
  /// A product kernel: (m, n, k, A, B, C, threads), row-major, C overwritten.
  public typealias Kernel =
    @Sendable (
      Int, Int, Int, UnsafePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>,
      Int
    ) -> Void

  private static let accelerated = Mutex<Kernel?>(nil)

  /// Below this many multiply-adds the plain loop wins (no packing).
  public static let packedThreshold = 32 * 32 * 32

  /// Installs a faster kernel (the CLI installs the AVX-512 one after ``CPUFeatures``).
  public static func install(_ kernel: Kernel?) {
    accelerated.withLock { $0 = kernel }
  }

  /// Whether an accelerated kernel is installed.
  public static var isAccelerated: Bool { accelerated.withLock { $0 != nil } }

  /// Threads for large products: the machine's cores.
  public static let threads = max(1, ProcessInfo.processInfo.activeProcessorCount)

  /// C = A B with the best available kernel.
  public static func multiply(
    m: Int, n: Int, k: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
    c: UnsafeMutablePointer<Double>
  ) {
    if m * n * k < packedThreshold {
      plain(m: m, n: n, k: k, a: a, b: b, c: c)
    } else if let kernel = accelerated.withLock({ $0 }) {
      kernel(m, n, k, a, b, c, threads)
    } else {
      PackedGemm.multiply(m: m, n: n, k: k, a: a, b: b, c: c, threads: threads)
    }
  }

  /// The i-k-j loop: contiguous rows of B and C in the inner loop.
  static func plain(
    m: Int, n: Int, k: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
    c: UnsafeMutablePointer<Double>
  ) {
    c.update(repeating: 0, count: m * n)
    for i in 0..<m {
      for p in 0..<k {
        let aip = a[i * k + p]
        if aip == 0 { continue }
        let bRow = b + p * n
        let cRow = c + i * n
        for j in 0..<n { cRow[j] += aip * bRow[j] }
      }
    }
  }
}

/// What the CPU can run, read once.
public enum CPUFeatures {
  /// AVX-512 F, DQ, BW, VL, CD and FMA: what the `skylake-avx512` build of the fast kernel
  /// may use. False when unknown, or when MATCALC_PORTABLE_KERNEL is set.
  public static let supportsAVX512: Bool = {
    if ProcessInfo.processInfo.environment["MATCALC_PORTABLE_KERNEL"] != nil { return false }
    #if os(Linux) && arch(x86_64)
      guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
      else { return false }
      let flags = Set(line.split(separator: " ").map(String.init))
      return ["avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd", "fma"]
        .allSatisfy(flags.contains)
    #else
      return false
    #endif
  }()
}
