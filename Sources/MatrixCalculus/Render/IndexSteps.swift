/// A derivative explained in index form, as the index path computes it: the function entry
/// by entry, the differential rules used, the product rule with the elementary derivatives
/// (∂X_ab/∂X_kl = δ_ka δ_lb), the deltas contracted, each contribution recognised as an entry
/// of a matrix expression, the contributions added.
///
/// Through definitions (``backward(problem:objective:objectiveName:variables:results:intermediates:)``)
/// the quantity differentiated for a definition or variable T is Σ_U Σ_ij δU_ij U_ij over
/// T's users U, each δU found before it: the chain rule, one adjoint per definition.
struct IndexSteps {
  /// One user U of what is differentiated: a definition, whose adjoint δU was found before
  /// (the chain rule's Σ_ij δU_ij ∂U_ij/∂T_kl), or the objective itself (seed 1).
  struct Use {
    /// δU, or 1 for the objective.
    var seed: Expr
    /// U's name; nil for the objective.
    var name: String?
    /// U's body, or the objective.
    var expr: Expr
    /// U's indices (nil for an axis of size one).
    var indices: [String?]
    /// U_ij entry by entry.
    var entry: [IndexTerm]
    /// The letters its summed indices are shown with first (an index definition's own).
    var letters: [String] = []
  }

  /// The users through which the chain rule runs; empty when the function differentiated
  /// is F itself (the objective, or a Hessian's gradient).
  var uses: [Use] = []
  var function: [IndexTerm]
  var rules: [(rule: String, before: Expr, after: Expr)]
  var derivative: [IndexTerm]
  /// The derivative with only the sums a delta holds contracted (Σ_t A_kt x_t stays).
  var deltasContracted: [IndexTerm]
  /// Each contribution as an entry of a matrix expression (at most two indices).
  var terms: [(coefficient: Double, matrix: Expr)]?
  var contracted: [IndexTerm]
  /// F's indices, then X's (nil for an axis of size one).
  var free: [String?]
  /// What is differentiated, as printed (`f`, or `∇f` for a Hessian's second step).
  var functionName: String
  /// What it is differentiated by (the variable, or a definition in a backward pass).
  var variable: Expr
  var variableName: String
  /// The derivative in matrix form, when it has one.
  var matrix: Expr?
  /// The problem's one-letter names (inputs, definitions, dimensions, the objective), which
  /// no index is shown with.
  var names: Set<String> = []
  /// For a vector or matrix F, how the chain rule uses the derivative: contracted with an
  /// upstream gradient G = ∂L/∂F, Σ_ij G_ij ∂F_ij/∂X_kl, with the deltas contracted, and
  /// its matrix form (the tensor collapses: (G Xᵀ)_kl for F = W X by W).
  var collapse: (upstream: Expr, terms: [IndexTerm], matrix: Expr?)?
  /// Whether what it is differentiated by is a definition (in a backward pass).
  var isDefinition = false
  /// For a definition, the name its adjoint gets (δH), stated last; nil for an adjoint the
  /// backward pass does not name (δD = δE, a constant).
  var adjoint: Expr?
  /// For a variable in a backward pass whose printed result differs from its form in
  /// terms of the adjoints: that form with the adjoints substituted, then the printed one.
  var substituted: (Expr, Expr)?

  /// The steps of ∂F/∂X for F given entry by entry (`function`, free indices `rows` and
  /// `cols` of an F shaped `shape`), lowered by `index`, the derivative by X.
  init(
    function: [IndexTerm], uses: [Use] = [], index: inout IndexDerivative, shape: Shape,
    rows: String?, cols: String?, named name: String, variableName: String, matrix: Expr?
  ) throws {
    let variable = index.variable
    let derivative = try index.derivative(of: function)
    // Σ_s δ_ks B_s… = B_k…: the sums a delta holds first, alone; then every sum.
    let deltasContracted = try derivative.map(Self.deltasContracted)
    let free = [rows, cols, index.a, index.b]
    // With at most two indices, each contribution is an entry of a matrix expression.
    let names = free.compactMap { $0 }
    if names.count <= 2 {
      var ranges: [String: Dim] = [:]
      let dims = [shape.rows, shape.cols, variable.shape.rows, variable.shape.cols]
      for (name, dim) in zip(free, dims) { if let name { ranges[name] = dim } }
      var simplifier = Simplifier(rules: .embedded)
      terms = try IndexTerm.merged(deltasContracted).map { term in
        var unit = term
        unit.coefficient = 1
        let raised = try IndexRaising.raise([unit], to: names, ranges: ranges)
        return (term.coefficient, try simplifier.simplified(raised.expr))
      }
    }
    self.uses = uses
    self.function = function
    rules = try index.rulesUsed.map {
      ($0.rule, $0.before, try IndexDerivative.shown($0.after, rules: .embedded))
    }
    self.derivative = derivative
    self.deltasContracted = IndexTerm.merged(deltasContracted)
    contracted = IndexTerm.merged(try derivative.map { try IndexContraction.contracted($0) })
    self.free = free
    functionName = name
    self.variable = variable
    self.variableName = variableName
    self.matrix = matrix
  }

  /// The term with only the sums a delta holds contracted (Σ_s δ_ks B_s… = B_k…).
  static func deltasContracted(_ term: IndexTerm) throws -> IndexTerm {
    let held = term.summed.filter { k in
      term.factors.contains { $0.isDelta && $0.indices.contains(k) }
    }
    return try IndexContraction.contracted(term, over: held)
  }

  /// Adds ``collapse`` for a vector or matrix F, the upstream gradient named `G` (or `Γ`
  /// when the problem has a G).
  mutating func addCollapse(functionShape shape: Shape, avoiding names: Set<String>) throws {
    let rows = free[0]
    let cols = free[1]
    guard rows != nil || cols != nil else { return }
    let upstream = try Expr.variable(names.contains("G") ? "Γ" : "G", shape)
    let seeded = derivative.map { term in
      var term = term
      term.factors.insert(IndexedTensor(expr: upstream, row: rows, col: cols), at: 0)
      term.summed = [rows, cols].compactMap { $0 } + term.summed
      return term
    }
    let terms = IndexTerm.merged(try seeded.map(Self.deltasContracted))
    var matrix: Expr?
    if free[2] != nil || free[3] != nil {
      var ranges: [String: Dim] = [:]
      if let k = free[2] { ranges[k] = variable.shape.rows }
      if let l = free[3] { ranges[l] = variable.shape.cols }
      let target = [free[2], free[3]].compactMap { $0 }
      var simplifier = Simplifier(rules: .embedded)
      do {
        var raised = try IndexRaising.raise(terms, to: target, ranges: ranges)
        if target.count == 1, raised.row == nil { raised = try raised.transposed() }
        matrix = try simplifier.simplified(raised.expr)
      } catch MatcalcError.unsupported {
        // No matrix form (an index shared by three factors): the index form stands alone.
        matrix = nil
      }
    }
    collapse = (upstream, terms, matrix)
  }

  /// The sum of the contributions in matrix form (nil beyond two indices).
  func summed() throws -> Expr? {
    guard let terms else { return nil }
    var simplifier = Simplifier(rules: .embedded)
    let parts = try terms.map { try Expr.scale($0.coefficient, $0.matrix) }
    guard let first = parts.first else { return nil }
    return try simplifier.simplified(parts.count == 1 ? first : try Expr.add(parts))
  }
}

// MARK: - Through definitions

extension IndexSteps {
  /// The backward pass in index form: for each definition on the way to the variables, last
  /// first, its adjoint δD_kl = ∂f/∂D_kl by the chain rule through D's users (each user
  /// entry by entry, differentiated, the deltas contracted, the matrix product recognised);
  /// then each variable's gradient the same way. `results` are the gradients in terms of
  /// the `intermediates` (the δ's the backward pass prints), which name the adjoints here.
  static func backward(
    problem: Problem, objective: Expr, objectiveName: String,
    variables: [(name: String, expr: Expr)], results: [Expr],
    intermediates: [Derivation.Intermediate], printed: [Expr]? = nil
  ) throws -> [IndexSteps] {
    var simplifier = Simplifier(rules: .embedded)
    let variableSet = Set(variables.map(\.expr))
    let targets = GradientBuilder(problem: problem, rules: .embedded).dependents(of: variableSet)
    let adjoints = Dictionary(
      intermediates.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    // Each body as the derivation simplified it, with sums of transposes folded back where
    // that reads better ((ŷ − y)ᵀ, not ŷᵀ − yᵀ): the same values, entry by entry.
    var presentation = Presentation(definitions: [])
    func shown(_ e: Expr) throws -> Expr {
      try presentation.transposesFolded(try simplifier.simplified(e))
    }
    let simplifiedObjective = try shown(objective)
    // Users found so far: a definition's variable, name, body, and adjoint.
    var users: [(variable: Expr, name: String, body: Expr, seed: Expr)] = []
    var order: [(variable: Expr, name: String, body: Expr?, result: Expr?)] = []
    for definition in problem.definitions.reversed()
    where targets.contains(definition.variable) && !variableSet.contains(definition.variable) {
      order.append((definition.variable, definition.name, definition.body, nil))
    }
    order += zip(variables, results).map { ($0.expr, $0.name, nil, $1) }
    // Each δ in terms of the inputs, for the printed results (the σ(1 − σ) cancellation).
    var values: [Expr: Expr] = [:]
    for intermediate in intermediates {
      values[intermediate.variable] = try intermediate.value.substituting(values)
    }
    var finals = printed.map { Array(zip(variables.map(\.expr), $0)) } ?? []
    // Index definitions are shown in the user's letters (D_ij = Σ_k W_ik X_kj); the
    // derivative's own indices avoid them.
    var written: [String: (indices: [String], summed: [String])] = [:]
    for definition in problem.written?.definitions ?? [] where definition.isIndexFormula {
      let summed = definition.ranges.keys.filter { !definition.indices.contains($0) }.sorted()
      written[definition.name] = (definition.indices, summed)
    }
    let names = problem.oneLetterNames.union(objectiveName.count == 1 ? [objectiveName] : [])
    let pair = Self.indexPair(
      avoiding: names.union(written.values.flatMap { $0.indices + $0.summed }))
    var result: [IndexSteps] = []
    for target in order {
      if target.variable === objective, let body = target.body {
        // The objective is this definition: its adjoint is 1.
        users.append((target.variable, target.name, try shown(body), .constant(1)))
        continue
      }
      var index = IndexDerivative(
        withRespectTo: target.variable, indices: pair.0, pair.1, rules: .embedded)
      var occurrence = Occurrence(of: target.variable)
      var uses: [Use] = []
      var function: [IndexTerm] = []
      if occurrence.isIn(simplifiedObjective) {
        let entry = try index.lowered(simplifiedObjective, nil, nil, keepingSums: true)
        uses.append(
          Use(seed: .constant(1), name: nil, expr: simplifiedObjective, indices: [], entry: entry))
        function += entry
      }
      for user in users where occurrence.isIn(user.body) {
        var indices = [
          user.body.shape.rows == .one ? nil : "i", user.body.shape.cols == .one ? nil : "j",
        ]
        var letters: [String] = []
        if let own = written[user.name], own.indices.count == indices.compactMap({ $0 }).count {
          // The user's free indices, rows then columns.
          var names = own.indices.makeIterator()
          indices = indices.map { $0 == nil ? nil : names.next() }
          letters = own.summed
        }
        let entry = try index.lowered(user.body, indices[0], indices[1], keepingSums: true)
        uses.append(
          Use(
            seed: user.seed, name: user.name, expr: user.body, indices: indices, entry: entry,
            letters: letters))
        // Σ_ij δU_ij U_ij: the adjoint multiplies each term, its indices summed.
        let summed = indices.compactMap { $0 }
        for var term in entry {
          if let c = user.seed.constantValue {
            term.coefficient *= c
          } else {
            term.factors.insert(
              IndexedTensor(expr: user.seed, row: indices[0], col: indices[1]), at: 0)
          }
          term.summed = summed + term.summed
          function.append(term)
        }
      }
      guard !uses.isEmpty else { continue }
      let adjoint = target.result == nil ? adjoints[target.name] : nil
      var steps = try IndexSteps(
        function: function, uses: uses, index: &index, shape: Shape(.one, .one), rows: nil,
        cols: nil, named: objectiveName, variableName: target.name,
        matrix: target.result ?? adjoint?.value)
      steps.names = names
      if let index = finals.firstIndex(where: { $0.0 === target.variable }),
        let named = target.result, finals[index].1 != named
      {
        steps.substituted = (try named.substituting(values), finals[index].1)
        finals.remove(at: index)
      }
      if let body = target.body {
        // The adjoint as the backward pass names it, or (an atomic one, not named) as found.
        let seed = try adjoint?.variable ?? steps.summed() ?? .zero(target.variable.shape)
        if seed.isZero { continue }
        steps.isDefinition = true
        steps.adjoint = adjoint?.variable
        steps.matrix = adjoint?.value ?? seed
        users.append((target.variable, target.name, try shown(body), seed))
      }
      result.append(steps)
    }
    return result
  }
}

extension IndexSteps {
  /// The indices of the derivative's variable, ∂/∂X_kl: the first pair of letters none of
  /// which names something else in the problem (a loss `l`, a dimension `p`).
  static func indexPair(avoiding taken: Set<String>) -> (String, String) {
    [("k", "l"), ("p", "q"), ("u", "v"), ("r", "t"), ("g", "h"), ("c", "e")].first {
      !taken.contains($0.0) && !taken.contains($0.1)
    } ?? ("k", "l")
  }
}

// MARK: - Rendering

extension IndexSteps {
  /// Marks where a long sum of index terms may break (between two terms).
  static let termBreak = "\u{1}"

  /// The steps as (what was done, the equation) pairs; a step that changes nothing is left
  /// out.
  func equations(_ style: MathRenderer.Style) -> [(label: String, math: String)] {
    let renderer = MathRenderer(style)
    var sums = IndexTermRenderer(
      renderer, avoiding: function + derivative + uses.flatMap(\.entry), names: names,
      preferring: uses.flatMap(\.letters))
    let latex = style == .latex
    let termBreak = Self.termBreak
    var f = renderer.name(functionName)
    if functionName.hasPrefix("∇") {  // (∇f)_i
      let inner = latex ? "\\nabla " + renderer.name(String(functionName.dropFirst())) : f
      f = latex ? "\\left(\(inner)\\right)" : "(\(inner))"
    }
    let x = renderer.name(variableName)
    func sub(_ base: String, _ indices: [String?]) -> String {
      renderer.subscripted(base, indices.compactMap { $0 }.joined())
    }
    func partial(_ top: String, _ bottom: String) -> String {
      latex ? "\\frac{\\partial \(top)}{\\partial \(bottom)}" : "∂\(top)/∂\(bottom)"
    }
    let entry = sub(f, Array(free.prefix(2)))
    let variableEntry = sub(x, Array(free.suffix(2)))
    let derivativeEntry = partial(entry, variableEntry)
    // ∂X_ab/∂X_kl = δ_ka δ_lb (for a vector, ∂x_a/∂x_k = δ_ka)
    let pairs = [("a", free[2]), ("b", free[3])].compactMap { own, index in
      index.map { (own, $0) }
    }
    let own = pairs.map(\.0).joined()
    let theirs = pairs.map(\.1).joined()
    let deltas = pairs.map { latex ? "\\delta_{\($0.1)\($0.0)}" : "δ_\($0.1)\($0.0)" }
      .joined(separator: " ")
    var elementary =
      latex
      ? "$\\partial \(sub(x, [own]))/\\partial \(sub(x, [theirs])) = \(deltas)$"
      : "∂\(x)_\(own)/∂\(x)_\(theirs) = \(deltas)"
    if pairs.isEmpty {
      elementary = latex ? "$\\partial \(x)/\\partial \(x) = 1$" : "∂\(x)/∂\(x) = 1"
    }
    var lines: [(label: String, math: String)] = []
    if uses.isEmpty || (uses.count == 1 && uses[0].seed.constantValue == 1 && uses[0].expr.isScalar)
    {
      // F itself, or the one scalar that uses X with adjoint 1 (the objective l = ½ ‖r‖²).
      let left = uses.first?.name.map(renderer.name) ?? entry
      // Entry by entry when there is an index to show; else the function as it stands.
      let indexed = function.contains {
        !$0.summed.isEmpty || $0.factors.contains { !$0.indices.isEmpty }
      }
      lines.append(
        (
          indexed ? "entry by entry" : "the function",
          "\(left) = \(sums.pieces(function).joined(separator: termBreak))"
        ))
    } else {
      // The chain rule through each user: Σ_i δŷ_i ∂ŷ_i/∂H_kl.
      let pieces = uses.map { use -> String in
        guard let name = use.name else {
          let inner = renderer.render(use.expr)
          return partial(latex ? "\\left(\(inner)\\right)" : "(\(inner))", variableEntry)
        }
        let user = sub(renderer.name(name), use.indices)
        let summed = use.indices.compactMap { $0 }.joined()
        let sum = summed.isEmpty ? "" : latex ? "\\sum_{\(summed)} " : "Σ_\(summed) "
        var seed = ""
        if use.seed.constantValue != 1 {
          let inner = renderer.render(use.seed)
          let base: String
          if case .variable = use.seed.node {
            base = inner
          } else {
            base = latex ? "\\left(\(inner)\\right)" : "(\(inner))"
          }
          seed = sub(base, use.indices) + (latex ? " \\, " : " ")
        }
        return sum + seed + partial(user, variableEntry)
      }
      let names = uses.map { $0.name.map(renderer.name) ?? f }
      let through = names.map { latex ? "$\($0)$" : $0 }.joined(separator: ", ")
      lines.append(
        (
          "the chain rule through \(through)",
          "\(derivativeEntry) = \(pieces.joined(separator: termBreak + "+ "))"
        ))
      for (use, name) in zip(uses, names) {
        let left = use.name == nil ? renderer.render(use.expr) : sub(name, use.indices)
        lines.append(
          (
            "\(latex ? "$\(name)$" : name) entry by entry",
            "\(left) = \(sums.pieces(use.entry).joined(separator: termBreak))"
          ))
      }
    }
    for (rule, before, after) in rules {
      lines.append(
        (
          Self.differentialLabel(before, rule: rule),
          "\(renderer.render(before)) = \(renderer.render(after))"
        ))
    }
    // The product rule where a term holds the variable in two factors or more; otherwise
    // the one factor that holds it is differentiated (through its differential).
    var occurrence = Occurrence(of: variable)
    let productRule = function.contains { term in
      term.factors.filter { !$0.isDelta && occurrence.isIn($0.expr) }.count > 1
    }
    lines.append(
      (
        (productRule ? "each factor differentiated (product rule; " : "differentiated (")
          + "\(elementary))",
        "\(derivativeEntry) = \(sums.pieces(derivative).joined(separator: termBreak))"
      ))
    lines.append(
      (
        "the deltas contracted",
        "\(derivativeEntry) = \(sums.pieces(deltasContracted).joined(separator: termBreak))"
      ))
    if let contributions = terms {
      // (A x)_k + (Aᵀ x)_k: each sum recognised as an entry of a matrix expression.
      let indices = Array(free.prefix(2) + free.suffix(2))
      var text = contributions.isEmpty ? "0" : ""
      for (position, (coefficient, matrix)) in contributions.enumerated() {
        let magnitude = abs(coefficient) == 1 ? "" : MathRenderer.number(abs(coefficient)) + " "
        let inner = renderer.render(matrix)
        let entry: String
        if indices.allSatisfy({ $0 == nil }) {
          entry = renderer.operand(matrix)
        } else if case .variable = matrix.node {
          entry = sub(inner, indices)
        } else {
          entry = sub(latex ? "\\left(\(inner)\\right)" : "(\(inner))", indices)
        }
        let minus = latex ? "-" : "−"
        if position == 0 {
          text = (coefficient < 0 ? minus : "") + magnitude + entry
        } else {
          text += termBreak + (coefficient < 0 ? "\(minus) " : "+ ") + magnitude + entry
        }
      }
      var label =
        deltasContracted.contains { !$0.summed.isEmpty }
        ? "each sum recognised as a matrix product" : "in matrix form"
      if let rank = rankOneRemark(sums, latex: latex) { label += "; " + rank }
      lines.append((label, "\(derivativeEntry) = \(text)"))
    } else {
      lines.append(
        (
          "matrix products recognised",
          "\(derivativeEntry) = \(sums.pieces(contracted).joined(separator: termBreak))"
        ))
    }
    // The matrix form printed above, entry (i, k), when it says more than the last line:
    // the contributions added, or the one contribution simplified (exp(z) ⊘ (1 + exp(z))
    // is sigmoid(z)).
    let single = terms.flatMap { $0.count == 1 ? $0[0] : nil }
    if let matrix, (try? single.map { try Expr.scale($0.coefficient, $0.matrix) }) != matrix {
      let indices = (free.prefix(2) + free.suffix(2)).compactMap { $0 }.joined()
      let inner = renderer.render(matrix)
      let text =
        indices.isEmpty
        ? inner : latex ? "\\left(\(inner)\\right)_{\(indices)}" : "(\(inner))_\(indices)"
      let label =
        (terms?.count ?? 0) > 1
        ? "the contributions added" : terms == nil ? "in matrix form" : "simplified"
      lines.append((label, "\(derivativeEntry) = \(text)"))
    }
    if let adjoint, let matrix {
      let name = renderer.render(adjoint)
      lines.append(
        (
          "the adjoint of \(latex ? "$\(x)$" : x), named \(latex ? "$\(name)$" : name)",
          "\(name) = \(renderer.render(matrix))"
        ))
    }
    if let (upstream, terms, matrix) = collapse {
      // Σ_ij G_ij ∂F_ij/∂X_kl: the chain rule's use of the derivative.
      let g = renderer.render(upstream)
      let summed = free.prefix(2).compactMap { $0 }.joined()
      let sum = latex ? "\\sum_{\(summed)} " : "Σ_\(summed) "
      var math =
        "\(sum)\(sub(g, Array(free.prefix(2))))\(latex ? " \\, " : " ")\(derivativeEntry) = "
      math += sums.pieces(terms).joined(separator: termBreak)
      if let matrix {
        let indices = free.suffix(2).compactMap { $0 }.joined()
        let inner = renderer.render(matrix)
        let entry = latex ? "\\left(\(inner)\\right)_{\(indices)}" : "(\(inner))_\(indices)"
        if !math.hasSuffix(" = " + entry) { math += termBreak + "= " + entry }
      }
      let name = latex ? "$\(g) = \\partial L/\\partial \(f)$" : "\(g) = ∂L/∂\(f)"
      lines.append(
        ("contracted with an upstream gradient \(name), as the chain rule uses it", math))
    }
    if let (substituted, printed) = substituted {
      let matrixDerivative = partial(f, x)
      lines.append(
        ("the adjoints substituted", "\(matrixDerivative) = \(renderer.render(substituted))"))
      lines.append(("simplified", "\(matrixDerivative) = \(renderer.render(printed))"))
    }
    // A step that changes nothing is not shown (the contraction may already be the product);
    // spacing and break marks do not count (2 \, D_{kl} is 2 D_{kl}).
    func bare(_ math: String) -> String {
      math.replacingOccurrences(of: "\\,", with: "").filter {
        $0 != " " && String($0) != termBreak && String($0) != IndexTermRenderer.factorBreak
      }
    }
    return lines.enumerated().filter {
      $0.offset == 0 || bare($0.element.math) != bare(lines[$0.offset - 1].math)
    }.map(\.element)
  }

  /// Why a gradient by a matrix has low rank, when its one contribution shows it:
  /// δ_k x_l is an outer product (rank one); Σ_j δ_kj x_lj is a sum over j of outer products
  /// of columns, one rank-one term per j (per example, when j runs over a batch).
  private func rankOneRemark(_ sums: IndexTermRenderer, latex: Bool) -> String? {
    guard !isDefinition, free[0] == nil, free[1] == nil, let k = free[2], let l = free[3],
      deltasContracted.count == 1
    else { return nil }
    let term = deltasContracted[0]
    let factors = term.factors.filter { !$0.isDelta }
    guard factors.count == 2, term.summed.count <= 1,
      factors.allSatisfy({ $0.indices.count == term.summed.count + 1 }),
      Set(factors.flatMap(\.indices)) == Set([k, l] + term.summed)
    else { return nil }
    guard let index = term.summed.first else { return "an outer product, of rank one" }
    // The letter the contraction above showed it with.
    let plain = sums.letters[index] ?? index
    let letter = latex ? "$\(plain)$" : plain
    return "a sum over \(letter) of rank-one outer products, one for each \(letter)"
  }

  /// Numbered steps (text: `step 3: …` and the equation indented; LaTeX: a paragraph and a
  /// display equation each, a long sum broken between its terms so no step runs off the
  /// page), counting on from `first`.
  /// What a differential rule's step does, in words (the line itself states the identity):
  /// "the differential of log det" rather than the rule's file name `d-logdet`.
  static func differentialLabel(_ before: Expr, rule: String) -> String {
    guard case .differential(let inner) = before.node else { return "by the rule \(rule)" }
    switch inner.node {
    case .call(.inverse, _): return "the differential of the inverse"
    case .call(.logdet, _): return "the differential of log det"
    case .call(.det, _): return "the differential of the determinant (Jacobi's formula)"
    case .call(.norm2, _): return "the differential of the norm"
    case .call(.norm1, _): return "the differential of the 1-norm"
    case .call(let function, let argument):
      let entrywise = function.isElementwise && !argument.isScalar ? ", entry by entry" : ""
      return "the differential of \(function.spelling)\(entrywise)"
    case .power(let base, _):
      return "the differential of a power" + (base.isScalar ? "" : ", entry by entry")
    case .mapped(let f, 0, let argument):
      guard let meaning = f.meaning, case .variable(let t, _, _) = meaning.parameter.node else {
        return "by the rule \(rule)"
      }
      let text = MathRenderer(.text)
      return "the differential of \(f), its derivative derived from its meaning "
        + "\(f)(\(t)) = \(text.render(meaning.body))"
        + (argument.isScalar ? "" : ", entry by entry")
    default: return "by the rule \(rule)"
    }
  }

  static func formatted(
    _ lines: [(label: String, math: String)], _ style: MathRenderer.Style, from first: Int = 1
  ) -> [String] {
    if style == .latex {
      return lines.flatMap { text, math in
        let lines = latexLines(math)
        if lines.count > 1 {
          return [
            "\\paragraph{\(text)}",
            "\\begin{multline*}\n" + lines.joined(separator: " \\\\\n") + "\n\\end{multline*}",
          ]
        }
        return ["\\paragraph{\(text)}", "\\[\(lines.joined(separator: " "))\\]"]
      }
    }
    return lines.enumerated().flatMap { index, line in
      [
        "step \(first + index): \(line.label)",
        "  " + line.math.replacingOccurrences(of: termBreak, with: " "),
      ]
    }
  }

  /// An equation's LaTeX as lines that fit the page: broken between terms, and within a long
  /// term between factors, packed greedily up to about 64 printed characters per line.
  static func latexLines(_ math: String) -> [String] {
    guard printedWidth(math) > limit else {
      return [
        math.replacingOccurrences(of: termBreak, with: " ")
          .replacingOccurrences(of: IndexTermRenderer.factorBreak, with: "")
      ]
    }
    let factorBreak = IndexTermRenderer.factorBreak
    var pieces: [(text: String, startsTerm: Bool)] = []
    for term in math.components(separatedBy: termBreak) {
      for (index, factor) in term.components(separatedBy: factorBreak).enumerated() {
        pieces.append((factor, index == 0))
      }
    }
    var lines: [String] = []
    var current = ""
    for piece in pieces {
      let joined =
        current.isEmpty ? piece.text : current + (piece.startsTerm ? " " : "") + piece.text
      if !current.isEmpty && printedWidth(joined) > limit {
        lines.append(current)
        current = piece.text
      } else {
        current = joined
      }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
  }

  /// About how many characters of a line of text the display fills.
  private static let limit = 64

  /// An estimate of the printed width of LaTeX math, in characters: control words
  /// (`\left`, `\operatorname`), braces, spacing and script markers take no room; a
  /// subscript takes about half.
  static func printedWidth(_ latex: String) -> Int {
    let silent: Set<String> = ["left", "right", "operatorname", "mathrm", "text", "frac", "hat"]
    let characters = Array(latex)
    var width = 0.0
    var scripts: [Bool] = []  // for each open brace, whether it opened a sub- or superscript
    var pendingScript = false
    var position = 0
    func add() {
      width += pendingScript || scripts.contains(true) ? 0.5 : 1
      pendingScript = false
    }
    while position < characters.count {
      let c = characters[position]
      position += 1
      switch c {
      case "\\":
        // A control word prints as one symbol (\sum, \partial) or nothing (\left, \,).
        var word = ""
        while position < characters.count, characters[position].isLetter {
          word.append(characters[position])
          position += 1
        }
        if word.isEmpty {
          position += 1  // \, \; \\ and the like
        } else if !silent.contains(word) {
          add()
        }
      case "_", "^": pendingScript = true
      case "{":
        scripts.append(pendingScript)
        pendingScript = false
      case "}": _ = scripts.popLast()
      case " ": break
      default:
        if String(c) == termBreak || String(c) == IndexTermRenderer.factorBreak { break }
        add()
      }
    }
    return Int(width.rounded(.up))
  }

  /// The steps of a backward pass, a heading per adjoint and per gradient.
  static func formatted(
    backward steps: [IndexSteps], objectiveName: String, _ style: MathRenderer.Style
  ) -> [String] {
    let renderer = MathRenderer(style)
    let f = renderer.name(objectiveName)
    var lines: [String] = []
    var count = 0
    for step in steps {
      let x = renderer.name(step.variableName)
      let derivative = style == .latex ? "\\partial \(f)/\\partial \(x)" : "∂\(f)/∂\(x)"
      var heading: String
      if step.isDefinition {
        let name = step.adjoint.map { renderer.render($0) + " = " } ?? ""
        heading =
          style == .latex
          ? "The adjoint of $\(x)$, $\(name)\(derivative)$."
          : "the adjoint of \(x), \(name)\(derivative)"
      } else {
        heading = style == .latex ? "The gradient $\(derivative)$." : "the gradient \(derivative)"
      }
      let equations = step.equations(style)
      lines.append(style == .latex ? "\\paragraph{\(heading)}" : heading + ":")
      lines += formatted(equations, style, from: count + 1)
      count += equations.count
    }
    return lines
  }

  /// LaTeX steps as Markdown blocks: a paragraph's title in bold, each display equation
  /// (a broken one on one line) between `$$`.
  static func markdown(fromLatex latex: String) -> [String] {
    var blocks: [String] = []
    var broken: [String]?  // the lines of a multline* being read
    for line in latex.split(separator: "\n").map(String.init) {
      if line == "\\begin{multline*}" {
        broken = []
      } else if line == "\\end{multline*}" {
        blocks.append("$$" + (broken ?? []).joined(separator: " ") + "$$")
        broken = nil
      } else if broken != nil {
        broken?.append(line.hasSuffix(" \\\\") ? String(line.dropLast(3)) : line)
      } else if line.hasPrefix("\\paragraph{"), let close = closingBrace(line, from: 10) {
        let title = line[line.index(line.startIndex, offsetBy: 11)..<close]
        blocks.append("**\(title)**" + line[line.index(after: close)...])
      } else if line.hasPrefix("\\["), line.hasSuffix("\\]") {
        blocks.append("$$" + line.dropFirst(2).dropLast(2) + "$$")
      } else {
        blocks.append(line)
      }
    }
    return blocks
  }

  /// The brace that closes the one at `offset` (titles hold math: `$\hat{y}$`).
  private static func closingBrace(_ line: String, from offset: Int) -> String.Index? {
    var depth = 0
    var index = line.index(line.startIndex, offsetBy: offset)
    while index < line.endIndex {
      if line[index] == "{" { depth += 1 }
      if line[index] == "}" {
        depth -= 1
        if depth == 0 { return index }
      }
      index = line.index(after: index)
    }
    return nil
  }
}
