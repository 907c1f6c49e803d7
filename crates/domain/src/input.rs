//! A reader over a JSON object that collects every problem instead of stopping at the first.

use serde_json::{Map, Value};

use crate::error::Problems;

/// Reads fields of one input object and records what is wrong with them.
pub struct Input<'a> {
    obj: &'a Map<String, Value>,
    /// Everything found wrong so far.
    pub problems: Problems,
}

impl<'a> Input<'a> {
    /// Starts reading `obj`.
    pub fn new(obj: &'a Map<String, Value>) -> Self {
        Self {
            obj,
            problems: Problems::new(),
        }
    }

    /// Records every key that is neither a field nor a read-only field (ignored on input).
    pub fn reject_unknown(&mut self, fields: &[&str], read_only: &[&str], what: &str) {
        for k in self.obj.keys() {
            if !fields.contains(&k.as_str()) && !read_only.contains(&k.as_str()) {
                self.problems
                    .add(k.clone(), format!("is not a field of {what}"));
            }
        }
    }

    /// The raw value of a key, `None` when absent or null.
    pub fn get(&self, k: &str) -> Option<&'a Value> {
        self.obj.get(k).filter(|v| !v.is_null())
    }

    /// A required field: absent or null is an error.
    pub fn required<T>(
        &mut self,
        k: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        match self.get(k) {
            None => {
                self.problems.add(k, "is required");
                None
            }
            Some(v) => self.problems.check(k, parse(v)),
        }
    }

    /// An optional field: `Some(None)` when absent or null, `None` when invalid.
    pub fn optional<T>(
        &mut self,
        k: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match self.get(k) {
            None => Some(None),
            Some(v) => self.problems.check(k, parse(v)).map(Some),
        }
    }

    /// An optional field with a default when absent or null.
    pub fn or_default<T>(
        &mut self,
        k: &str,
        default: T,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        self.optional(k, parse).map(|o| o.unwrap_or(default))
    }

    /// Refuses null for fields where it means nothing (settings that are always set).
    pub fn refuse_null(&mut self, keys: &[&str]) {
        for k in keys {
            if self.obj.get(*k).is_some_and(Value::is_null) {
                self.problems.add(
                    *k,
                    "cannot be null: give a value, or leave it out to keep it",
                );
            }
        }
    }

    /// Records a problem.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.add(field, message);
    }
}

/// Applies a JSON merge patch (RFC 7396, one level deep) to an object.
pub fn merge_patch(base: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            base.remove(k);
        } else {
            base.insert(k.clone(), v.clone());
        }
    }
}
