import Foundation
import TestSupport
import Testing

/// README.md's "Use it as a library": its Package.swift and main.swift blocks, exactly as
/// printed, built as a new package that depends on this one by its folder (named `matcalc`,
/// as the README says), and run: it prints the LaTeX of the gradient and a passed certificate.
@Test func readmeLibraryExampleBuildsAndPrintsACheckedResult() throws {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
  let section = try #require(
    readme.components(separatedBy: "## Use it as a library").dropFirst().first?
      .components(separatedBy: "\n## ").first)
  let blocks = section.components(separatedBy: "```swift\n").dropFirst().compactMap {
    $0.components(separatedBy: "```").first
  }
  try #require(blocks.count == 2, "the section has a Package.swift and a main.swift block")
  let manifest = blocks[0]
  let program = blocks[1]
  #expect(manifest.contains(".package(path: \"../matcalc\")"))
  #expect(program.contains("import MatrixCalculus"))

  let folder = FileManager.default.temporaryDirectory
    .appendingPathComponent("matcalc-library-\(UUID().uuidString)")
  let package = folder.appendingPathComponent("gradients")
  let sources = package.appendingPathComponent("Sources/gradients")
  try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: folder) }
  try FileManager.default.createSymbolicLink(
    at: folder.appendingPathComponent("matcalc"), withDestinationURL: root)
  try manifest.write(
    to: package.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
  try program.write(
    to: sources.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)

  let build = try Subprocess.run(["swift", "build"], directory: package)
  try #require(build.status == 0, "swift build: \(build.output.suffix(2000)) \(build.error)")
  let run = try Subprocess.run(
    [], executable: package.appendingPathComponent(".build/debug/gradients"))
  #expect(run.status == 0, "\(run.error)")
  #expect(
    run.output.hasPrefix(
      "\\frac{\\partial f}{\\partial w} = X^\\top \\left(X w - y\\right)\nchecked: max rel. "),
    "\(run.output)")
}
