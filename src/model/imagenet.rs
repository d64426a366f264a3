//! The 1,000 ImageNet class names, index order, compiled in.
//!
//! `imagenet_classes.txt` is `torchvision.models._meta._IMAGENET_CATEGORIES` from the PyPI wheel
//! torchvision 0.26.0 (BSD-3-Clause), one name a line: the names torchvision's classifiers report.
use crate::error::{Error, Result};

const NAMES: &str = include_str!("imagenet_classes.txt");

/// Number of ImageNet classes the networks predict.
pub(crate) const CLASS_COUNT: usize = 1000;

/// The class names, index order.
pub fn class_names() -> Vec<&'static str> {
    NAMES.lines().collect()
}

/// The name of class `index`, or "?" outside 0..1000.
pub(crate) fn class_name(index: usize) -> &'static str {
    NAMES.lines().nth(index).unwrap_or("?")
}

/// Parses `--class`: names (case-insensitive, e.g. `banana`, `Granny Smith`) or indices,
/// comma-separated, into class indices, each once.
pub fn parse_classes(text: &str) -> Result<Vec<i64>> {
    let names = class_names();
    let mut classes = Vec::new();
    for item in text.split(',').map(str::trim).filter(|item| !item.is_empty()) {
        let index = match item.parse::<usize>() {
            Ok(index) if index < CLASS_COUNT => index,
            Ok(index) => {
                return Err(Error::setting("class", format!("{index} is not a class index: use 0 to 999")));
            }
            Err(_) => {
                names.iter().position(|name| name.eq_ignore_ascii_case(item)).ok_or_else(|| unknown(item, &names))?
            }
        };
        if classes.contains(&(index as i64)) {
            let message = format!("'{item}' (class {index}) is named twice in '{text}'");
            return Err(Error::setting("class", message));
        }
        classes.push(index as i64);
    }
    if classes.is_empty() {
        return Err(Error::setting("class", "name at least one ImageNet class, e.g. banana or 954"));
    }
    Ok(classes)
}

/// An unknown name, with up to three names that contain it as suggestions.
fn unknown(item: &str, names: &[&str]) -> Error {
    let lower = item.to_lowercase();
    let close: Vec<&str> = names.iter().filter(|name| name.to_lowercase().contains(&lower)).take(3).copied().collect();
    let hint = if close.is_empty() { String::new() } else { format!(" (did you mean {}?)", close.join(", ")) };
    Error::setting(
        "class",
        format!("'{item}' is not an ImageNet class name{hint}; `dreamreel classify` lists them all (its list option)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_indices_resolve_once_each() {
        assert_eq!(class_names().len(), CLASS_COUNT);
        assert_eq!(class_name(954), "banana");
        assert_eq!(parse_classes("banana, 1,Granny smith").unwrap(), vec![954, 1, 948]);
        let err = parse_classes("banana, 1,954").unwrap_err().to_string();
        assert!(err.contains("'954' (class 954) is named twice"), "{err}");
    }

    #[test]
    fn mistakes_name_the_option_and_suggest() {
        let err = parse_classes("banan").unwrap_err().to_string();
        assert!(err.starts_with("class: 'banan' is not an ImageNet class name (did you mean banana?)"), "{err}");
        let err = parse_classes("1000").unwrap_err().to_string();
        assert!(err.contains("1000 is not a class index"), "{err}");
        assert!(parse_classes(" , ").is_err());
    }
}
