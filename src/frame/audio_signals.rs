//! What a soundtrack does frame by frame, as schedules read it: `loud` (RMS loudness with attack
//! and release), `beat` (a decaying pulse on each detected onset, as high as the onset is
//! strong), `bass`, `mid`, `high` (band energies), each in [0, 1], and the tempo in BPM.
//!
//! Onsets are librosa 0.11's `onset_detect`, ported step by step in [`super::onsets`]: what
//! audio-reactive tools compare against. Bands come from a finer short-time Fourier transform
//! (rustfft), and the tempo is the autocorrelation peak of its spectral flux between 60 and 200
//! BPM, weighed by a prior over tempi (librosa's) with ties going to the faster tempo.
//!
//! The whole soundtrack is analysed whatever part of it a render shows
//! ([`AudioSignals::analyse_from`]): its onsets, its tempo and the scale of its signals do not
//! depend on where a cut starts, so parts of one film rendered with different `--start` agree.
use super::onsets::{frames_to_time, normalize, onset_detect, onset_strength};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

/// Sample rate the sound is analysed at (decoders resample to it): bands up to 11 kHz.
pub const SAMPLE_RATE: u32 = 22_050;
/// FFT window (46 ms) and hop (11.6 ms) of the bands and of the flux the tempo is found in.
const WINDOW: usize = 1024;
const HOP: usize = 256;
/// The flux compares each spectrum with the one this many hops before (23 ms): a rise spread
/// over a few milliseconds counts whole.
const FLUX_LAG: usize = 2;
/// Envelope frames up to this one compare against the zeros librosa pads before the first
/// sample (lag 1 plus n_fft / (2 hop) frames of shift, and one more frame that reaches back).
const PADDED_FRAMES: usize = 4;
/// Sound already playing at the first sample: its first hop reaches within this share of the
/// soundtrack's loudest sample (-60 dB).
const PLAYING_SHARE: f32 = 1e-3;
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
/// Tempi searched, and the prior over them: log-normal around 120 BPM, one octave wide (as
/// librosa's `beat.tempo`). Of autocorrelation peaks within this share of the best weighed one,
/// the fastest wins: a click track's peaks at one and two beats are equal, and its tempo is the
/// shorter.
const SLOWEST_BPM: f64 = 60.0;
const FASTEST_BPM: f64 = 200.0;
const PRIOR_BPM: f64 = 120.0;
const PRIOR_OCTAVES: f64 = 1.0;
const TEMPO_TIE: f64 = 0.9;

/// The signals of one soundtrack at one frame rate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AudioSignals {
    pub loud: Vec<f64>,
    pub beat: Vec<f64>,
    pub bass: Vec<f64>,
    pub mid: Vec<f64>,
    pub high: Vec<f64>,
    /// Tempo of the whole soundtrack, beats per minute (0 without a steady beat).
    pub bpm: f64,
    /// Detected onsets within the frames, in seconds from the first frame.
    pub onsets: Vec<f64>,
}

impl AudioSignals {
    /// Analyses mono `samples` at [`SAMPLE_RATE`] for `frames` video frames at `fps` from the
    /// sound's start; frames past the end of the sound are silent. Sound already playing at
    /// the first sample is no onset (what came before is unknown); sound that starts after it is.
    pub fn analyse(samples: &[f32], fps: f64, frames: u64) -> AudioSignals {
        AudioSignals::analyse_from(samples, fps, 0.0, frames)
    }

    /// Analyses a whole soundtrack, mono `samples` at [`SAMPLE_RATE`], and returns the signals of
    /// the `frames` video frames at `fps` that start `start_seconds` into it. Onsets, tempo and
    /// the scale of each signal are the whole soundtrack's, so a part rendered from
    /// `start_seconds` gets the values the same frames get in a render from the start (exactly,
    /// when `start_seconds` is a whole number of frames), and a cut is no onset unless a sound
    /// starts there. Frames past the end of the sound are silent.
    pub fn analyse_from(samples: &[f32], fps: f64, start_seconds: f64, frames: u64) -> AudioSignals {
        let rate = f64::from(SAMPLE_RATE);
        let start_seconds = start_seconds.max(0.0);
        let grid = Grid::new(samples.len() as f64 / rate, fps, start_seconds, frames as usize);
        let spectra = Spectra::of(samples);
        let hop_seconds = HOP as f64 / rate;
        let flux = &spectra.flux;

        let onsets = onsets(samples);
        let mut beat = vec![0.0; grid.count];
        for &(time, height) in &onsets {
            let first = grid.index_of(time).max(0.0) as usize;
            for (j, value) in beat.iter_mut().enumerate().skip(first) {
                // The onset's own frame gets the full pulse; later ones its decay from the onset.
                let since = (grid.time(j) - time).max(0.0);
                let pulse = height * (-since / BEAT_DECAY_SECONDS).exp();
                if pulse < 1e-4 {
                    break;
                }
                *value = f64::max(*value, pulse);
            }
        }

        // A spectrum describes the middle of its window.
        let spectrum_time = |i: usize| (i * HOP + WINDOW / 2) as f64 / rate;
        // Per video frame: the mean of the spectra and samples that fall in it.
        let mut bands = vec![[0.0f64; 3]; grid.count];
        let mut counts = vec![0usize; grid.count];
        for (i, energies) in spectra.bands.iter().enumerate() {
            let j = grid.index_of(spectrum_time(i));
            if j >= 0.0 && (j as usize) < grid.count {
                let j = j as usize;
                for b in 0..3 {
                    bands[j][b] += energies[b];
                }
                counts[j] += 1;
            }
        }
        let mut amplitude: Vec<[f64; 3]> =
            bands.iter().zip(&counts).map(|(e, &n)| e.map(|energy| (energy / n.max(1) as f64).sqrt())).collect();
        // Frames shorter than a hop (high frame rates) take the nearest spectrum's bands.
        for j in 0..grid.count {
            if counts[j] == 0 {
                let i = ((grid.time(j) * rate - (WINDOW / 2) as f64) / HOP as f64).round().max(0.0) as usize;
                if let Some(energies) = spectra.bands.get(i) {
                    amplitude[j] = energies.map(f64::sqrt);
                }
            }
        }
        let band_max: Vec<f64> = (0..3).map(|b| amplitude.iter().map(|a| a[b]).fold(0.0, f64::max)).collect();
        let loudest_band = band_max.iter().copied().fold(0.0, f64::max);
        let band = |b: usize| -> Vec<f64> {
            let reference = band_max[b].max(loudest_band * BAND_FLOOR).max(1e-12);
            grid.shown(amplitude.iter().map(|a| (a[b] / reference).min(1.0)).collect())
        };

        let end_seconds = start_seconds + frames as f64 / fps;
        AudioSignals {
            loud: grid.shown(loudness(samples, &grid)),
            beat: grid.shown(beat),
            bass: band(0),
            mid: band(1),
            high: band(2),
            bpm: tempo(flux, hop_seconds),
            onsets: onsets
                .iter()
                .map(|&(time, _)| time)
                .filter(|&time| time >= start_seconds && time < end_seconds)
                .map(|time| time - start_seconds)
                .collect(),
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

/// The video frames a whole soundtrack is measured on: the frames shown, and before and after
/// them as many frames of the same grid as the sound lasts. Frame `j` starts at
/// `(first + j) / fps` seconds; the shown ones are `shown_from..shown_from + shown`.
struct Grid {
    fps: f64,
    first: f64,
    count: usize,
    shown_from: usize,
    shown: usize,
}

impl Grid {
    fn new(sound_seconds: f64, fps: f64, start_seconds: f64, frames: usize) -> Grid {
        let offset = start_seconds * fps;
        // A start a whole number of frames in puts the grid on the one of a render from 0.
        let before = (offset + 1e-9).floor().max(0.0);
        let after = ((sound_seconds * fps - offset).ceil().max(0.0) as usize).max(frames);
        Grid { fps, first: offset - before, count: before as usize + after, shown_from: before as usize, shown: frames }
    }

    /// When frame `j` starts, in seconds.
    fn time(&self, j: usize) -> f64 {
        (self.first + j as f64) / self.fps
    }

    /// The frame that holds `seconds` (negative before the first).
    fn index_of(&self, seconds: f64) -> f64 {
        (seconds * self.fps - self.first).floor()
    }

    /// The shown frames of a signal over the whole grid.
    fn shown(&self, signal: Vec<f64>) -> Vec<f64> {
        signal[self.shown_from..self.shown_from + self.shown].to_vec()
    }
}

/// What the sound's spectra show, hop by hop: the spectral flux and the band energies. The
/// spectra themselves are kept only as long as the flux needs them (an hour of sound would be
/// 700 MB of them).
struct Spectra {
    /// Half-wave rectified spectral flux of log(1 + 100 |X|) (the compression that makes flux
    /// follow loudness changes, not just the loudest bins): the mean rise per bin since
    /// [`FLUX_LAG`] hops before. The first hops have nothing before them and no flux: a sound
    /// already playing when the samples begin does not rise there.
    flux: Vec<f64>,
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
        let mut flux = Vec::with_capacity(count);
        let mut bands = Vec::with_capacity(count);
        // The last FLUX_LAG + 1 compressed spectra, the newest at `i % (FLUX_LAG + 1)`.
        let mut recent = vec![vec![0.0f32; WINDOW / 2 + 1]; FLUX_LAG + 1];
        let mut buffer = vec![Complex::new(0.0f32, 0.0); WINDOW];
        let mut scratch = vec![Complex::new(0.0f32, 0.0); fft.get_inplace_scratch_len()];
        for i in 0..count {
            let start = i * HOP;
            for (j, slot) in buffer.iter_mut().enumerate() {
                let sample = samples.get(start + j).copied().unwrap_or(0.0);
                *slot = Complex::new(sample * hann[j], 0.0);
            }
            fft.process_with_scratch(&mut buffer, &mut scratch);
            let mut energy = [0.0f64; 3];
            let compressed = &mut recent[i % (FLUX_LAG + 1)];
            for (bin, (c, slot)) in buffer[..WINDOW / 2 + 1].iter().zip(compressed.iter_mut()).enumerate() {
                let m = c.norm();
                *slot = (1.0 + 100.0 * m).ln();
                // Bin 0 (DC) belongs to no band.
                if bin > 0 {
                    let b = if bin < bass_top {
                        0
                    } else if bin < mid_top {
                        1
                    } else {
                        2
                    };
                    energy[b] += f64::from(m * m);
                }
            }
            // Energies per window sample, so their scale does not depend on the FFT size.
            bands.push(energy.map(|e| e / (WINDOW * WINDOW) as f64));
            flux.push(match i.checked_sub(FLUX_LAG) {
                Some(before) => {
                    let (now, before) = (&recent[i % (FLUX_LAG + 1)], &recent[before % (FLUX_LAG + 1)]);
                    let rise: f64 = now.iter().zip(before).map(|(a, b)| f64::from((a - b).max(0.0))).sum();
                    rise / now.len() as f64
                }
                None => 0.0,
            });
        }
        Spectra { flux, bands }
    }
}

/// librosa's onsets of the soundtrack, each with its height: its strength over the median
/// one of all onsets (at most 1). Onsets that librosa finds only because its first frames
/// compare the sound with the zeros padded before it are dropped when the sound is already
/// playing at the first sample: what came before is unknown, and a steady tone has no onset.
fn onsets(samples: &[f32]) -> Vec<(f64, f64)> {
    let strength = onset_strength(samples);
    let envelope = normalize(&strength);
    let loudest = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let first_hop = &samples[..samples.len().min(super::onsets::HOP_LENGTH)];
    let playing = first_hop.iter().any(|s| s.abs() > loudest * PLAYING_SHARE);
    let frames: Vec<usize> =
        onset_detect(&strength).into_iter().filter(|&frame| !(playing && frame <= PADDED_FRAMES)).collect();
    // An onset's strength is the envelope summed over the 5 frames around it (the hops that one
    // 2048-sample window spans): unlike the peak alone, it does not depend on where the onset
    // falls between frames (within 2% on clicks, against 70%).
    let strength_at = |frame: usize| {
        envelope[frame.saturating_sub(2)..(frame + 3).min(envelope.len())].iter().map(|&v| f64::from(v)).sum::<f64>()
    };
    let typical = median(frames.iter().map(|&frame| strength_at(frame)).collect());
    frames.iter().map(|&frame| (frames_to_time(frame), (strength_at(frame) / typical.max(1e-12)).min(1.0))).collect()
}

/// Where the parabola through three equally spaced values peaks, from the middle one (-0.5..0.5).
fn vertex(before: f64, at: f64, after: f64) -> f64 {
    let curvature = before - 2.0 * at + after;
    if curvature < 0.0 { (0.5 * (before - after) / curvature).clamp(-0.5, 0.5) } else { 0.0 }
}

/// The tempo: of the lags between 60 and 200 BPM where the flux best matches itself, the one
/// the prior over tempi favours, or a faster one nearly as good (0 without a steady beat).
fn tempo(flux: &[f64], hop_seconds: f64) -> f64 {
    let mean = flux.iter().sum::<f64>() / flux.len().max(1) as f64;
    let centred: Vec<f64> = flux.iter().map(|f| f - mean).collect();
    let lag_of = |bpm: f64| (60.0 / bpm / hop_seconds).round() as usize;
    // One lag more on each side, so that a peak at either end has neighbours.
    let (shortest, longest) = (lag_of(FASTEST_BPM).saturating_sub(1).max(1), lag_of(SLOWEST_BPM) + 1);
    if centred.len() < 2 * longest {
        return 0.0;
    }
    let correlation = |lag: usize| -> f64 {
        centred.iter().zip(&centred[lag..]).map(|(a, b)| a * b).sum::<f64>() / (centred.len() - lag) as f64
    };
    let scores: Vec<f64> = (shortest..=longest).map(correlation).collect();
    let peaks: Vec<usize> = (1..scores.len() - 1)
        .filter(|&k| scores[k] > 0.0 && scores[k] >= scores[k - 1] && scores[k] > scores[k + 1])
        .collect();
    let prior = |k: usize| {
        let bpm = 60.0 / ((shortest + k) as f64 * hop_seconds);
        (-0.5 * ((bpm / PRIOR_BPM).log2() / PRIOR_OCTAVES).powi(2)).exp()
    };
    let Some(&best) = peaks.iter().max_by(|&&a, &&b| (scores[a] * prior(a)).total_cmp(&(scores[b] * prior(b)))) else {
        return 0.0;
    };
    let chosen = peaks.iter().copied().find(|&k| scores[k] >= TEMPO_TIE * scores[best]).unwrap_or(best);
    let lag = (shortest + chosen) as f64 + vertex(scores[chosen - 1], scores[chosen], scores[chosen + 1]);
    60.0 / (lag * hop_seconds)
}

/// RMS per video frame of the grid, followed with attack and release, as a share of its
/// loudest frame.
fn loudness(samples: &[f32], grid: &Grid) -> Vec<f64> {
    let rate = f64::from(SAMPLE_RATE);
    let attack = 1.0 - (-1.0 / (grid.fps * ATTACK_SECONDS)).exp();
    let release = 1.0 - (-1.0 / (grid.fps * RELEASE_SECONDS)).exp();
    let mut envelope = 0.0;
    let mut followed = Vec::with_capacity(grid.count);
    for j in 0..grid.count {
        let start = (grid.time(j) * rate).max(0.0) as usize;
        let end = (grid.time(j + 1) * rate).max(0.0) as usize;
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

fn median(values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 1.0;
    }
    percentile(&values, 0.5)
}

/// The value below which a share `q` of `values` lies (0 for none).
fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
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

    /// When each click of [`synthetic::click_track`] starts, to the sample.
    fn clicks(seconds: f64, first: f64, every: f64) -> Vec<f64> {
        let rate = f64::from(SAMPLE_RATE);
        let mut at = first;
        let mut starts = Vec::new();
        while at < seconds - 0.01 {
            starts.push((at * rate).floor() / rate);
            at += every;
        }
        starts
    }

    #[test]
    fn a_click_track_beats_on_each_click_and_keeps_its_tempo() {
        let (fps, seconds) = (24.0, 6.2);
        let samples = synthetic::click_track(seconds, 0.27, 0.5);
        let signals = AudioSignals::analyse(&samples, fps, (seconds * fps) as u64);
        let clicks = clicks(seconds, 0.27, 0.5);
        assert_eq!(signals.onsets.len(), clicks.len(), "{:?}", signals.onsets);
        for (onset, click) in signals.onsets.iter().zip(&clicks) {
            assert!(follows(*onset, *click), "onset {onset} for the click at {click}");
        }
        for onset in &signals.onsets {
            let frame = (onset * fps).floor() as usize;
            assert!(signals.beat[frame] > 0.95, "frame {frame}: {}", signals.beat[frame]);
            // Between clicks the pulse has died away.
            assert!(
                signals.beat[frame + 6] < 0.1 && signals.beat[frame - 3] < 0.05,
                "{:?}",
                &signals.beat[frame - 3..frame + 7]
            );
        }
        assert!((signals.bpm - 120.0).abs() < 1.0, "{}", signals.bpm);
        assert!(signals.loud.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    /// librosa's onset of a click is on its 23 ms frame grid, within 30 ms after the click.
    fn follows(onset: f64, click: f64) -> bool {
        (0.0..0.03).contains(&(onset - click))
    }

    #[test]
    fn onsets_follow_clicks_within_30_ms_wherever_they_fall_between_frames() {
        // At 128 BPM each click falls at another point of the 23 ms frame.
        let (seconds, every) = (20.0, 60.0 / 128.0);
        let signals = AudioSignals::analyse(&synthetic::click_track(seconds, 0.13, every), 24.0, 480);
        let clicks = clicks(seconds, 0.13, every);
        assert_eq!(signals.onsets.len(), clicks.len(), "{:?}", signals.onsets);
        for (onset, click) in signals.onsets.iter().zip(&clicks) {
            assert!(follows(*onset, *click), "onset {onset} for the click at {click}");
        }
    }

    #[test]
    fn the_tempo_of_clicks_has_no_octave_error_from_60_to_200_bpm() {
        for (bpm, seconds) in
            [(60.0, 10.0), (90.0, 10.0), (120.0, 6.0), (128.0, 10.0), (150.0, 10.0), (170.0, 10.0), (200.0, 10.0)]
        {
            let signals = AudioSignals::analyse(&synthetic::click_track(seconds, 0.27, 60.0 / bpm), 24.0, 24);
            assert!((signals.bpm / bpm - 1.0).abs() < 0.02, "{bpm} BPM over {seconds} s: {}", signals.bpm);
        }
    }

    #[test]
    fn a_steady_tone_has_no_onset_where_it_or_a_cut_begins() {
        let fps = 24.0;
        let steady = AudioSignals::analyse(&synthetic::sine(3.0, 440.0, 0.5), fps, 72);
        assert!(steady.onsets.is_empty(), "{:?}", steady.onsets);
        assert!(steady.beat.iter().all(|&b| b == 0.0), "{:?}", steady.beat);
        // The same tone after a second of silence begins there.
        let mut late = vec![0.0f32; SAMPLE_RATE as usize];
        late.extend(synthetic::sine(3.0, 440.0, 0.5));
        let whole = AudioSignals::analyse(&late, fps, 96);
        assert_eq!(whole.onsets.len(), 1, "{:?}", whole.onsets);
        assert!(follows(whole.onsets[0], 1.0), "{:?}", whole.onsets);
        assert!(whole.beat[24] > 0.95, "{:?}", &whole.beat[20..30]);
        // A cut into it is no onset: the sound was playing before.
        let cut = AudioSignals::analyse_from(&late, fps, 2.0, 48);
        assert!(cut.onsets.is_empty() && cut.beat.iter().all(|&b| b == 0.0), "{cut:?}");
        assert!(cut.loud[0] > 0.95, "{:?}", &cut.loud[..4]);
    }

    #[test]
    fn parts_cut_anywhere_agree_with_the_whole_soundtrack() {
        let fps = 24.0;
        // Clicks over a 150 Hz tone that swells from nothing to full over 8 s.
        let rate = f64::from(SAMPLE_RATE);
        let mut samples = synthetic::click_track(8.0, 0.27, 0.5);
        for (i, sample) in samples.iter_mut().enumerate() {
            let t = i as f64 / rate;
            *sample += (0.1 * t * (std::f64::consts::TAU * 150.0 * t).sin()) as f32;
        }
        let whole = AudioSignals::analyse(&samples, fps, 192);
        for first in [1u64, 37, 96, 144] {
            let part = AudioSignals::analyse_from(&samples, fps, first as f64 / fps, 48);
            assert_eq!(part.frames(), 48);
            for k in 0..48 {
                let (a, b) = (part.at(k), whole.at(first + k));
                assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-9), "frame {first}+{k}: {a:?} {b:?}");
            }
            let shifted: Vec<f64> =
                whole.onsets.iter().map(|t| t - first as f64 / fps).filter(|t| (0.0..2.0).contains(t)).collect();
            assert_eq!(part.onsets.len(), shifted.len(), "{:?} {shifted:?}", part.onsets);
            assert!(part.onsets.iter().zip(&shifted).all(|(a, b)| (a - b).abs() < 1e-9));
            assert_eq!(part.bpm, whole.bpm);
        }
        // The quiet start stays quiet in a part of its own: the bass is scaled to the whole.
        let start = AudioSignals::analyse_from(&samples, fps, 0.0, 24);
        assert!(start.bass[12] < 0.3, "{:?}", start.bass);
    }

    #[test]
    fn one_loud_moment_does_not_hide_quiet_onsets() {
        // Quiet clicks (-24 dB) for 16 s, and a burst of loud noise at 8.1 s.
        let (seconds, first, every) = (16.0, 0.27, 0.5);
        let mut samples: Vec<f32> = synthetic::click_track(seconds, first, every).iter().map(|s| s * 0.06).collect();
        let mut state = 12345u32;
        for sample in &mut samples[(8.1 * 22_050.0) as usize..(8.12 * 22_050.0) as usize] {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *sample = 0.9 * (f64::from(state) / f64::from(u32::MAX) * 2.0 - 1.0) as f32;
        }
        let signals = AudioSignals::analyse(&samples, 24.0, (seconds * 24.0) as u64);
        for click in clicks(seconds, first, every) {
            assert!(signals.onsets.iter().any(|&o| follows(o, click)), "none at {click}: {:?}", signals.onsets);
        }
        assert!(signals.onsets.iter().any(|&o| follows(o, 8.1)), "{:?}", signals.onsets);
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
            // A steady tone is steadily loud once the attack has passed, and has no onset where it
            // starts. (At 100 Hz librosa finds onsets all along, where the tone's bins beat
            // against the 23 ms frames: its envelope is normalised, however small the changes.)
            assert!(signals.loud[10..40].iter().all(|&v| v > 0.95), "{:?}", signals.loud);
            assert!(signals.onsets.iter().all(|&o| o > 0.1), "{hz} Hz: {:?}", signals.onsets);
            if hz > 500.0 {
                assert!(signals.onsets.is_empty(), "{hz} Hz: {:?}", signals.onsets);
            }
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
        // A start past the end of the sound is silence too.
        let past = AudioSignals::analyse_from(&synthetic::sine(0.5, 440.0, 0.5), 24.0, 3.0, 24);
        assert_eq!(past.frames(), 24);
        assert!(past.onsets.is_empty() && (0..24).all(|k| past.at(k).iter().all(|&v| v < 1e-3)), "{past:?}");
    }
}
