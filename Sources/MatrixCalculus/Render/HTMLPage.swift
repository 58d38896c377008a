/// A self-contained HTML5 page: one section per derivation (a problem file's goals are
/// sections of one page), math as MathML, which browsers draw themselves. The page loads
/// nothing: no script, no font, no style sheet, no image; its one `<style>` element is inline.
/// It is well-formed XML (XHTML syntax), so XML tools read it as well as browsers.
public enum HTMLPage {
  /// One page holding `sections` (from ``Derivation/htmlSection(certificate:layout:steps:sizes:)``
  /// or ``Backpropagation/htmlSection(certificate:layout:steps:sizes:)``), in order.
  ///
  /// - Parameters:
  ///   - sections: the `<section>` elements.
  ///   - title: the page's title (text).
  /// - Returns: the page, from `<!DOCTYPE html>` to `</html>`.
  public static func document(sections: [String], title: String = "matcalc") -> String {
    // The goals of one problem file share their problem: it is stated once.
    var stated = Set<String>()
    let sections = sections.map { section -> String in
      guard let start = section.range(of: problemStart),
        let end = section.range(of: problemEnd, range: start.upperBound..<section.endIndex)
      else { return section }
      let block = String(section[start.lowerBound..<end.upperBound])
      guard stated.insert(block).inserted else {
        return section.replacingCharacters(
          in: start.lowerBound..<end.upperBound,
          with: "<h2>Problem</h2>\n<p class=\"note\">As above.</p>")
      }
      return section
    }
    let head = [
      "<!DOCTYPE html>",
      "<html lang=\"en\">",
      "<head>",
      "<meta charset=\"utf-8\"/>",
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>",
      "<meta name=\"generator\" content=\"matcalc\"/>",
      "<title>\(escaped(title))</title>",
      "<style>",
      style,
      "</style>",
      "</head>",
      "<body>",
      "<main>",
    ]
    return (head + sections + ["</main>", "</body>", "</html>"]).joined(separator: "\n") + "\n"
  }

  /// The page's look: readable line length, system fonts, math a little larger than text.
  static let style = """
    body { margin: 0; background: #fdfdfb; color: #1d1d1f;
      font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
      line-height: 1.5; }
    main { max-width: 52rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
    section { border-bottom: 1px solid #e2e2dc; padding-bottom: 1.25rem; margin-bottom: 1.5rem; }
    h1 { font-size: 1.45rem; margin: 0.4rem 0 1rem; font-weight: 600; }
    h2 { font-size: 1.05rem; margin: 1.2rem 0 0.3rem; color: #44443f; font-weight: 600; }
    math { font-size: 1.15em; }
    math[display="block"] { margin: 0.45rem 0; overflow-x: auto; overflow-y: hidden;
      padding: 0.1rem 0; }
    .result { background: #f1f5fb; border-left: 4px solid #3b6db3; padding: 0.4rem 1rem;
      margin: 0.6rem 0; }
    .result math[display="block"] { font-size: 1.3em; }
    .note { color: #55554f; font-size: 0.95rem; margin: 0.3rem 0; }
    .certificate { background: #eff7ef; border-left: 4px solid #3c8d40; padding: 0.5rem 1rem;
      margin: 0.8rem 0; }
    .certificate.unchecked { background: #fbf4e6; border-left-color: #b57f1d; }
    details { margin: 0.7rem 0; border: 1px solid #e2e2dc; border-radius: 6px;
      padding: 0.3rem 0.9rem; background: #fff; }
    summary { cursor: pointer; font-weight: 600; color: #33332f; padding: 0.2rem 0; }
    .step { margin: 0.4rem 0 0.1rem; color: #55554f; }
    .heading { margin: 1rem 0 0.3rem; }
    pre { background: #f6f6f3; padding: 0.8rem; overflow-x: auto; font-size: 0.85rem;
      line-height: 1.4; border-radius: 4px; }
    code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
    ul { padding-left: 1.3rem; margin: 0.3rem 0; }
    """

  /// Escapes text for an element's content or an attribute.
  static func escaped(_ text: String) -> String { MathMLRenderer.escaped(text) }

  /// A display equation from MathML content.
  static func display(_ mathML: String) -> String { MathMLRenderer.math(mathML) }

  /// Inline math from MathML content.
  static func inline(_ mathML: String) -> String { MathMLRenderer.math(mathML, display: false) }

  /// The backward pass's heading and the note saying what its lines are: one adjoint
  /// δD = ∂f/∂D per definition, the last one first, then `ending` (with its punctuation).
  static func backwardPassHeading(_ f: String, _ mathML: MathMLRenderer, _ ending: String)
    -> [String]
  {
    let adjoint = MathMLRenderer.row([
      mathML.name("δD"), MathMLRenderer.mo("="),
      MathMLRenderer.partial(f, MathMLRenderer.mi("D")),
    ])
    return [
      "<h2>Backward pass</h2>",
      "<p class=\"note\">One adjoint \(inline(adjoint)) per definition, the last one first"
        + "\(ending).</p>",
    ]
  }

  /// A sentence as a paragraph: the first letter upper-case, a full stop, the text escaped.
  static func sentence(_ text: String, class name: String = "note") -> String {
    let capitalised = text.prefix(1).uppercased() + text.dropFirst()
    let closed =
      capitalised.hasSuffix(".") || capitalised.hasSuffix(")") ? capitalised : capitalised + "."
    return "<p class=\"\(name)\">\(escaped(closed))</p>"
  }

  /// `<details>` with a summary (text) and content (HTML); `open` unfolds it.
  static func details(_ summary: String, _ content: [String], open: Bool = false) -> String {
    (["<details\(open ? " open=\"open\"" : "")>", "<summary>\(escaped(summary))</summary>"]
      + content + ["</details>"]).joined(separator: "\n")
  }

  /// The certificate as a paragraph (every size draw, as the text prints it), or the note
  /// that it was skipped.
  static func certificate(_ certificate: Certificate?, suffix: String = "") -> String {
    guard let certificate else {
      return "<p class=\"certificate unchecked\">Not checked numerically (--no-check).</p>"
    }
    let text = certificate.description + suffix
    let capitalised = text.prefix(1).uppercased() + text.dropFirst()
    return "<p class=\"certificate\">\(escaped(capitalised)).</p>"
  }

  /// The emitted Python function, folded; where there is none, why.
  static func python(_ code: () throws -> String) -> String {
    let summary = "Python (NumPy): the derivative as a function"
    do {
      return details(summary, ["<pre><code>\(escaped(try code()))</code></pre>"])
    } catch let error as MatcalcError {
      return details(summary, [sentence("none: " + error.message)])
    } catch {
      return details(summary, [sentence("none: \(error)")])
    }
  }

  /// The steps as HTML from their LaTeX (``Derivation/renderSteps(_:)``): each paragraph
  /// title a line of its own, each display equation as MathML.
  static func steps(fromLatex latex: String) -> [String] {
    IndexSteps.markdown(fromLatex: latex).map { block in
      if block.hasPrefix("$$") && block.hasSuffix("$$") && block.count >= 4 {
        return display(LatexMathML.convert(String(block.dropFirst(2).dropLast(2))))
      }
      if block.hasPrefix("**"), let end = block.dropFirst(2).range(of: "**") {
        let title = block[block.index(block.startIndex, offsetBy: 2)..<end.lowerBound]
        let rest = block[end.upperBound...]
        // A heading (The adjoint of H.) in bold; a step's label (the deltas contracted) not.
        let heading = title.first?.isUppercase == true
        let (open, close) =
          heading ? ("<strong>", "</strong>") : ("<span class=\"label\">", "</span>")
        return "<p class=\"\(heading ? "heading" : "step")\">\(open)"
          + "\(LatexMathML.inlineText(String(title)))\(close)"
          + "\(LatexMathML.inlineText(String(rest)))</p>"
      }
      return "<p class=\"step\">\(LatexMathML.inlineText(block))</p>"
    }
  }

  private static let problemStart = "<div class=\"problem\">"
  private static let problemEnd = "</div><!-- problem -->"

  /// The problem: its inputs, what was inferred, its definitions.
  static func problem(_ problem: Problem) -> String {
    var html = [problemStart, "<h2>Problem</h2>"]
    if let declarations = declarations(of: problem) { html.append(declarations) }
    if let inferred = inferred(in: problem) { html.append(inferred) }
    if !problem.definitions.isEmpty {
      html.append("<p>Definitions:</p>")
      html += definitions(of: problem)
    }
    return (html + [problemEnd]).joined(separator: "\n")
  }

  /// The problem's declarations as a list of inline math (`X ∈ ℝ^{b×d}`), opaque functions
  /// named in words.
  static func declarations(of problem: Problem) -> String? {
    let latex = MathRenderer(.latex)
    let mathML = MathMLRenderer()
    var items: [String] = []
    for input in problem.inputs where !input.name.hasPrefix("δ") {
      let type = LatexMathML.convert(LatexDocument.shape(input.type, latex))
      var item = inline(
        MathMLRenderer.row([mathML.name(input.name), MathMLRenderer.mo("∈"), type]))
      if case .symmetric = input.type { item += " (symmetric)" }
      if case .simplex = input.type { item += " (columns on the probability simplex)" }
      items.append(item)
    }
    for (name, type) in problem.functions.sorted(by: { $0.key < $1.key }) {
      items.append(
        inline(mathML.name(name))
          + (type == .function ? " an opaque scalar function" : " an element-wise function"))
    }
    guard !items.isEmpty else { return nil }
    return "<p>Inputs: " + items.joined(separator: ", ") + ".</p>"
  }

  /// The inferred names (`inferred: λ : scalar`), or nil when every name was declared.
  static func inferred(in problem: Problem) -> String? {
    guard let list = problem.inferredList(MathRenderer(.latex)) else { return nil }
    return "<p class=\"note\">Inferred (not declared): \(inline(LatexMathML.convert(list))).</p>"
  }

  /// The problem's definitions, each `name = body` displayed.
  static func definitions(of problem: Problem) -> [String] {
    let mathML = MathMLRenderer()
    return problem.definitions.map {
      display(
        MathMLRenderer.row([mathML.name($0.name), MathMLRenderer.mo("="), mathML.render($0.body)]))
    }
  }
}
