/// The aten ops whose shapes the importer keeps, because their FLOPs and bytes can be derived
/// from `Input Dims` (the roofline in `CostModels.OpCost` does the arithmetic).
public enum OpShapes {
  public static let sizable: Set<String> = [
    "aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul", "aten::linear",
    "aten::_scaled_dot_product_flash_attention", "aten::_scaled_dot_product_efficient_attention",
    "aten::_scaled_dot_product_cudnn_attention", "aten::_flash_attention_forward", "aten::_efficient_attention_forward",
    "aten::add", "aten::add_", "aten::mul", "aten::mul_", "aten::sub", "aten::div", "aten::relu", "aten::relu_",
    "aten::gelu", "aten::silu", "aten::sigmoid", "aten::tanh", "aten::copy_", "aten::fill_", "aten::threshold_backward",
    "aten::sum", "aten::mean", "aten::_softmax", "aten::softmax", "aten::native_layer_norm", "aten::layer_norm",
    "aten::rms_norm", "aten::_fused_rms_norm",
  ]
  public static func isSizable(_ name: String) -> Bool { sizable.contains(name) }
}
