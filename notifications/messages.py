"""What the messages say: Block Kit with a plain-text fallback, a link to the page, and buttons."""

from notifications.outbox import integration_url, step_url

MARK_DONE = "step:complete"  # the action_id of the "Mark done" button; its value is the step's id


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def step_blocks(step, headline: str, detail: str = "", due=None, buttons: bool = True) -> tuple[str, list]:
    """A message about ``step``: what happened, the step and its deadline, "Mark done" and "Open"."""
    due_text = f" · due {due:%a %d %b %Y}" if due else ""
    text = f"{headline} {detail}".strip() + f" ({step.integration}: {step}{due_text})"
    blocks = [_section(f"*{headline}*" + (f"\n{detail}" if detail else ""))]
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": f"{step.integration} · {step}{due_text} · {step.get_status_display()}"}
            ],
        }
    )
    elements = []
    if buttons and step.is_open:
        elements.append(
            {
                "type": "button",
                "action_id": MARK_DONE,
                "text": {"type": "plain_text", "text": "Mark done"},
                "style": "primary",
                "value": str(step.pk),
            }
        )
    elements.append(
        {
            "type": "button",
            "action_id": "step:open",
            "text": {"type": "plain_text", "text": "Open"},
            "url": step_url(step),
        }
    )
    blocks.append({"type": "actions", "elements": elements})
    return text, blocks


def integration_blocks(integration, headline: str, detail: str = "") -> tuple[str, list]:
    text = f"{headline} {detail}".strip() + f" ({integration})"
    blocks = [
        _section(f"*{headline}*" + (f"\n{detail}" if detail else "")),
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "integration:open",
                    "text": {"type": "plain_text", "text": "Open"},
                    "url": integration_url(integration),
                }
            ],
        },
    ]
    return text, blocks


def thread_status_blocks(step, due=None) -> tuple[str, list]:
    """The first message of a step's thread, as it should read now (updated in place)."""
    status = step.get_status_display()
    return step_blocks(step, f"{step} — {status}", due=due, buttons=step.is_open)
