import Testing
import TraceModel

@testable import TraceImport

/// The key words written as literals are the words of their keys.
@Test func keyWordsAreTheirKeys() {
  #expect(KinetoParser.keyPh == KinetoParser.word("\"ph\":"))
  #expect(KinetoParser.keyTs == KinetoParser.word("\"ts\":"))
  #expect(KinetoParser.keyID == KinetoParser.word("\"id\":"))
  #expect(KinetoParser.keyBp == KinetoParser.word("\"bp\":"))
  #expect(KinetoParser.keyCat == KinetoParser.word("\"cat\":"))
  #expect(KinetoParser.keyPid == KinetoParser.word("\"pid\":"))
  #expect(KinetoParser.keyTid == KinetoParser.word("\"tid\":"))
  #expect(KinetoParser.keyDur == KinetoParser.word("\"dur\":"))
  #expect(KinetoParser.keyName == KinetoParser.word("\"name\":"))
  #expect(KinetoParser.keyArgs == KinetoParser.word("\"args\":"))
  #expect(KinetoParser.externalIDKey == KinetoParser.words("\"External id\":"))
  #expect(KinetoParser.correlationKey == KinetoParser.words("\"correlation\":"))
}

/// Integers of every length from 1 to 20 digits (the 8-digit steps and the byte loop), with
/// fractions and exponents after them, read and skip exactly.
@Test func numbersOfEveryLengthParseExactly() throws {
  var digits = ""
  for k in 1...20 {
    digits += String((k * 7) % 10 == 0 && k == 1 ? 1 : (k * 7) % 10)
    for suffix in ["", ".25", "e2", ",", "x"] {
      let text = digits + suffix + "          "
      var s = JSONScanner(source: ByteSource(bytes: Array(text.utf8), file: "n.json"))
      let n = try s.parseNumber()
      #expect(n.integer == UInt64(digits) ?? n.integer, "\(text)")
      #expect(n.integerOverflow == (UInt64(digits) == nil), "\(text)")
      #expect(n.length == digits.count + (suffix == ".25" || suffix == "e2" ? suffix.count : 0), "\(text)")
      var t = JSONScanner(source: ByteSource(bytes: Array(text.utf8), file: "n.json"))
      try t.skipNumber()
      #expect(t.pos == s.pos, "\(text)")
    }
  }
  #expect(JSONScanner.isEightDigits(KinetoParser.word("01234567")))
  #expect(!JSONScanner.isEightDigits(KinetoParser.word("0123456:")))
  #expect(!JSONScanner.isEightDigits(KinetoParser.word("/1234567")))
  #expect(JSONScanner.eightDigitsValue(KinetoParser.word("98765432")) == 98_765_432)
}

/// An event without pid and tid first in the file gets a thread of its own (it used to read
/// the empty thread cache's -1 and crash).
@Test func eventsWithoutPidOrTidGetAThread() throws {
  let text =
    #"{"traceEvents":[{"ph":"X","name":"a","ts":1,"dur":2},{"ph":"X","name":"b","pid":1,"tid":1,"ts":1,"dur":2},{"ph":"X","name":"c","ts":5,"dur":1}]}"#
  let trace = try KinetoImporter.read("nopid.json", contents: Array(text.utf8), progress: nil).0
  #expect(trace.thread == [0, 1, 0])
  #expect(trace.threads.count == 2)
}
