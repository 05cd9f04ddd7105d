//! The official clients (`clients/typescript`, `clients/python`) are what
//! their generators make of the document the service serves, and work
//! against a running service.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::*;

pub(crate) fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A service with a tenant key and an admin key, as the clients' tests
/// take them from the environment.
async fn service() -> (TestApp, Vec<(&'static str, String)>) {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let environment = vec![
        ("RUN_LEDGER_URL", app.url("")),
        ("RUN_LEDGER_KEY", key),
        ("RUN_LEDGER_TENANT", "acme".to_owned()),
        ("RUN_LEDGER_ADMIN_KEY", ADMIN_KEY.to_owned()),
    ];
    (app, environment)
}

async fn served_document(app: &TestApp, dir: &Path) -> PathBuf {
    let document = app.get("/openapi.json", "").await.body;
    let file = dir.join("openapi.json");
    std::fs::write(&file, serde_json::to_vec(&document).unwrap()).unwrap();
    file
}

/// The files under `dir`, relative, with their contents.
fn tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "__pycache__") {
                    pending.push(path);
                }
            } else {
                files.insert(
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    files
}

/// `clients/typescript`, its dependencies installed.
fn typescript_client() -> PathBuf {
    let client = repository().join("clients/typescript");
    if !client.join("node_modules/.package-lock.json").exists() {
        let installed = Command::new("npm")
            .args(["ci", "--silent", "--no-audit", "--no-fund"])
            .current_dir(&client)
            .status()
            .expect("npm runs");
        assert!(installed.success(), "npm ci in clients/typescript");
    }
    client
}

/// The fenced code blocks of `lang` in a Markdown file.
pub(crate) fn snippets(markdown: &str, lang: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some(fence)) if fence.trim() == lang => current = Some(String::new()),
            (Some(_), Some(_)) => blocks.push(current.take().unwrap()),
            (Some(block), None) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

/// The clients' snippets in docs/clients.md run against a service, as
/// written (the service's URL in place of `https://ledger.example`). The
/// one that needs a browser's `EventSource` is left out.
#[tokio::test]
async fn the_documented_snippets_run_against_the_service() {
    let docs = std::fs::read_to_string(repository().join("docs/clients.md")).unwrap();
    let (_app, environment) = service().await;
    let typescript = typescript_client();
    let dir = typescript.join(".snippets");
    std::fs::create_dir_all(&dir).unwrap();
    let url = "process.env.RUN_LEDGER_URL";
    let mut ran = 0;
    for (index, snippet) in snippets(&docs, "ts").iter().enumerate() {
        if snippet.contains("EventSource") {
            continue;
        }
        let file = dir.join(format!("snippet-{index}.mjs"));
        let program = format!(
            "const apiKey = process.env.RUN_LEDGER_KEY;\n\
             const requestId = globalThis.crypto.randomUUID();\n{}",
            snippet.replace("\"https://ledger.example\"", url)
        );
        std::fs::write(&file, program).unwrap();
        let mut node = Command::new("node");
        node.arg(&file)
            .current_dir(&typescript)
            .envs(environment.clone());
        let output = run_off_runtime(node).await;
        assert!(
            output.status.success(),
            "{snippet}\n{}",
            output_text(&output)
        );
        ran += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    python_packages("httpx", "httpx==0.28.1");
    let packages = python_packages("attrs", "attrs==25.3.0");
    let python_client = repository().join("clients/python");
    for snippet in snippets(&docs, "python") {
        let program = format!(
            "import os, uuid\napi_key = os.environ[\"RUN_LEDGER_KEY\"]\njob_id = str(uuid.uuid4())\n{}",
            snippet.replace("\"https://ledger.example\"", "os.environ[\"RUN_LEDGER_URL\"]")
        );
        let mut python = Command::new("python3");
        python
            .args(["-c", &program])
            .env(
                "PYTHONPATH",
                format!("{}:{}", python_client.display(), packages.display()),
            )
            .envs(environment.clone());
        let output = run_off_runtime(python).await;
        assert!(
            output.status.success(),
            "{snippet}\n{}",
            output_text(&output)
        );
        ran += 1;
    }
    assert!(ran >= 2, "the snippets were found");
}

#[tokio::test]
async fn the_typescript_client_is_the_documents_and_works_against_the_service() {
    let client = typescript_client();
    let (app, environment) = service().await;
    let dir = std::env::temp_dir().join(format!("run-ledger-ts-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let document = served_document(&app, &dir).await;
    let fresh = dir.join("schema.d.ts");
    let generated = Command::new(client.join("node_modules/.bin/openapi-typescript"))
        .arg(&document)
        .arg("-o")
        .arg(&fresh)
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", output_text(&generated));
    assert!(
        std::fs::read(&fresh).unwrap() == std::fs::read(client.join("src/schema.d.ts")).unwrap(),
        "clients/typescript/src/schema.d.ts is not what the document makes: \
         run `npm run generate` in clients/typescript after writing the document \
         (clients/python/generate.sh writes it)"
    );
    let typechecked = Command::new(client.join("node_modules/.bin/tsc"))
        .args(["--noEmit", "-p"])
        .arg(&client)
        .output()
        .unwrap();
    assert!(
        typechecked.status.success(),
        "{}",
        output_text(&typechecked)
    );
    let mut node = Command::new("node");
    node.args(["--test", "test/"])
        .current_dir(&client)
        .envs(environment);
    let tested = run_off_runtime(node).await;
    assert!(tested.status.success(), "{}", output_text(&tested));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_python_client_is_the_documents_and_works_against_the_service() {
    let client = repository().join("clients/python");
    let (app, environment) = service().await;
    let dir = std::env::temp_dir().join(format!("run-ledger-py-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let document = served_document(&app, &dir).await;
    let generated = Command::new("python3")
        .args([
            "-m",
            "openapi_python_client",
            "generate",
            "--meta",
            "uv",
            "--config",
        ])
        .arg(client.join("generator.yaml"))
        .arg("--path")
        .arg(&document)
        .arg("--output-path")
        .arg(dir.join("client"))
        .env(
            "PYTHONPATH",
            python_packages("openapi_python_client", "openapi-python-client==0.29.1"),
        )
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", output_text(&generated));
    let fresh = tree(&dir.join("client/run_ledger_client"));
    let mut committed = tree(&client.join("run_ledger_client"));
    // The one hand-written module (retries, read-your-writes, the
    // follower, the worker helper).
    committed.remove(Path::new("ledger.py"));
    let differing: Vec<&PathBuf> = fresh
        .keys()
        .chain(committed.keys())
        .filter(|path| fresh.get(*path) != committed.get(*path))
        .collect();
    assert!(
        differing.is_empty(),
        "clients/python is not what the document makes (run clients/python/generate.sh): {differing:?}"
    );
    for file in ["pyproject.toml", "README.md"] {
        assert_eq!(
            std::fs::read(dir.join("client").join(file)).unwrap(),
            std::fs::read(client.join(file)).unwrap(),
            "clients/python/{file}"
        );
    }
    python_packages("httpx", "httpx==0.28.1");
    let packages = python_packages("attrs", "attrs==25.3.0");
    let mut python = Command::new("python3");
    python
        .arg(client.join("tests/test_service.py"))
        .env(
            "PYTHONPATH",
            format!("{}:{}", client.display(), packages.display()),
        )
        .envs(environment);
    let tested = run_off_runtime(python).await;
    assert!(tested.status.success(), "{}", output_text(&tested));
    let _ = std::fs::remove_dir_all(&dir);
}
