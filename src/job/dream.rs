//! What the dream engine is built from, decided once from the settings: the network and where it
//! runs, the prior, the mask, the guide. What may change from frame to frame (layers, channels,
//! class and the numbers) is each frame's row of the plan ([`crate::job::plan`]), not here.
use crate::config::settings::Settings;
use crate::engine::fourier::Prior;
use crate::engine::visualize::VisualParams;
use crate::model::kind::ModelKind;
use crate::model::precision::Precision;
use std::path::{Path, PathBuf};

/// The engine's settings of a render.
#[derive(Clone, Debug, PartialEq)]
pub struct DreamSpec {
    model: ModelKind,
    weights: Option<PathBuf>,
    device: String,
    threads: u32,
    precision: Precision,
    cudnn_benchmark: bool,
    cuda_graphs: bool,
    seed: u64,
    octaves: u32,
    tile: Option<u32>,
    guide: Option<PathBuf>,
    /// The dream raises the layers too, beside the class.
    class_layers: bool,
    /// `--mask` and whether it is inverted.
    mask: Option<(PathBuf, bool)>,
    /// `None`: the Fourier prior from noise, pixel octaves for an image.
    prior: Option<Prior>,
    visual: VisualParams,
}

impl DreamSpec {
    /// The engine's part of checked settings.
    pub fn of(settings: &Settings) -> DreamSpec {
        DreamSpec {
            model: settings.model(),
            weights: settings.weights(),
            device: settings.device(),
            threads: settings.threads(),
            precision: settings.precision(),
            cudnn_benchmark: settings.cudnn_benchmark(),
            cuda_graphs: settings.cuda_graphs(),
            seed: settings.seed(),
            octaves: settings.octaves(),
            tile: settings.tile(),
            guide: settings.guide(),
            class_layers: settings.class_layers(),
            mask: settings.mask().map(|path| (path, settings.mask_invert())),
            prior: settings.prior(),
            visual: VisualParams {
                steps: settings.steps(),
                image_steps: settings.image_steps(),
                learning_rate: settings.learning_rate(),
                decay: settings.decay(),
                transforms: settings.transforms(),
            },
        }
    }

    /// The same dream on another device.
    pub(crate) fn on_device(&self, device: String) -> DreamSpec {
        DreamSpec { device, ..self.clone() }
    }

    pub fn model(&self) -> ModelKind {
        self.model
    }

    /// `--weights`, when not the installed ones.
    pub fn weights(&self) -> Option<&Path> {
        self.weights.as_deref()
    }

    /// `--device` as given (`auto`, `cpu`, `cuda`, `cuda:N`).
    pub fn device(&self) -> &str {
        &self.device
    }

    /// torch's threads (0: all the machine's).
    pub fn threads(&self) -> u32 {
        self.threads
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    pub fn cudnn_benchmark(&self) -> bool {
        self.cudnn_benchmark
    }

    pub fn cuda_graphs(&self) -> bool {
        self.cuda_graphs
    }

    /// The seed of the noise, the jitter and the Fourier prior.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn octaves(&self) -> u32 {
        self.octaves
    }

    pub fn tile(&self) -> Option<u32> {
        self.tile
    }

    pub fn guide(&self) -> Option<&Path> {
        self.guide.as_deref()
    }

    pub fn class_layers(&self) -> bool {
        self.class_layers
    }

    pub fn mask(&self) -> Option<(&Path, bool)> {
        self.mask.as_ref().map(|(path, invert)| (path.as_path(), *invert))
    }

    /// The prior of a dream of an image (pixel octaves unless `--prior fourier`).
    pub fn image_prior(&self) -> Prior {
        self.prior.unwrap_or(Prior::Pixel)
    }

    /// The prior of a dream from noise (the Fourier prior unless `--prior pixel`).
    pub fn noise_prior(&self) -> Prior {
        self.prior.unwrap_or(Prior::Fourier)
    }

    pub fn visual(&self) -> VisualParams {
        self.visual
    }
}
