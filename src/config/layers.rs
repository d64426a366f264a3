//! A render's settings as layers, lowest first: built-in defaults < preset < Deforum file <
//! command line or manifest line. A job resolves them (`crate::job::Job::new`) for what it
//! renders ([`Target`]); the rules that depend on the mode and output are decided here, once.
use crate::config::settings::{Settings, SettingsPatch};
use crate::error::{Error, Result, mention};
use std::path::Path;

/// The layers of a render's settings, before they are resolved.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layers {
    /// A preset's: shared between commands and outputs, so its keys that would do nothing to
    /// this render are left out rather than refused.
    pub preset: SettingsPatch,
    /// A Deforum settings file's (a zoom's motion and frame shape).
    pub deforum: SettingsPatch,
    /// The command line's options, or a manifest job's keys: what was asked of this render.
    pub given: SettingsPatch,
}

impl From<SettingsPatch> for Layers {
    fn from(given: SettingsPatch) -> Layers {
        Layers { given, ..Layers::default() }
    }
}

/// What a render is, as far as its layers' rules ask.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// One frame: a preset's schedules do nothing.
    pub still: bool,
    /// The output is encoded with a video codec: else a preset's codec and CRF do nothing.
    pub encodes: bool,
    /// The picture the render starts from (not noise, not footage), which keeps its shape.
    pub picture: Option<&'a Path>,
}

impl Layers {
    /// Layers the settings for `target` and checks them: a preset's keys that would do nothing
    /// are left out, a size given here replaces the Deforum file's whole, a picture keeps its shape.
    pub fn resolve(self, target: Target) -> Result<Settings> {
        let Layers { preset, mut deforum, given } = self;
        let mut preset = preset.acting_on(target.still, target.encodes);
        if given.width.is_some() || given.height.is_some() {
            // W and H are one frame shape: a size given here replaces both, never half of it.
            (deforum.width, deforum.height) = (None, None);
        }
        if let Some(picture) = target.picture {
            keep_shape(picture, [&mut preset, &mut deforum], &given)?;
        }
        Settings::resolve([&preset, &deforum, &given])
    }
}

/// A picture keeps its shape: it is scaled to its width. The height of a preset or a Deforum
/// file (`shared`, made for any input) is dropped; one `given` for this render is refused, not ignored.
fn keep_shape(picture: &Path, shared: [&mut SettingsPatch; 2], given: &SettingsPatch) -> Result<()> {
    for layer in shared {
        layer.height = None;
    }
    match given.height {
        Some(height) => Err(Error::setting(
            "height",
            format!(
                "{height} does nothing to '{}': a picture keeps its shape, give {} only (or noise, of any shape)",
                picture.display(),
                mention("width")
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn height(height: u32) -> SettingsPatch {
        SettingsPatch { height: Some(height), ..Default::default() }
    }

    #[test]
    fn a_picture_keeps_its_shape_whichever_layer_gives_a_height() {
        let picture = Target { still: true, encodes: false, picture: Some(Path::new("a.png")) };
        let shared = Layers { preset: height(32), deforum: height(40), ..Layers::default() };
        assert_eq!(shared.clone().resolve(picture).unwrap().height(), None);
        let noise = Target { picture: None, ..picture };
        assert_eq!(shared.resolve(noise).unwrap().height(), Some(40));
        let err = Layers::from(height(32)).resolve(picture).unwrap_err();
        assert_eq!(
            err.worded(&|key| format!("--{key}")),
            "--height: 32 does nothing to 'a.png': a picture keeps its shape, give --width only (or noise, of any shape)"
        );
        assert!(
            err.to_string()
                .starts_with("height: 32 does nothing to 'a.png': a picture keeps its shape, give width only")
        );
    }

    #[test]
    fn a_presets_keys_that_do_nothing_are_left_out_and_a_given_size_replaces_deforums() {
        let preset: SettingsPatch = toml::from_str("zoom = \"0:(1), 4:(1.1)\"\ncrf = 30\n").unwrap();
        let still = Target { still: true, encodes: false, picture: None };
        let settings = Layers { preset: preset.clone(), ..Layers::default() }.resolve(still).unwrap();
        assert!(settings.schedules().is_empty() && settings.crf().is_none());
        let zoom = Target { still: false, encodes: true, picture: None };
        let settings = Layers { preset, ..Layers::default() }.resolve(zoom).unwrap();
        assert_eq!(settings.crf(), Some(30));
        let deforum = SettingsPatch { width: Some(64), height: Some(48), ..Default::default() };
        let given = SettingsPatch { width: Some(32), ..Default::default() };
        let settings = Layers { deforum, given, ..Layers::default() }.resolve(zoom).unwrap();
        assert_eq!((settings.width(), settings.height()), (Some(32), None));
    }
}
