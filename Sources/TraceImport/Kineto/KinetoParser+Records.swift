import TraceModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Turning a parsed event into `KinetoTrace` columns: threads, categories, B/E pairing,
/// kept shapes and extras, metadata.
extension KinetoParser {
  /// The thread's index, from the last two threads seen before the table (host and device
  /// events usually alternate between two threads).
  mutating func threadFor(_ pid: TraceID, _ tid: TraceID) -> Int32 {
    let key = ThreadKey(pid: pid, tid: tid)
    if lastThreadIndex >= 0 && key == lastThreadKey { return lastThreadIndex }
    let idx: Int32
    if previousThreadIndex >= 0 && key == previousThreadKey {
      idx = previousThreadIndex
    } else if let i = threadIndex[key] {
      idx = i
    } else {
      idx = Int32(threadIndex.count)
      threadIndex[key] = idx
    }
    (previousThreadKey, previousThreadIndex) = (lastThreadKey, lastThreadIndex)
    lastThreadKey = key
    lastThreadIndex = idx
    return idx
  }

  mutating func countCategory(_ cat: Int32) {
    let c = Int(cat)
    if c >= categoryCounts.count {
      categoryCounts.append(contentsOf: repeatElement(0, count: c + 1 - categoryCounts.count))
    }
    categoryCounts[c] += 1
  }

  mutating func finishEvent(_ r: inout Raw, index: UInt32, offset: Int64) throws {
    phaseCounts[r.hasPh ? Int(r.ph) : 256] += 1
    let cat = r.cat.map { intern($0) } ?? emptyString
    if r.cat != nil { countCategory(cat) }
    if let d = r.dur { out.stats.durationSumNs &+= d }
    guard r.hasPh else { throw TraceImportError.missingField("ph", at: loc(index, offset)) }
    let ph = r.ph
    if ph == UInt8(ascii: "M") {
      try metadata(r, index: index, offset: offset)
      return
    }
    guard let ts = r.ts else { throw TraceImportError.missingField("ts", at: loc(index, offset)) }
    if ts < 0 { negativeTimestamps += 1 }
    let thread = threadFor(r.pid, r.tid)
    switch ph {
    case UInt8(ascii: "X"), UInt8(ascii: "i"), UInt8(ascii: "I"), UInt8(ascii: "C"):
      var dur: Int64 = 0
      if ph == UInt8(ascii: "X") {
        guard let d = r.dur else { throw TraceImportError.missingField("dur", at: loc(index, offset)) }
        dur = d
        if d < 0 {
          if negativeDurations.count == 0 { negativeDurations.first = (loc(index, offset), d) }
          negativeDurations.count += 1
          dur = 0
        } else if ts > KinetoParser.timeBound - d {
          throw TraceImportError.malformed(
            loc(index, offset), expected: "'ts' + 'dur' within ±\(KinetoParser.timeBoundText)",
            found: "an end \(ts / 1000 + d / 1000) µs")
        }
      }
      let name = r.name.map { intern($0) } ?? emptyString
      appendRecord(ph, cat, name, thread, ts, dur, &r, index)
    case UInt8(ascii: "B"):
      let name = r.name.map { intern($0) } ?? emptyString
      let extra = storeExtras(&r, name: name)
      openBegins[thread, default: []].append((name, cat, ts, index, offset, extra, r.correlation, r.externalID))
    case UInt8(ascii: "E"):
      guard var stack = openBegins[thread], let b = stack.popLast() else {
        unmatchedEnds += 1
        return
      }
      openBegins[thread] = stack
      appendRaw(
        UInt8(ascii: "X"), b.cat, b.name, thread, b.ts, max(0, ts - b.ts), b.corr, b.ext, b.extra, b.index)
    case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "f"):
      guard let id = r.id else {
        out.diagnostics.dataLoss("kineto.flowWithoutId", "flow event without 'id' ignored", at: loc(index, offset))
        return
      }
      out.flows.append(
        FlowRecord(id: id, ts: ts, thread: thread, phase: ph))
    default:
      unsupportedPhases[ph, default: 0] += 1
    }
  }

  /// Whether a name belongs to a communication op whose `Input Dims` give message sizes.
  func isCommName(_ slice: ByteSlice?) -> Bool {
    guard let slice, slice.length >= 5 else { return false }
    let p = s.pointer(slice)
    switch p[0] {
    case UInt8(ascii: "n"), UInt8(ascii: "g"), UInt8(ascii: "c"), UInt8(ascii: "r"), UInt8(ascii: "m"),
      UInt8(ascii: "h"), UInt8(ascii: "u"), UInt8(ascii: "x"):
      let n = min(slice.length, 18)
      let head = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
      return head.hasPrefix("nccl:") || head.hasPrefix("gloo:") || head.hasPrefix("c10d::")
        || head.hasPrefix("record_param_comms") || head.hasPrefix("rccl:") || head.hasPrefix("mtia:")
        || head.hasPrefix("hccl:") || head.hasPrefix("ucc:") || head.hasPrefix("xccl:")
    default:
      return false
    }
  }

  /// Shapes are kept for communication ops (message sizes) and for the aten ops whose FLOPs and
  /// bytes the roofline can derive (`OpShapes.isSizable`), decided once per distinct name.
  mutating func keepShapes(_ name: Int32, _ slice: ByteSlice?) -> Bool {
    let i = Int(name)
    if i >= keepsShapes.count { keepsShapes.append(contentsOf: repeatElement(-1, count: i + 1 - keepsShapes.count)) }
    if keepsShapes[i] < 0 {
      let text = slice.map { s.string($0) } ?? ""
      keepsShapes[i] = (isCommName(slice) || OpShapes.isSizable(text)) ? 1 : 0
    }
    return keepsShapes[i] == 1
  }

  /// Stores the event's extras; returns their index or -1. Events whose only extras are
  /// shapes (most sized aten ops) go to the compact `shapes` table instead, keyed by
  /// `recordIndex` (the index the record will get), when that is known.
  mutating func storeExtras(_ r: inout Raw, name: Int32, recordIndex: Int? = nil) -> Int32 {
    if r.inputDims != nil && !keepShapes(name, r.name) {
      r.inputDims = nil
      r.inputType = nil
    }
    var dims: Int32 = -1
    var types: Int32 = -1
    if let (start, len) = r.concreteInputs, isCommName(r.name) {
      r.extras.concreteInputs = interner.intern(s.ptr + Int(start - s.base), len)
      r.hasExtras = true
    }
    if let (start, len) = r.inputDims { dims = interner.intern(s.ptr + Int(start - s.base), len) }
    if let (start, len) = r.inputType { types = interner.intern(s.ptr + Int(start - s.base), len) }
    if !r.hasExtras, dims >= 0, let recordIndex, !isCommName(r.name) {
      out.shapes.append(ShapeRecord(record: UInt32(recordIndex), dims: dims, types: types))
      return -1
    }
    if dims >= 0 {
      r.extras.inputDims = dims
      r.hasExtras = true
    }
    if types >= 0 {
      r.extras.inputType = types
      r.hasExtras = true
    }
    guard r.hasExtras else { return -1 }
    out.extras.append(r.extras)
    return Int32(out.extras.count - 1)
  }

  mutating func appendRecord(
    _ ph: UInt8, _ cat: Int32, _ name: Int32, _ thread: Int32, _ ts: Int64, _ dur: Int64,
    _ r: inout Raw, _ index: UInt32
  ) {
    let extra = storeExtras(&r, name: name, recordIndex: out.phase.count)
    appendRaw(ph, cat, name, thread, ts, dur, r.correlation, r.externalID, extra, index)
  }

  @inline(__always)
  mutating func appendRaw(
    _ ph: UInt8, _ cat: Int32, _ name: Int32, _ thread: Int32, _ ts: Int64, _ dur: Int64,
    _ corr: Int64, _ ext: Int64, _ extra: Int32, _ index: UInt32
  ) {
    out.phase.append(ph)
    out.category.append(cat)
    out.name.append(name)
    out.thread.append(thread)
    out.ts.append(ts)
    out.dur.append(dur)
    out.correlation.append(corr)
    out.externalID.append(ext)
    if extra >= 0 { out.extraOf.append(record: out.phase.count - 1, entry: extra) }
    out.index.append(index)
  }

  mutating func metadata(_ r: Raw, index: UInt32, offset: Int64) throws {
    guard let nameSlice = r.name else { return }
    if s.equals(nameSlice, "process_name"), let v = r.argName {
      out.processNames[r.pid] = s.string(v)
    } else if s.equals(nameSlice, "process_labels"), let v = r.argLabels {
      out.processLabels[r.pid] = s.string(v)
    } else if s.equals(nameSlice, "thread_name"), let v = r.argName {
      out.threadNames[ThreadKey(pid: r.pid, tid: r.tid)] = s.string(v)
    }
  }
}
