/// Splits input text into tokens; `#` starts a comment that runs to the end of the line.
///
/// Works on Unicode scalars with ASCII fast paths (the language is ASCII; anything else is
/// an error at its position). Columns count scalars.
struct Lexer {

  private static func isLetter(_ v: UInt32) -> Bool {
    (v >= 65 && v <= 90) || (v >= 97 && v <= 122) || v == 95  // A-Z a-z _
  }

  private static func isDigit(_ v: UInt32) -> Bool { v >= 48 && v <= 57 }

  /// The one-character symbols, as static strings (no allocation per token).
  private static func singleSymbol(_ v: UInt32) -> String? {
    switch v {
    case 43: return "+"
    case 45: return "-"
    case 42: return "*"
    case 47: return "/"
    case 94: return "^"
    case 39: return "'"
    case 40: return "("
    case 41: return ")"
    case 91: return "["
    case 93: return "]"
    case 44: return ","
    case 58: return ":"
    case 61: return "="
    case 59: return ";"
    default: return nil
    }
  }

  static func tokens(_ source: String, line firstLine: Int = 1) throws -> [Token] {
    // ASCII input (nearly all) is read byte by byte; other input scalar by scalar.
    let asciiValues =
      source.utf8.withContiguousStorageIfAvailable { bytes in
        bytes.allSatisfy { $0 < 0x80 } ? bytes.map { UInt32($0) } : nil
      } ?? nil
    let scalars = asciiValues ?? source.unicodeScalars.map(\.value)
    let maximumInputLength = Limits.current.maximumInputLength
    guard scalars.count <= maximumInputLength else {
      throw MatcalcError.limit(
        "input is \(scalars.count) characters; the limit is \(maximumInputLength) "
          + "(raise it with --max-input)", nil)
    }
    var tokens: [Token] = []
    tokens.reserveCapacity(scalars.count / 2 + 1)
    var index = 0
    var line = firstLine
    var lineStart = 0
    func range(_ start: Int, _ length: Int) -> SourceRange {
      SourceRange(line: line, column: start - lineStart + 1, length: length)
    }
    func value(_ i: Int) -> UInt32 { i < scalars.count ? scalars[i] : 0 }
    // Names and numbers are ASCII: their bytes are their scalars (no generic append).
    func ascii(_ start: Int, _ end: Int) -> String {
      String(unsafeUninitializedCapacity: end - start) { buffer in
        for offset in 0..<(end - start) {
          buffer[offset] = UInt8(truncatingIfNeeded: scalars[start + offset])
        }
        return end - start
      }
    }
    while index < scalars.count {
      let v = scalars[index]
      if v == 10 {  // \n
        tokens.append(Token(kind: .newline, range: range(index, 1)))
        index += 1
        line += 1
        lineStart = index
        continue
      }
      if v == 32 || v == 9 || v == 13 {  // space, tab, \r
        index += 1
        continue
      }
      if v == 35 {  // #
        while index < scalars.count && scalars[index] != 10 { index += 1 }
        continue
      }
      let start = index
      if isLetter(v) {
        while index < scalars.count, isLetter(value(index)) || isDigit(value(index)) { index += 1 }
        let name = ascii(start, index)
        tokens.append(Token(kind: .name(name), range: range(start, index - start)))
        continue
      }
      if isDigit(v) || (v == 46 && isDigit(value(index + 1))) {  // 46 is '.'
        while isDigit(value(index)) { index += 1 }
        if value(index) == 46 && isDigit(value(index + 1)) {
          index += 1
          while isDigit(value(index)) { index += 1 }
        }
        if value(index) == 101 || value(index) == 69 {  // e E
          var look = index + 1
          if value(look) == 43 || value(look) == 45 { look += 1 }  // + -
          if isDigit(value(look)) {
            index = look
            while isDigit(value(index)) { index += 1 }
          }
        }
        let spelled = ascii(start, index)
        guard let number = Double(spelled), number.isFinite else {
          throw MatcalcError.syntax(
            "number '\(spelled)' is out of range", range(start, index - start))
        }
        tokens.append(Token(kind: .number(number), range: range(start, index - start)))
        continue
      }
      let next = value(index + 1)
      let two: String? =
        v == 46 && next == 42
        ? ".*"
        : v == 46 && next == 47
          ? "./"
          : v == 46 && next == 94
            ? ".^"
            : v == 61 && next == 62 ? "=>" : nil
      if let two {
        tokens.append(Token(kind: .symbol(two), range: range(start, 2)))
        index += 2
        continue
      }
      if let symbol = singleSymbol(v) {
        tokens.append(Token(kind: .symbol(symbol), range: range(start, 1)))
        index += 1
        continue
      }
      if v == 0x2019 || v == 0x2032 {  // ’ ′ read as a transpose
        tokens.append(Token(kind: .symbol("'"), range: range(start, 1)))
        index += 1
        continue
      }
      let character = Unicode.Scalar(v).map { String(Character($0)) } ?? "?"
      throw MatcalcError.syntax("unexpected character '\(character)'", range(start, 1))
    }
    tokens.append(Token(kind: .end, range: range(index, 1)))
    return tokens
  }
}
