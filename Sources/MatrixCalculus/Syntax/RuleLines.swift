import Foundation

/// The lines of a rule file that hold a rule: comments (`#` to the end of the line) and
/// blank lines dropped, `let` declarations gathered; each rule line comes with its line
/// number and the declarations before it, `;`-separated.
enum RuleLines {
  static func read(_ text: String) -> [(line: Int, content: String, declarations: [String])] {
    var lets: [String] = []
    var result: [(line: Int, content: String, declarations: [String])] = []
    for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false)
      .enumerated()
    {
      var content = String(rawLine)
      if let hash = content.firstIndex(of: "#") { content = String(content[..<hash]) }
      content = content.trimmingCharacters(in: .whitespaces)
      if content.isEmpty { continue }
      if content.hasPrefix("let ") {
        lets.append(String(content.dropFirst(4)))
        continue
      }
      result.append((offset + 1, content, lets))
    }
    return result
  }
}
