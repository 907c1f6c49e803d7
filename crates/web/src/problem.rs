//! RFC 9457 problem documents: every error the API answers, mapped in one place.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use custodian_app::AppError;
use custodian_domain::FieldError;

/// An error answered as `application/problem+json`.
#[derive(Debug)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// A short slug naming the kind of problem (`validation`, `not-found`, …).
    pub kind: &'static str,
    /// A short, human-readable summary of the kind.
    pub title: &'static str,
    /// What happened this time.
    pub detail: String,
    /// The fields concerned.
    pub errors: Vec<FieldError>,
    /// What failed inside, for the log only: never sent to the client.
    pub internal: Option<String>,
}

/// The inside story of a failed request, handed from the answer to the middleware that
/// knows its request id, which logs it (`crate::observe`).
#[derive(Clone, Debug)]
pub struct Internal(pub String);

impl Problem {
    /// A problem without field errors.
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            title,
            detail: detail.into(),
            errors: vec![],
            internal: None,
        }
    }

    /// 500 (or 503) for a failure inside: a plain sentence for the client, the message for
    /// the log.
    pub fn internal(status: StatusCode, detail: &str, message: String) -> Self {
        let title = if status == StatusCode::SERVICE_UNAVAILABLE {
            "Unavailable"
        } else {
            "Internal error"
        };
        Self {
            internal: Some(message),
            ..Self::new(status, "internal", title, detail)
        }
    }

    /// 400: the request itself is malformed (bad JSON, a bad parameter).
    pub fn bad_request(field: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let mut p = Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request is malformed",
            detail.clone(),
        );
        if !field.is_empty() {
            p.errors.push(FieldError::new(field, detail));
        }
        p
    }

    /// 404 for a path no route serves.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "no-route",
            "No such resource",
            format!("nothing is served at {path}"),
        )
    }

    /// The problem document.
    pub fn wire(&self) -> crate::api::wire::ProblemBody {
        crate::api::wire::ProblemBody {
            kind: format!("/problems/{}", self.kind),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            request_id: None,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        serde_json::to_value(self.wire()).unwrap_or(Value::Null)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let internal = match (&self.internal, self.status.is_server_error()) {
            (Some(m), _) => Some(m.clone()),
            (None, true) => Some(self.detail.clone()),
            (None, false) => None,
        };
        let mut r = (self.status, axum::Json(self.body())).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(m) = internal {
            r.extensions_mut().insert(Internal(m));
        }
        r
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(p) => {
                let detail = if p.0.len() == 1 {
                    format!("{} {}", p.0[0].field, p.0[0].message)
                } else {
                    format!("{} fields are missing or invalid", p.0.len())
                };
                Problem {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    kind: "validation",
                    title: "The input is invalid",
                    detail,
                    errors: p.0,
                    internal: None,
                }
            }
            AppError::NotFound { entity, id } => Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                format!("{entity} {id} does not exist"),
            ),
            e @ AppError::PreconditionFailed { .. } => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "stale-version",
                "The record has changed",
                e.to_string(),
            ),
            AppError::Conflict { message, field } => {
                let mut p = Problem::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    "The change conflicts with the register",
                    message.clone(),
                );
                if let Some(f) = field {
                    p.errors.push(FieldError::new(f, message));
                }
                p
            }
            AppError::Unauthorized(m) => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
                m,
            ),
            AppError::Forbidden(m) => {
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", m)
            }
            AppError::TooManyRequests { message, .. } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many attempts",
                message,
            ),
            AppError::Store(custodian_store::StoreError::Unavailable(m)) => Problem::internal(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database cannot be reached: try again shortly",
                format!("database unavailable: {m}"),
            ),
            AppError::Store(custodian_store::StoreError::Integrity(m)) => Problem::internal(
                StatusCode::SERVICE_UNAVAILABLE,
                "changes are refused until an administrator checks the audit trail (custodian audit verify)",
                format!("the audit trail cannot be extended: {m}"),
            ),
            AppError::Store(e) => Problem::internal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "something failed inside the server",
                e.to_string(),
            ),
            AppError::Internal(m) => Problem::internal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "something failed inside the server",
                m,
            ),
        }
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, Problem>;
