/// Splits a command line the way a POSIX shell does for the quoting the README uses:
/// single quotes, double quotes (with \" \\ \$ \` escapes), and backslashes.
func shellWords(_ line: String) -> [String] {
  var words: [String] = []
  var current = ""
  var inWord = false
  var characters = Array(line)[...]
  while let c = characters.popFirst() {
    switch c {
    case " ", "\t":
      if inWord { words.append(current) }
      current = ""
      inWord = false
    case "'":
      inWord = true
      while let next = characters.popFirst(), next != "'" { current.append(next) }
    case "\"":
      inWord = true
      while let next = characters.popFirst(), next != "\"" {
        if next == "\\", let escaped = characters.first, "\"\\$`".contains(escaped) {
          current.append(escaped)
          characters.removeFirst()
        } else {
          current.append(next)
        }
      }
    case "\\":
      inWord = true
      if let next = characters.popFirst() { current.append(next) }
    default:
      inWord = true
      current.append(c)
    }
  }
  if inWord { words.append(current) }
  return words
}
