/// Public initializers for specs built in code (`reprise calibrate`), not decoded from a file; the
/// synthesized memberwise ones are internal.
extension HardwareSpec {
  public init(
    named name: String, displayName: String, source: String, peakTFLOPs: [String: Double], hbm: Amount,
    hbmBandwidthGBps: Double, interconnect: Link?, pcie: PCIe, launchOverheadUs: Double, sustained: Sustained?
  ) {
    (self.name, self.displayName, self.source, self.peakTFLOPs) = (name, displayName, source, peakTFLOPs)
    (self.hbm, self.hbmBandwidthGBps, self.interconnect, self.pcie) = (hbm, hbmBandwidthGBps, interconnect, pcie)
    (self.launchOverheadUs, self.sustained) = (launchOverheadUs, sustained)
  }

  /// Checks the spec as `SpecLibrary.hardware` checks a file; errors name `file`.
  /// - Throws: `SpecError.invalid`.
  public func validated(file: String) throws -> HardwareSpec {
    try validate(file: file)
    return self
  }
}

extension HardwareSpec.Amount {
  public init(_ amount: Double, unit: String) { (self.amount, self.unit) = (amount, unit) }
}

extension HardwareSpec.PCIe {
  public init(generation: Int, perDirectionGBps gbpsPerDirection: Double) {
    (self.generation, self.gbpsPerDirection) = (generation, gbpsPerDirection)
  }
}
