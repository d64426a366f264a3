//! What a soundtrack does frame by frame, as schedules read it: `loud` (RMS loudness with attack
//! and release), `beat` (a decaying pulse on each detected onset, as high as the onset is
//! strong), `bass`, `mid`, `high` (band energies), each in [0, 1], and the tempo in BPM.
//!
//! Bands and onsets come from one short-time Fourier transform (rustfft). Onsets are found by
//! log-compressed spectral flux with an adaptive threshold and peak picking (the method of
//! aubio's `specflux` and of Dixon 2006, "Onset detection revisited"); the tempo is the
//! autocorrelation peak of the flux between 60 and 200 BPM. aubio itself would be a C library
//! every build machine must install, for the same 60 lines.
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

/// Sample rate the sound is analysed at (decoders resample to it): bands up to 11 kHz.
pub const SAMPLE_RATE: u32 = 22_050;
/// FFT window (46 ms) and hop (11.6 ms): onsets land within a hop, well inside one video frame.
const WINDOW: usize = 1024;
const HOP: usize = 256;
/// Band edges in Hz: bass below 250, mid to 4 kHz, high above.
const BASS_TOP: f64 = 250.0;
const MID_TOP: f64 = 4000.0;
/// A band's energy is measured against its own loudest moment, but never against less than this
/// share of the loudest band's amplitude: a band that holds only leakage stays near zero.
const BAND_FLOOR: f64 = 0.1;
/// Loudness follows a rise within 20 ms and a fall over 250 ms.
const ATTACK_SECONDS: f64 = 0.02;
const RELEASE_SECONDS: f64 = 0.25;
/// Each onset's pulse decays by e every 80 ms.
const BEAT_DECAY_SECONDS: f64 = 0.08;
/// Onsets closer than this are one onset.
const MIN_ONSET_GAP_SECONDS: f64 = 0.05;

/// The signals of one soundtrack at one frame rate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AudioSignals {
    pub loud: Vec<f64>,
    pub beat: Vec<f64>,
    pub bass: Vec<f64>,
    pub mid: Vec<f64>,
    pub high: Vec<f64>,
    /// Tempo, beats per minute (0 without a steady beat).
    pub bpm: f64,
    /// Detected onsets, in seconds from the start.
    pub onsets: Vec<f64>,
}

impl AudioSignals {
    /// Analyses mono `samples` at [`SAMPLE_RATE`] for `frames` video frames at `fps`; frames past
    /// the end of the sound are silent.
    pub fn analyse(samples: &[f32], fps: f64, frames: u64) -> AudioSignals {
        let rate = f64::from(SAMPLE_RATE);
        let spectra = Spectra::of(samples);
        let hop_seconds = HOP as f64 / rate;
        // A spectrum describes the middle of its window.
        let spectrum_time = |i: usize| (i * HOP + WINDOW / 2) as f64 / rate;

        let flux = spectra.flux();
        let onsets_at = pick_onsets(&flux, hop_seconds);
        let strongest = median(onsets_at.iter().map(|&(_, strength)| strength).collect());
        // The flux peaks as a sound enters the far end of the window, within a hop of it: the
        // onset is put half a hop before the window's end, so it is never much early (a beat
        // on a frame's first instant stays in that frame).
        let onset_time = |i: usize| (i * HOP + WINDOW - HOP / 2) as f64 / rate;
        let onsets: Vec<(f64, f64)> = onsets_at
            .iter()
            .map(|&(i, strength)| (onset_time(i), (strength / strongest.max(1e-12)).min(1.0)))
            .collect();

        let frame_count = frames as usize;
        let frame_of = |seconds: f64| (seconds * fps).floor();
        let mut beat = vec![0.0; frame_count];
        for &(time, height) in &onsets {
            let first = frame_of(time).max(0.0) as usize;
            for (k, value) in beat.iter_mut().enumerate().skip(first) {
                // The onset's own frame gets the full pulse; later ones its decay from the onset.
                let since = (k as f64 / fps - time).max(0.0);
                let pulse = height * (-since / BEAT_DECAY_SECONDS).exp();
                if pulse < 1e-4 {
                    break;
                }
                *value = f64::max(*value, pulse);
            }
        }

        // Per video frame: the mean of the spectra and samples that fall in it.
        let mut bands = vec![[0.0f64; 3]; frame_count];
        let mut counts = vec![0usize; frame_count];
        for (i, energies) in spectra.bands.iter().enumerate() {
            let k = frame_of(spectrum_time(i)) as usize;
            if k < frame_count {
                for b in 0..3 {
                    bands[k][b] += energies[b];
                }
                counts[k] += 1;
            }
        }
        let mut amplitude: Vec<[f64; 3]> =
            bands.iter().zip(&counts).map(|(e, &n)| e.map(|energy| (energy / n.max(1) as f64).sqrt())).collect();
        // Frames shorter than a hop (high frame rates) take the nearest spectrum's bands.
        for k in 0..frame_count {
            if counts[k] == 0 {
                let i = ((k as f64 / fps * rate - (WINDOW / 2) as f64) / HOP as f64).round().max(0.0) as usize;
                if let Some(energies) = spectra.bands.get(i) {
                    amplitude[k] = energies.map(f64::sqrt);
                }
            }
        }
        let band_max: Vec<f64> = (0..3).map(|b| amplitude.iter().map(|a| a[b]).fold(0.0, f64::max)).collect();
        let loudest_band = band_max.iter().copied().fold(0.0, f64::max);
        let band = |b: usize| -> Vec<f64> {
            let reference = band_max[b].max(loudest_band * BAND_FLOOR).max(1e-12);
            amplitude.iter().map(|a| (a[b] / reference).min(1.0)).collect()
        };

        let loud = loudness(samples, fps, frame_count);
        AudioSignals {
            loud,
            beat,
            bass: band(0),
            mid: band(1),
            high: band(2),
            bpm: tempo(&flux, hop_seconds),
            onsets: onsets.iter().map(|&(time, _)| time).collect(),
        }
    }

    /// The frames analysed.
    pub fn frames(&self) -> usize {
        self.loud.len()
    }

    /// `loud`, `beat`, `bass`, `mid`, `high` at `frame` (zeros past the end).
    pub fn at(&self, frame: u64) -> [f64; 5] {
        let k = frame as usize;
        let get = |signal: &Vec<f64>| signal.get(k).copied().unwrap_or(0.0);
        [get(&self.loud), get(&self.beat), get(&self.bass), get(&self.mid), get(&self.high)]
    }
}

/// Magnitude spectra of the sound, hop by hop, and their band energies.
struct Spectra {
    /// log(1 + 100 |X|) per bin: the compression that makes flux follow loudness changes, not
    /// just the loudest bins.
    compressed: Vec<Vec<f32>>,
    bands: Vec<[f64; 3]>,
}

impl Spectra {
    fn of(samples: &[f32]) -> Spectra {
        let mut planner = FftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(WINDOW);
        let hann: Vec<f32> =
            (0..WINDOW).map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / WINDOW as f32).cos()).collect();
        let bin_hz = f64::from(SAMPLE_RATE) / WINDOW as f64;
        let bass_top = (BASS_TOP / bin_hz).round() as usize;
        let mid_top = (MID_TOP / bin_hz).round() as usize;
        let count =
            if samples.len() < WINDOW { usize::from(!samples.is_empty()) } else { (samples.len() - WINDOW) / HOP + 1 };
        let mut compressed = Vec::with_capacity(count);
        let mut bands = Vec::with_capacity(count);
        let mut buffer = vec![Complex::new(0.0f32, 0.0); WINDOW];
        let mut scratch = vec![Complex::new(0.0f32, 0.0); fft.get_inplace_scratch_len()];
        for i in 0..count {
            let start = i * HOP;
            for (j, slot) in buffer.iter_mut().enumerate() {
                let sample = samples.get(start + j).copied().unwrap_or(0.0);
                *slot = Complex::new(sample * hann[j], 0.0);
            }
            fft.process_with_scratch(&mut buffer, &mut scratch);
            let magnitudes: Vec<f32> = buffer[..WINDOW / 2 + 1].iter().map(|c| c.norm()).collect();
            let mut energy = [0.0f64; 3];
            // Bin 0 (DC) belongs to no band.
            for (bin, m) in magnitudes.iter().enumerate().skip(1) {
                let b = if bin < bass_top {
                    0
                } else if bin < mid_top {
                    1
                } else {
                    2
                };
                energy[b] += f64::from(m * m);
            }
            // Energies per window sample, so their scale does not depend on the FFT size.
            bands.push(energy.map(|e| e / (WINDOW * WINDOW) as f64));
            compressed.push(magnitudes.iter().map(|m| (1.0 + 100.0 * m).ln()).collect());
        }
        Spectra { compressed, bands }
    }

    /// Half-wave rectified spectral flux, hop by hop (the first hop rises from silence).
    fn flux(&self) -> Vec<f64> {
        let mut previous: Option<&Vec<f32>> = None;
        self.compressed
            .iter()
            .map(|spectrum| {
                let rise = match previous {
                    Some(before) => spectrum.iter().zip(before).map(|(a, b)| f64::from((a - b).max(0.0))).sum(),
                    None => spectrum.iter().map(|&a| f64::from(a)).sum(),
                };
                previous = Some(spectrum);
                rise
            })
            .collect()
    }
}

/// Onsets in the flux: hops that are the largest within ±3 hops and stand above the local mean
/// by a share of the largest flux. Returns (hop, strength): the whole rise around the peak, which
/// does not depend on where the onset falls between hops as the peak alone does.
fn pick_onsets(flux: &[f64], hop_seconds: f64) -> Vec<(usize, f64)> {
    let largest = flux.iter().copied().fold(0.0, f64::max);
    if largest <= 0.0 {
        return Vec::new();
    }
    let min_gap = (MIN_ONSET_GAP_SECONDS / hop_seconds).ceil() as usize;
    let mut onsets: Vec<(usize, f64)> = Vec::new();
    for i in 0..flux.len() {
        let near = &flux[i.saturating_sub(3)..(i + 4).min(flux.len())];
        if flux[i] < near.iter().copied().fold(0.0, f64::max) {
            continue;
        }
        let around = &flux[i.saturating_sub(16)..(i + 4).min(flux.len())];
        let mean = around.iter().sum::<f64>() / around.len() as f64;
        if flux[i] < mean + 0.1 * largest {
            continue;
        }
        let strength: f64 = flux[i.saturating_sub(3)..(i + 4).min(flux.len())].iter().sum();
        match onsets.last_mut() {
            Some(last) if i - last.0 < min_gap => {
                if strength > last.1 {
                    *last = (i, strength);
                }
            }
            _ => onsets.push((i, strength)),
        }
    }
    onsets
}

/// The tempo: the lag between 60 and 200 BPM where the flux best matches itself.
fn tempo(flux: &[f64], hop_seconds: f64) -> f64 {
    let mean = flux.iter().sum::<f64>() / flux.len().max(1) as f64;
    let centred: Vec<f64> = flux.iter().map(|f| f - mean).collect();
    let lag_of = |bpm: f64| (60.0 / bpm / hop_seconds).round() as usize;
    let (shortest, longest) = (lag_of(200.0).max(1), lag_of(60.0));
    if centred.len() < 2 * longest {
        return 0.0;
    }
    let correlation = |lag: usize| -> f64 {
        centred.iter().zip(&centred[lag..]).map(|(a, b)| a * b).sum::<f64>() / (centred.len() - lag) as f64
    };
    let scores: Vec<f64> = (shortest..=longest).map(correlation).collect();
    let (best, &score) = scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap_or((0, &0.0));
    if score <= 0.0 {
        return 0.0;
    }
    // A parabola through the peak and its neighbours finds the lag between hops.
    let offset = match (best.checked_sub(1).map(|i| scores[i]), scores.get(best + 1)) {
        (Some(before), Some(&after)) => {
            let curvature = before - 2.0 * score + after;
            if curvature < 0.0 { 0.5 * (before - after) / curvature } else { 0.0 }
        }
        _ => 0.0,
    };
    let lag = (shortest + best) as f64 + offset;
    60.0 / (lag * hop_seconds)
}

/// RMS per video frame, followed with attack and release, as a share of its loudest frame.
fn loudness(samples: &[f32], fps: f64, frames: usize) -> Vec<f64> {
    let rate = f64::from(SAMPLE_RATE);
    let attack = 1.0 - (-1.0 / (fps * ATTACK_SECONDS)).exp();
    let release = 1.0 - (-1.0 / (fps * RELEASE_SECONDS)).exp();
    let mut envelope = 0.0;
    let mut followed = Vec::with_capacity(frames);
    for k in 0..frames {
        let start = ((k as f64 / fps) * rate) as usize;
        let end = ((((k + 1) as f64) / fps) * rate) as usize;
        let span = &samples[start.min(samples.len())..end.min(samples.len())];
        let rms = if span.is_empty() {
            0.0
        } else {
            (span.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / span.len() as f64).sqrt()
        };
        let rate = if rms > envelope { attack } else { release };
        envelope += (rms - envelope) * rate;
        followed.push(envelope);
    }
    let loudest = followed.iter().copied().fold(0.0, f64::max);
    if loudest > 0.0 {
        followed.iter_mut().for_each(|v| *v /= loudest);
    }
    followed
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 1.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Test sounds, made here rather than shipped.
pub mod synthetic {
    use super::SAMPLE_RATE;

    /// A 10 ms 1 kHz beep every `every` seconds (the first at `first`), for `seconds`.
    pub fn click_track(seconds: f64, first: f64, every: f64) -> Vec<f32> {
        let rate = f64::from(SAMPLE_RATE);
        let mut samples = vec![0.0f32; (seconds * rate) as usize];
        let mut at = first;
        while at < seconds {
            let start = (at * rate) as usize;
            for j in 0..(0.01 * rate) as usize {
                if let Some(sample) = samples.get_mut(start + j) {
                    *sample = 0.8 * (std::f64::consts::TAU * 1000.0 * j as f64 / rate).sin() as f32;
                }
            }
            at += every;
        }
        samples
    }

    /// A steady sine of `hz` at amplitude `amplitude`.
    pub fn sine(seconds: f64, hz: f64, amplitude: f64) -> Vec<f32> {
        let rate = f64::from(SAMPLE_RATE);
        (0..(seconds * rate) as usize)
            .map(|i| (amplitude * (std::f64::consts::TAU * hz * i as f64 / rate).sin()) as f32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_click_track_beats_on_each_click_and_keeps_its_tempo() {
        let (fps, seconds) = (24.0, 6.2);
        let samples = synthetic::click_track(seconds, 0.27, 0.5);
        let signals = AudioSignals::analyse(&samples, fps, (seconds * fps) as u64);
        let clicks: Vec<f64> = (0..12).map(|i| 0.27 + 0.5 * i as f64).collect();
        assert_eq!(signals.onsets.len(), clicks.len(), "{:?}", signals.onsets);
        for (onset, click) in signals.onsets.iter().zip(&clicks) {
            assert!((onset - click).abs() < 0.012, "onset {onset} for the click at {click}");
        }
        for click in &clicks {
            let frame = (click * fps).floor() as usize;
            assert!(signals.beat[frame] > 0.95, "frame {frame}: {}", signals.beat[frame]);
            // Between clicks the pulse has died away.
            assert!(
                signals.beat[frame + 6] < 0.1 && signals.beat[frame - 3] < 0.05,
                "{:?}",
                &signals.beat[frame - 3..frame + 7]
            );
        }
        assert!((signals.bpm - 120.0).abs() < 2.0, "{}", signals.bpm);
        assert!(signals.loud.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn a_sine_fills_its_own_band() {
        let fps = 24.0;
        for (hz, band) in [(100.0, 0), (1000.0, 1), (7000.0, 2)] {
            let signals = AudioSignals::analyse(&synthetic::sine(2.0, hz, 0.5), fps, 48);
            let middle = 24;
            let values = [signals.bass[middle], signals.mid[middle], signals.high[middle]];
            for (b, value) in values.iter().enumerate() {
                if b == band {
                    assert!(*value > 0.9, "{hz} Hz: band {b} is {value}");
                } else {
                    assert!(*value < 0.1, "{hz} Hz: band {b} is {value}");
                }
            }
            // A steady tone is steadily loud once the attack has passed.
            assert!(signals.loud[10..40].iter().all(|&v| v > 0.95), "{:?}", signals.loud);
            assert_eq!(signals.onsets.len(), 1, "{hz} Hz: {:?}", signals.onsets);
        }
    }

    #[test]
    fn silence_and_frames_past_the_sound_are_zero() {
        let signals = AudioSignals::analyse(&vec![0.0; 22_050], 24.0, 48);
        assert_eq!(signals.frames(), 48);
        assert!(signals.onsets.is_empty());
        assert_eq!(signals.at(47), [0.0; 5]);
        assert_eq!(signals.at(1000), [0.0; 5]);
        let short = AudioSignals::analyse(&synthetic::sine(0.5, 440.0, 0.5), 24.0, 48);
        assert!(short.loud[40] < 0.05 && short.mid[40] == 0.0);
    }
}
