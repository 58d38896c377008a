// MARK: - What was inferred, as every output states it

extension Problem {
  /// The inferred names with their types, `λ : scalar; X : matrix(m, n)` in text or
  /// `\lambda : \text{scalar};\ X : \text{matrix}(m, n)` in LaTeX (ASCII); `nil` when every
  /// name was declared.
  func inferredList(_ renderer: MathRenderer) -> String? {
    let inferred = self.inferred
    guard !inferred.isEmpty else { return nil }
    guard renderer.style == .latex else {
      return inferred.map { "\(renderer.name($0.name)) : \($0.type)" }.joined(separator: "; ")
    }
    func dim(_ d: Dim) -> String { renderer.name(d.description) }
    return inferred.map { name, type in
      let spelled: String
      switch type {
      case .vector(let d): spelled = "\\text{vector}(\(dim(d)))"
      case .matrix(let r, let c): spelled = "\\text{matrix}(\(dim(r)), \(dim(c)))"
      case .symmetric(let d): spelled = "\\text{symmetric}(\(dim(d)))"
      case .simplex(let d): spelled = "\\text{simplex}(\(dim(d)))"
      case .scalar, .function, .elementwise: spelled = "\\text{\(type)}"
      }
      return "\(renderer.name(name)) : \(spelled)"
    }.joined(separator: ";\\ ")
  }

  /// The text line `  inferred: …`, or `nil` when nothing was inferred.
  var inferredTextLine: String? {
    inferredList(MathRenderer(.text)).map { "  inferred: " + $0 }
  }

  /// The LaTeX line `\text{inferred: } …` (ASCII), or `nil` when nothing was inferred.
  var inferredLatexLine: String? {
    inferredList(MathRenderer(.latex)).map { "\\text{inferred: } " + $0 }
  }

  /// The JSON value of `inferred`: each name as written with its type, in order of first use.
  var inferredJSON: [[String: String]] {
    inferred.map { ["name": $0.name, "type": $0.type.description] }
  }
}
