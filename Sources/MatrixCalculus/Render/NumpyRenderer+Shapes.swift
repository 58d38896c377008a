// MARK: - Code that chooses its order from the shapes it is called with

extension NumpyRenderer {
  /// Code for other shapes (``ProductPlanner/variants(of:named:model:dimensions:)``): it runs
  /// instead of the code it belongs to when it costs less for the shapes given.
  struct Alternative {
    /// What the code it belongs to costs, in the dimension symbols (``CostModel``).
    var planned: CostPolynomial
    /// What this code costs.
    var cost: CostPolynomial
    /// The code.
    var code: Code
  }

  /// The first of `codes` (planned for every dimension large), with the second, if any, as
  /// its alternative; `costs` are theirs.
  func chosen(_ codes: [Code], costs: [CostPolynomial]) -> Code {
    guard var first = codes.first else { return Code() }
    if codes.count == 2 && costs.count == 2 {
      first.alternatives = [Alternative(planned: costs[0], cost: costs[1], code: codes[1])]
    }
    return first
  }

  /// When the code itself runs rather than its alternative: `P <= Q`, its cost minus the
  /// alternative's being P − Q (each with positive coefficients, a monomial dividing every
  /// term taken out), each dimension written by `dimension`.
  ///
  /// cost((U Vᵀ − T) V) ≤ cost(U (Vᵀ V) − T V) reads `2*n*n*k + 33*n*n <= 4*n*k*k + 41*n*k +
  /// 16*k*k` (2 n²k flops and 33 n² element moves of the n×n temporary against the k×k
  /// products).
  static func condition(_ alternative: Alternative, dimension: (String) -> String) -> String {
    let difference = (alternative.planned - alternative.cost).withoutCommonFactor
    var more = CostPolynomial(0)
    var less = CostPolynomial(0)
    for monomial in difference.monomials {
      guard let c = difference.terms[monomial] else { continue }
      let term = monomial.reduce(CostPolynomial(abs(c))) { $0 * CostPolynomial(symbol: $1) }
      if c > 0 { more = more + term } else { less = less + term }
    }
    return "\(more.text(dimension)) <= \(less.text(dimension))"
  }

  /// The one-line form of `code`: its results (one) with its statements bound by lambdas,
  /// and an alternative chosen by `a if condition else b`, dimensions read from the inputs'
  /// shapes (`T.shape[0]`).
  func lineText(of code: Code) -> String {
    var text = code.results.first?.text ?? "None"
    for (name, value) in code.statements.reversed() {
      text = "(lambda \(name): \(text))(\(value))"
    }
    guard let alternative = code.alternatives.first else { return text }
    let condition = Self.condition(alternative) { dimensionSources[$0] ?? $0 }
    return "(\(text) if \(condition) else \(lineText(of: alternative.code)))"
  }

  /// The statements and `return` of a function's body; with an alternative, the dimensions
  /// the choice reads are bound first (`n = T.shape[0]`) and the code runs under
  /// `if condition:`, the alternative after it.
  func body(of code: Code, indent: String) -> [String] {
    var lines: [String] = []
    func append(_ code: Code, _ indent: String) {
      for (variable, value) in code.statements {
        lines.append(indent + "\(variable) = \(modular(value))")
      }
      let results = code.results.map { modular(shaped($0.text, rank: $0.rank)) }
      lines.append(
        indent + "return "
          + (results.count == 1 ? results[0] : "(" + results.joined(separator: ", ") + ")"))
    }
    guard let alternative = code.alternatives.first else {
      append(code, indent)
      return lines
    }
    // A dimension gets its own name unless that name is taken.
    let taken = Set(parameters + code.allStatements.map(\.name) + ["np", "jnp", "jax"])
    var bound: [String: String] = [:]
    let symbols = Set(
      [alternative.planned, alternative.cost].flatMap { $0.monomials.joined() })
    for symbol in symbols.sorted() {
      guard let source = dimensionSources[symbol] else { continue }
      if Self.isIdentifier(symbol) && !Self.pythonKeywords.contains(symbol)
        && !taken.contains(symbol)
      {
        bound[symbol] = symbol
        lines.append(indent + "\(symbol) = \(source)")
      }
    }
    lines.append(
      indent + "# The order that costs less (flops and element moves, --sizes to fix it):")
    let condition = Self.condition(alternative) { bound[$0] ?? dimensionSources[$0] ?? $0 }
    lines.append(indent + "if \(condition):")
    append(code, indent + indent)
    append(alternative.code, indent)
    return lines
  }
}

extension NumpyRenderer.Code {
  /// The statements of the code and of its alternatives.
  var allStatements: [(name: String, value: String)] {
    statements + alternatives.flatMap(\.code.allStatements)
  }
}
