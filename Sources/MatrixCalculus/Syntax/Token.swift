/// One lexical token of the input language.
struct Token: Equatable, Sendable {
  /// An operator or punctuation mark. A case, not its spelling, so that the parser's many
  /// "is the next token a `*`?" questions compare a tag rather than a string.
  enum Symbol: Equatable, Sendable {
    case plus, minus, times, divide, power, quote  // + - * / ^ '
    case elementTimes, elementDivide, elementPower  // .* ./ .^
    case openParenthesis, closeParenthesis, openBracket, closeBracket  // ( ) [ ]
    case comma, colon, equals, arrow, semicolon  // , : = => ;

    /// The symbol as written.
    var text: String {
      switch self {
      case .plus: return "+"
      case .minus: return "-"
      case .times: return "*"
      case .divide: return "/"
      case .power: return "^"
      case .quote: return "'"
      case .elementTimes: return ".*"
      case .elementDivide: return "./"
      case .elementPower: return ".^"
      case .openParenthesis: return "("
      case .closeParenthesis: return ")"
      case .openBracket: return "["
      case .closeBracket: return "]"
      case .comma: return ","
      case .colon: return ":"
      case .equals: return "="
      case .arrow: return "=>"
      case .semicolon: return ";"
      }
    }
  }

  enum Kind: Equatable, Sendable {
    case name(String)
    case number(Double)
    case symbol(Symbol)
    case newline
    case end
  }

  let kind: Kind
  let range: SourceRange

  var text: String {
    switch kind {
    case .name(let name): return name
    case .number(let value): return "\(value)"
    case .symbol(let symbol): return symbol.text
    case .newline: return "end of line"
    case .end: return "end of input"
    }
  }
}
