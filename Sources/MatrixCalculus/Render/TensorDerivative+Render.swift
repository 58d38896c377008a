extension TensorDerivative {
  /// `D_ijkl = …` as index-form text or LaTeX, e.g. `∂F_ij/∂X_kl = A_ik B_lj`.
  func render(_ renderer: MathRenderer, function: String, variable: String) -> String {
    let latex = renderer.style == .latex
    func subscripted(_ base: String, _ indices: [Index]) -> String {
      let letters = indices.filter(isReal).map(Self.letter).joined()
      if letters.isEmpty { return base }
      return latex ? "\(base)_{\(letters)}" : "\(base)_\(letters)"
    }
    let fIndices = [Index.i, .j]
    let xIndices = [Index.k, .l]
    let head =
      latex
      ? "\\frac{\\partial \(subscripted(function, fIndices))}{\\partial \(subscripted(variable, xIndices))}"
      : "∂\(subscripted(function, fIndices))/∂\(subscripted(variable, xIndices))"
    var pieces: [String] = []
    for term in terms {
      var factors: [String] = []
      var negative = false
      if let c = term.coefficient.constantValue, c < 0 {
        negative = true
        if c != -1 { factors.append(MathRenderer.number(-c)) }
      } else if term.coefficient.constantValue != 1 {
        factors.append(renderer.render(term.coefficient))
      }
      for factor in term.factors {
        switch factor {
        case .entry(let e, let row, let col):
          let indices = [row, col].compactMap { $0 }
          let base: String
          if case .variable = e.node {
            base = renderer.render(e)
          } else if latex {
            base = "\\left(\(renderer.render(e))\\right)"
          } else {
            base = "(\(renderer.render(e)))"
          }
          factors.append(indices.contains(where: isReal) ? subscripted(base, indices) : base)
        case .delta(let a, let b):
          guard isReal(a) || isReal(b) else { continue }
          factors.append(subscripted(latex ? "\\delta" : "δ", [a, b]))
        }
      }
      let product = factors.isEmpty ? "1" : factors.joined(separator: latex ? " \\, " : " ")
      pieces.append((negative ? (latex ? "-" : "−") : "+") + product)
    }
    guard var text = pieces.first else { return "\(head) = 0" }
    if text.hasPrefix("+") { text.removeFirst() }
    for piece in pieces.dropFirst() {
      text += " " + String(piece.prefix(1)) + " " + piece.dropFirst()
    }
    return "\(head) = \(text)"
  }

}
