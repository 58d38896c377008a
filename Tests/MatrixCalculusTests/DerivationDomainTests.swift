import Foundation
import Testing

@testable import MatrixCalculus

/// A derivative printed through an inverse that f does not take (det A, defined at a singular
/// A; its gradient det(A) A⁻ᵀ is not) says where it holds, in every format; one whose f
/// inverts the same matrix (logdet, xᵀA⁻¹x) says nothing more.
@Test(arguments: [
  ("det(A)", "A", "holds where A is invertible; f is defined at a singular A too"),
  ("det(X'*X)", "X", "holds where Xᵀ X is invertible"),
  ("logdet(A)", "A", ""),
  ("x'*inv(A)*x", "A", ""),
  ("tr(A*A)", "A", ""),
])
func derivativeThroughAnInverseSaysWhereItHolds(
  _ expression: String, wrt: String, expected: String
) throws {
  let d = try derive(
    expression, wrt: wrt, where: "A : matrix(n, n); X : matrix(m, n); x : vector(n)")
  let text = try d.render(.text)
  let json = try d.render(.json)
  let markdown = try d.render(.markdown)
  let document = try d.render(.latex, standalone: true)
  if expected.isEmpty {
    #expect(!text.contains("holds where"), "\(text)")
    #expect(!json.contains("holds_where"))
  } else {
    #expect(text.contains("\n  " + expected), "\(text)")
    #expect(json.contains("\"holds_where\""))
    #expect(markdown.contains("Holds where"))
    #expect(document.contains("Holds where $"))
  }
}
