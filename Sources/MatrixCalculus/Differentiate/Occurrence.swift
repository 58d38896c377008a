/// Whether an expression contains a given one (a seed U, a variable), memoized over the
/// shared subexpressions.
struct Occurrence {
  let target: Expr
  private var memo: [Expr: Bool] = [:]

  init(of target: Expr) { self.target = target }

  mutating func isIn(_ e: Expr) -> Bool {
    if e == target { return true }
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
