/// Index notation for sums of index terms (`Σ_st A_is X_st B_tj`), with the engine's fresh
/// summed indices (k1, k2, …) given letters of their own, the same in every step shown.
struct IndexTermRenderer {
  let renderer: MathRenderer
  /// Letters given so far, by index name.
  private(set) var letters: [String: String] = [:]
  private static let spare = ["s", "t", "u", "v", "w", "r", "a", "b", "c", "d", "e", "g", "h"]

  /// Letters that name something in the sums (a vector `s`), never given to an index.
  private let reserved: Set<String>

  /// Letters to give first (the user's own summed indices, `k` in `sum(k, W[i,k]*X[k,j])`).
  private let preferred: [String]

  /// Marks, in LaTeX, where a long product may break (between two factors).
  static let factorBreak = "\u{2}"

  /// A renderer whose summed indices avoid the one-letter names of `terms`' variables and
  /// indices and the letters `taken` (the problem's names), taking `preferred` letters first.
  init(
    _ renderer: MathRenderer, avoiding terms: [IndexTerm] = [], names taken: Set<String> = [],
    preferring: [String] = []
  ) {
    self.renderer = renderer
    var names = taken
    var seen = Set<Expr>()
    func walk(_ e: Expr) {
      guard seen.insert(e).inserted else { return }
      if case .variable(let name, _, _) = e.node, name.count == 1 { names.insert(name) }
      e.children.forEach(walk)
    }
    for term in terms {
      for index in term.summed where index.count == 1 { names.insert(index) }
      for factor in term.factors {
        for index in factor.indices where index.count == 1 { names.insert(index) }
        if !factor.isDelta { walk(factor.expr) }
      }
    }
    reserved = names
    preferred = preferring
  }

  private mutating func letter(_ index: String) -> String {
    if index.count == 1 { return index }
    if let known = letters[index] { return known }
    let used = Set(letters.values).union(reserved)
    let next =
      preferred.first { !used.contains($0) } ?? Self.spare.first { !used.contains($0) } ?? index
    letters[index] = next
    return next
  }

  private mutating func subscripted(_ base: String, _ indices: [String]) -> String {
    renderer.subscripted(base, indices.map { letter($0) }.joined())
  }

  /// The sum, `0` when it has no terms.
  mutating func render(_ terms: [IndexTerm]) -> String {
    pieces(terms).joined(separator: " ")
  }

  /// The sum's terms, each with its sign (`−2 Σ_s …`, `+ A_ik B_lj`), so a long sum can be
  /// broken between terms; `["0"]` for no terms.
  mutating func pieces(_ terms: [IndexTerm]) -> [String] {
    let latex = renderer.style == .latex
    var result: [String] = []
    for (position, term) in terms.enumerated() {
      var pieces: [String] = []
      let magnitude = abs(term.coefficient)
      if magnitude != 1 {
        pieces.append(renderer.fraction(magnitude) ?? MathRenderer.number(magnitude))
      }
      let summed = term.summed.map { letter($0) }.joined()
      if !summed.isEmpty { pieces.append(latex ? "\\sum_{\(summed)}" : "Σ_\(summed)") }
      for factor in term.factors {
        // An entry of 𝟏 is 1: Σ_j D_ij, not Σ_j D_ij (𝟏)_j.
        if case .ones = factor.expr.node, !factor.isDelta { continue }
        if factor.isDelta {
          pieces.append(subscripted(latex ? "\\delta" : "δ", factor.indices))
          continue
        }
        let base: String
        if case .variable = factor.expr.node {
          base = renderer.render(factor.expr)
        } else if factor.indices.isEmpty {
          base = renderer.operand(factor.expr)
        } else {
          let inner = renderer.render(factor.expr)
          base = latex ? "\\left(\(inner)\\right)" : "(\(inner))"
        }
        pieces.append(subscripted(base, factor.indices))
      }
      // A long product breaks between factors, never after its coefficient or Σ.
      let lead = (magnitude != 1 ? 1 : 0) + (summed.isEmpty ? 0 : 1)
      let groups =
        pieces.count > lead
        ? [pieces.prefix(lead + 1).joined(separator: latex ? " \\, " : " ")]
          + pieces.dropFirst(lead + 1) : pieces
      let product =
        groups.isEmpty ? "1" : groups.joined(separator: latex ? " \\, " + Self.factorBreak : " ")
      let negative = term.coefficient < 0
      let minus = latex ? "-" : "−"
      if position == 0 {
        result.append((negative ? minus : "") + product)
      } else {
        result.append((negative ? "\(minus) " : "+ ") + product)
      }
    }
    return result.isEmpty ? ["0"] : result
  }
}
