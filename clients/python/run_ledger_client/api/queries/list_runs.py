from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.problem import Problem
from ...models.run_page import RunPage
from ...models.run_status import RunStatus
from ...types import UNSET, Unset
from typing import cast
from uuid import UUID



def _get_kwargs(
    *,
    project_id: str | Unset = UNSET,
    owner_id: str | Unset = UNSET,
    status: RunStatus | Unset = UNSET,
    rerun_of: UUID | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    min_position: int | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["project_id"] = project_id

    params["owner_id"] = owner_id

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    json_rerun_of: str | Unset = UNSET
    if not isinstance(rerun_of, Unset):
        json_rerun_of = str(rerun_of)
    params["rerun_of"] = json_rerun_of

    params["limit"] = limit

    params["cursor"] = cursor

    params["min_position"] = min_position


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/runs",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | RunPage | None:
    if response.status_code == 200:
        response_200 = RunPage.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())



        return response_403

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())



        return response_408

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | RunPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    project_id: str | Unset = UNSET,
    owner_id: str | Unset = UNSET,
    status: RunStatus | Unset = UNSET,
    rerun_of: UUID | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    min_position: int | Unset = UNSET,

) -> Response[Problem | RunPage]:
    """ List runs, newest first.

    Args:
        project_id (str | Unset):
        owner_id (str | Unset):
        status (RunStatus | Unset): Where a run is in its life.
        rerun_of (UUID | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        min_position (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunPage]
     """


    kwargs = _get_kwargs(
        project_id=project_id,
owner_id=owner_id,
status=status,
rerun_of=rerun_of,
limit=limit,
cursor=cursor,
min_position=min_position,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    project_id: str | Unset = UNSET,
    owner_id: str | Unset = UNSET,
    status: RunStatus | Unset = UNSET,
    rerun_of: UUID | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    min_position: int | Unset = UNSET,

) -> Problem | RunPage | None:
    """ List runs, newest first.

    Args:
        project_id (str | Unset):
        owner_id (str | Unset):
        status (RunStatus | Unset): Where a run is in its life.
        rerun_of (UUID | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        min_position (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunPage
     """


    return sync_detailed(
        client=client,
project_id=project_id,
owner_id=owner_id,
status=status,
rerun_of=rerun_of,
limit=limit,
cursor=cursor,
min_position=min_position,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    project_id: str | Unset = UNSET,
    owner_id: str | Unset = UNSET,
    status: RunStatus | Unset = UNSET,
    rerun_of: UUID | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    min_position: int | Unset = UNSET,

) -> Response[Problem | RunPage]:
    """ List runs, newest first.

    Args:
        project_id (str | Unset):
        owner_id (str | Unset):
        status (RunStatus | Unset): Where a run is in its life.
        rerun_of (UUID | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        min_position (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunPage]
     """


    kwargs = _get_kwargs(
        project_id=project_id,
owner_id=owner_id,
status=status,
rerun_of=rerun_of,
limit=limit,
cursor=cursor,
min_position=min_position,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    project_id: str | Unset = UNSET,
    owner_id: str | Unset = UNSET,
    status: RunStatus | Unset = UNSET,
    rerun_of: UUID | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    min_position: int | Unset = UNSET,

) -> Problem | RunPage | None:
    """ List runs, newest first.

    Args:
        project_id (str | Unset):
        owner_id (str | Unset):
        status (RunStatus | Unset): Where a run is in its life.
        rerun_of (UUID | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        min_position (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunPage
     """


    return (await asyncio_detailed(
        client=client,
project_id=project_id,
owner_id=owner_id,
status=status,
rerun_of=rerun_of,
limit=limit,
cursor=cursor,
min_position=min_position,

    )).parsed
