//! `/api/v1/session`, `/api/v1/setup`, `/api/v1/users` and `/api/v1/tokens`.

use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use custodian_app::accounts::{raw_text, SignedIn};
use custodian_app::AppError;
use custodian_domain::account::SESSION_ABSOLUTE;

use super::{created, one, page};
use crate::auth::{
    cookie, Limited, Password, SessionCookie, Setup, SignIn, Tokens, Totp, SESSION_COOKIE,
};
use crate::extract::{Anyone, Caller, IfMatch, JsonObject, Params, RecordId};
use crate::problem::ApiResult;
use crate::AppState;

/// A required field taken exactly as sent.
fn text(body: &Map<String, Value>, k: &str) -> Result<String, AppError> {
    match body.get(k) {
        None | Some(Value::Null) => Err(AppError::invalid(k, "is required")),
        Some(v) => raw_text(v).map_err(|m| AppError::invalid(k, m)),
    }
}

/// A `Set-Cookie` value: HttpOnly, `SameSite=Lax` (a provider's redirect back is a
/// top-level navigation from another site), `Secure` behind HTTPS.
pub(crate) fn set_cookie(
    s: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
) -> HeaderValue {
    let secure = if s.app.settings().https() {
        "; Secure"
    } else {
        ""
    };
    let v =
        format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static(""))
}

pub(crate) fn session_cookie(s: &AppState, value: &str, max_age: i64) -> HeaderValue {
    set_cookie(s, SESSION_COOKIE, value, "/", max_age)
}

fn signed_in_json(si: &SignedIn) -> Value {
    json!({
        "user": si.user.to_json(),
        "csrf_token": si.session.csrf_token,
        "expires_at": custodian_domain::value::format_timestamp(&(si.session.created_at + SESSION_ABSOLUTE)),
    })
}

/// `POST /session`: signs in with `{email, password}`; sets the session cookie.
pub async fn sign_in(
    State(s): State<AppState>,
    Anyone(ctx): Anyone,
    _: Limited<SignIn>,
    headers: axum::http::HeaderMap,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let mut r = custodian_domain::input::Input::new(&body);
    r.reject_unknown(&["email", "password", "totp"], &[], "a sign-in");
    let email = r.required("email", raw_text);
    let password = r.required("password", raw_text);
    let totp = r.optional("totp", raw_text).flatten();
    let (Some(email), Some(password)) = (email, password) else {
        return Err(AppError::Invalid(r.problems).into());
    };
    if !r.problems.is_empty() {
        return Err(AppError::Invalid(r.problems).into());
    }
    let previous = cookie(&headers, SESSION_COOKIE);
    let si = s
        .app
        .sign_in(
            &ctx,
            &email,
            &password,
            totp.as_deref(),
            previous.as_deref(),
        )
        .await?;
    let mut r = (StatusCode::CREATED, Json(signed_in_json(&si))).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&s, &si.cookie, SESSION_ABSOLUTE.num_seconds()),
    );
    Ok(r)
}

/// `GET /session`: who is signed in, and the CSRF token for their unsafe requests.
pub async fn me(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    session: Option<Extension<SessionCookie>>,
) -> ApiResult<Response> {
    let user = s.app.me(&ctx).await?;
    let csrf = session.map(|Extension(c)| c.csrf);
    let via = ctx.principal().map(|p| match p.via {
        custodian_domain::access::Via::Token(_) => "token",
        _ => "session",
    });
    Ok(Json(json!({"user": user.to_json(), "via": via, "scope": ctx.principal().map(|p| p.scope), "csrf_token": csrf})).into_response())
}

/// `DELETE /session`: signs out.
pub async fn sign_out(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    session: Option<Extension<SessionCookie>>,
) -> ApiResult<Response> {
    let Some(Extension(c)) = session else {
        return Err(
            AppError::invalid("", "this request was not made with a session cookie").into(),
        );
    };
    s.app.sign_out(&ctx, &c.cookie).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&s, "", 0));
    Ok(r)
}

/// `POST /session/password`: `{current_password, new_password}`; ends every session.
pub async fn change_password(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    _: Limited<Password>,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    // Authorise before reading the body, so that a refusal says nothing about it.
    s.app.may_change_password(&ctx).await?;
    let current = text(&body, "current_password")?;
    let new = text(&body, "new_password")?;
    s.app.change_password(&ctx, &current, &new).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&s, "", 0));
    Ok(r)
}

/// `POST /setup`: the first admin, through the link printed on first start.
pub async fn bootstrap(
    State(s): State<AppState>,
    Anyone(ctx): Anyone,
    _: Limited<Setup>,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let user = s.app.bootstrap(&ctx, &body).await?;
    Ok(created(
        format!("/api/v1/users/{}", user.id),
        user.version,
        user.to_json(),
    ))
}

/// `POST /setup/{token}`: sets a new account's password through its one-time link.
pub async fn complete_setup(
    State(s): State<AppState>,
    Anyone(ctx): Anyone,
    _: Limited<Setup>,
    Path(token): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let password = text(&body, "password")?;
    let user = s.app.complete_setup(&ctx, &token, &password).await?;
    Ok(one(user.version, user.to_json()))
}

pub async fn list_users(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["limit", "cursor"])?;
    Ok(page(
        s.app.list_users(&ctx, p.limit()?, p.cursor()?).await?,
        |u| u.to_json(),
    ))
}

/// `POST /users`: the account and its one-time setup link.
pub async fn create_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: axum::http::HeaderMap,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let (user, setup) = s.app.create_user(&ctx, body).await?;
    let mut v = user.to_json();
    v["setup_url"] = json!(crate::ui::accounts::setup_link(&s, &headers, &setup));
    Ok(created(
        format!("/api/v1/users/{}", user.id),
        user.version,
        v,
    ))
}

pub async fn get_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let u = s.app.get_user(&ctx, id).await?;
    Ok(one(u.version, u.to_json()))
}

pub async fn update_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(v): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let u = s.app.update_user(&ctx, id, body, v).await?;
    Ok(one(u.version, u.to_json()))
}

/// `DELETE /users/{id}/sessions`: signs the user out everywhere.
pub async fn end_sessions(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    s.app.end_sessions(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn list_tokens(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["user_id"])?;
    let tokens = s.app.list_tokens(&ctx, p.id("user_id")?).await?;
    Ok(Json(json!({"items": tokens.iter().map(|t| t.to_json()).collect::<Vec<_>>(), "next_cursor": null})).into_response())
}

/// `POST /tokens`: the token's secret is in this answer only.
pub async fn create_token(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    _: Limited<Tokens>,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let issued = s.app.create_token(&ctx, body).await?;
    let mut v = issued.token.to_json();
    v["token"] = json!(issued.secret);
    let mut r = (StatusCode::CREATED, Json(v)).into_response();
    if let Ok(l) = HeaderValue::from_str(&format!("/api/v1/tokens/{}", issued.token.id)) {
        r.headers_mut().insert(header::LOCATION, l);
    }
    Ok(r)
}

/// `DELETE /tokens/{id}`: revokes a token.
pub async fn revoke_token(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let t = s.app.revoke_token(&ctx, id).await?;
    Ok(Json(t.to_json()).into_response())
}

/// `POST /session/totp`: starts enrolling a second factor.
pub async fn enrol_totp(State(s): State<AppState>, Caller(ctx): Caller) -> ApiResult<Response> {
    let e = s.app.enrol_totp(&ctx).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"secret": e.secret, "otpauth_uri": e.uri})),
    )
        .into_response())
}

/// `POST /session/totp/confirm`: `{code}` from the authenticator app turns it on.
pub async fn confirm_totp(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    _: Limited<Totp>,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let code = body.get("code").and_then(Value::as_str);
    let u = s.app.confirm_totp(&ctx, code).await?;
    Ok(one(u.version, u.to_json()))
}

/// `DELETE /users/{id}/totp`: removes a user's second factor (a lost device).
pub async fn reset_totp(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let u = s.app.reset_totp(&ctx, id).await?;
    Ok(one(u.version, u.to_json()))
}

/// `GET /settings/security`.
pub async fn security_settings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(Json(s.app.security_settings(&ctx).await?).into_response())
}

/// `PATCH /settings/security`: `{"require_totp_for_admins": bool}`.
pub async fn update_security_settings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    Ok(Json(s.app.update_security_settings(&ctx, &body).await?).into_response())
}
