//! Loading a model file: parsing (`model`) followed by the checks of the method it asks for
//! (`mpo`: terms on at most two sites, supported measures, a product initial state for chains
//! too large for dense objects). This sits above both so that parsing never calls into a
//! solver.

use crate::error::Result;
use crate::model::{Method, Model};
use serde_json::Value;

impl Model {
    /// Parses and validates a model from JSON text (`docs/model-format.md`); errors name the JSON
    /// path of the offending field (code `parse` for invalid JSON, `invalid_model` otherwise).
    pub fn from_json_str(text: &str) -> Result<Model> {
        let model = Model::parse_json_str(text)?;
        validate_for_method(&model)?;
        Ok(model)
    }

    /// Parses and validates a model from a JSON value (see [`Model::from_json_str`]).
    pub fn from_value(v: &Value) -> Result<Model> {
        let model = Model::parse_value(v)?;
        validate_for_method(&model)?;
        Ok(model)
    }
}

fn validate_for_method(model: &Model) -> Result<()> {
    if model.solver.method == Method::Mpo {
        crate::mpo::validate_model(model)?;
    }
    Ok(())
}
