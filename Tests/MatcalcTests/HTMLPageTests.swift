import Foundation
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

@testable import MatrixCalculus
@testable import matcalc

/// What an XML parser reads in a page: whether it is well-formed, its elements, the
/// attributes that would fetch something, and its visible text (without `<style>`).
struct PageReader {
  let elements: [String]
  let fetches: [String]
  let text: String
  let wellFormed: Bool
  let problem: String

  init(_ page: String) {
    let parser = XMLParser(data: Data(page.utf8))
    let reader = Delegate()
    parser.delegate = reader
    wellFormed = parser.parse()
    problem = parser.parserError.map { "\($0) at line \(parser.lineNumber)" } ?? ""
    elements = reader.elements
    fetches = reader.fetches
    text = reader.text
  }

  private final class Delegate: NSObject, XMLParserDelegate {
    var elements: [String] = []
    var fetches: [String] = []
    var text = ""
    var hidden = 0

    func parser(
      _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
      qualifiedName: String?, attributes: [String: String] = [:]
    ) {
      elements.append(name)
      for (key, value) in attributes where ["src", "href", "data", "srcset"].contains(key) {
        fetches.append("\(key)=\(value)")
      }
      if name == "style" || name == "title" { hidden += 1 }
    }

    func parser(
      _ parser: XMLParser, didEndElement name: String, namespaceURI: String?,
      qualifiedName: String?
    ) {
      if name == "style" || name == "title" { hidden -= 1 }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
      if hidden == 0 { text += string }
    }
  }
}

/// The pages of these problems: one or several variables, shared names, a Hessian, three
/// and four indices, steps, a problem file with several goals.
private let pageProblems: [[String]] = [
  [
    "derive", "l", "--wrt", "W", "--steps", "--where",
    "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; yhat = H*v; "
      + "l = 1/2*(yhat - y)'*(yhat - y)",
  ],
  [
    "derive", "1/2*y'*inv(K)*y + 1/2*logdet(K)", "--wrt", "A", "--where",
    "y : vector(n); A : matrix(n, m); s : scalar; K = A*A' + s*I(n)",
  ],
  [
    "derive", "-sum(log(b - A*x))", "--wrt", "x", "--order", "2", "--steps", "--where",
    "A : matrix(m, n); b : vector(m); x : vector(n)",
  ],
  ["derive", "tanh(W*x)", "--wrt", "W", "--where", "W : matrix(m, n); x : vector(n)"],
  [
    "derive", "A*X*B", "--wrt", "X", "--standalone", "--where",
    "A : matrix(m, n); X : matrix(n, p); B : matrix(p, q)",
  ],
  [
    "derive", "tanh(W*x)", "--wrt", "W", "--order", "2", "--where",
    "W : matrix(m, n); x : vector(n)",
  ],
  [
    "derive", "l", "--wrt", "W1,W2", "--steps", "--where",
    "L : function; X : matrix(d, b); W1 : matrix(h, d); W2 : matrix(o, h); H = tanh(W1*X); "
      + "Y = W2*H; l = L(Y)",
  ],
  ["derive", "lambda/2*w'*w + norm2(X*w - y)^2", "--wrt", "w,X"],
]

/// The page is well-formed XHTML, loads nothing, holds no script, folds the steps and the
/// code under `<details>`, and carries every line of the text output.
@Test(arguments: pageProblems)
func htmlPageIsSelfContainedAndCarriesTheText(_ arguments: [String]) throws {
  let page = run(arguments + ["--format", "html"])
  #expect(page.status == 0, "\(page.error)")
  #expect(page.output.hasPrefix("<!DOCTYPE html>\n<html"))
  let reader = PageReader(page.output)
  #expect(reader.wellFormed, "\(reader.problem)")
  #expect(!page.output.lowercased().contains("<script"))
  #expect(!page.output.contains("http"), "a network address in the page")
  #expect(!page.output.contains("@import") && !page.output.contains("url("))
  #expect(reader.fetches.isEmpty, "\(reader.fetches)")
  #expect(reader.elements.filter { $0 == "html" }.count == 1)
  #expect(reader.elements.contains("math") && reader.elements.contains("details"))
  #expect(page.output.contains("<summary>Python (NumPy)"))
  if arguments.contains("--steps") {
    #expect(page.output.contains("<details open=\"open\">\n<summary>Steps"))
  }
  // Every line the text prints (and its steps) is on the page.
  let text = run(arguments.filter { $0 != "--standalone" })
  #expect(text.status == 0)
  let visible = ContentItems.normalized(reader.text)
  for item in ContentItems.items(ofText: text.output) {
    #expect(visible.contains(ContentItems.normalized(item)), "missing on the page: \(item)")
  }
}

/// A problem file with several goals is one page with a section per goal.
@Test func problemFileIsOnePage() throws {
  let file = FileManager.default.temporaryDirectory
    .appendingPathComponent("matcalc-html-\(UUID().uuidString).mc")
  try """
  X : matrix(n, d); w : vector(d); y : vector(n)
  r = X*w - y
  l = r'*r
  derive l wrt w
  derive r wrt w
  derive l wrt w order 2
  """.write(to: file, atomically: true, encoding: .utf8)
  defer { try? FileManager.default.removeItem(at: file) }
  let page = run([file.path, "--format", "html"])
  #expect(page.status == 0, "\(page.error)")
  let reader = PageReader(page.output)
  #expect(reader.wellFormed, "\(reader.problem)")
  #expect(reader.elements.filter { $0 == "section" }.count == 3)
  // The goals share one problem: the first section states it, the others refer to it.
  #expect(page.output.components(separatedBy: "<p>Definitions:</p>").count == 2)
  #expect(page.output.components(separatedBy: "As above.").count == 3)
  #expect(reader.elements.filter { $0 == "html" }.count == 1)
  let text = run([file.path])
  let visible = ContentItems.normalized(reader.text)
  for item in ContentItems.items(ofText: text.output) {
    #expect(visible.contains(ContentItems.normalized(item)), "missing on the page: \(item)")
  }
}
