//! Payload conversion with serde_json: Python values to JSON bytes at submit, JSON bytes back to
//! Python values at completion. Only what JSON can carry exactly is accepted; anything else (NaN,
//! bytes, sets, non-string keys, arbitrary objects) is a TypeError before anything is sent.

use std::cell::RefCell;
use std::fmt;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::errors::{Error, Result};

/// Containers nested deeper than serde_json reads back (its recursion limit) are refused before
/// sending: the result of such a payload could not be read (and deep nesting is almost always a
/// reference cycle).
pub const MAX_NESTING: usize = 127;

/// Where in a payload a value sits: a dict key or a list index.
enum Step {
    Key(String),
    Index(usize),
}

/// Encodes a Python value as JSON bytes; what JSON cannot carry is a TypeError that says where it
/// is in the value (`at ['items'][3]: ...`).
pub fn to_json(value: &Bound<'_, PyAny>) -> Result<Vec<u8>> {
    let path = RefCell::new(Vec::new());
    // Room for as much as the last payload took: events of one batch are mostly alike, and a
    // large one then grows no buffer by doubling (each step a fresh allocation and a copy).
    let mut json = Vec::with_capacity(LAST_SIZE.get());
    serde_json::to_writer(&mut json, &PyJson { value, depth: 0, path: &path }).map_err(|error| {
        let mut path = path.into_inner();
        path.reverse(); // gathered from the failing value outwards
        match path.is_empty() {
            true => Error::WrongType(error.to_string()),
            false => Error::WrongType(format!("at {}: {error}", render(&path))),
        }
    })?;
    LAST_SIZE.set(json.len());
    // A payload kept until its call is made keeps only its own size (a cheap shrink in place).
    if json.capacity() - json.len() > LARGE_SLACK {
        json.shrink_to_fit();
    }
    Ok(json)
}

thread_local! {
    /// The size of the last payload converted on this thread.
    static LAST_SIZE: std::cell::Cell<usize> = const { std::cell::Cell::new(128) };
}

/// Unused room past which a converted payload is shrunk to its size.
const LARGE_SLACK: usize = 64 << 10;

/// A path as Python subscripts, `['items'][3]`; a long one keeps its ends.
fn render(path: &[Step]) -> String {
    let step = |step: &Step| match step {
        Step::Key(key) => format!("[{key:?}]").replace('"', "'"),
        Step::Index(index) => format!("[{index}]"),
    };
    if path.len() <= 12 {
        return path.iter().map(step).collect();
    }
    let (head, tail) = (&path[..4], &path[path.len() - 4..]);
    format!("{}...{}", head.iter().map(step).collect::<String>(), tail.iter().map(step).collect::<String>())
}

/// `lambda_executor._core.to_json(value)`: the JSON bytes the engine would send, under the same
/// rules (for the agent's compression, which must measure and pack exactly that).
#[pyfunction(name = "to_json")]
pub fn py_to_json<'py>(py: Python<'py>, value: &Bound<'py, PyAny>) -> Result<Bound<'py, pyo3::types::PyBytes>> {
    Ok(pyo3::types::PyBytes::new(py, &to_json(value)?))
}

/// `lambda_executor._core.JoinedJson`: a JSON object made of the members of several, in one
/// buffer, which the engine sends as it is (the agent's event: its head, then the call's own JSON,
/// made once by `to_json`, then its tail), rather than converting a dict holding them again.
#[pyclass(module = "lambda_executor._core", name = "JoinedJson", frozen)]
pub struct PyJoinedJson {
    pub bytes: bytes::Bytes,
}

#[pymethods]
impl PyJoinedJson {
    /// `{**head, **json.loads(document), **tail}` as JSON, `document` being a JSON object's bytes
    /// (no key of it in `head` or `tail`).
    #[new]
    fn new(head: &Bound<'_, PyDict>, document: &[u8], tail: &Bound<'_, PyDict>) -> Result<Self> {
        let members = |json: &[u8]| -> Option<Vec<u8>> {
            let inner = json.strip_prefix(b"{")?.strip_suffix(b"}")?;
            Some(inner.to_vec())
        };
        let not_object = || Error::WrongType("JoinedJson joins JSON objects".into());
        let document = document.strip_prefix(b"{").and_then(|rest| rest.strip_suffix(b"}")).ok_or_else(not_object)?;
        let head = members(&to_json(head.as_any())?).ok_or_else(not_object)?;
        let tail = members(&to_json(tail.as_any())?).ok_or_else(not_object)?;
        let mut json = Vec::with_capacity(head.len() + document.len() + tail.len() + 4);
        json.push(b'{');
        for part in [&head[..], document, &tail[..]].into_iter().filter(|part| !part.is_empty()) {
            if json.len() > 1 {
                json.push(b',');
            }
            json.extend_from_slice(part);
        }
        json.push(b'}');
        Ok(Self { bytes: json.into() })
    }

    fn __len__(&self) -> usize {
        self.bytes.len()
    }

    fn __bytes__<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
        pyo3::types::PyBytes::new(py, &self.bytes)
    }
}

/// The JSON bytes of an event: a JoinedJson's as they are, anything else converted.
pub fn event_json(event: &Bound<'_, PyAny>) -> Result<bytes::Bytes> {
    match event.cast::<PyJoinedJson>() {
        Ok(joined) => Ok(joined.get().bytes.clone()),
        Err(_) => Ok(to_json(event)?.into()),
    }
}

/// Decodes JSON bytes into a Python value; an empty body is `None`. (serde_json refuses nesting
/// deeper than 128 levels.)
pub fn from_json(py: Python<'_>, bytes: &[u8]) -> Result<Py<PyAny>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(py.None());
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = PyValueSeed { py }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|_| value))
        .map_err(|error| Error::Invalid(format!("the result is not valid JSON: {error}")))?;
    Ok(value)
}

/// A Rust value (the crates' reports: stats, function configurations) as the Python value of its
/// JSON form: dicts, lists and numbers.
pub fn to_python<T: Serialize>(py: Python<'_>, value: &T) -> Result<Py<PyAny>> {
    let json = serde_json::to_vec(value).map_err(|error| Error::Invalid(error.to_string()))?;
    from_json(py, &json)
}

struct PyJson<'a, 'py> {
    value: &'a Bound<'py, PyAny>,
    /// Containers around this value.
    depth: usize,
    /// Where a value that cannot be sent sits: each container it is in adds its step on the way
    /// out of the error, so nothing is recorded while all goes well.
    path: &'a RefCell<Vec<Step>>,
}

impl PyJson<'_, '_> {
    fn check_nesting<E: ser::Error>(&self) -> Result<(), E> {
        if self.depth >= MAX_NESTING {
            return Err(E::custom(format!(
                "the payload nests deeper than {MAX_NESTING} levels, more than a JSON reader takes back (is \
                 there a reference cycle?)"
            )));
        }
        Ok(())
    }
}

/// Strings at least this long that need no escaping are written as they are, without serde_json's
/// byte-by-byte scan for characters to escape (the costliest part of converting a large payload).
const LONG_TEXT: usize = 4096;

/// `text` as a JSON string. (PyJson is serialized by serde_json only, which writes a RawValue as
/// it is.)
fn serialize_text<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    if text.len() < LONG_TEXT || needs_escaping(text) {
        return serializer.serialize_str(text);
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    quoted.push_str(text);
    quoted.push('"');
    serde_json::value::RawValue::from_string(quoted).map_err(ser::Error::custom)?.serialize(serializer)
}

/// Whether any byte of `text` must be escaped in JSON: a quote, a backslash or a control
/// character. Each block is read whole, which the compiler turns into wide comparisons.
fn needs_escaping(text: &str) -> bool {
    text.as_bytes()
        .chunks(1024)
        .any(|block| block.iter().fold(false, |found, &byte| found | (byte < 0x20) | (byte == b'"') | (byte == b'\\')))
}

/// One element of a container: a dict's value under `key`, or a sequence's item at `index`.
struct Element<'a, 'py> {
    parent: &'a PyJson<'a, 'py>,
    item: Bound<'py, PyAny>,
    key: Option<&'a str>,
    index: usize,
}

impl Serialize for Element<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let parent = self.parent;
        PyJson { value: &self.item, depth: parent.depth + 1, path: parent.path }.serialize(serializer).inspect_err(
            |_| {
                let step = self.key.map_or(Step::Index(self.index), |key| Step::Key(key.to_owned()));
                parent.path.borrow_mut().push(step);
            },
        )
    }
}

impl Serialize for PyJson<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = self.value;
        if value.is_none() {
            serializer.serialize_unit()
        } else if let Ok(flag) = value.cast::<PyBool>() {
            serializer.serialize_bool(flag.is_true())
        } else if let Ok(int) = value.cast::<PyInt>() {
            if let Ok(small) = int.extract::<i64>() {
                serializer.serialize_i64(small)
            } else if let Ok(large) = int.extract::<u64>() {
                serializer.serialize_u64(large)
            } else {
                Err(ser::Error::custom("integer does not fit in 64 bits, which JSON readers do not carry exactly"))
            }
        } else if let Ok(float) = value.cast::<PyFloat>() {
            let number = float.value();
            if !number.is_finite() {
                return Err(ser::Error::custom(format!(
                    "{number} is not valid JSON (NaN and Infinity are not allowed)"
                )));
            }
            serializer.serialize_f64(number)
        } else if let Ok(text) = value.cast::<PyString>() {
            let utf8 = text.encode_utf8().map_err(ser::Error::custom)?;
            serialize_text(std::str::from_utf8(utf8.as_bytes()).map_err(ser::Error::custom)?, serializer)
        } else if let Ok(dict) = value.cast::<PyDict>() {
            self.check_nesting()?;
            let mut map = serializer.serialize_map(Some(dict.len()))?;
            for (key, item) in dict.iter() {
                let key = key.cast::<PyString>().map_err(|_| {
                    ser::Error::custom(format!("dict keys must be str for JSON, not {}", type_name(&key)))
                })?;
                let utf8 = key.encode_utf8().map_err(ser::Error::custom)?;
                let key = std::str::from_utf8(utf8.as_bytes()).map_err(ser::Error::custom)?;
                map.serialize_entry(key, &Element { parent: self, item, key: Some(key), index: 0 })?;
            }
            map.end()
        } else if let Ok(list) = value.cast::<PyList>() {
            self.check_nesting()?;
            let mut seq = serializer.serialize_seq(Some(list.len()))?;
            for (index, item) in list.iter().enumerate() {
                seq.serialize_element(&Element { parent: self, item, key: None, index })?;
            }
            seq.end()
        } else if let Ok(tuple) = value.cast::<PyTuple>() {
            self.check_nesting()?;
            let mut seq = serializer.serialize_seq(Some(tuple.len()))?;
            for (index, item) in tuple.iter().enumerate() {
                seq.serialize_element(&Element { parent: self, item, key: None, index })?;
            }
            seq.end()
        } else {
            Err(ser::Error::custom(format!("Object of type {} is not JSON serializable", type_name(value))))
        }
    }
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map(|name| name.to_string()).unwrap_or_else(|_| "?".into())
}

struct PyValueSeed<'py> {
    py: Python<'py>,
}

impl<'de> DeserializeSeed<'de> for PyValueSeed<'_> {
    type Value = Py<PyAny>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PyValueSeed<'_> {
    type Value = Py<PyAny>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.py.None())
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.py, value).to_owned().into_any().unbind())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(value.into_pyobject(self.py).map_err(E::custom)?.into_any().unbind())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(value.into_pyobject(self.py).map_err(E::custom)?.into_any().unbind())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(PyFloat::new(self.py, value).into_any().unbind())
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.py, value).into_any().unbind())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let list = PyList::empty(self.py);
        while let Some(item) = seq.next_element_seed(PyValueSeed { py: self.py })? {
            list.append(item).map_err(de::Error::custom)?;
        }
        Ok(list.into_any().unbind())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.py);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let value = map.next_value_seed(PyValueSeed { py: self.py })?;
            dict.set_item(key.as_ref(), value).map_err(de::Error::custom)?;
        }
        Ok(dict.into_any().unbind())
    }
}
