//! The library's errors worded for the command line: the library names a setting by its key (as
//! a preset or manifest writes it), the one at fault and any its message mentions; here each
//! becomes the option that sets it, `--key`.
use dreamreel::Error;

/// The error as one line for the terminal.
pub fn worded(error: &Error) -> String {
    error.worded(&option)
}

/// A note of the library's (before the first frame) with its mentioned settings worded as options.
pub fn note(text: &str) -> String {
    dreamreel::error::word_mentions(text, &option)
}

/// `--key` for a setting's key; a name that is no option (a manifest's `job`, the `mode`, an
/// argument such as `IMAGE`) as it is.
fn option(key: &str) -> String {
    let option_like = key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if option_like && !matches!(key, "job" | "mode") { format!("--{key}") } else { key.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_worded_as_their_options() {
        assert_eq!(
            worded(&Error::setting("octave-scale", "5 must be between 1 and 4")),
            "--octave-scale: 5 must be between 1 and 4"
        );
        assert_eq!(
            worded(&Error::setting("job", "a zoom needs frames or duration")),
            "job: a zoom needs frames or duration"
        );
        assert_eq!(worded(&Error::setting("IMAGE", "name an image")), "IMAGE: name an image");
        assert_eq!(worded(&Error::internal("x")), "internal error (this is a bug in dreamreel, please report it): x");
        let mentions = format!("give {} only", dreamreel::error::mention("width"));
        assert_eq!(worded(&Error::setting("height", mentions)), "--height: give --width only");
    }
}
