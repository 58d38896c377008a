/// Splits Python source into tokens: names, numbers, strings, operators, and the start of
/// each logical line with its indentation (newlines inside brackets, comments and blank lines
/// are dropped). Parentheses nest at most 200 deep, as in CPython's tokenizer.
struct PythonLexer {
  /// One token.
  enum Token: Equatable {
    case name(String)
    case integer(Int)
    case float(Double)
    case string(String)
    case symbol(String)
    /// The start of a logical line, indented by this many columns.
    case line(Int)
    case end
  }

  /// CPython's MAXLEVEL: deeper nesting is a SyntaxError there ("too many nested
  /// parentheses"), so emitted code may not need it.
  static let maximumNesting = 200

  private static let symbols = [
    "**=", "...", "**", "//", "->", "==", "!=", "<=", ">=", "+", "-", "*", "/", "@", "%", "(",
    ")", "[", "]", "{", "}", ",", ":", ".", "=", "<", ">", ";", "~", "|", "&", "^",
  ]

  /// The tokens of `source`, ending in ``Token/end``.
  static func tokens(_ source: String) throws -> [Token] {
    let text = Array(source.unicodeScalars)
    var tokens: [Token] = []
    var index = 0
    var depth = 0
    var atLineStart = true
    func fail(_ message: String) -> MatcalcError { .numeric("Python: SyntaxError: " + message) }
    while index < text.count {
      let c = text[index]
      if atLineStart && depth == 0 {
        // Indentation; a blank or comment-only line starts nothing.
        var column = 0
        while index < text.count, text[index] == " " || text[index] == "\t" {
          column += text[index] == "\t" ? 8 - column % 8 : 1
          index += 1
        }
        if index >= text.count { break }
        if text[index] == "\n" || text[index] == "\r" {
          index += 1
          continue
        }
        if text[index] == "#" {
          while index < text.count, text[index] != "\n" { index += 1 }
          continue
        }
        tokens.append(.line(column))
        atLineStart = false
        continue
      }
      switch c {
      case " ", "\t", "\r":
        index += 1
      case "\n":
        index += 1
        if depth == 0 { atLineStart = true }
      case "\\":
        // A continuation line.
        guard index + 1 < text.count, text[index + 1] == "\n" else {
          throw fail("unexpected character after line continuation character")
        }
        index += 2
      case "#":
        while index < text.count, text[index] != "\n" { index += 1 }
      case "\"", "'":
        let (value, next) = try string(text, from: index)
        tokens.append(.string(value))
        index = next
      case "0"..."9":
        let (token, next) = try number(text, from: index)
        tokens.append(token)
        index = next
      case "." where index + 1 < text.count && ("0"..."9").contains(text[index + 1]):
        let (token, next) = try number(text, from: index)
        tokens.append(token)
        index = next
      default:
        if c == "_" || c.properties.isAlphabetic {
          var end = index
          while end < text.count,
            text[end] == "_" || text[end].properties.isAlphabetic
              || ("0"..."9").contains(text[end])
          {
            end += 1
          }
          var name = ""
          name.unicodeScalars.append(contentsOf: text[index..<end])
          tokens.append(.name(name))
          index = end
          continue
        }
        guard
          let symbol = symbols.first(where: { symbol in
            let scalars = Array(symbol.unicodeScalars)
            return index + scalars.count <= text.count
              && Array(text[index..<(index + scalars.count)]) == scalars
          })
        else {
          throw fail("invalid character '\(c)'")
        }
        if ["(", "[", "{"].contains(symbol) {
          depth += 1
          guard depth <= maximumNesting else { throw fail("too many nested parentheses") }
        }
        if [")", "]", "}"].contains(symbol) {
          depth -= 1
          guard depth >= 0 else { throw fail("unmatched '\(symbol)'") }
        }
        tokens.append(.symbol(symbol))
        index += symbol.unicodeScalars.count
      }
    }
    guard depth == 0 else { throw fail("'(' was never closed") }
    tokens.append(.end)
    return tokens
  }

  /// A string literal (single or triple quoted) from its opening quote: its value and the
  /// index after it.
  private static func string(_ text: [Unicode.Scalar], from start: Int) throws -> (String, Int) {
    let quote = text[start]
    let triple = start + 2 < text.count && text[start + 1] == quote && text[start + 2] == quote
    var index = start + (triple ? 3 : 1)
    var value = ""
    while index < text.count {
      let c = text[index]
      if c == "\\", index + 1 < text.count {
        let escaped = text[index + 1]
        switch escaped {
        case "n": value += "\n"
        case "t": value += "\t"
        case "\\", "'", "\"": value.unicodeScalars.append(escaped)
        case "\n": break
        default: value += "\\" + String(escaped)
        }
        index += 2
        continue
      }
      if c == quote {
        if !triple { return (value, index + 1) }
        if index + 2 < text.count, text[index + 1] == quote, text[index + 2] == quote {
          return (value, index + 3)
        }
      } else if c == "\n" && !triple {
        break
      }
      value.unicodeScalars.append(c)
      index += 1
    }
    throw MatcalcError.numeric("Python: SyntaxError: unterminated string literal")
  }

  /// A number literal: an integer, or a float with a point or an exponent.
  private static func number(_ text: [Unicode.Scalar], from start: Int) throws -> (Token, Int) {
    var index = start
    var isFloat = false
    while index < text.count, ("0"..."9").contains(text[index]) { index += 1 }
    if index < text.count, text[index] == "." {
      isFloat = true
      index += 1
      while index < text.count, ("0"..."9").contains(text[index]) { index += 1 }
    }
    if index < text.count, text[index] == "e" || text[index] == "E" {
      var next = index + 1
      if next < text.count, text[next] == "+" || text[next] == "-" { next += 1 }
      if next < text.count, ("0"..."9").contains(text[next]) {
        isFloat = true
        index = next
        while index < text.count, ("0"..."9").contains(text[index]) { index += 1 }
      }
    }
    var literal = ""
    literal.unicodeScalars.append(contentsOf: text[start..<index])
    if index < text.count, text[index] == "_" || text[index].properties.isAlphabetic {
      throw MatcalcError.numeric("Python: SyntaxError: invalid decimal literal '\(literal)…'")
    }
    if isFloat {
      guard let value = Double(literal) else {
        throw MatcalcError.numeric("Python: SyntaxError: invalid number '\(literal)'")
      }
      return (.float(value), index)
    }
    guard let value = Int(literal) else {
      throw MatcalcError.numeric("Python: integer literal '\(literal)' too large here")
    }
    return (.integer(value), index)
  }
}
