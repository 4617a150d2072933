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
    // What `whatif --parallel` re-partitions besides: attention on CPU and its composite, the
    // backward ops, losses, embeddings and dropout (docs/models/parallel.md, "Reading the shapes").
    "aten::scaled_dot_product_attention", "aten::_scaled_dot_product_flash_attention_for_cpu",
    "aten::_scaled_dot_product_flash_attention_for_cpu_backward", "aten::_scaled_dot_product_flash_attention_backward",
    "aten::_scaled_dot_product_efficient_attention_backward", "aten::_scaled_dot_product_cudnn_attention_backward",
    "aten::_flash_attention_backward", "aten::_efficient_attention_backward", "aten::gelu_backward",
    "aten::silu_backward", "aten::native_layer_norm_backward", "aten::_fused_rms_norm_backward", "aten::_log_softmax",
    "aten::log_softmax", "aten::_log_softmax_backward_data", "aten::_softmax_backward_data", "aten::nll_loss_forward",
    "aten::nll_loss_backward", "aten::cross_entropy_loss", "aten::embedding", "aten::embedding_dense_backward",
    "aten::dropout", "aten::native_dropout", "aten::native_dropout_backward", "aten::cat",
  ]
  public static func isSizable(_ name: String) -> Bool { sizable.contains(name) }
}
