"""Alerts as code: Prefect automations that send a webhook notification, created idempotently on a server, and
the events the flows emit for each new finding.

Three automations, each through one CustomWebhookNotificationBlock (`valley-alerts`) to the address in
`VALLEY_ALERT_WEBHOOK` or `[tool.valley] alert_webhook`: a run of either deployment that ends Failed or Crashed;
a new finding (the `valley.finding.new` event); and, proactively, no Completed run of valley-etl within
`max_age_hours`. Without an address there are none (any made earlier are deleted) and alerts are off.

`python -m flows.alerts ensure [--project DIR]` does this against PREFECT_API_URL (for `make server`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.core.config import load_config
from flows.core.errors import ValleyError
from flows.core.paths import PROJECT_DIR
from flows.report.findings import NEW

ENVIRONMENT_VARIABLE = "VALLEY_ALERT_WEBHOOK"
BLOCK_NAME = "valley-alerts"
FINDING_EVENT = "valley.finding.new"
FLOWS = ("valley-etl", "valley-validate")
DEPLOYMENTS = ("etl", "validate")
FAILED = "valley: a run failed or crashed"
FINDING = "valley: new finding"
STALE = "valley: no successful ETL run in time"
NAMES = (FAILED, FINDING, STALE)
MIN_PROACTIVE = dt.timedelta(seconds=10)  # Prefect's floor for a proactive trigger's window

FAILED_BODY = (
    "valley: flow run {{ flow_run.name }} of deployment {{ flow.name }}/{{ deployment.name }} ended "
    "{{ flow_run.state.name }}: {{ flow_run.state.message }} (flow run id {{ flow_run.id }})"
)
FINDING_BODY = (
    "valley: new {{ event.payload.severity }} finding in flow run {{ event.payload.run }} of deployment "
    "{{ event.payload.deployment }}: table {{ event.payload.table }}, key {{ event.payload.key }}, "
    "field {{ event.payload.field }} (check {{ event.payload.suite }}/{{ event.payload.check }}, fingerprint "
    "{{ event.payload.fingerprint }}). {{ event.payload.message }}"
)


def alert_address(root: Path) -> str | None:
    """Where alerts go: VALLEY_ALERT_WEBHOOK, else [tool.valley] alert_webhook; None (alerts off) when neither."""
    address = os.environ.get(ENVIRONMENT_VARIABLE) or str(load_config(root).get("alert_webhook") or "")
    address = address.strip()
    if address and not address.startswith(("http://", "https://")):
        raise ValleyError(f"the alert webhook {address!r} ({ENVIRONMENT_VARIABLE} or [tool.valley] alert_webhook) "
                          "is not an http:// or https:// address")  # fmt: skip
    return address or None


def stale_body(max_age_hours: float) -> str:
    return (
        f"valley: no Completed run of valley-etl within the last {max_age_hours:g} h ([tool.valley] max_age_hours): "
        "the published data is getting stale. Check the schedule, the worker and the server's recent runs."
    )


def desired_automations(block_id: Any, max_age_hours: float) -> list[Any]:
    """The three automations, as Prefect objects, each sending through the notification block `block_id`."""
    from prefect.automations import AutomationCore, EventTrigger, Posture, SendNotification

    of_either_deployment = [
        {"prefect.resource.role": "flow", "prefect.resource.name": list(FLOWS)},
        {"prefect.resource.role": "deployment", "prefect.resource.name": list(DEPLOYMENTS)},
    ]
    failed = EventTrigger(
        expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related=of_either_deployment,  # type: ignore[arg-type]
        for_each={"prefect.resource.id"},
        posture=Posture.Reactive,
        threshold=1,
    )
    finding = EventTrigger(
        expect={FINDING_EVENT},
        match={"prefect.resource.id": "valley.finding.*"},
        posture=Posture.Reactive,
        threshold=1,
    )
    stale = EventTrigger(
        expect={"prefect.flow-run.Completed"},
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related={"prefect.resource.role": "flow", "prefect.resource.name": "valley-etl"},
        posture=Posture.Proactive,
        threshold=1,
        within=max(dt.timedelta(hours=max_age_hours), MIN_PROACTIVE),
    )

    def notify(body: str, subject: str) -> Any:
        return SendNotification(block_document_id=block_id, subject=subject, body=body)

    return [
        AutomationCore(name=FAILED, description="A flow run of valley-etl/etl or valley-validate/validate ended "
                       "Failed or Crashed.", trigger=failed, actions=[notify(FAILED_BODY, "valley: run failed")]),
        AutomationCore(name=FINDING, description="The ETL or validate flow found a finding that is not in "
                       "expectations/accepted.yaml.", trigger=finding,
                       actions=[notify(FINDING_BODY, "valley: new finding")]),
        AutomationCore(name=STALE, description=f"No Completed run of valley-etl within {max_age_hours:g} h.",
                       trigger=stale, actions=[notify(stale_body(max_age_hours), "valley: data getting stale")]),
    ]  # fmt: skip


@dataclass(frozen=True)
class AlertsStatus:
    address: str | None
    created: int = 0
    updated: int = 0
    deleted: int = 0

    def line(self) -> str:
        if self.address is None:
            return f"off (set {ENVIRONMENT_VARIABLE} or [tool.valley] alert_webhook to turn them on)"
        return f"on, to {self.address} ({len(NAMES)} automations: failed or crashed runs, new findings, stale data)"


def save_block(address: str) -> Any:
    """The webhook block, created or overwritten under its name; its document id."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    block = CustomWebhookNotificationBlock(
        name=BLOCK_NAME,
        url=address,
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
        headers=None,
        cookies=None,
    )
    return block.save(BLOCK_NAME, overwrite=True)


def ensure_alerts(address: str | None, max_age_hours: float) -> AlertsStatus:
    """Make the server's valley automations what the settings say: read each by name, then update it (deleting
    any duplicate) or create it; with no address, delete them. Uses the current PREFECT_API_URL."""
    from prefect.client.orchestration import get_client

    created = updated = deleted = 0
    with get_client(sync_client=True) as client:
        if address is None:
            for name in NAMES:
                for automation in client.read_automations_by_name(name):
                    client.delete_automation(automation.id)
                    deleted += 1
            return AlertsStatus(None, deleted=deleted)
        block_id = save_block(address)
        for wanted in desired_automations(block_id, max_age_hours):
            existing = client.read_automations_by_name(wanted.name)
            if existing:
                client.update_automation(existing[0].id, wanted)
                updated += 1
                for duplicate in existing[1:]:
                    client.delete_automation(duplicate.id)
                    deleted += 1
            else:
                client.create_automation(wanted)
                created += 1
    return AlertsStatus(address, created, updated, deleted)


def ensure_for_project(root: Path) -> AlertsStatus:
    config = load_config(root)
    return ensure_alerts(alert_address(root), float(config["max_age_hours"]))


def _run_names() -> tuple[str, str]:
    """The current flow run's name and its deployment as flow/deployment (or how it was started)."""
    from prefect.runtime import deployment, flow_run

    run = str(flow_run.name or flow_run.id or "unknown")
    name = deployment.name
    where = f"{flow_run.flow_name}/{name}" if name else f"{flow_run.flow_name} (no deployment: started directly)"
    return run, where


def emit_new_findings(document: dict[str, Any]) -> int:
    """One `valley.finding.new` event per new finding of the run, naming the deployment, the run, and the finding's
    table, key and field; returns how many were emitted."""
    from prefect.events import emit_event

    run, where = _run_names()
    emitted = 0
    for row in document.get("findings", []):
        if row["class"] != NEW:
            continue
        payload = {name: row[name] for name in ("fingerprint", "suite", "check", "table", "key", "field", "severity")}
        payload |= {"message": (row.get("message") or "")[:2000], "run": run, "deployment": where,
                    "flow": document["flow"], "run_id": document["run_id"]}  # fmt: skip
        emit_event(
            event=FINDING_EVENT,
            resource={
                "prefect.resource.id": f"valley.finding.{row['fingerprint']}",
                "prefect.resource.name": f"{row['table']} {row['key']} {row['field']}".strip(),
                "valley.severity": str(row["severity"]),
            },
            payload=payload,
        )
        emitted += 1
    return emitted


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m flows.alerts ensure`: create or update the automations on the server PREFECT_API_URL names."""
    parser = argparse.ArgumentParser(prog="python -m flows.alerts")
    parser.add_argument("action", choices=["ensure"])
    parser.add_argument("--project", type=Path, default=PROJECT_DIR)
    arguments = parser.parse_args(argv)
    if not os.environ.get("PREFECT_API_URL"):
        print("python -m flows.alerts: set PREFECT_API_URL to the server's API", file=sys.stderr)
        return 1
    try:
        status = ensure_for_project(arguments.project.resolve())
    except ValleyError as error:
        print(f"alerts: {error}", file=sys.stderr)
        return 1
    print(f"alerts: {status.line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
