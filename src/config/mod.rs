//! Settings: built-in defaults < preset < command line, resolved and range-checked in one place
//! ([`settings::Settings::resolve`]); the named looks ([`presets`]).
pub mod deforum;
pub(crate) mod expression;
pub mod presets;
pub mod schedule;
pub mod settings;
