import Foundation
import TensorKernel

/// The certificate of emitted code: the program exactly as printed (`--format numpy`'s line,
/// `--format python|jax`'s function) is run by ``PythonInterpreter`` with NumPy's semantics at
/// sample points drawn as the certificate draws them, and each result must have the shape
/// S_F + S_X (shared/LANGUAGE.md) and the values of the checked formula. A disagreement is a
/// ``MatcalcError/internalError(_:)``: the code is never printed.
///
/// A backward function (`l = L(Y)` through an opaque L) takes its upstream gradient `grad_Y`
/// as a parameter: it is called with ∇L(Y) at the sample point, as the formula's evaluation
/// gives it (``TestFunctions/gradient(_:_:)``), so the gradients it returns are ⟨∇L(Y), ∂Y/∂V⟩
/// of the checked formula. Under JAX the `jax.custom_vjp` layer is checked too: it computes Y,
/// its `fwd` gives Y and residuals, and its `bwd` given ∇L(Y) gives the checked gradients (a
/// zero cotangent, `None`, for the inputs held constant).
struct EmittedCodeCheck {
  /// One result the code returns: its name in messages, its axes (dimension names or sizes)
  /// and its value from the checked formula.
  struct Expected {
    var label: String
    var axes: [String]
    var value: (inout Evaluator) throws -> Tensor
  }

  /// The problem whose inputs the code takes.
  var problem: Problem
  /// The objective, whose domain the points are drawn in.
  var objective: Expr
  /// The variables moved into the objective's domain (as the certificate moves them).
  var variables: [String]
  /// The checked formulas (for the domains their inverses and logarithms need).
  var formulas: [Expr]
  /// What the formulas refer to: the problem's definitions, then named intermediates.
  var definitions: [Problem.Definition]
  /// The upstream gradients a backward function takes after the inputs (`grad_Y`), as the
  /// emitter names them (``NumpyRenderer/upstreamGradients(in:)``); none for other code.
  var upstream: [NumpyRenderer.Upstream] = []

  /// The largest accepted difference, relative to the largest magnitude involved.
  static let tolerance = 1e-8

  /// Runs `text` (printed in `format`; for a function, `function` is called) at the
  /// certificate's sizes and compares what it returns (a tuple when `tuple`) with `expected`.
  ///
  /// - Throws: ``MatcalcError/internalError(_:)`` naming the format and the shape or the worst
  ///   entry when the code does not run or disagrees; limit errors as they come.
  func verify(
    _ text: String, format: OutputFormat, function: String? = nil, expected: [Expected],
    tuple: Bool, certificate: Certificate
  ) throws {
    var assignments: [[String: Int]] = []
    for sizes in certificate.checkedSizes + [certificate.sizes] where !assignments.contains(sizes) {
      assignments.append(sizes)
    }
    if certificate.checkedSizes.isEmpty {
      let shapes = problem.inputs.map(\.expr.shape)
      for sizes in [Sampler.sizes(for: shapes), Sampler.sizes(for: shapes, reversed: true)]
      where !assignments.contains(sizes) {
        assignments.append(sizes)
      }
    }
    let requirements = Sampler.requirements(
      of: [objective] + formulas, definitions: problem.definitions)
    var checked = 0
    var lastReason = "no sizes to check at"
    for sizes in assignments.prefix(2) {
      for attempt in 0..<4 {
        var generator = SplitMix64(
          seed: TestFunctions.stableHash("\(objective) emitted") &+ UInt64(attempt))
        let values: [String: Tensor]
        let results: [Tensor]
        let magnitude: Double
        var layers: [Tensor] = []
        var gradients: [Tensor] = []
        do {
          var drawn = try Sampler.draw(
            inputsOf: problem, requirements: requirements, sizes: sizes, generator: &generator)
          drawn = try Checker.movedIntoDomain(
            drawn, variables: variables, of: PlainSpelling.spell(objective), sizes: sizes
          ) { candidate in
            var magnitude = 0.0
            return try Checker.value(
              of: objective, in: problem, sizes: sizes, values: candidate, magnitude: &magnitude)
          }
          var evaluator = Evaluator(sizes: sizes, values: drawn)
          try evaluator.bind(definitions)
          var computed: [Tensor] = []
          for item in expected { computed.append(try item.value(&evaluator)) }
          // Y and ∇L(Y) at this point: what the layer computes, what grad_Y is bound to.
          for gradient in upstream {
            layers.append(try evaluator.evaluate(gradient.argument))
            gradients.append(
              try evaluator.evaluate(
                try Expr.make(.gradient(gradient.function, gradient.argument))))
          }
          guard
            (computed + layers + gradients).allSatisfy({ $0.storage.allSatisfy(\.isFinite) })
          else {
            lastReason = "the formula is not finite at the points drawn"
            continue
          }
          values = drawn
          results = computed
          magnitude = evaluator.largestMagnitude
        } catch MatcalcError.numeric(let reason) {
          // Outside the formula's domain here: another point.
          lastReason = reason
          continue
        }
        try compare(
          text, format: format, function: function, values: values, sizes: sizes,
          expected: expected, formulas: results, magnitude: magnitude, tuple: tuple,
          upstream: (layers, gradients))
        checked += 1
        break
      }
    }
    guard checked > 0 else {
      throw MatcalcError.internalError(
        "the emitted --format \(format.rawValue) code could not be checked: no point where the "
          + "formula evaluates (\(lastReason)); it is not printed")
    }
  }

  /// The inputs as the code receives them (shared/LANGUAGE.md): a scalar a float, a vector a
  /// 1-D array, a matrix a 2-D array; keyed by input name.
  func arguments(_ values: [String: Tensor]) throws -> [String: PythonValue] {
    var result: [String: PythonValue] = [:]
    for input in problem.inputs {
      guard let value = values[input.name] else { continue }
      result[input.name] = try Self.pythonValue(value, type: input.type)
    }
    return result
  }

  /// A value as code receives an input of `type`; `nil` for a function.
  static func pythonValue(_ value: Tensor, type: TypeSpec) throws -> PythonValue? {
    switch type {
    case .scalar:
      return .array(NDArray(scalar: value.scalar))
    case .vector, .simplex:
      return .array(try NDArray(shape: [value.count], storage: value.storage))
    case .matrix, .symmetric:
      return .array(NDArray(value))
    case .function, .elementwise:
      return nil
    }
  }

  private func compare(
    _ text: String, format: OutputFormat, function: String?, values: [String: Tensor],
    sizes: [String: Int], expected: [Expected], formulas: [Tensor], magnitude: Double,
    tuple: Bool, upstream: (layers: [Tensor], gradients: [Tensor])
  ) throws {
    let at = sizes.isEmpty ? "" : " (at sizes \(Checker.describe(sizes)))"
    let code = "the emitted --format \(format.rawValue) code"
    let inputs = try arguments(values)
    var interpreter = PythonInterpreter()
    defer { interpreter.close() }
    let value: PythonValue
    var byParameter: [String: PythonValue] = [:]
    var layers: [(name: String, layer: PythonCustomVJP)] = []
    let renderer = NumpyRenderer(
      problem: problem, style: format == .jax ? .jaxFunction : .numpyFunction)
    do {
      switch format {
      case .python, .jax:
        for input in problem.inputs {
          byParameter[renderer.inputReference(input.name)] = inputs[input.name]
        }
        // grad_Y is ∇L(Y) at this point, shaped as an input of Y's type.
        for (gradient, value) in zip(self.upstream, upstream.gradients) {
          byParameter[gradient.name] = try Self.pythonValue(value, type: gradient.type)
        }
        let module = try interpreter.load(module: text)
        guard let name = function ?? module.lastFunction,
          case .closure(let closure) = module.names[name]
        else {
          throw PythonInterpreter.error("the module defines no function \(function ?? "")")
        }
        value = try interpreter.invoke(
          closure, try PythonInterpreter.positional(closure, byParameter, name: name))
        for (name, defined) in module.names.sorted(by: { $0.key < $1.key }) {
          if case .customVJP(let layer) = defined { layers.append((name, layer)) }
        }
      default:
        value = try interpreter.evaluate(text, globals: inputs)
      }
    } catch let error as MatcalcError {
      if case .limit = error { throw error }
      throw MatcalcError.internalError(
        "\(code) does not run\(at): \(error.message); it is not printed")
    }
    let items: [PythonValue]
    if tuple {
      guard case .tuple(let parts) = value, parts.count == expected.count else {
        throw MatcalcError.internalError(
          "\(code) returns \(value.typeName), not a tuple of \(expected.count)\(at); it "
            + "is not printed")
      }
      items = parts
    } else {
      items = [value]
    }
    let comparison = Comparison(code: code, at: at, sizes: sizes, magnitude: magnitude)
    for (item, (expectation, formula)) in zip(items, zip(expected, formulas)) {
      try comparison.compare(item, label: expectation.label, axes: expectation.axes, formula)
    }
    for (name, layer) in layers {
      try checkLayer(
        layer, named: name, interpreter: &interpreter, arguments: byParameter,
        expected: expected, formulas: formulas, upstream: upstream, renderer: renderer,
        comparison: comparison)
    }
  }

  /// A `jax.custom_vjp` layer of a backward function: called, it computes Y (the upstream
  /// gradient's argument); `fwd` gives Y and its residuals; `bwd(residuals, ∇L(Y))` gives the
  /// checked gradient of each variable and `None` for each input held constant.
  private func checkLayer(
    _ layer: PythonCustomVJP, named name: String, interpreter: inout PythonInterpreter,
    arguments: [String: PythonValue], expected: [Expected], formulas: [Tensor],
    upstream: (layers: [Tensor], gradients: [Tensor]), renderer: NumpyRenderer,
    comparison: Comparison
  ) throws {
    let code = "\(comparison.code)'s jax.custom_vjp layer \(name)"
    var comparison = comparison
    comparison.code = code
    guard self.upstream.count == 1, let gradient = self.upstream.first,
      let layerValue = upstream.layers.first, let gradientValue = upstream.gradients.first,
      let cotangent = try Self.pythonValue(gradientValue, type: gradient.type)
    else {
      throw MatcalcError.internalError(
        "\(code) stands for one layer, but the backward takes \(self.upstream.count) upstream "
          + "gradients; it is not printed")
    }
    guard let forward = layer.forward, let backward = layer.backward else {
      throw MatcalcError.internalError("\(code) has no defvjp rule; it is not printed")
    }
    let layerAxes = NumpyRenderer.axisNames(of: (gradient.name, gradient.variable, gradient.type))
    let primalLabel = "its value \(MathRenderer(.text).render(gradient.argument))"
    let primal: PythonValue
    let forwarded: PythonValue
    let cotangents: PythonValue
    do {
      let inputs = try PythonInterpreter.positional(layer.primal, arguments, name: name)
      primal = try interpreter.callValue(.customVJP(layer), inputs)
      forwarded = try interpreter.invoke(forward, inputs)
      guard case .tuple(let pair) = forwarded, pair.count == 2 else {
        throw PythonInterpreter.error("fwd returns \(forwarded.typeName), not (value, residuals)")
      }
      cotangents = try interpreter.invoke(backward, [pair[1], cotangent])
      try comparison.compare(pair[0], label: primalLabel + " (fwd)", axes: layerAxes, layerValue)
    } catch let error as MatcalcError {
      if case .limit = error { throw error }
      if case .internalError = error { throw error }
      throw MatcalcError.internalError(
        "\(code) does not run\(comparison.at): \(error.message); it is not printed")
    }
    try comparison.compare(primal, label: primalLabel, axes: layerAxes, layerValue)
    guard case .tuple(let parts) = cotangents, parts.count == layer.primal.parameters.count else {
      throw MatcalcError.internalError(
        "\(code): its bwd returns \(cotangents.typeName), not one cotangent for each of its "
          + "\(layer.primal.parameters.count) inputs\(comparison.at); it is not printed")
    }
    for (parameter, part) in zip(layer.primal.parameters, parts) {
      let input = problem.inputs.first { renderer.inputReference($0.name) == parameter }
      let position = input.flatMap { input in variables.firstIndex(of: input.name) }
      guard let position, expected.count == variables.count, position < formulas.count else {
        guard case .none = part else {
          throw MatcalcError.internalError(
            "\(code): its bwd gives \(part.typeName) for \(parameter), which is held constant "
              + "(None)\(comparison.at); it is not printed")
        }
        continue
      }
      try comparison.compare(
        part, label: expected[position].label + " (bwd)", axes: expected[position].axes,
        formulas[position])
    }
  }

  /// Compares what code returned with a formula's value: the exact shape, then every entry.
  private struct Comparison {
    var code: String
    var at: String
    var sizes: [String: Int]
    /// The largest magnitude the formula's evaluation met (the scale of its rounding).
    var magnitude: Double

    func compare(_ item: PythonValue, label: String, axes: [String], _ formula: Tensor) throws {
      let got: NDArray
      switch item {
      case .array(let a): got = a
      case .integer(let n): got = NDArray(scalar: Double(n))
      default:
        throw MatcalcError.internalError(
          "\(code) returns \(item.typeName) for \(label)\(at); it is not printed")
      }
      let shape = try axes.map { axis -> Int in
        if let n = Int(axis) { return n }
        guard let n = sizes[axis] else {
          throw MatcalcError.internalError("no size for dimension \(axis) of the result")
        }
        return n
      }
      guard got.shape == shape else {
        throw MatcalcError.internalError(
          "\(code) gives shape \(EmittedCodeCheck.shapeText(got.shape)) for \(label), whose "
            + "shape is \(EmittedCodeCheck.shapeText(shape)) = (\(axes.joined(separator: ", ")))"
            + "\(at); it is not printed")
      }
      guard got.count == formula.count else {
        throw MatcalcError.internalError(
          "\(code) gives \(got.count) entries for \(label), the formula "
            + "\(formula.count)\(at); it is not printed")
      }
      var worst = 0.0
      var worstIndex = 0
      // Rounding in either scales with the largest value the formula's evaluation met.
      var scale = magnitude
      for (k, (a, b)) in zip(got.storage, formula.storage).enumerated() {
        scale = max(scale, Swift.abs(a), Swift.abs(b))
        let gap = Swift.abs(a - b)
        if !(gap <= worst) {
          worst = gap.isNaN ? .infinity : gap
          worstIndex = k
        }
      }
      guard worst <= EmittedCodeCheck.tolerance * max(scale, 1e-300) || worst == 0 else {
        var index: [Int] = []
        var rest = worstIndex
        for d in shape.reversed() {
          index.insert(d > 0 ? rest % d : 0, at: 0)
          rest = d > 0 ? rest / d : 0
        }
        throw MatcalcError.internalError(
          "\(code) differs from the checked formula for \(label) at entry "
            + "\(EmittedCodeCheck.shapeText(index)): code \(got.storage[worstIndex]), formula "
            + "\(formula.storage[worstIndex])\(at); it is not printed")
      }
    }
  }

  /// `(3, 2)`, `(3,)`, `()`.
  static func shapeText(_ shape: [Int]) -> String {
    shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
  }
}
