import Foundation
import Synchronization

/// Resource limits: input length, nesting depth, and time per derivation. Exceeding one is a
/// clear error (``MatcalcError/limit(_:_:)``), never a hang or a stack overflow; the CLI can
/// raise them (`--max-input`, `--max-depth`, `--time-limit`).
public struct Limits: Sendable, Equatable {
  /// Characters of input.
  public var maximumInputLength = 2_000_000
  /// Nesting depth of an expression (bounds every recursion after parsing).
  public var maximumDepth = 400
  /// Seconds one derivation may take.
  public var maximumSeconds = 10.0

  /// The defaults.
  public init() {}

  private static let shared = Mutex(Limits())

  /// The limits in force.
  public static var current: Limits {
    get { shared.withLock { $0 } }
    set { shared.withLock { $0 = newValue } }
  }
}

/// A point in time after which work stops with a limit error.
struct Deadline {
  let end: DispatchTime
  let seconds: Double
  private var calls = 0

  init(seconds: Double = Limits.current.maximumSeconds) {
    self.seconds = seconds
    end = DispatchTime.now() + seconds
  }

  /// Throws once the deadline has passed (the clock is read every 256 calls).
  mutating func check() throws {
    calls &+= 1
    guard calls & 255 == 0 else { return }
    try checkNow()
  }

  /// Throws if the deadline has passed (reads the clock every time).
  func checkNow() throws {
    if DispatchTime.now() > end {
      throw MatcalcError.limit(
        "the derivation took longer than \(Int(seconds)) s (raise it with --time-limit)", nil)
    }
  }
}
