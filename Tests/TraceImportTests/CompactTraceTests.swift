import Testing
import TraceModel

@testable import TraceImport

// The compact forms of a tokenized trace (docs/reliability.md, "Huge inputs in bounded memory"):
// packed extras, the sparse index of the records that have them, and the flow hints worked out
// before the flows are freed.

@Test func packedExtrasGiveBackEveryField() {
  var full = EventExtras()
  (full.inMsgNelems, full.outMsgNelems, full.groupSize, full.bytes) = (1, 2, 3, 4)
  (full.memoryBytes, full.totalAllocated, full.totalReserved, full.deviceID) = (-5, 6, 7, 8)
  (full.sequence, full.peer) = (9, 0)
  (full.collectiveName, full.dtype, full.processGroupName, full.processGroupRanks) = (10, 11, 12, 13)
  (full.processGroupDescription, full.inputDims, full.inputType, full.direction) = (14, 15, 0, 17)
  full.concreteInputs = 18
  var some = EventExtras()
  some.bytes = 4096
  var table = ExtrasTable()
  for x in [full, EventExtras(), some, full] { table.append(x) }
  #expect(table.count == 4)
  #expect(table[0] == full && table[3] == full)
  #expect(table[1] == EventExtras())
  #expect(table[2] == some)
}

@Test func theExtrasIndexFindsTheEntryOfEachRecordThatHasOne() {
  var index = ExtrasIndex()
  let records = [0, 63, 64, 65, 1000, 100_000]
  for (k, r) in records.enumerated() { index.append(record: r, entry: Int32(k * 2)) }
  for (k, r) in records.enumerated() { #expect(index.entry(ofRecord: r) == Int32(k * 2)) }
  for r in [1, 62, 66, 999, 1001, 99_999, 100_001, 10_000_000] { #expect(index.entry(ofRecord: r) == nil) }
  var joined = ExtrasIndex()
  joined.append(record: 3, entry: 0)
  joined.append(index, recordBase: 10, entryBase: 1)
  #expect(joined.entry(ofRecord: 3) == 0)
  #expect(joined.entry(ofRecord: 10) == 1 && joined.entry(ofRecord: 100_010) == 11)
}

@Test func nestedBeginEndEventsKeepTheirOwnArgs() throws {
  // B/E pairs close inner first, so their records are not in the order their args were read.
  let (g, _) = try Ingest.graph(
    bytes: Array(
      #"""
      {"traceEvents": [
      {"ph": "B", "cat": "gpu_memcpy", "name": "Memcpy HtoD", "pid": 0, "tid": 7, "ts": 10, "args": {"bytes": 111}},
      {"ph": "B", "cat": "gpu_memcpy", "name": "Memcpy DtoH", "pid": 0, "tid": 8, "ts": 11, "args": {"bytes": 222}},
      {"ph": "E", "pid": 0, "tid": 8, "ts": 15},
      {"ph": "E", "pid": 0, "tid": 7, "ts": 30}
      ]}
      """#.utf8))
  let bytes = Dictionary(uniqueKeysWithValues: (0..<g.eventCount).map { (g.strings[g.name[$0]], g.bytes[$0]) })
  #expect(bytes == ["Memcpy HtoD": 111, "Memcpy DtoH": 222])
}

@Test func flowsFinishingAtOnePlaceLinkFromTheFirstInTheFile() throws {
  // Two flows end at the kernel's (thread, ts); the first one in the file names its launch. A GPU
  // user annotation at the same place, without a correlation id, is never launched.
  let (g, _) = try Ingest.graph(
    bytes: Array(
      #"""
      {"traceEvents": [
      {"ph": "X", "cat": "Runtime", "name": "first", "pid": 10, "tid": 10, "ts": 100, "dur": 4},
      {"ph": "X", "cat": "Runtime", "name": "second", "pid": 10, "tid": 11, "ts": 101, "dur": 4},
      {"ph": "s", "id": 5, "pid": 10, "tid": 10, "ts": 100, "cat": "async", "name": "launch"},
      {"ph": "s", "id": 6, "pid": 10, "tid": 11, "ts": 101, "cat": "async", "name": "launch"},
      {"ph": "X", "cat": "Kernel", "name": "k", "pid": 0, "tid": 7, "ts": 110, "dur": 40},
      {"ph": "X", "cat": "gpu_user_annotation", "name": "region", "pid": 0, "tid": 7, "ts": 110, "dur": 40},
      {"ph": "f", "id": 5, "pid": 0, "tid": 7, "ts": 110, "cat": "async", "name": "launch", "bp": "e"},
      {"ph": "f", "id": 6, "pid": 0, "tid": 7, "ts": 110, "cat": "async", "name": "launch", "bp": "e"}
      ]}
      """#.utf8))
  let named = { (n: String) in (0..<g.eventCount).first { g.strings[g.name[$0]] == n } ?? -1 }
  let launches = (0..<g.eventCount).flatMap { e in
    g.edges(from: EventID(e)).filter { $0.kind == .launch }.map { (e, $0.target.index) }
  }
  #expect(launches.count == 1)
  #expect(launches.first?.0 == named("first") && launches.first?.1 == named("k"))
}
