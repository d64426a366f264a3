//! The dream itself: the octave gradient [`ascent`] (whole or in [`tiles`]), what it maximises
//! ([`objective`]), and the CUDA graphs that replay its steps ([`cuda_graph`]).
pub mod ascent;
pub mod cuda_graph;
pub mod objective;
pub mod tiles;
