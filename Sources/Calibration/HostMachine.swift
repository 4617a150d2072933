import Foundation
import TraceModel

/// The machine `reprise calibrate` runs on, as far as the spec and the measurement need it.
public struct HostMachine: Codable, Sendable, Equatable {
  /// `model name` of the first processor in `/proc/cpuinfo`, or `unknown CPU`.
  public var cpuModel: String
  /// Logical CPUs this process may run on.
  public var logicalCPUs: Int
  /// Physical memory.
  public var memoryBytes: Bytes
  /// The last-level caches together (every instance of the highest cache level in
  /// `/sys/devices/system/cpu`), or nil when the system does not say.
  public var lastLevelCacheBytes: Bytes?

  public init(cpuModel: String, logicalCPUs: Int, memoryBytes: Bytes, lastLevelCacheBytes: Bytes?) {
    (self.cpuModel, self.logicalCPUs, self.memoryBytes) = (cpuModel, logicalCPUs, memoryBytes)
    self.lastLevelCacheBytes = lastLevelCacheBytes
  }

  /// This machine.
  public static func current() -> HostMachine {
    HostMachine(
      cpuModel: cpuModel(), logicalCPUs: ProcessInfo.processInfo.activeProcessorCount,
      memoryBytes: Bytes(rawValue: Int64(clamping: ProcessInfo.processInfo.physicalMemory)),
      lastLevelCacheBytes: lastLevelCache())
  }

  static func cpuModel() -> String {
    let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    for line in text.split(separator: "\n") where line.hasPrefix("model name") {
      if let colon = line.firstIndex(of: ":") {
        let name = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if !name.isEmpty { return name }
      }
    }
    return "unknown CPU"
  }

  /// Sums the highest-level cache over its distinct instances (`shared_cpu_list`).
  static func lastLevelCache() -> Bytes? {
    let root = "/sys/devices/system/cpu"
    func read(_ path: String) -> String? {
      (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let cpus = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
      .filter { $0.hasPrefix("cpu") && $0.dropFirst(3).allSatisfy(\.isNumber) && $0.count > 3 }
    var best: (level: Int, instances: [String: Int64]) = (0, [:])
    for cpu in cpus {
      let dir = root + "/" + cpu + "/cache"
      for index in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []) where index.hasPrefix("index") {
        let base = dir + "/" + index + "/"
        guard let level = read(base + "level").flatMap({ Int($0) }), let size = read(base + "size"),
          let bytes = cacheSize(size), level >= best.level
        else { continue }
        if level > best.level { best = (level, [:]) }
        best.instances[read(base + "shared_cpu_list") ?? cpu] = bytes
      }
    }
    let total = best.instances.values.reduce(0, +)
    return total > 0 ? Bytes(rawValue: total) : nil
  }

  /// `32768K`, `2M`, `512` → bytes.
  static func cacheSize(_ text: String) -> Int64? {
    let unit: Int64 = text.hasSuffix("K") ? 1024 : text.hasSuffix("M") ? 1 << 20 : text.hasSuffix("G") ? 1 << 30 : 1
    let digits = unit == 1 ? text : String(text.dropLast())
    return Int64(digits).map { $0 * unit }
  }
}
