//! Settings: built-in defaults < preset < command line, resolved and range-checked in one place
//! ([`settings::Settings::resolve`]); the settings that change per frame, declared once
//! ([`per_frame`]); schedules ([`schedule`]); the named looks ([`presets`]).
pub mod per_frame;
pub mod presets;
pub mod schedule;
pub mod settings;
