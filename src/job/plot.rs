//! `--plot FILE.png`: a render's plan drawn as a picture, one panel per scheduled setting (its
//! curve over the frames, its range written beside it), the audio signals in a panel under them,
//! and every detected beat marked as a red line through all panels.
//!
//! plotters draws the curves into an RGB buffer; the labels are drawn from font8x8's 8x8 glyphs,
//! so no system font (fontconfig, FreeType) is needed; the PNG is written by `image`.
use crate::config::per_frame::NumberKey;
use crate::error::{Error, Result};
use crate::job::plan::FramePlan;
use font8x8::UnicodeFonts;
use plotters::prelude::*;
use std::path::Path;

const WIDTH: u32 = 960;
const PANEL_HEIGHT: u32 = 120;
/// Left margin for the labels, in pixels.
const LEFT: u32 = 150;
const SIGNAL_COLOURS: [RGBColor; 5] =
    [RGBColor(40, 40, 40), RGBColor(220, 40, 40), RGBColor(30, 90, 200), RGBColor(30, 160, 60), RGBColor(200, 130, 0)];

/// One panel: its label and curves (each with its colour), drawn over `0..frames`.
struct Panel {
    label: String,
    curves: Vec<(Vec<f64>, RGBColor)>,
    /// Fixed range (the audio signals' [0, 1]); else the curves' own.
    range: Option<(f64, f64)>,
}

/// Draws `plan` into the PNG `path`.
pub fn draw(plan: &FramePlan, path: &Path) -> Result<()> {
    let mut panels = Vec::new();
    for key in plan.shown_keys() {
        match key {
            "layers" | "channels" | "class" => panels.push(switch_panel(plan, key)),
            "pan" => {
                for (axis, name) in [(0, "pan-x"), (1, "pan-y")] {
                    let values =
                        plan.rows().iter().map(|row| row.numbers.pan).map(|pan| [pan.0, pan.1][axis]).collect();
                    panels.push(Panel { label: name.into(), curves: vec![(values, BLUE)], range: None });
                }
            }
            other => {
                let key = NumberKey::named(other);
                let values = plan
                    .rows()
                    .iter()
                    .map(|row| key.and_then(|key| row.numbers.get(key).first().copied()).unwrap_or(0.0))
                    .collect();
                panels.push(Panel { label: other.into(), curves: vec![(values, BLUE)], range: None });
            }
        }
    }
    if let Some(audio) = plan.audio() {
        let signals = [&audio.loud, &audio.beat, &audio.bass, &audio.mid, &audio.high];
        let curves = signals.iter().zip(SIGNAL_COLOURS).map(|(signal, colour)| ((*signal).clone(), colour)).collect();
        let label = format!("audio {:.0} bpm", audio.bpm);
        panels.push(Panel { label, curves, range: Some((0.0, 1.0)) });
    }
    let frames = plan.frames().max(2) as f64;
    let beats: Vec<f64> = plan.audio().iter().flat_map(|a| a.onsets.iter().map(|s| s * plan.fps())).collect();
    let height = PANEL_HEIGHT * panels.len() as u32;
    let mut buffer = vec![255u8; (WIDTH * height * 3) as usize];
    let mut labels: Vec<(u32, u32, String, RGBColor)> = Vec::new();
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (WIDTH, height)).into_drawing_area();
        let failed = |e: &dyn std::fmt::Display| Error::output(path, format!("cannot draw the plot: {e}"));
        for (index, (panel, area)) in panels.iter().zip(root.split_evenly((panels.len(), 1))).enumerate() {
            let top = index as u32 * PANEL_HEIGHT;
            let (low, high) = panel.range.unwrap_or_else(|| range_of(&panel.curves));
            let mut chart = ChartBuilder::on(&area)
                .margin_top(14)
                .margin_bottom(6)
                .margin_right(10)
                .margin_left(LEFT)
                .build_cartesian_2d(0.0..frames - 1.0, low..high)
                .map_err(|e| failed(&e))?;
            let grey = RGBColor(200, 200, 200);
            let frame_lines = [
                vec![(0.0, low), (frames - 1.0, low)],
                vec![(0.0, high), (frames - 1.0, high)],
                vec![(0.0, low), (0.0, high)],
                vec![(frames - 1.0, low), (frames - 1.0, high)],
            ];
            for line in frame_lines {
                chart.draw_series(LineSeries::new(line, grey)).map_err(|e| failed(&e))?;
            }
            for &beat in &beats {
                let marker = LineSeries::new([(beat, low), (beat, high)], RGBColor(255, 170, 170));
                chart.draw_series(marker).map_err(|e| failed(&e))?;
            }
            for (values, colour) in &panel.curves {
                let points = values.iter().enumerate().map(|(frame, &v)| (frame as f64, v));
                chart.draw_series(LineSeries::new(points, colour.stroke_width(2))).map_err(|e| failed(&e))?;
            }
            labels.push((8, top + 16, panel.label.clone(), BLACK));
            labels.push((LEFT - 8 * 9, top + 14, format!("{:>8}", short(high)), RGBColor(90, 90, 90)));
            labels.push((LEFT - 8 * 9, top + PANEL_HEIGHT - 14, format!("{:>8}", short(low)), RGBColor(90, 90, 90)));
            if panel.range.is_some() {
                let names = ["loud", "beat", "bass", "mid", "high"];
                for (k, (name, colour)) in names.iter().zip(SIGNAL_COLOURS).enumerate() {
                    labels.push((8, top + 34 + 12 * k as u32, (*name).to_string(), colour));
                }
            }
        }
        let last = format!("frame {}", plan.frames().saturating_sub(1));
        labels.push((WIDTH - 10 - 8 * last.len() as u32, height - 12, last, RGBColor(90, 90, 90)));
        root.present().map_err(|e| failed(&e))?;
    }
    for (x, y, text, colour) in labels {
        write_text(&mut buffer, (WIDTH, height), (x, y.saturating_sub(4)), &text, colour);
    }
    let image = image::RgbImage::from_raw(WIDTH, height, buffer)
        .ok_or_else(|| Error::output(path, "cannot assemble the plot"))?;
    if !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
        return Err(Error::setting("plot", format!("'{}' must be a .png file", path.display())));
    }
    crate::output::write_atomically(path, |file| {
        image.write_to(file, image::ImageFormat::Png).map_err(|e| Error::output(path, e.to_string()))
    })
}

/// A held switch as a step curve: each distinct value gets a level, in order of appearance.
fn switch_panel(plan: &FramePlan, key: &str) -> Panel {
    let value = |frame: usize| -> String {
        let row = &plan.rows()[frame];
        match key {
            "layers" => row.layers.clone(),
            "class" => row.class.clone().unwrap_or_default(),
            _ => row.channels.join(";"),
        }
    };
    let mut seen: Vec<String> = Vec::new();
    let levels = (0..plan.rows().len())
        .map(|frame| {
            let v = value(frame);
            let level = seen.iter().position(|s| *s == v).unwrap_or_else(|| {
                seen.push(v);
                seen.len() - 1
            });
            level as f64
        })
        .collect();
    Panel { label: format!("{key}: {}", seen.join(" > ")), curves: vec![(levels, BLUE)], range: None }
}

fn range_of(curves: &[(Vec<f64>, RGBColor)]) -> (f64, f64) {
    let values = curves.iter().flat_map(|(v, _)| v.iter().copied());
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((high - low) * 0.08).max(high.abs().max(1e-3) * 1e-3);
    (low - pad, high + pad)
}

fn short(value: f64) -> String {
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Writes `text` with font8x8's glyphs at (x, y), clipped to the buffer.
fn write_text(buffer: &mut [u8], (width, height): (u32, u32), (x, y): (u32, u32), text: &str, colour: RGBColor) {
    for (index, c) in text.chars().enumerate() {
        let Some(glyph) = font8x8::BASIC_FONTS.get(c) else { continue };
        for (row, bits) in glyph.iter().enumerate() {
            for column in 0..8 {
                if bits & (1 << column) == 0 {
                    continue;
                }
                let (px, py) = (x + 8 * index as u32 + column, y + row as u32);
                if px < width && py < height {
                    let at = ((py * width + px) * 3) as usize;
                    buffer[at..at + 3].copy_from_slice(&[colour.0, colour.1, colour.2]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::{Settings, SettingsPatch};

    #[test]
    fn a_plan_draws_one_panel_per_setting_with_its_curve() {
        let patch = SettingsPatch {
            zoom: Some("0:(1.0), 20:(1.1)".parse().unwrap()),
            layers: Some("0:(blocks.8), 10:(blocks.10)".into()),
            ..Default::default()
        };
        let settings = Settings::resolve([&patch]).unwrap();
        let samples = crate::frame::audio_signals::synthetic::click_track(1.0, 0.1, 0.5);
        let audio = crate::frame::audio_signals::AudioSignals::analyse(&samples, 24.0, 24);
        let plan = FramePlan::new(&crate::job::plan::PlanSpec::of(&settings, 1.05), 24.0, 24, Some(audio)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.png");
        draw(&plan, &path).unwrap();
        let image = image::open(&path).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), (WIDTH, 3 * PANEL_HEIGHT));
        // The zoom's curve (blue) rises: high on the right of its panel, low on the left.
        let blue_rows =
            |x: u32| (0..PANEL_HEIGHT).filter(|&y| image.get_pixel(x, y).0 == [0, 0, 255]).collect::<Vec<_>>();
        let (left, right) = (blue_rows(LEFT + 20), blue_rows(WIDTH - 60));
        assert!(!left.is_empty() && !right.is_empty(), "no curve drawn");
        assert!(right[0] < left[0], "the zoom's curve should rise: {left:?} {right:?}");
        // Beats are marked, and labels are written.
        let pink = image.pixels().filter(|p| p.0 == [255, 170, 170]).count();
        assert!(pink > 100, "{pink}");
        let label = (0..40)
            .flat_map(|x| (0..PANEL_HEIGHT).map(move |y| (x, y)))
            .filter(|&(x, y)| image.get_pixel(x, y).0 == [0, 0, 0])
            .count();
        assert!(label > 20, "{label}");
    }
}
