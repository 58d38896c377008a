import Synchronization

/// One node of a matrix expression. Children are ``Expr`` handles, so structurally equal
/// expressions are one object (hash-consed) and compare in O(1).
public enum Node: Hashable, Sendable {
  /// A declared input or a defined name, `X_ij`; a symmetric one has `Xᵀ = X`.
  case variable(String, Shape, symmetric: Bool)
  /// A 1×1 constant.
  case constant(Double)
  /// The identity, `I_ij = δ_ij`.
  case identity(Dim)
  /// All ones, `𝟏_ij = 1`.
  case ones(Shape)
  /// All zeros.
  case zero(Shape)
  /// `(A + B + …)_ij = A_ij + B_ij + …`; a 1×1 term is added to every entry.
  case add([Expr])
  /// Scaling `(s A)_ij = s A_ij`, the 1×1 operand first, or the product of two 1×1 operands
  /// (commutative, in canonical order).
  case product(Expr, Expr)
  /// The matrix product of k ≥ 2 factors, none 1×1, left to right:
  /// `(F₁ F₂ ⋯ Fₖ)_ij = Σ_{k₁…} (F₁)_ik₁ (F₂)_k₁k₂ ⋯ (Fₖ)_kⱼ`. The constructors keep it flat
  /// (no factor is itself a chain) and choose no association; emitted code chooses one.
  case chain([Expr])
  /// `(A ⊙ B)_ij = A_ij B_ij`.
  case hadamard(Expr, Expr)
  /// Element-wise power `(A^⊙p)_ij = A_ij^p`, p 1×1.
  case power(Expr, Expr)
  /// `(Aᵀ)_ij = A_ji`.
  case transpose(Expr)
  /// A built-in function of one argument.
  case call(Function, Expr)
  /// An opaque scalar function `L(D)` declared `L : function`.
  case opaque(String, Expr)
  /// Its gradient `(∇L)(D)`, shaped like D: the upstream gradient.
  case gradient(String, Expr)
  /// An element-wise function `f` (order 0) or its derivatives `f′`, `f″` at Z: opaque, or
  /// defined by its meaning (``ElementwiseOperation``), whose derivatives are never nodes of
  /// their own but its meaning differentiated by the engine and applied to Z.
  case mapped(ElementwiseOperation, Int, Expr)
  /// `d(X)`, the direction X moves in; appears in differential rules only.
  case differential(Expr)
}

extension Node {
  /// The pool looks every node up before making it: every node hashes its kind, its
  /// children's addresses and its own payload (a name's bytes, a dimension, a constant's bits)
  /// with a cheap mix rather than the standard hasher, which costs several hundred
  /// instructions for a leaf and leaves are made at every constant and declared input.
  ///
  /// Public only because it implements `Hashable`'s underscored requirement and ``Node`` is
  /// public: the compiler rejects a less visible witness. Not API; use `hash(into:)`.
  public func _rawHashValue(seed: Int) -> Int {
    var bits = UInt64(UInt(bitPattern: seed))
    func mix(_ value: UInt64) {
      bits = (bits ^ value) &* 0x9e37_79b9_7f4a_7c15
      bits ^= bits >> 29
    }
    func mix(_ e: Expr) { mix(UInt64(UInt(bitPattern: ObjectIdentifier(e)))) }
    func mix(_ name: String) { mix(NameHash.hash(name, seed: 0)) }
    func mix(_ d: Dim) {
      switch d {
      case .size(let n): mix(UInt64(UInt(bitPattern: n)))
      case .symbol(let name): mix(name)
      }
    }
    func mix(_ shape: Shape) {
      mix(shape.rows)
      mix(shape.cols)
    }
    switch self {
    case .constant(let value):
      mix(8)
      mix(value == 0 ? 0 : value.bitPattern)  // −0 equals 0
    case .variable(let name, let shape, let symmetric):
      mix(9)
      mix(name)
      mix(shape)
      mix(symmetric ? 1 : 0)
    case .identity(let d):
      mix(10)
      mix(d)
    case .ones(let shape):
      mix(11)
      mix(shape)
    case .zero(let shape):
      mix(12)
      mix(shape)
    case .opaque(let name, let a):
      mix(13)
      mix(name)
      mix(a)
    case .gradient(let name, let a):
      mix(14)
      mix(name)
      mix(a)
    case .mapped(let operation, let order, let a):
      mix(15)
      mix(operation.name)
      mix(UInt64(UInt(bitPattern: order)))
      mix(a)
    case .add(let terms):
      mix(1)
      for term in terms { mix(term) }
    case .chain(let factors):
      mix(16)
      for factor in factors { mix(factor) }
    case .product(let a, let b):
      mix(2)
      mix(a)
      mix(b)
    case .hadamard(let a, let b):
      mix(3)
      mix(a)
      mix(b)
    case .power(let a, let b):
      mix(4)
      mix(a)
      mix(b)
    case .transpose(let a):
      mix(5)
      mix(a)
    case .call(let function, let a):
      mix(6 &+ 16 &* UInt64(function.tag))
      mix(a)
    case .differential(let a):
      mix(7)
      mix(a)
    }
    bits = (bits ^ (bits >> 31)) &* 0x81da_def4_bc2d_d44d
    return Int(truncatingIfNeeded: bits ^ (bits >> 33))
  }
}

/// A hash-consed matrix expression with a known shape.
public final class Expr: Hashable, Sendable, CustomStringConvertible {
  /// The node; its children are interned too.
  public let node: Node
  /// The shape, computed when the node is made.
  public let shape: Shape
  /// Height of the tree (a leaf has height 1).
  let height: Int
  /// Whether a `d(X)` occurs in it (only a differential rule's right side has one).
  let holdsDifferential: Bool
  /// Whether a sum that is not 1×1 occurs in it: passes that only rewrite such sums
  /// (``Presentation/transposesFolded(_:)``) skip the subtrees without one.
  let holdsMatrixSum: Bool
  /// Whether an inverse or a log-determinant occurs in it (where a formula may be undefined
  /// though f is not: ``Derivation/invertedOnlyByTheDerivative``).
  let holdsInverse: Bool
  /// The number of nodes as printed, a shared subtree counted each time and a chain of k
  /// factors as k − 1 products (capped at a million): what choosing between printed forms
  /// compares, known without a walk.
  let treeSize: Int

  fileprivate init(node: Node, shape: Shape) {
    self.node = node
    self.shape = shape
    var height = 0
    var differential = false
    var matrixSum = false
    var inverse = false
    var size = 1
    switch node {
    case .variable, .constant, .identity, .ones, .zero: break
    case .add(let terms), .chain(let terms):
      if case .add = node { matrixSum = !shape.isScalar }
      // A chain of k factors counts as the k − 1 products it prints as.
      if case .chain = node { size = terms.count - 1 }
      for term in terms {
        height = max(height, term.height)
        differential = differential || term.holdsDifferential
        matrixSum = matrixSum || term.holdsMatrixSum
        inverse = inverse || term.holdsInverse
        size += term.treeSize
      }
    case .product(let a, let b), .hadamard(let a, let b), .power(let a, let b):
      height = max(a.height, b.height)
      differential = a.holdsDifferential || b.holdsDifferential
      matrixSum = a.holdsMatrixSum || b.holdsMatrixSum
      inverse = a.holdsInverse || b.holdsInverse
      size += a.treeSize + b.treeSize
    case .differential(let a):
      height = a.height
      differential = true
      matrixSum = a.holdsMatrixSum
      inverse = a.holdsInverse
      size += a.treeSize
    case .transpose(let a), .call(_, let a), .opaque(_, let a), .gradient(_, let a),
      .mapped(_, _, let a):
      height = a.height
      differential = a.holdsDifferential
      matrixSum = a.holdsMatrixSum
      inverse = a.holdsInverse
      if case .call(let function, _) = node, function == .inverse || function == .logdet {
        inverse = true
      }
      size += a.treeSize
    }
    self.height = 1 + height
    self.holdsDifferential = differential
    self.holdsMatrixSum = matrixSum
    self.holdsInverse = inverse
    self.treeSize = min(Self.treeSizeCap, size)
  }

  /// ``treeSize`` stops counting here (a deep network's gradient repeats its layers).
  static let treeSizeCap = 1_000_000

  /// Identity: interning makes structural equality and identity the same.
  public static func == (lhs: Expr, rhs: Expr) -> Bool { lhs === rhs }

  /// Hashes the identity.
  public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }

  /// The hash tables keyed by expressions (memo tables, adjoints, the pool's nodes) call this
  /// rather than `hash(into:)`; the default seeds, feeds and finalizes a SipHash, about a fifth
  /// of a derivation. An address is already unique, so one multiply-xorshift mix suffices.
  ///
  /// Public only because it implements `Hashable`'s underscored requirement and ``Expr`` is
  /// public: the compiler rejects a less visible witness. Not API; use `hash(into:)`.
  public func _rawHashValue(seed: Int) -> Int {
    var bits = UInt64(UInt(bitPattern: ObjectIdentifier(self))) ^ UInt64(UInt(bitPattern: seed))
    bits = (bits ^ (bits >> 31)) &* 0x7fb5_d329_728e_a185
    bits = (bits ^ (bits >> 27)) &* 0x81da_def4_bc2d_d44d
    return Int(truncatingIfNeeded: bits ^ (bits >> 33))
  }

  /// The children, in order.
  public var children: [Expr] {
    switch node {
    case .variable, .constant, .identity, .ones, .zero: return []
    case .add(let terms), .chain(let terms): return terms
    case .product(let a, let b), .hadamard(let a, let b), .power(let a, let b): return [a, b]
    case .transpose(let a), .call(_, let a), .opaque(_, let a), .gradient(_, let a),
      .mapped(_, _, let a), .differential(let a):
      return [a]
    }
  }

  /// Calls `body` on each child in order, without making the array `children` makes.
  func forEachChild(_ body: (Expr) throws -> Void) rethrows {
    _ = try anyChild {
      try body($0)
      return false
    }
  }

  /// Whether `predicate` holds for some child (tried in order, stopping at the first).
  func anyChild(_ predicate: (Expr) throws -> Bool) rethrows -> Bool {
    switch node {
    case .variable, .constant, .identity, .ones, .zero: return false
    case .add(let terms), .chain(let terms): return try terms.contains(where: predicate)
    case .product(let a, let b), .hadamard(let a, let b), .power(let a, let b):
      return try predicate(a) || predicate(b)
    case .transpose(let a), .call(_, let a), .opaque(_, let a), .gradient(_, let a),
      .mapped(_, _, let a), .differential(let a):
      return try predicate(a)
    }
  }

  /// Whether this is 1×1.
  public var isScalar: Bool { shape.isScalar }

  /// The constant value, if this is a constant.
  public var constantValue: Double? {
    if case .constant(let value) = node { return value }
    return nil
  }

  /// Whether this is an identity matrix (or the constant 1).
  public var isIdentity: Bool {
    if case .identity = node { return true }
    return constantValue == 1
  }

  /// Whether this is the zero of its shape (or the constant 0).
  public var isZero: Bool {
    switch node {
    case .zero: return true
    case .constant(let value): return value == 0
    default: return false
    }
  }

  /// A plain, re-parsable spelling of the expression (for debugging and errors).
  public var description: String { PlainSpelling.spell(self) }
}

/// The one pool of interned expressions. It holds them strongly, in the order made, and
/// sweeps out the ones nobody else holds whenever it has doubled since the last sweep, so a
/// long-running process (a server, a fuzzer, a property test) does not grow without bound.
///
/// Not weak references: an object that is weakly referenced gets a side table, and every
/// retain and release of it then takes the slow path (a third of a small derivation's time
/// went there). Children are held strongly by their parents and made before them, so one
/// sweep from the newest to the oldest frees whole unused trees.
enum ExprPool {
  /// One cell of the lookup table: a node's hash and its expression, not retained (`slots`
  /// holds the reference, so a sweep can see which expressions nobody else holds).
  private struct Cell {
    var hash = 0
    var expr: Unmanaged<Expr>?
  }

  private struct State: @unchecked Sendable {
    /// Open addressing with linear probing, at most half full. Sixteen bytes a cell, rather
    /// than a dictionary keyed by whole nodes: a deep network's pool stays in cache longer.
    var table = [Cell](repeating: Cell(), count: 1 << 12)
    /// Every interned expression, oldest first.
    var slots: [Expr?] = []
    /// Sweep when `slots` reaches this many.
    var sweepAt = 1 << 14

    /// The expression for `node`, or the empty cell where it belongs.
    func find(_ node: Node, hash: Int) -> (found: Expr?, cell: Int) {
      let mask = table.count - 1
      var cell = hash & mask
      while let candidate = table[cell].expr {
        if table[cell].hash == hash {
          let expr = candidate.takeUnretainedValue()
          if expr.node == node { return (expr, cell) }
        }
        cell = (cell + 1) & mask
      }
      return (nil, cell)
    }

    /// Records `expr` in the table (it is not there yet).
    mutating func insert(_ expr: Expr, hash: Int) {
      let mask = table.count - 1
      var cell = hash & mask
      while table[cell].expr != nil { cell = (cell + 1) & mask }
      table[cell] = Cell(hash: hash, expr: Unmanaged.passUnretained(expr))
    }

    /// Rebuilds the table for the live slots, twice to four times their number.
    mutating func rebuild() {
      var size = 1 << 12
      while size < 2 * slots.count { size <<= 1 }
      table = [Cell](repeating: Cell(), count: size)
      for case let expr? in slots { insert(expr, hash: expr.node.hashValue) }
    }
  }

  private static let state = Mutex<State>(State())

  /// Returns the unique expression for `node`, or throws when its operands' shapes do not fit.
  static func intern(_ node: Node) throws -> Expr {
    let hash = node.hashValue
    return try state.withLock { state in
      var (found, cell) = state.find(node, hash: hash)
      if let found { return found }
      let shape = try shapeOf(node)
      if state.slots.count >= state.sweepAt {
        sweep(&state)
        state.sweepAt = max(1 << 14, 2 * state.slots.count)
        cell = state.find(node, hash: hash).cell
      }
      let made = Expr(node: node, shape: shape)
      state.slots.append(made)
      if 2 * state.slots.count > state.table.count {
        state.rebuild()
      } else {
        state.table[cell] = Cell(hash: hash, expr: Unmanaged.passUnretained(made))
      }
      return made
    }
  }

  /// Frees every expression only the pool holds (newest first, so a parent's release makes
  /// its children free in the same pass), then compacts the slots and rebuilds the table.
  private static func sweep(_ state: inout State) {
    var removed = false
    for slot in state.slots.indices.reversed() where isKnownUniquelyReferenced(&state.slots[slot]) {
      guard state.slots[slot] != nil else { continue }
      state.slots[slot] = nil
      removed = true
    }
    guard removed else { return }
    state.slots.removeAll { $0 == nil }
    state.rebuild()
  }

  /// Number of live interned expressions that mention a variable named `name`, after a
  /// sweep (for tests: what other work interns meanwhile does not count).
  static func count(mentioning name: String) -> Int {
    let live: [Expr] = state.withLock { state in
      sweep(&state)
      return state.slots.compactMap { $0 }
    }
    var memo: [Expr: Bool] = [:]
    func mentions(_ e: Expr) -> Bool {
      if let known = memo[e] { return known }
      var answer = false
      if case .variable(let variable, _, _) = e.node, variable == name { answer = true }
      if !answer { answer = e.anyChild(mentions) }
      memo[e] = answer
      return answer
    }
    return live.filter(mentions).count
  }

  /// Number of live interned expressions, after a sweep (for tests).
  static var count: Int {
    state.withLock { state in
      sweep(&state)
      return state.slots.count
    }
  }

  private static func mismatch(_ text: String) -> MatcalcError {
    .internalError("shape mismatch: \(text)")
  }

  private static func shapeOf(_ node: Node) throws -> Shape {
    switch node {
    case .variable(_, let shape, _), .ones(let shape), .zero(let shape): return shape
    case .constant: return .scalar
    case .identity(let d): return Shape(d, d)
    case .add(let terms):
      let shapes = Set(terms.map(\.shape).filter { !$0.isScalar })
      guard shapes.count <= 1 else { throw mismatch("sum of \(shapes)") }
      return shapes.first ?? .scalar
    case .product(let a, let b):
      if a.isScalar { return b.shape }
      if b.isScalar { return a.shape }
      throw mismatch("\(a.shape) * \(b.shape) is a chain, not a scaling")
    case .chain(let factors):
      guard let first = factors.first, let last = factors.last, factors.count >= 2 else {
        throw mismatch("a chain of \(factors.count) factors")
      }
      for (left, right) in zip(factors, factors.dropFirst()) {
        guard !left.isScalar, !right.isScalar, left.shape.cols == right.shape.rows else {
          throw mismatch("\(left.shape) * \(right.shape)")
        }
      }
      return Shape(first.shape.rows, last.shape.cols)
    case .hadamard(let a, let b):
      if a.isScalar { return b.shape }
      if b.isScalar { return a.shape }
      guard a.shape == b.shape else { throw mismatch("\(a.shape) .* \(b.shape)") }
      return a.shape
    case .power(let a, let p):
      guard p.isScalar else { throw mismatch("power with exponent \(p.shape)") }
      return a.shape
    case .transpose(let a): return a.shape.transposed
    case .call(let function, let a):
      switch function {
      case .trace, .det, .logdet:
        guard a.shape.isSquare else { throw mismatch("\(function) of \(a.shape)") }
        return .scalar
      case .inverse:
        guard a.shape.isSquare else { throw mismatch("inv of \(a.shape)") }
        return a.shape
      case .diag:
        guard a.shape.cols == .one else { throw mismatch("diag of \(a.shape)") }
        return Shape(a.shape.rows, a.shape.rows)
      case .diagonal:
        guard a.shape.isSquare else { throw mismatch("diag of \(a.shape)") }
        return Shape(a.shape.rows, .one)
      case .sum, .norm1, .norm2, .logsumexp: return .scalar
      case .softmax:
        guard a.shape.cols == .one else { throw mismatch("softmax of \(a.shape)") }
        return a.shape
      case .exp, .log, .sin, .cos, .tanh, .sigmoid, .relu, .sqrt, .abs, .step, .sign:
        return a.shape
      }
    case .opaque: return .scalar
    case .gradient(_, let a), .mapped(_, _, let a), .differential(let a): return a.shape
    }
  }
}
