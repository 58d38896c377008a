/// Every error the engine reports. Each carries the position in the user's input where that
/// is known, and a message in the user's terms.
public enum MatcalcError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Malformed input.
  case syntax(String, SourceRange)
  /// A name that is neither declared, defined nor inferable.
  case unknownName(String, SourceRange)
  /// Shapes that do not fit, e.g. `W*X: W is m×n but X is p×q`.
  case shapeMismatch(String, SourceRange)
  /// A construct the engine does not handle (yet); nothing is guessed instead.
  case unsupported(String, SourceRange?)
  /// A rule file that does not load, with its file and line.
  case rule(String, file: String, line: Int)
  /// A derived formula that failed its numeric check; it is not printed as an answer.
  case checkFailed(String)
  /// A numeric evaluation that cannot proceed (singular matrix, log of a negative number).
  case numeric(String)
  /// A resource limit was reached.
  case limit(String, SourceRange?)
  /// A broken invariant inside the engine; reported, never trapped.
  case internalError(String)

  /// The position, where known.
  public var range: SourceRange? {
    switch self {
    case .syntax(_, let range), .unknownName(_, let range), .shapeMismatch(_, let range):
      return range
    case .unsupported(_, let range), .limit(_, let range): return range
    case .rule, .checkFailed, .numeric, .internalError: return nil
    }
  }

  /// The message without the position.
  public var message: String {
    switch self {
    case .syntax(let text, _): return text
    case .unknownName(let name, _):
      return "unknown name '\(name)': declare it, e.g. '\(name) : matrix(m, n)', or define it"
    case .shapeMismatch(let text, _): return text
    case .unsupported(let text, _): return "unsupported: \(text)"
    case .rule(let text, let file, let line): return "\(file):\(line): \(text)"
    case .checkFailed(let text): return "numeric check failed: \(text)"
    case .numeric(let text): return text
    case .limit(let text, _): return "limit reached: \(text)"
    case .internalError(let text): return "internal error: \(text)"
    }
  }

  /// `line:column: message`.
  public var description: String {
    if let range { return "\(range): \(message)" }
    return message
  }

  /// The message followed by the offending source line and a caret under the position.
  ///
  /// - Parameter source: the text the position counts in (its ``SourceRange/part``).
  /// - Returns: `error: line:column: message`, then the line and a caret line; just
  ///   `error: message` without a position.
  ///
  /// ```swift
  /// MatcalcError.syntax("expected ')'", SourceRange(line: 1, column: 7, length: 1))
  ///   .rendered(source: "tr(W*x")
  /// // "error: 1:7: expected ')'\n  tr(W*x\n        ^"
  /// ```
  public func rendered(source: String) -> String {
    guard let range else { return "error: \(message)" }
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
    var text = "error: \(range): \(message)"
    if range.line >= 1 && range.line <= lines.count {
      // A window of at most 100 characters around the position, so a 1 MB line stays short.
      let line = Array(lines[range.line - 1])
      let position = max(0, min(range.column - 1, line.count))
      let start = max(0, position - 40)
      let end = min(line.count, start + 100)
      let prefix = start > 0 ? "…" : ""
      let suffix = end < line.count ? "…" : ""
      let shown = prefix + String(line[start..<end]) + suffix
      let pad = String(repeating: " ", count: position - start + prefix.count)
      let marks = String(repeating: "^", count: max(1, min(range.length, end - position)))
      text += "\n  \(shown)\n  \(pad)\(marks)"
    }
    return text
  }

  /// An error of ``derive(_:wrt:where:order:rules:)`` rendered against what was passed: the
  /// expression's line or the statements' line, with a caret (statements say `where`).
  ///
  /// - Parameters:
  ///   - expression: the expression passed to `derive`.
  ///   - statements: the `where:` statements passed to `derive`.
  /// - Returns: as ``rendered(source:)``, with `error: where line:column:` for a position in
  ///   the statements.
  ///
  /// ```swift
  /// do {
  ///   _ = try derive("x'*x", wrt: "x", where: "x : vectr(n)")
  /// } catch let error as MatcalcError {
  ///   error.rendered(expression: "x'*x", statements: "x : vectr(n)")
  ///   // "error: where 1:5: unknown type 'vectr' …\n  x : vectr(n)\n      ^^^^^"
  /// }
  /// ```
  public func rendered(expression: String, statements: String) -> String {
    switch range?.part {
    case .expression: return rendered(source: expression)
    case .statements:
      let text = rendered(source: statements)
      return "error: where " + text.dropFirst("error: ".count)
    case .problem, nil: return rendered(source: statements + "\n" + expression)
    }
  }

  /// The error with `range` in place of its position.
  func replacingRange(_ range: SourceRange) -> MatcalcError {
    switch self {
    case .syntax(let text, _): return .syntax(text, range)
    case .unknownName(let text, _): return .unknownName(text, range)
    case .shapeMismatch(let text, _): return .shapeMismatch(text, range)
    case .unsupported(let text, _): return .unsupported(text, range)
    case .limit(let text, _): return .limit(text, range)
    case .rule, .checkFailed, .numeric, .internalError: return self
    }
  }

  /// A position in `statements + "\n" + expression` (how `derive` checks them together)
  /// moved into the text it falls in: the statements' first `statementLines` lines, or the
  /// expression after them.
  func relocated(statementLines: Int) -> MatcalcError {
    guard var range, range.part == .problem, range.line >= 1 else { return self }
    if range.line <= statementLines {
      range.part = .statements
    } else {
      range.line -= statementLines
      range.part = .expression
    }
    return replacingRange(range)
  }
}
