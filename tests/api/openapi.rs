//! The OpenAPI document covers every route.

use crate::helpers::*;

const ROUTES: [(&str, &str); 25] = [
    ("get", "/v1/runs/{run_id}/events"),
    ("get", "/v1/runs/{run_id}/state"),
    ("get", "/v1/events"),
    ("get", "/v1/audit/verify"),
    ("get", "/v1/audit/checkpoints"),
    ("post", "/v1/projections/{name}/rebuild"),
    ("get", "/metrics"),
    ("get", "/v1/runs/{run_id}/watch"),
    ("get", "/v1/events/stream"),
    ("get", "/v1/runs"),
    ("get", "/v1/runs/{run_id}"),
    ("get", "/v1/runs/{run_id}/lineage"),
    ("get", "/v1/projects/{project_id}/runs/latest"),
    ("get", "/v1/accounts/{tenant_id}/balance"),
    ("get", "/v1/accounts/{tenant_id}/ledger"),
    ("get", "/v1/projections"),
    ("post", "/v1/runs"),
    ("post", "/v1/runs/{run_id}/rerun"),
    ("post", "/v1/runs/{run_id}/retry-failed"),
    ("post", "/v1/runs/{run_id}/retry"),
    ("post", "/v1/runs/{run_id}/events"),
    ("post", "/v1/accounts/{tenant_id}/grants"),
    ("post", "/v1/keys"),
    ("get", "/healthz"),
    ("get", "/readyz"),
];

#[tokio::test]
async fn openapi_json_is_openapi_3_1_and_lists_every_route() {
    let app = spawn_app().await;
    let reply = app.send(app.client.get(app.url("/openapi.json"))).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body["openapi"].as_str().unwrap().starts_with("3.1"));
    for (method, path) in ROUTES {
        assert!(
            reply.body["paths"][path][method].is_object(),
            "{method} {path} missing from /openapi.json"
        );
        // And the route is served (not a 404 route_not_found).
        let concrete = path
            .replace("{run_id}", &uuid::Uuid::new_v4().to_string())
            .replace("{tenant_id}", "acme")
            .replace("{project_id}", "p1")
            .replace("{name}", "nope");
        let request = app
            .client
            .request(method.to_uppercase().parse().unwrap(), app.url(&concrete));
        let served = app.send(request).await;
        assert_ne!(served.code(), "route_not_found", "{method} {path}");
    }
    assert!(reply.body["components"]["schemas"]["Problem"].is_object());
}
