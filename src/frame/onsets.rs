//! librosa 0.11's onset detection, ported step by step: each function below is named after the
//! librosa function it reproduces, with librosa's defaults as `onset_detect(y=y, sr=22050)` calls
//! them. Audio-reactive tools and their users compare onsets against librosa, and its source
//! specifies every step, so a port agrees on any music where a look-alike only agrees on the
//! music it was tuned to.
//!
//! - `onset_strength`: the power spectrogram of a centred STFT (`stft`: n_fft 2048, hop 512, a
//!   periodic Hann window, zeros padded before and after, as `pad_mode="constant"`), 128 Slaney mel
//!   bands with Slaney's area norm (`filters.mel`), `power_to_db` (ref 1, amin 1e-10, top_db 80),
//!   the first difference with lag 1 (max filter size 1: each band against itself), rectified,
//!   the mean over bands, and the envelope shifted by lag + n_fft / (2 hop) frames.
//! - `onset_detect`: the envelope normalised to [0, 1], then `peak_pick` with pre_max 30 ms,
//!   post_max 0 ms (one frame), pre_avg 100 ms, post_avg 100 ms, delta 0.07 and wait 30 ms, each
//!   converted to frames as librosa does (`0.03 * sr // hop_length`, plus one for the post
//!   windows). No backtracking.
//!
//! The input is mono samples at 22,050 Hz (`librosa.load(path, sr=22050)`): the decoder resamples.
//! librosa computes the STFT in 64-bit floats and keeps it as 32-bit ones, as here; sums are taken
//! in 64 bits.
use super::audio_signals::SAMPLE_RATE;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

/// `onset_strength`'s STFT size and hop, in samples.
pub const N_FFT: usize = 2048;
pub const HOP_LENGTH: usize = 512;
/// `melspectrogram`'s bands, from 0 Hz to the Nyquist frequency.
pub const N_MELS: usize = 128;
/// `power_to_db`: the floor of a power, and how far below the loudest bin the rest are clipped.
const AMIN: f32 = 1e-10;
const TOP_DB: f32 = 80.0;
/// `onset_strength`: each frame is compared with the one this many frames before.
const LAG: usize = 1;
/// `onset_detect`'s peak-picking threshold above the local mean of the normalised envelope.
const DELTA: f32 = 0.07;

/// A frame of the envelope, in seconds (`frames_to_time`).
pub fn frames_to_time(frame: usize) -> f64 {
    (frame * HOP_LENGTH) as f64 / f64::from(SAMPLE_RATE)
}

/// librosa's `onset_strength(y=y, sr=22050)`: one value per STFT frame (`1 + len / 512`).
pub fn onset_strength(y: &[f32]) -> Vec<f32> {
    if y.is_empty() {
        return Vec::new();
    }
    let mut spectrogram = melspectrogram(y);
    power_to_db(&mut spectrogram);
    let frames = spectrogram.len();
    // The rectified difference with LAG, averaged over the bands, then padded at the front by
    // LAG plus n_fft / (2 hop) zeros (`center=True`) and cut back to the spectrogram's length.
    let pad = LAG + N_FFT / (2 * HOP_LENGTH);
    let mut envelope = vec![0.0f32; frames];
    for (slot, t) in envelope.iter_mut().skip(pad).zip(LAG..frames) {
        let (now, before) = (&spectrogram[t], &spectrogram[t - LAG]);
        let rise: f64 = now.iter().zip(before).map(|(a, b)| f64::from((a - b).max(0.0))).sum();
        *slot = (rise / N_MELS as f64) as f32;
    }
    envelope
}

/// librosa's `onset_detect(onset_envelope=envelope, sr=22050)`: the frames of the onsets.
pub fn onset_detect(envelope: &[f32]) -> Vec<usize> {
    let normalised = normalize(envelope);
    if !normalised.iter().any(|&v| v != 0.0) || !normalised.iter().all(|v| v.is_finite()) {
        return Vec::new();
    }
    let rate = f64::from(SAMPLE_RATE);
    let hop = HOP_LENGTH as f64;
    // librosa's defaults: `0.03 * sr // hop_length` and so on, rounded up by `peak_pick`.
    let frames = |seconds: f64| (seconds * rate / hop).floor() as usize;
    peak_pick(&normalised, frames(0.03), frames(0.0) + 1, frames(0.10), frames(0.10) + 1, DELTA, frames(0.03))
}

/// `onset_detect(normalize=True)`: the envelope minus its minimum, over its maximum.
pub fn normalize(envelope: &[f32]) -> Vec<f32> {
    let lowest = envelope.iter().copied().fold(f32::INFINITY, f32::min);
    let shifted: Vec<f32> = envelope.iter().map(|v| v - lowest).collect();
    let highest = shifted.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    // `util.tiny`: the smallest normal float32, so that silence divides to zeros.
    shifted.iter().map(|v| v / (highest + f32::MIN_POSITIVE)).collect()
}

/// librosa's `util.peak_pick`: `n` is a peak where `x[n]` is the largest of
/// `x[n - pre_max .. n + post_max]`, at least `delta` above the mean of
/// `x[n - pre_avg .. n + post_avg]`, and more than `wait` frames after the previous peak.
pub fn peak_pick(
    x: &[f32],
    pre_max: usize,
    post_max: usize,
    pre_avg: usize,
    post_avg: usize,
    delta: f32,
    wait: usize,
) -> Vec<usize> {
    let len = x.len();
    let max_of = |span: &[f32]| span.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mean_of = |span: &[f32]| span.iter().map(|&v| f64::from(v)).sum::<f64>() / span.len() as f64;
    let stands_out = |n: usize| {
        f64::from(x[n]) >= mean_of(&x[n.saturating_sub(pre_avg)..(n + post_avg).min(len)]) + f64::from(delta)
    };
    let mut peaks = Vec::new();
    if len == 0 {
        return peaks;
    }
    // The first frame is compared with what follows it only.
    let mut n = if x[0] >= max_of(&x[..post_max.min(len)]) && stands_out(0) {
        peaks.push(0);
        wait + 1
    } else {
        1
    };
    while n < len {
        if x[n] == max_of(&x[n.saturating_sub(pre_max)..(n + post_max).min(len)]) && stands_out(n) {
            peaks.push(n);
            n += wait + 1;
        } else {
            n += 1;
        }
    }
    peaks
}

/// librosa's `melspectrogram(y=y, sr=22050, n_fft=2048, hop_length=512, power=2, fmax=sr/2)`:
/// per frame, the power in each of the [`N_MELS`] bands.
fn melspectrogram(y: &[f32]) -> Vec<[f32; N_MELS]> {
    let filters = mel();
    let mut planner = FftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(N_FFT);
    // `get_window("hann", n_fft, fftbins=True)`: the periodic Hann window.
    let window: Vec<f64> =
        (0..N_FFT).map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / N_FFT as f64).cos()).collect();
    // `stft(center=True, pad_mode="constant")`: n_fft / 2 zeros before and after the samples.
    let half = N_FFT / 2;
    let frames = 1 + y.len() / HOP_LENGTH;
    let mut buffer = vec![Complex::new(0.0f64, 0.0); N_FFT];
    let mut scratch = vec![Complex::new(0.0f64, 0.0); fft.get_inplace_scratch_len()];
    let mut power = vec![0.0f32; N_FFT / 2 + 1];
    let mut spectrogram = Vec::with_capacity(frames);
    for t in 0..frames {
        for (i, slot) in buffer.iter_mut().enumerate() {
            let sample = (t * HOP_LENGTH + i).checked_sub(half).and_then(|at| y.get(at)).copied().unwrap_or(0.0);
            *slot = Complex::new(window[i] * f64::from(sample), 0.0);
        }
        fft.process_with_scratch(&mut buffer, &mut scratch);
        // The STFT is stored as complex64, and `np.abs(S) ** 2` taken on it.
        for (slot, c) in power.iter_mut().zip(&buffer) {
            *slot = (c.re as f32).hypot(c.im as f32).powi(2);
        }
        let mut bands = [0.0f32; N_MELS];
        for (band, filter) in bands.iter_mut().zip(&filters) {
            let bins = &power[filter.first_bin..filter.first_bin + filter.weights.len()];
            *band = bins.iter().zip(&filter.weights).map(|(p, w)| f64::from(*p) * f64::from(*w)).sum::<f64>() as f32;
        }
        spectrogram.push(bands);
    }
    spectrogram
}

/// `power_to_db(S, ref=1.0, amin=1e-10, top_db=80.0)`, in place: decibels, clipped to 80 dB
/// below the loudest value of the whole spectrogram.
fn power_to_db(spectrogram: &mut [[f32; N_MELS]]) {
    let mut loudest = f32::NEG_INFINITY;
    for value in spectrogram.iter_mut().flatten() {
        *value = 10.0 * value.max(AMIN).log10();
        loudest = loudest.max(*value);
    }
    let floor = loudest - TOP_DB;
    spectrogram.iter_mut().flatten().for_each(|value| *value = value.max(floor));
}

/// One mel band's triangle over the FFT bins: its weights from `first_bin` on.
struct MelFilter {
    first_bin: usize,
    weights: Vec<f32>,
}

/// `filters.mel(sr=22050, n_fft=2048, n_mels=128, fmin=0, fmax=sr/2, htk=False, norm="slaney")`:
/// triangles between mel-spaced edges, each scaled to unit area (`2 / (upper - lower)` in Hz).
fn mel() -> Vec<MelFilter> {
    let rate = f64::from(SAMPLE_RATE);
    let bins = N_FFT / 2 + 1;
    // `fft_frequencies`: linspace(0, sr / 2, 1 + n_fft / 2).
    let fft_hz: Vec<f64> = (0..bins).map(|k| k as f64 * (rate / 2.0) / (bins - 1) as f64).collect();
    // `mel_frequencies(n_mels + 2, fmin=0, fmax=sr/2)`: the edges, evenly spaced in mels.
    let (low, high) = (hz_to_mel(0.0), hz_to_mel(rate / 2.0));
    let edges: Vec<f64> =
        (0..N_MELS + 2).map(|i| mel_to_hz(low + (high - low) * i as f64 / (N_MELS + 1) as f64)).collect();
    (0..N_MELS)
        .map(|m| {
            let (lower_width, upper_width) = (edges[m + 1] - edges[m], edges[m + 2] - edges[m + 1]);
            let enorm = 2.0 / (edges[m + 2] - edges[m]);
            let weights: Vec<f32> = fft_hz
                .iter()
                .map(|&hz| {
                    let rising = (hz - edges[m]) / lower_width;
                    let falling = (edges[m + 2] - hz) / upper_width;
                    // librosa keeps its weights as float32 before the norm, and after it.
                    let triangle = f64::from(rising.min(falling).max(0.0) as f32);
                    (triangle * enorm) as f32
                })
                .collect();
            let first_bin = weights.iter().position(|&w| w > 0.0).unwrap_or(0);
            let end = weights.iter().rposition(|&w| w > 0.0).map_or(first_bin, |last| last + 1);
            MelFilter { first_bin, weights: weights[first_bin..end].to_vec() }
        })
        .collect()
}

/// Slaney's mel scale (`hz_to_mel(htk=False)`): linear below 1 kHz, logarithmic above.
fn hz_to_mel(hz: f64) -> f64 {
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= min_log_hz { min_log_mel + (hz / min_log_hz).ln() / logstep } else { hz / f_sp }
}

/// The inverse of [`hz_to_mel`] (`mel_to_hz(htk=False)`).
fn mel_to_hz(mel: f64) -> f64 {
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel { min_log_hz * (logstep * (mel - min_log_mel)).exp() } else { f_sp * mel }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decaying notes over a quiet hum, 4 s: what scripts/librosa_onset_fixture.py builds too.
    fn test_sound() -> Vec<f32> {
        const NOTES: [(f64, f64, f64, f64); 8] = [
            (0.31, 440.0, 0.5, 0.3),
            (0.77, 660.0, 0.3, 0.2),
            (1.20, 220.0, 0.6, 0.5),
            (1.65, 880.0, 0.2, 0.1),
            (2.03, 330.0, 0.4, 0.4),
            (2.50, 1320.0, 0.25, 0.15),
            (2.91, 550.0, 0.5, 0.3),
            (3.40, 165.0, 0.7, 0.6),
        ];
        let rate = f64::from(SAMPLE_RATE);
        (0..4 * SAMPLE_RATE as usize)
            .map(|i| {
                let t = i as f64 / rate;
                let mut y = 0.05 * (std::f64::consts::TAU * 110.0 * t).sin();
                for (start, hz, amplitude, decay) in NOTES {
                    let since = t - start;
                    if since >= 0.0 {
                        y += amplitude * (-since / decay).exp() * (std::f64::consts::TAU * hz * since).sin();
                    }
                }
                y as f32
            })
            .collect()
    }

    #[test]
    fn the_test_sound_gives_librosas_envelope_and_onsets() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/librosa_onsets.json")).expect("the fixture");
        let theirs: Vec<f64> = fixture["envelope"]
            .as_array()
            .expect("an envelope")
            .iter()
            .map(|v| v.as_f64().expect("a number"))
            .collect();
        let their_onsets: Vec<usize> = fixture["onset_frames"]
            .as_array()
            .expect("onset frames")
            .iter()
            .map(|v| v.as_u64().expect("a frame") as usize)
            .collect();
        let envelope = onset_strength(&test_sound());
        assert_eq!(envelope.len(), theirs.len());
        let peak = theirs.iter().copied().fold(0.0, f64::max);
        for (frame, (ours, theirs)) in envelope.iter().zip(&theirs).enumerate() {
            assert!(
                (f64::from(*ours) - theirs).abs() < 1e-5 * peak,
                "frame {frame}: {ours} against librosa's {theirs}"
            );
        }
        assert_eq!(onset_detect(&envelope), their_onsets);
    }

    #[test]
    fn peak_pick_follows_librosas_rules() {
        // A peak at the first frame, one within `wait` of it (skipped), one under the mean plus
        // delta (skipped), and a clear one: librosa's `util.peak_pick` gives [0, 10] too.
        let x = [1.0, 0.9, 0.2, 0.0, 0.0, 0.1, 0.12, 0.1, 0.0, 0.0, 0.8, 0.0];
        assert_eq!(peak_pick(&x, 1, 1, 4, 5, 0.07, 1), vec![0, 10]);
        // Two frames after a peak is past `wait`: [0, 2, 10] in librosa.
        let x = [1.0, 0.2, 0.9, 0.0, 0.0, 0.1, 0.12, 0.1, 0.0, 0.0, 0.8, 0.0];
        assert_eq!(peak_pick(&x, 1, 1, 4, 5, 0.07, 1), vec![0, 2, 10]);
        // Silence has no onset, and no NaN from the normalisation.
        assert!(onset_detect(&onset_strength(&[0.0; 22_050])).is_empty());
        assert!(onset_strength(&[]).is_empty());
    }

    #[test]
    fn the_mel_filters_are_slaneys() {
        let filters = mel();
        assert_eq!(filters.len(), N_MELS);
        // Slaney's scale is linear below 1 kHz (200/3 Hz a mel) and round-trips.
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12 && (mel_to_hz(hz_to_mel(4321.0)) - 4321.0).abs() < 1e-9);
        // Slaney's area norm: each triangle (wider than a few bins) has unit area in Hz.
        let bin_hz = f64::from(SAMPLE_RATE) / N_FFT as f64;
        for filter in &filters[40..] {
            let area: f64 = filter.weights.iter().map(|&w| f64::from(w) * bin_hz).sum();
            assert!((area - 1.0).abs() < 0.05, "area {area} from bin {}", filter.first_bin);
        }
    }
}
