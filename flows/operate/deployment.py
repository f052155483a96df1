"""The build step prefect.yaml gives `prefect deploy`: find the checkout the deployments will run from, or refuse.

`prefect deploy` runs it once per deployment, in the folder it was started from; its output fills the pull step
(`{{ project.directory }}`), so a worker started anywhere runs the flows from this checkout. Run anywhere else,
it exits with a message (SystemExit, so the Prefect CLI prints it without a traceback), and `prefect deploy`
stops before registering a deployment that could only crash when it runs.
"""

from __future__ import annotations

from pathlib import Path

# what a deployment's run needs in its working directory: prefect.yaml's entrypoints and the project's inputs
REQUIRED = ("prefect.yaml", "flows/etl.py", "flows/revalidate.py", "datapackage/datapackage.json")


def locate_project(directory: str | None = None) -> dict[str, str]:
    """`directory` (default: the folder `prefect deploy` runs in), absolute, once it holds this project."""
    folder = Path(directory or Path.cwd()).expanduser().resolve()
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise SystemExit(
            f"prefect deploy refused: {folder} is not a valley checkout (no {', '.join(missing)}); run `prefect deploy "
            "--all` from the project folder (or `make server`), so each run starts in the checkout"
        )
    return {"directory": str(folder)}
