/// Splits input text into tokens; `#` starts a comment that runs to the end of the line.
///
/// Works on Unicode scalars with ASCII fast paths (the language is ASCII; anything else is
/// an error at its position). Columns count scalars.
struct Lexer {

  private static func isLetter(_ v: UInt32) -> Bool {
    (v >= 65 && v <= 90) || (v >= 97 && v <= 122) || v == 95  // A-Z a-z _
  }

  private static func isDigit(_ v: UInt32) -> Bool { v >= 48 && v <= 57 }

  /// The one-character symbols.
  private static func singleSymbol(_ v: UInt32) -> Token.Symbol? {
    switch v {
    case 43: return .plus  // +
    case 45: return .minus  // -
    case 42: return .times  // *
    case 47: return .divide  // /
    case 94: return .power  // ^
    case 39: return .quote  // '
    case 40: return .openParenthesis  // (
    case 41: return .closeParenthesis  // )
    case 91: return .openBracket  // [
    case 93: return .closeBracket  // ]
    case 44: return .comma  // ,
    case 58: return .colon  // :
    case 61: return .equals  // =
    case 59: return .semicolon  // ;
    default: return nil
    }
  }

  /// The two-character symbols: `v` followed by `next`.
  private static func doubleSymbol(_ v: UInt32, _ next: UInt32) -> Token.Symbol? {
    switch (v, next) {
    case (46, 42): return .elementTimes  // .*
    case (46, 47): return .elementDivide  // ./
    case (46, 94): return .elementPower  // .^
    case (61, 62): return .arrow  // =>
    default: return nil
    }
  }

  static func tokens(_ source: String, line firstLine: Int = 1) throws -> [Token] {
    // ASCII input (nearly all) is read in place, byte by byte; other input scalar by scalar.
    let ascii = try source.utf8.withContiguousStorageIfAvailable { bytes in
      bytes.allSatisfy { $0 < 0x80 } ? try tokens(of: bytes, line: firstLine) : nil
    }
    if let ascii, let tokens = ascii { return tokens }
    return try tokens(of: source.unicodeScalars.map(\.value), line: firstLine)
  }

  /// The tokens of a text given as its scalars' values (or its bytes, when all are ASCII).
  private static func tokens<Scalars: RandomAccessCollection>(
    of scalars: Scalars, line firstLine: Int
  ) throws -> [Token] where Scalars.Element: FixedWidthInteger, Scalars.Index == Int {
    let maximumInputLength = Limits.current.maximumInputLength
    guard scalars.count <= maximumInputLength else {
      throw MatcalcError.limit(
        "input is \(scalars.count) characters; the limit is \(maximumInputLength) "
          + "(raise it with --max-input)", nil)
    }
    var tokens: [Token] = []
    // About one token per two characters; room for a short expression's tokens at once.
    tokens.reserveCapacity(max(16, scalars.count / 2 + 1))
    var index = scalars.startIndex
    var line = firstLine
    var lineStart = index
    func range(_ start: Int, _ length: Int) -> SourceRange {
      SourceRange(line: line, column: start - lineStart + 1, length: length)
    }
    func value(_ i: Int) -> UInt32 { i < scalars.endIndex ? UInt32(scalars[i]) : 0 }
    // Names and numbers are ASCII: their bytes are their scalars (no generic append).
    func ascii(_ start: Int, _ end: Int) -> String {
      String(unsafeUninitializedCapacity: end - start) { buffer in
        for offset in 0..<(end - start) {
          buffer[offset] = UInt8(truncatingIfNeeded: scalars[start + offset])
        }
        return end - start
      }
    }
    /// The scalars as an array, for the messages about foreign spellings.
    func allScalars() -> [UInt32] { scalars.map { UInt32($0) } }
    while index < scalars.endIndex {
      let v = UInt32(scalars[index])
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
        while index < scalars.endIndex && scalars[index] != 10 { index += 1 }
        continue
      }
      let start = index
      if isLetter(v) {
        while isLetter(value(index)) || isDigit(value(index)) { index += 1 }
        let name = ascii(start, index)
        if index == start + 1, v == 119, value(index) == 46, value(index + 1) == 114,
          value(index + 2) == 46,
          value(index + 3) == 116
        {  // w.r.t.
          let length = value(index + 4) == 46 ? 6 : 5
          throw MatcalcError.syntax(
            "write 'wrt' for 'w.r.t.' (derive NAME wrt NAME)", range(start, length))
        }
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
      if v == 42 && next == 42,  // **
        let translation = Self.foreignSpelling(allScalars(), at: index, after: tokens.suffix(3))
      {
        throw MatcalcError.syntax(translation.message, range(start, translation.length))
      }
      if let two = doubleSymbol(v, next) {
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
        tokens.append(Token(kind: .symbol(.quote), range: range(start, 1)))
        index += 1
        continue
      }
      if let translation = Self.foreignSpelling(allScalars(), at: index, after: tokens.suffix(3)) {
        throw MatcalcError.syntax(
          translation.message, range(start, translation.length))
      }
      let character = Unicode.Scalar(v).map { String(Character($0)) } ?? "?"
      let hint: String
      switch v {
      case 46:  // np.exp(x), torch.tanh(x): a module prefix
        hint =
          tokens.last.map { if case .name = $0.kind { return true } else { return false } }
            == true
          ? "; write a function by its name alone (exp(x), not np.exp(x)); the element-wise "
            + "operators are .* ./ .^" : "; the element-wise operators are .* ./ .^"
      case 92: hint = ": for A⁻¹ B write inv(A)*B"  // A \ B, MATLAB's solve
      default: hint = ""
      }
      throw MatcalcError.syntax("unexpected character '\(character)'\(hint)", range(start, 1))
    }
    tokens.append(Token(kind: .end, range: range(index, 1)))
    return tokens
  }

  // MARK: - Spellings from other tools

  /// The operand written before a foreign operator, as the user wrote it (`x`, `x'`), or
  /// `fallback` when it is not a plain name.
  private static func operand(before tokens: ArraySlice<Token>, _ fallback: String) -> String {
    guard let last = tokens.last else { return fallback }
    switch last.kind {
    case .name(let name): return name
    case .symbol(.closeParenthesis): return "(…)"
    case .symbol(.quote): return operand(before: tokens.dropLast(), fallback) + "'"
    default: return fallback
    }
  }

  /// Whether `token` can end an operand of a binary operator (`x'**x` is a missing operand).
  private static func endsOperand(_ token: Token?) -> Bool {
    switch token?.kind {
    case .name, .number, .symbol(.closeParenthesis): return true
    default: return false
    }
  }

  /// The name or number written after `index` (spaces skipped), or `fallback`.
  private static func operand(_ scalars: [UInt32], after index: Int, _ fallback: String)
    -> String
  {
    var start = index
    while start < scalars.count && (scalars[start] == 32 || scalars[start] == 9) { start += 1 }
    var end = start
    while end < scalars.count, isLetter(scalars[end]) || isDigit(scalars[end]) || scalars[end] == 46
    {
      end += 1
    }
    guard end > start else { return fallback }
    return String(String.UnicodeScalarView(scalars[start..<end].compactMap(Unicode.Scalar.init)))
  }

  /// A message translating a spelling from NumPy, MATLAB or LaTeX at `index` into this
  /// language (`x.T` → `x'`, `A@B` → `A*B`, `x**2` → `x.^2`, `||x||` → `norm2(x)`), and the
  /// number of characters it covers; nil when the character has no known translation.
  static func foreignSpelling(_ scalars: [UInt32], at index: Int, after previous: ArraySlice<Token>)
    -> (message: String, length: Int)?
  {
    func value(_ i: Int) -> UInt32 { i < scalars.count ? scalars[i] : 0 }
    let v = value(index)
    switch v {
    case 46
    where value(index + 1) == 84 && !isLetter(value(index + 2))
      && !isDigit(value(index + 2)):  // .T
      let base = operand(before: previous, "A")
      return ("\(base).T: write \(base)' for the transpose", 2)
    case 64:  // @
      let left = operand(before: previous, "A")
      let right = operand(scalars, after: index + 1, "B")
      return ("unexpected character '@': write \(left)*\(right) for the matrix product", 1)
    case 42 where value(index + 1) == 42 && endsOperand(previous.last):  // x**2, (…)**2
      let base = operand(before: previous, "x")
      let exponent = operand(scalars, after: index + 2, "2")
      return (
        "\(base)**\(exponent): write \(base).^\(exponent) for the element-wise power, or "
          + "\(base)^\(exponent) for a scalar or matrix power", 2
      )
    case 124:  // |
      let bars = value(index + 1) == 124 ? 2 : 1
      // The closing bars on the same line, if any: the inside is quoted in the translation.
      var end = index + bars
      while end < scalars.count && scalars[end] != 10 && scalars[end] != 124 { end += 1 }
      let closed = (0..<bars).allSatisfy { value(end + $0) == 124 }
      let inside =
        closed && end > index + bars
        ? String(
          String.UnicodeScalarView(scalars[(index + bars)..<end].compactMap(Unicode.Scalar.init)))
        : "x"
      let length = closed ? end + bars - index : bars
      return bars == 2
        ? (
          "||\(inside)||: write norm2(\(inside)) for the Euclidean (Frobenius) norm, or "
            + "norm1(\(inside)) for the sum of absolute values", length
        )
        : (
          "|\(inside)|: write abs(\(inside)) for the element-wise absolute value, or "
            + "norm1(\(inside)) for the sum of absolute values", length
        )
    default: return nil
    }
  }
}
