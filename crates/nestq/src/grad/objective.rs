//! The objective `J = Σ_k w_k Re Tr(O_k ρ(t_k))` of [`mesolve_grad`](super::mesolve_grad)
//! over the model's observables, and its JSON form (`docs/gradients.md`).

use crate::error::{Error, ErrorCode, Result};
use crate::json::{as_arr, as_f64, as_obj, as_str, check_keys, kind, required};
use serde_json::{json, Value};

/// When an objective term is evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum ObjectiveTime {
    /// The model's last output time.
    Final,
    /// An output time of the model (`times`); matched to within `1e-9·max(1, |t|)`.
    At(f64),
}

/// One term `weight · Re Tr(O ρ(time))` of an [`Objective`].
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectiveTerm {
    /// Name of an entry of the model's `observables`.
    pub observable: String,
    /// Output time at which it is evaluated.
    pub time: ObjectiveTime,
    /// Real weight.
    pub weight: f64,
}

/// A scalar objective `J = Σ_k w_k Re Tr(O_k ρ(t_k))` over the model's observables.
///
/// JSON form (`docs/gradients.md`): either a string (an observable name, at the final time,
/// weight 1) or
///
/// ```json
/// {"terms": [{"observable": "Z0", "time": "final", "weight": 1.0},
///            {"observable": "X1", "time": 2.5, "weight": -0.5}],
///  "parameters": ["g", "gamma"]}
/// ```
///
/// `time` defaults to `"final"`, `weight` to 1; `parameters` (optional) restricts the reported
/// gradient to those names (default: every entry of the model's `parameters`).
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// The terms (at least one).
    pub terms: Vec<ObjectiveTerm>,
    /// Parameters to differentiate with respect to (`None`: all of the model's parameters).
    pub parameters: Option<Vec<String>>,
}

impl Objective {
    /// `⟨O⟩` of one observable at the final time, weight 1.
    pub fn final_observable(name: impl Into<String>) -> Self {
        Objective { terms: vec![ObjectiveTerm { observable: name.into(), time: ObjectiveTime::Final, weight: 1.0 }], parameters: None }
    }

    /// Parses the JSON form; errors name the JSON path (`$.terms[1].time`).
    pub fn from_json_str(text: &str) -> Result<Objective> {
        let v: Value = serde_json::from_str(text).map_err(|e| Error { code: ErrorCode::Parse, path: Some("$".into()), message: format!("invalid JSON: {e}") })?;
        Objective::from_value(&v)
    }

    /// Parses the JSON form from a value.
    pub fn from_value(v: &Value) -> Result<Objective> {
        if let Value::String(s) = v {
            return Ok(Objective::final_observable(s.clone()));
        }
        let root = as_obj(v, "$")?;
        check_keys(root, "$", &["terms", "parameters"])?;
        let ts = as_arr(required(root, "terms", "$")?, "$.terms")?;
        if ts.is_empty() {
            return Err(Error::model("$.terms", "at least one term is required"));
        }
        let mut terms = Vec::new();
        for (i, t) in ts.iter().enumerate() {
            let p = format!("$.terms[{i}]");
            let o = as_obj(t, &p)?;
            check_keys(o, &p, &["observable", "time", "weight"])?;
            let observable = as_str(required(o, "observable", &p)?, &format!("{p}.observable"))?.to_string();
            let time = match o.get("time") {
                None => ObjectiveTime::Final,
                Some(Value::String(s)) if s == "final" => ObjectiveTime::Final,
                Some(x @ Value::Number(_)) => ObjectiveTime::At(as_f64(x, &format!("{p}.time"))?),
                Some(x) => return Err(Error::model(format!("{p}.time"), format!("expected a number or \"final\", got {}", kind(x)))),
            };
            let weight = match o.get("weight") {
                None => 1.0,
                Some(x) => as_f64(x, &format!("{p}.weight"))?,
            };
            terms.push(ObjectiveTerm { observable, time, weight });
        }
        let parameters = match root.get("parameters") {
            None => None,
            Some(x) => Some(
                as_arr(x, "$.parameters")?
                    .iter()
                    .enumerate()
                    .map(|(i, s)| as_str(s, &format!("$.parameters[{i}]")).map(str::to_string))
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        Ok(Objective { terms, parameters })
    }

    /// The JSON form (always the object form).
    pub fn to_json(&self) -> Value {
        let terms: Vec<Value> = self
            .terms
            .iter()
            .map(|t| {
                let time = match t.time {
                    ObjectiveTime::Final => json!("final"),
                    ObjectiveTime::At(x) => json!(x),
                };
                json!({"observable": t.observable, "time": time, "weight": t.weight})
            })
            .collect();
        let mut o = json!({ "terms": terms });
        if let Some(p) = &self.parameters {
            o["parameters"] = json!(p);
        }
        o
    }
}
