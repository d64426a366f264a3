//! Pictures and what happens between them: stills in and out and pixels to tensors
//! ([`image_io`]), zoom, rotation, pan, blend and noise ([`transform`]), colours tied to the
//! source ([`color`]), optical flow ([`flow`]), carrying the dream along it ([`footage`]); the
//! [`rgb::Frame`] that travels between stages; where to dream ([`mask`]); a soundtrack's signals
//! ([`audio_signals`]) and its onsets as librosa finds them ([`onsets`]).
pub mod audio_signals;
pub mod color;
#[cfg(feature = "video")]
pub mod flow;
#[cfg(feature = "video")]
pub mod footage;
pub mod image_io;
pub mod mask;
pub mod onsets;
pub mod rgb;
pub mod transform;
