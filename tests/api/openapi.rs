//! The OpenAPI document: valid by an independent validator, and made from
//! the router's own routes (`ledger_api::router` registers each route with
//! the handler that documents it), each of which is served.

use crate::helpers::*;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> serde_json::Value {
    let reply = app.send(app.client.get(app.url("/openapi.json"))).await;
    assert_eq!(reply.status, 200);
    reply.body
}

#[tokio::test]
async fn openapi_json_is_openapi_3_1_and_every_operation_in_it_is_served() {
    let app = spawn_app().await;
    let document = document(&app).await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in METHODS.iter().filter(|method| item[**method].is_object()) {
            operations += 1;
            let concrete = path
                .replace("{run_id}", &uuid::Uuid::new_v4().to_string())
                .replace("{key_id}", &uuid::Uuid::new_v4().to_string())
                .replace("{tenant_id}", "acme")
                .replace("{project_id}", "p1")
                .replace("{name}", "nope");
            assert!(
                !concrete.contains('{'),
                "a path parameter this test does not know: {path}"
            );
            let request = app
                .client
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete));
            let served = app.send(request).await;
            assert_ne!(served.code(), "route_not_found", "{method} {path}");
            assert_ne!(served.code(), "method_not_allowed", "{method} {path}");
        }
    }
    assert!(operations >= 25, "{operations} operations");
    assert!(document["components"]["schemas"]["Problem"].is_object());
}

/// Issue 13's first finding: every query parameter was declared `in: path`.
#[tokio::test]
async fn parameters_are_where_the_server_reads_them() {
    let app = spawn_app().await;
    let document = document(&app).await;
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in METHODS.iter().filter(|method| item[**method].is_object()) {
            for parameter in item[*method]["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                let declared = parameter["in"].as_str().unwrap();
                match declared {
                    "path" => assert!(in_path, "{method} {path}: {name} is not in the path"),
                    "query" => assert!(!in_path, "{method} {path}: {name} is in the path"),
                    "header" => {}
                    other => panic!("{method} {path}: {name} in {other}"),
                }
            }
        }
    }
    let runs = &document["paths"]["/v1/runs/{run_id}"]["get"]["parameters"];
    let min_position = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "min_position")
        .expect("GET /v1/runs/{run_id} takes min_position");
    assert_eq!(min_position["in"], "query");
    assert_ne!(min_position["required"], true);
}

/// openapi-spec-validator, the reference validator of OpenAPI documents,
/// accepts the document.
#[tokio::test]
async fn openapi_spec_validator_accepts_the_document() {
    let app = spawn_app().await;
    let document = document(&app).await;
    let file =
        std::env::temp_dir().join(format!("run-ledger-openapi-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, serde_json::to_vec(&document).unwrap()).unwrap();
    let checked = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .env(
            "PYTHONPATH",
            python_packages("openapi_spec_validator", "openapi-spec-validator==0.9.0"),
        )
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// The operations of the document, as `METHOD path`.
fn operations(document: &serde_json::Value) -> Vec<String> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                operations.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    operations
}

/// The generators new users reach for make a client of every operation,
/// with no warning: openapi-python-client (one module per operation) and
/// openapi-typescript (types that TypeScript's compiler accepts, strict).
#[tokio::test]
async fn client_generators_make_every_operation_without_a_warning() {
    let app = spawn_app().await;
    let document = document(&app).await;
    let dir = std::env::temp_dir().join(format!("run-ledger-clients-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("openapi.json");
    std::fs::write(&file, serde_json::to_vec(&document).unwrap()).unwrap();
    let operations = operations(&document);

    // No formatter runs after generating: the machine need not have ruff.
    let config = dir.join("generator.yaml");
    std::fs::write(&config, "post_hooks: []\n").unwrap();
    let python = std::process::Command::new("python3")
        .args([
            "-m",
            "openapi_python_client",
            "generate",
            "--meta",
            "none",
            "--config",
        ])
        .arg(&config)
        .arg("--path")
        .arg(&file)
        .arg("--output-path")
        .arg(dir.join("python"))
        .env(
            "PYTHONPATH",
            python_packages("openapi_python_client", "openapi-python-client==0.29.1"),
        )
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&python.stdout),
        String::from_utf8_lossy(&python.stderr)
    );
    assert!(python.status.success(), "{said}");
    assert!(!said.to_lowercase().contains("warning"), "{said}");
    let mut modules = 0;
    let mut pending = vec![dir.join("python")];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.components().any(|c| c.as_os_str() == "api")
                && path.extension().is_some_and(|e| e == "py")
                && path.file_name().is_some_and(|n| n != "__init__.py")
            {
                modules += 1;
            }
        }
    }
    assert_eq!(
        modules,
        operations.len(),
        "a module per operation: {operations:?}"
    );

    let node = node_packages(&["openapi-typescript@7.13.0", "typescript@5.9.3"]);
    let bin = node.join("node_modules").join(".bin");
    let types = dir.join("schema.d.ts");
    let typescript = std::process::Command::new(bin.join("openapi-typescript"))
        .arg(&file)
        .arg("-o")
        .arg(&types)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&typescript.stderr).into_owned();
    assert!(typescript.status.success(), "{said}");
    assert!(!said.to_lowercase().contains("warn"), "{said}");
    let generated = std::fs::read_to_string(&types).unwrap();
    for path in document["paths"].as_object().unwrap().keys() {
        assert!(
            generated.contains(&format!("\"{path}\"")),
            "{path} has types"
        );
    }
    let compiled = std::process::Command::new(bin.join("tsc"))
        .args(["--noEmit", "--strict"])
        .arg(&types)
        .output()
        .unwrap();
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes the served document for the generator tests, where they find it.
#[tokio::test]
#[ignore = "a tool for developers: writes target/openapi.json"]
async fn write_the_document() {
    let app = spawn_app().await;
    let document = document(&app).await;
    std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi.json"),
        serde_json::to_vec_pretty(&document).unwrap(),
    )
    .unwrap();
}

/// The request examples are real requests: each is sent as the document
/// shows it, in the order a new user would (a key, credits, a run, its
/// facts), and the service takes it.
#[tokio::test]
async fn every_request_example_is_accepted_by_the_service() {
    let app = spawn_app().await;
    let document = document(&app).await;
    let example = |schema: &str| {
        let example = document["components"]["schemas"][schema]["example"].clone();
        assert!(example.is_object(), "{schema} has an example");
        example
    };
    let key = app
        .post("/v1/keys", ADMIN_KEY, example("CreateKeyRequest"))
        .await;
    assert_eq!(key.status, 201, "{}", key.text);
    let tenant_key = key.body["key"].as_str().unwrap().to_owned();
    let grant = app
        .post(
            "/v1/accounts/acme/grants",
            ADMIN_KEY,
            example("GrantRequest"),
        )
        .await;
    assert_eq!(grant.status, 201, "{}", grant.text);
    let created = app
        .post("/v1/runs", &tenant_key, example("CreateRunRequest"))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let run_id = created.body["run_id"].as_str().unwrap();
    let facts = app
        .post(
            &format!("/v1/runs/{run_id}/events"),
            &tenant_key,
            example("FactsRequest"),
        )
        .await;
    assert_eq!(facts.status, 200, "{}", facts.text);
    assert_eq!(facts.body["run"]["status"], "running");
    assert_eq!(facts.body["run"]["stages"][0]["status"], "completed");
}
