//! What the dream maximises: whole layers, chosen channels, ImageNet classes, or a guide image's
//! features; and the image prior that keeps a class dream from noise natural.
use crate::error::{Error, Result};
use crate::model::layers::LayerId;
use crate::model::network::Network;
use tch::{Kind, Tensor};

/// The blur prior of a class dream unless `--blur` says otherwise: enough to grow objects from
/// noise rather than the high-frequency patterns that raise a logit just as well.
pub(crate) const DEFAULT_CLASS_BLUR: f64 = 0.3;

/// Guides are seen at this width (the network's input size, as the notebook's guide was): enough
/// texture, and a bounded number of guide features to match against.
pub const GUIDE_WIDTH: u32 = 224;

/// The smallest image side every layer can take (the deepest stride-2 stages need it).
pub(crate) const MIN_SIDE: i64 = 32;

/// Refuses a frame too small for the network, which torch would fail on deep inside.
pub fn check_size(image: &Tensor) -> Result<()> {
    let size = image.size();
    let (height, width) = (size[2], size[3]);
    if height.min(width) < MIN_SIDE {
        return Err(Error::setting(
            "width",
            format!("a {width}x{height} frame is too small to dream: it needs at least {MIN_SIDE} pixels a side"),
        ));
    }
    Ok(())
}

/// fp16's smallest normal number is 6e-5: the gradient of a mean over millions of activations
/// lies far below it and would flush to zero, so an fp16 network's objective is scaled up before
/// the backward pass. The pixel step divides by the mean |gradient| and Adam by its spread, so the scale cancels. bf16 has
/// fp32's exponent range and needs none.
pub const FP16_LOSS_SCALE: f64 = 1024.0;

/// The objective of one dream, checked against its network.
#[derive(Debug)]
pub enum Objective {
    /// `sum over layers of mean(activation^2)`: the classic DeepDream.
    Layers(Vec<LayerId>),
    /// `sum over (layer, channels) of mean(activation[channels])`: the mean, not its square as
    /// for whole layers, so a channel that is mostly negative (EfficientNet's blocks end without
    /// an activation function) is raised, not pushed further down.
    Channels(Vec<(LayerId, Vec<i64>)>),
    /// The sum of these ImageNet classes' logits.
    Class(Vec<i64>),
    /// The 2015 notebook's guided objective at each layer: every position's feature vector is
    /// matched to the guide's feature (a column of `[C, positions]`) with the largest dot product,
    /// and the dream raises that dot product.
    Guide(Vec<(LayerId, Tensor)>),
    /// The sum of several objectives: a class with a layer's look (`--class banana --layers blocks.10`).
    Sum(Vec<Objective>),
}

impl Clone for Objective {
    fn clone(&self) -> Self {
        match self {
            Objective::Layers(layers) => Objective::Layers(layers.clone()),
            Objective::Channels(sets) => Objective::Channels(sets.clone()),
            Objective::Class(classes) => Objective::Class(classes.clone()),
            Objective::Guide(guides) => {
                Objective::Guide(guides.iter().map(|(layer, features)| (*layer, features.shallow_clone())).collect())
            }
            Objective::Sum(parts) => Objective::Sum(parts.clone()),
        }
    }
}

impl PartialEq for Objective {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Objective::Layers(a), Objective::Layers(b)) => a == b,
            (Objective::Channels(a), Objective::Channels(b)) => a == b,
            (Objective::Class(a), Objective::Class(b)) => a == b,
            (Objective::Guide(a), Objective::Guide(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|((la, fa), (lb, fb))| la == lb && fa.equal(fb))
            }
            (Objective::Sum(a), Objective::Sum(b)) => a == b,
            _ => false,
        }
    }
}

impl Objective {
    /// The objective's value for `image` (N x 3 x H x W in [0, 1]), a scalar to ascend.
    pub fn value(&self, network: &Network, image: &Tensor) -> Result<Tensor> {
        check_size(image)?;
        let terms = match self {
            Objective::Layers(layers) => network
                .activations(image, layers)?
                .iter()
                .map(|a| Ok(a.f_to_kind(Kind::Float)?.f_square()?.f_mean(Kind::Float)?))
                .collect::<Result<Vec<_>>>()?,
            Objective::Channels(sets) => {
                let layers: Vec<LayerId> = sets.iter().map(|(layer, _)| *layer).collect();
                let mut terms = Vec::with_capacity(sets.len());
                for (activation, (_, channels)) in network.activations(image, &layers)?.iter().zip(sets) {
                    terms.push(channel_mean(activation, channels)?);
                }
                terms
            }
            Objective::Class(classes) => {
                let logits = network.logits(image)?.f_to_kind(Kind::Float)?;
                let index = Tensor::from_slice(classes).f_to_device(logits.device())?;
                let batch = logits.size()[0] as f64;
                vec![logits.f_index_select(1, &index)?.f_sum(Kind::Float)?.f_div_scalar(batch)?]
            }
            Objective::Guide(guides) => {
                let layers: Vec<LayerId> = guides.iter().map(|(layer, _)| *layer).collect();
                let activations = network.activations(image, &layers)?;
                activations.iter().zip(guides).map(|(a, (_, guide))| guided(a, guide)).collect::<Result<Vec<_>>>()?
            }
            Objective::Sum(parts) => parts.iter().map(|part| part.value(network, image)).collect::<Result<Vec<_>>>()?,
        };
        let mut terms = terms.into_iter();
        let first = terms.next().ok_or_else(|| Error::setting("layers", "name at least one layer"))?;
        terms.try_fold(first, |sum, term| Ok(sum.f_add(&term)?))
    }

    /// The objective as a number, without building a graph.
    pub fn value_of(&self, network: &Network, image: &Tensor) -> Result<f64> {
        let _guard = tch::no_grad_guard();
        Ok(self.value(network, image)?.f_double_value(&[])?)
    }

    /// A guided objective at `layers`: the guide image's features there (no gradient kept).
    pub fn guide(network: &Network, guide: &Tensor, layers: &[LayerId]) -> Result<Objective> {
        check_size(guide)?;
        let _guard = tch::no_grad_guard();
        let mut guides = Vec::with_capacity(layers.len());
        for (activation, layer) in network.activations(guide, layers)?.iter().zip(layers) {
            let channels = activation.size()[1];
            // [C, N*H*W]: one column per guide position.
            let features = activation.f_to_kind(Kind::Float)?.f_transpose(0, 1)?.f_reshape([channels, -1])?;
            guides.push((*layer, features.f_contiguous()?));
        }
        Ok(Objective::Guide(guides))
    }
}

/// `mean over positions p of x_p . y_best(p)`, `best(p) = argmax_q x_p . y_q` held fixed: its
/// gradient with respect to the activation is the best-matching guide feature at each position,
/// what the notebook's `objective_guide` writes into `dst.diff`.
fn guided(activation: &Tensor, guide: &Tensor) -> Result<Tensor> {
    let size = activation.size();
    let (batch, channels, height, width) = (size[0], size[1], size[2], size[3]);
    let positions = batch * height * width;
    let matched = {
        let _guard = tch::no_grad_guard();
        // [positions, C] against the guide's [C, guide positions].
        let x = activation.f_to_kind(Kind::Float)?.f_permute([0, 2, 3, 1])?.f_reshape([-1, channels])?;
        let best = x.f_mm(guide)?.f_argmax(1, false)?;
        // Back to N x C x H x W with channels-last strides, so the gradient enters the network in
        // the layout it runs in (on the CPU the cost per step measured the same either way).
        let matched = guide.f_index_select(1, &best)?.f_transpose(0, 1)?.f_contiguous()?;
        matched.f_reshape([batch, height, width, channels])?.f_permute([0, 3, 1, 2])?.f_div_scalar(positions as f64)?
    };
    Ok(activation.f_to_kind(Kind::Float)?.f_mul(&matched)?.f_sum(Kind::Float)?)
}

/// `mean(activation[channels])` as a product with a channels-last mask, so that the gradient (the
/// mask) enters the network in the layout it runs in.
fn channel_mean(activation: &Tensor, channels: &[i64]) -> Result<Tensor> {
    let size = activation.size();
    let mut mask = vec![0f32; size[1] as usize];
    for &channel in channels {
        mask[channel as usize] = 1.0 / (channels.len() as i64 * size[0] * size[2] * size[3]) as f32;
    }
    let mask = Tensor::from_slice(&mask).f_to_device(activation.device())?.f_view([1, size[1], 1, 1])?;
    let mask = crate::model::layers::channels_last(&mask.f_expand(size.as_slice(), false)?)?;
    Ok(activation.f_to_kind(Kind::Float)?.f_mul(&mask)?.f_sum(Kind::Float)?)
}

/// The image prior of a class dream from noise: after each step the image is mixed, by `share`,
/// with its 3x3 blur, which keeps neighbouring pixels correlated, so objects grow instead of the
/// high-frequency patterns that raise a logit just as well.
pub(crate) fn blur_prior(image: &Tensor, share: f64) -> Result<Tensor> {
    if share <= 0.0 {
        return Ok(image.shallow_clone());
    }
    // count_include_pad = false: the edge pixels average only what is inside the image.
    let blurred = image.f_avg_pool2d([3, 3], [1, 1], [1, 1], false, false, None)?;
    Ok(image.f_mul_scalar(1.0 - share)?.f_add(&blurred.f_mul_scalar(share)?)?)
}

/// Parses one `--channels LAYER:C1,C2,...` against `network`.
pub(crate) fn parse_channels(network: &Network, text: &str) -> Result<(LayerId, Vec<i64>)> {
    let bad = |message: String| Error::setting("channels", message);
    let (layer_name, list) =
        text.split_once(':').ok_or_else(|| bad(format!("'{text}' must be LAYER:C1,C2,... such as blocks.10:3,17")))?;
    let layer = network.parse_layer(layer_name).ok_or_else(|| {
        bad(format!("'{}' is not a layer of {}: {}", layer_name.trim(), network.kind().name(), network.layer_hint()))
    })?;
    let count = network.layer_shapes(64, 64)?[layer.0][0];
    let mut channels = Vec::new();
    for item in list.split(',').map(str::trim).filter(|item| !item.is_empty()) {
        let channel: i64 = item.parse().map_err(|_| bad(format!("'{item}' in '{text}' is not a channel number")))?;
        if !(0..count).contains(&channel) {
            return Err(bad(format!(
                "channel {channel} of {}: the layer has channels 0 to {}",
                layer_name.trim(),
                count - 1
            )));
        }
        if !channels.contains(&channel) {
            channels.push(channel);
        }
    }
    if channels.is_empty() {
        return Err(bad(format!("'{text}' names no channel")));
    }
    Ok((layer, channels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn the_blur_prior_keeps_flat_images_and_smooths_edges() {
        let flat = Tensor::full([1, 3, 8, 8], 0.3, (Kind::Float, Device::Cpu));
        let diff = (blur_prior(&flat, 0.5).unwrap() - &flat).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "a flat image stays flat: {diff}");
        let spike = Tensor::zeros([1, 1, 5, 5], (Kind::Float, Device::Cpu));
        let _ = spike.get(0).get(0).get(2).get(2).fill_(1.0);
        let blurred = blur_prior(&spike, 0.3).unwrap();
        assert!((blurred.double_value(&[0, 0, 2, 2]) - (0.7 + 0.3 / 9.0)).abs() < 1e-6);
        assert!((blurred.double_value(&[0, 0, 1, 1]) - 0.3 / 9.0).abs() < 1e-6);
    }

    #[test]
    fn the_guided_gradient_is_the_best_matching_guide_feature() {
        // Two guide features; position 0 points along the first, position 1 along the second.
        let guide = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 2.0]).reshape([2, 2]);
        let x = Tensor::from_slice(&[3.0f32, 0.1, 0.2, 1.0]).reshape([1, 2, 1, 2]).set_requires_grad(true);
        let value = guided(&x, &guide).unwrap();
        let grad = Tensor::run_backward(&[value], &[&x], false, false).remove(0);
        let got: Vec<f32> = Vec::try_from(grad.flatten(0, -1)).unwrap();
        // Channel-major: position 0 gets (1, 0) / 2, position 1 gets (0, 2) / 2.
        assert_eq!(got, vec![0.5, 0.0, 0.0, 1.0]);
    }
}
