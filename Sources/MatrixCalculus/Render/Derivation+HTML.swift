// MARK: - The HTML page of one derivation

extension Derivation {
  /// What the derivation derives, as text for a page's title: `∂l/∂W`, `∂²f/∂x²`.
  public var htmlTitle: String {
    let renderer = MathRenderer(.text)
    let (of, wrt) = (renderer.name(objectiveName), renderer.name(variableName))
    return order == 2 ? "∂²\(of)/∂\(wrt)²" : "∂\(of)/∂\(wrt)"
  }

  /// `∂f/∂x` (`∂²f/∂x²`, or marked symmetric) as MathML.
  private func partialMathML() -> String {
    let renderer = MathMLRenderer()
    let head = MathMLRenderer.partial(
      renderer.name(objectiveName), renderer.name(variableName), order: order)
    guard isSymmetrized && order == 1 else { return head }
    return MathMLRenderer.row([head, "<mspace width=\"0.3em\"/>", "<mtext>(symmetric)</mtext>"])
  }

  /// The derivation as one `<section>` of an HTML page (``HTMLPage/document(sections:title:)``):
  /// the problem (inputs, inferred names, definitions, the objective as written), the result
  /// with its differential and Kronecker forms, the names it uses, the backward pass, the
  /// layout, the certificate with every size draw, the steps and the emitted Python function
  /// (each under `<details>`). The steps are always there when the derivation has them,
  /// folded unless `steps` is set.
  ///
  /// - Parameters:
  ///   - certificate: the result of ``check(points:layout:)``; by default ``certificate`` when
  ///     it checked `layout`; with neither, the page says it was not checked.
  ///   - layout: the layout convention.
  ///   - steps: unfold the steps (and fail if they cannot be rendered).
  ///   - sizes: the sizes the Python function is planned for.
  /// - Returns: the section's HTML.
  /// - Throws: ``MatcalcError`` when the result cannot be rendered.
  public func htmlSection(
    certificate: Certificate? = nil, layout: Layout = .standard, steps: Bool = false,
    sizes: [String: Int] = [:]
  ) throws -> String {
    let mathML = MathMLRenderer()
    let latex = MathRenderer(.latex)
    let f = mathML.name(objectiveName)
    func equation(_ parts: String...) -> String {
      HTMLPage.display(MathMLRenderer.row(parts))
    }
    let equals = MathMLRenderer.mo("=")
    let certificate = try certificate ?? self.certificate(for: layout)
    var html = ["<section>"]
    let kind = order == 2 ? "Second derivative" : "Derivative"
    html.append(
      "<h1>\(kind) of \(HTMLPage.inline(f)) with respect to "
        + "\(HTMLPage.inline(mathML.name(variableName)))</h1>")

    // The problem.
    html.append(HTMLPage.problem(problem))
    if problem.expr(named: objectiveName) == nil {
      html.append("<p>Objective:</p>")
      let written = LatexMathML.convert(latex.render(objective, asWrittenIn: problem))
      html.append(equation(f, equals, written))
    }

    // The result.
    html.append("<h2>Result</h2>")
    html.append("<div class=\"result\">")
    if tensor != nil {
      html.append(HTMLPage.display(LatexMathML.convert(try formulaLine(latex, layout: layout))))
    } else {
      html.append(equation(partialMathML(), equals, mathML.render(try laidOut(layout, shown))))
    }
    let differential = try differentialLines(latex)
    if !differential.isEmpty {
      html.append("<p class=\"note\">As a differential (vec stacks columns):</p>")
      html += differential.map { HTMLPage.display(LatexMathML.convert($0)) }
    }
    html.append("</div>")
    if isSymmetrized {
      html.append(HTMLPage.sentence(Self.symmetrizedConvention))
    } else if isSymmetricVariable {
      html.append(HTMLPage.sentence(symmetricConventionLine))
    }
    if let domainLine = domainLine(MathRenderer(.text)) {
      html.append(HTMLPage.sentence(domainLine))
    }
    let used = definitionsUsed.map { ($0.name, $0.body) } + shared.map { ($0.name, $0.value) }
    if !used.isEmpty {
      html.append("<p>where</p>")
      html += used.map { equation(mathML.name($0.0), equals, mathML.render($0.1)) }
    }
    if intermediates.count >= 2 {
      html += HTMLPage.backwardPassHeading(f, mathML, ", each in terms of the ones before it")
      for intermediate in intermediates {
        html.append(
          equation(
            mathML.name("δ" + intermediate.name), equals,
            MathMLRenderer.partial(f, mathML.name(intermediate.name)), equals,
            mathML.render(intermediate.value)))
      }
      html.append(equation(partialMathML(), equals, mathML.render(named)))
    }
    if statesLayout { html.append(HTMLPage.sentence(layout.statement)) }

    // The certificate, the steps, the code.
    html.append(HTMLPage.certificate(certificate))
    html += try htmlSteps(open: steps)
    html.append(HTMLPage.python { try render(.python, layout: layout, sizes: sizes) })
    html.append("</section>")
    return html.filter { !$0.isEmpty }.joined(separator: "\n")
  }

  /// The steps under `<details>` (with the rules that fired), or nothing for a derivative
  /// without steps; `open` unfolds them and makes a failure to render them an error.
  private func htmlSteps(open: Bool) throws -> [String] {
    guard hasSteps else {
      if open { _ = try renderSteps(.latex) }  // says why there are none
      return []
    }
    let latexSteps: String
    do {
      latexSteps = try renderSteps(.latex)
    } catch {
      if open { throw error }
      return []
    }
    var content = HTMLPage.steps(fromLatex: latexSteps)
    var seen = Set<String>()
    let rules = appliedRules.map(\.rule).filter { seen.insert($0).inserted }
    if !rules.isEmpty {
      content.append(
        "<p class=\"note\">Rules applied: "
          + rules.map { "<code>\(HTMLPage.escaped($0))</code>" }.joined(separator: ", ")
          + ", by the engine's matrix-level derivation, which the steps above redo in index "
          + "form.</p>")
    }
    return [HTMLPage.details("Steps, entry by entry", content, open: open)]
  }
}
