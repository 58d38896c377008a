/// One lexical token of the input language.
struct Token: Equatable, Sendable {
  enum Kind: Equatable, Sendable {
    case name(String)
    case number(Double)
    case symbol(String)  // + - * / .* ./ .^ ^ ' ( ) [ ] , : = => ;
    case newline
    case end
  }

  let kind: Kind
  let range: SourceRange

  var text: String {
    switch kind {
    case .name(let name): return name
    case .number(let value): return "\(value)"
    case .symbol(let symbol): return symbol
    case .newline: return "end of line"
    case .end: return "end of input"
    }
  }
}
