//! clap's "unexpected argument" errors, made exact: an option of another subcommand is named as
//! such, and a "similar argument" tip is kept only when the option is a near miss of it (clap's
//! own tips point `--codec` on `still` at `--model`, and `--frames` at `-- --frames`).
use clap::error::{ContextKind, ContextValue, ErrorKind};

/// The one-line message for `error`, or `None` to keep clap's.
pub fn unknown_argument(error: &clap::Error, command: &clap::Command, args: &[String]) -> Option<String> {
    if error.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(given)) = error.get(ContextKind::InvalidArg) else { return None };
    let name = given.split('=').next().unwrap_or(given);
    let long = name.strip_prefix("--")?;
    // The subcommand is the first argument that names one.
    let sub = args.iter().skip(1).find_map(|arg| command.find_subcommand(arg))?;
    let takers: Vec<&str> = command
        .get_subcommands()
        .filter(|other| other.get_arguments().any(|a| a.get_long() == Some(long)))
        .map(|other| other.get_name())
        .collect();
    if !takers.is_empty() {
        let which = match takers.as_slice() {
            [one] => one.to_string(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
            [] => unreachable!(),
        };
        let verb = if takers.len() == 1 { "does" } else { "do" };
        return Some(format!(
            "unexpected argument '{name}': `{}` takes no {name} (only {which} {verb})",
            sub.get_name()
        ));
    }
    let tip = match error.get(ContextKind::SuggestedArg) {
        Some(ContextValue::String(suggested)) if near_miss(long, suggested.trim_start_matches('-')) => {
            format!(" (did you mean '{suggested}'?)")
        }
        _ => String::new(),
    };
    Some(format!("unexpected argument '{name}'{tip}: see dreamreel {} --help", sub.get_name()))
}

/// A typo: at most two letters changed, added or dropped (one for names of five letters or
/// fewer, so `--codec` is never "similar" to `--model`).
fn near_miss(given: &str, known: &str) -> bool {
    let allowed = if known.len() <= 5 { 1 } else { 2 };
    edit_distance(given, known) <= allowed
}

/// Levenshtein distance, by the usual single-row table.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_near_misses_are_tips() {
        assert_eq!(edit_distance("cdec", "codec"), 1);
        assert!(near_miss("codex", "codec") && near_miss("codecs", "codec"));
        assert!(!near_miss("codec", "model"));
        assert!(!near_miss("frames", "fps"));
    }
}
