/// Splits a test input at its 1️⃣ marker: the text without it and the marker's column (0
/// when there is no marker).
func marked(_ text: String) -> (String, Int) {
  guard let range = text.range(of: "1️⃣") else { return (text, 0) }
  let column = text.distance(from: text.startIndex, to: range.lowerBound) + 1
  return (text.replacingCharacters(in: range, with: ""), column)
}
