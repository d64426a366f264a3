//! The integration tests: one binary, so the library and libtorch are linked once. Each module is
//! one concern; `common` holds the helpers they share (the binary run isolated from the user's
//! config, FFmpeg, the cat, Lite0, the sample clips, checkpoints, one lock for tests that keep
//! every core busy).
mod common;

mod architecture;
mod batch;
mod cli;
mod cuda_practice;
mod deforum;
mod engine;
mod farm;
mod film;
mod flow;
mod footage_inputs;
mod fuzz;
mod golden;
mod googlenet;
mod interrupts;
mod lose_nothing;
mod masks;
mod motion;
mod new_user;
mod new_user_round3;
mod new_user_three;
mod new_user_two;
mod objectives;
mod objects;
mod presets;
mod reliability;
mod resume;
mod schedules;
mod slurm;
mod studio;
mod video;
mod writers;
