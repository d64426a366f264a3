//! The dream stage: each frame prepared from the previous dream, dreamed with its plan's row, sent
//! to the encoder with a checkpoint every few frames.
use super::source::Feed;
use super::stages::ToEncoder;
use crate::engine::ascent::{CarrySchedule, Dreamer};
use crate::error::Result;
use crate::frame::color::ColorMode;
use crate::frame::image_io::tensor_to_rgb8;
use crate::frame::rgb::Frame;
use crate::job::plan::FramePlan;
use crate::run::dream_setup::DreamSetup;
use crate::run::looping::Loop;
use crate::run::parts::PartRange;
use crate::run::progress::Progress;
use crossbeam_channel::Sender;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tch::{Device, Tensor};

/// Frames the dream stage has done, and how.
pub(super) struct Dreamed {
    pub(super) frames: u64,
    pub(super) dream_time: Duration,
    pub(super) last_objective: f64,
    pub(super) interrupted: bool,
    /// Footage frames found to start a new shot.
    pub(super) cuts: Vec<u64>,
}

pub(super) struct DreamStage<'a> {
    pub(super) to_encoder: &'a Sender<ToEncoder>,
    pub(super) checkpoint_every: u64,
    pub(super) cancel: &'a AtomicBool,
    /// Ties each dreamed frame's colours to `color_reference` (else to the image it was dreamed
    /// from), so feedback cannot drift.
    pub(super) colors: ColorMode,
    /// How a frame that carries the previous dream is dreamed.
    pub(super) carry: CarrySchedule,
    pub(super) color_reference: Option<Tensor>,
    /// The noise that the first frame grows from ([`Dreamer::dream_from_noise`]); without a
    /// `color_reference` the later frames keep that first frame's colours.
    pub(super) noise_start: Option<Tensor>,
    /// Every frame's values; a frame's row is `plan_index(index)` (a loop's dreams share rows).
    pub(super) plan: &'a FramePlan,
    pub(super) plan_index: Box<dyn Fn(u64) -> u64 + 'a>,
    /// A looping zoom's hold and fade of its dreams (see `crate::run::looping`).
    pub(super) looping: Option<&'a Loop>,
    pub(super) setup: &'a DreamSetup,
    /// A part of a film: frames before its start are its warm-up (dreamed, not written), it ends
    /// where the next part starts (or a cross-fade later), and sets the frames of its cross-fades
    /// aside.
    pub(super) part: Option<PartRange>,
    pub(super) device: Device,
}

impl DreamStage<'_> {
    /// For each incoming frame, the feed makes the image to dream from the previous dreamed frame
    /// (and the image a mask's black keeps); the result goes to the encoder, with a checkpoint
    /// every few frames and at the end. Stops early on `cancel`, or when the encoder has gone
    /// (its error is reported).
    pub(super) fn run(
        &self,
        feed: &mut Feed,
        mut last: Option<Tensor>,
        progress: &mut dyn Progress,
    ) -> Result<Dreamed> {
        let device = self.device;
        let mut done = Dreamed {
            frames: 0,
            dream_time: Duration::ZERO,
            last_objective: 0.0,
            interrupted: false,
            cuts: Vec::new(),
        };
        let mut dreamer = self.setup.dreamer(self.setup.params(self.plan.frame((self.plan_index)(0)))?)?;
        let mut row_in_use = (self.plan_index)(0);
        let mut next_index = None;
        // The first frame grown from noise, the colour reference of the later ones (see
        // `noise_start`): dreamed in the loop, or again (seeded per frame, so the same) when a
        // resume starts past it.
        let mut grown = match (&self.noise_start, &last) {
            (Some(noise), Some(_)) => {
                self.begin_frame(&mut dreamer, &mut row_in_use, 0)?;
                Some(dreamer.dream_from_noise(noise)?)
            }
            _ => None,
        };
        while let Some(incoming) = feed.next() {
            if self.cancel.load(Ordering::SeqCst) {
                done.interrupted = true;
                break;
            }
            let incoming = incoming?;
            if self.part.and_then(|p| p.dream_until()).is_some_and(|until| incoming.index >= until) {
                break;
            }
            let started = Instant::now();
            self.begin_frame(&mut dreamer, &mut row_in_use, incoming.index)?;
            let values = self.plan.frame((self.plan_index)(incoming.index));
            let prepared = feed.prepare(last.as_ref(), &incoming, values, device)?;
            if prepared.cut {
                done.cuts.push(incoming.index);
            }
            let image = &prepared.image;
            let dreamed = if self.noise_start.is_some() && last.is_none() {
                let dreamed = dreamer.dream_from_noise(image)?;
                grown = Some(dreamed.shallow_clone());
                dreamed
            } else {
                let reference = self.color_reference.as_ref().or(grown.as_ref()).unwrap_or(image);
                let dreamed = match prepared.carried {
                    true => dreamer.dream_carried(image, self.carry, prepared.new_share)?,
                    false => dreamer.dream(image)?,
                };
                crate::frame::color::settle(dreamed, reference, self.colors)?
            };
            // Colours settle over the whole frame: the mask is applied again after them.
            let dreamed = match &dreamer.params().mask {
                Some(mask) => {
                    let size = dreamed.size();
                    crate::frame::mask::apply(&mask.at(size[2], size[3], dreamed.device())?, &prepared.kept, &dreamed)?
                }
                None => dreamed,
            };
            let (width, height, rgb) = tensor_to_rgb8(&dreamed)?;
            done.dream_time += started.elapsed();
            progress.dreamed(incoming.index, width, height, &rgb);
            let out = Frame { index: incoming.index, pts: incoming.pts, width, height, rgb };
            let out = match self.looping {
                _ if self.part.is_some_and(|p| out.index < p.start) => None,
                Some(looping) => looping.output(out)?,
                None => Some(out),
            };
            let message = match out {
                Some(out) if self.part.is_some_and(|p| p.set_aside(out.index)) => Some(ToEncoder::Aside(out)),
                out => out.map(ToEncoder::Frame),
            };
            if let Some(message) = message
                && self.to_encoder.send(message).is_err()
            {
                break; // the encoder failed; its error is reported by `finish`
            }
            last = Some(dreamed);
            next_index = Some(incoming.index + 1);
            done.frames += 1;
            progress.advance(1);
            if (incoming.index + 1) % self.checkpoint_every == 0 && !self.checkpoint(incoming.index + 1, &last)? {
                break;
            }
        }
        // The decoder also stops on Ctrl-C, which ends the source early: that is an interruption too.
        done.interrupted |= self.cancel.load(Ordering::SeqCst);
        if let (Some(frames_done), Some(_)) = (next_index, &last)
            && frames_done % self.checkpoint_every != 0
        {
            self.checkpoint(frames_done, &last)?;
        }
        if let Some(last) = &last {
            done.last_objective = dreamer.params().objective.value_of(dreamer.network(), last)?;
        }
        progress.finish();
        Ok(done)
    }

    /// Sets up the dreamer for frame `index`: its row's dream parameters when they differ from the
    /// row in use, and its seeds.
    pub(super) fn begin_frame(&self, dreamer: &mut Dreamer, row_in_use: &mut u64, index: u64) -> Result<()> {
        let row = (self.plan_index)(index);
        if self.plan.frame(row) != self.plan.frame(*row_in_use) {
            dreamer.set_params(self.setup.params(self.plan.frame(row))?)?;
            *row_in_use = row;
        }
        dreamer.start_frame(index);
        Ok(())
    }

    /// Asks the encoder to make `frames_done` frames safe; false when the encoder has gone.
    pub(super) fn checkpoint(&self, frames_done: u64, last: &Option<Tensor>) -> Result<bool> {
        let Some(last) = last else { return Ok(true) };
        let last = last.f_to_device(Device::Cpu)?;
        Ok(self.to_encoder.send(ToEncoder::Checkpoint { frames_done, last }).is_ok())
    }
}
