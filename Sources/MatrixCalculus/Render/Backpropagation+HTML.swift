// MARK: - The HTML page of one backward pass

extension Backpropagation {
  /// What the backward pass derives, as text for a page's title: `∂l/∂W₁, ∂l/∂W₂`.
  public var htmlTitle: String {
    let renderer = MathRenderer(.text)
    let of = renderer.name(objectiveName)
    return variables.map { "∂\(of)/∂\(renderer.name($0.name))" }.joined(separator: ", ")
  }

  /// The gradients as one `<section>` of an HTML page (``HTMLPage/document(sections:title:)``):
  /// the problem, the backward pass (one adjoint per definition), each gradient, the layout,
  /// the joint certificate with every size draw, the steps and the emitted Python function
  /// (each under `<details>`; the steps folded unless `steps` is set).
  ///
  /// - Parameters:
  ///   - certificate: the result of ``check(points:directions:layout:)``; by default
  ///     ``certificate`` when it checked `layout`; with neither, the page says it was not
  ///     checked.
  ///   - layout: the layout convention.
  ///   - steps: unfold the steps.
  ///   - sizes: the sizes the Python function is planned for.
  /// - Returns: the section's HTML.
  /// - Throws: ``MatcalcError`` when a gradient cannot be rendered.
  public func htmlSection(
    certificate: Certificate? = nil, layout: Layout = .standard, steps: Bool = false,
    sizes: [String: Int] = [:]
  ) throws -> String {
    let mathML = MathMLRenderer()
    let latex = MathRenderer(.latex)
    let f = mathML.name(objectiveName)
    let equals = MathMLRenderer.mo("=")
    func equation(_ parts: String...) -> String { HTMLPage.display(MathMLRenderer.row(parts)) }
    let certificate = try certificate ?? self.certificate(for: layout)
    var html = ["<section>"]
    let names = variables.map { HTMLPage.inline(mathML.name($0.name)) }
    html.append(
      "<h1>Gradients of \(HTMLPage.inline(f)) with respect to "
        + names.joined(separator: ", ") + "</h1>")

    html.append(HTMLPage.problem(problem))
    if problem.expr(named: objectiveName) == nil {
      html.append("<p>Objective:</p>")
      let written = LatexMathML.convert(latex.render(objective, asWrittenIn: problem))
      html.append(equation(f, equals, written))
    }

    if !intermediates.isEmpty {
      html += HTMLPage.backwardPassHeading(
        f, mathML, "; every gradient is stated through them")
      for intermediate in intermediates {
        html.append(
          equation(
            mathML.name("δ" + intermediate.name), equals, mathML.render(intermediate.value)))
      }
    }
    html.append("<h2>Result</h2>")
    html.append("<div class=\"result\">")
    for ((name, _), gradient) in zip(variables, try laidOut(layout)) {
      html.append(
        equation(MathMLRenderer.partial(f, mathML.name(name)), equals, mathML.render(gradient)))
    }
    html.append("</div>")
    if let convention = symmetricConvention { html.append(HTMLPage.sentence(convention)) }
    html.append(HTMLPage.sentence(layout.statement))
    html.append(
      HTMLPage.certificate(certificate, suffix: " (all gradients jointly, random directions)"))

    let stepsContent: [String]
    do {
      stepsContent = HTMLPage.steps(fromLatex: try renderSteps(.latex))
    } catch {
      if steps { throw error }
      stepsContent = []
    }
    if !stepsContent.isEmpty {
      html.append(HTMLPage.details("Steps, entry by entry", stepsContent, open: steps))
    }
    html.append(HTMLPage.python { try render(.python, layout: layout, sizes: sizes) })
    html.append("</section>")
    return html.joined(separator: "\n")
  }
}
