//! Checks a JSON value against a schema of an OpenAPI 3.1 document: the parts the
//! project's document uses (`type` with nulls, `required`, `properties`, `items`, `enum`,
//! `minimum`, `maximum`, `pattern` as a length check, `$ref` into the document).

use serde_json::Value;

/// What in `value` does not fit `schema`, each with its path; empty when it fits.
pub fn problems(document: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(document, schema, value, "$", &mut found);
    found
}

fn resolve<'d>(document: &'d Value, schema: &'d Value) -> &'d Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            let target = document
                .pointer(pointer)
                .unwrap_or_else(|| panic!("the document has no {reference}"));
            resolve(document, target)
        }
        None => schema,
    }
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check(document: &Value, schema: &Value, value: &Value, path: &str, found: &mut Vec<String>) {
    let schema = resolve(document, schema);
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let actual = type_of(value);
        let fits = allowed
            .iter()
            .any(|t| *t == actual || (*t == "number" && actual == "integer"));
        if !fits {
            found.push(format!("{path}: {actual}, not {allowed:?}"));
            return;
        }
    }
    if value.is_null() {
        return;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            found.push(format!("{path}: {value} is not one of {options:?}"));
        }
    }
    if let (Some(n), Some(min)) = (
        value.as_f64(),
        schema.get("minimum").and_then(Value::as_f64),
    ) {
        if n < min {
            found.push(format!("{path}: {n} < {min}"));
        }
    }
    if let (Some(n), Some(max)) = (
        value.as_f64(),
        schema.get("maximum").and_then(Value::as_f64),
    ) {
        if n > max {
            found.push(format!("{path}: {n} > {max}"));
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                found.push(format!("{path}: \"{name}\" is missing"));
            }
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                if let Some(inner) = object.get(name) {
                    check(document, property, inner, &format!("{path}.{name}"), found);
                }
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            check(document, items, item, &format!("{path}[{i}]"), found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_value_that_does_not_fit_is_named_with_its_path() {
        let document = json!({"components": {"schemas": {"N": {"type": "integer", "minimum": 0}}}});
        let schema = json!({
            "type": "object",
            "required": ["a", "b"],
            "properties": {
                "a": {"type": "array", "items": {"$ref": "#/components/schemas/N"}},
                "c": {"type": ["string", "null"], "enum": ["x", null]}
            }
        });
        assert!(problems(&document, &schema, &json!({"a": [1, 2], "b": 0, "c": null})).is_empty());
        let found = problems(&document, &schema, &json!({"a": [1, -2, "3"], "c": "y"}));
        assert_eq!(
            found,
            [
                "$: \"b\" is missing",
                "$.a[1]: -2 < 0",
                "$.a[2]: string, not [\"integer\"]",
                "$.c: \"y\" is not one of [String(\"x\"), Null]"
            ]
        );
    }
}
