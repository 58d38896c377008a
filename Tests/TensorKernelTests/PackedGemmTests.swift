import Testing
import TensorKernelAVX512

@testable import TensorKernel

/// Which build of the packed product a case runs.
enum KernelBuild: String, CaseIterable, Sendable {
  case portable, avx512
}

func packedProduct(
  _ a: Tensor, _ b: Tensor, build: KernelBuild, threads: Int,
  blocking: (kc: Int, mc: Int, nc: Int)?
) -> Tensor {
  var c = Tensor(rows: a.rows, cols: b.cols, repeating: .nan)
  a.storage.withUnsafeBufferPointer { pa in
    b.storage.withUnsafeBufferPointer { pb in
      c.storage.withUnsafeMutableBufferPointer { pc in
        guard let pa = pa.baseAddress, let pb = pb.baseAddress, let pc = pc.baseAddress else {
          return
        }
        switch build {
        case .portable:
          let chosen = blocking.map {
            TensorKernel.PackedGemm.Blocking(kc: $0.kc, mc: $0.mc, nc: $0.nc)
          }
          TensorKernel.PackedGemm.multiply(
            m: a.rows, n: b.cols, k: a.cols, a: pa, b: pb, c: pc, threads: threads,
            blocking: chosen ?? .standard)
        case .avx512:
          let chosen = blocking.map {
            TensorKernelAVX512.PackedGemm.Blocking(kc: $0.kc, mc: $0.mc, nc: $0.nc)
          }
          FastKernel.multiply(
            m: a.rows, n: b.cols, k: a.cols, a: pa, b: pb, c: pc, threads: threads,
            blocking: chosen ?? .standard)
        }
      }
    }
  }
  return c
}

/// Odd sizes, sizes that cross the blocking, and a tiny blocking that exercises every edge.
@Test(
  arguments: KernelBuild.allCases,
  [
    (1, 1, 1), (1, 40, 1), (40, 1, 1), (1, 1, 40), (7, 5, 3), (65, 33, 17), (9, 25, 8),
    (200, 389, 50), (16, 48, 24), (130, 70, 400),
  ])
func packedProductMatchesTheReference(_ build: KernelBuild, _ size: (Int, Int, Int)) {
  if build == .avx512 && !CPUFeatures.supportsAVX512 { return }  // cannot run here
  let (m, k, n) = size
  let a = pseudoRandom(m, k, seed: 3)
  let b = pseudoRandom(k, n, seed: 4)
  let reference = naiveProduct(a, b)
  for threads in [1, 2] {
    for blocking in [nil, (kc: 5, mc: 8, nc: 24), (kc: 7, mc: 16, nc: 48)] {
      let c = packedProduct(a, b, build: build, threads: threads, blocking: blocking)
      let gap = zip(c.storage, reference.storage).map { abs($0 - $1) }.max() ?? .nan
      #expect(
        gap <= 1e-12 * max(1, reference.maxAbs),
        "\(m)×\(k)×\(n) threads \(threads) \(String(describing: blocking))")
    }
  }
}

@Test func productThroughTheTensorUsesThePackedKernelForLargeSizes() throws {
  let a = pseudoRandom(70, 60, seed: 5)
  let b = pseudoRandom(60, 50, seed: 6)
  #expect(70 * 60 * 50 >= MatrixProduct.packedThreshold)
  let c = try #require(a.matmul(b))
  let gap = zip(c.storage, naiveProduct(a, b).storage).map { abs($0 - $1) }.max() ?? .nan
  #expect(gap <= 1e-12 * 60)
}
