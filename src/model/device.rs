//! `--device auto|cpu|cuda|cuda:N`, resolved against what this machine has.
use crate::error::{Error, Result};
use tch::{Cuda, Device};

/// Checks the spelling of a device name without looking for the device.
pub(crate) fn check_device_name(name: &str) -> Result<()> {
    parse(name).map(|_| ())
}

/// `None` means auto; `Some(None)` the CPU; `Some(Some(i))` CUDA GPU i.
fn parse(name: &str) -> Result<Option<Option<usize>>> {
    match name {
        "auto" => Ok(None),
        "cpu" => Ok(Some(None)),
        "cuda" => Ok(Some(Some(0))),
        _ => {
            let Some(index) = name.strip_prefix("cuda:") else {
                return Err(Error::setting(
                    "device",
                    format!("'{name}' is not a device: use auto, cpu, cuda or cuda:N"),
                ));
            };
            let index = index
                .parse()
                .map_err(|_| Error::setting("device", format!("'{name}': the GPU number must be a whole number")))?;
            Ok(Some(Some(index)))
        }
    }
}

/// Parses a device name and checks that it exists here.
pub(crate) fn resolve_device(name: &str) -> Result<Device> {
    match parse(name)? {
        None => Ok(if Cuda::is_available() { Device::Cuda(0) } else { Device::Cpu }),
        Some(None) => Ok(Device::Cpu),
        Some(Some(_)) if !Cuda::is_available() => Err(Error::setting(
            "device",
            format!("'{name}' asked for CUDA, but no CUDA GPU is available on this machine"),
        )),
        Some(Some(index)) => {
            let count = Cuda::device_count() as usize;
            if index >= count {
                return Err(Error::setting(
                    "device",
                    format!("'{name}': this machine has {count} CUDA GPU(s), numbered from 0"),
                ));
            }
            Ok(Device::Cuda(index))
        }
    }
}

/// A short name for messages and benchmark reports.
pub(crate) fn device_name(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_auto_resolve_and_nonsense_is_refused() {
        assert_eq!(resolve_device("cpu").unwrap(), Device::Cpu);
        assert!(resolve_device("auto").is_ok());
        let err = resolve_device("tpu").unwrap_err().to_string();
        assert!(err.starts_with("device: 'tpu' is not a device"), "{err}");
        let err = resolve_device("cuda:x").unwrap_err().to_string();
        assert!(err.contains("whole number"), "{err}");
    }

    #[test]
    fn cuda_without_a_gpu_is_a_clear_error() {
        if Cuda::is_available() {
            return; // only meaningful on a machine without a GPU
        }
        let err = resolve_device("cuda").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("no CUDA GPU is available"), "{err}");
    }
}
