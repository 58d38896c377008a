import Foundation
import Testing

@testable import MatrixCalculus
@testable import matcalc

/// The content of an output, format-independent: the lines of the text output as items,
/// and every format's visible text with the notation normalised (the math of LaTeX and
/// Markdown read through the HTML page's own translation to MathML), so that an item of
/// the text output is a substring of another format's text exactly when that format
/// carries it.
enum ContentItems {
  /// The lines of the text output as items: the `where` list split into its definitions,
  /// the inferred names one by one, the steps' numbers and the text's own framing dropped.
  static func items(ofText text: String) -> [String] {
    var items: [String] = []
    for rawLine in text.split(separator: "\n").map(String.init) {
      var line = rawLine.trimmingCharacters(in: .whitespaces)
      if ["backward:", "the first derivative:", "its derivative:"].contains(line) { continue }
      if line.hasPrefix("step "), let colon = line.firstIndex(of: ":") {
        line = String(line[line.index(after: colon)...])
      }
      if line.hasPrefix("where ") {
        items += line.dropFirst(6).components(separatedBy: ", ")
        continue
      }
      if line.hasPrefix("inferred: ") {
        items += line.dropFirst(10).components(separatedBy: "; ")
        continue
      }
      // The note on vec is said in words elsewhere.
      line = line.replacingOccurrences(of: "   (vec stacks columns)", with: "")
      // How several variables were checked is said in words elsewhere.
      line = line.replacingOccurrences(of: " (all gradients jointly, random directions)", with: "")
      while let last = line.last, last == ":" || last == "." { line.removeLast() }
      if !line.isEmpty { items.append(line) }
    }
    return items
  }

  private static let replacements: [Character: String] = [
    "ᵀ": "t", "⊤": "t", "⁻": "−", "-": "−", "∘": "⊙", "Σ": "∑", "⁰": "0", "¹": "1", "²": "2",
    "³": "3", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8", "⁹": "9", "₀": "0", "₁": "1",
    "₂": "2", "₃": "3", "₄": "4", "₅": "5", "₆": "6", "₇": "7", "₈": "8", "₉": "9", "½": "12",
    "⅓": "13", "⅔": "23", "¼": "14", "¾": "34", "𝟏": "1",
  ]

  /// Lower case, no spaces or parentheses, and one spelling for what the notations spell
  /// differently (ᵀ and a superscript T, ∂f/∂x and a fraction, ŷ and y with a hat, x² and
  /// x^2).
  static func normalized(_ text: String) -> String {
    var result = ""
    for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars {
      switch scalar.value {
      case 0x20, 0x09, 0x0A, 0x0D, 0xA0, 0x2061, 0x2062, 0x0302: continue
      default: break
      }
      let character = Character(scalar)
      // Parentheses too: LaTeX brackets a subscripted name before its indices, (W_1)_ab.
      if "^/_√`*{}()".contains(character) { continue }
      if let replacement = replacements[character] {
        result += replacement
      } else {
        result.append(character)
      }
    }
    return result.lowercased()
  }

  /// The visible text of MathML: the character data of its elements.
  static func mathText(_ mathML: String) -> String {
    let reader = PageReader("<math>\(mathML)</math>")
    return reader.text
  }

  /// Markdown's visible text: its math (between `$` or `$$`) through MathML.
  static func markdownText(_ markdown: String) -> String {
    let pieces = markdown.replacingOccurrences(of: "$$", with: "$").split(
      separator: "$", omittingEmptySubsequences: false)
    return pieces.enumerated().map { index, piece in
      index % 2 == 1 ? mathText(LatexMathML.convert(String(piece))) : String(piece)
    }.joined(separator: " ")
  }

  /// A LaTeX document's visible text: its math (`\[ \]`, `$ $`, `multline*`) through MathML,
  /// its prose without commands.
  static func latexText(_ latex: String) -> String {
    var text = latex.replacingOccurrences(of: "\\begin{multline*}", with: "\\[")
      .replacingOccurrences(of: "\\end{multline*}", with: "\\]")
      .replacingOccurrences(of: "\\\\\n", with: " ")
    var result = ""
    while let open = text.range(of: "\\[") {
      result += prose(String(text[..<open.lowerBound]))
      let rest = text[open.upperBound...]
      guard let close = rest.range(of: "\\]") else { break }
      let math = rest[..<close.lowerBound].replacingOccurrences(of: "$", with: " ")
      result += " " + mathText(LatexMathML.convert(math)) + " "
      text = String(rest[close.upperBound...])
    }
    return result + prose(text)
  }

  /// Prose of LaTeX: inline math through MathML, commands and braces dropped.
  private static func prose(_ latex: String) -> String {
    let pieces = latex.split(separator: "$", omittingEmptySubsequences: false)
    return pieces.enumerated().map { index, piece in
      if index % 2 == 1 { return mathText(LatexMathML.convert(String(piece))) }
      var words = String(piece).replacingOccurrences(of: "-{}-", with: "--")
      for command in [
        "\\paragraph", "\\section*", "\\texttt", "\\raggedright", "\\par", "\\textbackslash",
      ] {
        words = words.replacingOccurrences(of: command, with: "")
      }
      return words.replacingOccurrences(of: "\\", with: "")
    }.joined(separator: " ")
  }

  /// JSON's visible text: every string in it, with each `name`/`text` pair of `where` and
  /// `backward` also as `name = text`.
  static func jsonText(_ json: Any) -> String {
    var strings: [String] = []
    let names = MathRenderer(.text)
    func walk(_ value: Any, of objective: String?) {
      if let string = value as? String {
        strings.append(string)
      } else if let array = value as? [Any] {
        for element in array { walk(element, of: objective) }
      } else if let object = value as? [String: Any] {
        let of = object["of"] as? String ?? objective
        // A definition `name = text`, or an adjoint `δname = ∂of/∂name = text`.
        if let name = object["name"] as? String, let text = object["text"] as? String {
          strings.append("\(names.name(name)) = \(text)")
          let adjoint = names.name("δ" + name)
          strings.append("\(adjoint) = \(text)")
          if let of {
            strings.append("\(adjoint) = ∂\(names.name(of))/∂\(names.name(name)) = \(text)")
          }
        }
        if let name = object["name"] as? String, let type = object["type"] as? String {
          strings.append("\(names.name(name)) : \(type)")
        }
        for key in object.keys.sorted() {
          if let value = object[key] { walk(value, of: of) }
        }
      }
    }
    walk(json, of: nil)
    return strings.joined(separator: "\n")
  }
}

/// Representative problems for the comparison of formats.
private let parityProblems: [[String]] = [
  // A gradient with a backward pass.
  [
    "derive", "l", "--wrt", "W", "--where",
    "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; yhat = H*v; "
      + "l = 1/2*(yhat - y)'*(yhat - y)",
  ],
  // Shared names.
  [
    "derive", "1/2*y'*inv(K)*y + 1/2*logdet(K)", "--wrt", "A", "--where",
    "y : vector(n); A : matrix(n, m); s : scalar; K = A*A' + s*I(n)",
  ],
  // Four indices, with the differential and its Kronecker form; three indices.
  [
    "derive", "A*X*B", "--wrt", "X", "--where",
    "A : matrix(m, n); X : matrix(n, p); B : matrix(p, q)",
  ],
  ["derive", "tanh(W*x)", "--wrt", "W", "--where", "W : matrix(m, n); x : vector(n)"],
  // Several variables.
  [
    "derive", "l", "--wrt", "W,v", "--where",
    "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; yhat = H*v; "
      + "l = 1/2*(yhat - y)'*(yhat - y)",
  ],
  // A Hessian.
  [
    "derive", "-sum(log(b - A*x))", "--wrt", "x", "--order", "2", "--where",
    "A : matrix(m, n); b : vector(m); x : vector(n)",
  ],
  // A symmetric variable, and a non-standard layout.
  ["derive", "x'*S*x", "--wrt", "S", "--where", "x : vector(n); S : symmetric(n)"],
  [
    "derive", "x'*A*x", "--wrt", "x", "--layout", "numerator", "--where",
    "x : vector(n); A : matrix(n, n)",
  ],
  // Inferred names.
  ["derive", "lambda/2*w'*w + norm2(X*w - y)^2", "--wrt", "w"],
]

/// Issue 24, item 4: text, LaTeX (the standalone document), Markdown, JSON and HTML carry
/// the same content, problem by problem: the problem line, the definitions, every line of
/// the backward pass, the differential and Kronecker forms, the inferred names, the layout,
/// the certificate with every size draw, and the steps.
@Test(arguments: parityProblems)
func everyFormatCarriesTheSameContent(_ arguments: [String]) throws {
  let withSteps = arguments + ["--steps"]
  let text = run(withSteps)
  #expect(text.status == 0, "\(text.error)")
  let items = ContentItems.items(ofText: text.output)
  #expect(items.count >= 3)

  let latex = run(withSteps + ["--format", "latex", "--standalone"])
  let markdown = run(withSteps + ["--format", "markdown"])
  let json = run(withSteps + ["--format", "json"])
  let html = run(withSteps + ["--format", "html"])
  for result in [latex, markdown, json, html] { #expect(result.status == 0, "\(result.error)") }
  let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8))
  let formats: [(String, String)] = [
    ("latex", ContentItems.latexText(latex.output)),
    ("markdown", ContentItems.markdownText(markdown.output)),
    ("json", ContentItems.jsonText(object)),
    ("html", PageReader(html.output).text),
  ]
  for (name, visible) in formats {
    let normalized = ContentItems.normalized(visible)
    for item in items {
      #expect(normalized.contains(ContentItems.normalized(item)), "\(name) lacks: \(item)")
    }
  }

  // JSON states every size draw as data, and each rule once.
  let check = try #require((object as? [String: Any])?["check"] as? [String: Any])
  let draws = try #require(check["sizes"] as? [[String: Int]])
  #expect(draws.count == 2, "\(draws)")
  for draw in draws {
    let stated = draw.keys.sorted().map { "\($0)=\(draw[$0] ?? 0)" }.joined(separator: ", ")
    #expect(text.output.contains(stated), "\(stated)")
  }
  if let rules = (object as? [String: Any])?["rules"] as? [String] {
    #expect(Set(rules).count == rules.count, "\(rules)")
  }
}
