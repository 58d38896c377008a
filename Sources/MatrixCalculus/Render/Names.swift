import Synchronization

/// How names print: Greek names as letters, `yhat` as ŷ, trailing digits as subscripts.
enum Names {
  static let greek: [String: (text: String, latex: String)] = {
    let lower = [
      ("alpha", "α"), ("beta", "β"), ("gamma", "γ"), ("delta", "δ"), ("epsilon", "ε"),
      ("zeta", "ζ"), ("eta", "η"), ("theta", "θ"), ("iota", "ι"), ("kappa", "κ"),
      ("lambda", "λ"), ("mu", "μ"), ("nu", "ν"), ("xi", "ξ"), ("pi", "π"), ("rho", "ρ"),
      ("sigma", "σ"), ("tau", "τ"), ("upsilon", "υ"), ("phi", "φ"), ("chi", "χ"), ("psi", "ψ"),
      ("omega", "ω"),
    ]
    let upper = [
      ("Gamma", "Γ"), ("Delta", "Δ"), ("Theta", "Θ"), ("Lambda", "Λ"), ("Xi", "Ξ"), ("Pi", "Π"),
      ("Sigma", "Σ"), ("Phi", "Φ"), ("Psi", "Ψ"), ("Omega", "Ω"),
    ]
    var table: [String: (String, String)] = [:]
    for (name, letter) in lower + upper { table[name] = (letter, "\\" + name) }
    return table
  }()

  private static let subscriptDigits: [Character: Character] = [
    "0": "₀", "1": "₁", "2": "₂", "3": "₃", "4": "₄", "5": "₅", "6": "₆", "7": "₇", "8": "₈",
    "9": "₉",
  ]

  /// Splits `W_12` or `W12` into ("W", "12"); `yhat` into ("y", hat).
  static func parts(_ name: String) -> (stem: String, hat: Bool, index: String) {
    var stem = name
    var index = ""
    if let underscore = stem.lastIndex(of: "_"), underscore != stem.startIndex {
      let tail = stem[stem.index(after: underscore)...]
      if !tail.isEmpty && tail.allSatisfy({ $0.isNumber || $0.isLetter }) {
        index = String(tail)
        stem = String(stem[..<underscore])
      }
    }
    if index.isEmpty {
      let digits = stem.reversed().prefix { $0.isNumber }
      if !digits.isEmpty && digits.count < stem.count {
        index = String(digits.reversed())
        stem = String(stem.dropLast(digits.count))
      }
    }
    var hat = false
    if stem.hasSuffix("hat") && stem.count > 3 {
      hat = true
      stem = String(stem.dropLast(3))
    }
    return (stem, hat, index)
  }

  /// Formatted names, by style and name: a name is formatted once, however often it occurs.
  private static let cache = Mutex<[String: String]>([:])

  private static func cached(_ key: String, _ make: () -> String) -> String {
    if let known = cache.withLock({ $0[key] }) { return known }
    let made = make()
    cache.withLock { $0[key] = made }
    return made
  }

  static func text(_ name: String) -> String {
    // One ASCII character (x, A, W) prints as itself, with no lock or lookup.
    if name.utf8.count == 1 { return name }
    return cached("t" + name) { formatText(name) }
  }

  static func latex(_ name: String) -> String {
    if name.utf8.count == 1 { return name }
    return cached("l" + name) { formatLatex(name) }
  }

  private static func formatText(_ name: String) -> String {
    if name.hasPrefix("δ") { return "δ" + text(String(name.dropFirst())) }
    let (stem, hat, index) = parts(name)
    var result = greek[stem]?.text ?? stem
    if hat { result += "\u{0302}" }
    if index.allSatisfy({ subscriptDigits[$0] != nil }) {
      result += String(index.compactMap { subscriptDigits[$0] })
    } else {
      result += "_" + index
    }
    return result
  }

  private static func formatLatex(_ name: String) -> String {
    // δH, the adjoint of H, not δ_H: a subscript would read as a Kronecker delta's index.
    if name.hasPrefix("δ") { return "\\delta " + latex(String(name.dropFirst())) }
    let (stem, hat, index) = parts(name)
    var result = greek[stem]?.latex ?? (stem.count > 1 ? "\\mathrm{\(stem)}" : stem)
    if hat { result = "\\hat{\(result)}" }
    if !index.isEmpty { result += "_{\(index)}" }
    return result
  }
}
