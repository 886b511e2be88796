"""What the partner hands over to TradingView, checked by the product: base URLs, the
authorisation sheet, beta testers. A partner step naming a hand-over in ``handovers`` cannot be
completed while it is missing: ``rules.handover_refusal`` is a completion guard that
``apps`` registers with ``integrations.guards``. A plug-in of the core: it imports the core, never
the other way round."""
