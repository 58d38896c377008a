/// A position in the user's input: 1-based line and column, and a length in characters.
///
/// The line and column count within one text, the one ``part`` names: a problem given to
/// ``parseProblem(_:)``, or the expression or the statements given to
/// ``derive(_:wrt:where:order:rules:)``.
///
/// ```swift
/// let range = SourceRange(line: 1, column: 3, length: 1, part: .expression)
/// range.description  // "1:3"
/// ```
public struct SourceRange: Hashable, Sendable, CustomStringConvertible {
  /// The text a position counts in.
  public enum Part: String, Hashable, Sendable {
    /// The whole problem text (``parseProblem(_:)``, a problem file).
    case problem
    /// The expression argument of ``derive(_:wrt:where:order:rules:)``.
    case expression
    /// The `where:` statements of ``derive(_:wrt:where:order:rules:)``.
    case statements
  }

  /// 1-based line.
  public var line: Int
  /// 1-based column, counted in characters.
  public var column: Int
  /// Number of characters covered (at least 1 when printed).
  public var length: Int
  /// The text `line` and `column` count in.
  public var part: Part

  /// Creates a range.
  ///
  /// - Parameters:
  ///   - line: 1-based line.
  ///   - column: 1-based column, in characters.
  ///   - length: characters covered.
  ///   - part: the text the position counts in; by default a whole problem.
  public init(line: Int, column: Int, length: Int, part: Part = .problem) {
    self.line = line
    self.column = column
    self.length = length
    self.part = part
  }

  /// `line:column`.
  public var description: String { "\(line):\(column)" }

  /// The smallest range covering both (on the first one's line when they differ).
  func joined(_ other: SourceRange) -> SourceRange {
    guard other.line == line, other.part == part else { return self }
    let start = min(column, other.column)
    let end = max(column + length, other.column + other.length)
    return SourceRange(line: line, column: start, length: end - start, part: part)
  }
}
