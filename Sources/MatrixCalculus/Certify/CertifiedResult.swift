/// What ``Derivation`` and ``Backpropagation`` share as results that render themselves: which
/// certificate a rendering in a layout prints, and the check of emitted code as printed.
protocol CertifiedResult {
  /// The certificate ``certified(points:layout:)`` stored, or nil for an unchecked result.
  var certificate: Certificate? { get }
  /// The layout ``certificate`` checked.
  var certifiedLayout: Layout { get }
  /// The result with its certificate in `layout`, or a thrown ``MatcalcError/checkFailed(_:)``.
  func certified(points: Int, layout: Layout) throws -> Self
  /// The rendering in `format`, before its code is checked.
  func rendered(
    _ format: OutputFormat, certificate: Certificate?, layout: Layout, standalone: Bool,
    steps: Bool, sizes: [String: Int]
  ) throws -> String
  /// Runs emitted code (`--format numpy|python|jax`) as printed against the certified result.
  func checkEmitted(_ text: String, format: OutputFormat, layout: Layout, certificate: Certificate)
    throws
}

extension CertifiedResult {
  /// ``certificate`` when it checked `layout`.
  ///
  /// A certified result rendered in another layout is checked in that layout then (its
  /// printed form differs), and refused if it does not pass; an unchecked one stays unchecked.
  func certificate(for layout: Layout) throws -> Certificate? {
    guard certificate != nil, layout != certifiedLayout else { return certificate }
    return try certified(points: 2, layout: layout).certificate
  }

  /// The rendering with the given certificate, or the result's own for `layout`; emitted code
  /// is checked as printed whenever there is a certificate.
  func checkedRendering(
    _ format: OutputFormat, certificate: Certificate?, layout: Layout, standalone: Bool,
    steps: Bool, sizes: [String: Int]
  ) throws -> String {
    let certificate = try certificate ?? self.certificate(for: layout)
    let text = try rendered(
      format, certificate: certificate, layout: layout, standalone: standalone, steps: steps,
      sizes: sizes)
    if let certificate, [.numpy, .python, .jax].contains(format) {
      try checkEmitted(text, format: format, layout: layout, certificate: certificate)
    }
    return text
  }
}
