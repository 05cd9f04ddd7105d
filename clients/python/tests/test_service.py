"""The Python client against a running service (run by tests/api/clients.rs).

RUN_LEDGER_URL is the service, RUN_LEDGER_KEY an append+read key of tenant
RUN_LEDGER_TENANT, RUN_LEDGER_ADMIN_KEY an admin key. Each check raises on a
difference; the process exits non-zero on the first.
"""

import asyncio
import os
import uuid

from run_ledger_client import AuthenticatedClient
from run_ledger_client.api.commands import create_run, grant, report_facts, retry_failed
from run_ledger_client.api.queries import balance, get_run, list_runs
from run_ledger_client.models import (
    Bucket,
    CreateRunRequest,
    DocumentBody,
    FactsRequest,
    FileBody,
    FileData,
    FileStatus,
    FileUpdatedFact,
    FileUpdatedFactType,
    GrantRequest,
    Problem,
    RunDetail,
    RunPage,
    RunResponse,
    RunCompletedFact,
    RunCompletedFactType,
    RunStartedFact,
    RunStartedFactType,
    RunStatus,
)

URL = os.environ["RUN_LEDGER_URL"]
TENANT = os.environ["RUN_LEDGER_TENANT"]


def client(key: str, actor: str = "ada") -> AuthenticatedClient:
    return AuthenticatedClient(base_url=URL, token=key, headers={"X-Actor-Id": actor})


def sync_round_trip() -> int:
    tenant = client(os.environ["RUN_LEDGER_KEY"])
    admin = client(os.environ["RUN_LEDGER_ADMIN_KEY"])
    granted = grant.sync_detailed(TENANT, client=admin, body=GrantRequest(amount=5, bucket=Bucket.MONTHLY))
    assert granted.status_code == 201, granted.content

    body = CreateRunRequest(
        owner_id="ada",
        document=DocumentBody(name="report.pdf", url="https://blob/report.pdf"),
        files=[FileBody(name="a.pdf"), FileBody(name="b.pdf")],
        stages=["extract", "load"],
    )
    key = str(uuid.uuid4())
    created = create_run.sync_detailed(client=tenant, body=body, idempotency_key=key)
    assert created.status_code == 201, created.content
    assert isinstance(created.parsed, RunResponse)
    run = created.parsed
    assert run.status == RunStatus.QUEUED
    assert run.appended, "the answer names the events it appended"
    again = create_run.sync_detailed(client=tenant, body=body, idempotency_key=key)
    assert again.parsed.run_id == run.run_id, "an Idempotency-Key answers repeats alike"

    # Each fact type has its own model, with its data typed.
    facts = FactsRequest(
        events=[
            RunStartedFact(type_=RunStartedFactType.RUN_STARTED),
            FileUpdatedFact(
                type_=FileUpdatedFactType.RUN_FILE_UPDATED,
                data=FileData(index=0, status=FileStatus.FAILED, error="timeout"),
            ),
            FileUpdatedFact(
                type_=FileUpdatedFactType.RUN_FILE_UPDATED,
                data=FileData(index=1, status=FileStatus.COMPLETED),
            ),
            RunCompletedFact(type_=RunCompletedFactType.RUN_COMPLETED),
        ]
    )
    reported = report_facts.sync_detailed(run.run_id, client=tenant, body=facts)
    assert reported.status_code == 200, reported.content
    position = reported.parsed.global_position

    # Read-your-writes: the query parameter reaches the URL.
    detail = get_run.sync_detailed(run.run_id, client=tenant, min_position=position)
    assert detail.status_code == 200, detail.content
    assert isinstance(detail.parsed, RunDetail)
    assert detail.parsed.status == RunStatus.COMPLETED_WITH_ERRORS
    assert int(detail.headers["x-projection-position"]) >= position

    retried = retry_failed.sync_detailed(run.run_id, client=tenant)
    assert retried.status_code == 200, retried.content
    assert retried.parsed.credits_charged == 1

    after = retried.parsed.global_position
    page = list_runs.sync_detailed(
        client=tenant, owner_id="ada", status=RunStatus.RUNNING, limit=10, min_position=after
    )
    assert isinstance(page.parsed, RunPage)
    assert [r.run_id for r in page.parsed.runs] == [run.run_id], page.content

    missing = get_run.sync_detailed(uuid.uuid4(), client=tenant)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, Problem)
    assert missing.parsed.code == "run_not_found"
    return after


async def async_reads(after: int) -> None:
    tenant = client(os.environ["RUN_LEDGER_KEY"])
    async with tenant as session:
        account, runs = await asyncio.gather(
            balance.asyncio(TENANT, client=session, min_position=after),
            list_runs.asyncio(client=session, limit=5, min_position=after),
        )
    assert account.consumed == 1, account
    assert len(runs.runs) == 1, runs


asyncio.run(async_reads(sync_round_trip()))
print("python client: ok")


def ledger_helpers() -> None:
    """connect(): a retried write applied once, read-your-writes, the worker
    helper, and the follower resuming with Last-Event-ID."""
    import httpx

    from run_ledger_client.ledger import LedgerError, RunWorker, connect, follow_events, last_position, unwrap
    from run_ledger_client.models import RunStageUpdatedEvent, StageStatus

    class Flaky(httpx.BaseTransport):
        """Loses the answer of every other write, after it was applied."""

        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()
            self.calls = 0
            self.keys: set[str] = set()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method != "POST":
                return self.inner.handle_request(request)
            self.calls += 1
            self.keys.add(request.headers.get("idempotency-key", ""))
            response = self.inner.handle_request(request)
            if self.calls == 1:
                response.read()
                raise httpx.ReadError("connection reset", request=request)
            return response

    flaky = Flaky()
    shaky = connect(URL, os.environ["RUN_LEDGER_KEY"], actor_id="ada", transport=flaky)
    body = CreateRunRequest(owner_id="ada", stages=["extract", "load"], files=[FileBody(name="a.pdf")])
    run = unwrap(create_run.sync_detailed(client=shaky, body=body))
    assert flaky.calls == 2 and len(flaky.keys) == 1, (flaky.calls, flaky.keys)

    worker = RunWorker(shaky, run.run_id)
    worker.start()
    worker.stage(1, "completed", output={"pages": 3})
    assert last_position(shaky) > run.global_position
    # No min_position given: the client asks for its own last write.
    detail = unwrap(get_run.sync_detailed(run.run_id, client=shaky))
    assert detail.status == RunStatus.RUNNING, detail.status
    worker.file(0, "failed", error="timeout")
    worker.metrics({"pages": 3, "model": "small"})
    worker.stage(2, "completed")
    try:
        worker.start()
        raise AssertionError("a finished run takes no more progress")
    except LedgerError as error:
        assert error.status == 409 and error.code == "run_terminal", error

    stream = f"run-{run.run_id}"
    seen = []
    for event in follow_events(shaky):
        if event.stream_id == stream:
            seen.append(event.global_position)
        if len(seen) == 2:
            break
    for event in follow_events(shaky, after=seen[-1]):
        if event.stream_id == stream:
            seen.append(event.global_position)
        if isinstance(event, RunStageUpdatedEvent) and event.stream_id == stream:
            assert event.data.status in (StageStatus.COMPLETED, StageStatus.PROCESSING), event.data
        if event.stream_id == stream and event.event_type == "run.completed":
            break
    assert seen == sorted(seen) and len(set(seen)) == len(seen), seen
    final = unwrap(get_run.sync_detailed(run.run_id, client=shaky))
    assert len(seen) == final.version + 1, (seen, final.version)
    assert final.metrics.to_dict() == {"pages": 3, "model": "small"}, final.metrics
    assert final.stages[0].started_at is not None and final.finished_at is not None, final

    # A rerun, its lineage, and the tenant's credit ledger.
    from run_ledger_client.api.commands import rerun
    from run_ledger_client.api.queries import ledger, lineage

    again = unwrap(rerun.sync_detailed(run.run_id, client=shaky))
    assert again.rerun_of == run.run_id, again
    tree = unwrap(lineage.sync_detailed(run.run_id, client=shaky))
    assert tree.run_count == 2, tree
    entries = unwrap(ledger.sync_detailed(TENANT, client=shaky)).entries
    assert {entry.kind.value for entry in entries} >= {"grant", "deduction"}, entries


ledger_helpers()
print("python ledger helpers: ok")
