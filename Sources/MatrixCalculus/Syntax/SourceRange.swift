/// A position in the user's input: 1-based line and column, and a length in characters.
public struct SourceRange: Hashable, Sendable, CustomStringConvertible {
  /// 1-based line.
  public var line: Int
  /// 1-based column, counted in characters.
  public var column: Int
  /// Number of characters covered (at least 1 when printed).
  public var length: Int

  /// Creates a range.
  public init(line: Int, column: Int, length: Int) {
    self.line = line
    self.column = column
    self.length = length
  }

  /// `line:column`.
  public var description: String { "\(line):\(column)" }

  /// The smallest range covering both (on the first one's line when they differ).
  public func joined(_ other: SourceRange) -> SourceRange {
    guard other.line == line else { return self }
    let start = min(column, other.column)
    let end = max(column + length, other.column + other.length)
    return SourceRange(line: line, column: start, length: end - start)
  }
}
