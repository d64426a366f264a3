//! What both networks are built from: layer ids, the options that prepare a network for its
//! device, the channels-last layout, batch norm in inference form, and the state-dict store that
//! hands out weights by name and checks every one was used.
use crate::error::{Error, Result};
use crate::model::weights::{DType, RawTensor};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// BatchNorm's epsilon in both networks (TensorFlow's EfficientNet and torchvision's GoogLeNet).
pub(crate) const BN_EPS: f64 = 1e-3;

/// A layer the dream can maximise: 0 is the stem, 1..=n the blocks, n+1 the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LayerId(pub usize);

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

/// The same tensor stored channels-last (NHWC strides, NCHW shape), which oneDNN's and cuDNN's
/// convolutions run fastest on; later layers keep the layout.
pub fn channels_last(x: &Tensor) -> Result<Tensor> {
    Ok(x.f_permute([0, 2, 3, 1])?.f_contiguous()?.f_permute([0, 3, 1, 2])?)
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

/// The state dict being turned into layers; remembers which keys were used.
pub(crate) struct Store {
    path: PathBuf,
    tensors: HashMap<String, Tensor>,
}

impl Store {
    /// The float32 tensors of `raw`, less BatchNorm's step counters and the keys `skip` names.
    pub(crate) fn new(path: &Path, raw: Vec<(String, RawTensor)>, skip: impl Fn(&str) -> bool) -> Result<Self> {
        let mut tensors = HashMap::with_capacity(raw.len());
        for (name, tensor) in raw {
            // BatchNorm's step counter plays no part in inference.
            if name.ends_with("num_batches_tracked") || skip(&name) {
                continue;
            }
            if tensor.dtype != DType::F32 {
                return Err(Error::input(path, format!("{name}: expected float32 weights, found {:?}", tensor.dtype)));
            }
            let shape: Vec<i64> = tensor.shape.iter().map(|&d| d as i64).collect();
            tensors.insert(name, Tensor::f_from_data_size(&tensor.data, &shape, Kind::Float)?);
        }
        Ok(Store { path: path.to_owned(), tensors })
    }

    pub(crate) fn error(&self, message: String) -> Error {
        Error::input(&self.path, message)
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &String> {
        self.tensors.keys()
    }

    pub(crate) fn take(&mut self, name: &str) -> Result<Tensor> {
        self.tensors.remove(name).ok_or_else(|| self.error(format!("missing weight '{name}'")))
    }

    /// `prefix.weight`, `.bias`, `.running_mean`, `.running_var` of a BatchNorm, as the per-channel
    /// `(scale, shift)` of `scale * x + shift`, shaped `[1, C, 1, 1]`.
    pub(crate) fn batch_norm(&mut self, prefix: &str) -> Result<(Tensor, Tensor)> {
        let gamma = self.take(&format!("{prefix}.weight"))?;
        let beta = self.take(&format!("{prefix}.bias"))?;
        let mean = self.take(&format!("{prefix}.running_mean"))?;
        let var = self.take(&format!("{prefix}.running_var"))?;
        let channels = gamma.size()[0];
        let scale = gamma.f_div(&var.f_add_scalar(BN_EPS)?.f_sqrt()?)?;
        let shift = beta.f_sub(&mean.f_mul(&scale)?)?;
        Ok((scale.f_reshape([1, channels, 1, 1])?, shift.f_reshape([1, channels, 1, 1])?))
    }

    /// Every key must have found its layer: a leftover means the file is not this network.
    pub(crate) fn finish(self) -> Result<()> {
        let mut left: Vec<&String> = self.tensors.keys().collect();
        left.sort();
        match left.first() {
            None => Ok(()),
            Some(first) => Err(self.error(format!("{} unexpected weight(s), first '{first}'", left.len()))),
        }
    }
}
