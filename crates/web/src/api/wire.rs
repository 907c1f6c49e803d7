//! The API's wire: answers that serialise themselves and say what they are, and the
//! extractors' part of the OpenAPI document.
//!
//! Every route under `/api/v1` is declared with [`aide`], so the document is generated from
//! the handlers' own types: an answer's schema is the schema of the type the handler
//! returns, and what an extractor can refuse (401, 404, 412, 422, 429…) is declared by the
//! extractor. Extractors leave marks in an operation's extensions (`x-custodian-*`);
//! [`finish`] turns them into standard OpenAPI and removes them.

use std::marker::PhantomData;

use aide::generate::GenContext;
use aide::openapi::Operation;
use aide::{OperationInput, OperationOutput};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::problem::Problem;

/// Marks an operation with a refusal it can answer.
pub(crate) fn mark_problem(op: &mut Operation, status: u16, description: &str) {
    let e = op
        .extensions
        .entry("x-custodian-problems".into())
        .or_insert_with(|| json!({}));
    if let Some(m) = e.as_object_mut() {
        m.entry(status.to_string())
            .or_insert_with(|| json!(description));
    }
}

/// Declares a refusal a handler itself can answer, on its route.
pub fn refuses(
    status: u16,
    description: &'static str,
) -> impl FnOnce(aide::transform::TransformOperation<'_>) -> aide::transform::TransformOperation<'_>
{
    move |mut t| {
        mark_problem(t.inner_mut(), status, description);
        t
    }
}

/// Marks an operation with a flag or a value.
pub(crate) fn mark(op: &mut Operation, name: &str, value: Value) {
    op.extensions.insert(format!("x-custodian-{name}"), value);
}

/// A page of a list: `{"items": […], "next_cursor": …}`.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "{T}Page")]
pub struct Listing<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Listing<T> {
    /// A page from the store's page, each record turned into its wire form.
    pub fn of<R>(p: custodian_store::Page<R>, f: impl Fn(R) -> T) -> Json<Self> {
        Json(Listing {
            items: p.items.into_iter().map(f).collect(),
            next_cursor: p.next_cursor.map(|c| c.encode()),
        })
    }

    /// A whole list, in one page.
    pub fn all(items: Vec<T>) -> Json<Self> {
        Json(Listing {
            items,
            next_cursor: None,
        })
    }
}

/// One record with its version as the `ETag`, answered with `STATUS` (200 unless said).
pub struct One<T, const STATUS: u16 = 200>(pub i64, pub T);

impl<T: Serialize, const STATUS: u16> IntoResponse for One<T, STATUS> {
    fn into_response(self) -> Response {
        let mut r = Status::<T, STATUS>(self.1).into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", self.0)) {
            r.headers_mut().insert(header::ETAG, v);
        }
        r
    }
}

impl<T: JsonSchema, const STATUS: u16> OperationOutput for One<T, STATUS> {
    type Inner = T;

    fn inferred_responses(
        ctx: &mut GenContext,
        op: &mut Operation,
    ) -> Vec<(Option<u16>, aide::openapi::Response)> {
        mark(op, "etag", json!(true));
        Status::<T, STATUS>::inferred_responses(ctx, op)
    }
}

/// 201 Created with `Location`: where the new record is read, and the answer that carries
/// it (with its version as `ETag`, [`Created`]; a record without one, [`New`]).
pub struct Located<A> {
    /// Where the new record is read.
    pub location: String,
    /// The answer.
    pub answer: A,
}

/// 201 Created, with `Location` and `ETag`.
pub type Created<T> = Located<One<T, 201>>;

/// 201 Created with `Location`, for records without a version (tokens).
pub type New<T> = Located<Status<T, 201>>;

impl<T> Created<T> {
    /// Record `body` at `version`, created at `location`.
    pub fn new(location: String, version: i64, body: T) -> Self {
        Located {
            location,
            answer: One(version, body),
        }
    }
}

impl<T> New<T> {
    /// Record `body`, created at `location`.
    pub fn new(location: String, body: T) -> Self {
        Located {
            location,
            answer: Status(body),
        }
    }
}

impl<A: IntoResponse> IntoResponse for Located<A> {
    fn into_response(self) -> Response {
        let mut r = self.answer.into_response();
        if let Ok(v) = HeaderValue::from_str(&self.location) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        r
    }
}

impl<A: OperationOutput> OperationOutput for Located<A> {
    type Inner = A::Inner;

    fn inferred_responses(
        ctx: &mut GenContext,
        op: &mut Operation,
    ) -> Vec<(Option<u16>, aide::openapi::Response)> {
        mark(op, "location", json!(true));
        A::inferred_responses(ctx, op)
    }
}

/// 204 No Content.
pub struct Done;

/// Documents an answer type that has no body: its status and what it means.
macro_rules! bodiless {
    ($t:ty, $status:literal, $means:literal) => {
        impl OperationOutput for $t {
            type Inner = ();

            fn inferred_responses(
                _: &mut GenContext,
                _: &mut Operation,
            ) -> Vec<(Option<u16>, aide::openapi::Response)> {
                let r = aide::openapi::Response {
                    description: $means.into(),
                    ..Default::default()
                };
                vec![(Some($status), r)]
            }
        }
    };
}

impl IntoResponse for Done {
    fn into_response(self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }
}

bodiless!(Done, 204, "Done; nothing to answer");

/// What the problems an operation declares are said with.
impl OperationOutput for Problem {
    type Inner = Self;
}

/// A JSON object body, documented as `T` (which refuses properties it does not name).
/// The application services read the object themselves, naming every bad field.
pub struct Body<T>(pub Map<String, Value>, pub PhantomData<T>);

impl<T, S: Send + Sync> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Problem> {
        let crate::extract::JsonObject(o) =
            crate::extract::JsonObject::from_request(req, state).await?;
        Ok(Body(o, PhantomData))
    }
}

impl<T: JsonSchema> OperationInput for Body<T> {
    fn operation_input(ctx: &mut GenContext, op: &mut Operation) {
        Json::<T>::operation_input(ctx, op);
        mark_problem(op, 400, "The body is not a JSON object");
        mark_problem(op, 413, "The body is too large");
        mark_problem(op, 415, "The body is not JSON");
        mark_problem(op, 422, "Invalid input; the errors name every field");
        mark_problem(op, 409, "Conflicts with the register as it is");
    }
}

/// The body of a JSON merge patch of `T`: `T`'s properties, none of them required.
pub struct Patch<T>(PhantomData<T>);

impl<T: JsonSchema> JsonSchema for Patch<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("{}Patch", T::schema_name().trim_end_matches("Input")).into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut s = T::json_schema(g);
        if let Some(o) = s.as_object_mut() {
            o.remove("required");
            o.insert(
                "description".into(),
                json!("A JSON merge patch: the fields to change; null clears an optional one."),
            );
        }
        s
    }
}

/// A list that takes no parameters.
#[derive(JsonSchema)]
pub struct NoFilters {}

/// A record's key from the path (`{key}`, `{token}`): anything else names nothing.
pub struct Key(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Key {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Problem> {
        let axum::extract::Path(k) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| Problem::bad_request("", e.body_text()))?;
        Ok(Key(k))
    }
}

impl OperationInput for Key {
    fn operation_input(_: &mut GenContext, op: &mut Operation) {
        mark_problem(op, 404, "No such record");
    }
}

/// Query parameters, documented and limited to the properties of `T`. `STRICT = false`
/// takes other parameters too, for what a third party appends (an identity provider's
/// callback).
pub struct Query<T, const STRICT: bool = true>(pub crate::extract::Params, PhantomData<T>);

impl<T, const STRICT: bool> std::ops::Deref for Query<T, STRICT> {
    type Target = crate::extract::Params;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T: JsonSchema + 'static, S: Send + Sync, const STRICT: bool> axum::extract::FromRequestParts<S>
    for Query<T, STRICT>
{
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Problem> {
        let p = crate::extract::Params::from_request_parts(parts, state).await?;
        if !STRICT {
            return Ok(Query(p, PhantomData));
        }
        p.only(query_names::<T>())?;
        // A parameter given empty is a mistake (a script's unset variable), not "any".
        let mut empty: Vec<&String> =
            p.0.iter()
                .filter(|(_, v)| v.is_empty())
                .map(|(k, _)| k)
                .collect();
        empty.sort();
        if let Some(k) = empty.first() {
            return Err(Problem::bad_request(
                k,
                format!("{k} is empty: give it a value, or leave it out"),
            ));
        }
        Ok(Query(p, PhantomData))
    }
}

/// The names a query type declares, read from its schema once per type.
fn query_names<T: JsonSchema + 'static>() -> &'static [&'static str] {
    type Names = std::collections::HashMap<std::any::TypeId, &'static [&'static str]>;
    static NAMES: std::sync::OnceLock<std::sync::RwLock<Names>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(Default::default);
    let key = std::any::TypeId::of::<T>();
    if let Some(known) = names.read().ok().and_then(|m| m.get(&key).copied()) {
        return known;
    }
    let mut m = match names.write() {
        Ok(m) => m,
        Err(e) => e.into_inner(),
    };
    m.entry(key).or_insert_with(|| {
        let declared: Vec<&'static str> = inline_schema::<T>()
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| {
                p.keys()
                    .map(|k| &*Box::leak(k.clone().into_boxed_str()))
                    .collect()
            })
            .unwrap_or_default();
        Box::leak(declared.into_boxed_slice())
    })
}

/// A type's schema with nothing referenced.
fn inline_schema<T: JsonSchema>() -> Value {
    let g = schemars::generate::SchemaSettings::draft07()
        .with(|s| {
            s.inline_subschemas = true;
        })
        .into_generator();
    g.into_root_schema_for::<T>().to_value()
}

impl<T: JsonSchema, const STRICT: bool> OperationInput for Query<T, STRICT> {
    fn operation_input(_: &mut GenContext, op: &mut Operation) {
        mark(op, "query", inline_schema::<T>());
        mark_problem(op, 400, "A parameter is unknown, repeated or malformed");
    }
}

/// The caller's record id from the path.
impl OperationInput for crate::extract::RecordId {
    fn operation_input(_: &mut GenContext, op: &mut Operation) {
        mark_problem(op, 404, "No such record");
    }
}

impl OperationInput for crate::extract::IfMatch {
    fn operation_input(_: &mut GenContext, op: &mut Operation) {
        mark(op, "if-match", json!(true));
        mark_problem(op, 412, "If-Match names another version; nothing changed");
        mark_problem(op, 409, "Conflicts with the register as it is");
    }
}

impl OperationInput for crate::auth::Caller {
    fn operation_input(_: &mut GenContext, op: &mut Operation) {
        mark(op, "authenticated", json!(true));
    }
}

impl OperationInput for crate::auth::Anyone {
    fn operation_input(_: &mut GenContext, op: &mut Operation) {
        mark(op, "public", json!(true));
    }
}

impl<B: crate::auth::Bucket> OperationInput for crate::auth::Limited<B> {
    fn operation_input(_: &mut GenContext, op: &mut Operation) {
        mark(
            op,
            "rate-limit",
            json!({"bucket": B::NAME, "attempts": crate::auth::ATTEMPTS_PER_WINDOW, "window_seconds": crate::auth::WINDOW.as_secs()}),
        );
        mark_problem(
            op,
            429,
            "Too many attempts from this address; see Retry-After",
        );
    }
}

/// The problem document every refusal is (RFC 9457).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Problem")]
pub struct ProblemBody {
    /// The kind of problem: `/problems/{slug}`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened this time.
    pub detail: String,
    /// The fields concerned, each with what is wrong with it.
    pub errors: Vec<custodian_domain::FieldError>,
    /// The request's id, under which the server logged what failed inside (server errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Turns the extractors' marks into standard OpenAPI: parameters, response headers,
/// problem answers and security. `problem` is the problem document's schema reference.
pub(crate) fn finish(doc: &mut Value, problem: Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            finish_operation(path, method, op, &problem);
        }
    }
}

fn take(op: &mut Map<String, Value>, name: &str) -> Option<Value> {
    op.remove(&format!("x-custodian-{name}"))
}

/// A parameter's schema without the `null` an `Option` adds: a parameter is left out,
/// never sent as null.
fn non_null(mut s: Value) -> Value {
    if let Some(Value::Array(types)) = s.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let t = types[0].clone();
            s["type"] = t;
        }
    }
    if let Some(Value::Array(any)) = s.get("anyOf").cloned() {
        let rest: Vec<Value> = any
            .into_iter()
            .filter(|v| v.get("type").and_then(Value::as_str) != Some("null"))
            .collect();
        if rest.len() == 1 {
            if let (Some(o), Some(Value::Object(inner))) = (s.as_object_mut(), rest.first()) {
                o.remove("anyOf");
                for (k, v) in inner {
                    o.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
    }
    if let Some(Value::Array(e)) = s.get_mut("enum") {
        e.retain(|v| !v.is_null());
    }
    s
}

fn finish_operation(path: &str, method: &str, op: &mut Map<String, Value>, problem: &Value) {
    let mut params: Vec<Value> = Vec::new();
    for seg in path.split('/').filter(|s| s.starts_with('{')) {
        let name = seg.trim_matches(|c| c == '{' || c == '}');
        // Every `{id}` and `{…_id}` is a record's UUID.
        let schema = if name == "id" || name.ends_with("_id") {
            json!({"type": "string", "format": "uuid"})
        } else {
            json!({"type": "string"})
        };
        params.push(json!({"name": name, "in": "path", "required": true, "schema": schema}));
    }
    if let Some(q) = take(op, "query") {
        let required: Vec<&str> = q
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(props) = q.get("properties").and_then(Value::as_object) {
            for (name, schema) in props {
                let mut schema = non_null(schema.clone());
                let description = schema.as_object_mut().and_then(|s| s.remove("description"));
                let mut p = json!({"name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": schema});
                if let Some(d) = description {
                    p["description"] = d;
                }
                params.push(p);
            }
        }
    }
    if take(op, "if-match").is_some() {
        params.push(json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"}, "description": "The ETag last seen (a list, or `*`); any other version gets 412 and changes nothing."}));
    }
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    let public = take(op, "public").is_some();
    let authenticated = take(op, "authenticated").is_some();
    let etag = take(op, "etag").is_some();
    let location = take(op, "location").is_some();
    let set_cookie = take(op, "set-cookie").is_some();
    let problems = take(op, "problems").unwrap_or_else(|| json!({}));
    let limit = take(op, "rate-limit");
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(responses) = responses {
        for (status, r) in responses.iter_mut() {
            if !status.starts_with('2') {
                continue;
            }
            if r.get("description").and_then(Value::as_str) == Some("") {
                r["description"] = json!("Success");
            }
            let mut headers = Map::new();
            if etag {
                headers.insert("ETag".into(), json!({"description": "The record's version, for If-Match", "schema": {"type": "string"}}));
            }
            if location && status == "201" {
                headers.insert(
                    "Location".into(),
                    json!({"description": "Where the new record is read", "schema": {"type": "string"}}),
                );
            }
            if set_cookie {
                headers.insert(
                    "Set-Cookie".into(),
                    json!({"description": "The session cookie (HttpOnly, SameSite=Lax); cleared on signing out", "schema": {"type": "string"}}),
                );
            }
            if !headers.is_empty() {
                r["headers"] = Value::Object(headers);
            }
        }
        let mut problems = problems.as_object().cloned().unwrap_or_default();
        if authenticated && !public {
            problems
                .entry("401")
                .or_insert_with(|| json!("No valid credentials"));
            problems.entry("403").or_insert_with(|| {
                json!("Not allowed for this role or token, or a missing CSRF token")
            });
        }
        {
            for (status, description) in &problems {
                responses.insert(
                    status.clone(),
                    json!({"description": description, "content": {"application/problem+json": {"schema": problem}}}),
                );
            }
        }
        let mut sorted: Vec<(String, Value)> = std::mem::take(responses).into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        responses.extend(sorted);
    }
    if let Some(l) = limit {
        op.insert("x-rate-limit".into(), l);
    }
    if public {
        op.insert("security".into(), json!([]));
    }
    let tag = path
        .strip_prefix("/api/v1/")
        .and_then(|p| p.split('/').next())
        .unwrap_or("operations");
    op.insert("tags".into(), json!([tag]));
    op.insert(
        "operationId".into(),
        json!(format!(
            "{method}_{}",
            path.trim_start_matches('/')
                .replace(['/', '{', '}', '.'], "_")
                .trim_end_matches('_')
        )),
    );
}

/// An answer serialised from a table and described from the same table (`M`, from
/// [`crate::openapi`]): the asset and `KIND_FIELDS`.
pub struct Shaped<M>(pub Value, PhantomData<M>);

impl<M> Shaped<M> {
    /// The value, described as `M`.
    pub fn new(v: Value) -> Self {
        Shaped(v, PhantomData)
    }
}

impl<M> Serialize for Shaped<M> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<M: JsonSchema> JsonSchema for Shaped<M> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        M::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        M::schema_id()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        M::json_schema(g)
    }
}

/// A plain JSON answer with status `STATUS`, described as `T`.
pub struct Status<T, const STATUS: u16>(pub T);

impl<T: Serialize, const STATUS: u16> IntoResponse for Status<T, STATUS> {
    fn into_response(self) -> Response {
        let mut r = Json(self.0).into_response();
        *r.status_mut() = StatusCode::from_u16(STATUS).unwrap_or(StatusCode::OK);
        r
    }
}

impl<T: JsonSchema, const STATUS: u16> OperationOutput for Status<T, STATUS> {
    type Inner = T;

    fn inferred_responses(
        ctx: &mut GenContext,
        op: &mut Operation,
    ) -> Vec<(Option<u16>, aide::openapi::Response)> {
        Json::<T>::operation_response(ctx, op)
            .map(|r| vec![(Some(STATUS), r)])
            .unwrap_or_default()
    }
}

/// A redirect (303 See Other), as single sign-on answers.
pub struct SeeOther(pub Response);

impl IntoResponse for SeeOther {
    fn into_response(self) -> Response {
        self.0
    }
}

bodiless!(
    SeeOther,
    303,
    "See Other: the browser goes on to the address in Location"
);

/// Declares that the records a path names may not exist (404), for handlers that read
/// their path themselves.
pub struct NotFound;

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for NotFound {
    type Rejection = Problem;

    async fn from_request_parts(
        _: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Problem> {
        Ok(NotFound)
    }
}

impl OperationInput for NotFound {
    fn operation_input(_: &mut GenContext, op: &mut Operation) {
        mark_problem(op, 404, "No such record");
    }
}

/// An answer that also sets (or clears) the session cookie.
pub struct SetCookie<T>(pub HeaderValue, pub T);

impl<T: IntoResponse> IntoResponse for SetCookie<T> {
    fn into_response(self) -> Response {
        let mut r = self.1.into_response();
        r.headers_mut().insert(header::SET_COOKIE, self.0);
        r
    }
}

impl<T: OperationOutput> OperationOutput for SetCookie<T> {
    type Inner = T::Inner;

    fn inferred_responses(
        ctx: &mut GenContext,
        op: &mut Operation,
    ) -> Vec<(Option<u16>, aide::openapi::Response)> {
        mark(op, "set-cookie", json!(true));
        T::inferred_responses(ctx, op)
    }
}

/// JSON text made once and served as it is (the OpenAPI document).
pub struct JsonText(pub axum::body::Bytes);

impl IntoResponse for JsonText {
    fn into_response(self) -> Response {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.0,
        )
            .into_response()
    }
}

impl OperationOutput for JsonText {
    type Inner = Value;

    fn inferred_responses(
        ctx: &mut GenContext,
        op: &mut Operation,
    ) -> Vec<(Option<u16>, aide::openapi::Response)> {
        Json::<Value>::inferred_responses(ctx, op)
    }
}

/// A file to download: its bytes, media type, name and SHA-256 (sent as the `ETag`, and as
/// `X-Content-SHA256` for those who check it).
pub struct File {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The media type.
    pub media_type: &'static str,
    /// The name it is saved under.
    pub name: String,
    /// Shown in the browser (`inline`) rather than saved.
    pub inline: bool,
}

impl IntoResponse for File {
    fn into_response(self) -> Response {
        let digest = custodian_domain::audit::sha256_hex(&self.bytes);
        let mut r = self.bytes.into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.media_type),
        );
        let how = if self.inline { "inline" } else { "attachment" };
        // A name from a record (a policy's number) is kept to letters, digits, `.` and `-`.
        let name: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        if let Ok(v) = HeaderValue::from_str(&format!("{how}; filename=\"{name}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        if let Ok(v) = HeaderValue::from_str(&format!("\"{digest}\"")) {
            h.insert(header::ETAG, v);
        }
        if let Ok(v) = HeaderValue::from_str(&digest) {
            h.insert("x-content-sha256", v);
        }
        r
    }
}

impl OperationOutput for File {
    type Inner = ();

    fn inferred_responses(
        _: &mut GenContext,
        _: &mut Operation,
    ) -> Vec<(Option<u16>, aide::openapi::Response)> {
        // The documents served as files: a policy's HTML and PDF.
        file_response(
            "The file's bytes; `X-Content-SHA256` (and the `ETag`) carry their SHA-256",
            [
                ("text/html", schemars::json_schema!({"type": "string"})),
                (
                    "application/pdf",
                    schemars::json_schema!({"type": "string", "format": "binary"}),
                ),
            ],
        )
    }
}

/// A download's answer in the OpenAPI document: what it is, and each media type it comes
/// in with its schema.
pub fn file_response<'a>(
    description: &str,
    content: impl IntoIterator<Item = (&'a str, schemars::Schema)>,
) -> Vec<(Option<u16>, aide::openapi::Response)> {
    let mut r = aide::openapi::Response {
        description: description.into(),
        ..Default::default()
    };
    for (media_type, schema) in content {
        r.content.insert(media_type.into(), media(schema));
    }
    vec![(Some(200), r)]
}

/// A media type's entry in the OpenAPI document, by its schema.
pub fn media(schema: schemars::Schema) -> aide::openapi::MediaType {
    aide::openapi::MediaType {
        schema: Some(aide::openapi::SchemaObject {
            json_schema: schema,
            example: None,
            external_docs: None,
        }),
        ..Default::default()
    }
}
