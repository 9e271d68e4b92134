//! Strict JSON readers shared by the model-file and network-file parsers: each returns the
//! value or an [`Error`] naming the JSON path and what was expected.

use crate::error::{Error, Result};
use serde_json::{Map, Value};

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn as_obj<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>> {
    v.as_object().ok_or_else(|| Error::model(path, format!("expected an object, got {}", kind(v))))
}

pub(crate) fn as_arr<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>> {
    v.as_array().ok_or_else(|| Error::model(path, format!("expected an array, got {}", kind(v))))
}

pub(crate) fn as_str<'a>(v: &'a Value, path: &str) -> Result<&'a str> {
    v.as_str().ok_or_else(|| Error::model(path, format!("expected a string, got {}", kind(v))))
}

pub(crate) fn as_f64(v: &Value, path: &str) -> Result<f64> {
    let x = v.as_f64().ok_or_else(|| Error::model(path, format!("expected a number, got {}", kind(v))))?;
    if !x.is_finite() {
        return Err(Error::model(path, "must be finite"));
    }
    Ok(x)
}

pub(crate) fn as_usize(v: &Value, path: &str) -> Result<usize> {
    as_u64(v, path).map(|x| x as usize)
}

pub(crate) fn as_u64(v: &Value, path: &str) -> Result<u64> {
    v.as_u64().ok_or_else(|| {
        Error::model(path, format!("expected a non-negative integer, got {}", match v {
            Value::Number(n) => n.to_string(),
            other => kind(other).to_string(),
        }))
    })
}

pub(crate) fn as_bool(v: &Value, path: &str) -> Result<bool> {
    v.as_bool().ok_or_else(|| Error::model(path, format!("expected a boolean, got {}", kind(v))))
}

pub(crate) fn check_keys(o: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<()> {
    for k in o.keys() {
        if !allowed.contains(&k.as_str()) && !k.starts_with('_') {
            return Err(Error::model(format!("{path}.{k}"), format!("unknown field (allowed: {})", allowed.join(", "))));
        }
    }
    Ok(())
}

pub(crate) fn required<'a>(o: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a Value> {
    o.get(key).ok_or_else(|| Error::model(format!("{path}.{key}"), "required field is missing"))
}
