"""The community dashboard's page at ``/dashboard/`` (static files from
`gridledger.dashboard`) and the simulation results a node was given with
``gridledger node --results DIR``. Its read-only aggregates are `api.routes.dashboard`.

Results are served read-only. A run is a folder directly under DIR holding a
``kpis.json`` (what ``gridledger simulate SCENARIO --out DIR/NAME`` writes); its files are
served only when the resolved path stays inside the run's folder and has a known type, so
``..``, absolute paths and symbolic links out of DIR are a 4xx, never a file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi import Path as PathParameter
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from gridledger.api.auth import caller_of
from gridledger.api.errors import ApiError
from gridledger.api.openapi import errors
from gridledger.dashboard import STATIC_DIR
from gridledger.node.access import check_member

RUN_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
SERVED_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}
MAX_LISTED_FILES = 500
RUN_PATH = PathParameter(
    description="A run's folder name",
    json_schema_extra={"pattern": RUN_NAME.pattern, "minLength": 1, "maxLength": 128},
)


def results_dir_of(request: Request) -> Path:
    """The results folder the node serves, or a 404 saying how to give it one."""
    directory: Path | None = getattr(request.app.state, "results_dir", None)
    if directory is None:
        raise ApiError(
            404,
            "no_results",
            "this node serves no simulation results; start it with `gridledger node --results DIR`",
        )
    if not directory.is_dir():
        raise ApiError(404, "no_results", f"the results folder {directory} does not exist")
    return directory


def run_dir(results: Path, name: str) -> Path:
    """The resolved folder of the run called `name`.

    400 for a name that is not a plain folder name; 404 when there is no such run, or when
    the folder or its ``kpis.json`` resolves (through a symbolic link) outside the results
    folder, saying so.
    """
    if not RUN_NAME.match(name) or ".." in name:
        raise ApiError(400, "invalid_request", f"run: {name!r} is not a run name", field="run")
    if not (results / name / "kpis.json").is_file():
        raise ApiError(404, "not_found", f"no run {name!r} (a folder with a kpis.json)")
    folder = _resolved_run(results, name)
    if folder is None:
        raise ApiError(
            404,
            "not_found",
            f"run {name!r} links outside the results folder and is not served",
        )
    return folder


def _resolved_inside(path: Path, root: Path) -> Path | None:
    """`path` with every link resolved, or None when it does not exist or leaves `root`
    (itself resolved)."""
    try:
        resolved = path.resolve(strict=True)
        resolved.relative_to(root.resolve(strict=True))
    except (OSError, RuntimeError, ValueError):
        return None
    return resolved


def _resolved_run(results: Path, name: str) -> Path | None:
    """The run's resolved folder when both it and its ``kpis.json`` stay inside `results`."""
    folder = _resolved_inside(results / name, results)
    if folder is None or not folder.is_dir():
        return None
    kpis = _resolved_inside(folder / "kpis.json", results)
    if kpis is None or not kpis.is_file():
        return None
    return folder


def _kpis(folder: Path) -> Any:
    try:
        return json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return {"error": f"kpis.json is unreadable: {error}"}


def _files(folder: Path) -> list[str]:
    """The servable files of a run (relative POSIX paths), the community chain and files
    that resolve outside the run's (resolved) folder excluded."""
    found: list[str] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] == "community" or not path.is_file():
            continue
        if path.suffix.lower() in SERVED_TYPES and _resolved_inside(path, folder) is not None:
            found.append(relative.as_posix())
            if len(found) >= MAX_LISTED_FILES:
                break
    return found


def runs_view(results: Path) -> dict[str, Any]:
    runs = []
    for entry in sorted(results.iterdir()):
        if not RUN_NAME.match(entry.name):
            continue
        folder = _resolved_run(results, entry.name)
        if folder is not None:
            runs.append({"name": entry.name, "kpis": _kpis(folder)})
    return {"runs": runs}


def run_view(results: Path, name: str) -> dict[str, Any]:
    folder = run_dir(results, name)
    files = _files(folder)
    return {
        "name": name,
        "kpis": _kpis(folder),
        "plots": [f for f in files if f.lower().endswith((".png", ".svg"))],
        "tables": [f for f in files if f.lower().endswith(".csv")],
        "report": "report.html" if "report.html" in files else None,
        "files": files,
    }


def run_file(results: Path, name: str, relative: str) -> FileResponse:
    folder = run_dir(results, name)
    parts = relative.split("/")
    if (
        not relative
        or relative.startswith("/")
        or "\\" in relative
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise ApiError(400, "invalid_request", f"path: {relative!r} is not a file of the run")
    path = folder / relative
    media_type = SERVED_TYPES.get(path.suffix.lower())
    if media_type is None:
        raise ApiError(
            400, "invalid_request", f"path: {path.suffix or 'no suffix'} files are not served"
        )
    if parts[0] == "community" or not path.is_file():
        raise ApiError(404, "not_found", f"run {name!r} has no file {relative!r}")
    resolved = _resolved_inside(path, folder)
    if resolved is None:
        raise ApiError(
            404,
            "not_found",
            f"file {relative!r} of run {name!r} links outside the run's folder and is not served",
        )
    return FileResponse(resolved, media_type=media_type)


def install_dashboard(app: FastAPI) -> None:
    """Serve the dashboard at ``/dashboard/`` and the results routes.

    The results folder is read from ``app.state.results_dir`` (a `Path`, or None) when a
    request comes, so the node's runner can set it after `create_app`.
    """
    if not hasattr(app.state, "results_dir"):
        app.state.results_dir = None

    @app.get(
        "/v1/results",
        tags=["dashboard"],
        summary="Simulation runs served by this node",
        responses=errors(403, 404),
    )
    async def list_runs(request: Request) -> dict[str, Any]:
        check_member(caller_of(request))
        return runs_view(results_dir_of(request))

    @app.get(
        "/v1/results/{run}",
        tags=["dashboard"],
        summary="A run's KPIs, plots and tables",
        responses=errors(400, 403, 404),
    )
    async def get_run(request: Request, run: str = RUN_PATH) -> dict[str, Any]:
        check_member(caller_of(request))
        return run_view(results_dir_of(request), run)

    @app.get(
        "/v1/results/{run}/files/{path:path}",
        tags=["dashboard"],
        summary="One file of a run (plots, CSV tables, report.html), read-only",
        response_class=FileResponse,
        responses={
            200: {
                "description": "The file",
                "content": {media: {} for media in sorted(set(SERVED_TYPES.values()))},
            },
            **errors(400, 403, 404),
        },
    )
    async def get_run_file(request: Request, path: str, run: str = RUN_PATH) -> FileResponse:
        check_member(caller_of(request))
        return run_file(results_dir_of(request), run, path)

    @app.get("/dashboard", include_in_schema=False)
    async def dashboard_root() -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    app.mount("/dashboard", StaticFiles(directory=STATIC_DIR, html=True), name="dashboard")
