/// Whether an expression contains a subexpression with a property (a given seed U, a d(X)),
/// memoized over the shared subexpressions.
struct Occurrence {
  private let matches: (Expr) -> Bool
  private var memo: [Expr: Bool] = [:]

  /// Looks for `target` itself.
  init(of target: Expr) { matches = { $0 == target } }

  /// Looks for any subexpression satisfying `predicate`.
  init(where predicate: @escaping (Expr) -> Bool) { matches = predicate }

  mutating func isIn(_ e: Expr) -> Bool {
    if matches(e) { return true }
    if let known = memo[e] { return known }
    var answer = false
    for child in e.children where isIn(child) {
      answer = true
      break
    }
    memo[e] = answer
    return answer
  }
}
