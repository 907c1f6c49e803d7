//! `/api/v1/session/oidc`: single sign-on through the organisation's OpenID provider.
//!
//! The start sends the browser to the provider with a fresh state, nonce and PKCE
//! challenge, and keeps them in a short-lived cookie sealed under Custodian's key (so any
//! instance sharing the key can finish the sign-in, and no server memory is spent on
//! sign-ins never finished). The callback must come back to the same browser: its state
//! must match the cookie's.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use custodian_app::sso::ExternalIdentity;
use custodian_app::AppError;
use custodian_domain::account::SESSION_ABSOLUTE;
use custodian_oidc::{Error as OidcError, Flow, FLOW_LIFE_SECS};

use super::accounts::{session_cookie, set_cookie};
use super::wire::{Query, SeeOther};
use crate::auth::{cookie, Anyone, Limited, SignIn, SsoStart, SESSION_COOKIE};

use crate::problem::{ApiResult, Problem};
use crate::AppState;

/// The cookie that carries a sign-in under way.
pub const FLOW_COOKIE: &str = "custodian_oidc";
/// Where the flow cookie is sent.
const FLOW_PATH: &str = "/api/v1/session/oidc";
/// What the flow cookie's value is sealed for.
const FLOW_CONTEXT: &str = "oidc-flow";
/// Where the provider sends the browser back, under the public URL.
pub const CALLBACK_PATH: &str = "/api/v1/session/oidc/callback";

fn flow_cookie(s: &AppState, value: &str, max_age: i64) -> HeaderValue {
    set_cookie(s, FLOW_COOKIE, value, FLOW_PATH, max_age)
}

fn not_configured() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "sso-not-configured",
        "Single sign-on is not configured",
        "single sign-on is not configured here: sign in with POST /api/v1/session",
    )
}

/// The answer to a failed sign-in. What went wrong with the provider (addresses, network
/// errors) goes to the log, not to the browser.
fn oidc_problem(e: OidcError) -> Problem {
    tracing::warn!(error = %e, "single sign-on failed");
    match e {
        OidcError::Config(_) | OidcError::Provider(_) => Problem::new(
            StatusCode::BAD_GATEWAY,
            "sso-provider",
            "Single sign-on failed",
            "the identity provider cannot be reached or answered something unusable: try again later, or ask an admin to look at the server's log",
        ),
        OidcError::Refused(_) => Problem::new(
            StatusCode::FORBIDDEN,
            "sso-refused",
            "Single sign-on failed",
            "the identity provider refused the sign-in (it was cancelled, or is not allowed)",
        ),
        e @ OidcError::Invalid(_) => Problem::new(
            StatusCode::BAD_REQUEST,
            "sso-failed",
            "Single sign-on failed",
            e.to_string(),
        ),
    }
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    // Anything outside visible ASCII is escaped, so the header is always valid.
    let mut safe = String::with_capacity(to.len());
    for c in to.chars() {
        if c.is_ascii_graphic() {
            safe.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                safe.push_str(&format!("%{b:02X}"));
            }
        }
    }
    if let Ok(v) = HeaderValue::from_str(&safe) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// `GET /session/oidc?return_to=/path`: sends the browser to the identity provider.
pub async fn start(
    State(s): State<AppState>,
    _: Anyone,
    _: Limited<SsoStart>,
    _: SignOn,
    q: Query<StartParams>,
) -> ApiResult<SeeOther> {
    let Some(client) = s.sso.clone() else {
        return Err(not_configured());
    };
    let return_to = q.str("return_to").unwrap_or("/");
    let (url, flow) = client.begin(return_to).await.map_err(oidc_problem)?;
    let text = serde_json::to_string(&flow)
        .map_err(|e| AppError::Store(custodian_store::StoreError::Other(e.to_string())))?;
    let sealed = s.app.seal_for_client(&text, FLOW_CONTEXT)?;
    let mut r = redirect(&url);
    r.headers_mut()
        .insert(header::SET_COOKIE, flow_cookie(&s, &sealed, FLOW_LIFE_SECS));
    Ok(SeeOther(r))
}

/// `GET /session/oidc/callback?code&state`: finishes the sign-in, sets the session cookie
/// and sends the browser where it was going.
pub async fn callback(
    State(s): State<AppState>,
    Anyone(ctx): Anyone,
    _: Limited<SignIn>,
    headers: HeaderMap,
    _: SignOn,
    q: Query<CallbackParams, false>,
) -> ApiResult<SeeOther> {
    let Some(client) = s.sso.clone() else {
        return Err(not_configured());
    };
    let answer = finish(&s, &client, &ctx, &headers, &q.0 .0).await;
    let mut r = match answer {
        Ok(r) => r,
        Err(p) => p.into_response(),
    };
    // The flow is spent either way.
    r.headers_mut()
        .append(header::SET_COOKIE, flow_cookie(&s, "", 0));
    Ok(SeeOther(r))
}

/// Where to land after signing in.
#[derive(schemars::JsonSchema)]
pub struct StartParams {
    /// A path on this server (anything else lands on the home page).
    #[schemars(length(min = 1))]
    pub return_to: Option<String>,
}

/// What the identity provider sends back (it may add parameters of its own, such as
/// `iss`).
#[derive(schemars::JsonSchema)]
pub struct CallbackParams {
    /// The authorisation code.
    #[schemars(length(min = 1))]
    pub code: Option<String>,
    /// The sign-in's state.
    #[schemars(length(min = 1))]
    pub state: Option<String>,
    /// The provider's refusal.
    #[schemars(length(min = 1))]
    pub error: Option<String>,
    /// The provider's words on its refusal.
    #[schemars(length(min = 1))]
    pub error_description: Option<String>,
}

/// Declares single sign-on's refusals: 404 when it is not configured, 400 and 403 for a
/// bad or refused sign-in, 502 when the provider cannot be reached.
pub struct SignOn;

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for SignOn {
    type Rejection = Problem;

    async fn from_request_parts(
        _: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Problem> {
        Ok(SignOn)
    }
}

impl aide::OperationInput for SignOn {
    fn operation_input(_: &mut aide::generate::GenContext, op: &mut aide::openapi::Operation) {
        use super::wire::mark_problem;
        mark_problem(
            op,
            400,
            "The provider's answer is malformed, or the sign-in is not this browser's",
        );
        mark_problem(op, 403, "The provider or the register refused the sign-in");
        mark_problem(op, 404, "Single sign-on is not configured");
        mark_problem(op, 502, "The identity provider could not be reached");
    }
}

async fn finish(
    s: &AppState,
    client: &custodian_oidc::Client,
    ctx: &custodian_app::Ctx,
    headers: &HeaderMap,
    q: &std::collections::HashMap<String, String>,
) -> Result<Response, Problem> {
    let flow: Option<Flow> = cookie(headers, FLOW_COOKIE)
        .and_then(|c| s.app.open_from_client(&c, FLOW_CONTEXT))
        .and_then(|t| serde_json::from_str(&t).ok());
    let Some(flow) = flow else {
        return Err(oidc_problem(OidcError::Invalid(
            "this browser has no sign-in under way here (it expired, or was started elsewhere): start again".into(),
        )));
    };
    // An error is believed only from the provider this browser was sent to: with this
    // sign-in's state.
    if let Some(error) = q.get("error") {
        if q.get("state") != Some(&flow.state) {
            return Err(oidc_problem(OidcError::Invalid(
                "the state does not match this browser's sign-in: start again".into(),
            )));
        }
        let why = q.get("error_description").unwrap_or(error);
        return Err(oidc_problem(OidcError::Refused(
            why.chars().take(300).collect(),
        )));
    }
    let (Some(code), Some(state)) = (q.get("code"), q.get("state")) else {
        return Err(Problem::bad_request(
            "code",
            "the provider's answer has no code or state",
        ));
    };
    let identity = client
        .finish(&flow, state, code)
        .await
        .map_err(oidc_problem)?;
    let previous = cookie(headers, SESSION_COOKIE);
    let si = s
        .app
        .sign_in_external(
            ctx,
            ExternalIdentity {
                subject: identity.subject,
                email: identity.person,
                roles: identity.roles,
                mfa: identity.mfa,
            },
            previous.as_deref(),
        )
        .await
        .map_err(Problem::from)?;
    let mut r = redirect(&flow.return_to);
    r.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(s, &si.cookie, SESSION_ABSOLUTE.num_seconds()),
    );
    Ok(r)
}
