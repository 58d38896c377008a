/// A standalone LaTeX document: one section per derivation with the problem and its shapes,
/// the definitions, the backward pass (one adjoint per definition), the rules applied, the
/// result, and the numeric certificate. ASCII; compiles with pdflatex from texlive-latex-base.
public struct LatexDocument {
  let derivation: Derivation

  /// One document holding `sections` (from ``Derivation/latexSection(certificate:layout:)``
  /// or ``Backpropagation/latexSection(certificate:layout:)``), in order.
  ///
  /// - Parameter sections: the body of each section.
  /// - Returns: the document, from `\documentclass` to `\end{document}`.
  public static func document(sections: [String]) -> String {
    let preamble = [
      "\\documentclass[11pt]{article}",
      "\\usepackage[T1]{fontenc}",
      "\\usepackage{amsmath,amssymb,graphicx}",
      "\\usepackage[margin=2.2cm]{geometry}",
      "\\allowdisplaybreaks",
      "\\begin{document}",
    ]
    return (preamble + sections + ["\\end{document}"]).joined(separator: "\n") + "\n"
  }

  /// Wide displays are scaled to the line width, so nothing runs off the page.
  static func display(_ math: String) -> String {
    let visible = math.filter { $0.isLetter || $0.isNumber }.count
    if visible > 40 {
      return
        "\\[\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{$\\displaystyle \(math)$}\\]"
    }
    return "\\[\(math)\\]"
  }

  private func display(_ math: String) -> String { Self.display(math) }

  static func escaped(_ text: String) -> String {
    var result = ""
    for character in text {
      switch character {
      case "\\": result += "\\textbackslash{}"
      case "{", "}", "$", "&", "#", "_", "%": result += "\\\(character)"
      case "^": result += "\\^{}"
      case "~": result += "\\~{}"
      case "×": result += "$\\times$"
      case "−": result += "-"
      case "⊙": result += "$\\odot$"
      case "ᵀ": result += "$^\\top$"
      case "∂": result += "$\\partial$"
      case "∇": result += "$\\nabla$"
      default: result.append(character.isASCII ? character : "?")
      }
    }
    return result
  }

  private func escaped(_ text: String) -> String { Self.escaped(text) }

  static func shape(_ type: TypeSpec, _ renderer: MathRenderer) -> String {
    switch type {
    case .scalar: return "\\mathbb{R}"
    case .vector(let d): return "\\mathbb{R}^{\(renderer.name(d.description))}"
    case .matrix(let r, let c):
      return "\\mathbb{R}^{\(renderer.name(r.description)) \\times \(renderer.name(c.description))}"
    case .symmetric(let d):
      return "\\mathbb{S}^{\(renderer.name(d.description))}"
    case .simplex(let d):  // the probability simplex
      return "\\Delta^{\(renderer.name(d.description))}"
    case .function: return "\\text{a scalar function}"
    case .elementwise: return "\\text{an element-wise function}"
    }
  }

  private func shape(_ type: TypeSpec, _ renderer: MathRenderer) -> String {
    Self.shape(type, renderer)
  }

  /// The derivation's section of a document.
  /// Each function the problem defines by its meaning, as written: `sp(t) = log(1 + e^t)`,
  /// applied entry by entry.
  static func definedFunctions(_ problem: Problem, _ renderer: MathRenderer) -> [String] {
    problem.definedFunctions.compactMap { name in
      guard let meaning = problem.operations[name]?.meaning,
        case .variable(let parameter, _, _) = meaning.parameter.node
      else { return nil }
      return "$\\operatorname{\(name)}(\(renderer.name(parameter))) = "
        + "\(renderer.render(meaning.body))$ entry by entry"
    }
  }

  func section(certificate: Certificate?, layout: Layout) throws -> String {
    let renderer = MathRenderer(.latex)
    let of = renderer.name(derivation.objectiveName)
    let wrt = renderer.name(derivation.variableName)
    let order = derivation.order == 2 ? "^2" : ""
    let partial = "\\frac{\\partial\(order) \(of)}{\\partial \(wrt)\(order)}"
    var lines: [String] = [
      "\\section*{Derivative of $\(of)$ with respect to $\(wrt)$}",
      "\\paragraph{Problem.}",
    ]
    var declarations: [String] = []
    for input in derivation.problem.inputs where !input.name.hasPrefix("δ") {
      declarations.append("$\(renderer.name(input.name)) \\in \(shape(input.type, renderer))$")
    }
    for (name, type) in derivation.problem.functions.sorted(by: { $0.key < $1.key }) {
      declarations.append(
        "$\(renderer.name(name))$ is \(type == .function ? "an opaque scalar function" : "an opaque element-wise function")"
      )
    }
    declarations += Self.definedFunctions(derivation.problem, renderer)
    lines.append(declarations.joined(separator: ", ") + ".")
    if let inferred = derivation.problem.inferredLatexLine { lines.append(display(inferred)) }
    if !derivation.problem.definitions.isEmpty {
      lines.append("Definitions:")
      for definition in derivation.problem.definitions {
        lines.append(
          display("\(renderer.name(definition.name)) = \(renderer.render(definition.body))"))
      }
    }
    let isName = derivation.problem.expr(named: derivation.objectiveName) != nil
    if !isName {
      lines.append("Objective:")
      lines.append(
        display(
          "\(of) = \(renderer.render(derivation.objective, asWrittenIn: derivation.problem))"))
    }
    if !derivation.intermediates.isEmpty {
      lines.append(
        "\\paragraph{Backward pass.} Reverse accumulation: the adjoint "
          + "$\\delta D = \\partial \(of) / \\partial D$ of each definition, the last one first, "
          + "each in terms of the ones before it.")
      for intermediate in derivation.intermediates {
        lines.append(
          display(
            "\(renderer.name("δ" + intermediate.name)) = \\frac{\\partial \(of)}{\\partial "
              + "\(renderer.name(intermediate.name))} = \(renderer.render(intermediate.value))"))
      }
      lines.append(display("\(partial) = \(renderer.render(derivation.named))"))
    }
    let entrySteps = derivation.hasSteps ? try derivation.renderSteps(.latex) : ""
    if !entrySteps.isEmpty {
      let summary =
        derivation.explainsInIndexForm
        ? "The function entry by entry, each factor differentiated (the product rule, with the "
          + "differentials of the rules), the Kronecker deltas contracted, and the matrix form "
          + "recognised."
        : "For each definition on the way, last first, its adjoint by the chain rule through "
          + "its users, each user entry by entry, differentiated (the product rule, with the "
          + "differentials of the rules), the Kronecker deltas contracted, and the matrix form "
          + "recognised; then the gradient the same way."
      lines.append("\\paragraph{Entry by entry.} " + summary)
      lines.append(entrySteps)
    }
    var seen = Set<String>()
    let rules = derivation.appliedRules.map(\.rule).filter { seen.insert($0).inserted }
    if !rules.isEmpty {
      // Ragged right: rule names in typewriter type do not hyphenate.
      lines.append(
        "{\\raggedright\\paragraph{Rules applied.} "
          + rules.map { "\\texttt{\(escaped($0))}" }.joined(separator: ", ")
          + " (from the rule files of matcalc), by the engine's matrix-level derivation, which "
          + "the steps above redo in index form.\\par}")
    }
    lines.append(
      "\\paragraph{Result.} \(escaped(layout.statement.prefix(1).uppercased() + layout.statement.dropFirst()))."
    )
    if derivation.isSymmetrized {
      lines.append(
        "The gradient on symmetric matrices: $G + G^\\top - \\operatorname{diag}(G)$ of the "
          + "gradient $G$ with every entry independent (The Matrix Cookbook (141)).")
    } else if derivation.isSymmetricVariable {
      lines.append(
        "Convention: every entry of a symmetric variable independent, evaluated at a symmetric "
          + "point"
          + (derivation.offersSymmetricGradient
            ? " (\\texttt{-{}-symmetric-gradient} gives the Cookbook's "
              + "$G + G^\\top - \\operatorname{diag}(G)$)." : "."))
    }
    if let domainLine = derivation.domainLine(renderer) {
      lines.append(domainLine.prefix(1).uppercased() + domainLine.dropFirst() + ".")
    }
    lines.append(display(try derivation.formulaLine(renderer, layout: layout)))
    let differential = try derivation.differentialLines(renderer)
    if !differential.isEmpty {
      lines.append("As a differential ($\\operatorname{vec}$ stacks columns):")
      lines += differential.map(display)
    }
    let shared = derivation.whereList(renderer, definitions: false)
    if !shared.isEmpty {
      lines.append("where")
      lines.append(display(shared.joined(separator: ", \\quad ")))
    }
    if let certificate {
      lines.append(
        "\\paragraph{Numeric certificate.} \(escaped(certificate.description)): the formula was "
          + "compared with central finite differences of the objective on random inputs.")
    }
    return lines.joined(separator: "\n")
  }
}
