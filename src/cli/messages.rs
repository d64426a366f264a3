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

/// The command that goes on with an interrupted render: this one as typed, with `--resume`
/// (and without `--restart`, which would drop the checkpoint), quoted for a POSIX shell.
#[cfg(feature = "video")]
pub fn resume_command(args: &[String]) -> String {
    let mut words: Vec<String> = vec!["dreamreel".into()];
    words.extend(args.iter().skip(1).filter(|a| *a != "--restart").map(|a| shell_quoted(a)));
    if !args.iter().any(|a| a == "--resume") {
        words.push("--resume".into());
    }
    words.join(" ")
}

/// `word` as a POSIX shell reads it back: bare when it is plain, else in single quotes.
#[cfg(feature = "video")]
fn shell_quoted(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "video")]
    fn the_resume_command_is_the_command_with_resume() {
        let args = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(
            resume_command(&args(&["/bin/dreamreel", "zoom", "noise", "-o", "a b.mp4", "--restart", "-y"])),
            "dreamreel zoom noise -o 'a b.mp4' -y --resume"
        );
        assert_eq!(
            resume_command(&args(&["dreamreel", "video", "it's.mp4", "-o", "f/%04d.png", "--resume"])),
            "dreamreel video 'it'\\''s.mp4' -o f/%04d.png --resume"
        );
    }

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
