//! Settings: built-in defaults < preset < Deforum file < command line, as [`layers::Layers`] that a
//! job resolves, range-checked in one place ([`settings::Settings::resolve`]); the settings that change per frame, declared once
//! ([`per_frame`]); schedules ([`schedule`]) and their expressions (numexpr's language); a
//! Deforum settings file read as a layer ([`deforum`]); the named looks ([`presets`]).
pub mod deforum;
pub(crate) mod expression;
pub mod layers;
pub mod per_frame;
pub mod presets;
pub mod schedule;
pub mod settings;
