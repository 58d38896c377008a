/// Splits input text into tokens; `#` starts a comment that runs to the end of the line.
struct Lexer {
  static let maximumInputLength = 2_000_000

  static func tokens(_ source: String, line firstLine: Int = 1) throws -> [Token] {
    let characters = Array(source)
    guard characters.count <= maximumInputLength else {
      throw MatcalcError.limit(
        "input is \(characters.count) characters; the limit is \(maximumInputLength)", nil)
    }
    var tokens: [Token] = []
    var index = 0
    var line = firstLine
    var lineStart = 0
    func range(_ start: Int, _ length: Int) -> SourceRange {
      SourceRange(line: line, column: start - lineStart + 1, length: length)
    }
    while index < characters.count {
      let character = characters[index]
      if character == "\n" {
        tokens.append(Token(kind: .newline, range: range(index, 1)))
        index += 1
        line += 1
        lineStart = index
        continue
      }
      if character == " " || character == "\t" || character == "\r" {
        index += 1
        continue
      }
      if character == "#" {
        while index < characters.count && characters[index] != "\n" { index += 1 }
        continue
      }
      let start = index
      if character.isASCII && (character.isLetter || character == "_") {
        while index < characters.count,
          characters[index].isASCII,
          characters[index].isLetter || characters[index].isNumber || characters[index] == "_"
        {
          index += 1
        }
        tokens.append(
          Token(kind: .name(String(characters[start..<index])), range: range(start, index - start)))
        continue
      }
      let startsNumber =
        character.isASCII && character.isNumber
        || (character == "." && index + 1 < characters.count && characters[index + 1].isASCII
          && characters[index + 1].isNumber)
      if startsNumber {
        while index < characters.count, characters[index].isASCII, characters[index].isNumber {
          index += 1
        }
        if index < characters.count && characters[index] == "." && index + 1 < characters.count
          && characters[index + 1].isASCII && characters[index + 1].isNumber
        {
          index += 1
          while index < characters.count, characters[index].isASCII, characters[index].isNumber {
            index += 1
          }
        }
        if index < characters.count && (characters[index] == "e" || characters[index] == "E") {
          var look = index + 1
          if look < characters.count && (characters[look] == "+" || characters[look] == "-") {
            look += 1
          }
          if look < characters.count && characters[look].isASCII && characters[look].isNumber {
            index = look
            while index < characters.count, characters[index].isASCII, characters[index].isNumber {
              index += 1
            }
          }
        }
        let text = String(characters[start..<index])
        guard let value = Double(text), value.isFinite else {
          throw MatcalcError.syntax("number '\(text)' is out of range", range(start, index - start))
        }
        tokens.append(Token(kind: .number(value), range: range(start, index - start)))
        continue
      }
      let two = index + 1 < characters.count ? String(characters[index...(index + 1)]) : ""
      if [".*", "./", ".^", "=>"].contains(two) {
        tokens.append(Token(kind: .symbol(two), range: range(start, 2)))
        index += 2
        continue
      }
      if "+-*/^'()[],:=;".contains(character) {
        tokens.append(Token(kind: .symbol(String(character)), range: range(start, 1)))
        index += 1
        continue
      }
      if character == "’" || character == "′" {
        tokens.append(Token(kind: .symbol("'"), range: range(start, 1)))
        index += 1
        continue
      }
      throw MatcalcError.syntax("unexpected character '\(character)'", range(start, 1))
    }
    tokens.append(Token(kind: .end, range: range(index, 1)))
    return tokens
  }
}
