//! GoogLeNet (Inception v1), the network of the 2015 DeepDream, in torchvision's layout and with
//! its key names (`conv1.conv.weight`, `inception4c.branch2.1.bn.running_var`, ..., `fc.weight`),
//! so it loads the state dict of `torchvision.models.googlenet(weights="IMAGENET1K_V1")`.
//!
//! Matches torchvision's eval-mode forward with `transform_input=True` (as its pretrained weights
//! are used): BasicConv2d is a convolution without bias, BatchNorm (eps 1e-3) and ReLU; max pools
//! round up (`ceil_mode=True`); the "5x5" branch is a 3x3 convolution, as in torchvision.
use crate::error::{Error, Result};
use crate::model::layers::{LayerId, NetworkOptions, Store, channels_last, convert_conv};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// The named stages of torchvision's forward, in order: the layers a dream can name.
const STAGES: [(&str, Stage); 16] = [
    ("conv1", Stage::Conv { stride: 2 }),
    ("maxpool1", Stage::MaxPool { kernel: 3 }),
    ("conv2", Stage::Conv { stride: 1 }),
    ("conv3", Stage::Conv { stride: 1 }),
    ("maxpool2", Stage::MaxPool { kernel: 3 }),
    ("inception3a", Stage::Inception),
    ("inception3b", Stage::Inception),
    ("maxpool3", Stage::MaxPool { kernel: 3 }),
    ("inception4a", Stage::Inception),
    ("inception4b", Stage::Inception),
    ("inception4c", Stage::Inception),
    ("inception4d", Stage::Inception),
    ("inception4e", Stage::Inception),
    ("maxpool4", Stage::MaxPool { kernel: 2 }),
    ("inception5a", Stage::Inception),
    ("inception5b", Stage::Inception),
];

#[derive(Clone, Copy)]
enum Stage {
    Conv {
        stride: i64,
    },
    /// Stride 2, rounding up.
    MaxPool {
        kernel: i64,
    },
    Inception,
}

/// torchvision's module names: `conv1`, `maxpool1`, ..., `inception4c`, ..., `inception5b`.
pub fn layer_names() -> Vec<String> {
    STAGES.iter().map(|(name, _)| name.to_string()).collect()
}

/// torchvision's BasicConv2d: convolution (padding k/2), BatchNorm, ReLU.
struct BasicConv {
    weight: Tensor,
    bias: Option<Tensor>,
    /// `scale * x + shift` per channel; None once folded into the convolution.
    norm: Option<(Tensor, Tensor)>,
    stride: i64,
    pad: i64,
}

impl BasicConv {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = x.f_conv2d(&self.weight, self.bias.as_ref(), [self.stride; 2], [self.pad; 2], [1, 1], 1)?;
        if let Some((scale, shift)) = &self.norm {
            y = y.f_mul(scale)?.f_add(shift)?;
        }
        Ok(y.f_relu()?)
    }

    fn convert(&mut self, kind: Kind) -> Result<()> {
        convert_conv(&mut self.weight, &mut self.bias, &mut self.norm, kind)
    }

    fn prepare(&mut self, device: Device, options: NetworkOptions) -> Result<()> {
        if options.fold_batch_norm
            && let Some((scale, shift)) = self.norm.take()
        {
            let out_channels = self.weight.size()[0];
            self.weight = self.weight.f_mul(&scale.f_reshape([out_channels, 1, 1, 1])?)?;
            self.bias = Some(shift.f_reshape([out_channels])?);
        }
        self.weight = self.weight.f_to_device(device)?;
        if options.channels_last {
            self.weight = channels_last(&self.weight)?;
        }
        self.bias = self.bias.as_ref().map(|b| b.f_to_device(device)).transpose()?;
        if let Some((scale, shift)) = &self.norm {
            self.norm = Some((scale.f_to_device(device)?, shift.f_to_device(device)?));
        }
        Ok(())
    }
}

/// Four branches concatenated: 1x1; 1x1 then 3x3; 1x1 then 3x3; 3x3 max pool then 1x1.
struct Inception {
    branch1: BasicConv,
    branch2: [BasicConv; 2],
    branch3: [BasicConv; 2],
    branch4: BasicConv,
}

impl Inception {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let b1 = self.branch1.forward(x)?;
        let b2 = self.branch2[1].forward(&self.branch2[0].forward(x)?)?;
        let b3 = self.branch3[1].forward(&self.branch3[0].forward(x)?)?;
        let pooled = x.f_max_pool2d([3, 3], [1, 1], [1, 1], [1, 1], true)?;
        let b4 = self.branch4.forward(&pooled)?;
        Ok(Tensor::f_cat(&[b1, b2, b3, b4], 1)?)
    }

    fn convs_mut(&mut self) -> impl Iterator<Item = &mut BasicConv> {
        [&mut self.branch1, &mut self.branch4].into_iter().chain(&mut self.branch2).chain(&mut self.branch3)
    }
}

enum Layer {
    Conv(BasicConv),
    MaxPool { kernel: i64 },
    Inception(Box<Inception>),
}

impl Layer {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Layer::Conv(conv) => conv.forward(x),
            Layer::MaxPool { kernel } => Ok(x.f_max_pool2d([*kernel; 2], [2, 2], [0, 0], [1, 1], true)?),
            Layer::Inception(inception) => inception.forward(x),
        }
    }
}

pub struct GoogLeNet {
    layers: Vec<Layer>,
    classifier: (Tensor, Tensor),
    device: Device,
    channels_last: bool,
    /// The kind the convolutions run in (see [`GoogLeNet::set_precision`]).
    precision: Kind,
}

impl GoogLeNet {
    /// Loads torchvision's `googlenet` state dict. The auxiliary classifiers (`aux1.*`, `aux2.*`,
    /// used only in training) are skipped; every other key must be used.
    pub fn load(path: &Path, device: Device, options: NetworkOptions) -> Result<Self> {
        let raw = crate::model::weights::read_pth(path)
            .map_err(|source| Error::Weights { path: path.to_owned(), source: Box::new(source) })?;
        if !raw.iter().any(|(name, _)| name == "inception4c.branch1.conv.weight") {
            let model = crate::error::mention("model");
            let message =
                format!("not a torchvision GoogLeNet state dict (no 'inception4c'): is this the right {model}?");
            return Err(Error::input(path, message));
        }
        let mut store = Store::new(path, raw, |name| name.starts_with("aux1.") || name.starts_with("aux2."))?;
        let mut layers = Vec::with_capacity(STAGES.len());
        for (name, stage) in STAGES {
            layers.push(match stage {
                Stage::Conv { stride } => Layer::Conv(conv(&mut store, name, stride)?),
                Stage::MaxPool { kernel } => Layer::MaxPool { kernel },
                Stage::Inception => Layer::Inception(Box::new(Inception {
                    branch1: conv(&mut store, &format!("{name}.branch1"), 1)?,
                    branch2: [
                        conv(&mut store, &format!("{name}.branch2.0"), 1)?,
                        conv(&mut store, &format!("{name}.branch2.1"), 1)?,
                    ],
                    branch3: [
                        conv(&mut store, &format!("{name}.branch3.0"), 1)?,
                        conv(&mut store, &format!("{name}.branch3.1"), 1)?,
                    ],
                    branch4: conv(&mut store, &format!("{name}.branch4.1"), 1)?,
                })),
            });
        }
        let classifier = (store.take("fc.weight")?.f_to_device(device)?, store.take("fc.bias")?.f_to_device(device)?);
        store.finish()?;
        for layer in &mut layers {
            match layer {
                Layer::Conv(conv) => conv.prepare(device, options)?,
                Layer::Inception(inception) => {
                    for conv in inception.convs_mut() {
                        conv.prepare(device, options)?;
                    }
                }
                Layer::MaxPool { .. } => {}
            }
        }
        Ok(GoogLeNet { layers, classifier, device, channels_last: options.channels_last, precision: Kind::Float })
    }

    /// Converts the convolutions once to `kind` (checked by [`Network::set_precision`]); the
    /// classifier stays fp32 (its input is cast).
    pub(crate) fn set_precision(&mut self, kind: Kind) -> Result<()> {
        for layer in &mut self.layers {
            match layer {
                Layer::Conv(conv) => conv.convert(kind)?,
                Layer::Inception(inception) => inception.convs_mut().try_for_each(|conv| conv.convert(kind))?,
                Layer::MaxPool { .. } => {}
            }
        }
        self.precision = kind;
        Ok(())
    }

    pub fn precision(&self) -> Kind {
        self.precision
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn layer_names(&self) -> Vec<String> {
        layer_names()
    }

    /// A torchvision module name; `inception_4c` (the Caffe spelling) is taken too.
    pub fn parse_layer(&self, name: &str) -> Option<LayerId> {
        let name = name.trim().replace('_', "");
        let name = name.strip_suffix("/output").unwrap_or(&name);
        STAGES.iter().position(|(stage, _)| *stage == name).map(LayerId)
    }

    /// Activations of `layers` for `image` (RGB in [0, 1]), running only as deep as needed.
    pub fn activations(&self, image: &Tensor, layers: &[LayerId]) -> Result<Vec<Tensor>> {
        let deepest = layers.iter().max().map_or(0, |l| l.0);
        let mut found: Vec<Option<Tensor>> = (0..layers.len()).map(|_| None).collect();
        let mut h = self.input(image)?;
        for (index, layer) in self.layers.iter().enumerate().take(deepest + 1) {
            h = layer.forward(&h)?;
            for (slot, wanted) in found.iter_mut().zip(layers) {
                if wanted.0 == index {
                    *slot = Some(h.shallow_clone());
                }
            }
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// ImageNet logits: global average pool of `inception5b`, then `fc` (dropout is off in eval).
    pub fn logits(&self, image: &Tensor) -> Result<Tensor> {
        let last = LayerId(self.layers.len() - 1);
        let features = self.activations(image, &[last])?.remove(0);
        let pooled = features.f_mean_dim([2i64, 3].as_slice(), false, Kind::Float)?;
        let (weight, bias) = &self.classifier;
        Ok(pooled.f_to_kind(weight.kind())?.f_linear(weight, Some(bias))?)
    }

    /// Shapes `[C, H, W]` of every layer for an input of `height` x `width`.
    pub fn layer_shapes(&self, height: i64, width: i64) -> Result<Vec<Vec<i64>>> {
        let _guard = tch::no_grad_guard();
        let image = Tensor::f_zeros([1, 3, height, width], (Kind::Float, self.device))?;
        let all: Vec<LayerId> = (0..self.layers.len()).map(LayerId).collect();
        Ok(self.activations(&image, &all)?.iter().map(|a| a.size()[1..].to_vec()).collect())
    }

    /// torchvision feeds ImageNet-normalised input, `(x - mean) / std`, and `transform_input`
    /// maps it back to `(x - 0.5) / 0.5` per channel (what the Caffe-trained weights expect);
    /// the two together are exactly `2x - 1` of the [0, 1] image, so that is what we compute.
    fn input(&self, image: &Tensor) -> Result<Tensor> {
        let kind = self.classifier.0.kind();
        let x = image.f_mul_scalar(2.0)?.f_sub_scalar(1.0)?.f_to_kind(kind)?;
        if self.channels_last { channels_last(&x) } else { Ok(x) }
    }
}

/// `prefix.conv.weight` and `prefix.bn.*`: a BasicConv2d.
fn conv(store: &mut Store, prefix: &str, stride: i64) -> Result<BasicConv> {
    let weight = store.take(&format!("{prefix}.conv.weight"))?;
    let size = weight.size();
    if size.len() != 4 {
        return Err(store.error(format!("{prefix}.conv.weight: expected 4 dimensions, found {size:?}")));
    }
    let norm = store.batch_norm(&format!("{prefix}.bn"))?;
    Ok(BasicConv { weight, bias: None, norm: Some(norm), stride, pad: size[2] / 2 })
}
