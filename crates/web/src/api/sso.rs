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
use crate::auth::{cookie, Anyone, Limited, SignIn, SsoStart, SESSION_COOKIE};
use crate::extract::Params;
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
    Params(q): Params,
) -> ApiResult<Response> {
    let Some(client) = s.sso.clone() else {
        return Ok(not_configured().into_response());
    };
    let return_to = q.get("return_to").map(String::as_str).unwrap_or("/");
    let (url, flow) = match client.begin(return_to).await {
        Ok(x) => x,
        Err(e) => return Ok(oidc_problem(e).into_response()),
    };
    let text = serde_json::to_string(&flow)
        .map_err(|e| AppError::Store(custodian_store::StoreError::Other(e.to_string())))?;
    let sealed = s.app.seal_for_client(&text, FLOW_CONTEXT)?;
    let mut r = redirect(&url);
    r.headers_mut()
        .insert(header::SET_COOKIE, flow_cookie(&s, &sealed, FLOW_LIFE_SECS));
    Ok(r)
}

/// `GET /session/oidc/callback?code&state`: finishes the sign-in, sets the session cookie
/// and sends the browser where it was going.
pub async fn callback(
    State(s): State<AppState>,
    Anyone(ctx): Anyone,
    _: Limited<SignIn>,
    headers: HeaderMap,
    Params(q): Params,
) -> ApiResult<Response> {
    let Some(client) = s.sso.clone() else {
        return Ok(not_configured().into_response());
    };
    let answer = finish(&s, &client, &ctx, &headers, &q).await;
    let mut r = match answer {
        Ok(r) => r,
        Err(p) => p.into_response(),
    };
    // The flow is spent either way.
    r.headers_mut()
        .append(header::SET_COOKIE, flow_cookie(&s, "", 0));
    Ok(r)
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
