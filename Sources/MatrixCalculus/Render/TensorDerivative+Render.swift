extension TensorDerivative {
  /// `D_ijkl = …` as index-form text or LaTeX, e.g. `∂F_ij/∂X_kl = A_ik B_lj`.
  func render(_ renderer: MathRenderer, function: String, variable: String) -> String {
    let latex = renderer.style == .latex
    func subscripted(_ base: String, _ indices: [Index]) -> String {
      renderer.subscripted(base, indices.filter(isReal).map(Self.letter).joined())
    }
    let fIndices = outputIndices
    let xIndices = variableIndices
    let head =
      latex
      ? "\\frac{\\partial \(subscripted(function, fIndices))}{\\partial \(subscripted(variable, xIndices))}"
      : "∂\(subscripted(function, fIndices))/∂\(subscripted(variable, xIndices))"
    var pieces: [String] = []
    for term in terms {
      var factors: [String] = []
      var negative = false
      let (c, base) = term.coefficient.coefficientAndBase
      if c < 0 {
        negative = true
        if base.constantValue != 1 {
          let positive = (try? Expr.scale(-c, base)) ?? base
          factors.append(renderer.operand(positive))
        } else if c != -1 {
          factors.append(MathRenderer.number(-c))
        }
      } else if term.coefficient.constantValue != 1 {
        factors.append(renderer.operand(term.coefficient))
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
      let summed = Self.summed(in: term).map(Self.letter).joined()
      if !summed.isEmpty {
        factors.insert(latex ? "\\sum_{\(summed)}" : "Σ_\(summed)", at: 0)
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

// MARK: - Differential form

extension TensorDerivative {
  /// One term as a matrix differential: `L dX R`, `L (M ⊙ dX) R`, `L dXᵀ R`, or `⟨N, dX⟩ M`.
  private enum Piece {
    case linear(left: Expr?, hadamard: Expr?, right: Expr?, transposed: Bool)
    case inner(outer: Expr, inner: Expr)
  }

  /// Mᵀ for display, simplified: (A⁻¹)ᵀ as A⁻ᵀ, (A + Aᵀ)ᵀ as A + Aᵀ, (VᵀV)ᵀ as VᵀV.
  private static func transposed(_ e: Expr) throws -> Expr {
    var simplifier = Simplifier(rules: .embedded)
    return try simplifier.simplified(try e.transposedForm())
  }

  /// Reads a term as a matrix differential, or nil when it has another form.
  private func piece(_ term: Term) throws -> Piece? {
    if !Self.summed(in: term).isEmpty { return nil }  // a sum no matrix product absorbs
    if secondVariableShape != nil { return nil }  // five or six indices
    var factors = term.factors
    func take(_ a: Index, _ b: Index) throws -> (found: Bool, matrix: Expr?)? {
      for (position, factor) in factors.enumerated() {
        switch factor {
        case .entry(let e, let row, let col) where row == a && col == b:
          factors.remove(at: position)
          return (true, e)
        case .entry(let e, let row, let col) where row == b && col == a:
          factors.remove(at: position)
          // As the formulas spell it: (S⁻¹)ᵀ of a symmetric S is S⁻¹.
          return (true, try e.transposedForm())
        case .delta(let x, let y) where (x == a && y == b) || (x == b && y == a):
          factors.remove(at: position)
          return (true, nil)
        default: continue
        }
      }
      // An index of size one needs no factor.
      return !isReal(a) && !isReal(b) ? (true, nil) : nil
    }
    if let outer = try take(.i, .j), let inner = try take(.k, .l), factors.isEmpty,
      let m = outer.matrix
    {
      // An identity inner factor is tr(dX).
      let identity = try Expr.identity(variableShape.rows)
      return .inner(outer: m, inner: inner.matrix ?? identity)
    }
    factors = term.factors
    if let left = try take(.i, .k), let right = try take(.l, .j) {
      let hadamard = try take(.k, .l)?.matrix
      if factors.isEmpty {
        return .linear(
          left: left.matrix, hadamard: hadamard, right: right.matrix, transposed: false)
      }
    }
    factors = term.factors
    if let left = try take(.i, .l), let right = try take(.k, .j), factors.isEmpty {
      return .linear(left: left.matrix, hadamard: nil, right: right.matrix, transposed: true)
    }
    return nil
  }

  /// The terms as matrix differentials, with dX factored out where several terms share
  /// it on one side: `dX A + dX Aᵀ = dX (A + Aᵀ)`, `λ dU + dU Vᵀ V = dU (Vᵀ V + λ I)` (a
  /// bare `c dX` joins the side that has the others); a constant common to all the
  /// factored terms stays in front (`2 dU (Vᵀ V + λ I)`). `nil` when a term has no
  /// matrix-differential form.
  private func factoredPieces() throws -> [(coefficient: Expr, piece: Piece)]? {
    var pieces: [(coefficient: Expr, piece: Piece)] = []
    for term in terms {
      guard let piece = try piece(term) else { return nil }
      pieces.append((term.coefficient, piece))
    }
    // dX R (left side plain), L dX (right side plain), c dX (both).
    func sides(_ piece: Piece) -> (left: Expr?, right: Expr?)? {
      guard case .linear(let left, nil, let right, false) = piece else { return nil }
      return (left, right)
    }
    let onLeft = pieces.indices.filter { sides(pieces[$0].piece).map { $0.left == nil } ?? false }
    let onRight = pieces.indices.filter {
      sides(pieces[$0].piece).map { $0.right == nil } ?? false
    }
    let bare = Set(onLeft).intersection(onRight)
    let leftOnly = onLeft.filter { !bare.contains($0) }
    let rightOnly = onRight.filter { !bare.contains($0) }
    // dX on the left when two terms share it there, or one does and nothing has it right.
    let dXLeft: Bool
    if leftOnly.count >= 2 || (leftOnly.count == 1 && !bare.isEmpty && rightOnly.isEmpty) {
      dXLeft = true
    } else if rightOnly.count >= 2 || (rightOnly.count == 1 && !bare.isEmpty && leftOnly.isEmpty) {
      dXLeft = false
    } else {
      return pieces
    }
    let members = (dXLeft ? leftOnly : rightOnly) + bare.sorted()
    let identity = try Expr.identity(dXLeft ? variableShape.cols : variableShape.rows)
    // Σ cₜ Mₜ over the members, with the constant they share (up to sign) in front.
    let constants = members.map { pieces[$0].coefficient.coefficientAndBase.0 }
    let shared = constants.allSatisfy { abs($0) == abs(constants[0]) } ? abs(constants[0]) : 1
    let pulled = constants.allSatisfy { $0 < 0 } ? -shared : shared
    var inner: [Expr] = []
    for index in members {
      guard let (left, right) = sides(pieces[index].piece) else { return pieces }
      let matrix = (dXLeft ? right : left) ?? identity
      // c / pulled is ±1 or c itself, exactly.
      let (c, base) = pieces[index].coefficient.coefficientAndBase
      inner.append(try Expr.scale(c / pulled, try base * matrix))
    }
    let sum = try Expr.add(inner)
    let factored: Piece =
      dXLeft
      ? .linear(left: nil, hadamard: nil, right: sum, transposed: false)
      : .linear(left: sum, hadamard: nil, right: nil, transposed: false)
    var result = pieces.indices.filter { !members.contains($0) }.map { pieces[$0] }
    result.insert((Expr.constant(pulled), factored), at: 0)
    return result
  }

  /// The differential form as printed (``differentialForm(_:function:variable:)``, its
  /// factored terms) read back as a tensor, for the certificate to check it as printed:
  /// `c L dX R` is `c L_ik R_lj`, `c L dXᵀ R` is `c L_il R_kj`, `c L (H ⊙ dX) R` is
  /// `c L_ik H_kl R_lj`, `c M tr(Wᵀ dX)` is `c M_ij W_kl`. `nil` when there is none.
  func differentialTensor() throws -> TensorDerivative? {
    if secondVariableShape != nil { return nil }
    guard let pieces = try factoredPieces() else { return nil }
    func entry(_ e: Expr?, _ a: Index, _ b: Index) -> Factor {
      e.map { .entry($0, row: a, col: b) } ?? .delta(a, b)
    }
    let read = pieces.map { coefficient, piece -> Term in
      switch piece {
      case .inner(let outer, let inner):
        return Term(
          coefficient: coefficient, factors: [entry(outer, .i, .j), entry(inner, .k, .l)])
      case .linear(let left, let hadamard, let right, false):
        return Term(
          coefficient: coefficient,
          factors: [entry(left, .i, .k), entry(right, .l, .j)]
            + (hadamard.map { [entry($0, .k, .l)] } ?? []))
      case .linear(let left, _, let right, true):
        return Term(coefficient: coefficient, factors: [entry(left, .i, .l), entry(right, .k, .j)])
      }
    }
    return TensorDerivative(
      terms: read, functionShape: functionShape, variableShape: variableShape,
      secondVariableShape: nil)
  }

  /// `df = A dX B` (and, when every term has that form, `d vec f = (Bᵀ ⊗ A) d vec X`, vec
  /// stacking columns), or nil when a term has no matrix-differential form.
  func differentialForm(_ renderer: MathRenderer, function: String, variable: String) throws
    -> [String]?
  {
    if secondVariableShape != nil { return nil }  // five or six indices
    let latex = renderer.style == .latex
    let d = latex ? "\\mathrm{d}" : "d"
    let dX = "\(d)\(variable)"
    var sums: [String] = []
    var signs: [Bool] = []
    var kronecker: [String] = []
    var kroneckerExact = true
    guard let pieces = try factoredPieces() else { return nil }
    for (termCoefficient, piece) in pieces {
      // The sign goes between the terms; the coefficient's magnitude in front of the term.
      let (c, base) = termCoefficient.coefficientAndBase
      let magnitude = c < 0 ? ((try? Expr.scale(-c, base)) ?? base) : termCoefficient
      var coefficient = ""
      if magnitude.constantValue != 1 { coefficient = renderer.operand(magnitude) + " " }
      signs.append(c < 0)
      switch piece {
      case .inner(let outer, let inner):
        let weights = try Self.transposed(inner)
        let tr = latex ? "\\operatorname{tr}" : "tr"
        let (open, close) = latex ? ("\\left(", "\\right)") : ("(", ")")
        let trace =
          weights.isIdentity
          ? "\(tr)\(open)\(dX)\(close)"
          : "\(tr)\(open)\(renderer.operand(weights)) \(dX)\(close)"
        sums.append(coefficient + "\(renderer.operand(outer)) \(trace)")
        kroneckerExact = false
      case .linear(let left, let hadamard, let right, let transposed):
        var middle = transposed ? dX + (latex ? "^\\top" : "ᵀ") : dX
        if let hadamard {
          middle = "(\(renderer.operand(hadamard)) \(latex ? "\\odot" : "⊙") \(middle))"
          kroneckerExact = false
        }
        if transposed { kroneckerExact = false }
        let parts = [left.map(renderer.operand), middle, right.map(renderer.operand)]
        sums.append(coefficient + parts.compactMap { $0 }.joined(separator: latex ? " \\, " : " "))
        let l = left.map(renderer.operand) ?? "I"
        let r = try right.map { renderer.operand(try Self.transposed($0)) } ?? "I"
        kronecker.append(coefficient + "(\(r) \(latex ? "\\otimes" : "⊗") \(l))")
      }
    }
    // Terms joined by their signs (`A dX B − C dX D`).
    func signed(_ texts: [String]) -> String {
      let minus = latex ? "-" : "−"
      var sum = texts.isEmpty ? "0" : ""
      for (index, (text, negative)) in zip(texts, signs).enumerated() {
        if index == 0 {
          sum = (negative ? minus : "") + text
        } else {
          sum += (negative ? " \(minus) " : " + ") + text
        }
      }
      return sum
    }
    var lines = ["\(d)\(function) = " + signed(sums)]
    if kroneckerExact && isReal(.k) && isReal(.l) {
      let matrix = kronecker.count == 1 ? signed(kronecker) : "(" + signed(kronecker) + ")"
      let vec = latex ? "\\operatorname{vec}" : " vec"
      lines.append(
        "\(d)\(vec) \(function) = \(matrix) \(d)\(vec) \(variable)"
          + (latex ? "" : "   (vec stacks columns)"))
    }
    return lines
  }
}
