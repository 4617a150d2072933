import Rendering
import Testing

@Test func keysAreSortedAndOutputIsStable() {
  let doc = JSONDocument.object(["b": .int(2), "a": .array([.string("x\"y"), .double(0.5), .null, .bool(true)])])
  let text = doc.encoded(pretty: false)
  #expect(text == #"{"a":["x\"y",0.5,null,true],"b":2}"#)
  #expect(doc.encoded(pretty: false) == text)
}

@Test func largeIntegersAreExact() {
  #expect(JSONDocument.int(Int64.max).encoded(pretty: false) == "9223372036854775807")
}
