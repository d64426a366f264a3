//! Per-frame schedules: a setting that changes over the render, Deforum-style.
//!
//! A schedule is a plain number; or keyframes `FRAME:(VALUE), FRAME:(VALUE), ...` (frames, or
//! seconds as `2.5s`), interpolated between keyframes and held before the first and after the
//! last; or an expression in `t` (frame index), `s` (seconds), `n` (frame count) and the audio
//! signals `loud`, `beat`, `bass`, `mid`, `high` and `bpm`. A keyframe's value may itself be an
//! expression. Expressions are parsed and evaluated by `evalexpr`; this module only splits
//! keyframes, checks names and finds the character where a parse fails (evalexpr's errors carry
//! no position). Layers, channels and classes switch at keyframes: [`Switches`] holds each value
//! until the next keyframe.
//!
//! A render evaluates every schedule for every frame once, before its first frame
//! ([`Schedule::values`]); the frames then only look values up.
use evalexpr::{
    ContextWithMutableFunctions, ContextWithMutableVariables, DefaultNumericTypes, EvalexprError, Function,
    HashMapContext, Node, Value,
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The audio signals an expression may read, each in [0, 1] per frame.
pub(crate) const AUDIO_SIGNALS: [&str; 5] = ["loud", "beat", "bass", "mid", "high"];

/// Names an expression may read besides the audio signals.
const VARIABLES: [&str; 6] = ["t", "s", "n", "bpm", "pi", "tau"];

/// Functions an expression may call (`if` is evalexpr's own; the rest are defined here).
const FUNCTIONS: [&str; 22] = [
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    "abs",
    "sqrt",
    "exp",
    "ln",
    "log",
    "pow",
    "min",
    "max",
    "clamp",
    "smoothstep",
    "floor",
    "ceil",
    "round",
    "fract",
    "if",
];

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

/// Per-frame audio signals as a schedule reads them.
pub trait AudioFrames: fmt::Debug {
    /// `loud`, `beat`, `bass`, `mid`, `high` at `frame` (in [`AUDIO_SIGNALS`] order), each in [0, 1].
    fn signals(&self, frame: u64) -> [f64; 5];
    /// The soundtrack's tempo in beats per minute (0 when none was found).
    fn bpm(&self) -> f64;
}

/// One expression, checked and ready to evaluate.
#[derive(Clone, Debug)]
struct Expression {
    node: Node<DefaultNumericTypes>,
    /// Where the expression starts in the schedule's text (bytes), for evaluation errors.
    offset: usize,
    uses_audio: bool,
    /// `t`, `s` or `n` (and the audio): without them the value is the same on every frame.
    varies: bool,
}

#[derive(Clone, Debug)]
enum Body {
    Expression(Expression),
    Keyframes(Vec<(At, Expression)>),
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
        let body = match split_keyframes(text)? {
            Some(keys) => {
                let mut keyframes = Vec::with_capacity(keys.len());
                for key in keys {
                    keyframes.push((key.at, parse_expression(text, key.value.0, key.value.1)?));
                }
                Body::Keyframes(keyframes)
            }
            None => Body::Expression(parse_expression(text, 0, text.len())?),
        };
        Ok(Schedule { text: text.to_string(), dimensions, body })
    }

    /// The text it was parsed from, as a preset or checkpoint records it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether any expression reads an audio signal (so the render needs a soundtrack).
    pub fn uses_audio(&self) -> bool {
        self.expressions().any(|e| e.uses_audio)
    }

    /// Whether the value may change from frame to frame.
    pub fn varies(&self) -> bool {
        match &self.body {
            Body::Expression(expression) => expression.varies,
            Body::Keyframes(keys) => keys.len() > 1 || keys.iter().any(|(_, e)| e.varies),
        }
    }

    fn expressions(&self) -> impl Iterator<Item = &Expression> {
        let (single, keys) = match &self.body {
            Body::Expression(expression) => (Some(expression), None),
            Body::Keyframes(keys) => (None, Some(keys.iter().map(|(_, e)| e))),
        };
        single.into_iter().chain(keys.into_iter().flatten())
    }

    /// Every frame's values (`timeline.frames` rows of `dimensions` numbers), evaluated once.
    pub fn values(&self, timeline: &Timeline, interpolation: Interpolation) -> Result<Vec<Vec<f64>>, ScheduleError> {
        if self.uses_audio() && timeline.audio.is_none() {
            let name = self.audio_name().unwrap_or("an audio signal");
            return Err(ScheduleError::whole(format!(
                "'{name}' is an audio signal: give --audio FILE (or footage with sound)"
            )));
        }
        let mut context = context();
        let mut keys: Vec<(f64, &Expression)> = match &self.body {
            Body::Expression(_) => Vec::new(),
            Body::Keyframes(keys) => keys.iter().map(|(at, e)| (at.frame(timeline.fps), e)).collect(),
        };
        keys.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(pair) = keys.windows(2).find(|w| w[0].0 == w[1].0) {
            let at = pair[1].1.offset;
            return Err(ScheduleError::at(&self.text, at, format!("two keyframes at frame {}", pair[0].0)));
        }
        let mut rows = Vec::with_capacity(timeline.frames as usize);
        let mut scratch = Vec::with_capacity(4);
        for frame in 0..timeline.frames {
            set_frame(&mut context, timeline, frame);
            let row = match &self.body {
                Body::Expression(expression) => self.evaluate(&context, expression)?,
                Body::Keyframes(_) => {
                    scratch.clear();
                    self.between(&context, &keys, frame as f64, interpolation, &mut scratch)?
                }
            };
            rows.push(row);
        }
        Ok(rows)
    }

    fn audio_name(&self) -> Option<&'static str> {
        AUDIO_SIGNALS
            .into_iter()
            .chain(["bpm"])
            .find(|name| self.expressions().any(|e| e.node.iter_variable_identifiers().any(|id| id == *name)))
    }

    /// The value at `frame` between numeric keyframes (sorted by frame), held at both ends.
    fn between(
        &self,
        context: &HashMapContext,
        keys: &[(f64, &Expression)],
        frame: f64,
        interpolation: Interpolation,
        scratch: &mut Vec<Vec<f64>>,
    ) -> Result<Vec<f64>, ScheduleError> {
        let next = keys.partition_point(|(at, _)| *at <= frame);
        if next == 0 {
            return self.evaluate(context, keys[0].1);
        }
        if next == keys.len() {
            return self.evaluate(context, keys[next - 1].1);
        }
        let (i, j) = (next - 1, next);
        let (p0, p1) = (keys[i].0, keys[j].0);
        let w = (frame - p0) / (p1 - p0);
        match interpolation {
            Interpolation::Linear => {
                let (a, b) = (self.evaluate(context, keys[i].1)?, self.evaluate(context, keys[j].1)?);
                Ok(a.iter().zip(&b).map(|(a, b)| a + (b - a) * w).collect())
            }
            Interpolation::Cubic => {
                // Non-uniform Catmull-Rom: tangents from the neighbours, one-sided at the ends.
                let lo = i.saturating_sub(1);
                let hi = (j + 1).min(keys.len() - 1);
                for (_, expression) in &keys[lo..=hi] {
                    scratch.push(self.evaluate(context, expression)?);
                }
                let value = |k: usize| &scratch[k - lo];
                let tangent = |k: usize| -> Vec<f64> {
                    let (a, b) = (k.saturating_sub(1).max(lo), (k + 1).min(hi));
                    let span = keys[b].0 - keys[a].0;
                    value(b).iter().zip(value(a)).map(|(vb, va)| (vb - va) / span).collect()
                };
                let (m0, m1) = (tangent(i), tangent(j));
                let h = p1 - p0;
                let (w2, w3) = (w * w, w * w * w);
                let (h00, h10, h01, h11) =
                    (2.0 * w3 - 3.0 * w2 + 1.0, w3 - 2.0 * w2 + w, -2.0 * w3 + 3.0 * w2, w3 - w2);
                Ok((0..self.dimensions)
                    .map(|d| h00 * value(i)[d] + h10 * h * m0[d] + h01 * value(j)[d] + h11 * h * m1[d])
                    .collect())
            }
        }
    }

    fn evaluate(&self, context: &HashMapContext, expression: &Expression) -> Result<Vec<f64>, ScheduleError> {
        let failed = |message: String| ScheduleError::at(&self.text, expression.offset, message);
        let value = expression.node.eval_with_context(context).map_err(|e| failed(describe(&e)))?;
        let numbers = match &value {
            Value::Tuple(items) => items.iter().map(number).collect::<Option<Vec<f64>>>(),
            other => number(other).map(|v| vec![v]),
        };
        match numbers {
            Some(numbers) if numbers.len() == self.dimensions && numbers.iter().all(|v| v.is_finite()) => Ok(numbers),
            Some(numbers) if numbers.len() == self.dimensions => {
                Err(failed(format!("gives {}, not a finite number", show_numbers(&numbers))))
            }
            Some(numbers) if self.dimensions == 2 => {
                Err(failed(format!("gives {} numbers where two (DX, DY) are needed", numbers.len())))
            }
            Some(numbers) => Err(failed(format!("gives {} numbers where one is needed", numbers.len()))),
            None => Err(failed(format!("gives {value}, not a number"))),
        }
    }
}

fn show_numbers(numbers: &[f64]) -> String {
    numbers.iter().map(f64::to_string).collect::<Vec<_>>().join(", ")
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Float(v) => Some(*v),
        Value::Int(v) => Some(*v as f64),
        Value::Boolean(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn describe(error: &EvalexprError) -> String {
    match error {
        EvalexprError::DivisionError { .. } => "divides by zero".into(),
        other => other.to_string(),
    }
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
            let value = text[key.value.0..key.value.1].trim();
            if value.is_empty() {
                return Err(ScheduleError::at(text, key.value.0, "the keyframe's value is empty"));
            }
            values.push((key.at, value.to_string()));
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

/// One keyframe as written: when, and where its value lies in the text (bytes).
struct RawKey {
    at: At,
    value: (usize, usize),
}

/// Splits `FRAME:(VALUE), ...`; `None` when the text does not start like a keyframe.
fn split_keyframes(text: &str) -> Result<Option<Vec<RawKey>>, ScheduleError> {
    let bytes = text.as_bytes();
    let skip_space = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let starts_keyframe = |i: usize| {
        let mut j = i;
        while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.') {
            j += 1;
        }
        if j == i {
            return false;
        }
        if j < bytes.len() && bytes[j] == b's' {
            j += 1;
        }
        let j = skip_space(j);
        j < bytes.len() && bytes[j] == b':' && bytes.get(j + 1) != Some(&b':')
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
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        let number: f64 = text[start..i]
            .parse()
            .map_err(|_| ScheduleError::at(text, start, "expected a frame number or seconds such as 48 or 2.5s"))?;
        let at = if bytes.get(i) == Some(&b's') {
            i += 1;
            At::Seconds(number)
        } else {
            if text[start..i].contains('.') {
                return Err(ScheduleError::at(text, start, "a frame is a whole number (write 2.5s for seconds)"));
            }
            At::Frame(number)
        };
        i = skip_space(i);
        if bytes.get(i) != Some(&b':') {
            return Err(ScheduleError::at(text, i, "expected ':' after the keyframe's time"));
        }
        i = skip_space(i + 1);
        if bytes.get(i) != Some(&b'(') {
            return Err(ScheduleError::at(text, i, "expected '(' around the keyframe's value"));
        }
        let open = i;
        let mut depth = 0usize;
        let close = loop {
            match bytes.get(i) {
                None => return Err(ScheduleError::at(text, open, "this '(' is never closed")),
                Some(b'(') => depth += 1,
                Some(b')') => {
                    depth -= 1;
                    if depth == 0 {
                        break i;
                    }
                }
                _ => {}
            }
            i += 1;
        };
        keys.push(RawKey { at, value: (open + 1, close) });
        i = skip_space(close + 1);
        match bytes.get(i) {
            None => return Ok(Some(keys)),
            Some(b',') => i += 1,
            Some(_) => return Err(ScheduleError::at(text, i, "expected ',' between keyframes")),
        }
    }
}

/// A token of an expression: where it lies in the text (bytes) and what it becomes for evalexpr.
struct Token {
    start: usize,
    text: String,
    /// Open parentheses after the token.
    depth: usize,
}

/// Checks and parses the expression at `text[start..end]`.
fn parse_expression(text: &str, start: usize, end: usize) -> Result<Expression, ScheduleError> {
    let source = &text[start..end];
    if source.trim().is_empty() {
        return Err(ScheduleError::at(text, start, "the value is empty"));
    }
    let tokens = tokenize(text, start, end)?;
    let (mut uses_audio, mut varies) = (false, false);
    for name in identifiers(text, start, end) {
        uses_audio |= AUDIO_SIGNALS.contains(&name) || name == "bpm";
        varies |= AUDIO_SIGNALS.contains(&name) || ["t", "s"].contains(&name);
    }
    let joined: String = tokens.iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join(" ");
    // evalexpr builds some broken expressions (`1 + * 2`) and fails only when it evaluates them:
    // an expression is read when it builds and evaluates on a frame of zeros.
    let probe = probe_context();
    let read = |source: &str| {
        evalexpr::build_operator_tree::<DefaultNumericTypes>(source)
            .and_then(|node| node.eval_with_context(&probe).map(|_| node))
    };
    match read(&joined) {
        Ok(node) => Ok(Expression { node, offset: start, uses_audio, varies }),
        Err(error) => {
            // The first token after which no continuation reads is where the expression broke.
            let mut prefix = String::new();
            for token in &tokens {
                if !prefix.is_empty() {
                    prefix.push(' ');
                }
                prefix.push_str(&token.text);
                let closers = ")".repeat(token.depth);
                if ["", " 1"].iter().all(|tail| read(&format!("{prefix}{tail}{closers}")).is_err()) {
                    let message = format!("cannot read the expression here ({})", describe(&error));
                    return Err(ScheduleError::at(text, token.start, message));
                }
            }
            Err(ScheduleError::at(text, start, describe(&error)))
        }
    }
}

/// The context an expression is tried in when it is parsed: every name at zero.
fn probe_context() -> HashMapContext {
    let mut context = context();
    for name in ["t", "s", "n", "bpm"].into_iter().chain(AUDIO_SIGNALS) {
        let _ = context.set_value(name.into(), Value::Float(0.0));
    }
    context
}

/// The identifiers of `text[start..end]`.
fn identifiers(text: &str, start: usize, end: usize) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut names = Vec::new();
    let mut i = start;
    while i < end {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let begin = i;
            while i < end && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            names.push(&text[begin..i]);
        } else if bytes[i].is_ascii_digit() || bytes[i] == b'.' {
            i = number_end(bytes, i, end);
        } else {
            i += 1;
        }
    }
    names
}

fn number_end(bytes: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
        i += 1;
    }
    if i < end && (bytes[i] == b'e' || bytes[i] == b'E') {
        let mut j = i + 1;
        if j < end && (bytes[j] == b'+' || bytes[j] == b'-') {
            j += 1;
        }
        if j < end && bytes[j].is_ascii_digit() {
            i = j;
            while i < end && bytes[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

/// Splits an expression into tokens, refusing what evalexpr would take but a schedule must not
/// (strings, assignments, unknown names); integers become floats, so `1/2` is a half.
fn tokenize(text: &str, start: usize, end: usize) -> Result<Vec<Token>, ScheduleError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut i = start;
    while i < end {
        let c = bytes[i];
        let begin = i;
        let written = if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            i = number_end(bytes, i, end);
            let literal = &text[begin..i];
            if literal.parse::<f64>().is_err() {
                return Err(ScheduleError::at(text, begin, format!("'{literal}' is not a number")));
            }
            if literal.contains(['.', 'e', 'E']) { literal.to_string() } else { format!("{literal}.0") }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < end && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let name = &text[begin..i];
            let mut next = i;
            while next < end && bytes[next].is_ascii_whitespace() {
                next += 1;
            }
            let called = next < end && bytes[next] == b'(';
            if called && !FUNCTIONS.contains(&name) {
                return Err(ScheduleError::at(
                    text,
                    begin,
                    format!("unknown function '{name}' (there are {})", FUNCTIONS.join(", ")),
                ));
            }
            let known = VARIABLES.contains(&name) || AUDIO_SIGNALS.contains(&name) || ["true", "false"].contains(&name);
            if !called && !known {
                return Err(ScheduleError::at(
                    text,
                    begin,
                    format!("unknown name '{name}' (use t, s, n, {}, bpm, pi)", AUDIO_SIGNALS.join(", ")),
                ));
            }
            name.to_string()
        } else {
            let two = text.get(i..(i + 2).min(end)).unwrap_or("");
            if ["==", "!=", "<=", ">=", "&&", "||"].contains(&two) {
                i += 2;
                two.to_string()
            } else {
                match c {
                    b'(' => open.push(i),
                    b')' => {
                        if open.pop().is_none() {
                            return Err(ScheduleError::at(text, i, "this ')' closes nothing"));
                        }
                    }
                    b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b',' | b'<' | b'>' | b'!' => {}
                    b'=' => return Err(ScheduleError::at(text, i, "'=' assigns; compare with '=='")),
                    _ => {
                        let shown = text[i..].chars().next().unwrap_or(' ');
                        return Err(ScheduleError::at(text, i, format!("'{shown}' has no meaning in a schedule")));
                    }
                }
                i += text[i..].chars().next().map_or(1, char::len_utf8);
                text[begin..i].to_string()
            }
        };
        tokens.push(Token { start: begin, text: written, depth: open.len() });
    }
    if let Some(&unclosed) = open.last() {
        return Err(ScheduleError::at(text, unclosed, "this '(' is never closed"));
    }
    Ok(tokens)
}

/// A function of one number, and of two, as the context defines them.
type Unary = fn(f64) -> f64;
type Binary = fn(f64, f64) -> f64;

/// An evaluation context with the schedule functions (evalexpr's own `if` stays).
fn context() -> HashMapContext {
    let mut context = HashMapContext::new();
    let unary: [(&str, Unary); 14] = [
        ("sin", f64::sin),
        ("cos", f64::cos),
        ("tan", f64::tan),
        ("asin", f64::asin),
        ("acos", f64::acos),
        ("atan", f64::atan),
        ("abs", f64::abs),
        ("sqrt", f64::sqrt),
        ("exp", f64::exp),
        ("ln", f64::ln),
        ("log", f64::log10),
        ("floor", f64::floor),
        ("ceil", f64::ceil),
        ("fract", f64::fract),
    ];
    for (name, f) in unary {
        let function = Function::new(move |argument: &Value| Ok(Value::Float(f(argument.as_number()?))));
        let _ = context.set_function(name.into(), function);
    }
    let _ = context.set_function("round".into(), Function::new(|a: &Value| Ok(Value::Float(a.as_number()?.round()))));
    let binary: [(&str, Binary); 4] = [("pow", f64::powf), ("atan2", f64::atan2), ("min", f64::min), ("max", f64::max)];
    for (name, f) in binary {
        let function = Function::new(move |argument: &Value| {
            let [a, b] = arguments::<2>(argument)?;
            Ok(Value::Float(f(a, b)))
        });
        let _ = context.set_function(name.into(), function);
    }
    let clamp = Function::new(|argument: &Value| {
        let [x, lo, hi] = arguments::<3>(argument)?;
        Ok(Value::Float(x.max(lo).min(hi)))
    });
    let _ = context.set_function("clamp".into(), clamp);
    // GLSL's smoothstep(edge0, edge1, x): 0 below edge0, 1 above edge1, a smooth S between.
    let smoothstep = Function::new(|argument: &Value| {
        let [edge0, edge1, x] = arguments::<3>(argument)?;
        let w = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
        Ok(Value::Float(w * w * (3.0 - 2.0 * w)))
    });
    let _ = context.set_function("smoothstep".into(), smoothstep);
    let _ = context.set_value("pi".into(), Value::Float(std::f64::consts::PI));
    let _ = context.set_value("tau".into(), Value::Float(std::f64::consts::TAU));
    context
}

fn arguments<const N: usize>(argument: &Value) -> Result<[f64; N], EvalexprError> {
    let tuple = argument.as_fixed_len_tuple(N)?;
    let mut out = [0.0; N];
    for (slot, value) in out.iter_mut().zip(&tuple) {
        *slot = value.as_number()?;
    }
    Ok(out)
}

/// Sets `t`, `s`, `n` and the audio signals for `frame`.
fn set_frame(context: &mut HashMapContext, timeline: &Timeline, frame: u64) {
    let mut set = |name: &str, value: f64| {
        let _ = context.set_value(name.into(), Value::Float(value));
    };
    set("t", frame as f64);
    set("s", frame as f64 / timeline.fps);
    set("n", timeline.frames as f64);
    let (signals, bpm) = match timeline.audio {
        Some(audio) => (audio.signals(frame), audio.bpm()),
        None => ([0.0; 5], 0.0),
    };
    for (name, value) in AUDIO_SIGNALS.iter().zip(signals) {
        set(name, value);
    }
    set("bpm", bpm);
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
        let values = column("0:(t), 10:(100)", 11, Interpolation::Linear);
        // Between the two: each keyframe's value at this frame, blended.
        assert!((values[5] - (5.0 * 0.5 + 100.0 * 0.5)).abs() < 1e-12);
        let at_fps = Schedule::parse("2.5s:(3)", 1).unwrap();
        assert!(!at_fps.varies());
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
            "at character 5: unknown name 'foo' (use t, s, n, loud, beat, bass, mid, high, bpm, pi)"
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
