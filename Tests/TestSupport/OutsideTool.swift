import Foundation
import Testing

/// A program or Python module that some tests run from outside Swift. Each is probed once per
/// test run.
public enum OutsideTool: String, CaseIterable, Sendable {
  /// `python3` with NumPy: runs the `--format numpy` and `--format python` output.
  case numpy
  /// JAX for `python3`: runs the `--format jax` output under `jax.jit`.
  case jax
  /// `pdflatex`: compiles the LaTeX output.
  case pdflatex
  /// Headless Chromium: loads the `--format html` page.
  case chromium

  /// How a missing tool is named in the line that reports it.
  public var displayName: String {
    switch self {
    case .numpy: "python3 with NumPy"
    case .jax: "JAX (python3 -c 'import jax' fails)"
    case .pdflatex: "pdflatex"
    case .chromium: "chromium"
    }
  }

  /// The command that installs the tool (what `.ci/run` does).
  public var installation: String {
    switch self {
    case .numpy: "python3 -m pip install numpy"
    case .jax: "python3 -m pip install 'jax[cpu]'"
    case .pdflatex: "apt-get install texlive-latex-base"
    case .chromium: "apt-get install chromium"
    }
  }

  /// Whether the tool runs on this machine.
  public var isAvailable: Bool {
    switch self {
    case .numpy: Self.numpyRuns
    case .jax: Self.jaxRuns
    case .pdflatex: Self.pdflatexRuns
    case .chromium: Self.chromiumRuns
    }
  }

  // Each probe runs at most once (a `static let` is initialised once, thread-safely).
  private static let numpyRuns = succeeds(["python3", "-c", "import numpy"])
  private static let jaxRuns = succeeds(["python3", "-c", "import jax"])
  private static let pdflatexRuns = succeeds(["pdflatex", "--version"])
  private static let chromiumRuns = succeeds(["chromium", "--version"])

  private static func succeeds(_ command: [String]) -> Bool {
    (try? Subprocess.run(command).status) == 0
  }

  /// Whether a missing tool fails the tests instead of skipping them: under CI (`CI=true`,
  /// which `.ci/run` sets after installing every tool) or with `MATCALC_REQUIRE_TOOLS=1`.
  public static func isRequired(
    in environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> Bool {
    let truthy: Set<String> = ["1", "true", "yes"]
    return truthy.contains(environment["MATCALC_REQUIRE_TOOLS"]?.lowercased() ?? "")
      || truthy.contains(environment["CI"]?.lowercased() ?? "")
  }

  /// One line naming the missing tools and how to install them, or nil when all run.
  public static func missing(_ tools: [OutsideTool]) -> String? {
    let absent = tools.filter { !$0.isAvailable }
    guard !absent.isEmpty else { return nil }
    return "needs " + absent.map(\.displayName).joined(separator: " and ") + "; install: "
      + absent.map(\.installation).joined(separator: " && ")
  }
}

/// A test trait for tests that run an ``OutsideTool``: when a tool is missing the test is
/// skipped with one line that names it and its installation, except under CI
/// (``OutsideTool/isRequired(in:)``), where the missing tool fails the test.
public struct NeedsOutsideTools: TestTrait {
  /// The tools the test runs.
  public let tools: [OutsideTool]

  /// The reason a required tool is missing, as the failure of the test.
  struct MissingTool: Error, CustomStringConvertible {
    let description: String
  }

  /// Skips or fails the test before it runs when a tool is missing.
  public func prepare(for test: Test) async throws {
    guard let line = OutsideTool.missing(tools) else { return }
    if OutsideTool.isRequired() {
      throw MissingTool(
        description: line + " (a missing tool fails the tests under CI or "
          + "MATCALC_REQUIRE_TOOLS=1)")
    }
    try Test.cancel(Comment(rawValue: line))
  }
}

extension Trait where Self == NeedsOutsideTools {
  /// The test runs `tools`: it is skipped with one visible line when one is missing, and
  /// fails instead under CI.
  ///
  /// ```swift
  /// @Test(.needs(.numpy, .jax)) func emittedJaxFunctionsRunUnderJit() throws { … }
  /// ```
  public static func needs(_ tools: OutsideTool...) -> Self {
    NeedsOutsideTools(tools: tools)
  }
}
