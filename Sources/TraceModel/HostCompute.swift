/// The compute of a CPU-only rank (gloo, no device streams): the PyTorch operators (`aten::…`)
/// its host threads run, each with a compute class as kernels have on a GPU.
///
/// On such a rank the operators are the work that `compute.*` knobs scale and that the temporal
/// breakdown counts as compute; their leaves (operators without traced children) carry the time
/// a replay re-times. The class comes from the operator's name, not from substrings of it as
/// for device kernels (`aten::addmm` is a matrix product, not an addition):
///
/// | class | operators |
/// |---|---|
/// | gemm | `mm`, `addmm`, `bmm`, `baddbmm`, `addbmm`, `matmul`, `linear`, `mv`, `addmv`, `dot`, `conv*`, `*convolution*` |
/// | attention | `*scaled_dot_product*`, `*attention*` |
/// | reduction | `sum`, `mean`, `*softmax*`, `*norm*`, `*loss*` (not their `_backward`), `max`, `min`, `amax`, `amin`, `argmax`, `argmin`, `prod`, `var`, `std`, `cumsum`, `topk`, `sort`, `logsumexp`, `embedding_bag` |
/// | other | views and allocations: `empty*`, `view`, `reshape`, `as_strided`, `t`, `transpose`, `permute`, `expand`, `detach`, `squeeze`, `unsqueeze`, `select`, `slice`, `alias`, `resolve_conj`, `resolve_neg`, `_unsafe_view`, `_reshape_alias`, `lift_fresh`, `resize_`, `to`, `contiguous`, `narrow`, `split`, `chunk`, `unbind` |
/// | elementwise | every other operator (`add`, `mul`, `relu`, `copy_`, `fill_`, `threshold_backward`, optimizer updates, …) |
public enum HostCompute {
  /// The class of host op `name` when it is an operator (`aten::…`), else nil. A trailing `_`
  /// (in-place variant) is ignored.
  public static func computeClass(_ name: String) -> ComputeClass? {
    guard name.hasPrefix("aten::") else { return nil }
    var op = Substring(name.dropFirst(6))
    if op.hasSuffix("_") && op.count > 1 { op = op.dropLast() }
    let base = String(op)
    if gemm.contains(base) || base.hasPrefix("conv") || base.contains("convolution") { return .gemm }
    if base.contains("scaled_dot_product") || base.contains("attention") { return .attention }
    if views.contains(base) || base.hasPrefix("empty") { return .other }
    if !base.hasSuffix("_backward") && !base.hasSuffix("_backward_data") {
      if reductions.contains(base) || reductionParts.contains(where: { base.contains($0) }) { return .reduction }
    }
    return .elementwise
  }

  static let gemm: Set<String> = [
    "mm", "addmm", "bmm", "baddbmm", "addbmm", "matmul", "linear", "mv", "addmv", "dot", "_addmm_activation",
  ]
  static let views: Set<String> = [
    "view", "reshape", "as_strided", "t", "transpose", "permute", "expand", "detach", "squeeze", "unsqueeze",
    "select", "slice", "alias", "resolve_conj", "resolve_neg", "_unsafe_view", "_reshape_alias", "lift_fresh",
    "resize", "to", "contiguous", "narrow", "split", "chunk", "unbind", "numpy_T", "expand_as", "view_as",
  ]
  static let reductions: Set<String> = [
    "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "prod", "var", "std", "cumsum", "topk", "sort",
    "logsumexp", "embedding_bag", "_embedding_bag",
  ]
  static let reductionParts = ["softmax", "norm", "loss"]
}
