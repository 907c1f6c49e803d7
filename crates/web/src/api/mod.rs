//! The REST API under `/api/v1`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use custodian_store::Page;

use crate::AppState;

pub mod accounts;
pub mod assets;
pub mod audit;
pub mod cases;
pub mod parties;
pub mod reference;
pub mod sso;
pub mod stocktakes;
pub mod workflows;

/// Every API route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets", get(assets::list).post(assets::create))
        .route("/assets/bulk", post(assets::bulk))
        .route("/assets/{id}", get(assets::get).patch(assets::update))
        .route("/assets/{id}/transitions", post(assets::transition))
        .route("/assets/{id}/history", get(assets::history))
        .route("/assets/{id}/reveal", post(assets::reveal))
        .route("/assets/{id}/incident", post(assets::incident))
        .route(
            "/assets/{id}/relations",
            get(assets::relations).post(assets::link),
        )
        .route(
            "/assets/{id}/relations/{relation_id}",
            axum::routing::delete(assets::unlink),
        )
        .route("/parties", get(parties::list).post(parties::create))
        .route("/parties/{id}", get(parties::get).patch(parties::update))
        .route(
            "/delegations",
            get(parties::list_delegations).post(parties::create_delegation),
        )
        .route("/delegations/{id}", get(parties::get_delegation))
        .route("/delegations/{id}/end", post(parties::end_delegation))
        .route(
            "/locations",
            get(reference::list_locations).post(reference::create_location),
        )
        .route(
            "/locations/{id}",
            get(reference::get_location).patch(reference::update_location),
        )
        .route(
            "/classifications",
            get(reference::list_classifications).post(reference::create_classification),
        )
        .route(
            "/classifications/{key}",
            get(reference::get_classification)
                .patch(reference::update_classification)
                .delete(reference::delete_classification),
        )
        .route(
            "/custom_fields",
            get(reference::list_custom_fields).post(reference::create_custom_field),
        )
        .route(
            "/custom_fields/{id}",
            get(reference::get_custom_field)
                .patch(reference::update_custom_field)
                .delete(reference::delete_custom_field),
        )
        .route(
            "/session",
            get(accounts::me)
                .post(accounts::sign_in)
                .delete(accounts::sign_out),
        )
        .route("/session/oidc", get(sso::start))
        .route("/session/oidc/callback", get(sso::callback))
        .route("/session/password", post(accounts::change_password))
        .route("/reviews", post(assets::review))
        .route("/session/totp", post(accounts::enrol_totp))
        .route("/session/totp/confirm", post(accounts::confirm_totp))
        .route(
            "/settings/security",
            get(accounts::security_settings).patch(accounts::update_security_settings),
        )
        .route("/setup", post(accounts::bootstrap))
        .route("/setup/{token}", post(accounts::complete_setup))
        .route(
            "/users",
            get(accounts::list_users).post(accounts::create_user),
        )
        .route(
            "/users/{id}",
            get(accounts::get_user).patch(accounts::update_user),
        )
        .route(
            "/users/{id}/sessions",
            axum::routing::delete(accounts::end_sessions),
        )
        .route(
            "/users/{id}/totp",
            axum::routing::delete(accounts::reset_totp),
        )
        .route(
            "/tokens",
            get(accounts::list_tokens).post(accounts::create_token),
        )
        .route(
            "/tokens/{id}",
            axum::routing::delete(accounts::revoke_token),
        )
        .route(
            "/policies",
            get(workflows::list_policies).post(workflows::create_policy),
        )
        .route(
            "/policies/{id}",
            get(workflows::get_policy).patch(workflows::update_policy),
        )
        .route("/policies/{id}/approve", post(workflows::approve_policy))
        .route(
            "/acknowledgements",
            get(workflows::list_acknowledgements).post(workflows::acknowledge),
        )
        .route(
            "/acknowledgements/bulk",
            post(workflows::import_acknowledgements),
        )
        .route(
            "/assignments",
            get(workflows::list_assignments).post(workflows::issue),
        )
        .route("/assignments/{id}", get(workflows::get_assignment))
        .route(
            "/assignments/{id}/return",
            post(workflows::return_assignment),
        )
        .route(
            "/exceptions",
            get(workflows::list_exceptions).post(workflows::request_exception),
        )
        .route("/exceptions/{id}", get(workflows::get_exception))
        .route(
            "/exceptions/{id}/approve",
            post(workflows::approve_exception),
        )
        .route("/exceptions/{id}/reject", post(workflows::reject_exception))
        .route("/exceptions/{id}/revoke", post(workflows::revoke_exception))
        .route(
            "/offboardings",
            get(cases::list_offboardings).post(cases::open_offboarding),
        )
        .route(
            "/offboardings/{id}",
            get(cases::get_offboarding).patch(cases::update_offboarding),
        )
        .route(
            "/offboardings/{id}/refresh",
            post(cases::refresh_offboarding),
        )
        .route(
            "/offboardings/{id}/items/{item_id}/settle",
            post(cases::settle_item),
        )
        .route("/offboardings/{id}/close", post(cases::close_offboarding))
        .route(
            "/attestations",
            get(cases::list_attestations).post(cases::open_attestation),
        )
        .route("/attestations/{id}", get(cases::get_attestation))
        .route(
            "/attestations/{id}/answers",
            post(cases::answer_attestation),
        )
        .route("/attestations/{id}/close", post(cases::close_attestation))
        .route(
            "/settings/policy",
            get(workflows::rule_settings).patch(workflows::update_rule_settings),
        )
        .merge(stocktakes::routes())
        .route("/audit", get(audit::events))
        .route("/audit/verify", get(audit::verify))
        .route(
            "/openapi.json",
            get(|| async { Json(crate::openapi::document()) }),
        )
}

/// A single resource with its `ETag`.
pub fn one(version: i64, body: Value) -> Response {
    let mut r = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// 201 Created with `Location` and `ETag`.
pub fn created(location: String, version: i64, body: Value) -> Response {
    let mut r = one(version, body);
    *r.status_mut() = StatusCode::CREATED;
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// A page of a list: `{"items": […], "next_cursor": …}`.
pub fn page<T>(p: Page<T>, f: impl Fn(&T) -> Value) -> Response {
    Json(json!({"items": p.items.iter().map(f).collect::<Vec<_>>(), "next_cursor": p.next_cursor.map(|c| c.encode())})).into_response()
}

/// Serialises a record.
pub fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}
