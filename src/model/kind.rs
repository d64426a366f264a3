//! The networks dreamreel knows, by name, with where their installed weights live.
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Lite0,
    Lite1,
    Lite2,
    /// GoogLeNet (Inception v1) in torchvision's layout: the 2015 DeepDream network.
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
    pub(crate) fn nominal_size(self) -> usize {
        match self {
            ModelKind::Lite0 => 224,
            ModelKind::Lite1 => 240,
            ModelKind::Lite2 => 260,
            ModelKind::GoogLeNet => 224,
        }
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
