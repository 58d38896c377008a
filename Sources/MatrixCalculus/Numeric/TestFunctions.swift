import Foundation
import TensorKernel

/// Concrete stand-ins for opaque functions when a formula is checked on numbers. Any
/// smooth function would do; these are non-linear and not symmetric in (i, j), so a
/// transposed or misplaced upstream gradient fails the check.
enum TestFunctions {
  /// FNV-1a of a name: a stable seed (never `hashValue`).
  static func stableHash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x100_0000_01b3
    }
    return hash
  }

  private static func weight(_ name: String, _ i: Int, _ j: Int) -> Double {
    let phase = Double(stableHash(name) % 1000) / 100
    return sin(phase + 1.7 * Double(i) + 0.9 * Double(j))
  }

  /// `L(D) = Σ_ij c_ij D_ij + sin(D_ij) + D_ij²/4`.
  static func opaque(_ name: String, _ d: Tensor) -> Double {
    var total = 0.0
    for i in 0..<d.rows {
      for j in 0..<d.cols {
        let x = d[i, j]
        total += weight(name, i, j) * x + sin(x) + x * x / 4
      }
    }
    return total
  }

  /// `(∇L)(D)_ij = c_ij + cos(D_ij) + D_ij/2`.
  static func gradient(_ name: String, _ d: Tensor) -> Tensor {
    var result = d
    for i in 0..<d.rows {
      for j in 0..<d.cols {
        result[i, j] = weight(name, i, j) + cos(d[i, j]) + d[i, j] / 2
      }
    }
    return result
  }

  /// `f(t) = sin(t) + 0.3 t²` and its derivatives, for element-wise opaque functions.
  static func mapped(_ order: Int, _ t: Double) -> Double {
    switch order {
    case 0: return sin(t) + 0.3 * t * t
    case 1: return cos(t) + 0.6 * t
    case 2: return -sin(t) + 0.6
    default: return -cos(t)
    }
  }
}
