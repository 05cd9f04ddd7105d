from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.facts_request import FactsRequest
from ...models.facts_response import FactsResponse
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast
from uuid import UUID



def _get_kwargs(
    run_id: UUID,
    *,
    body: FactsRequest,
    idempotency_key: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/runs/{run_id}/events".format(run_id=quote(str(run_id), safe=""),),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> FactsResponse | Problem | None:
    if response.status_code == 200:
        response_200 = FactsResponse.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())



        return response_401

    if response.status_code == 402:
        response_402 = Problem.from_dict(response.json())



        return response_402

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())



        return response_404

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())



        return response_408

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())



        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())



        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())



        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())



        return response_429

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())



        return response_500

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[FactsResponse | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    run_id: UUID,
    *,
    client: AuthenticatedClient,
    body: FactsRequest,
    idempotency_key: str | Unset = UNSET,

) -> Response[FactsResponse | Problem]:
    """ Report what happened to a run; derived events (completion, failure) are
    appended with the facts, atomically.

    Args:
        run_id (UUID):
        idempotency_key (str | Unset):
        body (FactsRequest): `POST /v1/runs/{id}/events`. Example: {'events': [{'type':
            'run.started'}, {'data': {'stage': 1, 'status': 'processing'}, 'type':
            'run.stage_updated'}, {'data': {'index': 0, 'status': 'completed'}, 'type':
            'run.file_updated'}, {'data': {'output': '## Extracted\\n2 pages', 'stage': 1, 'status':
            'completed'}, 'type': 'run.stage_updated'}], 'expected_version': 0}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FactsResponse | Problem]
     """


    kwargs = _get_kwargs(
        run_id=run_id,
body=body,
idempotency_key=idempotency_key,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    run_id: UUID,
    *,
    client: AuthenticatedClient,
    body: FactsRequest,
    idempotency_key: str | Unset = UNSET,

) -> FactsResponse | Problem | None:
    """ Report what happened to a run; derived events (completion, failure) are
    appended with the facts, atomically.

    Args:
        run_id (UUID):
        idempotency_key (str | Unset):
        body (FactsRequest): `POST /v1/runs/{id}/events`. Example: {'events': [{'type':
            'run.started'}, {'data': {'stage': 1, 'status': 'processing'}, 'type':
            'run.stage_updated'}, {'data': {'index': 0, 'status': 'completed'}, 'type':
            'run.file_updated'}, {'data': {'output': '## Extracted\\n2 pages', 'stage': 1, 'status':
            'completed'}, 'type': 'run.stage_updated'}], 'expected_version': 0}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FactsResponse | Problem
     """


    return sync_detailed(
        run_id=run_id,
client=client,
body=body,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    run_id: UUID,
    *,
    client: AuthenticatedClient,
    body: FactsRequest,
    idempotency_key: str | Unset = UNSET,

) -> Response[FactsResponse | Problem]:
    """ Report what happened to a run; derived events (completion, failure) are
    appended with the facts, atomically.

    Args:
        run_id (UUID):
        idempotency_key (str | Unset):
        body (FactsRequest): `POST /v1/runs/{id}/events`. Example: {'events': [{'type':
            'run.started'}, {'data': {'stage': 1, 'status': 'processing'}, 'type':
            'run.stage_updated'}, {'data': {'index': 0, 'status': 'completed'}, 'type':
            'run.file_updated'}, {'data': {'output': '## Extracted\\n2 pages', 'stage': 1, 'status':
            'completed'}, 'type': 'run.stage_updated'}], 'expected_version': 0}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FactsResponse | Problem]
     """


    kwargs = _get_kwargs(
        run_id=run_id,
body=body,
idempotency_key=idempotency_key,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    run_id: UUID,
    *,
    client: AuthenticatedClient,
    body: FactsRequest,
    idempotency_key: str | Unset = UNSET,

) -> FactsResponse | Problem | None:
    """ Report what happened to a run; derived events (completion, failure) are
    appended with the facts, atomically.

    Args:
        run_id (UUID):
        idempotency_key (str | Unset):
        body (FactsRequest): `POST /v1/runs/{id}/events`. Example: {'events': [{'type':
            'run.started'}, {'data': {'stage': 1, 'status': 'processing'}, 'type':
            'run.stage_updated'}, {'data': {'index': 0, 'status': 'completed'}, 'type':
            'run.file_updated'}, {'data': {'output': '## Extracted\\n2 pages', 'stage': 1, 'status':
            'completed'}, 'type': 'run.stage_updated'}], 'expected_version': 0}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FactsResponse | Problem
     """


    return (await asyncio_detailed(
        run_id=run_id,
client=client,
body=body,
idempotency_key=idempotency_key,

    )).parsed
