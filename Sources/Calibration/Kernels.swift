import Dispatch

/// The two measurement kernels of `reprise calibrate`: the STREAM triad and a cache-blocked fp32
/// GEMM. docs/models/calibrate.md gives the formulas and sources.
///
/// This target is compiled with `-O` in every configuration and, on x86-64, for the building
/// machine's CPU (`-target-cpu native`, Package.swift): a measurement kernel built for the x86-64
/// baseline (SSE2, no FMA) reaches a third of the GEMM rate this CPU sustains, and one built with
/// `-Onone` measures the compiler rather than the machine. The kernels use unsafe pointers and
/// wrapping index arithmetic (`&+`, `&*`), so no bounds or overflow check sits in an inner loop.
enum Kernels {
  /// Rows and columns of the GEMM micro-kernel's register tile (6 × 16 fp32: 12 eight-lane
  /// accumulators).
  static let mr = 6
  static let nr = 16
  /// Depth and row blocking of the packed panels: a 256 × 16 panel of rhs (16 KiB) stays in L1,
  /// a 96 × 256 block of lhs (96 KiB) in L2 (Goto and van de Geijn, ACM TOMS 34(3), 2008).
  static let kc = 256
  static let mc = 96

  /// STREAM triad over `[range)`: `a[i] = b[i] + s·c[i]`.
  @inline(never) @_optimize(speed)
  static func triad(
    _ a: UnsafeMutablePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ s: Double,
    _ range: Range<Int>
  ) {
    var i = range.lowerBound
    let end = range.upperBound
    while i < end {
      a[i] = b[i] + s * c[i]
      i &+= 1
    }
  }

  /// `out[rows, 0..<n] += lhs[rows, 0..<k] · rhs[0..<k, 0..<n]`, row-major with leading
  /// dimensions `k` (lhs) and `n` (rhs, out). `rows.count` is a multiple of `mr`; `n` is a
  /// multiple of `nr`. `packA` holds `mc·kc` floats, `packB` `kc·n`.
  @inline(never) @_optimize(speed)
  static func gemm(
    rows: Range<Int>, n: Int, k: Int, _ lhs: UnsafePointer<Float>, _ rhs: UnsafePointer<Float>,
    _ out: UnsafeMutablePointer<Float>, packA: UnsafeMutablePointer<Float>, packB: UnsafeMutablePointer<Float>
  ) {
    var pc = 0
    while pc < k {
      let depth = min(kc, k &- pc)
      packPanelsOfB(rhs + (pc &* n), n: n, depth: depth, into: packB)
      var ic = rows.lowerBound
      while ic < rows.upperBound {
        let height = min(mc, rows.upperBound &- ic)
        packPanelsOfA(lhs + (ic &* k &+ pc), k: k, height: height, depth: depth, into: packA)
        var jr = 0
        while jr < n {
          var ir = 0
          while ir < height {
            micro(packA + (ir &* depth), packB + (jr &* depth), depth, out + ((ic &+ ir) &* n &+ jr), n)
            ir &+= mr
          }
          jr &+= nr
        }
        ic &+= mc
      }
      pc &+= kc
    }
  }

  /// Copies `depth` rows of `rhs` into column panels of `nr`, each panel contiguous row by row.
  @inline(__always)
  static func packPanelsOfB(_ rhs: UnsafePointer<Float>, n: Int, depth: Int, into dst: UnsafeMutablePointer<Float>) {
    var j = 0
    while j < n {
      let panel = dst + (j &* depth)
      for p in 0..<depth {
        let row = rhs + (p &* n &+ j)
        for q in 0..<nr { panel[p &* nr &+ q] = row[q] }
      }
      j &+= nr
    }
  }

  /// Copies `height` rows of `lhs` (`depth` columns) into row panels of `mr`, interleaved by column.
  @inline(__always)
  static func packPanelsOfA(
    _ lhs: UnsafePointer<Float>, k: Int, height: Int, depth: Int, into dst: UnsafeMutablePointer<Float>
  ) {
    var i = 0
    while i < height {
      let panel = dst + (i &* depth)
      for p in 0..<depth {
        for r in 0..<mr { panel[p &* mr &+ r] = lhs[(i &+ r) &* k &+ p] }
      }
      i &+= mr
    }
  }

  /// The 6 × 16 register tile: `c[0..<6, 0..<16] += a-panel · b-panel` over `depth`, with fused
  /// multiply-adds (`addingProduct`) on eight-lane vectors.
  @inline(__always)
  static func micro(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ depth: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
  ) {
    typealias V = SIMD8<Float>
    var c00 = V()
    var c01 = V()
    var c10 = V()
    var c11 = V()
    var c20 = V()
    var c21 = V()
    var c30 = V()
    var c31 = V()
    var c40 = V()
    var c41 = V()
    var c50 = V()
    var c51 = V()
    let rb = UnsafeRawPointer(b)
    var p = 0
    while p < depth {
      let b0 = rb.loadUnaligned(fromByteOffset: p &* 64, as: V.self)
      let b1 = rb.loadUnaligned(fromByteOffset: p &* 64 &+ 32, as: V.self)
      let ap = a + (p &* 6)
      var x = V(repeating: ap[0])
      c00 = c00.addingProduct(x, b0)
      c01 = c01.addingProduct(x, b1)
      x = V(repeating: ap[1])
      c10 = c10.addingProduct(x, b0)
      c11 = c11.addingProduct(x, b1)
      x = V(repeating: ap[2])
      c20 = c20.addingProduct(x, b0)
      c21 = c21.addingProduct(x, b1)
      x = V(repeating: ap[3])
      c30 = c30.addingProduct(x, b0)
      c31 = c31.addingProduct(x, b1)
      x = V(repeating: ap[4])
      c40 = c40.addingProduct(x, b0)
      c41 = c41.addingProduct(x, b1)
      x = V(repeating: ap[5])
      c50 = c50.addingProduct(x, b0)
      c51 = c51.addingProduct(x, b1)
      p &+= 1
    }
    let rc = UnsafeMutableRawPointer(c)
    @inline(__always) func add(_ row: Int, _ v0: V, _ v1: V) {
      let o = row &* ldc &* 4
      rc.storeBytes(of: rc.loadUnaligned(fromByteOffset: o, as: V.self) + v0, toByteOffset: o, as: V.self)
      rc.storeBytes(of: rc.loadUnaligned(fromByteOffset: o &+ 32, as: V.self) + v1, toByteOffset: o &+ 32, as: V.self)
    }
    add(0, c00, c01)
    add(1, c10, c11)
    add(2, c20, c21)
    add(3, c30, c31)
    add(4, c40, c41)
    add(5, c50, c51)
  }
}
