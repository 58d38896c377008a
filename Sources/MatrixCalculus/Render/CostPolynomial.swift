/// A cost as a polynomial in the dimension symbols (``CostModel`` computed over symbols rather
/// than sizes): Σ c_m · m over monomials m, e.g. 4 n²k + 41 n² + 32 n k. Emitted code compares
/// two such costs when it runs, with the shapes of its arrays.
struct CostPolynomial: CostArithmetic, Equatable {
  /// The coefficient of each monomial; a monomial is its symbols sorted, with repeats
  /// (`["k", "n", "n"]` is n²k; `[]` the constant term).
  private(set) var terms: [[String]: Double] = [:]

  init(_ value: Double) {
    if value != 0 { terms[[]] = value }
  }

  /// The polynomial `symbol`.
  init(symbol: String) { terms[[symbol]] = 1 }

  /// The polynomial of a dimension: its symbol, or a number for an integer size.
  init(_ dimension: Dim) {
    switch dimension {
    case .size(let n): self.init(Double(n))
    case .symbol(let name): self.init(symbol: name)
    }
  }

  static func + (lhs: Self, rhs: Self) -> Self {
    var sum = lhs
    for (monomial, c) in rhs.terms {
      let total = (sum.terms[monomial] ?? 0) + c
      sum.terms[monomial] = total == 0 ? nil : total
    }
    return sum
  }

  static func * (lhs: Self, rhs: Self) -> Self {
    var product = Self(0)
    for (a, c) in lhs.terms {
      for (b, d) in rhs.terms {
        let monomial = (a + b).sorted()
        let total = (product.terms[monomial] ?? 0) + c * d
        product.terms[monomial] = total == 0 ? nil : total
      }
    }
    return product
  }

  static func - (lhs: Self, rhs: Self) -> Self { lhs + Self(-1) * rhs }

  /// Its value with each symbol's size given by `size`.
  func value(_ size: (String) -> Double) -> Double {
    terms.reduce(0) { sum, term in term.key.reduce(term.value) { $0 * size($1) } + sum }
  }

  /// The monomials in a stable order: higher degree first, then by their symbols.
  var monomials: [[String]] {
    terms.keys.sorted {
      $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1)
    }
  }

  /// The polynomial divided by the largest monomial dividing every term (the dimensions are
  /// positive, so the sign is kept): n²k − 4nk² becomes n − 4k.
  var withoutCommonFactor: Self {
    let monomials = Array(terms.keys)
    guard var common = monomials.first else { return self }
    for monomial in monomials.dropFirst() {
      var rest = monomial
      common = common.filter { symbol in
        guard let index = rest.firstIndex(of: symbol) else { return false }
        rest.remove(at: index)
        return true
      }
    }
    var reduced = Self(0)
    for (monomial, c) in terms {
      var rest = monomial
      for symbol in common {
        if let index = rest.firstIndex(of: symbol) { rest.remove(at: index) }
      }
      reduced.terms[rest] = c
    }
    return reduced
  }

  /// `Σ c_m m` as Python arithmetic, each symbol written by `symbol` (`4*n*n*k + 41*n*n`);
  /// `0` for the zero polynomial. Coefficients are printed as integers where they are.
  func text(_ symbol: (String) -> String) -> String {
    let pieces = monomials.compactMap { monomial -> String? in
      guard let c = terms[monomial] else { return nil }
      // 3 · ⅔ n³ is 2 n³, not 1.9999999999999998 n³.
      let whole = abs(c - c.rounded()) <= 1e-9 * max(1, abs(c)) && abs(c) < 1e15
      let coefficient = whole ? String(Int64(c.rounded())) : String(c)
      let factors = monomial.map(symbol)
      return ((coefficient == "1" && !factors.isEmpty ? [] : [coefficient]) + factors)
        .joined(separator: "*")
    }
    return pieces.isEmpty ? "0" : pieces.joined(separator: " + ")
  }
}
