//! The language of a schedule's expressions: numexpr's, as Deforum's schedules are written
//! (`**`, `%` with the divisor's sign, comparisons as 0/1, `where`, `log` the natural log,
//! `arcsin`...), with dreamreel's own names besides (`^` for power, `if`, `min`/`max` of several
//! numbers, `clamp`, `smoothstep`, `pi`, `tau`, the audio signals). Every number is an `f64`, so
//! `1/2` is a half. Parsing finds the byte where reading fails; evaluation fails only on a division
//! by zero, and a schedule refuses any other value that is not finite.

/// A name an expression may read; [`Vars`] gives the frame's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Var {
    /// The frame index.
    T,
    /// Seconds: `t / fps`.
    S,
    /// The frame count.
    N,
    /// Deforum's last frame, `n - 1`.
    MaxF,
    Bpm,
    /// One of [`AUDIO_SIGNALS`](super::schedule::AUDIO_SIGNALS), by index.
    Audio(usize),
}

/// What the names of an expression stand for on one frame.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Vars {
    pub t: f64,
    pub s: f64,
    pub n: f64,
    pub bpm: f64,
    pub audio: [f64; 5],
}

impl Vars {
    fn get(&self, var: Var) -> f64 {
        match var {
            Var::T => self.t,
            Var::S => self.s,
            Var::N => self.n,
            Var::MaxF => self.n - 1.0,
            Var::Bpm => self.bpm,
            Var::Audio(i) => self.audio[i],
        }
    }
}

/// The names, as written, with what each reads (constants have no `Var`).
const NAMES: [(&str, Name); 16] = [
    ("t", Name::Var(Var::T)),
    ("s", Name::Var(Var::S)),
    ("n", Name::Var(Var::N)),
    ("max_f", Name::Var(Var::MaxF)),
    ("loud", Name::Var(Var::Audio(0))),
    ("beat", Name::Var(Var::Audio(1))),
    ("bass", Name::Var(Var::Audio(2))),
    ("mid", Name::Var(Var::Audio(3))),
    ("high", Name::Var(Var::Audio(4))),
    ("bpm", Name::Var(Var::Bpm)),
    ("pi", Name::Constant(std::f64::consts::PI)),
    ("tau", Name::Constant(std::f64::consts::TAU)),
    ("true", Name::Constant(1.0)),
    ("false", Name::Constant(0.0)),
    ("True", Name::Constant(1.0)),
    ("False", Name::Constant(0.0)),
];

/// The names a message lists (the rest are spellings of constants).
pub(crate) const SHOWN_NAMES: &str = "t, s, n, max_f, loud, beat, bass, mid, high, bpm, pi, tau";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Name {
    Var(Var),
    Constant(f64),
}

/// What a function computes.
#[derive(Clone, Copy, Debug)]
enum Function {
    Unary(fn(f64) -> f64),
    Binary(fn(f64, f64) -> f64),
    /// `where(c, a, b)` (numexpr) and `if(c, a, b)`: only the branch taken is evaluated.
    Where,
    Clamp,
    Smoothstep,
    Min,
    Max,
}

const FUNCTIONS: [(&str, Function); 35] = [
    ("sin", Function::Unary(f64::sin)),
    ("cos", Function::Unary(f64::cos)),
    ("tan", Function::Unary(f64::tan)),
    ("arcsin", Function::Unary(f64::asin)),
    ("arccos", Function::Unary(f64::acos)),
    ("arctan", Function::Unary(f64::atan)),
    ("asin", Function::Unary(f64::asin)),
    ("acos", Function::Unary(f64::acos)),
    ("atan", Function::Unary(f64::atan)),
    ("sinh", Function::Unary(f64::sinh)),
    ("cosh", Function::Unary(f64::cosh)),
    ("tanh", Function::Unary(f64::tanh)),
    ("arcsinh", Function::Unary(f64::asinh)),
    ("arccosh", Function::Unary(f64::acosh)),
    ("arctanh", Function::Unary(f64::atanh)),
    ("abs", Function::Unary(f64::abs)),
    ("sqrt", Function::Unary(f64::sqrt)),
    ("exp", Function::Unary(f64::exp)),
    ("expm1", Function::Unary(f64::exp_m1)),
    ("log", Function::Unary(f64::ln)),
    ("ln", Function::Unary(f64::ln)),
    ("log10", Function::Unary(f64::log10)),
    ("log1p", Function::Unary(f64::ln_1p)),
    ("floor", Function::Unary(f64::floor)),
    ("ceil", Function::Unary(f64::ceil)),
    ("round", Function::Unary(f64::round)),
    ("fract", Function::Unary(f64::fract)),
    ("arctan2", Function::Binary(f64::atan2)),
    ("atan2", Function::Binary(f64::atan2)),
    ("pow", Function::Binary(f64::powf)),
    ("fmod", Function::Binary(|a, b| a % b)),
    ("where", Function::Where),
    ("if", Function::Where),
    ("clamp", Function::Clamp),
    ("smoothstep", Function::Smoothstep),
];

/// `min` and `max` take one number or more; they are listed apart from the fixed-arity ones.
const VARIADIC: [(&str, Function); 2] = [("min", Function::Min), ("max", Function::Max)];

fn function(name: &str) -> Option<(&'static str, Function)> {
    FUNCTIONS.iter().chain(&VARIADIC).find(|(n, _)| *n == name).copied()
}

impl Function {
    /// The number of arguments, `None` for one or more.
    fn arity(self) -> Option<usize> {
        match self {
            Function::Unary(_) => Some(1),
            Function::Binary(_) => Some(2),
            Function::Where | Function::Clamp | Function::Smoothstep => Some(3),
            Function::Min | Function::Max => None,
        }
    }
}

/// The functions a message lists.
pub(crate) fn function_names() -> String {
    let names: Vec<&str> = FUNCTIONS.iter().chain(&VARIADIC).map(|(n, _)| *n).collect();
    names.join(", ")
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

#[derive(Clone, Debug)]
enum Node {
    Number(f64),
    Var(Var),
    Neg(Box<Node>),
    Not(Box<Node>),
    Binary(Op, Box<Node>, Box<Node>),
    /// Python's chained comparison: `a < b < c` is `a < b and b < c`.
    Chain(Box<Node>, Vec<(Op, Node)>),
    Call(Function, Vec<Node>),
}

/// An expression that failed to read, or to evaluate: where (a byte of the schedule's text) and why.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExprError {
    pub byte: usize,
    pub message: String,
}

fn error(byte: usize, message: impl Into<String>) -> ExprError {
    ExprError { byte, message: message.into() }
}

/// One number of a value, checked and ready to evaluate; a pan's value has two.
#[derive(Clone, Debug)]
pub(crate) struct Expression {
    node: Node,
    /// Where it starts in the schedule's text (bytes), for evaluation errors.
    pub offset: usize,
    /// The number it is when it is written as one (`1.05`, `(-2)`, `1e-3`): such keyframes ramp.
    pub literal: Option<f64>,
}

impl Expression {
    pub(crate) fn eval(&self, vars: &Vars) -> Result<f64, ExprError> {
        eval(&self.node, vars).map_err(|byte| error(byte.unwrap_or(self.offset), "divides by zero"))
    }

    /// Every name it reads.
    pub(crate) fn vars(&self) -> Vec<Var> {
        let mut found = Vec::new();
        collect_vars(&self.node, &mut found);
        found
    }
}

fn collect_vars(node: &Node, found: &mut Vec<Var>) {
    match node {
        Node::Number(_) => {}
        Node::Var(var) => found.push(*var),
        Node::Neg(a) | Node::Not(a) => collect_vars(a, found),
        Node::Binary(_, a, b) => {
            collect_vars(a, found);
            collect_vars(b, found);
        }
        Node::Chain(first, rest) => {
            collect_vars(first, found);
            rest.iter().for_each(|(_, node)| collect_vars(node, found));
        }
        Node::Call(_, args) => args.iter().for_each(|node| collect_vars(node, found)),
    }
}

fn truth(value: f64) -> bool {
    value != 0.0
}

fn from_bool(value: bool) -> f64 {
    f64::from(u8::from(value))
}

/// The value, or the byte of the division by zero (`None`: the expression's start).
fn eval(node: &Node, vars: &Vars) -> Result<f64, Option<usize>> {
    Ok(match node {
        Node::Number(value) => *value,
        Node::Var(var) => vars.get(*var),
        Node::Neg(a) => -eval(a, vars)?,
        Node::Not(a) => from_bool(!truth(eval(a, vars)?)),
        Node::Binary(op, a, b) => {
            let (a, b) = (eval(a, vars)?, eval(b, vars)?);
            match op {
                Op::Add => a + b,
                Op::Sub => a - b,
                Op::Mul => a * b,
                Op::Div if b == 0.0 => return Err(None),
                Op::Div => a / b,
                Op::Mod if b == 0.0 => return Err(None),
                // Python's (and numexpr's) modulo takes the divisor's sign: (-1) % 7 is 6.
                Op::Mod => {
                    let r = a % b;
                    if r != 0.0 && (r < 0.0) != (b < 0.0) { r + b } else { r }
                }
                Op::Pow => a.powf(b),
                Op::And => from_bool(truth(a) && truth(b)),
                Op::Or => from_bool(truth(a) || truth(b)),
                comparison => from_bool(compare(*comparison, a, b)),
            }
        }
        Node::Chain(first, rest) => {
            let mut left = eval(first, vars)?;
            for (op, node) in rest {
                let right = eval(node, vars)?;
                if !compare(*op, left, right) {
                    return Ok(0.0);
                }
                left = right;
            }
            1.0
        }
        Node::Call(function, args) => match function {
            Function::Unary(f) => f(eval(&args[0], vars)?),
            Function::Binary(f) => f(eval(&args[0], vars)?, eval(&args[1], vars)?),
            Function::Where => eval(&args[if truth(eval(&args[0], vars)?) { 1 } else { 2 }], vars)?,
            Function::Clamp => {
                let (x, lo, hi) = (eval(&args[0], vars)?, eval(&args[1], vars)?, eval(&args[2], vars)?);
                x.max(lo).min(hi)
            }
            // GLSL's smoothstep(edge0, edge1, x): 0 below edge0, 1 above edge1, a smooth S between.
            Function::Smoothstep => {
                let (edge0, edge1, x) = (eval(&args[0], vars)?, eval(&args[1], vars)?, eval(&args[2], vars)?);
                let w = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
                w * w * (3.0 - 2.0 * w)
            }
            Function::Min | Function::Max => {
                let mut best = eval(&args[0], vars)?;
                for arg in &args[1..] {
                    let value = eval(arg, vars)?;
                    best = if matches!(function, Function::Min) { best.min(value) } else { best.max(value) };
                }
                best
            }
        },
    })
}

fn compare(op: Op, a: f64, b: f64) -> bool {
    match op {
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        Op::Eq => a == b,
        _ => a != b,
    }
}

#[derive(Clone, Debug)]
enum Tok {
    Number(f64),
    Name(Name),
    Call(&'static str, Function),
    Open,
    Close,
    Comma,
    Op(&'static str),
}

struct Token {
    tok: Tok,
    start: usize,
}

/// The operators, longest first so that `**` is not read as two `*`.
const OPERATORS: [&str; 18] =
    ["**", "==", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%", "^", "<", ">", "&", "|", "!"];

/// Where `text[start..end]` holds a number, the byte after it (digits, a point, an exponent).
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

/// Splits `text[start..end]` into tokens, checking characters, names and parentheses.
fn tokenize(text: &str, start: usize, end: usize, allowed: &dyn Fn(Var) -> bool) -> Result<Vec<Token>, ExprError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut i = start;
    while i < end {
        let c = bytes[i];
        let begin = i;
        let tok = if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if c.is_ascii_digit() || (c == b'.' && i + 1 < end && bytes[i + 1].is_ascii_digit()) {
            i = number_end(bytes, i, end);
            let literal = &text[begin..i];
            let value = literal.parse::<f64>().map_err(|_| error(begin, format!("'{literal}' is not a number")))?;
            Tok::Number(value)
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < end && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let name = &text[begin..i];
            let next = (i..end).find(|&j| !bytes[j].is_ascii_whitespace());
            if next.is_some_and(|j| bytes[j] == b'(') {
                let (name, f) = function(name).ok_or_else(|| {
                    error(begin, format!("unknown function '{name}' (there are {})", function_names()))
                })?;
                Tok::Call(name, f)
            } else {
                let found = NAMES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
                match found {
                    Some(Name::Var(var)) if !allowed(var) => {
                        return Err(error(begin, format!("'{name}' cannot be read here")));
                    }
                    Some(found) => Tok::Name(found),
                    None => return Err(error(begin, format!("unknown name '{name}' (use {SHOWN_NAMES})"))),
                }
            }
        } else if c == b'(' {
            open.push(i);
            i += 1;
            Tok::Open
        } else if c == b')' {
            if open.pop().is_none() {
                return Err(error(i, "this ')' closes nothing"));
            }
            i += 1;
            Tok::Close
        } else if c == b',' {
            i += 1;
            Tok::Comma
        } else if let Some(op) = OPERATORS.iter().find(|op| text[i..end].starts_with(**op)) {
            i += op.len();
            Tok::Op(op)
        } else if c == b'~' {
            i += 1;
            Tok::Op("!")
        } else if c == b'=' {
            return Err(error(i, "'=' assigns; compare with '=='"));
        } else {
            let shown = text[i..].chars().next().unwrap_or(' ');
            return Err(error(i, format!("'{shown}' has no meaning in a schedule")));
        };
        tokens.push(Token { tok, start: begin });
    }
    if let Some(&unclosed) = open.last() {
        return Err(error(unclosed, "this '(' is never closed"));
    }
    Ok(tokens)
}

/// How deep an expression may nest: brackets, calls, signs, powers and the terms of one chain of
/// operators each count a level. Its tree is read, evaluated and dropped by recursion, so a
/// schedule 20,000 brackets deep or a sum of 50,000 terms (from a downloaded settings file) is
/// refused here rather than overflowing the stack; written schedules stay far below it.
pub(crate) const MAX_DEPTH: usize = 256;

/// A recursive-descent reader over the tokens, Python's precedence from `||` down to `**`.
struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    end: usize,
    /// The levels open where the reader stands (see [`MAX_DEPTH`]).
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|t| &t.tok)
    }

    fn here(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |t| t.start)
    }

    fn eat_op(&mut self, ops: &[&str]) -> Option<&'static str> {
        match self.peek() {
            Some(Tok::Op(op)) if ops.contains(op) => {
                let op = *op;
                self.at += 1;
                Some(op)
            }
            _ => None,
        }
    }

    fn unreadable(&self, what: &str) -> ExprError {
        error(self.here(), format!("cannot read the expression here ({what})"))
    }

    /// One level deeper, refused past [`MAX_DEPTH`]; the caller gives it back with `self.depth -= 1`
    /// (an error ends the whole reading, so only the way out without one needs it).
    fn deeper(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(error(
                self.here(),
                format!("the expression nests too deep here: more than {MAX_DEPTH} brackets, signs or terms in a row"),
            ));
        }
        Ok(())
    }

    fn binary(
        &mut self,
        ops: &[(&str, Op)],
        next: fn(&mut Self) -> Result<Node, ExprError>,
    ) -> Result<Node, ExprError> {
        let names: Vec<&str> = ops.iter().map(|(name, _)| *name).collect();
        let mut left = next(self)?;
        let opened = self.depth;
        while let Some(name) = self.eat_op(&names) {
            // Each term makes the tree one level deeper on its left.
            self.deeper()?;
            let op = ops.iter().find(|(n, _)| *n == name).map(|(_, op)| *op).unwrap_or(Op::Add);
            left = Node::Binary(op, Box::new(left), Box::new(next(self)?));
        }
        self.depth = opened;
        Ok(left)
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        self.binary(&[("||", Op::Or)], Self::and)
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        self.binary(&[("&&", Op::And)], Self::comparison)
    }

    fn comparison(&mut self) -> Result<Node, ExprError> {
        const COMPARISONS: [(&str, Op); 6] =
            [("<", Op::Lt), ("<=", Op::Le), (">", Op::Gt), (">=", Op::Ge), ("==", Op::Eq), ("!=", Op::Ne)];
        let names: Vec<&str> = COMPARISONS.iter().map(|(n, _)| *n).collect();
        let first = self.bit_or()?;
        let mut rest = Vec::new();
        while let Some(name) = self.eat_op(&names) {
            let op = COMPARISONS.iter().find(|(n, _)| *n == name).map_or(Op::Eq, |(_, op)| *op);
            rest.push((op, self.bit_or()?));
        }
        Ok(match rest.len() {
            0 => first,
            1 => {
                let (op, right) = rest.remove(0);
                Node::Binary(op, Box::new(first), Box::new(right))
            }
            _ => Node::Chain(Box::new(first), rest),
        })
    }

    // numexpr's `|` and `&` join conditions (`(t>10) & (t<20)`), at Python's precedence.
    fn bit_or(&mut self) -> Result<Node, ExprError> {
        self.binary(&[("|", Op::Or)], Self::bit_and)
    }

    fn bit_and(&mut self) -> Result<Node, ExprError> {
        self.binary(&[("&", Op::And)], Self::sum)
    }

    fn sum(&mut self) -> Result<Node, ExprError> {
        self.binary(&[("+", Op::Add), ("-", Op::Sub)], Self::product)
    }

    fn product(&mut self) -> Result<Node, ExprError> {
        self.binary(&[("*", Op::Mul), ("/", Op::Div), ("%", Op::Mod)], Self::unary)
    }

    fn unary(&mut self) -> Result<Node, ExprError> {
        let Some(sign) = self.eat_op(&["-", "+", "!"]) else {
            return self.power();
        };
        self.deeper()?;
        let operand = self.unary()?;
        self.depth -= 1;
        Ok(match sign {
            "-" => Node::Neg(Box::new(operand)),
            "!" => Node::Not(Box::new(operand)),
            _ => operand,
        })
    }

    /// `a ** b` (and `a ^ b`) binds tighter than a sign on its left, and groups to the right.
    fn power(&mut self) -> Result<Node, ExprError> {
        let base = self.primary()?;
        if self.eat_op(&["**", "^"]).is_some() {
            self.deeper()?;
            let exponent = self.unary()?;
            self.depth -= 1;
            return Ok(Node::Binary(Op::Pow, Box::new(base), Box::new(exponent)));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Node, ExprError> {
        let start = self.here();
        let Some(tok) = self.peek().cloned() else {
            return Err(self.unreadable("a number, a name or '(' is missing"));
        };
        self.at += 1;
        match tok {
            Tok::Number(value) => Ok(Node::Number(value)),
            Tok::Name(Name::Var(var)) => Ok(Node::Var(var)),
            Tok::Name(Name::Constant(value)) => Ok(Node::Number(value)),
            Tok::Open => {
                self.deeper()?;
                let inner = self.or()?;
                self.close()?;
                self.depth -= 1;
                Ok(inner)
            }
            Tok::Call(name, function) => {
                self.at += 1; // its '('
                self.deeper()?;
                let mut args = vec![self.or()?];
                while matches!(self.peek(), Some(Tok::Comma)) {
                    self.at += 1;
                    args.push(self.or()?);
                }
                self.close()?;
                self.depth -= 1;
                match function.arity() {
                    Some(arity) if arity != args.len() => {
                        let wanted = if arity == 1 { "one number".to_string() } else { format!("{arity} numbers") };
                        Err(error(start, format!("{name}() takes {wanted}, not {}", args.len())))
                    }
                    _ => Ok(Node::Call(function, args)),
                }
            }
            _ => {
                self.at -= 1;
                Err(self.unreadable("a number, a name or '(' is missing"))
            }
        }
    }

    fn close(&mut self) -> Result<(), ExprError> {
        match self.peek() {
            Some(Tok::Close) => {
                self.at += 1;
                Ok(())
            }
            Some(Tok::Comma) => Err(error(self.here(), "a ',' separates a pan's two numbers only in the whole value")),
            _ => Err(self.unreadable("an operator or ')' is missing")),
        }
    }
}

/// Where the expression stands in its schedule: a whole value (a pan's `DX, DY` included), or a
/// keyframe's value (text after it means a ',' is missing), or a keyframe's frame position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    Whole,
    KeyframeValue,
    FramePosition,
}

/// Reads `text[start..end]` into its numbers: one, or a pan's two separated by ','
/// (`1, 2` or `(1, 2)`).
pub(crate) fn parse(text: &str, start: usize, end: usize, place: Place) -> Result<Vec<Expression>, ExprError> {
    let allowed = |var: Var| place != Place::FramePosition || matches!(var, Var::N | Var::MaxF);
    let tokens = tokenize(text, start, end, &allowed).map_err(|e| match place {
        Place::FramePosition if e.message.ends_with("cannot be read here") => {
            error(e.byte, "a keyframe's frame may read max_f and n, nothing that changes per frame")
        }
        _ => e,
    })?;
    if tokens.is_empty() {
        return Err(error(start, "the value is empty"));
    }
    // A value wholly in parentheses that holds a ',' is a pan's pair: `(1, 2)`.
    let last = tokens.len() - 1;
    let pair_in_parentheses = matches!(tokens[0].tok, Tok::Open)
        && matching_close(&tokens, 0) == Some(last)
        && has_top_comma(&tokens[1..last]);
    let (tokens, end) = if pair_in_parentheses { (&tokens[1..last], tokens[last].start) } else { (&tokens[..], end) };
    // Each number's tokens, and the byte where its text ends (the ',' after it, or the end).
    let mut parts: Vec<(&[Token], usize)> = Vec::new();
    let mut part_start = 0;
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        match token.tok {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            Tok::Comma if depth == 0 => {
                parts.push((&tokens[part_start..i], token.start));
                part_start = i + 1;
            }
            _ => {}
        }
    }
    parts.push((&tokens[part_start..], end));
    let mut expressions = Vec::with_capacity(parts.len());
    for (part, part_end) in parts {
        let mut parser = Parser { tokens: part, at: 0, end: part_end, depth: 0 };
        let node = parser.or()?;
        if parser.at < part.len() {
            return Err(match (place, &part[parser.at].tok) {
                (Place::KeyframeValue, _) if depth_at(part, parser.at) == 0 => {
                    error(parser.here(), "expected ',' between keyframes")
                }
                (_, Tok::Close) => error(parser.here(), "this ')' closes nothing"),
                _ => parser.unreadable("an operator is missing"),
            });
        }
        let offset = part.first().map_or(part_end, |t| t.start);
        let literal = literal_number(text, offset, part_end);
        expressions.push(Expression { node, offset, literal });
    }
    Ok(expressions)
}

fn depth_at(tokens: &[Token], at: usize) -> usize {
    let mut depth = 0usize;
    for token in &tokens[..at] {
        match token.tok {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    depth
}

fn matching_close(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token.tok {
            Tok::Open => depth += 1,
            Tok::Close => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn has_top_comma(tokens: &[Token]) -> bool {
    let mut depth = 0usize;
    tokens.iter().any(|token| {
        match token.tok {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            _ => {}
        }
        matches!(token.tok, Tok::Comma) && depth == 0
    })
}

/// The number `text[start..end]` is when it is one written plainly, with any parentheses, signs
/// and spaces around it: `1.05`, `(-2)`, `( 0 )`, `1e-3`, `5.`.
fn literal_number(text: &str, start: usize, end: usize) -> Option<f64> {
    let plain: String = text[start..end].chars().filter(|c| !c.is_whitespace() && !"()".contains(*c)).collect();
    let digits = plain.trim_start_matches(['+', '-']);
    if plain.len() - digits.len() > 1 || !digits.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    if !digits.chars().all(|c| c.is_ascii_digit() || ".eE+-".contains(c)) {
        return None;
    }
    plain.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, t: f64) -> f64 {
        let parsed = parse(text, 0, text.len(), Place::Whole).unwrap();
        assert_eq!(parsed.len(), 1, "{text}");
        parsed[0].eval(&Vars { t, s: t / 24.0, n: 100.0, ..Vars::default() }).unwrap()
    }

    fn fails(text: &str) -> ExprError {
        parse(text, 0, text.len(), Place::Whole).unwrap_err()
    }

    #[test]
    fn numexpr_operators_and_precedence() {
        // Each against numexpr 2.10's value for the same text at t = 7.
        let cases: [(&str, f64); 17] = [
            ("2**3**2", 512.0),
            ("-2**2", -4.0),
            ("2**-1", 0.5),
            ("2^3", 8.0),
            ("-7%3", 2.0),
            ("7%-3", -2.0),
            ("7.5%-2", -0.5),
            ("(t-30)%7", 5.0),
            ("(t>3)*2", 2.0),
            ("(t>3)&(t<9)", 1.0),
            ("(t>8)|(t<5)", 0.0),
            ("+5", 5.0),
            ("2+-+3", -1.0),
            ("1<2<3", 1.0),
            ("1/2", 0.5),
            ("5.", 5.0),
            ("1e-3*1E3", 1.0),
        ];
        for (text, expected) in cases {
            assert_eq!(value(text, 7.0), expected, "{text}");
        }
        // numexpr refuses a chain of comparisons on a variable; here it is Python's.
        assert_eq!((value("9>t>1", 7.0), value("3>t>1", 7.0)), (1.0, 0.0));
    }

    #[test]
    fn numexpr_functions_and_dreamreel_ones() {
        assert!((value("log(10)", 0.0) - 10f64.ln()).abs() < 1e-15);
        assert_eq!(value("log10(1000)", 0.0), 3.0);
        assert_eq!(value("where(t>30, 2, 1)", 31.0), 2.0);
        assert_eq!(value("where(t>30, 2, 1)", 30.0), 1.0);
        // Only the branch taken is evaluated: no division by zero at t = 0.
        assert_eq!(value("where(t>0, 1/t, 0)", 0.0), 0.0);
        assert_eq!(value("max(1, t, 3)", 7.0), 7.0);
        assert_eq!(value("min(4, 2, 3, t)", 7.0), 2.0);
        assert!((value("arctan2(1, 2)", 0.0) - 0.5f64.atan()).abs() < 1e-15);
        assert!((value("arcsin(1) - pi/2", 0.0)).abs() < 1e-15);
        assert_eq!(value("tau/pi", 0.0), 2.0);
        assert_eq!(value("t**0.5", 16.0), 4.0);
        assert_eq!(value("fmod(-7, 3)", 0.0), -1.0);
    }

    #[test]
    fn messages_speak_of_the_schedule() {
        assert_eq!(fails("max()").message, "cannot read the expression here (a number, a name or '(' is missing)");
        assert_eq!(fails("sin(1, 2)").message, "sin() takes one number, not 2");
        assert_eq!(fails("clamp(t, 1)").message, "clamp() takes 3 numbers, not 2");
        assert_eq!(fails("where(t>1, 2)").message, "where() takes 3 numbers, not 2");
        assert_eq!(fails("1 +").byte, 3);
        assert_eq!(fails("(1, 2) + 1").message, "a ',' separates a pan's two numbers only in the whole value");
        assert_eq!(fails("2 2").message, "cannot read the expression here (an operator is missing)");
        assert_eq!(fails("1 ** * 2").byte, 5);
        let divided = parse("1/(t-2)", 0, 7, Place::Whole).unwrap()[0].eval(&Vars { t: 2.0, ..Vars::default() });
        assert_eq!(divided.unwrap_err().message, "divides by zero");
    }

    #[test]
    fn pairs_and_literals() {
        for text in ["1, t", "(1, t)", " ( 1 , t ) "] {
            let parsed = parse(text, 0, text.len(), Place::Whole).unwrap();
            assert_eq!(parsed.len(), 2, "{text}");
            assert_eq!(parsed[0].literal, Some(1.0), "{text}");
            assert_eq!(parsed[1].literal, None, "{text}");
        }
        let literal = |text: &str| parse(text, 0, text.len(), Place::KeyframeValue).unwrap()[0].literal;
        for (text, expected) in [("(1.05)", 1.05), ("( 0 )", 0.0), ("1e-3", 0.001), ("5.", 5.0), ("(-2)", -2.0)] {
            assert_eq!(literal(text), Some(expected), "{text}");
        }
        for text in ["(2*3)", "(t)", "(--5)", "(1)+(2)", "(pi)"] {
            assert_eq!(literal(text), None, "{text}");
        }
    }

    #[test]
    fn deep_or_long_expressions_are_refused_not_a_stack_overflow() {
        let too_deep = format!("{}t{}", "(".repeat(20_000), ")".repeat(20_000));
        let long_sum = format!("1{}", "+t".repeat(50_000));
        for text in [too_deep, long_sum, "-".repeat(50_000) + "1", "2**".repeat(50_000) + "1", "sin(".repeat(9_000)] {
            let message = fails(&text).message;
            assert!(message.contains("nests too deep") || message.contains("never closed"), "{message}");
        }
        // The error points at the bracket past the bound.
        assert_eq!(fails(&format!("{}t{}", "(".repeat(300), ")".repeat(300))).byte, MAX_DEPTH + 1);
        // What people write stays far below the bound.
        assert_eq!(value(&format!("{}t{}", "(".repeat(100), ")".repeat(100)), 3.0), 3.0);
        assert_eq!(value(&format!("0{}", "+1".repeat(200)), 0.0), 200.0);
    }

    #[test]
    fn frame_positions_read_only_the_length() {
        let position = parse("max_f-1", 0, 7, Place::FramePosition).unwrap();
        assert_eq!(position[0].eval(&Vars { n: 120.0, ..Vars::default() }).unwrap(), 118.0);
        let err = parse("t+1", 0, 3, Place::FramePosition).unwrap_err();
        assert_eq!(err.message, "a keyframe's frame may read max_f and n, nothing that changes per frame");
    }
}
