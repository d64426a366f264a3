//! What a network sees in an image: the ImageNet classes it ranks highest, with probabilities.
use crate::error::Result;
use crate::model::imagenet::class_name;
use crate::model::network::Network;
use serde::Serialize;
use tch::{Kind, Tensor};

/// One ranked class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// The ImageNet class index, 0 to 999.
    pub index: usize,
    pub name: String,
    /// Softmax probability over the 1,000 classes.
    pub probability: f64,
}

/// The `top` most probable classes of `image` (1 x 3 x H x W in [0, 1]), best first. The whole
/// image is seen, its shorter side scaled to the network's nominal input size (224 px; 240 and
/// 260 for Lite1 and Lite2), as the networks were trained to see objects.
pub fn classify(network: &Network, image: &Tensor, top: usize) -> Result<Vec<Prediction>> {
    let _guard = tch::no_grad_guard();
    let size = image.size();
    let (height, width) = (size[2] as f64, size[3] as f64);
    let scale = network.kind().nominal_size() as f64 / height.min(width);
    let (h, w) = ((height * scale).round() as i64, (width * scale).round() as i64);
    let image = image.f_to_device(network.device())?;
    let resized = image.f_upsample_bilinear2d([h, w], false, None, None)?.f_clamp(0.0, 1.0)?;
    let probabilities = network.logits(&resized)?.f_to_kind(Kind::Float)?.f_softmax(1, Kind::Float)?.f_get(0)?;
    let count = probabilities.size()[0];
    let (values, indices) = probabilities.f_topk((top as i64).min(count), 0, true, true)?;
    let mut predictions = Vec::with_capacity(top);
    for rank in 0..values.size()[0] {
        let index = indices.f_int64_value(&[rank])? as usize;
        let probability = values.f_double_value(&[rank])?;
        predictions.push(Prediction { index, name: class_name(index).to_string(), probability });
    }
    Ok(predictions)
}
