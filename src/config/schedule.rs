//! Per-frame schedules: a setting that changes over the render, as Deforum writes them.
//!
//! A schedule is a plain number; or keyframes `FRAME:(VALUE), FRAME:(VALUE), ...` (frames,
//! seconds as `2.5s`, or Deforum's expressions of the length such as `"max_f-1"` or `max_f`); or an
//! expression in `t` (frame index), `s` (seconds), `n` (frame count), `max_f` (the last frame) and
//! the audio signals `loud`, `beat`, `bass`, `mid`, `high` and `bpm`. Keyframes follow Deforum's
//! rule: a keyframe written as a plain number joins the next keyframe with a straight line (to
//! the next one's value at its frame when that is an expression); a keyframe that is an
//! expression is evaluated on every frame from its own until the next keyframe. The first
//! keyframe holds before itself and the last after itself. The expressions' language is in
//! [`super::expression`]. Layers, channels and classes switch at keyframes: [`Switches`] holds
//! each value until the next keyframe.
//!
//! A render evaluates every schedule for every frame once, before its first frame
//! ([`Schedule::values`]); the frames then only look values up.
use super::expression::{self, ExprError, Expression, Place, Var, Vars};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The audio signals an expression may read, each in [0, 1] per frame.
pub(crate) const AUDIO_SIGNALS: [&str; 5] = ["loud", "beat", "bass", "mid", "high"];

/// How values are drawn between numeric keyframes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// Straight lines between keyframes (Deforum's default).
    #[default]
    Linear,
    /// A smooth curve through the keyframes (monotone-free cubic Hermite, Catmull-Rom tangents).
    Cubic,
}

impl Interpolation {
    pub const ALL: [Interpolation; 2] = [Interpolation::Linear, Interpolation::Cubic];

    pub fn name(self) -> &'static str {
        match self {
            Interpolation::Linear => "linear",
            Interpolation::Cubic => "cubic",
        }
    }
}

/// A schedule that does not parse or evaluate: where (a 1-based character of the text) and why.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleError {
    pub position: Option<usize>,
    pub message: String,
}

impl ScheduleError {
    fn at(text: &str, byte: usize, message: impl Into<String>) -> ScheduleError {
        let position = text[..byte.min(text.len())].chars().count() + 1;
        ScheduleError { position: Some(position), message: message.into() }
    }

    fn whole(message: impl Into<String>) -> ScheduleError {
        ScheduleError { position: None, message: message.into() }
    }

    fn of(text: &str, error: ExprError) -> ScheduleError {
        ScheduleError::at(text, error.byte, error.message)
    }
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(position) => write!(f, "at character {position}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ScheduleError {}

/// When a keyframe is: a frame index, or seconds (`2.5s`) that the frame rate turns into one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum At {
    Frame(f64),
    Seconds(f64),
}

impl At {
    /// The keyframe's (possibly fractional) frame position at `fps`.
    pub fn frame(self, fps: f64) -> f64 {
        match self {
            At::Frame(frame) => frame,
            At::Seconds(seconds) => seconds * fps,
        }
    }
}

/// What a schedule's expressions see of the render: its frame rate, its length, and the audio
/// signals per frame when there is a soundtrack.
#[derive(Clone, Copy, Debug)]
pub struct Timeline<'a> {
    pub fps: f64,
    pub frames: u64,
    pub audio: Option<&'a dyn AudioFrames>,
}

impl Timeline<'_> {
    /// The names' values at `frame` (fractional for a keyframe in seconds; the audio of the frame
    /// it falls in, the last one past the end).
    fn vars(&self, frame: f64) -> Vars {
        let (audio, bpm) = match self.audio {
            Some(audio) => {
                let index = (frame.max(0.0) as u64).min(self.frames.saturating_sub(1));
                (audio.signals(index), audio.bpm())
            }
            None => ([0.0; 5], 0.0),
        };
        Vars { t: frame, s: frame / self.fps, n: self.frames as f64, bpm, audio }
    }
}

/// Per-frame audio signals as a schedule reads them.
pub trait AudioFrames: fmt::Debug {
    /// `loud`, `beat`, `bass`, `mid`, `high` at `frame` (in [`AUDIO_SIGNALS`] order), each in [0, 1].
    fn signals(&self, frame: u64) -> [f64; 5];
    /// The soundtrack's tempo in beats per minute (0 when none was found).
    fn bpm(&self) -> f64;
}

/// Where a numeric keyframe is: a time, or Deforum's expression of the length, quoted or not
/// (`"max_f-1"`, `max_f:(10)`), which Deforum truncates to a whole frame.
#[derive(Clone, Debug)]
enum Position {
    At(At),
    Formula(Expression),
}

#[derive(Clone, Debug)]
struct Keyframe {
    position: Position,
    /// One expression per number of the value (a pan's two).
    value: Vec<Expression>,
}

#[derive(Clone, Debug)]
enum Body {
    Expression(Vec<Expression>),
    Keyframes(Vec<Keyframe>),
}

/// A numeric schedule of `dimensions` values per frame (2 for a pan's DX, DY).
#[derive(Clone, Debug)]
pub struct Schedule {
    text: String,
    dimensions: usize,
    body: Body,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.dimensions == other.dimensions
    }
}

impl Schedule {
    /// Parses a schedule of `dimensions` numbers per frame; syntax and names are checked here,
    /// values when [`Schedule::values`] evaluates them.
    pub fn parse(text: &str, dimensions: usize) -> Result<Schedule, ScheduleError> {
        if text.trim().is_empty() {
            return Err(ScheduleError::whole("is empty"));
        }
        let read =
            |start, end, place| expression::parse(text, start, end, place).map_err(|e| ScheduleError::of(text, e));
        let body = match split_keyframes(text)? {
            Some(keys) => {
                let mut keyframes = Vec::with_capacity(keys.len());
                for key in keys {
                    let position = match key.position {
                        RawPosition::At(at) => Position::At(at),
                        RawPosition::Formula(start, end) => {
                            let mut parts = read(start, end, Place::FramePosition)?;
                            if parts.len() != 1 {
                                return Err(ScheduleError::at(text, start, "a keyframe's frame is one number"));
                            }
                            Position::Formula(parts.remove(0))
                        }
                    };
                    let value = read(key.value.0, key.value.1, Place::KeyframeValue)?;
                    keyframes.push(Keyframe { position, value });
                }
                Body::Keyframes(keyframes)
            }
            None => Body::Expression(read(0, text.len(), Place::Whole)?),
        };
        Ok(Schedule { text: text.to_string(), dimensions, body })
    }

    /// The text it was parsed from, as a preset or checkpoint records it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether any expression reads an audio signal (so the render needs a soundtrack).
    pub fn uses_audio(&self) -> bool {
        self.audio_name().is_some()
    }

    /// Whether the value may change from frame to frame.
    pub fn varies(&self) -> bool {
        let changing = |var: &Var| !matches!(var, Var::N | Var::MaxF);
        let read = self.expressions().any(|e| e.vars().iter().any(changing));
        read || matches!(&self.body, Body::Keyframes(keys) if keys.len() > 1)
    }

    fn expressions(&self) -> impl Iterator<Item = &Expression> {
        let (single, keys) = match &self.body {
            Body::Expression(parts) => (Some(parts.iter()), None),
            Body::Keyframes(keys) => (None, Some(keys.iter().flat_map(|k| k.value.iter()))),
        };
        single.into_iter().flatten().chain(keys.into_iter().flatten())
    }

    /// Every frame's values (`timeline.frames` rows of `dimensions` numbers), evaluated once.
    pub fn values(&self, timeline: &Timeline, interpolation: Interpolation) -> Result<Vec<Vec<f64>>, ScheduleError> {
        if self.uses_audio() && timeline.audio.is_none() {
            let name = self.audio_name().unwrap_or("an audio signal");
            return Err(ScheduleError::whole(format!(
                "'{name}' is an audio signal: give --audio FILE (or footage with sound)"
            )));
        }
        let keys = match &self.body {
            Body::Expression(parts) => {
                let parts = self.sized(parts)?;
                return (0..timeline.frames)
                    .map(|frame| {
                        let vars = timeline.vars(frame as f64);
                        parts.iter().map(|part| self.evaluate(part, &vars)).collect()
                    })
                    .collect();
            }
            Body::Keyframes(keys) => keys,
        };
        let mut keys: Vec<(f64, &[Expression])> = keys
            .iter()
            .map(|key| Ok((self.position(key, timeline)?, self.sized(&key.value)?)))
            .collect::<Result<_, ScheduleError>>()?;
        keys.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(pair) = keys.windows(2).find(|w| w[0].0 == w[1].0) {
            let at = pair[1].1[0].offset;
            return Err(ScheduleError::at(&self.text, at, format!("two keyframes at frame {}", pair[0].0)));
        }
        // Each keyframe's value at its own frame: where a straight line or curve meets it.
        let anchors: Vec<Vec<f64>> = keys
            .iter()
            .map(|(at, value)| {
                let vars = timeline.vars(*at);
                value.iter().map(|part| part.literal.map_or_else(|| self.evaluate(part, &vars), Ok)).collect()
            })
            .collect::<Result<_, ScheduleError>>()?;
        let mut rows = Vec::with_capacity(timeline.frames as usize);
        for frame in 0..timeline.frames {
            let vars = timeline.vars(frame as f64);
            let next = keys.partition_point(|(at, _)| *at <= frame as f64);
            let current = next.saturating_sub(1);
            let mut row = Vec::with_capacity(self.dimensions);
            for d in 0..self.dimensions {
                let part = &keys[current].1[d];
                let value = match part.literal {
                    // An expression is live from its keyframe to the next (and before the first).
                    None => self.evaluate(part, &vars)?,
                    // A number holds before the first keyframe and after the last.
                    Some(number) if next == 0 || next == keys.len() => number,
                    Some(_) => between(&keys, &anchors, current, d, frame as f64, interpolation),
                };
                row.push(value);
            }
            rows.push(row);
        }
        Ok(rows)
    }

    /// The keyframes whose value is written as numbers (`10:(1.5)`), with their frame at the
    /// timeline's rate: what the user wrote, checked as a constant would be.
    pub fn written_keyframes(&self, timeline: &Timeline) -> Result<Vec<(f64, Vec<f64>)>, ScheduleError> {
        let Body::Keyframes(keys) = &self.body else { return Ok(Vec::new()) };
        let mut written = Vec::new();
        for key in keys {
            let numbers: Option<Vec<f64>> = key.value.iter().map(|part| part.literal).collect();
            if let Some(numbers) = numbers {
                written.push((self.position(key, timeline)?, numbers));
            }
        }
        Ok(written)
    }

    /// A value's numbers when there are `dimensions` of them.
    fn sized<'a>(&self, parts: &'a [Expression]) -> Result<&'a [Expression], ScheduleError> {
        let failed = |message: String| Err(ScheduleError::at(&self.text, parts[0].offset, message));
        match parts.len() {
            n if n == self.dimensions => Ok(parts),
            n if self.dimensions == 2 => failed(format!("gives {n} numbers where two (DX, DY) are needed")),
            n => failed(format!("gives {n} numbers where one is needed")),
        }
    }

    /// A keyframe's frame: its time at the frame rate, or its formula truncated as Deforum's `int()`.
    fn position(&self, key: &Keyframe, timeline: &Timeline) -> Result<f64, ScheduleError> {
        match &key.position {
            Position::At(at) => Ok(at.frame(timeline.fps)),
            Position::Formula(formula) => {
                let frame = self.evaluate(formula, &timeline.vars(0.0))?;
                Ok(frame.trunc())
            }
        }
    }

    fn audio_name(&self) -> Option<&'static str> {
        let name = |var: Var| match var {
            Var::Audio(i) => Some(AUDIO_SIGNALS[i]),
            Var::Bpm => Some("bpm"),
            _ => None,
        };
        self.expressions().flat_map(Expression::vars).find_map(name)
    }

    fn evaluate(&self, part: &Expression, vars: &Vars) -> Result<f64, ScheduleError> {
        let value = part.eval(vars).map_err(|e| ScheduleError::of(&self.text, e))?;
        if !value.is_finite() {
            return Err(ScheduleError::at(&self.text, part.offset, format!("gives {value}, not a finite number")));
        }
        Ok(value)
    }
}

/// The value at `frame` between the keyframe `i`, a number, and the next: a straight line (or a
/// curve) between their anchors.
fn between(
    keys: &[(f64, &[Expression])],
    anchors: &[Vec<f64>],
    i: usize,
    d: usize,
    frame: f64,
    interpolation: Interpolation,
) -> f64 {
    let j = i + 1;
    let (p0, p1) = (keys[i].0, keys[j].0);
    let w = (frame - p0) / (p1 - p0);
    let (a, b) = (anchors[i][d], anchors[j][d]);
    match interpolation {
        Interpolation::Linear => a + (b - a) * w,
        Interpolation::Cubic => {
            // Non-uniform Catmull-Rom: tangents from the neighbours, one-sided at the ends.
            let (lo, hi) = (i.saturating_sub(1), (j + 1).min(keys.len() - 1));
            let tangent = |k: usize| {
                let (before, after) = (k.saturating_sub(1).max(lo), (k + 1).min(hi));
                (anchors[after][d] - anchors[before][d]) / (keys[after].0 - keys[before].0)
            };
            let h = p1 - p0;
            let (w2, w3) = (w * w, w * w * w);
            let (h00, h10, h01, h11) = (2.0 * w3 - 3.0 * w2 + 1.0, w3 - 2.0 * w2 + w, -2.0 * w3 + 3.0 * w2, w3 - w2);
            h00 * a + h10 * h * tangent(i) + h01 * b + h11 * h * tangent(j)
        }
    }
}

/// A keyframe schedule's keyframes as written: each one's frame (for `frames` frames at `fps`) and
/// value text, for rewriting a schedule (Deforum's two translations into one pan); `None` when
/// `text` is not keyframes.
pub(crate) fn keyframes_of(text: &str, fps: f64, frames: u64) -> Result<Option<Vec<(f64, String)>>, ScheduleError> {
    let schedule = Schedule::parse(text, 1)?;
    let Body::Keyframes(keys) = &schedule.body else { return Ok(None) };
    let raw = split_keyframes(text)?.unwrap_or_default();
    let timeline = Timeline { fps, frames, audio: None };
    let written = keys
        .iter()
        .zip(raw)
        .map(|(key, raw)| Ok((schedule.position(key, &timeline)?, text[raw.value.0..raw.value.1].to_string())));
    written.collect::<Result<Vec<_>, ScheduleError>>().map(Some)
}

/// Layers, channels or classes that switch at keyframes and hold until the next.
#[derive(Clone, Debug, PartialEq)]
pub struct Switches {
    text: String,
    keys: Vec<(At, String)>,
}

impl Switches {
    /// `None` when `text` has no keyframes (a plain value for the whole render).
    pub fn parse(text: &str) -> Result<Option<Switches>, ScheduleError> {
        let Some(keys) = split_keyframes(text)? else { return Ok(None) };
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            let at = match key.position {
                RawPosition::At(at) => at,
                RawPosition::Formula(start, _) => {
                    // From the quote, when the frame has one.
                    let from =
                        if start > 0 && matches!(text.as_bytes()[start - 1], b'"' | b'\'') { start - 1 } else { start };
                    return Err(ScheduleError::at(text, from, "a switch's keyframe is a frame or seconds"));
                }
            };
            let (start, end) = key.value;
            let bytes = text.as_bytes();
            if bytes.get(start) != Some(&b'(') || end == start || bytes[end - 1] != b')' {
                return Err(ScheduleError::at(text, start, "expected '(' around the keyframe's value"));
            }
            let value = text[start + 1..end - 1].trim();
            if value.is_empty() {
                return Err(ScheduleError::at(text, start + 1, "the keyframe's value is empty"));
            }
            values.push((at, value.to_string()));
        }
        Ok(Some(Switches { text: text.to_string(), keys: values }))
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The distinct values, in keyframe order.
    pub fn values(&self) -> Vec<&str> {
        let mut values: Vec<&str> = Vec::new();
        for (_, value) in &self.keys {
            if !values.contains(&value.as_str()) {
                values.push(value);
            }
        }
        values
    }

    /// The value in force at `frame`: the last keyframe at or before it (the first before any).
    pub fn at(&self, frame: u64, fps: f64) -> &str {
        let mut keys: Vec<&(At, String)> = self.keys.iter().collect();
        keys.sort_by(|a, b| a.0.frame(fps).total_cmp(&b.0.frame(fps)));
        let current = keys.iter().rev().find(|(at, _)| at.frame(fps) <= frame as f64).unwrap_or(&keys[0]);
        &current.1
    }
}

/// Where a keyframe is, as written: a time, or the bytes of a quoted formula.
enum RawPosition {
    At(At),
    Formula(usize, usize),
}

/// One keyframe as written: when, and where its value lies in the text (bytes, from after the
/// ':' to the ',' after it).
struct RawKey {
    position: RawPosition,
    value: (usize, usize),
}

/// Splits `FRAME:VALUE, ...` (the value usually in parentheses); `None` when the text does not
/// start like a keyframe.
fn split_keyframes(text: &str) -> Result<Option<Vec<RawKey>>, ScheduleError> {
    let bytes = text.as_bytes();
    let skip_space = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    // Keyframes when the text opens with a quote, a number and ':' (`0:(1)`, `"max_f-1":(1)`), or
    // an expression of max_f and ':' (Deforum's unquoted `max_f:(10)`; a layer's `blocks.10:3`
    // is no keyframe).
    let starts_keyframe = |i: usize| {
        if matches!(bytes.get(i), Some(b'"' | b'\'')) {
            return true;
        }
        let frame = bytes[i..]
            .iter()
            .position(|&b| b == b':' || b == b',')
            .filter(|&at| bytes[i + at] == b':' && bytes.get(i + at + 1) != Some(&b':'));
        let Some(frame) = frame.map(|at| text[i..i + at].trim_end()) else { return false };
        let number = frame.strip_suffix('s').unwrap_or(frame);
        (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')) || frame.contains("max_f")
    };
    let mut i = skip_space(0);
    if !starts_keyframe(i) {
        return Ok(None);
    }
    let mut keys = Vec::new();
    loop {
        i = skip_space(i);
        if i >= bytes.len() {
            return Err(ScheduleError::at(text, i, "expected a keyframe FRAME:(VALUE) after ','"));
        }
        let start = i;
        let position = if matches!(bytes[i], b'"' | b'\'') {
            let quote = bytes[i];
            let close = (i + 1..bytes.len())
                .find(|&j| bytes[j] == quote)
                .ok_or_else(|| ScheduleError::at(text, start, "this quote is never closed"))?;
            i = close + 1;
            RawPosition::Formula(start + 1, close)
        } else {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let seconds = i > start && bytes.get(i) == Some(&b's');
            let after = skip_space(i + usize::from(seconds));
            // The ':' that ends this keyframe's frame, if it comes before the next ','.
            let colon =
                (start..bytes.len()).find(|&j| bytes[j] == b':' || bytes[j] == b',').filter(|&j| bytes[j] == b':');
            // A number, unless more than a number stands before the ':' (a number without a ':'
            // is told it needs one, below).
            if i == start || colon.is_some_and(|colon| colon != after) {
                // Deforum evaluates the frame up to the ':' (`max_f-1`, `2*max_f/3`).
                let Some(colon) = colon else {
                    return Err(ScheduleError::at(text, start, "expected a keyframe FRAME:(VALUE)"));
                };
                let mut end = colon;
                while bytes[end - 1].is_ascii_whitespace() {
                    end -= 1;
                }
                i = colon;
                RawPosition::Formula(start, end)
            } else {
                let number: f64 = text[start..i].parse().map_err(|_| {
                    ScheduleError::at(text, start, "expected a frame number or seconds such as 48 or 2.5s")
                })?;
                if seconds {
                    i += 1;
                    RawPosition::At(At::Seconds(number))
                } else {
                    if text[start..i].contains('.') {
                        return Err(ScheduleError::at(
                            text,
                            start,
                            "a frame is a whole number (write 2.5s for seconds)",
                        ));
                    }
                    RawPosition::At(At::Frame(number))
                }
            }
        };
        i = skip_space(i);
        if bytes.get(i) != Some(&b':') {
            return Err(ScheduleError::at(text, i, "expected ':' after the keyframe's time"));
        }
        i = skip_space(i + 1);
        // The value runs to the next ',' outside parentheses (Deforum's own values need none).
        let value_start = i;
        let mut open: Vec<usize> = Vec::new();
        while i < bytes.len() && !(bytes[i] == b',' && open.is_empty()) {
            match bytes[i] {
                b'(' => open.push(i),
                b')' => {
                    open.pop().ok_or_else(|| ScheduleError::at(text, i, "this ')' closes nothing"))?;
                    // After a value in parentheses, what is not an operator starts a keyframe.
                    let next = skip_space(i + 1);
                    let ends = next >= bytes.len() || b",)+-*/%^<>=!&|".contains(&bytes[next]);
                    if open.is_empty() && bytes[value_start] == b'(' && !ends {
                        return Err(ScheduleError::at(text, next, "expected ',' between keyframes"));
                    }
                }
                _ => {}
            }
            i += 1;
        }
        if let Some(&unclosed) = open.last() {
            return Err(ScheduleError::at(text, unclosed, "this '(' is never closed"));
        }
        let mut value_end = i;
        while value_end > value_start && bytes[value_end - 1].is_ascii_whitespace() {
            value_end -= 1;
        }
        keys.push(RawKey { position, value: (value_start, value_end) });
        match bytes.get(i) {
            None => return Ok(Some(keys)),
            _ => i += 1,
        }
    }
}

/// A per-frame setting as a preset, manifest or the command line gives it: a number, or the text
/// of a schedule (which may also be a number: `--zoom 1.05` and `zoom = 1.05` mean the same).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scheduled {
    Number(f64),
    Text(String),
}

impl Scheduled {
    /// The constant, when it is one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Scheduled::Number(value) => Some(*value),
            Scheduled::Text(text) => text.trim().parse().ok(),
        }
    }
}

impl From<f64> for Scheduled {
    fn from(value: f64) -> Self {
        Scheduled::Number(value)
    }
}

impl From<u32> for Scheduled {
    fn from(value: u32) -> Self {
        Scheduled::Number(f64::from(value))
    }
}

impl std::str::FromStr for Scheduled {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(text.trim().parse().map_or_else(|_| Scheduled::Text(text.to_string()), Scheduled::Number))
    }
}

impl fmt::Display for Scheduled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scheduled::Number(value) => write!(f, "{value}"),
            Scheduled::Text(text) => f.write_str(text),
        }
    }
}

/// The settings of a render that change over it, by key (the long option name): numeric ones and
/// the held switches of layers, channels and classes. Empty for a render of constants, which
/// then runs exactly as before schedules existed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schedules {
    numbers: std::collections::BTreeMap<&'static str, Schedule>,
    switches: std::collections::BTreeMap<&'static str, Switches>,
}

impl Schedules {
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty() && self.switches.is_empty()
    }

    /// Sets `key`'s schedule (`None`: the setting is a constant again, as a later layer said).
    pub(crate) fn set_number(&mut self, key: &'static str, schedule: Option<Schedule>) {
        match schedule {
            Some(schedule) => self.numbers.insert(key, schedule),
            None => self.numbers.remove(key),
        };
    }

    pub(crate) fn set_switches(&mut self, key: &'static str, switches: Option<Switches>) {
        match switches {
            Some(switches) => self.switches.insert(key, switches),
            None => self.switches.remove(key),
        };
    }

    pub fn number(&self, key: &str) -> Option<&Schedule> {
        self.numbers.get(key)
    }

    pub(crate) fn switches(&self, key: &str) -> Option<&Switches> {
        self.switches.get(key)
    }

    /// Keys and texts of every schedule, sorted by key.
    pub(crate) fn texts(&self) -> Vec<(&'static str, &str)> {
        let mut texts: Vec<(&'static str, &str)> = self.numbers.iter().map(|(k, s)| (*k, s.text())).collect();
        texts.extend(self.switches.iter().map(|(k, s)| (*k, s.text())));
        texts.sort();
        texts
    }

    /// Whether any schedule reads an audio signal.
    pub fn uses_audio(&self) -> bool {
        self.numbers.values().any(Schedule::uses_audio)
    }

    /// Keeps only the schedules whose key `keep` accepts (a mode's own settings).
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.numbers.retain(|key, _| keep(key));
        self.switches.retain(|key, _| keep(key));
    }
}

impl Serialize for Schedules {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let texts = self.texts();
        let mut map = serializer.serialize_map(Some(texts.len()))?;
        for (key, text) in texts {
            map.serialize_entry(key, text)?;
        }
        map.end()
    }
}

/// Whether `interpolation` is the default (serialization leaves it out then).
pub(crate) fn is_linear(interpolation: &Interpolation) -> bool {
    *interpolation == Interpolation::Linear
}

/// A schedule's mistake as a setting's error: `--zoom: at character 5 of '1 + foo': ...`.
pub(crate) fn setting_error(key: &str, text: &str, error: &ScheduleError) -> crate::Error {
    let message = match error.position {
        Some(position) => format!("at character {position} of '{text}': {}", error.message),
        None => format!("'{text}' {}", error.message),
    };
    crate::Error::setting(key, message)
}

/// A `--pan` that is a schedule (keyframes or expressions of DX, DY); `None` for two plain numbers,
/// which `--pan` reads as before.
pub(crate) fn pan_schedule(text: &str) -> crate::Result<Option<Schedule>> {
    // Two numbers (`2,-1`, `1e3,0`) are a constant pan, which `--pan` reads and checks as before.
    let plain = text
        .split_once(',')
        .is_some_and(|(dx, dy)| dx.trim().parse::<f64>().is_ok() && dy.trim().parse::<f64>().is_ok());
    if plain || !text.contains(|c: char| c.is_ascii_alphabetic() || c == ':' || c == '(') {
        return Ok(None);
    }
    Schedule::parse(text, 2).map(Some).map_err(|e| setting_error("pan", text, &e))
}

/// A keyframe of `--channels` may name several layers' channels, separated by ';'.
pub(crate) fn channel_sets(value: &str) -> Vec<String> {
    value.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Writes the schedules into a preset's TOML (`Settings::to_toml`): each scheduled key takes its
/// schedule's text in place of the constant, and the `[schedules]` table goes.
pub(crate) fn schedules_into_toml(schedules: &Schedules, text: String) -> String {
    if schedules.is_empty() {
        return text;
    }
    let body = match text.find("\n[schedules]") {
        Some(at) => &text[..at],
        None => text.strip_prefix("[schedules]").map_or(text.as_str(), |_| ""),
    };
    let texts = schedules.texts();
    let quoted = |text: &str| toml::Value::String(text.to_string()).to_string();
    let mut lines: Vec<String> = Vec::new();
    let mut written = Vec::new();
    for line in body.lines() {
        let key = line.split(" = ").next().unwrap_or("");
        match texts.iter().find(|(k, _)| *k == key) {
            Some((key, text)) => {
                lines.push(format!("{key} = {}", quoted(text)));
                written.push(*key);
            }
            None => lines.push(line.to_string()),
        }
    }
    for (key, text) in texts.iter().filter(|(key, _)| !written.contains(key)) {
        lines.push(format!("{key} = {}", quoted(text)));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline(frames: u64) -> Timeline<'static> {
        Timeline { fps: 24.0, frames, audio: None }
    }

    fn column(text: &str, frames: u64, interpolation: Interpolation) -> Vec<f64> {
        let schedule = Schedule::parse(text, 1).unwrap();
        schedule.values(&timeline(frames), interpolation).unwrap().into_iter().map(|row| row[0]).collect()
    }

    fn error(text: &str) -> String {
        Schedule::parse(text, 1).unwrap_err().to_string()
    }

    #[test]
    fn keyframes_interpolate_linearly_and_hold_at_both_ends() {
        let values = column("10:(1.0), 20:(2.0)", 25, Interpolation::Linear);
        assert_eq!(values[0], 1.0);
        assert_eq!(values[10], 1.0);
        assert!((values[15] - 1.5).abs() < 1e-12);
        assert_eq!(values[20], 2.0);
        assert_eq!(values[24], 2.0);
    }

    #[test]
    fn cubic_passes_through_its_keyframes_smoothly() {
        let values = column("0:(0), 10:(1), 20:(0)", 21, Interpolation::Cubic);
        assert_eq!((values[0], values[10], values[20]), (0.0, 1.0, 0.0));
        // A curve, not two straight lines: above the chord near the peak.
        assert!(values[5] > 0.5 && values[15] > 0.5, "{values:?}");
        let linear = column("0:(0), 10:(1), 20:(0)", 21, Interpolation::Linear);
        assert!((linear[5] - 0.5).abs() < 1e-12);
    }

    #[test]
    // Deforum's own example writes 3.14 for pi.
    #[allow(clippy::approx_constant)]
    fn expressions_read_the_frame_seconds_and_count() {
        let values = column("1 + t/n + s", 48, Interpolation::Linear);
        assert!((values[24] - (1.0 + 0.5 + 1.0)).abs() < 1e-12);
        // Integers are floats: 1/2 is a half, not 0.
        assert_eq!(column("1/2", 1, Interpolation::Linear), vec![0.5]);
        let smooth = column("smoothstep(0, 10, t) + clamp(t, 0, 0.25) + max(0, -1)", 11, Interpolation::Linear);
        assert_eq!((smooth[0], smooth[5], smooth[10]), (0.0, 0.75, 1.25));
        let deforum = column("1.0025+0.002*sin(1.25*3.14*t/30)", 2, Interpolation::Linear);
        assert!((deforum[1] - (1.0025 + 0.002 * (1.25f64 * 3.14 / 30.0).sin())).abs() < 1e-12);
    }

    #[test]
    fn keyframes_may_be_seconds_and_expressions() {
        // 1s at 24 fps is frame 24.
        let values = column("0:(1), 1s:(2)", 30, Interpolation::Linear);
        assert!((values[12] - 1.5).abs() < 1e-12 && values[24] == 2.0);
        // Deforum's rule: an expression keyframe is live until the next keyframe, no blend.
        let values = column("0:(t), 10:(100)", 11, Interpolation::Linear);
        assert_eq!((values[5], values[9], values[10]), (5.0, 9.0, 100.0));
        let at_fps = Schedule::parse("2.5s:(3)", 1).unwrap();
        assert!(!at_fps.varies());
    }

    #[test]
    fn expression_keyframes_hold_until_the_next_and_numbers_ramp_into_them() {
        // The case: the sine for frames 0-29, then 0 (Deforum: -9.59 at frame 25).
        let values = column("0:(10*sin(t/5)), 30:(0)", 40, Interpolation::Linear);
        assert!((values[25] - 10.0 * 5f64.sin()).abs() < 1e-12 && values[30] == 0.0);
        // A number ramps into an expression's value at that expression's frame.
        let values = column("0:(0), 50:(t*0.1), 60:(1)", 70, Interpolation::Linear);
        assert!((values[25] - 2.5).abs() < 1e-12 && (values[55] - 5.5).abs() < 1e-12 && values[65] == 1.0);
        // Before the first keyframe an expression is live too; numbers hold.
        assert_eq!(column("5:(t), 9:(1)", 10, Interpolation::Linear)[2], 2.0);
        // Deforum's seed default: quoted positions of the length.
        let values = column("0:(3), 1:(-1), \"max_f-2\":(-1), \"max_f-1\":(3)", 10, Interpolation::Linear);
        assert_eq!(values, vec![3.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, 3.0, 3.0]);
        // Values need no parentheses, as in Deforum.
        assert_eq!(column("0: 1, 4: 2", 5, Interpolation::Linear)[2], 1.5);
        // Unquoted, as Deforum also reads them: the frame is everything before the ':', truncated.
        assert_eq!(column("0:(0), max_f:(9)", 10, Interpolation::Linear), (0..10).map(f64::from).collect::<Vec<_>>());
        let values = column("0:(0), max_f - 1 :(8), max_f:(0)", 10, Interpolation::Linear);
        assert_eq!((values[8], values[9]), (8.0, 0.0));
        assert_eq!(column("0:(0), 2*max_f/3:(6)", 10, Interpolation::Linear)[6], 6.0);
        assert_eq!(column("max_f:(5), 0:(1)", 10, Interpolation::Linear)[0], 1.0);
    }

    #[test]
    fn a_pan_takes_pairs() {
        let pan = Schedule::parse("0:(0, 0), 10:(10, -5)", 2).unwrap();
        let rows = pan.values(&timeline(11), Interpolation::Linear).unwrap();
        assert_eq!(rows[5], vec![5.0, -2.5]);
        let pan = Schedule::parse("2*sin(t), 1", 2).unwrap();
        assert_eq!(pan.values(&timeline(1), Interpolation::Linear).unwrap()[0], vec![0.0, 1.0]);
        let one = Schedule::parse("3", 2).unwrap().values(&timeline(1), Interpolation::Linear).unwrap_err();
        assert!(one.to_string().contains("gives 1 numbers where two (DX, DY) are needed"), "{one}");
    }

    #[test]
    fn errors_name_the_character_where_parsing_failed() {
        assert_eq!(
            error("1 + foo"),
            "at character 5: unknown name 'foo' (use t, s, n, max_f, loud, beat, bass, mid, high, bpm, pi, tau)"
        );
        assert!(
            error("0:(1), 10:(2 2)").starts_with("at character 14: cannot read the expression here"),
            "{}",
            error("0:(1), 10:(2 2)")
        );
        assert!(error("sin(t").starts_with("at character 4: this '(' is never closed"));
        assert!(error("t)").starts_with("at character 2: this ')' closes nothing"));
        assert!(error("0:(1), 10(2)").starts_with("at character 10: expected ':'"), "{}", error("0:(1), 10(2)"));
        assert!(error("0:(1) 10:(2)").starts_with("at character 7: expected ','"));
        assert!(error("0:(1), 1.5:(2)").starts_with("at character 8: a frame is a whole number"));
        assert!(error("1 + * 2").starts_with("at character 5: cannot read"), "{}", error("1 + * 2"));
        assert!(error("t = 3").starts_with("at character 3: '=' assigns"));
        assert!(error("noise(t)").starts_with("at character 1: unknown function 'noise'"));
        assert!(error("2 # 3").starts_with("at character 3: '#' has no meaning"));
        assert_eq!(error("  "), "is empty");
    }

    #[test]
    fn audio_signals_need_a_soundtrack() {
        let schedule = Schedule::parse("1 + 0.1*beat", 1).unwrap();
        assert!(schedule.uses_audio());
        let err = schedule.values(&timeline(3), Interpolation::Linear).unwrap_err().to_string();
        assert_eq!(err, "'beat' is an audio signal: give --audio FILE (or footage with sound)");
        #[derive(Debug)]
        struct Pulse;
        impl AudioFrames for Pulse {
            fn signals(&self, frame: u64) -> [f64; 5] {
                [0.0, if frame.is_multiple_of(2) { 1.0 } else { 0.0 }, 0.0, 0.0, 0.0]
            }
            fn bpm(&self) -> f64 {
                120.0
            }
        }
        let timeline = Timeline { fps: 24.0, frames: 3, audio: Some(&Pulse) };
        let values = schedule.values(&timeline, Interpolation::Linear).unwrap();
        assert_eq!(values, vec![vec![1.1], vec![1.0], vec![1.1]]);
        let bpm = Schedule::parse("bpm/60", 1).unwrap().values(&timeline, Interpolation::Linear).unwrap();
        assert_eq!(bpm[0], vec![2.0]);
    }

    #[test]
    fn switches_hold_until_the_next_keyframe() {
        let layers = Switches::parse("0:(blocks.8), 96:(blocks.12,blocks.10)").unwrap().unwrap();
        assert_eq!(layers.at(0, 24.0), "blocks.8");
        assert_eq!(layers.at(95, 24.0), "blocks.8");
        assert_eq!(layers.at(96, 24.0), "blocks.12,blocks.10");
        assert_eq!(layers.values(), vec!["blocks.8", "blocks.12,blocks.10"]);
        let classes = Switches::parse("1s:(banana), 0:(954)").unwrap().unwrap();
        assert_eq!((classes.at(0, 12.0), classes.at(12, 12.0)), ("954", "banana"));
        assert!(Switches::parse("blocks.10:3,17").unwrap().is_none());
        assert!(Switches::parse("blocks.8").unwrap().is_none());
        let err = Switches::parse("0:(blocks.8), 96:()").unwrap_err().to_string();
        assert!(err.starts_with("at character 19: the keyframe's value is empty"), "{err}");
    }

    #[test]
    fn two_keyframes_at_one_frame_are_refused() {
        let schedule = Schedule::parse("0:(1), 1s:(2), 24:(3)", 1).unwrap();
        let err = schedule.values(&timeline(30), Interpolation::Linear).unwrap_err().to_string();
        assert!(err.contains("two keyframes at frame 24"), "{err}");
    }
}
