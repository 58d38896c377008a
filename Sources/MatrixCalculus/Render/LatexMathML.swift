/// Translates the LaTeX that ``MathRenderer`` and the steps print (a small, known subset:
/// `\frac`, scripts, `\left( \right)`, `\sqrt`, `\hat`, `\mathrm`, `\operatorname`, `\text`,
/// `\mathbf{1}`, `\sum`, Greek letters, `\top`, `\odot`, `\otimes`, `\partial`, spacing) into
/// presentation MathML, for the composite lines of an HTML page that exist only as text or
/// LaTeX (index forms, differential forms, steps). Anything outside the subset comes out as
/// its own text, never a trap.
enum LatexMathML {
  /// The MathML (content of a `<math>` element) of a LaTeX math fragment.
  static func convert(_ latex: String) -> String {
    var parser = Parser(tokens: tokenize(latex))
    return MathMLRenderer.row(parser.sequence(inScript: false, until: nil))
  }

  /// Text with `$…$` inline math as HTML: the text escaped, each math piece a `<math>`.
  static func inlineText(_ text: String) -> String {
    var result = ""
    var inMath = false
    var piece = ""
    func flush() {
      if inMath {
        result += MathMLRenderer.math(convert(piece), display: false)
      } else {
        result += MathMLRenderer.escaped(piece)
      }
      piece = ""
    }
    var previous: Character?
    for character in text {
      if character == "$" && previous != "\\" {
        flush()
        inMath.toggle()
      } else {
        piece.append(character)
      }
      previous = character
    }
    if inMath { piece = "$" + piece }
    inMath = false
    flush()
    return result
  }

  // MARK: - Tokens

  enum Token: Equatable {
    case command(String)  // \frac, \, (a one-character command), \\
    case open, close, superscript, `subscript`
    case letter(Character)
    case digit(Character)
    case symbol(Character)
    case space
  }

  static func tokenize(_ latex: String) -> [Token] {
    var tokens: [Token] = []
    var characters = Array(latex)[...]
    while let character = characters.popFirst() {
      switch character {
      case "\\":
        var name = ""
        while let next = characters.first, next.isASCII, next.isLetter {
          name.append(next)
          characters.removeFirst()
        }
        if name.isEmpty, let next = characters.popFirst() { name = String(next) }
        tokens.append(.command(name))
      case "{": tokens.append(.open)
      case "}": tokens.append(.close)
      case "^": tokens.append(.superscript)
      case "_": tokens.append(.subscript)
      case " ", "\t", "\n": tokens.append(.space)
      default:
        if character.isASCII && character.isNumber || character == "." {
          tokens.append(.digit(character))
        } else if character.isLetter {
          tokens.append(.letter(character))
        } else {
          tokens.append(.symbol(character))
        }
      }
    }
    return tokens
  }

  // MARK: - Parser

  private static let symbols: [String: String] = [
    "odot": "⊙", "oslash": "⊘", "otimes": "⊗", "partial": "∂", "nabla": "∇", "circ": "∘",
    "cdot": "·", "times": "×", "in": "∈", "lVert": "‖", "rVert": "‖", "sum": "∑", "ldots": "…",
    "cdots": "⋯", "le": "≤", "ge": "≥", "to": "→", "mid": "|", "{": "{", "}": "}",
  ]

  private static let functions: Set<String> = [
    "log", "det", "exp", "sin", "cos", "tanh", "tr", "max", "min",
  ]

  private static let spaces: [String: String] = [
    ",": "0.17em", ";": "0.28em", ":": "0.22em", " ": "0.25em", "quad": "1em", "qquad": "2em",
    "\\": "0.5em",
  ]

  private static let blackboard: [Character: String] = ["R": "ℝ", "S": "𝕊", "N": "ℕ", "Z": "ℤ"]

  struct Parser {
    var tokens: [Token]
    var position = 0

    init(tokens: [Token]) { self.tokens = tokens }

    mutating func next() -> Token? {
      guard position < tokens.count else { return nil }
      defer { position += 1 }
      return tokens[position]
    }

    func peek() -> Token? { position < tokens.count ? tokens[position] : nil }

    mutating func skipSpaces() {
      while peek() == .space { position += 1 }
    }

    /// Elements up to `until` (a closing brace, `\right`) or the end.
    mutating func sequence(inScript: Bool, until end: Token?) -> [String] {
      var elements: [String] = []
      while let token = peek() {
        if let end, token == end { break }
        if case .command("right") = token { break }
        if token == .close {
          position += 1  // a stray brace
          continue
        }
        guard var element = atom(inScript: inScript) else { continue }
        // Scripts attach to the atom before them.
        var sub: String?
        var sup: String?
        while let script = peek(), script == .superscript || script == .subscript {
          position += 1
          let argument = self.argument(inScript: true)
          if script == .superscript { sup = argument } else { sub = argument }
        }
        let bigOperator = element == MathMLRenderer.mo("∑") && !inScript
        switch (sub, sup) {
        case (let s?, nil) where bigOperator: element = "<munder>\(element)\(s)</munder>"
        case (let s?, let p?): element = "<msubsup>\(element)\(s)\(p)</msubsup>"
        case (let s?, nil): element = "<msub>\(element)\(s)</msub>"
        case (nil, let p?): element = MathMLRenderer.superscript(element, p)
        case (nil, nil): break
        }
        elements.append(element)
      }
      return elements
    }

    /// A script's or command's argument: a braced group, or one token.
    mutating func argument(inScript: Bool) -> String {
      skipSpaces()
      if peek() == .open {
        position += 1
        let content = sequence(inScript: inScript, until: .close)
        if peek() == .close { position += 1 }
        return MathMLRenderer.row(content)
      }
      if case .digit(let d) = peek() {
        position += 1
        return MathMLRenderer.mn(String(d))
      }
      if case .letter(let l) = peek() {
        position += 1
        return MathMLRenderer.mi(String(l))
      }
      return atom(inScript: inScript) ?? "<mrow></mrow>"
    }

    /// The raw text of a braced group (for `\text`, `\mathrm`, …).
    mutating func rawGroup() -> String {
      skipSpaces()
      guard peek() == .open else {
        if let token = next() { return Self.spelled(token) }
        return ""
      }
      position += 1
      var depth = 0
      var text = ""
      while let token = next() {
        if token == .open { depth += 1 }
        if token == .close {
          if depth == 0 { break }
          depth -= 1
        }
        text += Self.spelled(token)
      }
      return text
    }

    static func spelled(_ token: Token) -> String {
      switch token {
      case .command(let name): return name.count == 1 ? name : "\\" + name
      case .open: return "{"
      case .close: return "}"
      case .superscript: return "^"
      case .subscript: return "_"
      case .letter(let c), .digit(let c), .symbol(let c): return String(c)
      case .space: return " "
      }
    }

    /// A delimiter after `\left` or `\right` (empty for `.`).
    mutating func delimiter() -> String {
      skipSpaces()
      guard let token = next() else { return "" }
      switch token {
      case .symbol(let c): return String(c)
      case .digit("."): return ""
      case .command(let name): return LatexMathML.symbols[name] ?? name
      default: return Self.spelled(token)
      }
    }

    // One element, or nil for what prints nothing (a space).
    mutating func atom(inScript: Bool) -> String? {
      guard let token = next() else { return nil }
      switch token {
      case .space: return nil
      case .open:
        let content = sequence(inScript: inScript, until: .close)
        if peek() == .close { position += 1 }
        return MathMLRenderer.row(content)
      case .close, .superscript, .subscript: return nil
      case .digit(let d):
        var number = String(d)
        while case .digit(let more) = peek() {
          number.append(more)
          position += 1
        }
        return MathMLRenderer.mn(number)
      case .letter(let l):
        // Outside scripts a run of letters is a word (vec, tr): upright, as one identifier.
        var word = String(l)
        if !inScript {
          while case .letter(let more) = peek(), more.isASCII, l.isASCII {
            word.append(more)
            position += 1
          }
        }
        if word.count > 1 && LatexMathML.functions.contains(word) {
          return MathMLRenderer.mi(word) + "<mo>\u{2061}</mo>"
        }
        return MathMLRenderer.mi(word)
      case .symbol(let c):
        switch c {
        case "-": return MathMLRenderer.mo("−")
        case "/": return "<mo lspace=\"0\" rspace=\"0\">/</mo>"
        case "(", ")", "[", "]": return "<mo stretchy=\"false\">\(c)</mo>"
        case "'": return MathMLRenderer.mo("′")
        default: return MathMLRenderer.mo(String(c))
        }
      case .command(let name): return command(name, inScript: inScript)
      }
    }

    mutating func command(_ name: String, inScript: Bool) -> String? {
      switch name {
      case "frac", "dfrac", "tfrac":
        let top = argument(inScript: inScript)
        let bottom = argument(inScript: inScript)
        return "<mfrac>\(top)\(bottom)</mfrac>"
      case "sqrt": return "<msqrt>\(argument(inScript: inScript))</msqrt>"
      case "hat":
        return "<mover accent=\"true\">\(argument(inScript: inScript))<mo>^</mo></mover>"
      case "left":
        let open = delimiter()
        let content = sequence(inScript: inScript, until: nil)
        var close = ""
        if case .command("right") = peek() {
          position += 1
          close = delimiter()
        }
        let body = MathMLRenderer.row(content)
        return MathMLRenderer.row([
          MathMLRenderer.fence(open, around: body), body, MathMLRenderer.fence(close, around: body),
        ])
      case "right": return nil
      case "top": return MathMLRenderer.transposeMark
      case "mathrm":
        let text = rawGroup()
        return text.count == 1
          ? "<mi mathvariant=\"normal\">\(MathMLRenderer.escaped(text))</mi>"
          : MathMLRenderer.mi(text)
      case "operatorname":
        // As LaTeX sets it: a thin space before, and after unless a parenthesis follows.
        let name = MathMLRenderer.mi(rawGroup()) + "<mo>\u{2061}</mo>"
        skipSpaces()
        let parenthesis: Bool
        switch peek() {
        case .command("left"), .symbol("("): parenthesis = true
        default: parenthesis = false
        }
        return MathMLRenderer.thinSpace + name + (parenthesis ? "" : MathMLRenderer.thinSpace)
      case "text", "textrm", "texttt", "mbox", "textbf":
        return "<mtext>\(MathMLRenderer.escaped(rawGroup()))</mtext>"
      case "mathbf":
        let text = rawGroup()
        if text == "1" { return MathMLRenderer.boldOne }
        return "<mi style=\"font-weight: bold\">\(MathMLRenderer.escaped(text))</mi>"
      case "mathbb":
        let text = rawGroup()
        return MathMLRenderer.mi(
          text.count == 1 ? (text.first.flatMap { LatexMathML.blackboard[$0] } ?? text) : text)
      case "displaystyle", "limits", "nolimits", "left.", "big", "Big": return nil
      default:
        if let width = LatexMathML.spaces[name] { return "<mspace width=\"\(width)\"/>" }
        if let symbol = LatexMathML.symbols[name] { return MathMLRenderer.mo(symbol) }
        if LatexMathML.functions.contains(name) {
          // log det: a thin space between two named functions.
          if case .command(let following) = peek(), LatexMathML.functions.contains(following) {
            return MathMLRenderer.mi(name) + MathMLRenderer.thinSpace
          }
          return MathMLRenderer.mi(name) + "<mo>\u{2061}</mo>"
        }
        if let letter = Names.greek[name] { return MathMLRenderer.mi(letter.text) }
        return MathMLRenderer.mi(name)
      }
    }
  }
}
