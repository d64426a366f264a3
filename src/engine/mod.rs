//! The dream itself: the octave gradient [`ascent`] (whole or in [`tiles`]), what it maximises
//! ([`objective`]), and the CUDA graphs that replay its steps ([`cuda_graph`]); objects grown from
//! noise through the Fourier prior ([`fourier`]) by Adam under transformation robustness ([`visualize`]).
pub mod ascent;
pub mod cuda_graph;
pub mod fourier;
pub mod objective;
pub mod tiles;
pub mod visualize;
