/// Dense matrix product C = A B (row-major, contiguous) by the packed-panel method:
/// B is packed in panels of KC×NC and A in blocks of MC×KC, both into micro-panels laid
/// out in the order the register block reads them, with zero padding at the edges, and an
/// 8×24 register block of `SIMD8<Double>` does the arithmetic. Columns are split between
/// threads, each with its own packing buffers.
///
/// This one source is compiled twice: in TensorKernel (portable, multiply then add) and in
/// TensorKernelAVX512 (built for AVX-512 with fused multiply-add, `FUSED_MULTIPLY_ADD`), which
/// only the command-line tool and the benchmark link, behind a run-time CPU check.
import Dispatch

#if FUSED_MULTIPLY_ADD
  @inline(__always)
  func fused(_ c: SIMD8<Double>, _ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> {
    c.addingProduct(a, b)
  }
#else
  @inline(__always)
  func fused(_ c: SIMD8<Double>, _ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> {
    c + a * b
  }
#endif

@inline(__always)
func accumulate(_ pointer: UnsafeMutablePointer<Double>, _ value: SIMD8<Double>) {
  let raw = UnsafeMutableRawPointer(pointer)
  raw.storeBytes(of: raw.loadUnaligned(as: SIMD8<Double>.self) + value, as: SIMD8<Double>.self)
}

/// Pointers shared with the worker threads (each thread writes its own columns of C).
struct SharedPointers: @unchecked Sendable {
  let a: UnsafePointer<Double>
  let b: UnsafePointer<Double>
  let c: UnsafeMutablePointer<Double>
}

/// The blocked, packed, multi-threaded product.
public enum PackedGemm {
  static let mr = 8
  static let nr = 24

  /// Cache blocking.
  public struct Blocking: Sendable {
    /// Depth of a packed panel: a 24-column micro-panel of B (KC×24) should fit in L1.
    public var kc: Int
    /// Rows of A per packed block (rounded up to a multiple of 8): the block stays in L2.
    public var mc: Int
    /// Columns of B per packed panel (rounded up to a multiple of 24).
    public var nc: Int

    /// Blocking with the given sizes.
    public init(kc: Int, mc: Int, nc: Int) {
      self.kc = max(1, kc)
      self.mc = max(1, (mc + 7) / 8) * 8
      self.nc = max(1, (nc + 23) / 24) * 24
    }

    /// Measured on this project's machines (matcalc-bench gemm-tune).
    public static let standard = Blocking(kc: 384, mc: 192, nc: 1536)
  }

  /// C (m×n) = A (m×k) B (k×n), all row-major and contiguous; C is overwritten.
  public static func multiply(
    m: Int, n: Int, k: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
    c: UnsafeMutablePointer<Double>, threads: Int, blocking: Blocking = .standard
  ) {
    c.update(repeating: 0, count: m * n)
    if m == 0 || n == 0 || k == 0 { return }
    // Split the columns into whole micro-panels, one range per thread.
    let panels = (n + nr - 1) / nr
    let workers = max(1, min(threads, panels))
    let shared = SharedPointers(a: a, b: b, c: c)
    let (kcValue, mcValue, ncValue) = (blocking.kc, blocking.mc, blocking.nc)
    @Sendable func work(_ worker: Int) {
      let first = panels * worker / workers * nr
      let last = min(n, panels * (worker + 1) / workers * nr)
      if first >= last { return }
      serial(
        m: m, n: last - first, k: k, a: shared.a, b: shared.b + first, ldb: n,
        c: shared.c + first, ldc: n, kc: kcValue, mc: mcValue, nc: ncValue)
    }
    if workers == 1 {
      work(0)
    } else {
      DispatchQueue.concurrentPerform(iterations: workers, execute: work)
    }
  }

  static func serial(
    m: Int, n: Int, k: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>, ldb: Int,
    c: UnsafeMutablePointer<Double>, ldc: Int, kc: Int, mc: Int, nc: Int
  ) {
    let packedA = UnsafeMutablePointer<Double>.allocate(capacity: mc * kc)
    let packedB = UnsafeMutablePointer<Double>.allocate(capacity: kc * ((nc + nr - 1) / nr * nr))
    let edge = UnsafeMutablePointer<Double>.allocate(capacity: mr * nr)
    defer {
      packedA.deallocate()
      packedB.deallocate()
      edge.deallocate()
    }
    var jc = 0
    while jc < n {
      let ncur = min(nc, n - jc)
      var pc = 0
      while pc < k {
        let kcur = min(kc, k - pc)
        packB(b + pc * ldb + jc, ldb: ldb, rows: kcur, cols: ncur, into: packedB)
        var ic = 0
        while ic < m {
          let mcur = min(mc, m - ic)
          packA(a + ic * k + pc, lda: k, rows: mcur, cols: kcur, into: packedA)
          var jr = 0
          while jr < ncur {
            let ncols = min(nr, ncur - jr)
            let bPanel = packedB + jr * kcur
            var ir = 0
            while ir < mcur {
              let nrows = min(mr, mcur - ir)
              let aPanel = packedA + ir * kcur
              let tile = c + (ic + ir) * ldc + jc + jr
              if nrows == mr && ncols == nr {
                kernel8x24(kcur, aPanel, bPanel, tile, ldc)
              } else {
                edge.update(repeating: 0, count: mr * nr)
                kernel8x24(kcur, aPanel, bPanel, edge, nr)
                for i in 0..<nrows {
                  for j in 0..<ncols { tile[i * ldc + j] += edge[i * nr + j] }
                }
              }
              ir += mr
            }
            jr += nr
          }
          ic += mc
        }
        pc += kc
      }
      jc += nc
    }
  }

  /// A[0..<rows, 0..<cols] into micro-panels of 8 rows: panel r, depth p, row i at
  /// `(r * cols + p) * 8 + i`; missing rows are zero.
  static func packA(
    _ a: UnsafePointer<Double>, lda: Int, rows: Int, cols: Int,
    into packed: UnsafeMutablePointer<Double>
  ) {
    var panel = 0
    while panel * mr < rows {
      let base = packed + panel * cols * mr
      let rowCount = min(mr, rows - panel * mr)
      for i in 0..<mr {
        if i < rowCount {
          let source = a + (panel * mr + i) * lda
          for p in 0..<cols { base[p * mr + i] = source[p] }
        } else {
          for p in 0..<cols { base[p * mr + i] = 0 }
        }
      }
      panel += 1
    }
  }

  /// B[0..<rows, 0..<cols] into micro-panels of 24 columns: panel q, depth p, column j at
  /// `(q * rows + p) * 24 + j`; missing columns are zero.
  static func packB(
    _ b: UnsafePointer<Double>, ldb: Int, rows: Int, cols: Int,
    into packed: UnsafeMutablePointer<Double>
  ) {
    var panel = 0
    while panel * nr < cols {
      let base = packed + panel * rows * nr
      let colCount = min(nr, cols - panel * nr)
      for p in 0..<rows {
        let source = b + p * ldb + panel * nr
        let target = base + p * nr
        if colCount == nr {
          target.update(from: source, count: nr)
        } else {
          for j in 0..<colCount { target[j] = source[j] }
          for j in colCount..<nr { target[j] = 0 }
        }
      }
      panel += 1
    }
  }

  /// The 8×24 register block: C[0..<8, 0..<24] += Σ_p a[p][0..<8] ⊗ b[p][0..<24].
  ///
  /// `a` holds 8 values per p, `b` 24; the 24 accumulators stay in vector registers.
  @inline(__always)
  static func kernel8x24(
    _ kc: Int, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
    _ c: UnsafeMutablePointer<Double>, _ ldc: Int
  ) {
    var c00 = SIMD8<Double>(); var c01 = SIMD8<Double>(); var c02 = SIMD8<Double>()
    var c10 = SIMD8<Double>(); var c11 = SIMD8<Double>(); var c12 = SIMD8<Double>()
    var c20 = SIMD8<Double>(); var c21 = SIMD8<Double>(); var c22 = SIMD8<Double>()
    var c30 = SIMD8<Double>(); var c31 = SIMD8<Double>(); var c32 = SIMD8<Double>()
    var c40 = SIMD8<Double>(); var c41 = SIMD8<Double>(); var c42 = SIMD8<Double>()
    var c50 = SIMD8<Double>(); var c51 = SIMD8<Double>(); var c52 = SIMD8<Double>()
    var c60 = SIMD8<Double>(); var c61 = SIMD8<Double>(); var c62 = SIMD8<Double>()
    var c70 = SIMD8<Double>(); var c71 = SIMD8<Double>(); var c72 = SIMD8<Double>()
    var pa = a
    var pb = b
    for _ in 0..<kc {
      let b0 = UnsafeRawPointer(pb + 0).loadUnaligned(as: SIMD8<Double>.self)
      let b1 = UnsafeRawPointer(pb + 8).loadUnaligned(as: SIMD8<Double>.self)
      let b2 = UnsafeRawPointer(pb + 16).loadUnaligned(as: SIMD8<Double>.self)
      let a0 = SIMD8<Double>(repeating: pa[0])
      c00 = fused(c00, a0, b0); c01 = fused(c01, a0, b1); c02 = fused(c02, a0, b2)
      let a1 = SIMD8<Double>(repeating: pa[1])
      c10 = fused(c10, a1, b0); c11 = fused(c11, a1, b1); c12 = fused(c12, a1, b2)
      let a2 = SIMD8<Double>(repeating: pa[2])
      c20 = fused(c20, a2, b0); c21 = fused(c21, a2, b1); c22 = fused(c22, a2, b2)
      let a3 = SIMD8<Double>(repeating: pa[3])
      c30 = fused(c30, a3, b0); c31 = fused(c31, a3, b1); c32 = fused(c32, a3, b2)
      let a4 = SIMD8<Double>(repeating: pa[4])
      c40 = fused(c40, a4, b0); c41 = fused(c41, a4, b1); c42 = fused(c42, a4, b2)
      let a5 = SIMD8<Double>(repeating: pa[5])
      c50 = fused(c50, a5, b0); c51 = fused(c51, a5, b1); c52 = fused(c52, a5, b2)
      let a6 = SIMD8<Double>(repeating: pa[6])
      c60 = fused(c60, a6, b0); c61 = fused(c61, a6, b1); c62 = fused(c62, a6, b2)
      let a7 = SIMD8<Double>(repeating: pa[7])
      c70 = fused(c70, a7, b0); c71 = fused(c71, a7, b1); c72 = fused(c72, a7, b2)
      pa += 8
      pb += 24
    }
    accumulate(c + 0 * ldc + 0, c00)
    accumulate(c + 0 * ldc + 8, c01)
    accumulate(c + 0 * ldc + 16, c02)
    accumulate(c + 1 * ldc + 0, c10)
    accumulate(c + 1 * ldc + 8, c11)
    accumulate(c + 1 * ldc + 16, c12)
    accumulate(c + 2 * ldc + 0, c20)
    accumulate(c + 2 * ldc + 8, c21)
    accumulate(c + 2 * ldc + 16, c22)
    accumulate(c + 3 * ldc + 0, c30)
    accumulate(c + 3 * ldc + 8, c31)
    accumulate(c + 3 * ldc + 16, c32)
    accumulate(c + 4 * ldc + 0, c40)
    accumulate(c + 4 * ldc + 8, c41)
    accumulate(c + 4 * ldc + 16, c42)
    accumulate(c + 5 * ldc + 0, c50)
    accumulate(c + 5 * ldc + 8, c51)
    accumulate(c + 5 * ldc + 16, c52)
    accumulate(c + 6 * ldc + 0, c60)
    accumulate(c + 6 * ldc + 8, c61)
    accumulate(c + 6 * ldc + 16, c62)
    accumulate(c + 7 * ldc + 0, c70)
    accumulate(c + 7 * ldc + 8, c71)
    accumulate(c + 7 * ldc + 16, c72)
  }
}
