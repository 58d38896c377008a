import Foundation
import TestSupport
import Testing

@testable import matcalc

/// One problem of the format matrix: what to derive, and which options apply to it.
struct FormatProblem: CustomTestStringConvertible, Sendable {
  let expression: String
  let statements: String
  let wrt: String
  /// Several variables for `--wrt A,B` (also the goals of the problem file).
  let several: [String]
  /// Whether `wrt` is declared symmetric (then `--symmetric-gradient` applies).
  var symmetric = false

  var testDescription: String { "\(expression) wrt \(wrt)" }

  static let all: [FormatProblem] = [
    .init(
      expression: "x'*A*x", statements: "x : vector(n); A : matrix(n, n)", wrt: "x",
      several: ["x", "A"]),
    .init(
      expression: "l",
      statements: "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; "
        + "yhat = H*v; l = 1/2*(yhat - y)'*(yhat - y)", wrt: "W", several: ["W", "v"]),
    .init(
      expression: "logdet(S) - tr(S*B)", statements: "S : symmetric(n); B : matrix(n, n)",
      wrt: "S", several: ["S", "B"], symmetric: true),
    .init(
      expression: "x'*S*x", statements: "x : vector(n); S : symmetric(n)", wrt: "S",
      several: ["S", "x"], symmetric: true),
    .init(
      expression: "lambda/2*w'*w + norm2(X*w - y)^2", statements: "", wrt: "w",
      several: ["w", "X"]),
    .init(
      expression: "-y'*log(softmax(W*x))",
      statements: "W : matrix(k, n); x : vector(n); y : vector(k)", wrt: "W", several: ["W", "x"]
    ),
    .init(
      expression: "sum(log(1 + exp(-y .* (X*w))))",
      statements: "X : matrix(m, n); w : vector(n); y : vector(m)", wrt: "w", several: ["w", "X"]
    ),
    .init(
      expression: "tanh(W*x)", statements: "W : matrix(m, n); x : vector(n)", wrt: "x",
      several: ["x", "W"]),
    .init(
      expression: "A*X*B", statements: "A : matrix(m, n); X : matrix(n, p); B : matrix(p, q)",
      wrt: "X", several: ["X", "A"]),
    .init(
      expression: "tr(inv(X)*A)", statements: "X : matrix(n, n); A : matrix(n, n)", wrt: "X",
      several: ["X", "A"]),
    .init(
      expression: "det(X) + sum(diag(X))*s", statements: "X : matrix(n, n); s : scalar",
      wrt: "X", several: ["X", "s"]),
    .init(
      expression: "y'*K*y",
      statements: "X : matrix(n, d); y : vector(n); D[i,j] = sum(k, (X[i,k] - X[j,k])^2); "
        + "K[i,j] = exp(-D[i,j]/2)", wrt: "X", several: ["X", "y"]),
    .init(expression: "logsumexp(x) + s^3", statements: "", wrt: "x", several: ["x", "s"]),
    .init(
      expression: "l",
      statements: "L : function; W : matrix(m, n); X : matrix(n, p); D = W*X; l = L(D)",
      wrt: "W", several: ["W", "X"]),
  ]
}

/// Sizes the Python side gives the dimensions.
private let formatSizes = ["n": 3, "m": 4, "k": 2, "p": 2, "q": 5, "b": 4, "d": 3, "h": 2]

private func size(_ dimension: String) -> Int { Int(dimension) ?? formatSizes[dimension] ?? 3 }

/// The number of entries a JSON document's `shape` fields describe: one derivative, several
/// gradients (a list of shapes), or the goals of a problem file (an array).
private func entryCount(_ json: Any) -> Int? {
  if let goals = json as? [Any] {
    let counts = goals.compactMap(entryCount)
    return counts.count == goals.count ? counts.reduce(0, +) : nil
  }
  guard let shape = (json as? [String: Any])?["shape"] else { return nil }
  if let axes = shape as? [String] { return axes.map(size).reduce(1, *) }
  if let shapes = shape as? [[String]] {
    return shapes.map { $0.map(size).reduce(1, *) }.reduce(0, +)
  }
  return nil
}

/// Python with NumPy: binds `inputs` (name → type as declared), evaluates each line, and
/// prints per line its number of entries and whether all are finite.
private func evaluateInPython(_ lines: [String], inputs: [(String, String)]) throws -> [[Any]] {
  var script = "import numpy as np, json\nrng = np.random.default_rng(13)\n"
  for (name, type) in inputs {
    // Bound through globals(): a name may be a Python keyword (lambda).
    let name = "globals()['\(name)']"
    let arguments =
      type.split(whereSeparator: { "(), ".contains($0) }).dropFirst().map { size(String($0)) }
    switch type.prefix(while: { $0.isLetter }) {
    case "scalar": script += "\(name) = float(rng.uniform(0.5, 1.5))\n"
    case "vector": script += "\(name) = rng.uniform(0.5, 1.5, (\(arguments[0]),))\n"
    case "simplex":  // a 1-D probability vector, like a vector
      script += "_p = rng.uniform(0.5, 1.5, (\(arguments[0]),))\n"
      script += "\(name) = _p / np.sum(_p)\n"
    case "symmetric":
      let d = arguments[0]
      script += "_m = rng.uniform(-1, 1, (\(d), \(d)))\n"
      script += "\(name) = _m @ _m.T + \(d) * np.eye(\(d))\n"
    case "matrix":
      let (r, c) = (arguments[0], arguments[1])
      script += "\(name) = rng.uniform(-1, 1, (\(r), \(c)))"
      script += r == c ? " + \(r) * np.eye(\(r))\n" : "\n"
    default: continue
    }
  }
  let data = try JSONSerialization.data(withJSONObject: lines, options: .withoutEscapingSlashes)
  script += "LINES = " + String(decoding: data, as: UTF8.self) + "\n"
  script += """
    def flat(v):
        parts = v if isinstance(v, tuple) else (v,)
        return [float(x) for p in parts for x in np.asarray(p, dtype=float).ravel()]
    out = []
    for line in LINES:
        try:
            values = flat(eval(line))
            out.append([len(values), bool(np.all(np.isfinite(values)))])
        except Exception as error:
            out.append([-1, repr(error)])
    print(json.dumps(out))

    """
  let output = try Subprocess.run(["python3", "-c", script]).output
  return try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[Any]] ?? []
}

/// The math of Markdown (between `$` or `$$`).
private func markdownMath(_ text: String) -> [String] {
  let pieces = text.replacingOccurrences(of: "$$", with: "$").split(
    separator: "$", omittingEmptySubsequences: false)
  return pieces.indices.filter { $0 % 2 == 1 }.map { String(pieces[$0]) }
}

/// Every format with every option, on each problem: JSON is one document, NumPy evaluates
/// to finite numbers of the right count, LaTeX is ASCII and compiles with pdflatex — or the
/// run exits non-zero with a message naming the option.
@Test(.needs(.numpy, .pdflatex), arguments: FormatProblem.all)
func everyFormatWithEveryOption(_ problem: FormatProblem) throws {
  let formats: [(name: String, arguments: [String])] = [
    ("text", ["--format", "text"]), ("latex", ["--format", "latex"]),
    ("standalone", ["--format", "latex", "--standalone"]), ("markdown", ["--format", "markdown"]),
    ("numpy", ["--format", "numpy"]), ("json", ["--format", "json"]),
    ("html", ["--format", "html"]),
  ]
  let file = FileManager.default.temporaryDirectory
    .appendingPathComponent("matcalc-formats-\(UUID().uuidString).mc")
  let isName = problem.statements.contains("\(problem.expression) = ")
  let objective = isName ? problem.expression : "obj"
  let goals = problem.several.map { "derive \(objective) wrt \($0)\n" }.joined()
  try (problem.statements + "\n" + (isName ? "" : "obj = \(problem.expression)\n") + goals)
    .write(to: file, atomically: true, encoding: .utf8)
  defer { try? FileManager.default.removeItem(at: file) }
  let derive = ["derive", problem.expression, "--where", problem.statements]
  var options: [(flag: String, arguments: [String])] = [
    ("", derive + ["--wrt", problem.wrt]),
    ("--steps", derive + ["--wrt", problem.wrt, "--steps"]),
    ("--layout", derive + ["--wrt", problem.wrt, "--layout", "numerator"]),
    ("--layout", derive + ["--wrt", problem.wrt, "--layout", "denominator"]),
    ("--order", derive + ["--wrt", problem.wrt, "--order", "2"]),
    ("--wrt", derive + ["--wrt", problem.several.joined(separator: ",")]),
    ("", [file.path]),
  ]
  if problem.symmetric {
    options.append(
      ("--symmetric-gradient", derive + ["--wrt", problem.wrt, "--symmetric-gradient"]))
  }

  var numpyLines: [(line: String, count: Int?, label: String)] = []
  var documents: [(String, String)] = []
  var fragments: [String] = []
  for option in options {
    var counts: Int?
    var pendingNumpy: (String, String)?
    for format in formats {
      let arguments = option.arguments + format.arguments
      let label =
        "\(format.name) "
        + (option.arguments == [file.path]
          ? "problem file" : option.arguments.dropFirst(4).joined(separator: " "))
      let result = run(arguments)
      guard result.status == 0 else {
        // A refusal names the option, or the format when no option can be served in it.
        let named =
          (!option.flag.isEmpty && result.error.contains(option.flag))
          || result.error.contains(format.arguments.joined(separator: " "))
        #expect(named, "\(label): \(result.error)")
        #expect(result.output.isEmpty, "\(label)")
        continue
      }
      let output =
        format.name == "standalone"
        ? result.output.trimmingCharacters(in: .newlines) + "\n" : result.output
      #expect(!output.isEmpty, "\(label)")
      switch format.name {
      case "json":
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8))
        counts = entryCount(json)
        #expect(counts != nil, "\(label): no shape in \(output)")
        let objects = (json as? [[String: Any]]) ?? [json as? [String: Any] ?? [:]]
        for object in objects {
          #expect(object["inferred"] != nil && object["layout"] != nil, "\(label)")
          #expect(object["latex"] != nil && object["numpy"] != nil, "\(label)")
          if option.flag == "--steps" { #expect(object["steps"] is [String], "\(label)") }
        }
        if option.arguments == [file.path] { #expect(objects.count == problem.several.count) }
      case "numpy":
        #expect(!output.dropLast().contains("\n"), "\(label): \(output)")
        pendingNumpy = (output.trimmingCharacters(in: .newlines), label)
      case "latex", "standalone":
        let nonASCII = String(output.filter { !$0.isASCII })
        #expect(nonASCII.isEmpty, "\(label): \(nonASCII)")
        if format.name == "latex" {
          fragments.append(output.trimmingCharacters(in: .newlines))
        } else {
          #expect(output.components(separatedBy: "\\documentclass").count == 2, "\(label)")
          documents.append((label, output))
        }
      case "html":
        let page = PageReader(output)
        #expect(page.wellFormed, "\(label): \(page.problem)")
        #expect(page.fetches.isEmpty && !output.contains("<script"), "\(label)")
        #expect(page.elements.filter { $0 == "html" }.count == 1, "\(label)")
      case "markdown":
        for math in markdownMath(output) {
          let ascii = math.allSatisfy(\.isASCII)
          #expect(ascii, "\(label): \(math)")
        }
      default:
        // Text names what was inferred exactly when JSON does (checked below, per problem).
        break
      }
    }
    if let (line, label) = pendingNumpy { numpyLines.append((line, counts, label)) }
  }

  // Every name was declared or inferred: the inferred ones come from JSON.
  var inputs: [(String, String)] = []
  for statement in problem.statements.split(separator: ";") {
    let parts = statement.split(separator: ":", maxSplits: 1)
    guard parts.count == 2 else { continue }
    inputs.append(
      (
        parts[0].trimmingCharacters(in: .whitespaces),
        parts[1].trimmingCharacters(in: .whitespaces)
      ))
  }
  let plain = run(derive + ["--wrt", problem.wrt, "--format", "json"])
  let plainJSON = try JSONSerialization.jsonObject(with: Data(plain.output.utf8))
  let inferred = ((plainJSON as? [String: Any])?["inferred"] as? [[String: String]]) ?? []
  for entry in inferred {
    if let name = entry["name"], let type = entry["type"] { inputs.append((name, type)) }
  }
  let text = run(derive + ["--wrt", problem.wrt])
  #expect(text.output.contains("  inferred: ") == !inferred.isEmpty, "\(text.output)")
  let latex = run(derive + ["--wrt", problem.wrt, "--format", "latex"])
  #expect(latex.output.contains("\\text{inferred: }") == !inferred.isEmpty, "\(latex.output)")

  let results = try evaluateInPython(numpyLines.map(\.line), inputs: inputs)
  #expect(results.count == numpyLines.count)
  for (numpy, result) in zip(numpyLines, results) {
    let count = result.first as? Int ?? -1
    #expect(count > 0, "\(numpy.label): \(numpy.line) → \(result)")
    #expect(result.last as? Bool == true, "\(numpy.label): not finite: \(numpy.line)")
    if let expected = numpy.count {
      #expect(count == expected, "\(numpy.label): \(count) entries, shape says \(expected)")
    }
  }

  // One pdflatex run: every standalone document's sections after the shared preamble, and
  // every fragment in gather*, whose lines end in \\.
  guard let first = documents.first?.1, let begin = first.range(of: "\\begin{document}\n")
  else {
    Issue.record("no standalone document")
    return
  }
  let preamble = String(first[..<begin.upperBound])
  var bodies: [String] = []
  for (label, document) in documents {
    #expect(document.hasPrefix(preamble) && document.hasSuffix("\\end{document}\n"), "\(label)")
    bodies.append(
      String(document.dropFirst(preamble.count).dropLast("\\end{document}\n".count)))
  }
  let combined =
    preamble + bodies.joined(separator: "\n")
    + fragments.map { "\\begin{gather*}\n\($0)\n\\end{gather*}\n" }.joined()
    + "\\end{document}\n"
  let (status, log) = try compileLatex(combined)
  #expect(status == 0, "pdflatex failed:\n\(log.suffix(3000))")
}
