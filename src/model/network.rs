//! The networks a dream can run, behind one interface: [`ModelKind`] names them, [`Network`]
//! holds a loaded EfficientNet-Lite or GoogLeNet; [`models_dir`] is where installed weights live.
use crate::error::{Error, Result};
use crate::model::efficientnet::EfficientNet;
use crate::model::googlenet::GoogLeNet;
use crate::model::kind::{ModelKind, models_dir};
use crate::model::layers::{LayerId, NetworkOptions};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// A network the dream can run: EfficientNet-Lite or GoogLeNet, behind one interface.
pub enum Network {
    EfficientNet(EfficientNet),
    GoogLeNet(GoogLeNet),
}

impl Network {
    /// Loads the installed weights of `kind` from [`models_dir`].
    pub fn load_installed(kind: ModelKind, device: Device, options: NetworkOptions) -> Result<Self> {
        let path = models_dir().join(kind.weights_file_name());
        if !path.exists() {
            let how = match kind {
                ModelKind::GoogLeNet => "see the README's GoogLeNet section",
                _ => "run scripts/setup.sh",
            };
            let how = format!("{how}, or give {} FILE", crate::error::mention("weights"));
            return Err(Error::input(&path, format!("weights of {} are not installed: {how}", kind.name())));
        }
        Self::load(kind, &path, device, options)
    }

    /// Loads a `torch.save` state dict of `kind`; every key must be used.
    pub fn load(kind: ModelKind, path: &Path, device: Device, options: NetworkOptions) -> Result<Self> {
        Ok(match kind {
            ModelKind::GoogLeNet => Network::GoogLeNet(GoogLeNet::load(path, device, options)?),
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
            return Err(Error::setting("precision", format!("{kind:?} is not fp32, bf16 or fp16")));
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
    pub(crate) fn layer_hint(&self) -> String {
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
        return crate::model::googlenet::layer_names();
    }
    let mut names = vec!["stem".to_string()];
    names.extend((0..crate::model::efficientnet::block_strides(kind).len()).map(|i| format!("blocks.{i}")));
    names.push("head".into());
    names
}
