//! `--precision auto|fp32|fp16|bf16`: the number format the network runs in.
//!
//! Half precision converts the network's weights once (after BatchNorm is folded in fp32) and
//! feeds it a half copy of the image; the image, the step, the gradient's normalisation and the
//! objective's sum stay fp32. This replaces autocast, which re-cast every weight at every step and
//! made libtorch print a deprecation warning five times per step.
use serde::{Deserialize, Serialize};
use tch::{Device, Kind};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// bf16 on CUDA, fp32 on the CPU (where fp32 is faster)
    #[default]
    Auto,
    /// Full precision
    Fp32,
    /// Half precision; the objective is scaled by 1024 so small gradients survive
    Fp16,
    /// fp32's exponent range with 8 bits of mantissa: no scaling needed
    Bf16,
}

impl Precision {
    pub const ALL: [Precision; 4] = [Precision::Auto, Precision::Fp32, Precision::Fp16, Precision::Bf16];

    pub fn name(self) -> &'static str {
        match self {
            Precision::Auto => "auto",
            Precision::Fp32 => "fp32",
            Precision::Fp16 => "fp16",
            Precision::Bf16 => "bf16",
        }
    }

    /// The tensor kind the network runs in on `device`.
    pub(crate) fn kind_on(self, device: Device) -> Kind {
        match self {
            Precision::Auto if device.is_cuda() => Kind::BFloat16,
            Precision::Auto | Precision::Fp32 => Kind::Float,
            Precision::Fp16 => Kind::Half,
            Precision::Bf16 => Kind::BFloat16,
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_bf16_on_cuda_and_fp32_on_the_cpu() {
        assert_eq!(Precision::Auto.kind_on(Device::Cuda(0)), Kind::BFloat16);
        assert_eq!(Precision::Auto.kind_on(Device::Cpu), Kind::Float);
        assert_eq!(Precision::Fp16.kind_on(Device::Cpu), Kind::Half);
        assert_eq!(Precision::Bf16.kind_on(Device::Cpu), Kind::BFloat16);
    }
}
