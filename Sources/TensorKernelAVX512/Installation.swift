import TensorKernel

/// Installs this module's kernel into ``TensorKernel/MatrixProduct`` when the CPU runs it.
///
/// The check itself lives in TensorKernel, which is built for any x86-64, so it runs safely
/// before any AVX-512 instruction can.
public enum FastKernel {
  /// Installs the AVX-512 kernel if ``TensorKernel/CPUFeatures/supportsAVX512``; returns
  /// whether it did.
  @discardableResult
  public static func installIfSupported() -> Bool {
    guard CPUFeatures.supportsAVX512 else { return false }
    MatrixProduct.install { m, n, k, a, b, c, threads in
      PackedGemm.multiply(m: m, n: n, k: k, a: a, b: b, c: c, threads: threads)
    }
    return true
  }

  /// The AVX-512 product directly (the benchmark times it); call only when supported.
  public static func multiply(
    m: Int, n: Int, k: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
    c: UnsafeMutablePointer<Double>, threads: Int,
    blocking: TensorKernelAVX512.PackedGemm.Blocking = .standard
  ) {
    PackedGemm.multiply(
      m: m, n: n, k: k, a: a, b: b, c: c, threads: threads, blocking: blocking)
  }
}
